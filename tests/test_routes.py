"""Which route produced a result, and that fallbacks fail loudly instead of returning garbage."""

import mpmath
import numpy as np
import pytest

import sympy as sp

import symderive as sd
from symderive.cli import main
from symderive.derivation import integration


def test_fourier_lag_goes_through_symbolic_integration():
    m = sd.derive(sd.warps.exponential(), sd.bases.fourier(3))
    assert m.lag_kind is None
    assert m.lag(0.1).route == "symbolic-integration"


@pytest.mark.parametrize("warp", [sd.warps.exponential(), sd.warps.linear(window=2), sd.warps.scale(),
                                  sd.warps.custom("1/(1 - x)")], ids=lambda w: w.spec)
@pytest.mark.parametrize("N", [1, 2, 5])
def test_fourier_generator_closed_form_equals_symbolic_integration(warp, N):
    """The mode-moment route against sympy.integrate entry by entry (a separate code path)."""
    m = sd.derive(warp, sd.bases.fourier(N))
    assert m.generator_route == "exact-linear-algebra"
    ref = integration.generator_integrals(m.basis.functions, m.basis.weight, warp.velocity())
    assert ref.route == "symbolic-integration"
    assert sp.simplify(m.A_gen - sp.Matrix(ref.A)) == sp.zeros(N, N)
    assert sp.simplify(m.B_gen - sp.Matrix(ref.B)) == sp.zeros(N, 1)


def test_laguerre_with_a_window_uses_quadrature_and_matches_mpmath():
    """log-Laguerre is not affine under a translation in z: no closed form; quadrature, at a stated precision."""
    m = sd.derive(sd.warps.linear(), sd.bases.laguerre(2))
    pair = m.numeric("0.1")
    assert pair.route == "numeric-quadrature" and pair.dps >= 30 and pair.precision >= 100
    assert 0 <= pair.error_estimate < 2.0 ** -60   # the float64 target: two rules agree to 60 bits
    h = mpmath.mpf("0.1")
    p = [lambda z, n=n: mpmath.laguerre(n, 0, -mpmath.log(z)) for n in range(2)]
    with mpmath.workdps(30):
        ref = [[mpmath.quad(lambda z: p[n](z) * p[k](z + h), [0, 1 - h]) for k in range(2)] for n in range(2)]
    assert np.allclose(pair.A, np.array(ref, dtype=float), rtol=1e-14, atol=0)


def test_divergent_generator_is_reported():
    """The window's far edge is z = 0, where log-Laguerre derivatives blow up like 1/z."""
    m = sd.derive(sd.warps.linear(), sd.bases.laguerre(3))
    with pytest.raises(sd.DerivationError, match="diverge"):
        m.numeric_generator()


def test_divergence_exits_1_with_one_line(capsys):
    code = main(["matrices", "--warp", "linear", "--basis", "laguerre", "--N", "2"])
    _, err = capsys.readouterr()
    assert code == 1 and err.count("\n") == 1 and err.startswith("symderive: derivation failed")


@pytest.mark.parametrize("basis", [sd.bases.legendre(1), sd.bases.fourier(1), sd.bases.laguerre(1)],
                         ids=["legendre", "fourier", "laguerre"])
def test_single_state_keeps_matrix_and_vector_shapes(basis):
    m = sd.derive(sd.warps.exponential(), basis)
    for A, B in (m.numeric(0.1), m.numeric_generator()):
        assert A.shape == (1, 1) and B.shape == (1,)
    A, _ = m.numeric(0.1)
    assert A[0, 0] == exp_minus_tenth()  # correctly rounded exp(-1/10); np.exp(-0.1) is 1 ulp off


def test_cli_single_state(capsys):
    code = main(["matrices", "--warp", "exponential", "--basis", "legendre", "--N", "1", "--delta", "0.1"])
    out, _ = capsys.readouterr()
    assert code == 0 and f'"A": [[{exp_minus_tenth()!r}]]' in out


def exp_minus_tenth():
    with mpmath.workdps(50):
        value = mpmath.exp(-mpmath.mpf(1) / 10)
    return float(value)
