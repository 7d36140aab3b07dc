"""The kernel spec: quadrature rules against exact moments, rounding once, the underflow guard."""

import math

import numpy as np
import pytest

import symderive as sd
from symderive import InputError
from symderive.codegen.spec import build_spec, check_name, gauss_laguerre, gauss_legendre_01


@pytest.mark.parametrize("N", [1, 2, 7, 40])
def test_gauss_legendre_is_exact_for_degree_below_2N(N):
    x, w = map(np.array, gauss_legendre_01(N))
    assert np.all(np.diff(x) > 0) and 0 < x[0] and x[-1] < 1
    for m in range(2 * N):
        assert abs(np.sum(w * x ** m) - 1 / (m + 1)) < 1e-14 * (1 + m)


@pytest.mark.parametrize("N", [1, 3, 12, 30])
def test_gauss_laguerre_is_exact_for_degree_below_2N(N):
    x, w = map(np.array, gauss_laguerre(N))
    assert np.all(np.diff(x) > 0)
    for m in range(min(2 * N, 40)):
        # integral_0^oo u^m e^-u du = m!, relative check
        assert abs(np.sum(w * x ** m) / math.factorial(m) - 1) < 1e-11, m


def test_spec_rounds_once_and_hash_is_stable():
    m = sd.derive(sd.warps.exponential(), sd.bases.legendre(5))
    s1, s2 = build_spec(m, "1/10", "a"), build_spec(m, "0.1", "a")
    A, B = m.numeric("1/10")
    assert np.array_equal(np.array(s1.A), A) and np.array_equal(np.array(s1.B), B)
    assert s1.hash == s2.hash and s1.delta == 0.1
    assert build_spec(m, "1/10", "b").hash != s1.hash


@pytest.mark.slow     # N = 200: about 13 s
def test_laguerre_per_step_disabled_when_weights_underflow():
    spec = build_spec(sd.derive(sd.warps.exponential(), sd.bases.laguerre(200)), "1/100", "lagt200")
    assert spec.variable_kind is None and "underflow" in spec.variable_note
    from symderive.codegen.render import render_package
    assert "underflow" in render_package(spec)["_cpu.py"]          # the package's scan_variable says why
    assert build_spec(sd.derive(sd.warps.exponential(), sd.bases.laguerre(20)), "1/100", "x").variable_kind == "neglog"


@pytest.mark.parametrize("name", ["1abc", "a-b", "class", "", "x" * 65])
def test_bad_names(name):
    with pytest.raises(InputError, match="identifier"):
        check_name(name)
