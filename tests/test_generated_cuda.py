"""The CUDA kernels of generated packages, on numba's CUDA simulator, against their CPU kernels.

The simulator has to be chosen (``NUMBA_ENABLE_CUDASIM=1``) before numba is imported, so the CUDA side
runs in a child process (``tests/cuda_sim_runner.py``) and the rest of the suite is unaffected; the
test fails if that process fails. The CPU side runs here, with the same calls
(``cuda_sim_runner.calls``): ``scan_cuda``, ``scan_final_cuda`` and ``scan_variable_cuda`` must equal
``scan``, ``scan_final`` and ``scan_variable`` to 1e-12 (relative, float64) for u of shape (L,) and
(L, H), host arrays in (and once a device array), for every per-step lag form: dilation (exponential
and the custom warp 2**x), window translation, log-Laguerre, and the time-varying scale warp, plus a
Fourier model whose ``scan_variable_cuda`` must refuse. Sizes are small (N = 8 and 16, L = 24, H = 3):
the simulator runs each thread in Python.

On a machine with a CUDA GPU, ``test_real_gpu_matches_cpu`` runs the same comparison on the device.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from symderive.codegen.export import export, import_package
from symderive.inputs.specs import parse_basis, parse_warp

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
GENERATED = REPO / "generated"
sys.path.insert(0, str(HERE))
import cuda_sim_runner  # noqa: E402  (imports neither numba nor a package: safe here)

RTOL = 1e-12
L, H = 24, 3
# exported into a temporary folder: name -> (warp SPEC, basis SPEC, N, Delta)
EXPORTS = {
    "cudasim_legs_n8": ("exponential", "legendre", 8, "1/100"),
    "cudasim_legt_n8": ("linear:window=1", "legendre", 8, "1/100"),
    "cudasim_lagt_n8": ("exponential", "laguerre", 8, "1/100"),
    "cudasim_scale_n8": ("scale", "legendre", 8, None),
    "cudasim_fourier_n3": ("linear:window=1", "fourier", 3, "1/10"),
}
CHECKED_IN = ("pow2_legendre_n16",)


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """``{name: (folder, package)}``: the small exports above and the checked-in N = 16 package."""
    out = tmp_path_factory.mktemp("generated_cuda")
    found = {}
    for name, (warp, basis, N, delta) in EXPORTS.items():
        export(parse_warp(warp), parse_basis(basis, N), delta, name, out)
        found[name] = (out, import_package(out, name))
    for name in CHECKED_IN:
        found[name] = (GENERATED, import_package(GENERATED, name))
    return found


def _inputs(pkg, seed):
    rng = np.random.default_rng(seed)
    window = pkg.METADATA["warp"].startswith("linear")
    high = 0.9 if window else 10.0          # a window also gets a step >= its length below
    d2 = np.exp(rng.uniform(np.log(1e-5), np.log(high), (L, H)))
    d1 = d2[:, 0].copy()
    if window:
        d1[L // 2] = 2.5                   # Delta >= window: the whole window is replaced
    return {"u1": rng.standard_normal(L), "u2": rng.standard_normal((L, H)),
            "c0": rng.standard_normal((H, pkg.N)), "d1": d1, "d2": d2}


def _relative(a, b):
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - b)) / np.max(np.abs(b)))


def _run_simulator(tmp_path, packages, inputs):
    """Run cuda_sim_runner in a child process on the simulator; its outputs, or a failed test."""
    in_path, out_path = tmp_path / "inputs.npz", tmp_path / "outputs.npz"
    np.savez(in_path, **{f"{name}/{key}": value for name, arrays in inputs.items() for key, value in arrays.items()})
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=os.pathsep.join(
        [str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    targets = [f"{folder}:{name}" for name, (folder, _) in packages.items()]
    proc = subprocess.run([sys.executable, str(HERE / "cuda_sim_runner.py"), str(in_path), str(out_path), *targets],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (f"the CUDA simulator run failed (exit {proc.returncode}):\n"
                                  f"{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    with np.load(out_path) as stored:
        return {key: stored[key] for key in stored.files}


def test_cuda_simulator_matches_cpu_kernels(tmp_path, packages):
    inputs = {name: _inputs(pkg, seed) for seed, (name, (_, pkg)) in enumerate(packages.items())}
    results = _run_simulator(tmp_path, packages, inputs)
    worst = {}
    for name, (_, pkg) in packages.items():
        arrays = inputs[name]
        extra = {"t0": 1.5} if pkg.A is None else {}
        labels = []
        for label, call in cuda_sim_runner.calls(pkg, arrays, "cpu"):
            expected = call()
            got = results[f"{name}/{label}"]
            assert got.shape == expected.shape and got.dtype == expected.dtype, (name, label)
            error = _relative(got, expected)
            assert error < RTOL, f"{name} {label}: CUDA (simulator) differs from the CPU kernel by {error:.2e}"
            worst[name] = max(worst.get(name, 0.0), error)
            labels.append(label)
        assert any(label.startswith("scan_variable") for label in labels) == (name != "cudasim_fourier_n3")
        expected = pkg.scan(arrays["u2"], arrays["c0"], **extra)
        assert _relative(results[f"{name}/scan device u(L,H) c0"], expected) < RTOL, name
        got32 = results[f"{name}/scan float32"]
        assert got32.dtype == np.float32 and _relative(got32, pkg.scan(arrays["u2"])) < 1e-5, name
        raised = {label: str(results[f"{name}/raises {label}"]) for label in ("int u", "nan u", "bad c0", "delta <= 0")}
        assert raised["int u"].startswith("TypeError: u must be") and "int" in raised["int u"], raised
        assert raised["nan u"].startswith("ValueError: u must be finite"), raised
        assert raised["bad c0"].startswith("ValueError: c0 must have shape"), raised
        if pkg.METADATA["variable_kind"] is None:
            assert raised["delta <= 0"].startswith("NotImplementedError: scan_variable_cuda"), raised
        else:
            assert raised["delta <= 0"].startswith("ValueError: delta must be > 0"), raised
    print("\n    largest CUDA-simulator vs CPU relative difference per package: "
          + ", ".join(f"{name} {error:.1e}" for name, error in worst.items()))


def _gpu_available() -> bool:
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return False
    try:
        from numba import cuda
        return cuda.is_available()
    except Exception:                              # noqa: BLE001 - no CUDA target at all
        return False


@pytest.mark.skipif(not _gpu_available(), reason="no CUDA GPU here (the simulator test covers the kernels)")
def test_real_gpu_matches_cpu(packages):
    """Where a GPU exists: the same comparison on the device, larger H (one thread per channel)."""
    for seed, (name, (_, pkg)) in enumerate(packages.items()):
        arrays = _inputs(pkg, seed)
        for (label, cpu), (_, gpu) in zip(cuda_sim_runner.calls(pkg, arrays, "cpu"),
                                          cuda_sim_runner.calls(pkg, arrays, "cuda")):
            assert _relative(gpu(), cpu()) < RTOL, (name, label)
