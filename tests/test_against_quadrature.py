"""symderive against an independent reference: mpmath quadrature of the formulas of docs/math.md, sections 2-3.

The reference (``tests/reference.py``) writes basis functions, their derivatives and the warps'
velocities / lag maps directly in mpmath; the velocities, lag maps and cutoffs of every case below are
derived by hand from the warp ``f`` (written out next to each case), never taken from symderive.

Checked per case:
- ``numeric_generator()`` and ``numeric(delta)`` (float64) entrywise to ``1e-12 * max(1, max|ref|)``;
- the exact SymPy results ``A_gen``, ``B_gen``, ``lag(delta)`` evaluated with ``evalf(30)`` to
  ``1e-20 * max(1, max|ref|)`` (exactness, not only rounding);
- the route each result took (exact linear algebra where the basis is polynomial and the lag map affine).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import mpmath
import numpy as np
import pytest
import sympy

import symderive as sd
from symderive.errors import DerivationError

import reference as ref  # tests/reference.py (tests/ is on sys.path: conftest.py)

EXACT = "exact-linear-algebra"
SYMBOLIC = "symbolic-integration"
ALGEBRAIC = "exact-algebraic"
QUADRATURE = "numeric-quadrature"
NUMERIC_RTOL = 1e-12
EXACT_RTOL = 1e-20
mpf = mpmath.mpf


# ---------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One warp x basis.

    ``velocity``: ``v(z) = f'(g(z))`` (None: no generator test); ``lag(delta, t)``: ``(lam, z_Delta)``;
    ``steps``: ``(delta, t)`` pairs (``t`` None for stationary warps); ``exact``: the exact route is
    required for the generator and the lag matrices.
    """

    id: str
    warp: object
    basis: object
    ref_basis: object
    velocity: object
    lag: object
    steps: tuple
    exact: bool = False
    lag_kind: str | None = field(default=None)


def _exp_lag(rate):
    # f = exp(rate x), g = log(z)/rate: lam(z) = f(g(z) + d) = z exp(rate d), z_d = f(-d) = exp(-rate d).
    def lag(d, t):
        q = mpmath.exp(-rate * d)
        return (lambda z: z / q), q
    return lag


def _exp_velocity(rate):
    # v(z) = f'(g(z)) = rate exp(rate g(z)) = rate z.
    return lambda z: rate * z


def _linear_lag(window):
    # f = 1 + x/theta, g = theta (z - 1): lam(z) = z + d/theta, z_d = 1 - d/theta.
    def lag(d, t):
        return (lambda z: z + d / window), 1 - d / window
    return lag


def _linear_velocity(window):
    # v(z) = f'(g(z)) = 1/theta.
    return lambda z: mpf(1) / window


def _scale_lag(d, t):
    # sigma_t(s) = s/t: a point with new coordinate z = s/(t+d) had old coordinate s/t = z (t+d)/t;
    # it exists in the old frame for z <= t/(t+d).
    return (lambda z: z * (t + d) / t), t / (t + d)


def _scale_velocity(z):
    # A_gen is reported at t = 1: v(z) = z / t = z.
    return z


def _inv_lag(d, t):
    # f = 1/(1 - x), g = 1 - 1/z: lam(z) = 1/(1 - (1 - 1/z + d)) = z/(1 - d z), z_d = f(-d) = 1/(1 + d).
    return (lambda z: z / (1 - d * z)), 1 / (1 + d)


def _inv_velocity(z):
    # f'(x) = 1/(1 - x)^2, 1 - g(z) = 1/z: v(z) = z^2.
    return z**2


def _sq_lag(d, t):
    # f = (1 + x/2)^2 on [-2, 0], g = 2 (sqrt z - 1): lam(z) = (1 + sqrt z - 1 + d/2)^2 = (sqrt z + d/2)^2,
    # z_d = f(-d) = (1 - d/2)^2.
    return (lambda z: (mpmath.sqrt(z) + d / 2) ** 2), (1 - d / 2) ** 2


