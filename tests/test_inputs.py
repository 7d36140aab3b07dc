"""Warps and bases: validation of bad input, and the facts each input reports."""

import re

import pytest
import sympy as sp

import symderive as sd
from symderive.inputs import specs
from symderive.inputs.expressions import symbol

X, Z = symbol("x"), symbol("z")


# --------------------------------------------------------------------------- warps

@pytest.mark.parametrize("f,message", [
    ("x", "f(0) must equal 1"),
    ("2*exp(x)", "f(0) must equal 1"),
    ("exp(x)/2 + 1/2", "must reach 0"),
    ("(1 + x)*(1 - 2*x)", "increasing"),
    ("(1 + x)**2*(1 - 3*x)", "increasing"),
    ("1 + x/3 + sin(4*x)", "could not locate where f reaches 0"),
    ("z + 1", "not allowed"),
])
def test_custom_warp_rejects(f, message):
    with pytest.raises(sd.InputError, match=re.escape(message)):
        sd.warps.custom(f)


def test_custom_warp_support_and_inverse():
    w = sd.warps.custom("1 + x/3")
    assert w.x_min == -3 and sp.simplify(w.g - 3 * (Z - 1)) == 0
    assert w.structure == "translation"
    w = sd.warps.custom("exp(2*x)")
    assert w.x_min == -sp.oo and w.structure == "dilation"
    w = sd.warps.custom("1/(1 - x)")
    assert w.x_min == -sp.oo and w.structure is None
    assert sp.simplify(w.velocity() - Z**2) == 0
    w = sd.warps.custom("(1 + x/2)**2")
    assert w.x_min == -2 and sp.simplify(w.velocity() - sp.sqrt(Z)) == 0


def test_custom_warp_with_user_inverse():
    w = sd.warps.custom("exp(x)", inverse="log(z)")
    assert w.structure == "dilation"
    with pytest.raises(sd.InputError, match="not the inverse"):
        sd.warps.custom("exp(x)", inverse="log(z)/2")


def test_symbolic_steps_are_time_limited(monkeypatch):
    """SymPy cannot invert exp(x + x^3/10) (and used to hang trying): the user is asked for g."""
    import time

    import symderive._limits as limits
    monkeypatch.setattr(limits, "DEFAULT_BUDGET", 1.0)
    start = time.perf_counter()
    with pytest.raises(sd.InputError, match="give the inverse explicitly"):
        sd.warps.custom("exp(x + x**3/10)")
    assert time.perf_counter() - start < 30


def test_exactly_checked_monotonicity_is_reported_as_exact():
    assert "exact" in sd.warps.custom("1/(1 - x)").checks[1]


@pytest.mark.parametrize("make", [lambda: sd.warps.exponential(rate=0), lambda: sd.warps.exponential(rate=-2),
                                  lambda: sd.warps.linear(window="nan"), lambda: sd.warps.linear(window=float("inf")),
                                  lambda: sd.warps.exponential(rate=True)])
def test_builtin_warp_parameters_must_be_positive(make):
    with pytest.raises(sd.InputError):
        make()


# --------------------------------------------------------------------------- bases

def test_builtin_bases_are_orthonormal_exactly():
    for basis in (sd.bases.legendre(5), sd.bases.fourier(5), sd.bases.laguerre(4)):
        fs = basis.functions
        gram = sp.Matrix(len(fs), len(fs), lambda i, j: sp.integrate(sp.expand(fs[i] * fs[j]), (Z, 0, 1)))
        assert sp.simplify(gram - sp.eye(len(fs))) == sp.zeros(len(fs), len(fs)), basis


def test_custom_polynomial_basis_reproduces_legendre():
    custom = sd.bases.custom(["1", "z", "z**2", "z**3"])
    assert custom.polynomial_form is not None
    for a, b in zip(custom.functions, sd.bases.legendre(4).functions):
        assert sp.expand(a - b) == 0


def test_custom_log_polynomial_basis_reproduces_laguerre():
    custom = sd.bases.custom(["1", "log(z)", "log(z)**2"])  # log z = -y: L_1 = 1 - y
    assert custom.polynomial_form.coordinate == "neglog"
    for a, b in zip(custom.functions, sd.bases.laguerre(3).functions):
        assert sp.simplify(sp.expand_log(a - b, force=True)) == 0


