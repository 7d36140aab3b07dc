"""The symbolic-integration route: exact entries by ``sympy.integrate``, one entry at a time.

The last exact route, for bases and warps that neither exact linear algebra nor the algebraic route
covers (e.g. a custom basis with ``exp(z)``), up to ``SYMBOLIC_MAX_N`` functions (it costs N^2
integrals):

    A_gen[n, k] = -v(1) w(1) p_n(1) p_k(1) + integral_0^1 p_n(z) p_k'(z) v(z) w(z) dz
    B_gen[n]    =  v(1) w(1) p_n(1)
    A_Delta[n, k] = integral_0^{z_Delta} p_n(z) p_k(lambda_Delta(z)) w(z) dz
    B_Delta[n]    = integral_{z_Delta}^1 p_n(z) w(z) dz

Every SymPy call (``integrate`` and the simplification after it) draws on the derivation's budget
(:mod:`symderive._limits`); the first entry SymPy cannot do, or cannot do in time, ends the route
(the functions return None) and the caller takes the numeric quadrature route instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .. import progress
from .._limits import SymbolicTimeout, tidy, time_limit
from ..errors import DerivationError
from ..symbols import Z

SYMBOLIC_MAX_N = 12
ROUTE_SYMBOLIC = "symbolic-integration"


@dataclass
class Integrals:
    """Exact SymPy entries of one matrix and one column."""

    A: list
    B: list
    route: str = ROUTE_SYMBOLIC


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


def integrate_entries(a_integrands, b_integrands, a_limits, b_limits, a_extra=None) -> Integrals | None:
    """Integrate N x N ``a_integrands`` over ``a_limits`` and N ``b_integrands`` over ``b_limits``
    exactly (``a_extra[n][k]`` is added to the A entries: the generator's boundary term); None as soon
    as one entry fails."""
    n = len(b_integrands)
    A = [[None] * n for _ in range(n)]
    B = [None] * n
    jobs = [(A[i], k, a_integrands[i][k], a_limits) for i in range(n) for k in range(n)]
    jobs += [(B, i, b_integrands[i], b_limits) for i in range(n)]
    with progress.bar("symbolic integration", total=len(jobs), unit="entry") as bar:
        for target, index, integrand, limits in jobs:
            target[index] = _symbolic(integrand, *limits)
            if target[index] is None:
                return None
            bar.update(1)
    if a_extra is not None:
        A = [[tidy(A[i][k] + a_extra[i][k]) for k in range(n)] for i in range(n)]
    else:
        A = [[tidy(x) for x in row] for row in A]
    return Integrals(A, [tidy(x) for x in B])


def generator_integrals(functions, weight, velocity) -> Integrals | None:
    """``A_gen``, ``B_gen`` entry by entry (module docstring), or None."""
    p1 = [tidy(p.subs(Z, 1)) for p in functions]
    w1 = weight.subs(Z, 1)
    v1 = velocity.subs(Z, 1)
    derivatives = [sp.diff(p, Z) for p in functions]
    a = [[p * dp * velocity * weight for dp in derivatives] for p in functions]
    extra = [[-v1 * w1 * pn * pk for pk in p1] for pn in p1]
    b = [sp.S.Zero for _ in functions]
    out = integrate_entries(a, b, (0, 1), (0, 1), a_extra=extra)
    if out is not None:     # B_gen needs no integral: it is the boundary term alone
        out.B = [tidy(v1 * w1 * pn) for pn in p1]
    return out


def lag_integrals(functions, weight, lag_map, cutoff) -> Integrals | None:
    """``A_Delta``, ``B_Delta`` entry by entry (module docstring), or None."""
    shifted = [p.subs(Z, lag_map) for p in functions]
    a = [[p * q * weight for q in shifted] for p in functions]
    b = [p * weight for p in functions]
    return integrate_entries(a, b, (0, cutoff), (cutoff, 1))
