"""Helpers shared by several test modules (numpy, subprocess and pathlib only: no symderive).

- :func:`file_bytes`: ``{relative path: bytes}`` of a folder, to compare exports byte for byte;
- :func:`relative_error`: ``max |x - ref| / max |ref|``;
- :func:`run_simulator`: run ``tests/cuda_sim_runner.py`` in a child process on numba's CUDA simulator;
- :func:`cuda_home` and :func:`compile_ptx`: compile the kernels of generated packages to PTX for the
  real CUDA target (needs libnvvm and libdevice, not a GPU), in a child process.

Test modules import it as ``import helpers`` (or ``from helpers import ...``), like ``reference`` and
``cuda_sim_runner``: ``tests/conftest.py`` puts the ``tests`` folder on ``sys.path``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def file_bytes(folder) -> dict:
    """``{relative posix path: bytes}`` of every file under ``folder``, ``__pycache__`` left out."""
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def relative_error(x, ref) -> float:
    """``max |x - ref| / max |ref|`` over all entries, in float64."""
    ref = np.asarray(ref, dtype=np.float64)
    return float(np.max(np.abs(np.asarray(x, dtype=np.float64) - ref)) / np.max(np.abs(ref)))


# ---------------------------------------------------------------------- CUDA simulator


def run_simulator(workdir, folders: dict, inputs: dict) -> dict:
    """Run ``tests/cuda_sim_runner.py`` with ``NUMBA_ENABLE_CUDASIM=1`` in a child process.

    ``folders``: ``{package name: folder holding it}``; ``inputs``: ``{package name: {key: array}}``
    (the keys :func:`cuda_sim_runner.calls` reads). The input and output ``.npz`` files go to
    ``workdir``. Returns the runner's outputs ``{"NAME/LABEL": array}``; a failed run fails the
    calling test with the child's output.
    """
    workdir = Path(workdir)
    in_path, out_path = workdir / "inputs.npz", workdir / "outputs.npz"
    np.savez(in_path, **{f"{name}/{key}": value for name, arrays in inputs.items() for key, value in arrays.items()})
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=os.pathsep.join(
        [str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    targets = [f"{folder}:{name}" for name, folder in folders.items()]
    proc = subprocess.run([sys.executable, str(HERE / "cuda_sim_runner.py"), str(in_path), str(out_path), *targets],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (f"the CUDA simulator run failed (exit {proc.returncode}):\n"
                                  f"{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    with np.load(out_path) as stored:
        return {key: stored[key] for key in stored.files}


# ---------------------------------------------------------------------- PTX for the real CUDA target


def cuda_home():
    """A CUDA toolkit folder with ``nvvm/libdevice`` ($CUDA_HOME first, then /usr/local/cuda*), or None."""
    for candidate in [os.environ.get("CUDA_HOME"), *sorted(Path("/usr/local").glob("cuda*"))]:
        if candidate and (Path(candidate) / "nvvm" / "libdevice").is_dir():
            return str(candidate)
    return None


# argv: FOLDER SIGNATURES(JSON) NAME [NAME ...]; prints "NAME KERNEL DTYPE ok" per kernel and dtype
PTX_SCRIPT = """
import importlib, json, sys, types as pytypes
from numba import cuda, types
import numba.cuda.dispatcher as dispatcher
# device functions compile for "the current device"; name one, since none is needed for PTX
dispatcher.get_current_device = lambda: pytypes.SimpleNamespace(compute_capability=(9, 0))
folder, signatures, names = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
sys.path.insert(0, folder)
f64 = types.float64
for name in names:
    module = importlib.import_module(name + "._cuda")
    namespace = module.kernels(cuda)
    for kernel_name, function in module._KERNELS:
        for dtype in (types.float32, f64):
            kinds = {"u": types.Array(dtype, 2, "C"), "out": types.Array(dtype, 3, "C"),
                     "u3": types.Array(dtype, 3, "C"), "v1": types.Array(dtype, 1, "C"),
                     "a1": types.Array(f64, 1, "C"), "a2": types.Array(f64, 2, "C"),
                     "a3": types.Array(f64, 3, "C"), "a4": types.Array(f64, 4, "C"),
                     "f64": f64, "i64": types.int64, "bool": types.boolean}
            sig = tuple(kinds[kind] for kind in signatures[kernel_name].split())
            ptx, _ = cuda.compile_ptx(module._rebind(function, namespace), sig, cc=(9, 0))
            assert ".entry" in ptx
            print(name, kernel_name, dtype, "ok")
"""


def compile_ptx(folder, names, signatures: dict, home: str) -> subprocess.CompletedProcess:
    """Compile every kernel of the packages ``names`` in ``folder`` to PTX (cc 9.0), float32 and float64 u.

    ``signatures``: ``{kernel name: argument kinds}``, the kinds separated by spaces: ``u`` (L, H) and
    ``out`` (L, N, H) arrays of the dtype under test, ``u3`` and ``v1`` arrays of that dtype with 3 and 1
    dimensions; ``a1``, ``a2``, ``a3``, ``a4`` float64 arrays of 1 to 4 dimensions; ``f64``, ``i64``, ``bool`` scalars. A kernel missing from ``signatures`` fails the run.
    Runs in a child process with ``CUDA_HOME=home``; returns it (stdout: one ``NAME KERNEL DTYPE ok``
    line per kernel and dtype).
    """
    return subprocess.run([sys.executable, "-W", "ignore", "-c", PTX_SCRIPT, str(folder), json.dumps(signatures),
                           *names], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, CUDA_HOME=home))
