"""The quadrature rule of a per-step kernel for a general (non-affine) stationary warp, chosen and checked.

For a basis in ``z`` with weight ``w`` and any stationary warp, a step ``Delta`` is (docs/math.md, section 2)

    A_Delta[n, k] = integral_0^{z_Delta} p_n(z) p_k(lambda_Delta(z)) w(z) dz,
    B_Delta[n]    = integral_{z_Delta}^1 p_n(z) w(z) dz,

evaluated in the generated kernel by an ``M``-point Gauss-Legendre rule with the printed lag map
(:mod:`.printer`): on ``[0, z_Delta]`` through ``z = z_Delta u^q`` (``q``: the common denominator of the
rational powers of ``z`` in the lag map, so ``sqrt(z)`` becomes polynomial in ``u``), on ``[z_Delta, 1]``
directly. Unlike a dilation or translation, ``p_k(lambda_Delta(z))`` is not a polynomial, so no fixed ``M``
is exact; :func:`choose_rule` picks it at export time:

1. **convergence**: over steps ``Delta`` from ``1e-9 DELTA`` to the window length of a finite window
   (longer steps are clamped to it), or else to ``1000 DELTA`` (25 points, geometric), ``M`` grows by 1.5
   from ``max(N, 8)`` until two consecutive rules agree within
   :data:`AGREEMENT` on every entry (entries are at most 1 in size: the basis is orthonormal); the run
   of grid steps around ``DELTA`` where they agree becomes ``[DELTA_MIN, DELTA_MAX]`` of the kernel (steps
   outside are refused at run time; ``DELTA_MAX`` is ``inf`` when the whole window is verified);
2. **an independent check**: the rule at the package's own ``DELTA`` must reproduce the engine's
   ``A_Delta``, ``B_Delta`` (certified balls or converged ball quadrature, computed without this rule)
   within :data:`CHECK_TOLERANCE`.

Either failure leaves the package without ``scan_variable`` and says why. The evaluation here is a plain
numpy transcription of the same formula, used to choose and check the rule; the tests compare the
generated kernels against an mpmath computation written independently.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..symbols import DELTA, Y_POS, Z
from .rules import SMALLEST_WEIGHT, gauss_laguerre, gauss_legendre_01

AGREEMENT = 1e-14           # two consecutive rules must agree this well, entry by entry
CHECK_TOLERANCE = 1e-12     # the rule at DELTA against the engine's matrices, largest entry
MAX_NODES = 384
_MAX_LAGUERRE = 180      # larger Gauss-Laguerre rules have weights below float64's range
_GRID = 25


@dataclass(frozen=True)
class StepRule:
    """The chosen rule: ``power`` q of the substitution, nodes and weights on [0, 1], the verified range."""

    power: int
    nodes: tuple
    weights: tuple
    delta_min: float
    delta_max: float
    check_error: float


def substitution_power(lag_map: sp.Expr) -> int:
    """``q``: the least common denominator of the rational powers of ``z`` (or of bases containing ``z``)
    in the lag map; 1 when there are none."""
    q = 1
    for power in lag_map.atoms(sp.Pow):
        base, exponent = power.args
        if base.has(Z) and exponent.is_Rational and not exponent.is_Integer:
            q = q * exponent.q // math.gcd(q, exponent.q)
    return min(q, 12)


def _numpy_function(expr, arguments):
    return sp.lambdify(arguments, expr, modules="numpy")


def basis_values(basis_kind: str, data, coordinate_values) -> np.ndarray:
    """``P[i, n] = p_n(z_i)`` in numpy (numpy's own Legendre series, not the kernels' recurrence):
    ``data`` is ``N`` for legendre, the orthonormal coefficient rows for polynomial, the modes for fourier,
    the SymPy functions for printed (evaluated by ``lambdify``)."""
    z = np.asarray(coordinate_values, dtype=np.float64)
    if basis_kind == "legendre":
        eye = np.eye(int(data))
        return np.stack([math.sqrt(2 * n + 1) * np.polynomial.legendre.legval(2.0 * z - 1.0, eye[n])
                         for n in range(int(data))], axis=-1)
    if basis_kind == "polynomial":
        return np.stack([np.polynomial.polynomial.polyval(z, np.asarray(row, dtype=np.float64)) for row in data],
                        axis=-1)
    if basis_kind == "fourier":
        columns = []
        for kind, m in data:
            if int(m) == 0:
                columns.append(np.ones_like(z))
            else:
                columns.append(math.sqrt(2.0) * (np.cos if kind == "cos" else np.sin)(2.0 * math.pi * int(m) * z))
        return np.stack(columns, axis=-1)
    if basis_kind == "printed":
        values = [np.broadcast_to(np.asarray(f(z), dtype=np.float64), z.shape) for f in _lambdified(tuple(data))]
        return np.stack(values, axis=-1)
    raise ValueError(f"no numpy evaluation for basis kind {basis_kind!r}")


@functools.lru_cache(maxsize=8)
def _lambdified(functions):
    """The custom basis functions (SymPy, in ``z``) as numpy functions (from parsed expressions)."""
    return tuple(sp.lambdify((Z,), f, modules="numpy") for f in functions)


def lag_pair(delta, *, lag_map, cutoff, complement, weight, power, nodes, weights, basis_kind, data,
             limit=math.inf):
    """``(A_Delta, B_Delta)`` by the kernel's rule (module docstring), in float64 numpy."""
    u = np.asarray(nodes)
    w = np.asarray(weights)
    if delta >= limit:          # the end of a finite support: the kernel clamps to it, z_Delta = 0 exactly
        zc, omz = 0.0, 1.0
    else:
        zc, omz = float(cutoff(delta)), float(complement(delta))
    z = zc * u ** power
    zb = zc + omz * u
    wa = zc * power * u ** (power - 1) * w * _values(weight, z)
    lam = np.asarray(lag_map(z, delta), dtype=np.float64) * np.ones_like(z)
    A = (basis_values(basis_kind, data, z) * wa[:, None]).T @ basis_values(basis_kind, data, lam)
    B = (basis_values(basis_kind, data, zb) * (omz * w * _values(weight, zb))[:, None]).sum(axis=0)
    return A, B


