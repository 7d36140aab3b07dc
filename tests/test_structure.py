"""The structural theorem (symderive.verification.structure): do lag steps compose?

Both verdicts are exercised, and every number that carries a verdict is re-derived here without
symderive's code path: counterexamples by mpmath quadrature of the integrals of docs/math.md, section 2.3
(tests/reference.py) or by SymPy products of ``model.lag`` matrices, discrepancies by mpmath ``expm``
of generators written out in closed form (docs/math.md, section 4.3).
"""

from __future__ import annotations

import json
import os
import sys
import time

import mpmath
import numpy as np
import pytest
import sympy as sp

import symderive as sd
from symderive.verification import structure
from symderive.verification.structure import StructureReport, decide_structure

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402

STATUSES = {"proved for all N", "proved for this N", "checked exactly at N", "measured"}


def statuses(report):
    return [s["status"] for s in report.steps]


def legs_generator(N):
    """-A_LegS, B_LegS (docs/math.md, section 4.3), written out."""
    A = mpmath.matrix(N, N)
    B = mpmath.matrix(N, 1)
    for n in range(N):
        B[n] = mpmath.sqrt(2 * n + 1)
        for k in range(N):
            A[n, k] = -(mpmath.sqrt((2 * n + 1) * (2 * k + 1)) if n > k else (n + 1 if n == k else 0))
    return A, B


def legt_generator(N, theta=1):
    """Orthonormal LegT (docs/math.md, section 4.3), written out."""
    A = mpmath.matrix(N, N)
    for n in range(N):
        for k in range(N):
            A[n, k] = -mpmath.sqrt((2 * n + 1) * (2 * k + 1)) / theta * (1 if n >= k else (-1) ** (n - k))
    return A


def max_abs(M):
    return max(abs(M[i, j]) for i in range(M.rows) for j in range(M.cols))


# ------------------------------------------------------------------------------ composes

def test_exponential_legendre_composes_with_a_proof():
    m = sd.derive(sd.warps.exponential(), sd.bases.legendre(8))
    r = decide_structure(m)
    assert isinstance(r, StructureReport)
    assert (r.composes, r.exact, r.expm_zoh, r.verdict) == (True, True, True, "composes")
    assert r.counterexample is None and r.discrepancy is None
    assert set(statuses(r)) <= STATUSES
    # the invariance argument does not depend on N; the symbolic check runs at a small N
    assert statuses(r).count("checked exactly at N") == 1
    assert all(s == "proved for all N" for s in statuses(r) if s != "checked exactly at N")
    assert any("expm(D A_gen)" in s["statement"] for s in r.steps)
    assert any("zero-order hold" in s["statement"] for s in r.steps)
    assert not any(s["statement"].startswith("NOT CONFIRMED") for s in r.steps) and not r.notes


def test_exponential_legendre_at_large_N_is_fast():
    m = sd.derive(sd.warps.exponential(rate=2), sd.bases.legendre(512))
    start = time.perf_counter()
    r = decide_structure(m)
    assert time.perf_counter() - start < 10
    assert r.composes and r.exact and r.N == 512


def test_exponential_laguerre_composes():
    r = decide_structure(sd.derive(sd.warps.exponential(), sd.bases.laguerre(10)))
    assert (r.composes, r.exact, r.expm_zoh) == (True, True, True)
    assert any("d/dy" in s["statement"] for s in r.steps)
    assert "checked exactly at N" in statuses(r)


