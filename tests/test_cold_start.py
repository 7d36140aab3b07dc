"""Cold start (issue 13): exported packages compile their CPU kernels into Numba's cache in advance.

One small package is exported and warmed (:func:`warm_package`: the package's ``warm()`` in a child
process; float64 only, to keep the test short: float32 runs the same loop); a second fresh process then
calls every CPU entry point with other shapes and values than ``warm()`` used and must load every kernel
from the cache: Numba's own per-dispatcher statistics must show cache hits and no cache miss (a miss is
a compilation). No timing is asserted: the machine may be loaded, and a compilation shows up as a miss
whatever the load. The command line's default (warm) and ``--no-warm`` are checked with a stand-in for
the warm-up, and for real that ``--no-warm`` writes no cache.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import textwrap

import pytest

import symderive as sd
from symderive import progress
from symderive.cli import main
from symderive.codegen import export as export_module
from symderive.codegen.bank import build_bank_spec
from symderive.codegen.export import export, import_package, warm_package, write_bank


def _cache_files(folder):
    """Numba's cache files (index and data) anywhere under ``folder``."""
    return sorted(p.name for p in folder.rglob("*") if p.suffix in (".nbi", ".nbc"))


@pytest.fixture(scope="module")
def warmed(tmp_path_factory):
    """(folder, warm_package's seconds, its stderr) for LegS N = 4 exported and warmed for float64."""
    out = tmp_path_factory.mktemp("cold_start")
    path, _ = export(sd.warps.exponential(), sd.bases.legendre(4), "1/10", "cold_legs4", out)
    assert _cache_files(path) == []
    was_quiet, stderr = progress.is_quiet(), io.StringIO()
    progress.set_quiet(False)
    try:
        with contextlib.redirect_stderr(stderr):
            seconds = warm_package(path, dtypes=("float64",))
    finally:
        progress.set_quiet(was_quiet)
    return out, seconds, stderr.getvalue()


# A fresh process: every CPU entry point once (L = 7, H = 1 and 12: not warm()'s L = 4, H = 1 and 40;
# scan_readout, out= and the chunked scan where the package has them),
# then Numba's statistics of every dispatcher of the package's modules, as JSON.
CHILD = textwrap.dedent("""
    import inspect, json, sys
    import numpy as np
    from numba.core.dispatcher import Dispatcher
    sys.path.insert(0, sys.argv[1])
    m = __import__(sys.argv[2])
    L, N = 7, m.N
    rng = np.random.default_rng(1)
    for dtype in (np.float64,):
        for H in (1, 12):
            u = rng.standard_normal((L,) if H == 1 else (L, H)).astype(dtype)
            m.scan(u); m.scan_final(u); m.conv(u)
            m.step(np.ones(u.shape[1:] + (N,), dtype), u[0])
            m.scan_variable(u, np.full(L, m.DELTA) * rng.uniform(0.5, 1.5, L))
            if H > 1:
                m.scan_variable(u, np.full((L, H), m.DELTA))
            if hasattr(m, "scan_readout"):
                m.scan_readout(u.reshape(L, H), np.ones((H, N), dtype), D=np.ones(H, dtype))
                m.scan(u, out=np.empty(u.shape + (N,), dtype))
            run_fixed = getattr(m._cpu, "_run_fixed", None)
            if H == 1 and run_fixed is not None and "T" in inspect.signature(run_fixed).parameters:
                run_fixed(u, None, m._cpu.STATES, T=3)      # the chunked scan (long L, many threads)
        m.kernel(L, dtype)
        m.reconstruct(np.ones((3, N), dtype), np.linspace(0.2, 1.0, 4))
        m.history(np.ones((3, N), dtype), [0.0, 0.5])
    stats = {}
    for name, module in list(sys.modules.items()):
        if name == sys.argv[2] or name.startswith(sys.argv[2] + "."):
            for attr, obj in vars(module).items():
                if isinstance(obj, Dispatcher) and obj.__module__ == name and obj.signatures:
                    stats[name + "." + attr] = [sum(obj.stats.cache_hits.values()),
                                                sum(obj.stats.cache_misses.values()), len(obj.signatures)]
    print(json.dumps(stats))
""")


