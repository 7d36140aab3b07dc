"""Numeric curves for the figures: warps, measures, basis values and lag-shifted basis functions.

Everything is evaluated with numpy from the SymPy expressions of the warps (``lambdify`` of the parsed
expression tree, which holds only whitelisted functions; no user text is evaluated) and from the
three-term recurrence of the shifted orthonormal Legendre basis.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..inputs.warps import StationaryWarp
from ..symbols import X


def legendre_values(z, N: int) -> np.ndarray:
    """``p_n(z) = sqrt(2n+1) P_n(2z - 1)`` for ``n < N``: shape ``z.shape + (N,)`` (three-term recurrence)."""
    z = np.asarray(z, dtype=np.float64)
    x = 2.0 * z - 1.0
    out = np.empty(z.shape + (N,))
    p_prev, p = np.zeros_like(x), np.ones_like(x)
    for n in range(N):
        out[..., n] = np.sqrt(2 * n + 1) * p
        p_prev, p = p, ((2 * n + 1) * x * p - n * p_prev) / (n + 1)
    return out


def warp_and_measure(warp: StationaryWarp, x) -> tuple[np.ndarray, np.ndarray]:
    """``sigma(x) = f(x)`` and ``omega(x) = f'(x)`` (``w = 1``) at ``x = s - t <= 0``; NaN outside the support."""
    x = np.asarray(x, dtype=np.float64)
    f = sp.lambdify(X, warp.f, modules="numpy")
    df = sp.lambdify(X, sp.diff(warp.f, X), modules="numpy")
    inside = x >= float(warp.x_min) if warp.x_min != -sp.oo else np.ones_like(x, dtype=bool)
    sigma = np.full_like(x, np.nan)
    omega = np.full_like(x, np.nan)
    with np.errstate(all="ignore"):
        sigma[inside] = np.broadcast_to(f(x[inside]), x[inside].shape)
        omega[inside] = np.broadcast_to(df(x[inside]), x[inside].shape)
    return sigma, omega


def projected(matrix_column, z) -> np.ndarray:
    """``sum_n v_n p_n(z)`` for a coefficient vector ``v``."""
    v = np.asarray(matrix_column, dtype=np.float64)
    return legendre_values(z, v.shape[0]) @ v