def _values(function, z) -> np.ndarray:
    """``function(z)`` as a float64 array of z's shape (a constant function gives a scalar)."""
    return np.broadcast_to(np.asarray(function(z), dtype=np.float64), np.shape(z))


def _ladder(start: int) -> list[int]:
    """Rule sizes from ``start``, growing by 1.5, ending at :data:`MAX_NODES`."""
    sizes = [start]
    while sizes[-1] < MAX_NODES:
        sizes.append(min(int(sizes[-1] * 1.5) + 1, MAX_NODES))
    return sizes


def neglog_basis_values(basis_kind: str, data, y) -> np.ndarray:
    """``P[i, n] = p_n`` at ``y_i = -log z_i`` (numpy's own Laguerre series for laguerre; ``data`` is ``N``,
    or the coefficient rows of a custom basis polynomial in ``y``)."""
    y = np.asarray(y, dtype=np.float64)
    if basis_kind == "laguerre":
        eye = np.eye(int(data))
        return np.stack([np.polynomial.laguerre.lagval(y, eye[n]) for n in range(int(data))], axis=-1)
    if basis_kind == "polynomial":
        return np.stack([np.polynomial.polynomial.polyval(y, np.asarray(row, dtype=np.float64)) for row in data],
                        axis=-1)
    raise ValueError(f"no numpy evaluation in y = -log z for basis kind {basis_kind!r}")


def neglog_lag_pair(delta, *, lag_map, cutoff, nodes, weights, basis_kind, data):
    """``(A_Delta, B_Delta)`` of a basis in ``y = -log z`` (the kernel's rule): with ``z = z_Delta exp(-s)``,
    Gauss-Laguerre nodes ``s_j`` and weights ``w_j``,

        A[n, k] = z_Delta sum_j w_j p_n(y_Delta + s_j) p_k(Lambda_Delta(y_Delta + s_j)),
        B[n]    = sum_j w_j p_n(s_j) - z_Delta sum_j w_j p_n(y_Delta + s_j)

    (``B = integral_0^1 p_n - integral_0^{z_Delta} p_n``, exact for polynomials in ``y``)."""
    s = np.asarray(nodes)
    root = np.sqrt(np.asarray(weights))
    yc = float(cutoff(delta))
    zc = math.exp(-yc)
    y = yc + s
    whole = neglog_basis_values(basis_kind, data, s) * root[:, None]
    if zc > 0.0:
        lam = np.asarray(lag_map(y, delta), dtype=np.float64) * np.ones_like(y)
        near = neglog_basis_values(basis_kind, data, y) * root[:, None]
        A = (near * zc).T @ (neglog_basis_values(basis_kind, data, lam) * root[:, None])
    else:
        near = np.zeros_like(whole)
        A = np.zeros((whole.shape[1], whole.shape[1]))
    B = (whole * root[:, None]).sum(axis=0) - zc * (near * root[:, None]).sum(axis=0)
    return A, B


def _laguerre_ladder(start: int) -> list[int]:
    """Gauss-Laguerre sizes from ``start`` while the smallest weight stays within float64 (about N <= 175)."""
    return [M for M in _ladder(start) if M <= _MAX_LAGUERRE and min(gauss_laguerre(M)[1]) >= SMALLEST_WEIGHT]


