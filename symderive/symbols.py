"""The SymPy symbols shared by several modules, defined once.

A SymPy symbol is identified by its name *and* its assumptions: ``Symbol("z", real=True)`` and
``Symbol("z", positive=True)`` are different objects, and an expression in one does not contain the
other. Each symbol below keeps the exact name and assumptions its modules used before they were
gathered here, so every derivation, proof and printed formula is unchanged. Import them from here
(``from symderive.symbols import Z, DELTA``) instead of creating a new ``sp.Symbol`` with the same name.

Variables of the inputs (what the expression parser produces, see
:func:`symderive.inputs.expressions.symbol`):

- :data:`X` -- ``x``, real: the argument of a warp ``f(x)`` (``x <= 0`` is the past).
- :data:`Z` -- ``z``, real: the warped coordinate in ``[0, 1]``, the variable of the basis functions and
  of the inverse warp ``g(z)``.

Variables of the derivations:

- :data:`DELTA` -- ``Delta``, positive: the step of the lag pair ``(A_Delta, B_Delta)``.
- :data:`T` -- ``t``, positive: the time of a time-varying (scale) warp, and the substitution variable
  ``z = t**q`` of the algebraic route.
- :data:`Z_POS` -- ``z``, positive: ``z`` restricted to ``z > 0``, for simplifications that need the sign
  (substituted for :data:`Z` and back).
- :data:`Y_POS` -- ``y``, positive: ``y = -log z`` (the log-Laguerre coordinate).

Variables of the closed forms and their proofs (:mod:`symderive.verification`):

- :data:`N_SYM`, :data:`K_SYM` -- ``n``, ``k``, integer and nonnegative: the row and column index of
  ``A_gen[n, k]``, ``B_gen[n]``.
- :data:`THETA` -- ``theta``, positive: the warp parameter in the closed-form templates (rate of the
  exponential warp, window of the linear warp).
- :data:`X_PLAIN`, :data:`T_PLAIN` -- ``x``, ``t``, no assumptions: the variables of generating
  functions ``G(x, t)`` in the proofs, and a polynomial variable for minimal polynomials.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["X", "Z", "DELTA", "T", "Z_POS", "Y_POS", "N_SYM", "K_SYM", "THETA", "X_PLAIN", "T_PLAIN"]

X = sp.Symbol("x", real=True)
"""``x``, real: the argument of a warp ``f(x)``; the same object as ``expressions.symbol("x")``."""
Z = sp.Symbol("z", real=True)
"""``z``, real: the warped coordinate in ``[0, 1]``; the same object as ``expressions.symbol("z")``."""

DELTA = sp.Symbol("Delta", positive=True)
"""``Delta``, positive: the step of the lag pair ``(A_Delta, B_Delta)``."""
T = sp.Symbol("t", positive=True)
"""``t``, positive: time (time-varying warps), and the variable of ``z = t**q`` (algebraic route)."""
Z_POS = sp.Symbol("z", positive=True)
"""``z``, positive: :data:`Z` on ``z > 0``, for simplifications that need the sign."""
Y_POS = sp.Symbol("y", positive=True)
"""``y``, positive: ``y = -log z``, the log-Laguerre coordinate."""

N_SYM = sp.Symbol("n", integer=True, nonnegative=True)
"""``n``, integer ``>= 0``: the row index of ``A_gen[n, k]`` and the index of ``B_gen[n]``."""
K_SYM = sp.Symbol("k", integer=True, nonnegative=True)
"""``k``, integer ``>= 0``: the column index of ``A_gen[n, k]``."""
THETA = sp.Symbol("theta", positive=True)
"""``theta``, positive: the warp parameter in the templates (rate of the exponential warp, window of the
linear warp)."""

X_PLAIN = sp.Symbol("x")
"""``x``, no assumptions: the first variable of a generating function ``G(x, t)``; a polynomial variable."""
T_PLAIN = sp.Symbol("t")
"""``t``, no assumptions: the series variable of a generating function ``G(x, t)``."""
