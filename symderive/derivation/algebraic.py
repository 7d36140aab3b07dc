"""The algebraic route: exact matrices for lag maps that are rational after ``z = t^q``, by algebra.

For a basis polynomial in ``z`` (weight 1), ``p_n(z) = S_n sum_i C[n, i] z^i``, and a warp whose lag map
(or velocity) becomes a rational function of ``t`` under ``z = t^q`` (``q`` the common denominator of
the rational powers of ``z`` in it: ``f = 1/(1-x)`` gives ``lambda(z) = z / (1 - Delta z)``, ``q = 1``;
the window ``f = (1 + x/2)^2`` gives ``lambda(z) = (sqrt z + Delta/2)^2``, ``q = 2``, a polynomial in
``t``), every entry is the integral of a rational function of ``t``:

    A_Delta[n, k] = S_n S_k integral_0^{t_Delta} U_n(t) W_k(t) / Q(t)^D dt,     t_Delta = z_Delta^(1/q)
    U_n(t) = sum_i C[n, i] t^{q i} q t^{q-1},   W_k(t) = sum_j C[k, j] P(t)^j Q(t)^(D-j),   lambda = P / Q

with ``D = K - 1``. When ``Q`` is a constant the integrand is a polynomial and the entries are
rational; when ``Q = alpha + beta t`` is linear, ``u = Q(t)`` turns it into a Laurent polynomial,
``integral u^e du = u^(e+1)/(e+1)`` and ``integral du/u = log(u1/u0)``, so

    A_Delta = S (R + log(u1 / u0) L) S           (R, L rational matrices, u0 = Q(0), u1 = Q(t_Delta))

The generator is the same computation with ``p_k'(z) v(z)`` in place of ``p_k(lambda(z))`` on ``[0, 1]``,
minus the boundary term ``v(1) p_n(1) p_k(1)``, and ``B_Delta`` is a polynomial integral.
Everything is exact linear algebra over the rationals (python-flint). Anything else raises
:class:`NotAlgebraic` with the reason (denominators of degree two or more would need the roots of
``Q``, which are not implemented), and the caller takes the next route.
"""

from __future__ import annotations

import math

import sympy as sp
from flint import fmpq, fmpq_mat, fmpq_poly

from .._limits import SymbolicGaveUp, SymbolicTimeout, time_limit
from ..inputs.bases import Basis
from ..inputs.warps import StationaryWarp, Warp
from ..symbols import T as _T
from ..symbols import Z
from . import exact

ROUTE = "exact-algebraic"
MAX_Q = 12


class NotAlgebraic(Exception):
    """The algebraic route does not apply; the message says why."""


# ---------------------------------------------------------------------- the substitution z = t^q

def _root_degree(expr: sp.Expr) -> int:
    """The least common denominator ``q`` of the rational powers of ``z`` in ``expr``."""
    q = 1
    for power in expr.atoms(sp.Pow):
        if power.base.has(Z):
            if not power.exp.is_Rational:
                raise NotAlgebraic(f"{sp.sstr(power)} is not a rational power of z")
            q = math.lcm(q, int(power.exp.q))
    if q > MAX_Q:
        raise NotAlgebraic(f"the rational powers of z need z = t^{q} (at most t^{MAX_Q} is tried)")
    return q


def _rational_in_t(expr: sp.Expr, what: str) -> tuple[int, fmpq_poly, fmpq_poly]:
    """``(q, P, Q)`` with ``expr(t^q) = P(t) / Q(t)``, rational coefficients; NotAlgebraic otherwise."""
    try:
        with time_limit():
            q = _root_degree(expr)
            r = sp.cancel(sp.powdenest(sp.expand_power_base(expr.subs(Z, _T**q), force=True), force=True))
            num, den = sp.fraction(r)
            P, Q = sp.Poly(num, _T), sp.Poly(den, _T)
    except SymbolicGaveUp:
        raise NotAlgebraic(f"{what} {sp.sstr(expr)} is not a rational function of z^(1/q) (SymPy gave up)") from None
    except SymbolicTimeout:
        raise NotAlgebraic(f"the symbolic budget ran out while writing {what} as a rational function") from None
    except (sp.PolynomialError, sp.GeneratorsNeeded, ValueError, TypeError):
        raise NotAlgebraic(f"{what} {sp.sstr(expr)} is not a rational function of z^(1/q)") from None
    if not (P.domain.is_QQ or P.domain.is_ZZ) or not (Q.domain.is_QQ or Q.domain.is_ZZ):
        raise NotAlgebraic(f"{what} {sp.sstr(expr)} has coefficients that are not rational")
    if Q.degree() > 1:
        raise NotAlgebraic(f"the denominator of {what} ({sp.sstr(Q.as_expr())} in t = z^(1/{q})) has degree "
                           f"{Q.degree()}: partial fractions over its roots are not implemented")
    return q, _to_flint(P), _to_flint(Q)


