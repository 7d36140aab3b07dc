"""One symbolic budget per derivation, progress on stderr, the derivation cache on disk, and the JSON
fields of the numeric route (``support``, ``precision``, ``error_estimate``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import symderive as sd
from symderive import _limits, cache, progress
from symderive.cli import main
from symderive.derivation import quadrature

INV = "f=1/(1-x)"


def run_inline(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def run_cli(*args, env=None):
    full_env = dict(os.environ, **(env or {}))
    proc = subprocess.run([sys.executable, "-m", "symderive", *args], capture_output=True, text=True, timeout=300,
                          env=full_env)
    return proc.returncode, proc.stdout, proc.stderr


# ---------------------------------------------------------------------- budget

def test_budget_is_shared_by_all_steps_and_spent_steps_fail_at_once():
    with _limits.budget(0.3) as b:
        start = time.perf_counter()
        with pytest.raises(_limits.SymbolicTimeout):
            with _limits.time_limit():
                while True:
                    time.sleep(0.01)
        assert 0.25 < time.perf_counter() - start < 1.0
        assert b.spent
        start = time.perf_counter()
        with pytest.raises(_limits.SymbolicTimeout):     # spent: the next step is refused at once
            with _limits.time_limit(5):
                pass
        assert time.perf_counter() - start < 0.05


def test_inner_budget_does_not_extend_the_outer_one():
    with _limits.budget(1) as outer, _limits.budget(100) as inner:
        assert inner is outer and outer.seconds == 1


def test_tiny_budget_gives_the_numeric_route_and_says_so():
    """No symbolic step fits in the budget: exact lag matrices fall back to quadrature, in bounded time."""
    m = sd.derive(sd.warps.custom("1/(1 - x)"), sd.bases.legendre(3))
    start = time.perf_counter()
    with sd.budget(0):
        pair = m.lag("1/10")
    assert time.perf_counter() - start < 5
    assert pair.route == "numeric-quadrature"
    assert "budget" in pair.note and pair.error_estimate < 2.0 ** -60
    exact = sd.derive(sd.warps.custom("1/(1 - x)"), sd.bases.legendre(3)).lag("1/10")   # enough budget
    assert exact.route == "exact-algebraic"
    assert np.allclose(np.array(pair.A, dtype=float), np.array(exact.A.evalf(30), dtype=float), rtol=0, atol=1e-15)


def test_budget_off_the_main_thread_is_checked_between_steps():
    """SIGALRM works in the main thread only; elsewhere a spent budget still stops every later step."""
    result = {}

    def work():
        m = sd.derive(sd.warps.custom("1/(1 - x)"), sd.bases.legendre(3))
        with sd.budget(0):
            result["pair"] = m.lag("1/10")

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(60)
    assert result["pair"].route == "numeric-quadrature" and "budget" in result["pair"].note


def test_cli_budget_zero_keeps_the_exact_lag_and_says_the_generator_is_numeric(capsys):
    """With no time for any symbolic step, the affine lag matrices stay exact (they need none), while
    the generator, whose velocity must be simplified to a polynomial, falls to quadrature: one note."""
    code, out, err = run_inline(capsys, "matrices", "--warp", "exponential", "--basis", "legendre", "--N", "3",
                                "--delta", "0.1", "--exact", "--budget", "0")
    assert code == 0, err
    data = json.loads(out)
    assert data["routes"]["lag"] == data["routes"]["lag_exact"] == "exact-linear-algebra"
    assert data["routes"]["generator"] == "numeric-quadrature" and "A_gen_exact" not in data
    assert len(data["notes"]) == 1 and "budget" in data["notes"][0]
    assert err.startswith("symderive: note: no exact generator") and err.count("\n") == 1
    n = np.arange(3)
    legs = np.where(n[:, None] > n[None, :], np.sqrt((2 * n[:, None] + 1) * (2 * n[None, :] + 1)), 0) + np.diag(n + 1)
    assert np.allclose(data["A_gen"], -legs, rtol=0, atol=1e-14)    # the numeric route still gives LegS


def test_cli_no_exact_route_notes(capsys, monkeypatch):
    """Where no exact route applies, --exact says so on stderr and in "notes", and the floats stand."""
    from symderive.derivation import algebraic, integration

    def no(*args, **kwargs):
        raise algebraic.NotAlgebraic("not rational (test)")
    monkeypatch.setattr(algebraic, "lag", no)
    monkeypatch.setattr(integration, "lag_integrals", lambda *args, **kwargs: None)
    code, out, err = run_inline(capsys, "matrices", "--warp", INV, "--basis", "legendre", "--N", "3", "--delta",
                                "0.1", "--exact")
    assert code == 0
    data = json.loads(out)
    assert "A_exact" not in data and data["routes"]["lag"] == "numeric-quadrature"
    assert data["routes"]["generator_exact"] == "exact-linear-algebra"   # v = z^2: the generator is exact
    (note,) = data["notes"]
    assert "not rational (test)" in note and err == f"symderive: note: {note}\n"


def test_cli_budget_too_small_to_validate_a_custom_warp_says_so(capsys):
    code, out, err = run_inline(capsys, "matrices", "--warp", INV, "--basis", "legendre", "--N", "2", "--budget", "0")
    assert code == 2 and out == "" and "budget" in err and err.count("\n") == 1


@pytest.mark.parametrize("bad", ["-1", "nan", "soon"])
def test_cli_bad_budget_is_refused(capsys, bad):
    code, out, err = run_inline(capsys, "matrices", "--warp", "exponential", "--basis", "legendre", "--N", "2",
                                "--budget", bad)
    assert code == 2 and out == "" and "--budget" in err and err.count("\n") == 1


def test_tiny_budget_from_the_environment_does_not_crash():
    """SYMDERIVE_SYMBOLIC_SECONDS=0.3 used to crash with 'cannot create mpf from ... + 0.e-50*I'. Now the
    run either succeeds (numeric route) or says in one line that validating the warp needs more budget."""
    for name in ("SYMDERIVE_BUDGET", "SYMDERIVE_SYMBOLIC_SECONDS"):
        code, out, err = run_cli("matrices", "--warp", INV, "--basis", "legendre", "--N", "2", "--delta", "0.01",
                                 env={name: "0.3"})
        assert "internal error" not in err and "Traceback" not in err
        if code == 0:
            assert json.loads(out)["routes"]["lag"] == "numeric-quadrature"
        else:
            assert code == 2 and "budget" in err and err.count("\n") == 1
    code, out, err = run_cli("matrices", "--warp", INV, "--basis", "legendre", "--N", "2", "--delta", "0.01",
                             env={"SYMDERIVE_BUDGET": "3"})
    assert code == 0 and json.loads(out)["routes"]["lag"] == "numeric-quadrature"


def test_bad_budget_in_the_environment_is_one_line():
    code, out, err = run_cli("matrices", "--warp", "exponential", "--basis", "legendre", "--N", "2",
                             env={"SYMDERIVE_BUDGET": "forever"})
    assert code == 2 and "SYMDERIVE_BUDGET" in err and err.count("\n") == 1


# ---------------------------------------------------------------------- JSON fields

def test_numeric_route_fields(capsys):
    code, out, _ = run_inline(capsys, "matrices", "--warp", "f=(1+x/2)**2", "--basis", "legendre", "--N", "4",
                              "--delta", "0.1")
    data = json.loads(out)
    assert data["support"] == "[-2, 0]"
    assert data["routes"] == {"generator": "numeric-quadrature", "lag": "numeric-quadrature"}
    assert set(data["precision"]) == {"generator", "lag"} and min(data["precision"].values()) >= 30
    assert 0 <= max(data["error_estimate"].values()) < 2.0 ** -60


def test_exact_route_has_no_error_estimate(capsys):
    code, out, _ = run_inline(capsys, "matrices", "--warp", "exponential", "--basis", "legendre", "--N", "3",
                              "--delta", "0.1")
    data = json.loads(out)
    assert data["support"] == "(-inf, 0]"
    assert "error_estimate" not in data and "precision" not in data


def test_cli_route_name_matches_the_engine():
    from symderive import cli
    assert cli.ROUTE_QUADRATURE == quadrature.ROUTE


# ---------------------------------------------------------------------- progress

def test_progress_goes_to_stderr_and_quiet_silences_it(capsys, monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "_quiet", False)
    args = ["matrices", "--warp", INV, "--basis", "legendre", "--N", "4", "--delta", "0.1"]
    code, out, err = run_inline(capsys, *args)
    assert code == 0 and json.loads(out)["N"] == 4   # stdout is the JSON alone
    assert "quadrature" in err
    code, out, err = run_inline(capsys, *args, "--quiet")
    assert code == 0 and err == ""
    assert not progress.is_quiet()     # --quiet lasts for its command only


# ---------------------------------------------------------------------- cache

@pytest.fixture
def disk_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMDERIVE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cache, "_enabled", True)
    return tmp_path


def test_model_cache_round_trip_is_exact(disk_cache, monkeypatch):
    m = sd.derive(sd.warps.custom("1/(1 - x)"), sd.bases.legendre(6))
    first = m.numeric("1/10")
    first_mp = m.numeric("1/10", dtype="mpmath", dps=40)
    assert len(list(disk_cache.rglob("*.json"))) == 2

    def refuse(*args, **kwargs):
        raise AssertionError("derived again although cached")
    monkeypatch.setattr(quadrature, "lag_matrices", refuse)
    again = sd.derive(sd.warps.custom("1/(1 - x)"), sd.bases.legendre(6)).numeric("1/10")
    assert np.array_equal(first.A, again.A) and np.array_equal(first.B, again.B) and again.A.dtype == np.float64
    assert (again.route, again.error_estimate, again.precision) == (first.route, first.error_estimate, first.precision)
    again_mp = m.numeric("1/10", dtype="mpmath", dps=40)
    assert any(first_mp.A[i, j] < 0 for i in range(6) for j in range(6))   # signs survive the round trip
    assert all(again_mp.A[i, j] == first_mp.A[i, j] for i in range(6) for j in range(6))
    with pytest.raises(AssertionError, match="derived again"):   # another Delta is another key
        m.numeric("1/20")


def test_damaged_cache_entry_is_recomputed(disk_cache):
    m = sd.derive(sd.warps.custom("1/(1 - x)"), sd.bases.legendre(3))
    first = m.numeric("1/10")
    (entry,) = disk_cache.rglob("*.json")
    entry.write_text('{"A": "garbage"')
    again = m.numeric("1/10")
    assert np.array_equal(first.A, again.A)
    assert json.loads(entry.read_text())["route"] == "numeric-quadrature"   # rewritten


def test_cli_cache_rerun_skips_the_engine(disk_cache):
    """A cached rerun answers before SymPy is imported (in a fresh process), with identical output."""
    env = {"SYMDERIVE_CACHE_DIR": str(disk_cache), "SYMDERIVE_NO_CACHE": "0"}
    args = ["matrices", "--warp", "f=1/(1 - x)", "--basis", "legendre", "--N", "5", "--delta", "0.01"]
    code, first, _ = run_cli(*args, env=env)
    assert code == 0
    probe = ("import sys, runpy; sys.argv = ['symderive'] + sys.argv[1:]\n"
             "try:\n    runpy.run_module('symderive', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print('SYMPY' if 'sympy' in sys.modules else 'NO-SYMPY', file=sys.stderr)\n")
    respaced = ["matrices", "--warp", "f=1/(1-x)", "--basis", "legendre", "--N", "5", "--delta", "0.01"]
    proc = subprocess.run([sys.executable, "-c", probe, *respaced], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, **env))
    assert proc.stdout == first
    assert proc.stderr.strip().endswith("NO-SYMPY")
    code, third, _ = run_cli(*args, "--no-cache", env=env)
    assert json.loads(third) == json.loads(first)


def test_fallback_under_a_spent_budget_is_not_cached(disk_cache):
    """With no budget the exponential generator falls to quadrature; that fallback is not remembered, so
    the next run with time gets the exact route again."""
    with sd.budget(0):
        fallback = sd.derive(sd.warps.exponential(), sd.bases.legendre(3)).numeric_generator()
    assert fallback.route == "numeric-quadrature"
    assert not list(disk_cache.rglob("*.json"))
    again = sd.derive(sd.warps.exponential(), sd.bases.legendre(3)).numeric_generator()
    assert again.route == "exact-linear-algebra"
    assert np.allclose(again.A, fallback.A, rtol=0, atol=1e-15)