def _sq_velocity(z):
    # f'(x) = 1 + x/2, 1 + g(z)/2 = sqrt z: v(z) = sqrt z.
    return mpmath.sqrt(z)


def _poly_custom_ref():
    # 1, z^2, z^3 and their derivatives 0, 2z, 3z^2.
    funcs = [lambda z: mpf(1), lambda z: z**2, lambda z: z**3]
    dfuncs = [lambda z: mpf(0), lambda z: 2 * z, lambda z: 3 * z**2]
    p, dp, _ = ref.gram_schmidt(funcs, dfuncs, dps=max(ref.DPS, mpmath.mp.dps))
    return p, dp


def _exp_custom_ref():
    # 1, exp(z), z and their derivatives 0, exp(z), 1.
    funcs = [lambda z: mpf(1), mpmath.exp, lambda z: z]
    dfuncs = [lambda z: mpf(0), mpmath.exp, lambda z: mpf(1)]
    p, dp, _ = ref.gram_schmidt(funcs, dfuncs, dps=max(ref.DPS, mpmath.mp.dps))
    return p, dp


POLY_CUSTOM = ["1", "z**2", "z**3"]
EXP_CUSTOM = ["1", "exp(z)", "z"]

CASES = [
    Case("exp-legendre5", lambda: sd.warps.exponential(), lambda: sd.bases.legendre(5),
         lambda: ref.legendre(5), _exp_velocity(1), _exp_lag(1), ((0.5, None), (1.0, None)),
         exact=True, lag_kind="dilation"),
    Case("exp2-legendre4", lambda: sd.warps.exponential(rate=2), lambda: sd.bases.legendre(4),
         lambda: ref.legendre(4), _exp_velocity(2), _exp_lag(2), ((0.25, None),),
         exact=True, lag_kind="dilation"),
    Case("exp-fourier5", lambda: sd.warps.exponential(), lambda: sd.bases.fourier(5),
         lambda: ref.fourier(5), _exp_velocity(1), _exp_lag(1), ((0.5, None),)),
    Case("exp-laguerre4", lambda: sd.warps.exponential(), lambda: sd.bases.laguerre(4),
         lambda: ref.laguerre(4), _exp_velocity(1), _exp_lag(1), ((0.5, None), (1.0, None)),
         exact=True, lag_kind="neglog-translation"),
    Case("linear-legendre5", lambda: sd.warps.linear(), lambda: sd.bases.legendre(5),
         lambda: ref.legendre(5), _linear_velocity(1), _linear_lag(1), ((0.25, None), (0.5, None)),
         exact=True, lag_kind="translation"),
    Case("linear2-legendre4", lambda: sd.warps.linear(window=2), lambda: sd.bases.legendre(4),
         lambda: ref.legendre(4), _linear_velocity(2), _linear_lag(2), ((0.5, None), (1.5, None)),
         exact=True, lag_kind="translation"),
    Case("linear-fourier5", lambda: sd.warps.linear(), lambda: sd.bases.fourier(5),
         lambda: ref.fourier(5), _linear_velocity(1), _linear_lag(1), ((0.25, None),)),
    Case("linear-laguerre3", lambda: sd.warps.linear(), lambda: sd.bases.laguerre(3),
         lambda: ref.laguerre(3), None, _linear_lag(1), ((0.5, None),)),  # no generator: it diverges
    Case("scale-legendre5", lambda: sd.warps.scale(), lambda: sd.bases.legendre(5),
         lambda: ref.legendre(5), _scale_velocity, _scale_lag, ((1.0, 3.0), (0.5, 2.5)),
         exact=True, lag_kind="dilation"),
    Case("inv1mx-legendre3", lambda: sd.warps.custom("1/(1 - x)"), lambda: sd.bases.legendre(3),
         lambda: ref.legendre(3), _inv_velocity, _inv_lag, ((0.5, None),)),
    Case("sqwindow-legendre4", lambda: sd.warps.custom("(1 + x/2)**2"), lambda: sd.bases.legendre(4),
         lambda: ref.legendre(4), _sq_velocity, _sq_lag, ((0.5, None),)),
    Case("exp3x-legendre4", lambda: sd.warps.custom("exp(3*x)"), lambda: sd.bases.legendre(4),
         lambda: ref.legendre(4), _exp_velocity(3), _exp_lag(3), ((0.5, None),),
         exact=True, lag_kind="dilation"),
    Case("exp-custompoly3", lambda: sd.warps.exponential(), lambda: sd.bases.custom(POLY_CUSTOM),
         _poly_custom_ref, _exp_velocity(1), _exp_lag(1), ((0.5, None),),
         exact=True, lag_kind="dilation"),
    Case("exp-customexp3", lambda: sd.warps.exponential(), lambda: sd.bases.custom(EXP_CUSTOM),
         _exp_custom_ref, _exp_velocity(1), _exp_lag(1), ((1.0, None),)),  # SymPy is slowest here
]
CASE_BY_ID = {c.id: c for c in CASES}
GEN_CASES = [c for c in CASES if c.velocity is not None]
STEP_PARAMS = [pytest.param(c.id, d, t, id=f"{c.id}-d{d:g}" + (f"-t{t:g}" if t is not None else ""))
               for c in CASES for d, t in c.steps]


