"""scripts/gpu_check.py on numba's CUDA simulator: every CUDA entry point of the exported packages is
checked against its CPU twin (a check line per kernel, exit 0), and a deliberately wrong CUDA result
makes the script fail (exit 1), so the check cannot pass silently.

The simulator must be chosen before numba is imported, so the script runs in a child process with
NUMBA_ENABLE_CUDASIM=1, at ``--size tiny`` (L = 16, H = 4, N <= 8). The passing run uses ``--cpu-python``
(the CPU twins' Numba kernels run as their Python source): compiling them for four fresh packages takes
about two minutes on a 2-core machine, the check itself seconds. The failing run uses the compiled CPU
kernels of one package, the script's default path.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "gpu_check.py"


def _run(*args, timeout=300):
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", SYMDERIVE_QUIET="1", PYTHONPATH=os.pathsep.join(
        [str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(SCRIPT), "--size", "tiny", *args], env=env, capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)
    return proc, time.perf_counter() - start


def _script():
    """The script as a module (importing it imports numpy only: numba is imported inside main())."""
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_check_passes_on_the_simulator():
    proc, seconds = _run("--cpu-python")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    assert seconds < 60, f"gpu_check --size tiny took {seconds:.0f} s on the simulator (limit 60 s)"
    lines = proc.stdout.splitlines()
    checks = [line for line in lines if re.match(r"^(ok|FAIL)\s", line)]
    assert not [line for line in checks if line.startswith("FAIL")], output[-6000:]
    assert not [line for line in lines if line.startswith("UNCHECKED")], output[-6000:]
    for key in ("legs", "legt", "power", "bank"):
        names = {line.split()[2] for line in checks if line.split()[1] == key}
        # every fixed-step and per-step entry point, in both dtypes; per-step with both delta shapes
        for name in ("scan_cuda", "scan_final_cuda", "scan_variable_cuda"):
            assert name in names, (key, name, names)
        for dtype in ("float64", "float32"):
            for label in ("delta (L,)", "delta (L,H)"):
                assert any(line.startswith(f"ok    {key} scan_variable_cuda {label} {dtype}:") for line in checks), \
                    (key, label, dtype)
            assert any(line.startswith(f"ok    {key} scan_cuda {dtype}:") for line in checks), (key, dtype)
    # every public *_cuda function of a package (found by name, new ones included) has a passing check line
    listed = dict(re.findall(r"^entry points of (\w+): (.+)$", proc.stdout, flags=re.M))
    assert sorted(listed) == ["bank", "legs", "legt", "power"], proc.stdout[:3000]
    for key, names in listed.items():
        for name in names.split(", "):
            assert any(line.split()[1:3] == [key, name] for line in checks if line.startswith("ok")), (key, name)
    assert re.search(r"^passed: (\d+) of \1 checks passed, 0 failed, 0 entry points unchecked", proc.stdout, re.M), \
        proc.stdout[-2000:]


@pytest.mark.slow     # about 20 s
def test_gpu_check_fails_on_a_wrong_result():
    proc, _ = _run("--packages", "legs", "--self-test-fail")
    assert proc.returncode == 1, (proc.stdout + proc.stderr)[-6000:]
    checks = [line for line in proc.stdout.splitlines() if re.match(r"^(ok|FAIL)\s", line)]
    assert checks and all(line.startswith("FAIL") for line in checks), proc.stdout[-4000:]
    assert "FAILED:" in proc.stdout


def test_compare_rejects_wrong_results():
    compare = _script().compare
    ref = np.linspace(-1.0, 2.0, 24).reshape(2, 3, 4)
    assert compare(ref.copy(), ref, np.float64)[0]
    assert compare(ref.astype(np.float32), ref, np.float32)[0]
    near = ref.copy()
    near[1, 2, 3] += 1e-10                                   # 5e-11 relative: beyond float64's 1e-12
    assert not compare(near, ref, np.float64)[0]
    assert not compare(ref.astype(np.float32), ref, np.float64)[0]           # wrong dtype
    assert not compare(ref[:, :, :3], ref, np.float64)[0]                     # wrong shape
    nan = ref.copy()
    nan[0, 0, 0] = np.nan
    assert not compare(nan, ref, np.float64)[0]
    off32 = ref.astype(np.float32)
    off32[0, 1, 2] += np.float32(1e-3)
    assert not compare(off32, ref, np.float32)[0]
    assert not compare((ref, ref[0]), (ref, ref[0] + 1.0), np.float64)[0]      # a tuple: the worst entry counts


@pytest.mark.parametrize("cc", [(8, 0), (9, 0)])
def test_peak_table_has_datacenter_parts(cc):
    module = _script()
    assert module.FP64_PER_SM[cc] >= 32 and module.FP32_PER_SM[cc] >= 64