@pytest.mark.parametrize("functions,message", [
    (["1", "z", "2*z + 1"], "linearly dependent"),
    (["1", "1/z"], "not square-integrable"),
    ([], "empty"),
    ("1;z", "must be a list"),
    (["1", "x"], "not allowed"),
])
def test_custom_basis_rejects(functions, message):
    with pytest.raises(sd.InputError, match=message):
        sd.bases.custom(functions)


@pytest.mark.parametrize("N", [0, -3, 2.5, "8", True])
def test_N_must_be_a_positive_integer(N):
    with pytest.raises(sd.InputError, match="N must be an integer"):
        sd.bases.legendre(N)


# --------------------------------------------------------------------------- specs

@pytest.mark.parametrize("spec,name,params", [
    ("exponential", "exponential", {}),
    ("exponential:rate=2", "exponential", {"rate": 2}),
    ("linear:window=0.5", "linear", {"window": sp.Rational(1, 2)}),
    ("scale", "scale", {}),
])
def test_warp_specs(spec, name, params):
    w = specs.parse_warp(spec)
    assert w.name == name and w.params == params


def test_custom_specs():
    w = specs.parse_warp("f=exp(x)*exp(x);g=log(z)/2")
    assert sp.simplify(w.f - sp.exp(2 * X)) == 0
    b = specs.parse_basis("functions=1;z;z**2", 2)
    assert b.N == 2


@pytest.mark.parametrize("spec", ["", "expo", "exponential:rate", "exponential:rate=1,rate=2",
                                  "linear:rate=2", "f=exp(x);h=1", "exponential:rate=__import__('os')"])
def test_bad_warp_specs(spec):
    with pytest.raises(sd.InputError):
        specs.parse_warp(spec)


@pytest.mark.parametrize("spec,N", [("chebyshev", 3), ("functions=1;;z", 2), ("functions=1;z", 3), ("legendre", 0)])
def test_bad_basis_specs(spec, N):
    with pytest.raises(sd.InputError):
        specs.parse_basis(spec, N)


# --------------------------------------------------------------------------- model input checks

def test_lag_rejects_bad_delta():
    m = sd.derive(sd.warps.linear(), sd.bases.legendre(3))
    for bad in (0, -1, float("nan"), "abc", sp.Symbol("d")):
        with pytest.raises(sd.InputError):
            m.lag(bad)
    with pytest.raises(sd.InputError, match="smaller than the window"):
        m.numeric(1)
    with pytest.raises(sd.InputError, match="stationary"):
        m.lag(0.1, t=2)
    with pytest.raises(sd.InputError, match="dtype"):
        m.numeric(0.1, dtype=int)


def test_scale_warp_needs_time():
    m = sd.derive(sd.warps.scale(), sd.bases.legendre(3))
    with pytest.raises(sd.InputError, match="time-varying"):
        m.lag(1)


def test_derive_rejects_non_inputs():
    with pytest.raises(sd.InputError, match="warp"):
        sd.derive("exponential", sd.bases.legendre(3))
    with pytest.raises(sd.InputError, match="basis"):
        sd.derive(sd.warps.exponential(), "legendre")


def test_time_is_rejected_for_stationary_warps_with_symbolic_delta_too():
    m = sd.derive(sd.warps.exponential(), sd.bases.legendre(2))
    with pytest.raises(sd.InputError, match="stationary"):
        m.lag(t=3)


def test_power_warp_support_reaches_minus_infinity():
    """SymPy 1.14 gets limit(2**x, x, -oo) wrong (oo); the support check uses the exp form."""
    import symderive as sd
    warp = sd.warps.custom("2**x")
    assert warp.structure == "dilation"
    assert sd.derive(warp, sd.bases.legendre(3)).A_gen[0, 0] == -sp.log(2)


def test_exact_rate_or_window_reads_the_lag_geometry_exactly():
    from symderive.inputs.warps import exact_rate_or_window
    assert exact_rate_or_window(sd.warps.exponential(rate="3/2")) == ("dilation", sp.Rational(3, 2))
    assert exact_rate_or_window(sd.warps.custom("2**x")) == ("dilation", sp.log(2))
    assert exact_rate_or_window(sd.warps.linear(window=4)) == ("translation", 4)
    assert exact_rate_or_window(sd.warps.custom("1 + x/3")) == ("translation", 3)
    assert exact_rate_or_window(sd.warps.scale()) is None            # time-varying: no fixed rate
    assert exact_rate_or_window(sd.warps.custom("1/(1 - x)")) is None  # neither a dilation nor a window