# ---------------------------------------------------------------------- cached work


@functools.cache
def model(case_id):
    c = CASE_BY_ID[case_id]
    return sd.derive(c.warp(), c.basis())


@functools.cache
def ref_basis(case_id):
    return CASE_BY_ID[case_id].ref_basis()


@functools.cache
def ref_generator(case_id):
    c = CASE_BY_ID[case_id]
    p, dp = ref_basis(case_id)
    return ref.ref_generator(p, dp, c.velocity, len(p))


@functools.cache
def ref_lag(case_id, delta, t):
    c = CASE_BY_ID[case_id]
    p, _ = ref_basis(case_id)
    with mpmath.workdps(ref.DPS):
        # symderive reads a float as the decimal it prints (0.001 -> 1/1000): do the same here
        lam, zcut = c.lag(mpf(repr(delta)), None if t is None else mpf(repr(t)))
        return ref.ref_lag(p, lam, zcut, len(p))


@functools.cache
def exact_lag(case_id, delta, t):
    """``model.lag(delta[, t=t])``, computed once (shared by the value and the route tests)."""
    m = model(case_id)
    return m.lag(delta) if t is None else m.lag(delta, t=t)


def numeric_lag(case_id, delta, t):
    m = model(case_id)
    return m.numeric(delta) if t is None else m.numeric(delta, t=t)


# ---------------------------------------------------------------------- comparison helpers


def _rows(M):
    """Rows of an mpmath matrix, a numpy array or a SymPy matrix (vectors as one column)."""
    if isinstance(M, mpmath.matrix):
        return [[M[i, j] for j in range(M.cols)] for i in range(M.rows)]
    if isinstance(M, np.ndarray):
        return [[x] for x in M] if M.ndim == 1 else [list(r) for r in M]
    return [[M[i, j] for j in range(M.shape[1])] for i in range(M.shape[0])]


def _exact_value(x):
    """A SymPy value evaluated with ``evalf(30)``, as an mpmath number (must be real)."""
    val = sympy.sympify(x).evalf(30)
    re, im = val.as_real_imag()
    with mpmath.workdps(40):
        im = mpmath.mpmathify(str(im))
        assert abs(im) < mpf(10) ** -25, f"entry {x} is not real: imaginary part {im}"
        return mpmath.mpmathify(str(re))