@pytest.mark.slow     # warm() compiles every kernel of a fresh package: about 90 s on 2 cores
def test_warm_fills_the_cache_and_a_fresh_process_compiles_nothing(warmed):
    out, seconds, stderr = warmed
    package = out / "cold_legs4"
    assert isinstance(seconds, float) and seconds > 0, stderr
    assert "compiling the CPU kernels of cold_legs4" in stderr and "--no-warm" in stderr
    cached = _cache_files(package)
    assert any(name.endswith(".nbi") for name in cached) and any(name.endswith(".nbc") for name in cached)

    proc = subprocess.run([sys.executable, "-c", CHILD, str(out), "cold_legs4"], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    compiled = {name: s for name, s in stats.items() if s[1]}
    assert not compiled, f"compiled in a fresh process after warm (not in the cache): {compiled}"
    assert sum(s[0] for s in stats.values()) >= 5, stats                # loaded from the cache
    assert _cache_files(package) == cached                               # nothing new written


def test_the_cli_warms_by_default_and_no_warm_skips(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("SYMDERIVE_NO_WARM", raising=False)
    common = ["--basis", "legendre", "--N", "3", "--delta", "0.1", "--out", str(tmp_path)]
    single = ["export", "--warp", "exponential", *common]
    bank = ["export", "--warp", "exponential", "--warp", "exponential:rate=4", *common]
    # for real: --no-warm (and the Python API's default) leave no Numba cache
    assert main([*single, "--name", "nowarm", "--no-warm"]) == 0
    assert json.loads(capsys.readouterr().out)["warm_seconds"] is None
    export(sd.warps.exponential(), sd.bases.legendre(3), "1/10", "nowarm_api", tmp_path)
    for name in ("nowarm", "nowarm_api"):
        assert _cache_files(tmp_path / name) == [] and not (tmp_path / name / "__pycache__").exists()
    # with a stand-in for the warm-up: called once per export by default, never with --no-warm or the variable
    calls = []
    monkeypatch.setattr(export_module, "warm_package", lambda path, dtypes=None: calls.append(path) or 1.5)
    assert main([*single, "--name", "warm1"]) == 0
    assert json.loads(capsys.readouterr().out)["warm_seconds"] == 1.5
    assert main([*bank, "--name", "warm2"]) == 0
    assert json.loads(capsys.readouterr().out)["warm_seconds"] == 1.5
    assert calls == [tmp_path / "warm1", tmp_path / "warm2"]
    assert main([*bank, "--name", "warm3", "--no-warm"]) == 0
    monkeypatch.setenv("SYMDERIVE_NO_WARM", "1")
    assert main([*single, "--name", "warm4"]) == 0
    assert len(calls) == 2
    capsys.readouterr()


def test_a_failed_warm_up_is_a_warning(tmp_path, capsys):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "__init__.py").write_text("raise RuntimeError('no kernels here')\n")
    assert warm_package(folder) is None
    err = capsys.readouterr().err
    assert "warning" in err and "no kernels here" in err and "compiles at first use" in err


def test_warm_of_a_package_without_scan_variable(tmp_path):
    """A bank with a Fourier basis has no per-step form (scan_variable raises NotImplementedError): warm()
    skips it and compiles the rest (one dtype and one channel count here, to keep the test short)."""
    warps = [sd.warps.exponential(), sd.warps.exponential(2)]
    spec = build_bank_spec([sd.derive(w, sd.bases.fourier(3)) for w in warps], "1/10", "cold_bank_fourier")
    write_bank(spec, tmp_path)
    package = import_package(tmp_path, "cold_bank_fourier", spec.hash)
    with pytest.raises(NotImplementedError):
        package.scan_variable([1.0, 2.0], 0.1)
    called = package.warm(dtypes=("float64",), channels=(1,))
    assert "scan_variable" not in called
    assert {"scan", "scan_final", "step", "kernel", "conv", "reconstruct", "history"} <= set(called)
    assert any(name.endswith(".nbi") for name in _cache_files(tmp_path / "cold_bank_fourier"))
