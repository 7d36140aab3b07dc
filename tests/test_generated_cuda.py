"""The CUDA kernels of generated packages, on numba's CUDA simulator, against their CPU kernels.

The simulator has to be chosen (``NUMBA_ENABLE_CUDASIM=1``) before numba is imported, so the CUDA side
runs in a child process (``tests/cuda_sim_runner.py``) and the rest of the suite is unaffected; the
test fails if that process fails. The CPU side runs here, with the same calls
(``cuda_sim_runner.calls``): ``scan_cuda``, ``scan_final_cuda`` and ``scan_variable_cuda`` must equal
``scan``, ``scan_final`` and ``scan_variable`` to 1e-12 (relative) and 1e-13 (absolute, float64) for u
of shape (L,) and (L, H), host arrays in (and device arrays of both shapes), for every per-step lag
form: dilation (exponential and the custom warp 2**x), window translation, log-Laguerre, and the
time-varying scale warp (from t0 = 1.5 and the default t0 = 0), the exact rotation of a Fourier basis
in a window, and the general quadrature kernel of a power-law warp and of ``tanh(x) + 1`` with
log-Laguerre functions (the curved window ``(1 + x/2)**2`` is checked against mpmath in
``tests/test_variable_general.py``). float32 u gives float32 states (``scan_cuda`` and
``scan_variable_cuda``). Sizes are small (N = 8 and 16, L = 24, H = 3): the simulator runs each
thread in Python.

On a machine with a CUDA GPU, ``test_real_gpu_matches_cpu`` runs the same comparison on the device.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from symderive.codegen.export import export, import_package
from symderive.inputs.specs import parse_basis, parse_warp

# tests/cuda_sim_runner.py, tests/helpers.py (tests/ is on sys.path: conftest.py)
import cuda_sim_runner  # imports neither numba nor a package: safe here
from helpers import relative_error, run_simulator

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
GENERATED = REPO / "generated"

RTOL = 1e-12
ATOL = 1e-13                        # float64 states, CUDA (simulator) against CPU
L, H = 24, 3
# exported into a temporary folder: name -> (warp SPEC, basis SPEC, N, Delta)
EXPORTS = {
    "cudasim_legs_n8": ("exponential", "legendre", 8, "1/100"),
    "cudasim_legt_n8": ("linear:window=1", "legendre", 8, "1/100"),
    "cudasim_lagt_n8": ("exponential", "laguerre", 8, "1/100"),
    "cudasim_scale_n8": ("scale", "legendre", 8, None),
    "cudasim_fourier_n3": ("linear:window=1", "fourier", 3, "1/10"),        # rotation
    "cudasim_power_n4": ("f=1/(1-x)", "legendre", 4, "1/100"),              # general: rational lag map
    "cudasim_tanh_laguerre_n4": ("f=tanh(x)+1", "laguerre", 4, "1/100"),    # general, in y = -log z
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
    high = 0.9 if window else min(10.0, 0.99 * pkg._checks.DELTA_MAX)   # a window also gets a step >= its length
    d2 = np.exp(rng.uniform(np.log(1e-5), np.log(high), (L, H)))
    d1 = d2[:, 0].copy()
    if window:
        d1[L // 2] = 2.5                   # Delta >= window: the whole window is replaced
    return {"u1": rng.standard_normal(L), "u2": rng.standard_normal((L, H)),
            "c0": rng.standard_normal((H, pkg.N)), "d1": d1, "d2": d2}


def _close(got, expected, what) -> float:
    """The relative difference of float64 states, after checking it against RTOL and the absolute one
    against ATOL."""
    error = relative_error(got, expected)
    assert error < RTOL, f"{what}: CUDA (simulator) differs from the CPU kernel by {error:.2e} (relative)"
    absolute = float(np.max(np.abs(np.asarray(got, dtype=np.float64) - expected)))
    assert absolute < ATOL, f"{what}: CUDA (simulator) differs from the CPU kernel by {absolute:.2e} (absolute)"
    return error


@pytest.mark.slow     # about 50 s; tests/test_gpu_check.py runs every *_cuda entry point on the simulator by default
def test_cuda_simulator_matches_cpu_kernels(tmp_path, packages):
    inputs = {name: _inputs(pkg, seed) for seed, (name, (_, pkg)) in enumerate(packages.items())}
    results = run_simulator(tmp_path, {name: folder for name, (folder, _) in packages.items()}, inputs)
    worst = {}
    for name, (_, pkg) in packages.items():
        arrays = inputs[name]
        extra = {"t0": 1.5} if pkg.A is None else {}
        variable = pkg.METADATA["variable_kind"] is not None
        assert variable or name not in EXPORTS, f"{name}: every exported model has a per-step kernel"
        labels = []
        for label, call in cuda_sim_runner.calls(pkg, arrays, "cpu"):
            expected = call()
            got = results[f"{name}/{label}"]
            assert got.shape == expected.shape and got.dtype == expected.dtype, (name, label)
            worst[name] = max(worst.get(name, 0.0), _close(got, expected, f"{name} {label}"))
            labels.append(label)
        assert any(label.startswith("scan_variable") for label in labels) == variable
        assert ("scan u(L,H) c0 t0=0" in labels) == (pkg.A is None), name
        expected = pkg.scan(arrays["u2"], arrays["c0"], **extra)
        _close(results[f"{name}/scan device u(L,H) c0"], expected, f"{name} scan device u(L,H) c0")
        got = results[f"{name}/scan device u(L,)"]
        assert got.shape == (L, pkg.N) and got.dtype == np.float64, name
        _close(got, pkg.scan(arrays["u1"]), f"{name} scan device u(L,)")
        got32 = results[f"{name}/scan float32"]
        assert got32.dtype == np.float32 and relative_error(got32, pkg.scan(arrays["u2"])) < 1e-5, name
        assert (f"{name}/scan_variable float32 d(L,H)" in results) == variable, name
        if variable:
            got32 = results[f"{name}/scan_variable float32 d(L,H)"]
            assert got32.dtype == np.float32 and got32.shape == (L, H, pkg.N), name
            assert relative_error(got32, pkg.scan_variable(arrays["u2"], arrays["d2"])) < 1e-5, name
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
            assert relative_error(gpu(), cpu()) < RTOL, (name, label)
