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

from .. import cost
from .._limits import SymbolicGaveUp, SymbolicTimeout, active_budget, tidy, time_limit
from ..errors import InputError
from ..symbols import Z
from .expressions import as_expression
from .sampling import mp_function

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
                 params=None, spec=None, form_factory=None, coordinate=None):
        self.name = name
        self.N = N
        self.weight = sp.sympify(weight)
        self._form = polynomial_form
        self._form_factory = form_factory
        self._coordinate = coordinate if polynomial_form is None else polynomial_form.coordinate
        self.fourier_modes = fourier_modes
        self.params = dict(params or {})
        self._functions = tuple(functions) if functions is not None else None
        self._spec = spec

    @property
    def polynomial_form(self) -> PolynomialForm | None:
        """The exact polynomial form, built on first use (for built-in bases: after the cost check of
        :mod:`symderive.cost`, so that ``legendre(4096)`` is refused, not built for an hour)."""
        if self.form_pending:
            cost.check("basis", self.name, self.N, f"{self.name}({self.N})")
            self._form = self._form_factory(self.N)
        return self._form

    @property
    def form_pending(self) -> bool:
        """True while a built-in basis's exact polynomial form is still to be built (it costs N^2 rationals)."""
        return self._form is None and self._form_factory is not None

    @property
    def coordinate(self) -> str | None:
        """``"z"`` or ``"neglog"`` for a basis with a polynomial form (without building it), else None."""
        return self._coordinate

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
    # Along a row C(n,i+1) = C(n,i) (n-i)/(i+1) (exact); the factorials are shared by every row.
    factorials = [1]
    for i in range(1, N):
        factorials.append(factorials[-1] * i)
    rows = []
    for n in range(N):
        row, c = [], 1
        for i in range(N):
            row.append(fmpq((-1) ** i * c, factorials[i]) if i <= n else fmpq(0))
            c = c * (n - i) // (i + 1)
        rows.append(tuple(row))
    rows = tuple(rows)
    return PolynomialForm("neglog", rows, tuple(fmpq(1) for _ in range(N)))


def legendre(N: int = 8) -> Basis:
    """Shifted orthonormal Legendre polynomials ``p_n(z) = sqrt(2n+1) P_n(2z - 1)``."""
    N = _check_N(N)
    return Basis("legendre", N, form_factory=_legendre_form, coordinate="z")


def laguerre(N: int = 8) -> Basis:
    """Log-Laguerre functions ``p_n(z) = L_n(-log z)``, orthonormal for ``dz`` on (0, 1]."""
    N = _check_N(N)
    return Basis("laguerre", N, form_factory=_laguerre_form, coordinate="neglog")


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
    for i, e in enumerate(exprs):
        _check_real(e, f"basis function {i}")
    _check_real(w, "basis weight")
    spec = "functions=" + ";".join(sp.sstr(e) for e in exprs)
    if w != 1:
        spec += f" (weight {sp.sstr(w)})"
        return Basis("custom", len(exprs), functions=_gram_schmidt_symbolic(exprs, w), weight=w, spec=spec)
    form = _polynomial_gram_schmidt(exprs)
    if form is not None:
        return Basis("custom", len(exprs), polynomial_form=form, spec=spec)
    return Basis("custom", len(exprs), functions=_gram_schmidt_symbolic(exprs, w), spec=spec)


_REALITY_POINTS = 33


def _check_real(expr: sp.Expr, what: str) -> None:
    """Refuse an expression that is not a finite real number at the interior points ``k / 34`` of
    (0, 1] (``sqrt(z - 1)``, ``log(z - 2)``, ``(-z)**0.5``): an orthonormal basis is real, and a pole
    inside (0, 1) is not square-integrable. Evaluated with mpmath at 30 digits, within the budget."""
    if not expr.free_symbols:
        return
    import mpmath   # noqa: PLC0415 - only custom bases need it
    try:
        with time_limit():
            fn = mp_function(expr, Z)
            with mpmath.workdps(30):
                for k in range(1, _REALITY_POINTS + 1):
                    point = mpmath.mpf(k) / (_REALITY_POINTS + 1)
                    value = fn(point)
                    if mpmath.im(value) != 0 or not mpmath.isfinite(value):
                        shown = mpmath.nstr(value, 6) if mpmath.isfinite(value) else "not finite"
                        raise InputError(f"custom basis: {what} ({sp.sstr(expr)}) is not a finite real number on "
                                         f"(0, 1] (at z = {mpmath.nstr(point, 6)}: {shown}); "
                                         "a basis must be real and square-integrable on (0, 1]")
    except SymbolicTimeout:
        return   # undecided within the budget: the numeric route refuses non-real values itself


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
    try:
        with time_limit():
            return _polynomial_gram_schmidt_within(exprs)
    except SymbolicTimeout:
        return None      # not recognized as polynomial in time: the symbolic route (under the budget) decides