def assert_matches(got, want, rtol, what, convert=lambda x: x):
    """Entrywise ``|got - want| <= rtol * max(1, max |want|)``."""
    g, w = _rows(got), _rows(want)
    assert len(g) == len(w) and all(len(a) == len(b) for a, b in zip(g, w)), \
        f"{what}: shape {len(g)}x{len(g[0])} != reference {len(w)}x{len(w[0])}"
    with mpmath.workdps(40):
        scale = max([mpf(1)] + [abs(x) for row in w for x in row])
        worst, where = mpf(0), None
        for i, (ra, rb) in enumerate(zip(g, w)):
            for j, (a, b) in enumerate(zip(ra, rb)):
                err = abs(convert(a) - b)
                if err > worst:
                    worst, where = err, (i, j, a, b)
        tol = rtol * scale
        assert worst <= tol, (f"{what}: max error {mpmath.nstr(worst, 5)} > {mpmath.nstr(tol, 5)} at entry "
                              f"{where[:2]}: got {where[2]}, reference {mpmath.nstr(where[3], 25)}")


def _from_float(x):
    return mpf(float(x))


# ---------------------------------------------------------------------- tests: generator


@pytest.mark.parametrize("case_id", [c.id for c in GEN_CASES])
def test_numeric_generator(case_id):
    m = model(case_id)
    A, B = m.numeric_generator()
    assert A.dtype == np.float64 and B.dtype == np.float64
    Ar, Br = ref_generator(case_id)
    assert_matches(A, Ar, NUMERIC_RTOL, f"{case_id} A_gen (float64)", _from_float)
    assert_matches(B, Br, NUMERIC_RTOL, f"{case_id} B_gen (float64)", _from_float)


@pytest.mark.parametrize("case_id", [c.id for c in GEN_CASES])
def test_exact_generator(case_id):
    m = model(case_id)
    Ar, Br = ref_generator(case_id)
    assert_matches(m.A_gen, Ar, EXACT_RTOL, f"{case_id} A_gen (exact, evalf 30)", _exact_value)
    assert_matches(m.B_gen, Br, EXACT_RTOL, f"{case_id} B_gen (exact, evalf 30)", _exact_value)


def test_scale_generator_at_t():
    """The scale warp's generator at time t is A_gen / t: velocity z / t."""
    m = model("scale-legendre5")
    p, dp = ref_basis("scale-legendre5")
    t = sympy.Rational(5, 2)
    Ar, Br = ref.ref_generator(p, dp, lambda z: z / mpf(2.5), len(p))
    A, B = m.generator(t)
    assert_matches(A, Ar, EXACT_RTOL, "scale A_gen(t=5/2)", _exact_value)
    assert_matches(B, Br, EXACT_RTOL, "scale B_gen(t=5/2)", _exact_value)


# ---------------------------------------------------------------------- tests: lag matrices


@pytest.mark.parametrize("case_id, delta, t", STEP_PARAMS)
def test_numeric_lag(case_id, delta, t):
    res = numeric_lag(case_id, delta, t)
    A, B = res
    assert A.dtype == np.float64 and B.dtype == np.float64
    Ar, Br = ref_lag(case_id, delta, t)
    assert_matches(A, Ar, NUMERIC_RTOL, f"{case_id} A_Delta (float64, delta={delta}, t={t})", _from_float)
    assert_matches(B, Br, NUMERIC_RTOL, f"{case_id} B_Delta (float64, delta={delta}, t={t})", _from_float)
    if CASE_BY_ID[case_id].exact:
        assert res.route == EXACT


@pytest.mark.parametrize("case_id, delta, t", STEP_PARAMS)
def test_exact_lag(case_id, delta, t):
    res = exact_lag(case_id, delta, t)
    A, B = res
    Ar, Br = ref_lag(case_id, delta, t)
    assert_matches(A, Ar, EXACT_RTOL, f"{case_id} A_Delta (exact, evalf 30, delta={delta}, t={t})", _exact_value)
    assert_matches(B, Br, EXACT_RTOL, f"{case_id} B_Delta (exact, evalf 30, delta={delta}, t={t})", _exact_value)
    if CASE_BY_ID[case_id].exact:
        assert res.route == EXACT


# ---------------------------------------------------------------------- tests: routes


