"""Run the CUDA entry points of generated packages on numba's CUDA simulator (a child process of
``tests/test_generated_cuda.py`` and ``tests/test_bank.py``, started by ``helpers.run_simulator``).

    NUMBA_ENABLE_CUDASIM=1 python tests/cuda_sim_runner.py INPUTS.npz OUTPUTS.npz FOLDER:NAME [FOLDER:NAME ...]

The simulator must be chosen before numba is first imported, so it runs in its own process and the
rest of the test suite keeps the real numba.cuda. For every package ``NAME`` found in ``FOLDER`` it
makes the calls listed by :func:`calls` with the ``*_cuda`` functions, on the inputs stored under
``NAME/...`` in ``INPUTS.npz``, and writes each result to ``OUTPUTS.npz`` under ``NAME/LABEL``; a call
expected to raise stores the exception's type name and message instead. Exit status 0 only when every
call ran (the comparison with the CPU kernels is the test's job). :func:`calls` is shared with the
test, which makes the same calls with the CPU functions.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

import numpy as np


def calls(pkg, inputs, target: str):
    """``[(label, thunk)]``: the calls to compare, with the CPU (``target="cpu"``) or CUDA functions.

    ``inputs`` holds ``u1`` (L,), ``u2`` (L, H), ``c0`` (H, N), ``d1`` (L,), ``d2`` (L, H). The calls
    with no CPU twin (device arrays in, float32 in, refused inputs) are made by :func:`main` only.
    """
    suffix = "" if target == "cpu" else "_cuda"
    scan = getattr(pkg, "scan" + suffix)
    scan_final = getattr(pkg, "scan_final" + suffix)
    scan_variable = getattr(pkg, "scan_variable" + suffix)
    u1, u2, c0, d1, d2 = (inputs[k] for k in ("u1", "u2", "c0", "d1", "d2"))
    time_varying = pkg.A is None
    extra = {"t0": 1.5} if time_varying else {}
    out = [
        ("scan u(L,)", lambda: scan(u1)),
        ("scan u(L,H) c0", lambda: scan(u2, c0, **extra)),
        ("scan_final u(L,H) c0", lambda: scan_final(u2, c0, **extra)),
    ]
    if time_varying:                 # also from the default t0 = 0 (first step: empty history), with c0
        out.append(("scan u(L,H) c0 t0=0", lambda: scan(u2, c0)))
    # the fused readout y_t = C c_t + D u_t, with a C and D made from the inputs
    scan_readout = getattr(pkg, "scan_readout" + suffix)
    C = 0.5 * c0 + 1.0
    D = u2[0].copy()
    out += [
        ("scan_readout u(L,H) C(H,N) D(H,) c0", lambda: scan_readout(u2, C, D, c0, **extra)),
        ("scan_readout u(L,) C(N,) D scalar", lambda: scan_readout(u1, C[0], 0.25, **extra)),
    ]
    if not time_varying and hasattr(pkg._cuda, "_chunk_rows"):
        # the chunked CUDA scan (chunks of 3 rows: several chunks even for a short L) against the
        # sequential CPU kernels
        chunked = pkg._cuda._run_fixed_cuda
        out += [
            ("scan chunked u(L,H) c0", lambda: scan(u2, c0) if target == "cpu" else chunked(u2, c0, 1, T=3)[0]),
            ("scan_final chunked u(L,H) c0",
             lambda: scan_final(u2, c0) if target == "cpu" else chunked(u2, c0, 0, T=3)[0]),
            ("scan_readout chunked u(L,H) C D c0",
             lambda: scan_readout(u2, C, D, c0) if target == "cpu" else chunked(u2, c0, 2, C, D, T=3)[0]),
        ]
    if pkg.METADATA["variable_kind"] is not None:
        out += [
            ("scan_variable u(L,) d(L,)", lambda: scan_variable(u1, d1)),
            ("scan_variable u(L,H) d(L,) c0", lambda: scan_variable(u2, d1, c0, **extra)),
            ("scan_variable u(L,H) d(L,H) c0", lambda: scan_variable(u2, d2, c0, **extra)),
        ]
        if time_varying:
            out.append(("scan_variable u(L,H) d(L,H) c0 t0=0", lambda: scan_variable(u2, d2, c0)))
    return out


def main(argv) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    if "numba" in sys.modules:
        print("numba was imported before the simulator could be chosen", file=sys.stderr)
        return 1
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    import numba
    from numba import cuda
    if not numba.config.ENABLE_CUDASIM:
        print("NUMBA_ENABLE_CUDASIM did not take effect", file=sys.stderr)
        return 1
    inputs_path, outputs_path, targets = argv[0], argv[1], argv[2:]
    stored = np.load(inputs_path)
    results = {}
    status = 0
    for target in targets:
        folder, name = target.rsplit(":", 1)
        sys.path.insert(0, folder)
        pkg = importlib.import_module(name)
        inputs = {key.split("/", 1)[1]: stored[key] for key in stored.files if key.startswith(name + "/")}
        for label, call in calls(pkg, inputs, "cuda"):
            try:
                results[f"{name}/{label}"] = np.asarray(call())
            except Exception:                                  # noqa: BLE001 - reported, and the run fails
                print(f"{name}: {label} failed on the simulator:\n{traceback.format_exc()}", file=sys.stderr)
                status = 1
        # a device array in, (L, H) or (L,), the same states out
        results[f"{name}/scan device u(L,H) c0"] = np.asarray(
            pkg.scan_cuda(cuda.to_device(inputs["u2"]), inputs["c0"], **({"t0": 1.5} if pkg.A is None else {})))
        results[f"{name}/scan device u(L,)"] = np.asarray(pkg.scan_cuda(cuda.to_device(inputs["u1"])))
        # float32 in: float32 out, float64 arithmetic on the device
        results[f"{name}/scan float32"] = np.asarray(pkg.scan_cuda(inputs["u2"].astype(np.float32)))
        if pkg.METADATA["variable_kind"] is not None:
            results[f"{name}/scan_variable float32 d(L,H)"] = np.asarray(
                pkg.scan_variable_cuda(inputs["u2"].astype(np.float32), inputs["d2"]))
        # checked inputs and models without a per-step form raise, with their message
        for label, call in [("int u", lambda: pkg.scan_cuda(np.arange(5))),
                            ("nan u", lambda: pkg.scan_cuda(np.array([0.0, np.nan]))),
                            ("bad c0", lambda: pkg.scan_cuda(inputs["u1"], np.zeros(pkg.N + 1))),
                            ("delta <= 0", lambda: pkg.scan_variable_cuda(inputs["u1"], -inputs["d1"]))]:
            try:
                call()
                results[f"{name}/raises {label}"] = np.array("")
            except Exception as error:                         # noqa: BLE001 - the type and message are the result
                results[f"{name}/raises {label}"] = np.array(f"{type(error).__name__}: {error}")
    np.savez(outputs_path, **results)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
