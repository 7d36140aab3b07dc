"""The numeric quadrature route for warps that are neither dilations nor translations, and the exact
algebraic route, against the independent mpmath reference of ``tests/reference.py``.

Warps (lag maps, cutoffs and velocities derived by hand below, never taken from symderive):
- rational ``f = 1/(1 - x)``, infinite support;
- algebraic finite window ``f = (1 + x/2)^2`` on ``[-2, 0]`` (square roots of z in the lag map);
- transcendental ``f = tanh(x) + 1``, infinite support;
each with the Legendre, Fourier and log-Laguerre bases.
"""

from __future__ import annotations

import random

import mpmath
import numpy as np
import pytest
import sympy as sp

import symderive as sd
from symderive.derivation import quadrature

import reference as ref  # tests/reference.py (tests/ is on sys.path: conftest.py)

mpf = mpmath.mpf
RTOL = 1e-13
DELTA = "1/10"


def _inv(d):
    # f = 1/(1 - x), g = 1 - 1/z: lam(z) = 1/(1/z - d) = z/(1 - d z), z_d = f(-d) = 1/(1 + d); v = f'(g) = z^2
    return (lambda z: z / (1 - d * z)), 1 / (1 + d), (lambda z: z**2)


def _window(d):
    # f = (1 + x/2)^2, g = 2 (sqrt z - 1): lam(z) = (sqrt z + d/2)^2, z_d = (1 - d/2)^2; v = 1 + g/2 = sqrt z
    return (lambda z: (mpmath.sqrt(z) + d / 2) ** 2), (1 - d / 2) ** 2, mpmath.sqrt


def _tanh(d):
    # f = tanh(x) + 1, g = atanh(z - 1) = log(z / (2 - z)) / 2. With tanh(u) + 1 = 2 e^(2u) / (1 + e^(2u)) and
    # e^(2 g(z)) = z / (2 - z): lam(z) = f(g(z) + d) = 2 z e^(2d) / (2 - z + z e^(2d)), written without the
    # cancellation of tanh(u) + 1 near u = -oo (z -> 0); z_d = 1 - tanh(d); v = f'(g) = 1 - (z - 1)^2
    # = z (2 - z), again written without cancellation at z -> 0
    q = mpmath.exp(2 * d)
    return (lambda z: 2 * z * q / (2 - z + z * q)), 1 - mpmath.tanh(d), (lambda z: z * (2 - z))


def laguerre_ref(N):
    """Log-Laguerre ``p_n(z) = L_n(-log z)`` and ``p_n'(z) = sum_{j<n} L_j(-log z) / z``, all ``n`` from one
    three-term recurrence per point, remembered per point: mpmath.quad asks every entry for the same
    nodes, so the N^2 entries share the evaluations (plain mpmath; the same formulas as ref.laguerre)."""
    memo = {}

    def values(z):
        key = (z, mpmath.mp.prec)
        if key not in memo:
            y = -mpmath.log(z)
            L = [mpf(1), 1 - y]
            for n in range(1, N - 1):
                L.append(((2 * n + 1 - y) * L[n] - n * L[n - 1]) / (n + 1))
            partial = [mpf(0)]
            for n in range(1, N):
                partial.append(partial[-1] + L[n - 1])
            memo[key] = (L[:N], [x / z for x in partial])
        return memo[key]

    return ([lambda z, n=n: values(z)[0][n] for n in range(N)],
            [lambda z, n=n: values(z)[1][n] for n in range(N)])


# (the tanh warp comes with its inverse: SymPy's solve for it takes seconds, and the inverse is checked)
WARPS = {"inv": ("1/(1 - x)", None, _inv), "window": ("(1 + x/2)**2", None, _window),
         "tanh": ("tanh(x) + 1", "atanh(z - 1)", _tanh)}
BASES = {"legendre": (sd.bases.legendre, ref.legendre), "fourier": (sd.bases.fourier, ref.fourier),
         "laguerre": (sd.bases.laguerre, laguerre_ref)}