@pytest.mark.parametrize("case_id", [c.id for c in CASES])
def test_routes(case_id, record_property):
    """Exact linear algebra wherever the basis is polynomial and the lag map affine; record the rest."""
    c = CASE_BY_ID[case_id]
    m = model(case_id)
    delta, t = c.steps[0]
    if c.velocity is None:  # the generator does not exist (divergent integrals): it must say so
        with pytest.raises(DerivationError):
            m.generator_route
        gen_route = "none (DerivationError: diverges)"
    else:
        gen_route = m.generator_route
    lag_route = exact_lag(case_id, delta, t).route
    record_property("generator_route", gen_route)
    record_property("lag_route", lag_route)
    print(f"{case_id}: lag_kind={m.lag_kind} generator_route={gen_route} lag_route={lag_route}")
    assert c.velocity is None or gen_route in (EXACT, ALGEBRAIC, SYMBOLIC, QUADRATURE)
    assert lag_route in (EXACT, ALGEBRAIC, SYMBOLIC, QUADRATURE)
    assert m.lag_kind == c.lag_kind
    if c.exact:
        assert gen_route == EXACT
        assert lag_route == EXACT
        assert m.lag_route() == EXACT


def test_custom_exponential_is_detected_as_dilation():
    w = sd.warps.custom("exp(3*x)")
    assert w.structure == "dilation"
    assert sd.derive(w, sd.bases.legendre(4)).lag_kind == "dilation"


# ---------------------------------------------------------------------- tests: custom bases


@pytest.mark.parametrize("functions, make_ref", [
    pytest.param(POLY_CUSTOM, _poly_custom_ref, id="poly-1-z2-z3"),
    pytest.param(EXP_CUSTOM, _exp_custom_ref, id="nonpoly-1-expz-z"),
])
def test_custom_basis_orthonormal_and_matches_gram_schmidt(functions, make_ref):
    basis = sd.bases.custom(functions)
    z = sympy.Symbol("z")
    exprs = basis.functions
    free = set().union(*(e.free_symbols for e in exprs))
    assert len(free) <= 1
    if free:
        z = free.pop()
    fns = [sympy.lambdify(z, e, "mpmath") for e in exprs]
    fns = [(lambda f: (lambda x: mpf(f(x))))(f) for f in fns]  # constants come back as SymPy/int
    with mpmath.workdps(ref.DPS):
        G = ref.gram(fns)
        assert_matches(G, mpmath.eye(len(fns)), EXACT_RTOL, "custom basis Gram matrix")
        p_ref, _ = make_ref()
        for x in (mpf("0.1"), mpf("0.37"), mpf("0.8"), mpf(1)):
            got = mpmath.matrix([[f(x)] for f in fns])
            want = mpmath.matrix([[p(x)] for p in p_ref])
            assert_matches(got, want, EXACT_RTOL, f"custom basis functions at z={x}")


# ---------------------------------------------------------------------- tests: the reference itself


