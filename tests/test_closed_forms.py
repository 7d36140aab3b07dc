"""Closed forms in symbolic n, k (symderive.verification.closed_forms), checked exactly against the
derived generator, and the exact evaluator checked against SymPy's own substitution."""

import time

import pytest
import sympy as sp

import symderive as sd
from symderive.verification.closed_forms import (
    K_SYM,
    N_SYM,
    ClosedForm,
    check_closed_form,
    closed_form,
    compile_expression,
    format_closed_form,
)
from symderive.verification.exact_numbers import Exact

n, k = N_SYM, K_SYM

PAIRS = [
    ("exponential", "legendre"),
    ("linear", "legendre"),
    ("exponential", "laguerre"),
    ("linear", "fourier"),
    ("exponential", "fourier"),
    ("scale", "legendre"),
    ("scale", "laguerre"),
    ("scale", "fourier"),
]


def make_warp(name, param=None):
    if name == "scale":
        return sd.warps.scale()
    ctor = getattr(sd.warps, name)
    return ctor() if param is None else ctor(param)


def check(warp, basis):
    cf = closed_form(warp, basis, prove=False)
    assert cf is not None
    return cf, check_closed_form(cf, sd.derive(warp, basis))


@pytest.mark.parametrize("warp_name,basis_name", PAIRS)
def test_default_parameters_match_exactly(warp_name, basis_name):
    sizes = (12, 13) if basis_name == "fourier" else (12,)   # Fourier: even and odd N
    for N in sizes:
        cf, report = check(make_warp(warp_name), getattr(sd.bases, basis_name)(N))
        assert report["ok"], report["mismatches"]
        assert report["N"] == N and report["checked_entries"] == N * N + N
        assert report["mismatches"] == [] and report["mismatch_count"] == 0


@pytest.mark.parametrize("warp_name,param", [("exponential", 3), ("exponential", sp.sqrt(2)),
                                             ("exponential", sp.Rational(1, 3)), ("linear", 2),
                                             ("linear", sp.sqrt(2)), ("linear", sp.Rational(3, 4))])
@pytest.mark.parametrize("basis_name", ["legendre", "laguerre", "fourier"])
def test_other_parameters_match_exactly(warp_name, param, basis_name):
    warp = make_warp(warp_name, param)
    basis = getattr(sd.bases, basis_name)(12 if basis_name != "fourier" else 11)
    if warp_name == "linear" and basis_name == "laguerre":
        assert closed_form(warp, basis, prove=False) is None
        return
    cf, report = check(warp, basis)
    assert report["ok"], report["mismatches"]
    assert cf.A.free_symbols <= {n, k} and cf.B.free_symbols <= {n}


def test_published_formulas_at_symbolic_level():
    cf = closed_form(sd.warps.exponential(), sd.bases.legendre(4), prove=False)
    s = sp.sqrt(2 * n + 1) * sp.sqrt(2 * k + 1)
    assert cf.A == sp.Piecewise((-s, n > k), (-(n + 1), sp.Eq(n, k)), (0, True))
    assert cf.B == sp.sqrt(2 * n + 1)
    assert "LegS" in cf.description
    lagt = closed_form(sd.warps.exponential(), sd.bases.laguerre(4), prove=False)
    assert lagt.A == sp.Piecewise((-1, n >= k), (0, True)) and lagt.B == 1


def test_no_closed_form_for_linear_laguerre_and_custom_inputs():
    assert closed_form(sd.warps.linear(), sd.bases.laguerre(4)) is None
    with pytest.raises(sd.DerivationError):
        sd.derive(sd.warps.linear(), sd.bases.laguerre(4)).A_gen
    assert closed_form(sd.warps.custom("1/(1 - x)"), sd.bases.legendre(3)) is None
    assert closed_form(sd.warps.exponential(), sd.bases.custom(["1", "z"])) is None


def test_wrong_formula_fails_and_reports_the_mismatch():
    good = closed_form(sd.warps.exponential(), sd.bases.legendre(6), prove=False)
    s = sp.sqrt(2 * n + 1) * sp.sqrt(2 * k + 1)
    wrong = ClosedForm(sp.Piecewise((-s, n > k), (-(n + 2), sp.Eq(n, k)), (0, True)), good.B,
                       "LegS with -(n+2) on the diagonal (wrong)", False)
    report = check_closed_form(wrong, sd.derive(sd.warps.exponential(), sd.bases.legendre(6)))
    assert not report["ok"]
    assert report["mismatch_count"] == 6
    assert len(report["mismatches"]) == 5
    n0, k0, formula, derived = report["mismatches"][0]
    assert (n0, k0) == (0, 0) and formula == Exact.rational(-2) and derived == Exact.rational(-1)
    # a wrong B is reported with k = None
    wrong_b = ClosedForm(good.A, 2 * sp.sqrt(2 * n + 1), "wrong B", False)
    report = check_closed_form(wrong_b, sd.derive(sd.warps.exponential(), sd.bases.legendre(3)))
    assert not report["ok"] and report["mismatches"][0][:2] == (0, None)