def choose_rule(geometry, basis_kind: str, data, N: int, delta: float, A_ref, B_ref,
                coordinate: str = "z", weight=sp.S.One) -> StepRule | str:
    """The :class:`StepRule` of a general warp (module docstring), or a sentence saying why there is none.

    ``coordinate`` ``"z"``: Gauss-Legendre with the substitution power (of the lag map and the basis
    ``weight``, which multiplies both integrands); ``"neglog"``: Gauss-Laguerre in
    ``y = -log z`` with the lag map and cutoff of :attr:`~symderive.inputs.geometry.LagGeometry.neglog_forms`.
    """
    limit = float(geometry.max_delta) if geometry.max_delta != sp.oo else math.inf
    high = limit if math.isfinite(limit) else 1000.0 * delta
    grid = np.geomspace(delta * 1e-9, high, _GRID)
    if coordinate == "z":
        power = math.lcm(substitution_power(geometry.lag_map), substitution_power(sp.sympify(weight)))
        common = dict(lag_map=_numpy_function(geometry.lag_map, (Z, DELTA)), weight=_numpy_function(weight, (Z,)),
                      cutoff=_numpy_function(geometry.cutoff, (DELTA,)),
                      complement=_numpy_function(geometry.cutoff_complement, (DELTA,)),
                      power=power, basis_kind=basis_kind, data=data, limit=limit)
        rule, evaluate, ladder = gauss_legendre_01, lag_pair, _ladder(max(N, 8))
    else:
        power = 1
        lag_y, cut_y, _ = geometry.neglog_forms
        common = dict(lag_map=_numpy_function(lag_y, (Y_POS, DELTA)), cutoff=_numpy_function(cut_y, (DELTA,)),
                      basis_kind=basis_kind, data=data)
        rule, evaluate, ladder = gauss_laguerre, neglog_lag_pair, _laguerre_ladder(max(N, 8))
        if len(ladder) < 2:
            return (f"a Gauss-Laguerre rule of more than {N} nodes underflows float64, so the per-step "
                    "quadrature in y = -log z cannot be checked; use scan with the fixed step DELTA")

    def pairs(M):
        nodes, weights = rule(M)
        with np.errstate(all="ignore"):
            return [evaluate(d, nodes=nodes, weights=weights, **common) for d in grid]

    previous = pairs(ladder[0])
    agreed = np.zeros(_GRID, dtype=bool)
    chosen = None
    for M in ladder[1:]:
        current = pairs(M)
        agreed = np.array([np.all(np.isfinite(a)) and np.all(np.isfinite(b))
                           and max(np.max(np.abs(a - pa)), np.max(np.abs(b - pb))) <= AGREEMENT
                           for (a, b), (pa, pb) in zip(current, previous)])
        if agreed.all():
            chosen = M
            break
        previous = current
    if chosen is None:
        chosen = ladder[-1]
    # the verified steps: the run of agreeing grid points around DELTA
    at = int(np.searchsorted(grid, delta))
    below = [i for i in range(min(at, _GRID)) if not agreed[i]]
    above = [i for i in range(at, _GRID) if not agreed[i]]
    delta_min = float(grid[below[-1] + 1]) if below else float(grid[0])
    delta_max = float(grid[above[0] - 1]) if above and above[0] > 0 else (float(grid[-1]) if not above else 0.0)
    if not delta_min <= delta <= delta_max:
        return (f"the per-step quadrature of this lag map did not converge to {AGREEMENT:g} with {ladder[-1]} "
                f"nodes at the package's own step DELTA = {delta:g}; use scan with the fixed step DELTA")
    nodes, weights = rule(chosen)
    with np.errstate(all="ignore"):
        A, B = evaluate(delta, nodes=nodes, weights=weights, **common)
    scale = max(1.0, float(np.max(np.abs(A_ref))), float(np.max(np.abs(B_ref))))
    error = max(float(np.max(np.abs(A - np.asarray(A_ref)))), float(np.max(np.abs(B - np.asarray(B_ref))))) / scale
    if not error <= CHECK_TOLERANCE:
        return (f"the per-step quadrature ({chosen} nodes) disagrees with the derived A_Delta, B_Delta at DELTA by "
                f"{error:.1e} (more than {CHECK_TOLERANCE:g}); use scan with the fixed step DELTA")
    if delta_max >= limit:
        delta_max = math.inf            # the whole window: longer steps are clamped to it
    return StepRule(power=power, nodes=nodes, weights=weights, delta_min=delta_min, delta_max=delta_max,
                    check_error=error)
