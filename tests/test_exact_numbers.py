"""The exact normal form: arithmetic against SymPy, and equality decided without floats."""

import itertools
import random

import mpmath
import pytest
import sympy as sp
from flint import fmpq

from symderive.verification.exact_numbers import Exact, NotExact, squarefree_split, to_exact


def test_normal_form_of_radicals():
    assert Exact.from_sympy(sp.sqrt(8)) == Exact.monomial(2, 2)
    assert Exact.monomial(1, 2) * Exact.monomial(1, 3) == Exact.monomial(1, 6)
    assert Exact.monomial(1, 12) == Exact.monomial(2, 3)
    one_plus = Exact.rational(1) + Exact.monomial(1, 2)
    assert one_plus * one_plus == Exact.rational(3) + Exact.monomial(2, 2)
    assert Exact.sqrt_rational(fmpq(1, 2)) == Exact.monomial(fmpq(1, 2), 2)
    assert (Exact.monomial(3, 5, 1) / Exact.monomial(3, 5, 1)) == Exact.rational(1)
    assert Exact.monomial(1, 1, 1) - Exact.monomial(1, 1, 1) == Exact()
    assert squarefree_split(72) == (6, 2)


def test_rejects_what_it_cannot_decide():
    for bad in (sp.Float(0.5), sp.log(2), sp.E, sp.sqrt(1 + sp.sqrt(2)), sp.sqrt(-2)):
        with pytest.raises(NotExact):
            Exact.from_sympy(bad)
    with pytest.raises(NotExact):
        to_exact(0.5)


def _random_number(rng):
    terms = sp.S.Zero
    for _ in range(rng.randint(1, 3)):
        terms += sp.Rational(rng.randint(-9, 9), rng.randint(1, 5)) * sp.sqrt(rng.choice([1, 2, 3, 6, 8, 12, 45])) \
            * sp.pi ** rng.randint(-1, 1)
    return terms


def test_arithmetic_matches_sympy_and_equality_matches_high_precision():
    """Independent references: SymPy's own arithmetic (for the value) and 60-digit evaluation (for zero)."""
    rng = random.Random(7)
    for _ in range(60):
        x, y = _random_number(rng), _random_number(rng)
        ex, ey = Exact.from_sympy(x), Exact.from_sympy(y)
        for op in ("add", "sub", "mul"):
            value = {"add": x + y, "sub": x - y, "mul": x * y}[op]
            got = {"add": ex + ey, "sub": ex - ey, "mul": ex * ey}[op]
            assert sp.simplify(got.to_sympy() - value) == 0
        if ey.is_monomial:
            assert sp.simplify((ex / ey).to_sympy() - x / y) == 0
        with mpmath.workdps(60):
            zero = abs(mpmath.mpf(sp.N(x - y, 60))) < mpmath.mpf(10) ** -50
        assert (ex == ey) == zero


def test_equal_values_built_differently_are_equal():
    a = Exact.from_sympy(sp.sqrt(3) * sp.sqrt(15) / sp.sqrt(5))  # = 3
    assert a == Exact.rational(3) and a.is_rational
    b = Exact.from_sympy(2 / sp.sqrt(2))                          # = sqrt 2
    assert b == Exact.monomial(1, 2)
    assert hash(b) == hash(Exact.monomial(1, 2))
    assert len({Exact.monomial(1, 2), b, Exact.rational(2) / Exact.monomial(1, 2)}) == 1
    assert all(x != y for x, y in itertools.combinations(
        [Exact.monomial(1, 2), Exact.monomial(1, 3), Exact.monomial(1, 2, 1), Exact.rational(1)], 2))
