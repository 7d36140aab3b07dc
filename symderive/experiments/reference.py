"""The exact projection of a held input onto a warped Legendre basis, in mpmath (the reference).

With the held input ``u(s) = u_k`` on ``((k-1) Delta, k Delta]`` (:mod:`.signals`), the state at time
``T = K Delta`` is a finite sum over the slices of the history (docs/math.md, section 1.4, ``w = 1``)::

    c_n(T) = sum_j u_{K-j} G[j, n],   G[j, n] = integral_{e_{j+1}}^{e_j} p_n(z) dz,

where ``e_0 = 1 > e_1 > ...`` are the images under ``sigma_T`` of the slice boundaries (``j`` = age
in steps). For the shifted orthonormal Legendre basis ``p_n(z) = sqrt(2n+1) P_n(2z - 1)`` the integrals
are closed forms, ``F_n(z) = integral_0^z p_n = sqrt(2n+1) (P_{n+1}(x) - P_{n-1}(x)) / (2 (2n+1))`` with
``x = 2z - 1`` (``F_0(z) = z``), evaluated by the three-term recurrence in mpmath at ``dps`` digits; the
subtraction ``F_n(e_j) - F_n(e_{j+1})`` of nearby values loses about ``log10(1/slice width)`` digits,
which the working precision absorbs. Nothing here shares code with the recurrences it checks.

Boundaries ``e_j`` of the warps used in the experiments:

- exponential warp, rate ``r``: ``e_j = exp(-r j Delta)``; slices with ``exp(-r j Delta) < 1e-20``
  are dropped (their contribution is below ``sqrt(2N) 1e-20`` times the input's size);
- linear window ``theta``: ``e_j = max(0, 1 - j Delta / theta)`` (the window holds the last ``theta``);
- scale warp ``s / T`` (time-varying, ``T = K`` steps): ``e_j = (K - j) / K``.

The omega-weighted norm of the input is ``||u||^2 = sum_j u_{K-j}^2 G[j, 0]`` (``p_0 = 1``), and for any
state ``c`` the reconstruction error obeys Pythagoras in the orthonormal basis::

    ||u - sum_n c_n p_n(sigma_T)||_omega^2 = (||u||^2 - |c_ref|^2) + |c - c_ref|^2,

the first term being the projection floor (the best any N-state memory can do).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import mpmath
import numpy as np

from ..errors import InputError

TAIL = mpmath.mpf("1e-20")       # exponential warp: slices with e_j below this are dropped


def mp_number(value) -> mpmath.mpf:
    """An exact number (int, Fraction, SymPy Rational, ``"1/100"``; a float exactly as stored) as an mpf."""
    value = Fraction(value) if isinstance(value, (int, float, Fraction)) else Fraction(str(value))
    return mpmath.mpf(value.numerator) / value.denominator


def exponential_edges(rate, delta, steps: int) -> list:
    """``e_j = exp(-rate j delta)`` for ``j = 0 .. J`` with ``J <= steps`` (tail dropped below 1e-20)."""
    q = mpmath.exp(-mp_number(rate) * mp_number(delta))
    edges, e = [mpmath.mpf(1)], mpmath.mpf(1)
    for _ in range(steps):
        e = e * q
        edges.append(e)
        if e < TAIL:
            break
    return edges


def window_edges(window, delta, steps: int) -> list:
    """``e_j = max(0, 1 - j delta / window)`` for ``j = 0 .. J``, stopping at the window's far end (0)."""
    ratio = mp_number(delta) / mp_number(window)
    edges = [mpmath.mpf(1)]
    for j in range(1, steps + 1):
        e = 1 - j * ratio
        edges.append(max(e, mpmath.mpf(0)))
        if e <= 0:
            break
    return edges


def scale_edges(K: int) -> list:
    """``e_j = (K - j) / K`` for ``j = 0 .. K``: the scale warp ``s / T`` at ``T = K`` unit steps."""
    return [mpmath.mpf(K - j) / K for j in range(K + 1)]