def _to_flint(poly: sp.Poly) -> fmpq_poly:
    return fmpq_poly([_fmpq(c) for c in reversed(poly.all_coeffs())])


def _fmpq(value) -> fmpq:
    value = sp.Rational(value)
    return fmpq(int(value.p), int(value.q))


def _exact_rational(value: sp.Expr, what: str) -> fmpq:
    try:
        with time_limit():
            value = sp.nsimplify(sp.simplify(value), rational=False) if not value.is_Rational else value
    except SymbolicGaveUp:
        raise NotAlgebraic(f"SymPy could not simplify {what}") from None
    except SymbolicTimeout:
        raise NotAlgebraic(f"the symbolic budget ran out while simplifying {what}") from None
    if not value.is_Rational:
        raise NotAlgebraic(f"{what} = {sp.sstr(value)} is not rational")
    return _fmpq(value)


# ---------------------------------------------------------------------- integrals of U W / Q^D

def _coefficients(polys: list[fmpq_poly], width: int) -> fmpq_mat:
    rows = []
    for p in polys:
        c = [fmpq(x) for x in p.coeffs()]
        rows.append(c + [fmpq(0)] * (width - len(c)))
    return fmpq_mat(rows)


def _shift(width: int, alpha: fmpq, beta: fmpq) -> fmpq_mat:
    """``T[m, :]``: the coefficients in ``u`` of ``t^m`` with ``t = (u - alpha) / beta``."""
    base = fmpq_poly([-alpha / beta, 1 / beta])
    rows, power = [], fmpq_poly([1])
    for _ in range(width):
        c = [fmpq(x) for x in power.coeffs()]
        rows.append(c + [fmpq(0)] * (width - len(c)))
        power = power * base
    return fmpq_mat(rows)


def _integrate(U: list[fmpq_poly], W: list[fmpq_poly], Q: fmpq_poly, D: int, t0: fmpq, t1: fmpq):
    """``integral_t0^t1 U_n W_k / Q^D dt`` for all ``n, k`` as ``(R, L, rho)``: the value is
    ``R + L log(rho)`` (``L`` and ``rho`` None when no logarithm occurs)."""
    width = 1 + max(max((p.degree() for p in U), default=0), max((p.degree() for p in W), default=0))
    Uc, Wc = _coefficients(U, width), _coefficients(W, width)
    if Q.degree() <= 0:
        q0 = fmpq(Q.coeffs()[0])
        H = fmpq_mat([[(t1 ** (a + b + 1) - t0 ** (a + b + 1)) / (a + b + 1) for b in range(width)]
                      for a in range(width)])
        return Uc * H * Wc.transpose() / q0 ** D, None, None
    alpha, beta = (fmpq(x) for x in Q.coeffs())
    u0, u1 = alpha + beta * t0, alpha + beta * t1
    if u0 * u1 <= 0:
        raise NotAlgebraic("the integrand has a pole in the interval of integration")
    T = _shift(width, alpha, beta)
    Uu, Wu = Uc * T, Wc * T

    def moment(e):
        return fmpq(0) if e == -1 else (u1 ** (e + 1) - u0 ** (e + 1)) / (e + 1)
    H = fmpq_mat([[moment(a + b - D) for b in range(width)] for a in range(width)])
    E = fmpq_mat([[fmpq(1) if a + b - D == -1 else fmpq(0) for b in range(width)] for a in range(width)])
    R = Uu * H * Wu.transpose() / beta
    L = Uu * E * Wu.transpose() / beta
    return R, L, u1 / u0


# ---------------------------------------------------------------------- matrices

def _form(warp: Warp, basis: Basis):
    form = basis.polynomial_form
    if form is None or form.coordinate != "z" or sp.sympify(basis.weight) != 1:
        raise NotAlgebraic(f"the basis {basis.spec} is not polynomial in z with weight 1")
    if not isinstance(warp, StationaryWarp):
        raise NotAlgebraic(f"the warp {warp.spec} is not stationary")
    return form


def _monomials(form, q: int) -> list[fmpq_poly]:
    """``U_n(t) = sum_i C[n, i] t^(q i) q t^(q - 1)`` (the basis at ``z = t^q`` times ``dz/dt``)."""
    out = []
    for row in form.coeffs:
        c = [fmpq(0)] * (q * (len(row) - 1) + q)
        for i, x in enumerate(row):
            c[q * i + q - 1] = x * q
        out.append(fmpq_poly(c))
    return out