def _polynomial_gram_schmidt_within(exprs) -> PolynomialForm | None:
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
    except SymbolicGaveUp as exc:
        raise InputError(f"custom basis: SymPy could not integrate {_shown(expr * w)} on (0, 1] ({exc}), so the basis "
                         "cannot be orthonormalized exactly; use functions with elementary integrals "
                         "(e.g. polynomials)") from None
    except SymbolicTimeout:
        b = active_budget()
        within = f"within the symbolic budget ({b.seconds:g} s)" if b is not None else "within the time limit"
        raise InputError(f"custom basis: SymPy could not integrate {_shown(expr * w)} on (0, 1] {within}, "
                         f"so the basis cannot be orthonormalized exactly; "
                         "use functions with elementary integrals (e.g. polynomials)") from None


def _shown(expr, limit: int = 160) -> str:
    """``expr`` as text for a message, cut to ``limit`` characters; printing a large intermediate expression
    (gamma, exp_polar, nested logs) can take seconds, so it gets one second, then a placeholder."""
    try:
        with time_limit(1.0, own=True):
            text = sp.sstr(expr)
    except SymbolicTimeout:
        return "an intermediate integrand too large to print"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _refuse_sampled_dependence(exprs) -> None:
    """Refuse a list whose functions are linearly dependent at 48 points of (0, 1) (at 40 digits: the
    smallest singular value of the sampled matrix below 1e-25 of the largest): ``exp(z); exp(z)`` or
    ``exp(z); 2*exp(z)``, before SymPy spends the budget integrating a zero norm."""
    if len(exprs) < 2:
        return
    import mpmath   # noqa: PLC0415 - only custom bases need it
    try:
        with time_limit(), mpmath.workdps(40):
            fns = [mp_function(e, Z) for e in exprs]
            points = [mpmath.mpf(2 * k + 1) / 97 for k in range(48)]
            F = mpmath.matrix([[fn(p) for fn in fns] for p in points])
            sigma = mpmath.svd_r(F, compute_uv=False)
    except (SymbolicTimeout, ValueError, TypeError, ZeroDivisionError, ArithmeticError):
        return   # undecided: the exact Gram-Schmidt below decides
    largest = max(abs(s) for s in sigma)
    if largest > 0 and min(abs(s) for s in sigma) < mpmath.mpf(10) ** -25 * largest:
        raise InputError("custom basis: the functions are linearly dependent (their values at 48 points of (0, 1) "
                         "are; e.g. one is a multiple of another); give linearly independent functions")


def _finite_value(value: sp.Expr) -> float | None:
    """``value`` as a float when it is a finite real number (checked numerically, within the budget: SymPy
    calls ``-2 Ei(2) + oo`` finite), else None."""
    if value.has(sp.Integral, sp.oo, -sp.oo, sp.zoo, sp.nan) or value.free_symbols:
        return None
    try:
        with time_limit():
            number = complex(sp.N(value, 30))
    except (TypeError, ValueError, ArithmeticError, SymbolicTimeout):
        return None
    if number.imag != 0 or not math.isfinite(number.real):
        return None
    return number.real


def _gram_schmidt_symbolic(exprs, w):
    """Gram-Schmidt with exact SymPy integrals, for non-polynomial functions or weights."""
    for n, f in enumerate(exprs):
        sq = _integral(f**2, w)
        if sq.has(sp.Integral):
            raise InputError(
                f"custom basis: SymPy found no closed form for the integral of f^2 w of function {n} ({sp.sstr(f)}) "
                "on (0, 1], so the basis cannot be orthonormalized exactly; use functions with elementary "
                "integrals (e.g. polynomials)")
        if _finite_value(sq) is None:
            raise InputError(
                f"custom basis: function {n} ({sp.sstr(f)}) is not square-integrable on (0, 1] "
                f"(integral of f^2 w is {sp.sstr(sq)}); give functions with a finite integral of f^2 w")
    _refuse_sampled_dependence(exprs)
    ortho = []
    for n, f in enumerate(exprs):
        q = f - sum((tidy(_integral(f * p, w)) * p for p in ortho), sp.S.Zero)
        nq = tidy(_integral(q**2, w))
        if nq.has(sp.Integral):      # (printing the unevaluated integral can itself take a minute)
            raise InputError(f"custom basis: SymPy found no closed form for the norm of function {n} ({sp.sstr(f)}) "
                             "after removing the ones before it, so the basis cannot be orthonormalized exactly; "
                             "use functions with elementary integrals (e.g. polynomials)")
        value = _finite_value(nq)
        if value is None:
            raise InputError(f"custom basis: the norm of function {n} ({sp.sstr(f)}) after removing the ones before "
                             f"it is not a finite number ({sp.sstr(nq)[:200]}); give square-integrable functions")
        if nq == 0 or value <= 1e-20 * _finite_value(_integral(f**2, w)):   # relative: f may be tiny
            raise InputError(
                f"custom basis: function {n} ({sp.sstr(f)}) is linearly dependent on the ones before it; "
                "give linearly independent functions")
        ortho.append(tidy(q / sp.sqrt(nq)))
    return ortho


BUILTIN = {"legendre": legendre, "fourier": fourier, "laguerre": laguerre}
