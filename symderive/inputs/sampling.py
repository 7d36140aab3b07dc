"""Point values of a checked SymPy expression in mpmath, for the sampled checks of warps and bases.

``mp_function(expr, variable)`` is ``expr`` as a function of one mpmath number that never raises for a
point outside the expression's domain: ``log`` of a negative number, a division by zero or an overflow
give ``mpmath.nan``, so each check can say "not a finite real number at this point" instead of failing.
The expression is one the restricted parser built (:mod:`.expressions`); SymPy's ``lambdify`` turns its
tree into mpmath calls, so no user text is evaluated. Values follow the caller's ``mpmath.workdps``.
"""

from __future__ import annotations

import mpmath
import sympy as sp


def mp_function(expr: sp.Expr, variable: sp.Symbol):
    """``point -> mpmath value`` of ``expr``, ``mpmath.nan`` where it is not defined (module docstring)."""
    fn = sp.lambdify(variable, expr, modules="mpmath")

    def value(point):
        try:
            return mpmath.mpmathify(fn(point))
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            return mpmath.nan
    return value