def _to_sympy(R, L, rho, form, vector=False) -> sp.ImmutableMatrix:
    """``S (R + log(rho) L) S`` (or ``S R`` for a column) as a SymPy matrix, through the exact route's
    fast materialization of rational cores (:func:`symderive.derivation.exact.to_sympy`)."""
    rational = exact.to_sympy(R, form, vector=vector)
    if L is None:
        return rational
    logs = exact.to_sympy(L, form, vector=vector)
    log = sp.log(sp.Rational(int(rho.p), int(rho.q)))

    def entry(a, b):   # a + b log(rho), assembled without SymPy's re-flattening (1 ms an entry otherwise)
        if b == 0:
            return a
        term = sp.Mul(*(b.args if b.is_Mul else (b,)), log, evaluate=False)
        return term if a == 0 else sp.Add(a, term, evaluate=False)
    return sp.ImmutableMatrix(rational.rows, rational.cols, [entry(a, b) for a, b in zip(rational, logs)])


def _bounded(compute):
    """Run ``compute()`` within the derivation's budget (it is Python and flint work that grows like N^3
    in rationals that grow with N, and SymPy materialization): out of time means NotAlgebraic."""
    try:
        with time_limit():
            return compute()
    except SymbolicTimeout:
        raise NotAlgebraic("the symbolic budget ran out during the algebraic route") from None


def lag(warp: Warp, basis: Basis, delta: sp.Expr, t=None):
    """Exact ``(A_Delta, B_Delta)`` as SymPy matrices, or :class:`NotAlgebraic`."""
    return _bounded(lambda: _lag(warp, basis, delta))


def generator(warp: Warp, basis: Basis):
    """Exact ``(A_gen, B_gen)`` as SymPy matrices, or :class:`NotAlgebraic`."""
    return _bounded(lambda: _generator(warp, basis))


def _lag(warp: Warp, basis: Basis, delta: sp.Expr):
    form = _form(warp, basis)
    if delta.free_symbols:
        raise NotAlgebraic("the algebraic route needs a numeric Delta")
    q, P, Q = _rational_in_t(warp.lag_map(delta), "the lag map")
    K = form.K
    z_cut = _exact_rational(warp.cutoff(delta), "the cutoff z_Delta")
    t_cut = _exact_rational(sp.Rational(int(z_cut.p), int(z_cut.q)) ** sp.Rational(1, q), "z_Delta^(1/q)")
    D = K - 1
    P_pow, Q_pow = [fmpq_poly([1])], [fmpq_poly([1])]
    for _ in range(D):
        P_pow.append(P_pow[-1] * P)
        Q_pow.append(Q_pow[-1] * Q)
    terms = [P_pow[j] * Q_pow[D - j] for j in range(K)]
    width = 1 + max(p.degree() for p in terms)
    Tm = _coefficients(terms, width)
    Wm = exact.coefficient_matrix(form) * Tm                   # W_k = sum_j C[k, j] P^j Q^(D-j)
    W = [fmpq_poly([Wm[k, m] for m in range(width)]) for k in range(form.N)]
    R, L, rho = _integrate(_monomials(form, q), W, Q, D, fmpq(0), t_cut)
    # B_Delta[n] = S_n sum_i C[n, i] (1 - z_Delta^(i+1)) / (i + 1)
    column = fmpq_mat([[(1 - z_cut ** (i + 1)) / (i + 1)] for i in range(K)])
    B = exact.coefficient_matrix(form) * column
    return _to_sympy(R, L, rho, form), _to_sympy(B, None, None, form, vector=True)


def _generator(warp: Warp, basis: Basis):
    form = _form(warp, basis)
    q, P, Q = _rational_in_t(warp.velocity(), "the velocity")
    if Q(1) == 0:
        raise NotAlgebraic("the velocity has a pole at z = 1")
    v1 = P(1) / Q(1)
    # p_k'(z) = sum_i i C[k, i] z^(i-1), at z = t^q, times P(t); denominator Q^1
    W = []
    for row in form.coeffs:
        c = [fmpq(0)] * (q * max(len(row) - 2, 0) + 1)
        for i, x in enumerate(row):
            if i:
                c[q * (i - 1)] = x * i
        W.append(fmpq_poly(c) * P)
    R, L, rho = _integrate(_monomials(form, q), W, Q, 1, fmpq(0), fmpq(1))
    C = exact.coefficient_matrix(form)
    ones = fmpq_mat([[fmpq(1)] for _ in range(form.K)])
    p1 = C * ones                                               # p_n(1) / S_n
    R = R - p1 * p1.transpose() * v1
    return _to_sympy(R, L, rho, form), _to_sympy(p1 * v1, None, None, form, vector=True)
