"""Exact real numbers with a unique normal form, so that equality is decided, never estimated.

An :class:`Exact` is a finite sum

    x = sum_i r_i * sqrt(h_i) * pi**e_i,     r_i rational (nonzero), h_i squarefree >= 1, e_i integer,

with the pairs ``(h_i, e_i)`` distinct. Every matrix entry symderive derives for a polynomial or
Fourier basis with a rational or quadratic-radical warp parameter, and every published HiPPO matrix,
has this form.

**Why equality is decidable here.** The numbers ``sqrt(h)`` for distinct squarefree ``h`` are
linearly independent over QQ (Besicovitch 1940), so they are a basis of the multiquadratic field
they generate; ``pi`` is transcendental over every algebraic field (Lindemann 1882), so distinct
powers ``pi**e`` are linearly independent over it. Hence the monomials ``sqrt(h) pi**e`` are linearly
independent over QQ: a number has exactly one normal form, ``x == y`` if and only if their normal
forms are identical, and ``x == 0`` if and only if it has no terms. No floating-point value is ever
consulted.

Anything outside this set (``log 2``, ``e``, nested radicals) raises :class:`NotExact`; callers fall
back to a slower symbolic route or report that the question could not be decided exactly.
"""

from __future__ import annotations

import math

import sympy as sp
from flint import fmpq

from ..derivation.exact import squarefree_split

__all__ = ["Exact", "NotExact", "squarefree_split", "to_exact", "matrix_to_exact", "column_to_exact"]


class NotExact(ValueError):
    """A number outside the normal form ``sum r sqrt(h) pi**e`` (see the module docstring)."""


def _rational(value) -> fmpq:
    if isinstance(value, fmpq):
        return value
    if isinstance(value, int):
        return fmpq(value)
    if isinstance(value, sp.Rational):
        return fmpq(int(value.p), int(value.q))
    raise TypeError(f"expected a rational number, got {value!r}")


