"""d/dDelta of the lag matrices (symderive.derivation.lag_derivative) against independent routes:

- a 50-digit central difference of the certified lag matrices (``model.numeric`` at 60 digits);
- SymPy's derivative of the exact lag matrices with a symbolic step (``model.lag(Delta)``), small N;
- the semigroup identity of dilations, dA/dDelta = A_gen A_Delta, which a window must *not* satisfy;
- the generator: A_gen = G_int - B_gen p(1)^T.
"""

import mpmath
import pytest
import sympy as sp

import symderive as sd
from symderive.codegen.spec import build_spec
from symderive.derivation import lag_derivative as ld
from symderive.errors import InputError

DPS = 60


def _central_difference(model, delta, h=sp.Rational(1, 10**20)):
    Ap, Bp = model.numeric(delta + h, dtype="mpmath", dps=DPS)
    Am, Bm = model.numeric(delta - h, dtype="mpmath", dps=DPS)
    with mpmath.workdps(DPS):
        hm = mpmath.mpf(h.p) / h.q
        return (Ap - Am) / (2 * hm), (Bp - Bm) / (2 * hm)


def _gap(X, Y):
    with mpmath.workdps(DPS):
        return float(mpmath.mnorm(X - Y, 1))


MODELS = [
    ("exp-legendre", lambda: sd.derive(sd.warps.exponential(), sd.bases.legendre(6))),
    ("exp2-legendre", lambda: sd.derive(sd.warps.exponential(2), sd.bases.legendre(5))),
    ("window-legendre", lambda: sd.derive(sd.warps.linear(1), sd.bases.legendre(6))),
    ("window3-legendre", lambda: sd.derive(sd.warps.linear(3), sd.bases.legendre(4))),
    ("exp-laguerre", lambda: sd.derive(sd.warps.exponential(), sd.bases.laguerre(5))),
    ("window-fourier", lambda: sd.derive(sd.warps.linear(2), sd.bases.fourier(5))),
]


@pytest.mark.parametrize("label,make", MODELS, ids=[m[0] for m in MODELS])
@pytest.mark.parametrize("delta", [sp.Rational(1, 10), sp.Rational(3, 7)])
def test_closed_route_matches_50_digit_differences(label, make, delta):
    model = make()
    assert ld.closure(model) is None
    dA, dB = ld.numeric_lag_derivative(model, delta, dps=DPS)
    fA, fB = _central_difference(model, delta)
    scale = 1 + float(mpmath.mnorm(dA, 1))
    assert _gap(dA, fA) < 1e-30 * scale
    assert _gap(dB, fB) < 1e-30 * scale


@pytest.mark.parametrize("warp", [sd.warps.exponential(), sd.warps.linear(1)], ids=["exp", "window"])
def test_closed_route_matches_sympy_derivative_of_exact_matrices(warp):
    model = sd.derive(warp, sd.bases.legendre(4))
    delta = sp.Rational(1, 5)
    eA, eB = ld.exact_lag_derivative(model, delta)
    dA, dB = ld.numeric_lag_derivative(model, delta, dps=DPS)
    with mpmath.workdps(DPS):
        EA = mpmath.matrix([[mpmath.mpf(sp.N(eA[i, j], DPS + 10)) for j in range(4)] for i in range(4)])
        EB = mpmath.matrix([[mpmath.mpf(sp.N(eB[i, 0], DPS + 10))] for i in range(4)])
    assert _gap(EA, dA) < 1e-40
    assert _gap(EB, dB) < 1e-40


def test_dilation_is_a_semigroup_and_the_window_is_not():
    delta = sp.Rational(1, 10)
    legs = sd.derive(sd.warps.exponential(), sd.bases.legendre(6))
    dA, dB = ld.numeric_lag_derivative(legs, delta, dps=DPS)
    A, _ = legs.numeric(delta, dtype="mpmath", dps=DPS)
    Ag, Bg = legs.numeric_generator("mpmath", dps=DPS)
    with mpmath.workdps(DPS):
        AgA, ABg = Ag * A, A * Bg
    assert _gap(dA, AgA) < 1e-40             # dA/dDelta = A_gen A_Delta
    assert _gap(dB, ABg) < 1e-40             # dB/dDelta = A_Delta B_gen (zero-order hold)
    legt = sd.derive(sd.warps.linear(1), sd.bases.legendre(6))
    dA, dB = ld.numeric_lag_derivative(legt, delta, dps=DPS)
    A, _ = legt.numeric(delta, dtype="mpmath", dps=DPS)
    Ag, _ = legt.numeric_generator("mpmath", dps=DPS)
    with mpmath.workdps(DPS):
        AgA = Ag * A
    assert _gap(dA, AgA) > 1e-2              # the boundary term at the window's end
    fA, _ = _central_difference(legt, delta)
    assert _gap(dA, fA) < 1e-30


@pytest.mark.parametrize("label,make", MODELS, ids=[m[0] for m in MODELS])
def test_generator_is_interior_generator_minus_boundary(label, make):
    model = make()
    G = ld.interior_generator(model, DPS)
    Ag, Bg = model.numeric_generator("mpmath", dps=DPS)
    with mpmath.workdps(DPS):
        assembled = G - Bg * ld.p_one(model, DPS).T
    assert _gap(assembled, Ag) < 1e-40


def test_closure_is_decided_exactly():
    power = sd.derive(sd.warps.custom("1/(1-x)"), sd.bases.legendre(4))
    assert "leaves the span" in ld.closure(power)                  # v = z^2 raises the degree
    even = sd.bases.custom(["1", "z**2"])                          # span {1, z^2}
    assert ld.closure(sd.derive(sd.warps.exponential(), even)) is None       # z p' stays in it
    assert "leaves the span" in ld.closure(sd.derive(sd.warps.linear(1), even))   # p' = 2 z does not
    assert "time-varying" in ld.closure(sd.derive(sd.warps.scale(), sd.bases.legendre(3)))
    with pytest.raises(InputError, match="not closed"):
        ld.interior_generator(power)


def test_derivative_matrix_expands_basis_derivatives():
    model = sd.derive(sd.warps.custom("1/(1-x)"), sd.bases.legendre(5))
    D = ld.derivative_matrix(model, 40)
    funcs = model.basis.functions
    z = next(iter(funcs[1].free_symbols))
    with mpmath.workdps(40):
        for x in (sp.Rational(1, 7), sp.Rational(5, 6)):
            values = [mpmath.mpf(sp.N(f.subs(z, x), 50)) for f in funcs]
            for k in range(5):
                slope = mpmath.mpf(sp.N(sp.diff(funcs[k], z).subs(z, x), 50))
                expanded = sum(D[m, k] * values[m] for m in range(5))
                assert abs(slope - expanded) < mpmath.mpf(10) ** -30


def test_spec_records_the_route_and_checks_it():
    legs = build_spec(sd.derive(sd.warps.exponential(), sd.bases.legendre(4)), sp.Rational(1, 100), "legs4")
    assert legs.derivative_route == "closed" and len(legs.G_int) == 4 and len(legs.p_one) == 4
    power = build_spec(sd.derive(sd.warps.custom("1/(1-x)"), sd.bases.legendre(4)), 0.05, "pow4")
    assert power.derivative_route == "quadrature" and power.velocity_code[0] == "_velocity" and len(power.D_basis) == 4
    scale = build_spec(sd.derive(sd.warps.scale(), sd.bases.legendre(3)), None, "scale3")
    assert scale.derivative_route is None and "time-varying" in scale.derivative_note