def test_scale_warp_composes_and_steps_are_expm_of_log_time():
    m = sd.derive(sd.warps.scale(), sd.bases.legendre(6))
    r = decide_structure(m, 1, t=3)
    assert (r.composes, r.exact, r.expm_zoh) == (True, True, True)
    assert any("log(1 + 1/t)" in s["statement"] for s in r.steps)
    d = r.discrepancy
    assert d["tau"] == "log(4/3)"
    assert d["A_vs_expm"]["max_abs"] < 1e-30 and d["B_vs_zoh"]["max_abs"] < 1e-30
    # independent: A_3 (step 3 -> 4) against mpmath expm(log(4/3) (-A_LegS)) of the written-out generator
    A, _ = m.numeric(1, t=3)
    Ag, _ = legs_generator(6)
    with mpmath.workdps(40):
        E = mpmath.expm(mpmath.log(mpmath.mpf(4) / 3) * Ag)
    assert max(abs(float(E[i, j]) - A[i, j]) for i in range(6) for j in range(6)) < 1e-15
    with pytest.raises(sd.InputError, match="time-varying"):
        decide_structure(m, 1)


def test_scale_warp_with_log_laguerre_composes_and_the_check_confirms():
    r = decide_structure(sd.derive(sd.warps.scale(), sd.bases.laguerre(4)))
    assert (r.composes, r.exact) == (True, True)
    check = [s for s in r.steps if s["status"] == "checked exactly at N"]
    assert len(check) == 1 and not check[0]["statement"].startswith("NOT CONFIRMED") and not r.notes


def test_custom_monomial_basis_composes():
    r = decide_structure(sd.derive(sd.warps.exponential(), sd.bases.custom(["1", "z**2"])))
    assert (r.composes, r.exact, r.verdict) == (True, True, "composes")
    assert "proved for this N" in statuses(r)  # a fixed basis, not a family


def test_non_polynomial_basis_can_be_invariant():
    """span{1, sqrt z} is dilation invariant (sqrt(q z) = sqrt q sqrt z): proved symbolically."""
    r = decide_structure(sd.derive(sd.warps.exponential(), sd.bases.custom(["1", "sqrt(z)"])))
    assert (r.composes, r.exact) == (True, True)


# ------------------------------------------------------------------------------ does not compose

def test_linear_legendre_counterexample_is_exact_and_real():
    N = 5
    m = sd.derive(sd.warps.linear(), sd.bases.legendre(N))
    r = decide_structure(m)
    assert (r.composes, r.exact, r.expm_zoh, r.verdict) == (False, True, False, "does not compose")
    ce = r.counterexample
    assert ce["D1"] == ce["D2"] == "1/4" and ce["entries_checked"] == "all entries"
    # independent: quadrature of A[n,k] = int_0^{1-s} p_n(z) p_k(z + s) dz at s = 1/4 and s = 1/2
    p, _ = ref.legendre(N)
    with mpmath.workdps(30):
        A1, _ = ref.ref_lag(p, lambda z: z + mpmath.mpf(1) / 4, mpmath.mpf(3) / 4, N)
        A2, _ = ref.ref_lag(p, lambda z: z + mpmath.mpf(1) / 2, mpmath.mpf(1) / 2, N)
        D = A1 * A1 - A2
        assert abs(max_abs(D) / mpmath.mpf(ce["max_abs_entry"]) - 1) < 1e-6
        i, j = ce["entry"]
        assert abs(D[i, j] - mpmath.mpf(sp.N(sp.sympify(ce["entry_exact"]), 40))) < 1e-25
        assert abs(D[i, j]) > 1e-3


def test_linear_legendre_counterexample_matches_exact_sympy_product():
    """The rational-arithmetic verdict agrees with SymPy's product of model.lag matrices."""
    m = sd.derive(sd.warps.linear(window=2), sd.bases.legendre(4))
    r = decide_structure(m)
    assert r.counterexample["D1"] == "1/2"  # window/4
    A1, _ = m.lag(sp.Rational(1, 2))
    A2, _ = m.lag(1)
    D = (A1 * A1 - A2).applyfunc(sp.expand)
    i, j = r.counterexample["entry"]
    assert sp.expand(D[i, j] - sp.sympify(r.counterexample["entry_exact"])) == 0
    assert D[i, j] != 0


