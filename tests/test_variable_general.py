"""Per-step kernels (``scan_variable``) of warps that are neither dilations nor translations, and of the
Fourier basis in a window, against per-step matrices computed here with mpmath.

The reference is written independently of symderive: the lag map ``lambda_Delta(z) = f(g(z) + Delta)`` and
the cutoff ``z_Delta = f(-Delta)`` are typed by hand for each warp, the basis is mpmath's Legendre
polynomial (or the Fourier modes), and every entry

    A_Delta[n, k] = integral_0^{z_Delta} p_n(z) p_k(lambda_Delta(z)) dz,   B_Delta[n] = integral_{z_Delta}^1 p_n(z) dz

is an ``mpmath.quad`` at 20 digits. The package's matrices are read off one step of ``scan_variable``
(``c0 = I`` with ``u = 0`` gives the columns of ``A``; ``c0 = 0`` with ``u = 1`` gives ``B``), with one Delta
shared by the channels (the tables path) and one per channel (the per-channel path). Warps: a rational
lag map (``1/(1 - x)``), an algebraic one on a finite window (``(1 + x/2)**2``, whose steps beyond the
window's length 2 replace it), a transcendental one (``tanh(x) + 1``), Fourier with the linear window
(an exact rotation), the log-Laguerre basis (``L_n(-log z)``) with the power law and ``tanh(x) + 1``, and
a custom cosine basis (no polynomial form: its functions are printed into the kernel) with the power law.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

from symderive.codegen.export import export, import_package
from symderive.codegen.printer import UnprintableExpression, print_function
from symderive.inputs.specs import parse_basis, parse_warp
from symderive.symbols import DELTA, Z

TOL = 1e-12
N = 5
mp.mp.dps = 20


def _legendre(n, z):
    return mp.sqrt(2 * n + 1) * mp.legendre(n, 2 * z - 1)


def _log_laguerre(n, z):
    return mp.laguerre(n, 0, -mp.log(z))


def _cosine(n, z):
    """1, sqrt2 cos(pi z), sqrt2 cos(2 pi z), ...: the orthonormalized functions=1;cos(pi*z);... basis."""
    return mp.mpf(1) if n == 0 else mp.sqrt(2) * mp.cos(n * mp.pi * z)


def _fourier(n, z):
    """1, sqrt2 cos 2 pi z, sqrt2 sin 2 pi z, sqrt2 cos 4 pi z, ... (the fourier basis's order)."""
    if n == 0:
        return mp.mpf(1)
    m = (n + 1) // 2
    return mp.sqrt(2) * (mp.cos if n % 2 == 1 else mp.sin)(2 * mp.pi * m * z)


# name -> (warp SPEC, basis SPEC, basis function, lag map lambda(z, d), cutoff z_d, finite window or None,
#          steps checked)
ALL_STEPS = (0.003, 0.8, 2.6)
CASES = {
    "power": ("f=1/(1-x)", "legendre", _legendre, lambda z, d: z / (1 - d * z), lambda d: 1 / (1 + d), None,
              ALL_STEPS),
    "curved_window": ("f=(1+x/2)**2", "legendre", _legendre, lambda z, d: (mp.sqrt(z) + d / 2) ** 2,
                      lambda d: (1 - d / 2) ** 2, 2, ALL_STEPS),
    "tanh": ("f=tanh(x)+1", "legendre", _legendre, lambda z, d: mp.tanh(mp.atanh(z - 1) + d) + 1,
             lambda d: 1 - mp.tanh(d), None, ALL_STEPS),
    "fourier_window": ("linear:window=1", "fourier", _fourier, lambda z, d: z + d, lambda d: 1 - d, 1, ALL_STEPS),
    # bases in y = -log z: Gauss-Laguerre in y (the power law converges for steps up to DELTA_MAX ~ 0.3)
    "power_laguerre": ("f=1/(1-x)", "laguerre", _log_laguerre, lambda z, d: z / (1 - d * z), lambda d: 1 / (1 + d),
                       None, (0.003, 0.3)),
    # a custom basis with no polynomial form: its functions are printed into the kernel (basis kind "printed")
    "power_cosine": ("f=1/(1-x)", "functions=" + ";".join(["1"] + [f"cos({n}*pi*z)" for n in range(1, N)]), _cosine,
                     lambda z, d: z / (1 - d * z), lambda d: 1 / (1 + d), None, (0.07, 2.6)),
    "tanh_laguerre": ("f=tanh(x)+1", "laguerre", _log_laguerre, lambda z, d: mp.tanh(mp.atanh(z - 1) + d) + 1,
                      lambda d: 1 - mp.tanh(d), None, (0.003, 0.8)),
}


def reference_pair(case, delta):
    """``(A_Delta, B_Delta)`` by mpmath quadrature (module docstring); a step beyond a finite window
    replaces the whole window: ``A = 0``, ``B = integral_0^1 p_n``."""
    _, _, p, lam, cutoff, window, _ = CASES[case]
    d = mp.mpf(delta)
    zc = mp.mpf(0) if window is not None and d >= window else cutoff(d)
    A = np.zeros((N, N))
    for n in range(N):
        for k in range(N):
            if zc > 0:
                A[n, k] = float(mp.quad(lambda z: p(n, z) * p(k, lam(z, d)), [0, zc]))
    B = np.array([float(mp.quad(lambda z: p(n, z), [zc, 1])) for n in range(N)])
    return A, B


WARPS = {}     # warp SPEC -> the parsed warp the packages were exported from (its geometry is cached)


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    out = tmp_path_factory.mktemp("variable_general")
    found = {}
    for case, (warp, basis, *_rest) in CASES.items():
        name = f"vg_{case}"
        parsed = WARPS.setdefault(warp, parse_warp(warp))
        export(parsed, parse_basis(basis, N), "1/100", name, out)
        found[case] = import_package(out, name)
    return found


def kernel_pair(pkg, delta, per_channel):
    N = pkg.N
    steps = np.full((1, N), delta) if per_channel else np.array([delta])
    A = pkg.scan_variable(np.zeros((1, N)), steps, c0=np.eye(N))[0].T
    B = pkg.scan_variable(np.ones(1), np.array([delta]))[0]
    return A, B


@pytest.mark.parametrize("case", sorted(CASES))
def test_per_step_matrices_match_mpmath(packages, case):
    pkg = packages[case]
    expected_kind = "rotation" if case == "fourier_window" else "general"
    assert pkg.METADATA["variable_kind"] == expected_kind
    if case == "power_cosine":
        assert pkg.METADATA["basis_kind"] == "printed"
    worst = 0.0
    for delta in CASES[case][-1]:
        A_ref, B_ref = reference_pair(case, delta)
        for per_channel in (False, True):
            A, B = kernel_pair(pkg, delta, per_channel)
            error = max(np.max(np.abs(A - A_ref)), np.max(np.abs(B - B_ref)))
            assert error < TOL, f"{case} Delta={delta} per_channel={per_channel}: {error:.2e}"
            worst = max(worst, error)
    print(f"\n    {case}: largest |kernel - mpmath| over Delta in {CASES[case][-1]}: {worst:.1e}")


def test_a_long_scan_matches_the_reference_recurrence(packages):
    """Many steps of varying Delta: the states equal the recurrence with the mpmath matrices."""
    pkg = packages["power"]
    rng = np.random.default_rng(7)
    steps = np.array([0.003, 0.07, 0.8] * 4)
    u = rng.standard_normal(steps.size)
    pairs = {d: reference_pair("power", d) for d in set(steps)}
    c = np.zeros(N)
    for d, x in zip(steps, u):
        A, B = pairs[d]
        c = A @ c + B * x
    assert np.max(np.abs(pkg.scan_variable(u, steps)[-1] - c)) < TOL


def test_steps_beyond_the_verified_range_are_refused(packages):
    pkg = packages["power"]
    assert pkg._checks.DELTA_MAX == pytest.approx(10.0)      # 1000 x DELTA: an infinite support
    with pytest.raises(ValueError, match="DELTA_MAX"):
        pkg.scan_variable(np.ones(3), np.array([0.1, 20.0, 0.1]))
    # a finite window is verified up to its length; longer steps are clamped, not refused
    assert packages["curved_window"]._checks.DELTA_MAX == np.inf
    assert np.all(np.isfinite(packages["curved_window"].scan_variable(np.ones(2), np.array([5.0, 0.1]))))


def test_the_printer_prints_what_sympy_evaluates(packages):
    import sympy as sp
    for warp_spec in ("f=1/(1-x)", "f=(1+x/2)**2", "f=tanh(x)+1"):
        geometry = WARPS[warp_spec].geometry
        printed = print_function("_lag_map", geometry.lag_map, (Z, DELTA))
        namespace = {"math": __import__("math")}
        lines = [f"def _lag_map(z, Delta):"] + [f"    {t} = {v}" for t, v in printed.assignments]
        exec("\n".join(lines + [f"    return {printed.result}"]), namespace)   # printed code of a parsed warp
        for z, d in ((0.3, 0.01), (0.05, 0.5), (0.9, 0.2)):
            expected = float(geometry.lag_map.subs({Z: sp.Rational(str(z)), DELTA: sp.Rational(str(d))}).evalf(30))
            assert namespace["_lag_map"](z, d) == pytest.approx(expected, rel=1e-13, abs=1e-15), (warp_spec, z, d)


def test_the_printer_refuses_instead_of_printing_part():
    import sympy as sp
    for expr in (sp.Piecewise((Z, Z > 0), (0, True)), sp.besselj(0, Z), sp.Min(Z, DELTA), Z + sp.Symbol("w"),
                 sp.Integral(Z, (Z, 0, 1)), sp.zoo * Z):
        with pytest.raises(UnprintableExpression):
            print_function("_f", expr, (Z, DELTA))


def test_a_weighted_basis_carries_its_weight(tmp_path):
    """A custom basis orthonormal for the weight 1/sqrt(z) (Python API): the general kernel multiplies
    both integrands by the printed weight, and the substitution z = z_Delta u**2 (from the weight's
    sqrt) keeps the rule exact. Reference: mpmath in t = sqrt(z), where dz / sqrt(z) = 2 dt."""
    import sympy as sp

    import symderive as sd
    basis = sd.bases.custom(["1", "z", "z**2"], weight="1/sqrt(z)")
    export(WARPS.setdefault("f=1/(1-x)", parse_warp("f=1/(1-x)")), basis, "1/100", "vg_weighted", tmp_path)
    pkg = import_package(tmp_path, "vg_weighted")
    assert pkg.METADATA["variable_kind"] == "general" and pkg.METADATA["basis_kind"] == "printed"
    # the orthonormal functions, typed here: shifted Jacobi-type polynomials for the weight 1/sqrt(z)
    p = [lambda z: mp.sqrt(2) / 2, lambda z: mp.sqrt(10) * (3 * z - 1) / 4,
         lambda z: 3 * mp.sqrt(2) * (35 * z**2 - 30 * z + 3) / 16]
    assert [sp.simplify(f - g) for f, g in zip(basis.functions, (
        sp.sqrt(2) / 2, sp.sqrt(10) * (3 * sp.Symbol("z", real=True) - 1) / 4,
        3 * sp.sqrt(2) * (35 * sp.Symbol("z", real=True) ** 2 - 30 * sp.Symbol("z", real=True) + 3) / 16))] == [0] * 3
    for d in (0.05, 0.9):
        A = pkg.scan_variable(np.zeros((1, 3)), np.array([d]), c0=np.eye(3))[0].T
        B = pkg.scan_variable(np.ones(1), np.array([d]))[0]
        zc = 1 / (1 + mp.mpf(d))
        lam = lambda z: z / (1 - d * z)  # noqa: E731
        A_ref = np.array([[float(mp.quad(lambda t: 2 * p[n](t * t) * p[k](lam(t * t)), [0, mp.sqrt(zc)]))
                           for k in range(3)] for n in range(3)])
        B_ref = np.array([float(mp.quad(lambda t: 2 * p[n](t * t), [mp.sqrt(zc), 1])) for n in range(3)])
        assert max(np.max(np.abs(A - A_ref)), np.max(np.abs(B - B_ref))) < TOL, d


def test_steps_below_the_verified_range_are_refused(packages):
    pkg = packages["power"]
    assert pkg._checks.DELTA_MIN == pytest.approx(1e-11)      # 1e-9 x DELTA: the grid's lower end
    with pytest.raises(ValueError, match="DELTA_MIN"):
        pkg.scan_variable(np.ones(2), np.array([0.1, 1e-13]))


def test_a_step_at_the_end_of_a_window_is_clamped_exactly(tmp_path):
    """f = (1 + 25x/7)^(3/2) ends at x = -7/25, where the printed cutoff's base 7 - 25 Delta rounds to a
    tiny negative number (a NaN power); the kernel returns z_Delta = 0 there without evaluating it, so a
    step of the window or longer replaces the whole history: A = 0, B = integral_0^1 p_n = e_0."""
    export(parse_warp("f=(1+25*x/7)**(3/2)"), parse_basis("legendre", 4), "1/100", "vg_clamp", tmp_path)
    pkg = import_package(tmp_path, "vg_clamp")
    assert pkg._checks.DELTA_MAX == np.inf
    for d in (0.28, 5.0):
        A, B = kernel_pair(pkg, d, per_channel=False)
        assert np.all(np.isfinite(A)) and np.max(np.abs(A)) < 1e-15 and np.max(np.abs(B - np.eye(4)[0])) < 1e-15
    assert np.isfinite(pkg.history(np.eye(4)[1], [0.28])).all()