class Exact:
    """``sum r sqrt(h) pi**e`` in normal form (module docstring). Immutable and hashable."""

    __slots__ = ("terms",)

    def __init__(self, terms=()):
        # terms: iterable of ((h, e), r) already in normal form with r != 0; use the constructors
        self.terms = tuple(sorted(terms, key=lambda t: t[0]))

    # ---------------------------------------------------------------- constructors

    @classmethod
    def _from_dict(cls, acc: dict) -> "Exact":
        obj = cls.__new__(cls)
        obj.terms = tuple(sorted(((key, r) for key, r in acc.items() if r != 0), key=lambda t: t[0]))
        return obj

    @classmethod
    def rational(cls, p, q=1) -> "Exact":
        """The rational ``p / q`` (ints, SymPy rationals or flint fmpq)."""
        r = _rational(p) / _rational(q)
        return cls._from_dict({(1, 0): r})

    @classmethod
    def monomial(cls, r, m: int = 1, e: int = 0) -> "Exact":
        """``r * sqrt(m) * pi**e`` for rational ``r`` and an integer ``m >= 1`` (split to squarefree)."""
        r = _rational(r)
        s, h = squarefree_split(int(m))
        return cls._from_dict({(h, int(e)): r * s})

    @classmethod
    def sqrt_rational(cls, value) -> "Exact":
        """``sqrt(value)`` for a rational ``value >= 0``: ``sqrt(p/q) = sqrt(p q) / q``."""
        value = _rational(value)
        if value < 0:
            raise NotExact(f"sqrt of a negative number {value} is not real")
        if value == 0:
            return ZERO
        return cls.monomial(fmpq(1, int(value.q)), int(value.p) * int(value.q))

    @classmethod
    def from_sympy(cls, expr) -> "Exact":
        """The normal form of a SymPy number; :class:`NotExact` if it lies outside the set."""
        expr = sp.sympify(expr) if isinstance(expr, (int, float)) else expr
        if isinstance(expr, float) or getattr(expr, "is_Float", False):
            raise NotExact(f"{expr} is a floating-point number; exact verification needs exact input")
        if expr.is_Rational:
            return cls.rational(expr)
        acc: dict = {}
        for term in sp.Add.make_args(sp.expand(expr)):
            coeff, rest = term.as_coeff_Mul()
            if not coeff.is_Rational:
                raise NotExact(f"{term} has a non-rational coefficient")
            r, h, e = _rational(coeff), 1, 0
            for factor in sp.Mul.make_args(rest):
                if factor == 1:
                    continue
                if factor is sp.pi:
                    e += 1
                elif factor.is_Pow and factor.base is sp.pi and factor.exp.is_Integer:
                    e += int(factor.exp)
                elif factor.is_Pow and factor.base.is_Integer and factor.base > 0 and factor.exp in (sp.S.Half, -sp.S.Half):
                    b = int(factor.base)
                    if factor.exp < 0:
                        r /= b
                    s, f = squarefree_split(b)
                    r *= s
                    g = math.gcd(h, f)
                    r *= g
                    h = (h // g) * (f // g)
                elif factor.is_Pow and factor.base.is_Rational and factor.exp in (sp.S.Half, -sp.S.Half):
                    part = cls.sqrt_rational(factor.base if factor.exp > 0 else 1 / factor.base)
                    (hf, _), rf = part.terms[0]
                    g = math.gcd(h, hf)
                    r *= rf * g
                    h = (h // g) * (hf // g)
                else:
                    raise NotExact(f"{factor} (in {expr}) is not a rational, a square root of a rational, or a power of pi")
            key = (h, e)
            acc[key] = acc.get(key, fmpq(0)) + r
        return cls._from_dict(acc)

    # ---------------------------------------------------------------- arithmetic

    def __add__(self, other) -> "Exact":
        other = _coerce(other)
        acc = dict(self.terms)
        for key, r in other.terms:
            acc[key] = acc.get(key, fmpq(0)) + r
        return Exact._from_dict(acc)

    __radd__ = __add__

    def __neg__(self) -> "Exact":
        obj = Exact.__new__(Exact)
        obj.terms = tuple((key, -r) for key, r in self.terms)
        return obj

    def __sub__(self, other) -> "Exact":
        return self + (-_coerce(other))

    def __rsub__(self, other) -> "Exact":
        return _coerce(other) - self

    def __mul__(self, other) -> "Exact":
        other = _coerce(other)
        acc: dict = {}
        for (h1, e1), r1 in self.terms:
            for (h2, e2), r2 in other.terms:
                g = math.gcd(h1, h2)
                key = ((h1 // g) * (h2 // g), e1 + e2)
                acc[key] = acc.get(key, fmpq(0)) + r1 * r2 * g
        return Exact._from_dict(acc)

    __rmul__ = __mul__

    def inverse(self) -> "Exact":
        """``1 / x`` for a monomial ``x = r sqrt(h) pi**e``: ``sqrt(h) pi**-e / (r h)``.

        Sums of several monomials are inverted through SymPy's radical simplification; if the result
        leaves the normal-form set, :class:`NotExact` is raised."""
        if not self.terms:
            raise ZeroDivisionError("division by an exact zero")
        if len(self.terms) == 1:
            (h, e), r = self.terms[0]
            return Exact._from_dict({(h, -e): 1 / (r * h)})
        return Exact.from_sympy(sp.radsimp(1 / self.to_sympy()))

    def __truediv__(self, other) -> "Exact":
        return self * _coerce(other).inverse()

    def __rtruediv__(self, other) -> "Exact":
        return _coerce(other) * self.inverse()

    # ---------------------------------------------------------------- queries

    def __eq__(self, other) -> bool:
        try:
            other = _coerce(other)
        except TypeError:
            return NotImplemented
        return self.terms == other.terms

    def __hash__(self) -> int:
        return hash(self.terms)

    def __bool__(self) -> bool:
        return bool(self.terms)

    @property
    def is_zero(self) -> bool:
        return not self.terms

    @property
    def is_rational(self) -> bool:
        return not self.terms or (len(self.terms) == 1 and self.terms[0][0] == (1, 0))

    @property
    def is_monomial(self) -> bool:
        return len(self.terms) == 1

    def as_rational(self) -> fmpq:
        if not self.is_rational:
            raise NotExact(f"{self} is not rational")
        return self.terms[0][1] if self.terms else fmpq(0)

    def to_sympy(self) -> sp.Expr:
        total = sp.S.Zero
        for (h, e), r in self.terms:
            total += sp.Rational(int(r.p), int(r.q)) * sp.sqrt(h) * sp.pi ** e
        return total

    def __float__(self) -> float:
        """Display only: no decision in symderive ever uses this value."""
        return float(self.to_sympy().evalf(20))

    def __str__(self) -> str:
        return sp.sstr(self.to_sympy())

    def __repr__(self) -> str:
        return f"Exact({self})"


ZERO = Exact()


def _coerce(value) -> Exact:
    if isinstance(value, Exact):
        return value
    if isinstance(value, float):
        raise NotExact(f"{value!r} is a floating-point number; exact verification needs exact input")
    if isinstance(value, (int, fmpq, sp.Rational)):
        return Exact.rational(value)
    if isinstance(value, sp.Basic):
        return Exact.from_sympy(value)
    raise TypeError(f"cannot use {type(value).__name__} as an exact number")


def to_exact(value) -> Exact:
    """An :class:`Exact` from an int, fmpq or SymPy number (:class:`NotExact` if outside the set)."""
    return _coerce(value)


def matrix_to_exact(M) -> list[list[Exact]]:
    """Rows of :class:`Exact` from a SymPy matrix (or nested lists of SymPy numbers)."""
    if isinstance(M, sp.MatrixBase):
        return [[to_exact(M[i, j]) for j in range(M.cols)] for i in range(M.rows)]
    return [[to_exact(x) for x in row] for row in M]


def column_to_exact(B) -> list[Exact]:
    """A list of :class:`Exact` from a SymPy column (N x 1) or a flat list."""
    if isinstance(B, sp.MatrixBase):
        return [to_exact(B[i, 0]) for i in range(B.rows)]
    return [to_exact(x) for x in B]