def test_column_path_for_large_N_agrees_with_the_full_difference():
    m = sd.derive(sd.warps.linear(), sd.bases.legendre(6))
    trial = structure._trial(m)
    out = structure._rational_counterexample(m, trial, full_max_n=0)
    assert out["entries_checked"].startswith("column 0")
    A1, _ = m.lag(sp.Rational(1, 4))
    A2, _ = m.lag(sp.Rational(1, 2))
    D = (A1 * A1 - A2).applyfunc(sp.expand)
    i, j = out["entry"]
    assert j == 0
    assert sp.expand(D[i, j] - sp.sympify(out["entry_exact"])) == 0
    assert abs(float(out["max_abs_entry"]) - max(abs(float(D[k, 0])) for k in range(6))) < 1e-12


def test_custom_non_monomial_basis_does_not_compose():
    m = sd.derive(sd.warps.exponential(), sd.bases.custom(["1", "z + z**2"]))
    r = decide_structure(m)
    assert (r.composes, r.exact, r.verdict) == (False, True, "does not compose")
    assert r.counterexample["D1"] == "log(2)"
    # confirm exactly with model.lag at q = exp(-Delta) = 1/2 and 1/4
    A1, _ = m.lag(sp.log(2))
    A2, _ = m.lag(2 * sp.log(2))
    D = (A1 * A1 - A2).applyfunc(sp.expand)
    assert all(x.is_algebraic for x in D)
    i, j = r.counterexample["entry"]
    assert D[i, j] != 0 and sp.expand(D[i, j] - sp.sympify(r.counterexample["entry_exact"])) == 0


def test_fourier_exponential_exact_counterexample_at_small_N():
    N = 3
    m = sd.derive(sd.warps.exponential(), sd.bases.fourier(N))
    r = decide_structure(m)
    assert (r.composes, r.exact) == (False, True)
    ce = r.counterexample
    assert "pi" in ce["entry_exact"]
    # independent quadrature: lambda(z) = z / q, cutoff q, at q = 1/2 and q = 1/4
    p, _ = ref.fourier(N)
    with mpmath.workdps(30):
        A1, _ = ref.ref_lag(p, lambda z: 2 * z, mpmath.mpf(1) / 2, N)
        A2, _ = ref.ref_lag(p, lambda z: 4 * z, mpmath.mpf(1) / 4, N)
        D = A1 * A1 - A2
        i, j = ce["entry"]
        assert abs(D[i, j] - mpmath.mpf(sp.N(sp.sympify(ce["entry_exact"]), 40))) < 1e-20
        assert abs(max_abs(D) / mpmath.mpf(ce["max_abs_entry"]) - 1) < 1e-6


def test_fourier_one_function_composes():
    r = decide_structure(sd.derive(sd.warps.exponential(), sd.bases.fourier(1)))
    assert (r.composes, r.exact) == (True, True)


def test_fourier_beyond_the_symbolic_limit_is_undecided_not_guessed():
    r = decide_structure(sd.derive(sd.warps.exponential(), sd.bases.fourier(structure.SYMBOLIC_MAX_N + 1)))
    assert (r.composes, r.exact, r.verdict, r.expm_zoh) == (False, False, "undecided", False)
    assert "no exact counterexample" in r.reason
    assert r.counterexample is None


# ------------------------------------------------------------------------------ discrepancy

def test_discrepancy_exponential_legendre_is_zero_to_40_digits():
    m = sd.derive(sd.warps.exponential(), sd.bases.legendre(8))
    d = decide_structure(m, "0.01").discrepancy
    assert d["status"] == "measured"
    assert d["A_vs_expm"]["max_abs"] < 1e-30 and d["A_vs_expm"]["rel_fro"] < 1e-30
    assert d["B_vs_zoh"]["max_abs"] < 1e-30 and d["B_vs_zoh"]["rel_fro"] < 1e-30
    assert 1e-5 < d["A_vs_bilinear"]["max_abs"] < 1e-2  # Tustin is O(Delta^3) off, not exact
    # independent bilinear from the written-out generator
    Ag, Bg = legs_generator(8)
    A, _ = m.numeric("0.01")
    with mpmath.workdps(40):
        h = mpmath.mpf("0.01") / 2
        Abil = mpmath.inverse(mpmath.eye(8) - h * Ag) * (mpmath.eye(8) + h * Ag)
    ref_bil = max(abs(float(Abil[i, j]) - A[i, j]) for i in range(8) for j in range(8))
    assert abs(ref_bil - d["A_vs_bilinear"]["max_abs"]) < 1e-12