def test_reference_reproduces_math_md_closed_forms():
    """The reference against docs/math.md, section 4 (LegS, LegT, LagT, exact dilation diagonal)."""
    N = 4
    with mpmath.workdps(ref.DPS):
        p, dp = ref.legendre(N)
        legs = mpmath.matrix(N, N)
        legt = mpmath.matrix(N, N)
        for n in range(N):
            for k in range(N):
                r = mpmath.sqrt((2 * n + 1) * (2 * k + 1))
                legs[n, k] = r if n > k else (n + 1 if n == k else 0)
                legt[n, k] = r * (1 if n >= k else (-1) ** (n - k))
        A, B = ref.ref_generator(p, dp, lambda z: z, N)
        assert_matches(A, -legs, EXACT_RTOL, "reference LegS A")
        assert_matches(B, mpmath.matrix([[mpmath.sqrt(2 * n + 1)] for n in range(N)]), EXACT_RTOL, "reference LegS B")
        A, B = ref.ref_generator(p, dp, lambda z: mpf(1) / 3, N)  # window theta = 3
        assert_matches(A, -legt / 3, EXACT_RTOL, "reference LegT A")
        assert_matches(B, mpmath.matrix([[mpmath.sqrt(2 * n + 1) / 3] for n in range(N)]), EXACT_RTOL,
                       "reference LegT B")
        A, _ = ref.ref_lag(p, lambda z: z * mpmath.e, 1 / mpmath.e, N)
        for n in range(N):
            assert abs(A[n, n] - mpmath.exp(-(n + 1))) < mpf(10) ** -25
            for k in range(n + 1, N):
                assert abs(A[n, k]) < mpf(10) ** -25
        pl, dpl = ref.laguerre(N)
        A, B = ref.ref_generator(pl, dpl, lambda z: z, N)
        tril = mpmath.matrix([[1 if n >= k else 0 for k in range(N)] for n in range(N)])
        assert_matches(A, -tril, EXACT_RTOL, "reference LagT A")
        assert_matches(B, mpmath.matrix([[1] for _ in range(N)]), EXACT_RTOL, "reference LagT B")
        for basis in (ref.legendre(N)[0], ref.laguerre(N)[0], ref.fourier(5)[0]):
            assert_matches(ref.gram(basis), mpmath.eye(len(basis)), EXACT_RTOL, "reference Gram matrix")


# ---------------------------------------------------------------------- cases with no generator


def test_linear_laguerre_generator_diverges():
    """Linear window x log-Laguerre has no generator: with v = 1, p_k'(z) ~ log(z)^(k-1)/z is not
    integrable at z = 0 (integral_0^1 p_0 p_1' dz = integral_0^1 dz/z = oo). symderive must say so
    rather than return the numbers of a failed quadrature (it did at commit e77be00: finite entries
    up to 2e7 with a quadrature error estimate of 1.0)."""
    m = sd.derive(sd.warps.linear(), sd.bases.laguerre(3))
    with pytest.raises(DerivationError):
        m.numeric_generator()


# ---------------------------------------------------------------------- high precision output


HIGH_DPS = 40


def _high_precision_ref(case_id, delta):
    c = CASE_BY_ID[case_id]
    with mpmath.workdps(HIGH_DPS + 10):
        p, dp = c.ref_basis()
        lam, zcut = c.lag(mpf(repr(delta)), None)
        return (ref.ref_generator(p, dp, c.velocity, len(p), dps=HIGH_DPS + 10),
                ref.ref_lag(p, lam, zcut, len(p), dps=HIGH_DPS + 10))


@pytest.mark.parametrize("case_id, delta", [
    pytest.param("exp-custompoly3", 0.5, id="exact-route-exp-custompoly3"),
    pytest.param("linear-fourier5", 0.25, id="symbolic-route-linear-fourier5"),
])
def test_mpmath_dtype_high_precision(case_id, delta):
    """``dtype='mpmath', dps=40`` must be accurate to ~40 digits, whatever the global mpmath precision."""
    m = model(case_id)
    (Agr, Bgr), (Ar, Br) = _high_precision_ref(case_id, delta)
    with mpmath.workdps(15):  # the default global precision, as in a fresh interpreter
        Ag, Bg = m.numeric_generator(dtype="mpmath", dps=HIGH_DPS)
        A, B = m.numeric(delta, dtype="mpmath", dps=HIGH_DPS)
    tol = mpf(10) ** (5 - HIGH_DPS)
    assert_matches(Ag, Agr, tol, f"{case_id} A_gen (mpmath, dps={HIGH_DPS})")
    assert_matches(Bg, Bgr, tol, f"{case_id} B_gen (mpmath, dps={HIGH_DPS})")
    assert_matches(A, Ar, tol, f"{case_id} A_Delta (mpmath, dps={HIGH_DPS})")
    assert_matches(B, Br, tol, f"{case_id} B_Delta (mpmath, dps={HIGH_DPS})")
