"""The derivative of the lag matrices with respect to the step: ``dA_Delta/dDelta``, ``dB_Delta/dDelta``.

Differentiating the lag inner products (docs/math.md, section 6.2), for a stationary warp with velocity
``v(z) = 1/g'(z)`` (the speed of the lag flow, ``d lambda_Delta(z)/dDelta = v(lambda_Delta(z))``) and the
cutoff ``z_Delta = f(-Delta)`` (``dz_Delta/dDelta = -v(z_Delta)``), Leibniz's rule gives

    dA_Delta[n, k]/dDelta = -beta_n p_k(1) + integral_0^{z_Delta} p_n(z) (v p_k')(lambda_Delta(z)) w(z) dz
    dB_Delta[n]/dDelta    =  beta_n,          beta_n = p_n(z_Delta) w(z_Delta) v(z_Delta)

(the first term is the boundary term at the cutoff: the newest slice grows by ``v(z_Delta) dDelta``,
where the reconstruction is ``u_hat(1)`` for A and the input for B). When the *interior generator*
``G p = v p'`` maps the span of the basis into itself (``closed``: a dilation or a window translation of
a full polynomial space, a shift of ``y = -log z`` for log-Laguerre functions, a window with paired
Fourier modes), the integral is ``(A_Delta G_int)[n, k]`` with ``G_int[m, k] = <p_m, v p_k'>_w`` and

    dA_Delta/dDelta = A_Delta G_int - beta p(1)^T,      dB_Delta/dDelta = beta.

At ``Delta = 0`` this is ``A_gen = G_int - B_gen p(1)^T`` (docs/math.md, section 3), which the engine checks.
For a dilation ``A_Delta = expm(Delta A_gen)``, so ``dA_Delta/dDelta = A_gen A_Delta``; a window is not a
semigroup and its derivative differs from ``A_gen A_Delta`` (the boundary term at the cutoff).

Not closed (e.g. the power-law warp ``1/(1 - x)``, ``v = z^2``): the kernels evaluate the integral by the
per-step quadrature with ``p_k' = sum_m D[m, k] p_m`` (:func:`derivative_matrix`, exact for polynomial
bases) and the printed velocity.

Every matrix here is exact (``fmpq`` linear algebra on the basis's coefficient form) and rounded once.
"""

from __future__ import annotations

import functools

import mpmath
import sympy as sp
from flint import fmpq, fmpq_mat

from ..errors import InputError
from ..symbols import DELTA, Z
from . import exact
from .model import LagModel, LagPair

ROUTE_CLOSED = "closed"          # dA/dDelta = A G_int - beta p(1)^T, exact
ROUTE_QUADRATURE = "quadrature"  # the interior integral by the per-step quadrature (p' in the span)


def _form_rows(form):
    return [list(row) for row in form.coeffs]


def _times_derivative(rows, K: int, v: list) -> list:
    """Coefficient rows of ``v(y) P_k'(y)`` (``v`` coefficients), padded or checked to ``K`` columns."""
    out = []
    for row in rows:
        d = [row[i] * i for i in range(1, len(row))]
        prod = [fmpq(0)] * (len(d) + len(v))
        for i, a in enumerate(d):
            if a == 0:
                continue
            for j, b in enumerate(v):
                prod[i + j] += a * b
        while len(prod) > K and prod[-1] == 0:
            prod.pop()
        out.append(prod + [fmpq(0)] * (K - len(prod)))
    return out


def _solve_in_span(rows, targets):
    """``X`` with ``X P = Q`` exactly (``P`` = rows, ``Q`` = targets, both N x K), or None when some row of
    ``Q`` is outside the row space of ``P`` (the normal equations, then a check of the product)."""
    N, K = len(rows), len(rows[0])
    if any(len(t) != K for t in targets):
        return None
    P = fmpq_mat(N, K, [x for row in rows for x in row])
    Q = fmpq_mat(N, K, [x for row in targets for x in row])
    X = Q * P.transpose() * (P * P.transpose()).inv()
    return X if X * P == Q else None