def test_discrepancy_linear_legendre_matches_math_md():
    """docs/math.md, section 3.3: A_Delta != expm(Delta A_gen), error 6e-3 at Delta = 0.01, N = 8."""
    m = sd.derive(sd.warps.linear(), sd.bases.legendre(8))
    r = decide_structure(m, "0.01")
    d = r.discrepancy
    assert 3e-3 < d["A_vs_expm"]["max_abs"] < 1e-2
    assert d["B_vs_zoh"]["max_abs"] > 1e-4
    with mpmath.workdps(40):
        E = mpmath.expm(mpmath.mpf("0.01") * legt_generator(8))
    A, _ = m.numeric("0.01")
    independent = max(abs(float(E[i, j]) - A[i, j]) for i in range(8) for j in range(8))
    assert abs(independent - d["A_vs_expm"]["max_abs"]) < 1e-12
    assert r.steps[-1]["status"] == "measured"


def test_discrepancy_arb_path_agrees_with_mpmath_path(monkeypatch):
    m = sd.derive(sd.warps.linear(), sd.bases.legendre(6))
    mp = structure._discrepancy(m, "0.05", None)
    monkeypatch.setattr(structure, "MPMATH_EXPM_MAX_N", 0)
    fl = structure._discrepancy(m, "0.05", None)
    assert fl["expm_method"].startswith("python-flint") and mp["expm_method"].startswith("mpmath")
    for key in ("A_vs_expm", "B_vs_zoh", "A_vs_bilinear", "B_vs_bilinear"):
        for what in ("max_abs", "rel_fro"):
            assert fl[key][what] == pytest.approx(mp[key][what], rel=1e-12)


# ------------------------------------------------------------------------------ report and helpers

def test_report_to_dict_is_plain_json():
    r = decide_structure(sd.derive(sd.warps.linear(), sd.bases.legendre(3)), "0.1")
    data = json.loads(json.dumps(r.to_dict()))
    for key in ("composes", "exact", "reason", "steps", "expm_zoh", "counterexample", "discrepancy", "verdict"):
        assert key in data
    assert all(set(s) == {"statement", "method", "status"} and s["status"] in STATUSES for s in data["steps"])
    assert isinstance(data["discrepancy"]["A_vs_expm"]["max_abs"], float)
    assert isinstance(data["counterexample"]["max_abs_entry"], str)
    float(data["counterexample"]["max_abs_entry"])


def test_exact_zero_test_is_exact_or_abstains():
    z = structure._exact_zero_test
    assert z(sp.sqrt(2) + sp.sqrt(3) - sp.sqrt(5 + 2 * sp.sqrt(6))) is True
    assert z(1 / sp.pi - 1 / sp.pi**2) is False
    assert z(sp.log(2) ** 2 - 2 * sp.log(2) * sp.log(2) + sp.log(2) ** 2) is True
    assert z(sp.sqrt(2) / (2 * sp.pi) - 1 / (sp.sqrt(2) * sp.pi)) is True
    assert z(sp.pi - sp.E) is None  # two transcendental numbers: not decided


def test_bad_input():
    with pytest.raises(sd.InputError):
        decide_structure("exponential x legendre")
    m = sd.derive(sd.warps.exponential(), sd.bases.legendre(3))
    with pytest.raises(sd.InputError):
        decide_structure(m, t=2)
    with pytest.raises(sd.InputError):
        decide_structure(m, -1)
    assert np.isfinite(decide_structure(m, 0.5).discrepancy["A_vs_expm"]["max_abs"])
