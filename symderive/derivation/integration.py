"""Fallback routes for cases with no exact linear-algebra form: per-entry integrals.

The same formulas as :mod:`symderive.derivation.exact`, integrated entry by entry:

    A_gen[n, k] = -v(1) w(1) p_n(1) p_k(1) + integral_0^1 p_n(z) p_k'(z) v(z) w(z) dz
    B_gen[n]    =  v(1) w(1) p_n(1)
    A_Delta[n, k] = integral_0^{z_Delta} p_n(z) p_k(lambda_Delta(z)) w(z) dz
    B_Delta[n]    = integral_{z_Delta}^1 p_n(z) w(z) dz

First by ``sympy.integrate`` (exact, route ``symbolic-integration``); an entry SymPy cannot do
(or not within the time limit of :mod:`symderive._limits`) is computed by ``mpmath.quad`` at a stated precision instead (route ``mpmath-quadrature``). Symbolic
integration is tried only up to ``SYMBOLIC_MAX_N`` functions: it costs N^2 integrals.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import sympy as sp

from .._limits import SymbolicTimeout, time_limit
from ..errors import DerivationError
from ..inputs.expressions import symbol

Z = symbol("z")
SYMBOLIC_MAX_N = 12
ROUTE_SYMBOLIC = "symbolic-integration"
ROUTE_QUADRATURE = "mpmath-quadrature"


def to_mpf(value, digits: int) -> mpmath.mpf:
    """The exact SymPy real ``value`` as an mpmath number with ``digits`` significant digits.

    Converted at that precision, not at mpmath's global one (``mpf(sp.N(x, 40))`` alone would round
    to the global 53 bits)."""
    if isinstance(value, mpmath.mpf):
        return value
    with mpmath.workdps(digits):
        return mpmath.mpf(sp.N(value, digits))


@dataclass
class Integrals:
    """Entries of one matrix and column: exact SymPy values, or mpmath values from quadrature."""

    A: list
    B: list
    route: str
    dps: int | None = None
    quadrature_error: object = None


def _symbolic(expr, lo, hi):
    try:
        with time_limit():
            value = sp.integrate(sp.expand(expr), (Z, lo, hi))
    except (NotImplementedError, ValueError, TypeError, ZeroDivisionError, SymbolicTimeout):
        return None
    if value in (sp.oo, -sp.oo, sp.zoo):
        raise DerivationError(f"the integral of {sp.sstr(expr)} over [{sp.sstr(lo)}, {sp.sstr(hi)}] diverges "
                              f"(SymPy: {value}); this warp x basis has no such matrix")
    if value.has(sp.Integral) or value.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or value.has(sp.Piecewise):
        return None
    return value


def _quad(expr, lo, hi, dps):
    """``mpmath.quad`` at ``dps + 15`` digits; an error estimate above ``10^-dps`` (relative) means the
    integral did not converge (typically it diverges), which is reported rather than returned."""
    fn = sp.lambdify(Z, expr, modules="mpmath")
    with mpmath.workdps(dps + 15):
        value, err = mpmath.quad(fn, [mpmath.mpf(sp.N(lo, dps + 15)), mpmath.mpf(sp.N(hi, dps + 15))], error=True)
        if not mpmath.isfinite(value) or err > mpmath.mpf(10) ** (-dps) * max(1, abs(value)):
            raise DerivationError(
                f"mpmath quadrature of {sp.sstr(expr)} over [{sp.sstr(lo)}, {sp.sstr(hi)}] did not converge "
                f"(value {mpmath.nstr(value, 8)}, error estimate {mpmath.nstr(err, 3)}); the integral may diverge")
    return value, err


def integrate_entries(a_integrands, b_integrands, a_limits, b_limits, *, symbolic: bool, dps: int,
                      a_extra=None) -> Integrals:
    """Integrate N x N ``a_integrands`` over ``a_limits`` and N ``b_integrands`` over ``b_limits``.

    ``a_extra[n][k]`` (exact) is added to the A entries (the generator's boundary term).
    Symbolic first when ``symbolic`` is true, until the first entry SymPy cannot do; every entry
    left over then goes to quadrature (and the result's route is ``mpmath-quadrature``).
    """
    n = len(b_integrands)
    A = [[None] * n for _ in range(n)]
    B = [None] * n
    exact = symbolic
    jobs = [(A[i], k, a_integrands[i][k], a_limits) for i in range(n) for k in range(n)]
    jobs += [(B, i, b_integrands[i], b_limits) for i in range(n)]
    for target, index, integrand, limits in jobs if symbolic else ():
        target[index] = _symbolic(integrand, *limits)
        if target[index] is None:  # one failure makes the matrix a quadrature result: stop trying
            exact = False
            break
    if exact:
        if a_extra is not None:
            A = [[sp.simplify(A[i][k] + a_extra[i][k]) for k in range(n)] for i in range(n)]
        else:
            A = [[sp.simplify(x) for x in row] for row in A]
        return Integrals(A, [sp.simplify(x) for x in B], ROUTE_SYMBOLIC)
    worst = mpmath.mpf(0)
    with mpmath.workdps(dps + 15):
        for i in range(n):
            for k in range(n):
                if A[i][k] is None:
                    value, err = _quad(a_integrands[i][k], *a_limits, dps)
                    worst = max(worst, err)
                else:
                    value = to_mpf(A[i][k], dps + 15)
                if a_extra is not None:
                    value += to_mpf(a_extra[i][k], dps + 15)
                A[i][k] = value
            if B[i] is None:
                B[i], err = _quad(b_integrands[i], *b_limits, dps)
                worst = max(worst, err)
            else:
                B[i] = to_mpf(B[i], dps + 15)
    return Integrals(A, B, ROUTE_QUADRATURE, dps=dps, quadrature_error=worst)


def generator_integrals(functions, weight, velocity, *, symbolic: bool, dps: int) -> Integrals:
    """``A_gen``, ``B_gen`` entry by entry (module docstring)."""
    p1 = [sp.simplify(p.subs(Z, 1)) for p in functions]
    w1 = weight.subs(Z, 1)
    v1 = velocity.subs(Z, 1)
    derivatives = [sp.diff(p, Z) for p in functions]
    a = [[p * dp * velocity * weight for dp in derivatives] for p in functions]
    extra = [[-v1 * w1 * pn * pk for pk in p1] for pn in p1]
    b = [sp.S.Zero for _ in functions]
    out = integrate_entries(a, b, (0, 1), (0, 1), symbolic=symbolic, dps=dps, a_extra=extra)
    # B_gen needs no integral: it is the boundary term alone.
    out.B = [sp.simplify(v1 * w1 * pn) if out.route == ROUTE_SYMBOLIC else
             to_mpf(v1 * w1 * pn, dps + 15) for pn in p1]
    return out


def lag_integrals(functions, weight, lag_map, cutoff, *, symbolic: bool, dps: int) -> Integrals:
    """``A_Delta``, ``B_Delta`` entry by entry (module docstring)."""
    shifted = [p.subs(Z, lag_map) for p in functions]
    a = [[p * q * weight for q in shifted] for p in functions]
    b = [p * weight for p in functions]
    return integrate_entries(a, b, (0, cutoff), (cutoff, 1), symbolic=symbolic, dps=dps)