def test_wrong_fourier_formula_fails():
    good = closed_form(sd.warps.linear(), sd.bases.fourier(7), prove=False)
    wrong = ClosedForm(good.A.subs(sp.pi, 2 * sp.pi), good.B, "FouT with doubled frequencies", False)
    report = check_closed_form(wrong, sd.derive(sd.warps.linear(), sd.bases.fourier(7)))
    assert not report["ok"] and report["mismatch_count"] == 6   # 3 modes x 2 couplings


def test_unevaluable_formula_is_reported_not_raised():
    bad = ClosedForm(sp.Piecewise((1 / (n - k), n > k), (1 / (n - k), True)), sp.S.Zero, "divides by 0", False)
    report = check_closed_form(bad, sd.derive(sd.warps.exponential(), sd.bases.legendre(2)))
    assert not report["ok"]
    assert any("ZeroDivisionError" in str(m[2]) for m in report["mismatches"])


@pytest.mark.parametrize("warp_name,basis_name,param", [
    ("exponential", "legendre", sp.sqrt(2)), ("linear", "legendre", 2), ("exponential", "laguerre", 3),
    ("linear", "fourier", sp.Rational(1, 2)), ("exponential", "fourier", 3)])
def test_evaluator_agrees_with_sympy_substitution(warp_name, basis_name, param):
    """Independent reference: SymPy's own subs (no evalf) then Exact.from_sympy."""
    cf = closed_form(make_warp(warp_name, param), getattr(sd.bases, basis_name)(4), prove=False)
    fA = compile_expression(cf.A)
    fB = compile_expression(cf.B, (n,))
    for i, j in [(0, 0), (1, 0), (0, 1), (1, 2), (2, 1), (3, 3), (4, 3), (3, 4), (5, 2), (2, 6), (7, 7), (8, 7)]:
        ref = Exact.from_sympy(cf.A.subs({n: i, k: j}))
        assert fA(i, j) == ref, (i, j)
        assert fB(i) == Exact.from_sympy(cf.B.subs(n, i))


def test_evaluator_nodes():
    x = sp.Symbol("x", integer=True)
    cases = [
        ((-1) ** (n + k) * sp.Rational(3, 4), {n: 2, k: 3}),
        (sp.sqrt(2 * n + 1) ** 3 / (k + 1), {n: 1, k: 2}),
        ((n + 1) ** sp.Rational(-1, 2), {n: 2, k: 0}),
        (sp.pi ** 2 * sp.Mod(n, 3) + sp.floor(n / sp.Integer(3)) - sp.ceiling(k / sp.Integer(2)), {n: 7, k: 5}),
        (sp.KroneckerDelta(n, k) * sp.sqrt(3), {n: 4, k: 4}),
        (sp.Piecewise((1, sp.Ne(n, k) & sp.Ge(n, 2)), (2, sp.Le(n, 1) | sp.Lt(k, 0)), (3, True)), {n: 1, k: 1}),
        (sp.Piecewise((1, sp.Ne(n, k) & sp.Ge(n, 2)), (2, sp.Le(n, 1) | sp.Lt(k, 0)), (3, True)), {n: 2, k: 2}),
    ]
    for expr, values in cases:
        f = compile_expression(expr)
        assert f(values[n], values[k]) == Exact.from_sympy(expr.subs(values)), expr
    with pytest.raises(ValueError):
        compile_expression(sp.exp(n))
    with pytest.raises(ValueError):
        compile_expression(n + x)


def test_format_closed_form():
    text = format_closed_form(closed_form(sd.warps.exponential(), sd.bases.legendre(3), prove=False))
    assert "HiPPO-LegS" in text and "A_gen[n, k] = {" in text and "B_gen[n] = sqrt(2*n + 1)" in text
    assert "-n - 1" in text and "otherwise" in text and "first matching case" in text
    text = format_closed_form(closed_form(sd.warps.linear(), sd.bases.fourier(3), prove=False))
    assert "m_n = ceiling(n/2)" in text and "2*pi*m_k" in text and "n odd" in text


def test_proved_flag_comes_from_the_proof():
    assert closed_form(sd.warps.exponential(), sd.bases.legendre(3)).proved_all_n is True
    assert closed_form(sd.warps.exponential(), sd.bases.legendre(3), prove=False).proved_all_n is False


@pytest.mark.slow
def test_legs_at_N_512():
    warp, basis = sd.warps.exponential(), sd.bases.legendre(512)
    cf = closed_form(warp, basis, prove=False)
    t0 = time.perf_counter()
    report = check_closed_form(cf, sd.derive(warp, basis))
    elapsed = time.perf_counter() - t0
    print(f"\nLegS N=512: {report['checked_entries']} entries in {elapsed:.2f} s: generator_exact "
          f"{report['derive_seconds']:.2f} s (including the model's exact derivation), formula evaluation and "
          f"comparison {report['evaluate_seconds']:.2f} s")
    assert report["ok"] and report["checked_entries"] == 512 * 512 + 512