def _normalized(X, form, dps: int):
    """``G[m, k] = X[k, m] sqrt(norm_sq[m] / norm_sq[k])`` (the map in the orthonormal basis) in mpmath."""
    N = form.N
    with mpmath.workdps(dps):
        s = [mpmath.sqrt(mpmath.mpf(int(x.p)) / int(x.q)) for x in form.norm_sq]
        return mpmath.matrix([[mpmath.mpf(int(X[k, m].p)) / int(X[k, m].q) * s[m] / s[k] for k in range(N)]
                              for m in range(N)])


@functools.lru_cache(maxsize=64)
def _interior(model: LagModel):
    """``(X, reason)``: the exact solution of ``X P = v P'`` in the coefficient form, or None and why not."""
    if model.warp.time_varying:
        return None, "the warp is time-varying (its step matrices depend on the clock, not on Delta alone)"
    form = model.basis.polynomial_form
    if form is None:
        return None, f"the basis {model.basis.spec} has no polynomial form"
    if model.basis.weight != 1:
        return None, "the basis has a weight other than 1"
    velocity = model._velocity_polynomial      # v_y(y) = c sum_r r_r y^r, rational r's
    if velocity is None:
        return None, f"the velocity of {model.warp.spec} is not a polynomial with rational coefficients in the coordinate"
    c, r, _ = velocity
    rows = _form_rows(form)
    X = _solve_in_span(rows, _times_derivative(rows, form.K, list(r)))
    if X is None:
        return None, (f"v p_k' leaves the span of {model.basis.spec} for the warp {model.warp.spec} "
                      "(the velocity has degree above 1 in the coordinate)")
    return (X, c), None


def closure(model: LagModel) -> str | None:
    """None when ``G p = v p'`` maps the span into itself (the closed derivative route), else the reason."""
    if model.basis.fourier_modes is not None:
        return _fourier_closure(model)
    return _interior(model)[1]


def _fourier_closure(model: LagModel) -> str | None:
    if model.warp.time_varying or model.warp.geometry.kind != "translation":
        return "the Fourier basis is closed under the lag flow only for a window translation"
    modes = set(model.basis.fourier_modes)
    for kind, m in modes:
        if m > 0 and ({"cos": "sin", "sin": "cos"}[kind], m) not in modes:
            return f"the Fourier mode {kind}(2 pi {m} z) has no partner, so its derivative leaves the span"
    return None


def interior_generator(model: LagModel, dps: int = 40) -> mpmath.matrix:
    """``G_int[m, k] = <p_m, v p_k'>_w`` at ``dps`` digits, for a closed model (:func:`closure`).

    Polynomial bases: solved exactly in the coefficient form (``X P = v P'``) and normalized.
    Fourier: ``A_gen + B_gen p(1)^T`` from the exact generator (``w = 1``).
    """
    reason = closure(model)
    if reason is not None:
        raise InputError(f"the interior generator of {model.warp.spec} x {model.basis.spec} is not closed: {reason}")
    if model.basis.fourier_modes is not None:
        A, B = model.numeric_generator("mpmath", dps=dps)
        p1 = p_one(model, dps)
        with mpmath.workdps(dps):
            return A + B * p1.T
    (X, c), _ = _interior(model)
    with mpmath.workdps(dps):
        return _normalized(X, model.basis.polynomial_form, dps) * mpmath.mpf(sp.N(c, dps + 10))


@functools.lru_cache(maxsize=64)
def _derivative_exact(model: LagModel):
    form = model.basis.polynomial_form
    if form is None or form.coordinate != "z":
        return None
    rows = _form_rows(form)
    return _solve_in_span(rows, _times_derivative(rows, form.K, [fmpq(1)]))


