"""Orthonormal bases on Z = (0, 1].

A basis is N functions ``p_0 .. p_{N-1}`` of ``z`` with ``integral_0^1 p_n p_k w dz = delta_nk``
for a weight ``w`` (1 for every built-in basis).

Bases that are polynomials in a coordinate ``y(z)`` also carry a :class:`PolynomialForm`,

    p_n(z) = sum_i coeffs[n][i] * y(z)**i / sqrt(norm_sq[n]),

with rational ``coeffs`` and ``norm_sq``. That form is what lets the derivation run as exact linear
algebra over the rationals instead of one ``integrate`` call per matrix entry. Two coordinates occur:

- ``"z"``: ``y = z`` (Legendre, custom polynomial bases);
- ``"neglog"``: ``y = -log z`` on ``[0, inf)``, where ``dz = e^{-y} dy`` (log-Laguerre).

Built in: :func:`legendre`, :func:`fourier`, :func:`laguerre`; anything else through :func:`custom`,
which orthonormalizes a list of expressions exactly (Gram-Schmidt in the given order).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import sympy as sp
from flint import fmpq

from .._limits import SymbolicTimeout, active_budget, time_limit
from ..errors import InputError
from .expressions import as_expression, symbol

Z = symbol("z")
MAX_N = 4096


@dataclass(frozen=True, eq=False)
class PolynomialForm:
    """``p_n(z) = sum_i coeffs[n][i] y(z)^i / sqrt(norm_sq[n])`` with rational entries.

    ``coeffs`` is N rows of K rationals (``flint.fmpq``), K >= N the number of monomials;
    ``coordinate`` is ``"z"`` (``y = z``) or ``"neglog"`` (``y = -log z``). Compared and hashed by
    identity: forms are built once per basis (and cached), and the derivation caches key on them, so
    hashing N*K coefficients at every lookup would cost seconds at N = 512.
    """

    coordinate: str
    coeffs: tuple[tuple[fmpq, ...], ...]
    norm_sq: tuple[fmpq, ...]

    @property
    def N(self) -> int:
        return len(self.coeffs)

    @property
    def K(self) -> int:
        return len(self.coeffs[0])

    def coordinate_expr(self, z: sp.Symbol = Z) -> sp.Expr:
        return z if self.coordinate == "z" else -sp.log(z)

    def function(self, n: int, z: sp.Symbol = Z) -> sp.Expr:
        """The SymPy expression of ``p_n``."""
        y = sp.Dummy("y")
        poly = sum((_to_sympy(c) * y**i for i, c in enumerate(self.coeffs[n]) if c != 0), sp.S.Zero)
        return sp.expand(poly).subs(y, self.coordinate_expr(z)) / sp.sqrt(_to_sympy(self.norm_sq[n]))


class Basis:
    """N functions of z on (0, 1], orthonormal for ``weight``.

    ``name`` and ``params`` describe where it came from (``spec`` renders them back);
    ``polynomial_form`` is set when the exact linear-algebra route applies, ``fourier_modes``
    (``[(kind, m), ...]``, ``p_n = a_n kind(2 pi m z)``) for the Fourier basis.
    """

    def __init__(self, name, N, *, functions=None, polynomial_form=None, fourier_modes=None, weight=sp.S.One,
                 params=None, spec=None):
        self.name = name
        self.N = N
        self.weight = sp.sympify(weight)
        self.polynomial_form = polynomial_form
        self.fourier_modes = fourier_modes
        self.params = dict(params or {})
        self._functions = tuple(functions) if functions is not None else None
        self._spec = spec

    @property
    def functions(self) -> tuple[sp.Expr, ...]:
        """``(p_0, ..., p_{N-1})`` as SymPy expressions in ``z`` (built on first use)."""
        if self._functions is None:
            self._functions = tuple(self.polynomial_form.function(n) for n in range(self.N))
        return self._functions

    @property
    def spec(self) -> str:
        return self._spec or self.name

    def __repr__(self) -> str:
        return f"Basis({self.spec!r}, N={self.N})"


def _check_N(N) -> int:
    if isinstance(N, bool) or not isinstance(N, int | sp.Integer):
        raise InputError(f"N must be an integer >= 1, got {N!r}")
    N = int(N)
    if N < 1:
        raise InputError(f"N must be an integer >= 1, got {N}")
    if N > MAX_N:
        raise InputError(f"N must be at most {MAX_N}, got {N}")
    return N


def _to_sympy(c) -> sp.Rational:
    c = fmpq(c)
    return sp.Rational(int(c.p), int(c.q))


def _from_sympy(r: sp.Rational) -> fmpq:
    return fmpq(int(r.p), int(r.q))


@functools.lru_cache(maxsize=32)
def _legendre_form(N: int) -> PolynomialForm:
    # Shifted Legendre P~_n(z) = sum_i a_{n,i} z^i, a_{n,i} = (-1)^(n+i) C(n,i) C(n+i,i), ||P~_n||^2 = 1/(2n+1);
    # along a row a_{n,i+1} = -a_{n,i} (n-i)(n+i+1) / (i+1)^2 (an exact integer division).
    rows = []
    for n in range(N):
        a, row = (-1) ** n, []
        for i in range(n + 1):
            row.append(fmpq(a))
            a = -a * (n - i) * (n + i + 1) // ((i + 1) ** 2)
        rows.append(tuple(row) + (fmpq(0),) * (N - n - 1))
    rows = tuple(rows)
    return PolynomialForm("z", rows, tuple(fmpq(1, 2 * n + 1) for n in range(N)))


@functools.lru_cache(maxsize=32)
def _laguerre_form(N: int) -> PolynomialForm:
    # L_n(y) = sum_i (-1)^i C(n,i) y^i / i!, orthonormal for e^{-y} dy on [0, inf), i.e. dz on (0, 1].
    rows = tuple(
        tuple(fmpq((-1) ** i * math.comb(n, i), math.factorial(i)) if i <= n else fmpq(0)
              for i in range(N))
        for n in range(N)
    )
    return PolynomialForm("neglog", rows, tuple(fmpq(1) for _ in range(N)))


def legendre(N: int = 8) -> Basis:
    """Shifted orthonormal Legendre polynomials ``p_n(z) = sqrt(2n+1) P_n(2z - 1)``."""
    N = _check_N(N)
    return Basis("legendre", N, polynomial_form=_legendre_form(N))


def laguerre(N: int = 8) -> Basis:
    """Log-Laguerre functions ``p_n(z) = L_n(-log z)``, orthonormal for ``dz`` on (0, 1]."""
    N = _check_N(N)
    return Basis("laguerre", N, polynomial_form=_laguerre_form(N))


def fourier(N: int = 8) -> Basis:
    """Fourier basis ``1, sqrt2 cos 2 pi z, sqrt2 sin 2 pi z, sqrt2 cos 4 pi z, ...`` (N functions)."""
    N = _check_N(N)
    modes = [("cos", 0)] + [(kind, j) for j in range(1, N // 2 + 1) for kind in ("cos", "sin")]
    modes = modes[:N]
    funcs = [sp.S.One if m == 0 else sp.sqrt(2) * getattr(sp, kind)(2 * m * sp.pi * Z) for kind, m in modes]
    return Basis("fourier", N, functions=funcs, fourier_modes=tuple(modes))


def custom(functions, weight=1) -> Basis:
    """Orthonormalize ``functions`` (expressions in z, or strings) exactly for ``weight`` on (0, 1].

    Gram-Schmidt in the given order: ``q_n = f_n - sum_{k<n} <f_n, p_k> p_k``, ``p_n = q_n / ||q_n||``,
    so the coefficient of ``f_n`` in ``p_n`` is positive. Linearly dependent or non-square-integrable
    lists are rejected. Polynomials with rational coefficients (in ``z``, or in ``log z``) get a
    :class:`PolynomialForm` and so the exact linear-algebra route.
    """
    if isinstance(functions, str) or not hasattr(functions, "__iter__"):
        raise InputError("custom basis: functions must be a list of expressions in z")
    exprs = [as_expression(f, "z", what=f"basis function {i}") for i, f in enumerate(functions)]
    if not exprs:
        raise InputError("custom basis: the list of functions is empty; give at least one expression in z")
    _check_N(len(exprs))
    w = as_expression(weight, "z", what="basis weight")
    spec = "functions=" + ";".join(sp.sstr(e) for e in exprs)
    if w != 1:
        spec += f" (weight {sp.sstr(w)})"
        return Basis("custom", len(exprs), functions=_gram_schmidt_symbolic(exprs, w), weight=w, spec=spec)
    form = _polynomial_gram_schmidt(exprs)
    if form is not None:
        return Basis("custom", len(exprs), polynomial_form=form, spec=spec)
    return Basis("custom", len(exprs), functions=_gram_schmidt_symbolic(exprs, w), spec=spec)


def _rational_poly(expr: sp.Expr, var: sp.Symbol):
    """Coefficients (low to high) of ``expr`` as a polynomial in ``var`` over QQ, or None."""
    try:
        poly = sp.Poly(sp.expand(expr), var)
    except sp.PolynomialError:
        return None
    if not poly.domain.is_QQ and not poly.domain.is_ZZ:
        return None
    return [_from_sympy(sp.Rational(c)) for c in reversed(poly.all_coeffs())]


def _polynomial_gram_schmidt(exprs) -> PolynomialForm | None:
    """Exact Gram-Schmidt over QQ when every function is a rational polynomial in z or in -log z."""
    y = sp.Dummy("y", positive=True)
    for coordinate, subst, moment in (
        ("z", lambda e: e.subs(Z, y), lambda m: fmpq(1, m + 1)),
        ("neglog", lambda e: sp.expand_log(e.subs(Z, sp.exp(-y)), force=True), lambda m: fmpq(math.factorial(m))),
    ):
        polys = [_rational_poly(subst(e), y) for e in exprs]
        if all(p is not None for p in polys):
            break
    else:
        return None
    K = max(len(exprs), max(len(p) for p in polys))
    rows = [list(p) + [fmpq(0)] * (K - len(p)) for p in polys]

    def inner(a, b):
        return sum((a[i] * b[j] * moment(i + j) for i in range(K) if a[i] for j in range(K) if b[j]), fmpq(0))

    ortho, norms = [], []
    for n, row in enumerate(rows):
        q = list(row)
        for k, (pk, nk) in enumerate(zip(ortho, norms)):
            c = inner(row, pk) / nk
            if c:
                q = [qi - c * pi for qi, pi in zip(q, pk)]
        nq = inner(q, q)
        if nq == 0:
            raise InputError(
                f"custom basis: function {n} ({sp.sstr(exprs[n])}) is linearly dependent on the ones before it; "
                "give linearly independent functions")
        ortho.append(q)
        norms.append(nq)
    return PolynomialForm(coordinate, tuple(tuple(r) for r in ortho), tuple(norms))


def _integral(expr, w):
    try:
        with time_limit():
            return sp.integrate(sp.expand(expr * w), (Z, 0, 1))
    except SymbolicTimeout:
        b = active_budget()
        within = f"within the symbolic budget ({b.seconds:g} s)" if b is not None else "within the time limit"
        raise InputError(f"custom basis: SymPy could not integrate {sp.sstr(expr * w)} on (0, 1] {within}, "
                         f"so the basis cannot be orthonormalized exactly; "
                         "use functions with elementary integrals (e.g. polynomials)") from None


def _gram_schmidt_symbolic(exprs, w):
    """Gram-Schmidt with exact SymPy integrals, for non-polynomial functions or weights."""
    for n, f in enumerate(exprs):
        sq = _integral(f**2, w)
        if sq.has(sp.Integral) or not sq.is_finite:
            raise InputError(
                f"custom basis: function {n} ({sp.sstr(f)}) is not square-integrable on (0, 1] "
                f"(integral of f^2 w is {sp.sstr(sq)}); give functions with a finite integral of f^2 w")
    ortho = []
    for n, f in enumerate(exprs):
        q = f - sum((sp.simplify(_integral(f * p, w)) * p for p in ortho), sp.S.Zero)
        nq = sp.simplify(_integral(q**2, w))
        if nq == 0:
            raise InputError(
                f"custom basis: function {n} ({sp.sstr(f)}) is linearly dependent on the ones before it; "
                "give linearly independent functions")
        ortho.append(sp.simplify(q / sp.sqrt(nq)))
    return ortho


BUILTIN = {"legendre": legendre, "fourier": fourier, "laguerre": laguerre}