_WARP_OBJECTS = {}


def warp(name):
    if name not in _WARP_OBJECTS:
        _WARP_OBJECTS[name] = sd.warps.custom(WARPS[name][0], inverse=WARPS[name][1])
    return _WARP_OBJECTS[name]


def entries(N, sample):
    """All entries (``sample`` None) or the corners, the diagonal ends and ``sample`` random ones."""
    if sample is None:
        return [(n, k) for n in range(N) for k in range(N)]
    rng = random.Random(N * 7919 + sample)
    chosen = {(0, 0), (0, N - 1), (N - 1, 0), (N - 1, N - 1), (N // 2, N // 2)}
    while len(chosen) < sample:
        chosen.add((rng.randrange(N), rng.randrange(N)))
    return sorted(chosen)


def check(got, ref_entry, where, what):
    """``|got - ref| <= RTOL * max(1, max |ref|)`` over the checked entries."""
    refs = {nk: ref_entry(*nk) for nk in where}
    scale = max([mpf(1)] + [abs(v) for v in refs.values()])
    worst, at = max(((abs(mpf(float(got[n, k])) - v), (n, k)) for (n, k), v in refs.items()), key=lambda t: t[0])
    assert worst <= RTOL * scale, f"{what}: error {mpmath.nstr(worst, 3)} at {at} (scale {mpmath.nstr(scale, 3)})"


def quad(basis_name, fn, a, b, dps=None):
    """``integral_a^b fn(z) dz`` by mpmath: for log-Laguerre in ``y = -log z`` (``dz = e^-y dy``) on 20
    pieces and a tail, since its functions oscillate ever faster towards z = 0; else ``ref.quad``."""
    dps = dps or mpmath.mp.dps
    if basis_name != "laguerre":
        return ref.quad(fn, a, b, dps)
    with mpmath.workdps(dps):
        lo = -mpmath.log(b)
        hi = mpmath.inf if a == 0 else -mpmath.log(a)
        top = min(hi, lo + 200)
        nodes = list(mpmath.linspace(lo, top, 21)) + ([hi] if hi > top else [])
        return mpmath.quad(lambda y: fn(mpmath.exp(-y)) * mpmath.exp(-y), nodes)


CASES = [(w, b) for w in WARPS for b in BASES]


@pytest.mark.parametrize("N, sample", [(6, None), (32, 8)], ids=["N6-all", "N32-sampled"])
@pytest.mark.parametrize("warp_name, basis_name", CASES, ids=[f"{w}-{b}" for w, b in CASES])
def test_lag_matrices_against_mpmath(warp_name, basis_name, N, sample):
    m = sd.derive(warp(warp_name), BASES[basis_name][0](N))
    A, B = pair = m.numeric(DELTA)
    assert pair.route == "numeric-quadrature" and A.dtype == np.float64
    assert 0 <= pair.error_estimate < 2.0 ** -60
    with mpmath.workdps(ref.DPS):
        p, _ = BASES[basis_name][1](N)
        lam, zcut, _ = WARPS[warp_name][2](mpf(1) / 10)
        where = entries(N, sample)
        check(A, lambda n, k: quad(basis_name, lambda z: p[n](z) * p[k](lam(z)), 0, zcut), where,
              f"A_Delta {warp_name} x {basis_name}")
        column = [(n, 0) for n in sorted({n for n, _ in where})]
        check(B[:, None], lambda n, _: quad(basis_name, p[n], zcut, 1), column, f"B_Delta {warp_name} x {basis_name}")


GEN_CASES = [c for c in CASES if c != ("window", "laguerre")]


@pytest.mark.parametrize("N, sample", [(6, None), (32, 8)], ids=["N6-all", "N32-sampled"])
@pytest.mark.parametrize("warp_name, basis_name", GEN_CASES, ids=[f"{w}-{b}" for w, b in GEN_CASES])
def test_generator_against_mpmath(warp_name, basis_name, N, sample):
    m = sd.derive(warp(warp_name), BASES[basis_name][0](N))
    A, B = m.numeric_generator()
    with mpmath.workdps(ref.DPS):
        p, dp = BASES[basis_name][1](N)
        _, _, v = WARPS[warp_name][2](mpf(1) / 10)
        one = mpf(1)
        check(A, lambda n, k: quad(basis_name, lambda z: p[n](z) * dp[k](z) * v(z), 0, 1) - v(one) * p[n](one) * p[k](one),
              entries(N, sample), f"A_gen {warp_name} x {basis_name}")
        check(B[:, None], lambda n, _: v(one) * p[n](one), [(n, 0) for n in range(N)], f"B_gen {warp_name} x {basis_name}")


def test_window_laguerre_generator_is_huge_but_checked():
    """The window's velocity sqrt(z) against p_k' ~ log(z)^k / z: entries grow like e^(2N), so the
    normwise check runs at N = 6 on the reference at 40 digits."""
    N = 6
    A, _ = sd.derive(warp("window"), sd.bases.laguerre(N)).numeric_generator()
    with mpmath.workdps(40):
        p, dp = laguerre_ref(N)
        one = mpf(1)
        check(A, lambda n, k: quad("laguerre", lambda z: p[n](z) * dp[k](z) * mpmath.sqrt(z), 0, 1)
              - p[n](one) * p[k](one), entries(N, None), "A_gen window x laguerre")


def test_zero_entry_is_not_a_failure():
    """tanh(x) + 1 has v = 2z - z^2, so A_gen[0, 2] = -sqrt5 + integral p_0 p_2' v = 0 exactly (the
    mpmath-quad route used to fail on it). The quadrature route (called directly: with the inverse
    given, the model finds the exact route) returns it at rounding level and agrees with the exact
    generator everywhere."""
    N = 32
    out = quadrature.generator(warp("tanh"), sd.bases.legendre(N))
    exact_A = sd.derive(warp("tanh"), sd.bases.legendre(N)).numeric_generator().A
    assert exact_A[0, 2] == 0.0
    got = np.array([[float(out.A[n, k].mid()) for k in range(N)] for n in range(N)])
    assert abs(got[0, 2]) < 1e-30
    assert abs(got[1, 2]) > 0.1   # a nonzero neighbour, for contrast
    assert np.max(np.abs(got - exact_A)) <= 1e-14 * np.max(np.abs(exact_A))


def test_divergent_integral_is_refused_not_returned():
    """linear window x log-Laguerre: p_1' = 1/z is not integrable at 0, so no rule pair agrees."""
    with pytest.raises(sd.DerivationError, match="did not converge"):
        sd.derive(sd.warps.linear(), sd.bases.laguerre(2)).numeric_generator()


def test_high_precision_output():
    """dtype='mpmath' at 50 digits: the two rules agree to the target, checked at 60 digits."""
    N = 4
    A, _ = sd.derive(warp("inv"), sd.bases.legendre(N)).numeric(DELTA, dtype="mpmath", dps=50)
    with mpmath.workdps(60):
        p, _ = ref.legendre(N)
        lam, zcut, _ = _inv(mpf(1) / 10)
        for n in range(N):
            for k in range(N):
                want = ref.quad(lambda z: p[n](z) * p[k](lam(z)), 0, zcut, dps=60)
                assert abs(A[n, k] - want) < mpf(10) ** -48


# ---------------------------------------------------------------------- the exact algebraic route

def _exact_value(x, digits=50):
    return mpmath.mpf(str(sp.N(x, digits + 10, maxn=100_000)))


@pytest.mark.parametrize("warp_name, delta", [("inv", sp.Rational(1, 10)), ("inv", sp.Rational(3, 2)),
                                              ("window", sp.Rational(1, 10))])
def test_algebraic_route_entry_by_entry_at_50_digits(warp_name, delta):
    """Rational (Moebius) and algebraic (t = sqrt z) lag maps: exact entries by partial fractions, each
    checked against mpmath quadrature at 50 digits."""
    N = 5
    m = sd.derive(warp(warp_name), sd.bases.legendre(N))
    A, B = pair = m.lag(delta)
    assert pair.route == "exact-algebraic"
    assert all(x.is_real is not False and not x.has(sp.Float) for x in A)
    if warp_name == "inv":
        assert any(x.has(sp.log) for x in A)   # the Moebius map brings log(u1/u0)
    with mpmath.workdps(55):
        p, _ = ref.legendre(N)
        lam, zcut, _ = WARPS[warp_name][2](mpf(delta.p) / delta.q)
        for n in range(N):
            want_b = ref.quad(p[n], zcut, 1, dps=55)
            assert abs(_exact_value(B[n, 0]) - want_b) < mpf(10) ** -48
            for k in range(N):
                want = ref.quad(lambda z: p[n](z) * p[k](lam(z)), 0, zcut, dps=55)
                assert abs(_exact_value(A[n, k]) - want) < mpf(10) ** -48, (n, k)


def test_algebraic_generator_of_a_window():
    """(1 + x/2)^2 has v = sqrt z: with z = t^2 the generator is rational, checked at 40 digits."""
    N = 4
    m = sd.derive(warp("window"), sd.bases.legendre(N))
    assert m.generator_route == "exact-algebraic"
    with mpmath.workdps(45):
        p, dp = ref.legendre(N)
        for n in range(N):
            for k in range(N):
                want = ref.quad(lambda z: p[n](z) * dp[k](z) * mpmath.sqrt(z), 0, 1, dps=45) - p[n](1) * p[k](1)
                assert abs(_exact_value(m.A_gen[n, k], 40) - want) < mpf(10) ** -38


def test_algebraic_and_numeric_routes_agree():
    """Two independent routes for the same matrices: rationals and logs vs quadrature, N = 24."""
    m = sd.derive(warp("inv"), sd.bases.legendre(24))
    exact_A = m.lag("1/100").A
    numeric_A = m.numeric("1/100", dtype="mpmath", dps=40).A
    with mpmath.workdps(45):
        worst = max(abs(_exact_value(exact_A[n, k], 45) - numeric_A[n, k]) for n in range(24) for k in range(24))
    assert worst < mpf(10) ** -36


def test_no_exact_route_says_why_and_gives_numbers():
    m = sd.derive(warp("tanh"), sd.bases.legendre(3))
    with sd.budget(2):
        pair = m.lag(sp.Rational(1, 10))
    if pair.route == "numeric-quadrature":   # no algebraic form; symbolic integration may or may not finish
        assert pair.note.startswith("no exact route")
        assert "not a rational" in pair.note or "budget" in pair.note
        assert all(isinstance(x, sp.Float) for x in pair.A)
    else:
        assert pair.route == "symbolic-integration"


def test_a_basis_function_with_a_zero_at_a_node():
    """``cos(pi z)`` is exactly 0 at ``z = 1/2``, the middle node of every odd Gauss-Legendre rule on
    [0, 1]: such a value has no relative accuracy, only an absolute one. The route used to refuse it
    ("cannot be evaluated to 62 bits at z = 0.5"); now the matrices match mpmath."""
    from symderive.inputs.specs import parse_basis

    basis = parse_basis("functions=1;cos(pi*z);cos(2*pi*z)", 3)
    A, B = sd.derive(warp("inv"), basis).numeric(DELTA)
    d = mpf(1) / 10
    p = [lambda z: mpf(1)] + [lambda z, m=m: mpmath.sqrt(2) * mpmath.cos(m * mpmath.pi * z) for m in (1, 2)]
    with mpmath.workdps(30):
        lam, zcut, _ = _inv(d)
        for n in range(3):
            assert abs(B[n] - mpmath.quad(p[n], [zcut, 1])) < 1e-14
            for k in range(3):
                assert abs(A[n, k] - mpmath.quad(lambda z: p[n](z) * p[k](lam(z)), [0, zcut])) < 1e-14
