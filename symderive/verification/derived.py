"""The derived generator ``(A_gen, B_gen)`` of a model as :class:`~.exact_numbers.Exact` entries.

For polynomial bases the derivation's exact core is a rational matrix ``R`` with per-state scales
``S_n = alpha_n sqrt(f_n)`` and a common factor ``c`` (``A_gen = c S R S``, ``B_gen = c S R_B``, see
:mod:`symderive.derivation.exact`); the entries are built from those directly, without going through
SymPy, which is what makes N = 512 cheap. Other routes convert the SymPy matrices entry by entry.
"""

from __future__ import annotations

from flint import fmpq

from ..derivation import exact
from .exact_numbers import Exact, column_to_exact, matrix_to_exact, to_exact


def generator_exact(model) -> tuple[list[list[Exact]], list[Exact], str]:
    """``(A_gen rows, B_gen, route)`` of ``model`` as exact normal forms.

    Raises :class:`~symderive.errors.DerivationError` when the generator has no exact form (quadrature
    route), and :class:`~.exact_numbers.NotExact` when its entries leave the normal-form set.
    """
    route = model.generator_route
    if model._generator_kind == "polynomial":
        c, core_A, core_B = model._generator_exact_core
        form = model.basis.polynomial_form
        factor = to_exact(c)
        fold = factor.as_rational() if factor.is_rational else fmpq(1)   # a rational factor goes into each entry
        A = [[Exact() if r == 0 else Exact.monomial(r, h) for r, h in row]
             for row in exact.scaled_entries(core_A.tolist(), form, fold)]
        B = [Exact.monomial(r, h) for (r, h), in exact.scaled_entries(core_B.tolist(), form, fold, vector=True)]
        if not factor.is_rational:
            A = [[x * factor for x in row] for row in A]
            B = [x * factor for x in B]
        return A, B, route
    return matrix_to_exact(model.A_gen), column_to_exact(model.B_gen), route