def derivative_matrix(model: LagModel, dps: int = 40) -> mpmath.matrix:
    """``D[m, k]`` with ``p_k'(z) = sum_m D[m, k] p_m(z)`` (a basis polynomial in ``z`` whose span holds the
    derivatives), at ``dps`` digits; the quadrature route's ``dA/dDelta`` uses it."""
    X = _derivative_exact(model)
    if X is None:
        raise InputError(f"the derivatives of {model.basis.spec} are not in its span (or it is not polynomial in z)")
    return _normalized(X, model.basis.polynomial_form, dps)


def p_one(model: LagModel, dps: int = 40) -> mpmath.matrix:
    """``p(1)``: the basis at the present ``z = 1``, as an N x 1 mpmath matrix."""
    basis = model.basis
    with mpmath.workdps(dps):
        if basis.fourier_modes is not None:
            return mpmath.matrix([[1 if m == 0 else (mpmath.sqrt(2) if kind == "cos" else 0)]
                                  for kind, m in basis.fourier_modes])
        form = basis.polynomial_form
        if form is not None:
            y1 = exact.boundary_value(form.coordinate)
            out = []
            for n, row in enumerate(form.coeffs):
                total = sum((y1 ** i * c for i, c in enumerate(row)), fmpq(0))
                out.append([mpmath.mpf(int(total.p)) / int(total.q) / mpmath.sqrt(
                    mpmath.mpf(int(form.norm_sq[n].p)) / int(form.norm_sq[n].q))])
            return mpmath.matrix(out)
        return mpmath.matrix([[mpmath.mpf(sp.N(f.subs(Z, 1), dps))] for f in basis.functions])


def cutoff_row(model: LagModel, delta, dps: int = 40) -> mpmath.matrix:
    """``beta = dB_Delta/dDelta``: ``beta_n = p_n(z_Delta) w(z_Delta) v(z_Delta)`` (0 once the step covers a
    finite support), at ``dps`` digits."""
    warp = model.warp
    d = sp.nsimplify(delta)
    z = warp.cutoff(d)
    if z == 0 or (z.is_number and sp.N(z, 30) <= 0):
        return mpmath.zeros(model.N, 1)
    scale = (model.basis.weight * warp.velocity()).subs(Z, z)
    with mpmath.workdps(dps):
        return mpmath.matrix([[mpmath.mpf(sp.N((f.subs(Z, z) * scale), dps + 10))] for f in model.basis.functions])


def numeric_lag_derivative(model: LagModel, delta, dps: int = 40) -> LagPair:
    """``(dA_Delta/dDelta, dB_Delta/dDelta)`` at ``delta`` in mpmath (``dps`` digits), by the closed route:
    ``A_Delta`` from the engine (exact route, certified), ``G_int`` exact, ``beta`` from the printed
    forms. Raises InputError for a model that is not closed (:func:`closure`)."""
    G = interior_generator(model, dps)
    A, _ = model.numeric(delta, dtype="mpmath", dps=dps)
    beta = cutoff_row(model, delta, dps)
    p1 = p_one(model, dps)
    with mpmath.workdps(dps):
        return LagPair(A * G - beta * p1.T, beta, ROUTE_CLOSED, dps=dps)


def exact_lag_derivative(model: LagModel, delta) -> LagPair:
    """``(dA_Delta/dDelta, dB_Delta/dDelta)`` at ``delta`` exactly (SymPy), by differentiating the exact
    lag matrices with a symbolic step (``model.lag(Delta)``); an independent route to
    :func:`numeric_lag_derivative`, practical for small N."""
    A, B = model.lag(DELTA)
    d = sp.nsimplify(delta)
    dA = sp.ImmutableMatrix(A.shape[0], A.shape[1], lambda i, j: sp.diff(A[i, j], DELTA).subs(DELTA, d))
    dB = sp.ImmutableMatrix(B.shape[0], 1, lambda i, j: sp.diff(B[i, 0], DELTA).subs(DELTA, d))
    return LagPair(dA, dB, "exact")
