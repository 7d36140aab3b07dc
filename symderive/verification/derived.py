"""The derived generator ``(A_gen, B_gen)`` of a model as :class:`~.exact_numbers.Exact` entries.

For polynomial bases the derivation's exact core is a rational matrix ``R`` with per-state scales
``S_n = alpha_n sqrt(f_n)`` and a common factor ``c`` (``A_gen = c S R S``, ``B_gen = c S R_B``, see
:mod:`symderive.derivation.exact`); the entries are built from those directly, without going through
SymPy, which is what makes N = 512 cheap. Other routes convert the SymPy matrices entry by entry.
"""

from __future__ import annotations

import math

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
        split = exact._scales_split(form)
        rows_A, rows_B = core_A.tolist(), core_B.tolist()
        A = []
        for n, row in enumerate(rows_A):
            an, fn = split[n]
            out = []
            for k, x in enumerate(row):
                if x == 0:
                    out.append(Exact())
                    continue
                ak, fk = split[k]
                g = math.gcd(fn, fk)
                out.append(Exact.monomial(fmpq(x) * an * ak * g, (fn // g) * (fk // g)))
            A.append(out)
        B = [Exact.monomial(fmpq(rows_B[n][0]) * split[n][0], split[n][1]) for n in range(len(rows_B))]
        if factor != Exact.rational(1):
            A = [[x * factor for x in row] for row in A]
            B = [x * factor for x in B]
        return A, B, route
    return matrix_to_exact(model.A_gen), column_to_exact(model.B_gen), route