def antiderivatives(z, N: int) -> list:
    """``[F_0(z), ..., F_{N-1}(z)]`` with ``F_n(z) = integral_0^z sqrt(2n+1) P_n(2y - 1) dy`` (module docstring)."""
    x = 2 * z - 1
    P = [mpmath.mpf(1), x]                       # P_0, P_1, then P_{n+1} = ((2n+1) x P_n - n P_{n-1}) / (n+1)
    for n in range(1, N):
        P.append(((2 * n + 1) * x * P[n] - n * P[n - 1]) / (n + 1))
    out = [z]
    for n in range(1, N):
        out.append(mpmath.sqrt(2 * n + 1) * (P[n + 1] - P[n - 1]) / (2 * (2 * n + 1)))
    return out


def slice_integrals(edges, N: int) -> list:
    """``G[j][n] = F_n(e_j) - F_n(e_{j+1})``: the integral of ``p_n`` over slice ``j`` (age order)."""
    if N < 1:
        raise InputError(f"N must be >= 1, got {N}")
    F = [antiderivatives(e, N) for e in edges]
    return [[a - b for a, b in zip(F[j], F[j + 1])] for j in range(len(edges) - 1)]


@dataclass(frozen=True)
class Projection:
    """The exact state ``c`` (mpf, length N) of a held input and its omega-weighted norm squared."""

    c: tuple
    norm2: mpmath.mpf
    slices: int                      # how many slices of history it sums

    def floor(self) -> float:
        """Relative projection floor ``sqrt(||u||^2 - |c|^2) / ||u||`` (0 for a zero input)."""
        if self.norm2 == 0:
            return 0.0
        rest = max(self.norm2 - mpmath.fsum(x * x for x in self.c), mpmath.mpf(0))
        return float(mpmath.sqrt(rest / self.norm2))

    def state_deviation(self, state) -> float:
        """``max_n |state_n - c_n|`` for a float state (computed in mpmath, then rounded)."""
        state = np.asarray(state, dtype=np.float64).reshape(-1)
        if state.shape[0] != len(self.c):
            raise InputError(f"state has {state.shape[0]} entries, the reference {len(self.c)}")
        if not np.all(np.isfinite(state)):
            return float("inf")
        return float(max(abs(mpmath.mpf(float(s)) - c) for s, c in zip(state, self.c)))

    def reconstruction_error(self, state) -> float:
        """Relative omega-weighted error ``||u - sum_n state_n p_n(sigma_T)||_omega / ||u||_omega`` (Pythagoras)."""
        state = np.asarray(state, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(state)):
            return float("inf")
        if self.norm2 == 0:
            return float(mpmath.sqrt(mpmath.fsum((mpmath.mpf(float(s))) ** 2 for s in state)))
        rest = max(self.norm2 - mpmath.fsum(x * x for x in self.c), mpmath.mpf(0))
        deviation = mpmath.fsum((mpmath.mpf(float(s)) - c) ** 2 for s, c in zip(state, self.c))
        return float(mpmath.sqrt((rest + deviation) / self.norm2))


def project(G, u_recent_first) -> Projection:
    """The exact state for the samples ``u_recent_first[j] = u_{K-j}`` (as many as the slices reach)."""
    u = [float(x) for x in np.asarray(u_recent_first, dtype=np.float64).reshape(-1)]
    J = min(len(G), len(u))
    if J == 0:
        raise InputError("no history to project (zero samples)")
    N = len(G[0])
    rows = G[:J]
    u = u[:J]
    c = tuple(mpmath.fdot([row[n] for row in rows], u) for n in range(N))
    norm2 = mpmath.fdot([row[0] for row in rows], [mpmath.mpf(x) ** 2 for x in u])
    return Projection(c=c, norm2=norm2, slices=J)
