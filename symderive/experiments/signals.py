"""Test inputs for the experiments: sequences ``u_1 .. u_L`` sampled on the grid ``t_k = k Delta``.

A discrete input means a *held* signal in continuous time: ``u(s) = u_k`` on ``((k-1) Delta, k Delta]``
and ``u(s) = 0`` for ``s <= 0``. That is the signal whose exact projection the reference computes
(:mod:`.reference`), and the one the lag recurrence extends by "the new input held on the newest slice".
:func:`held_history` evaluates it at ``s = T - lag`` and :func:`steps` gives the number of samples
``K = T / Delta`` of a horizon ``T``.

- ``sines``: ``sin(2 pi 0.5 t) + 0.5 sin(2 pi 1.3 t + 1) + 0.3 sin(2 pi 0.07 t + 2)`` at ``t = t_k``;
- ``noise``: independent standard normal samples (white noise, one value per step);
- ``walk``: a random walk with independent ``N(0, Delta)`` increments (Brownian motion sampled at ``t_k``);
- ``step``: ``0`` before ``t = 0.5``, ``1`` from the first sample with ``t_k > 0.5``.

Random inputs come from ``numpy.random.default_rng(seed)``, so every run draws the same values.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..errors import InputError

SIGNALS = ("sines", "noise", "walk", "step")
STEP_TIME = 0.5
SEED = 20251222


def signal(name: str, L: int, delta: float, seed: int = SEED) -> np.ndarray:
    """The input ``name`` (one of :data:`SIGNALS`) as ``L`` float64 samples at ``t_k = k delta``, k = 1..L."""
    if name not in SIGNALS:
        raise InputError(f"unknown signal {name!r}; known: {', '.join(SIGNALS)}")
    if not isinstance(L, (int, np.integer)) or L < 1:
        raise InputError(f"L must be an integer >= 1, got {L!r}")
    if not (isinstance(delta, (int, float)) and np.isfinite(delta) and delta > 0):
        raise InputError(f"delta must be a finite number > 0, got {delta!r}")
    t = delta * np.arange(1, L + 1, dtype=np.float64)
    rng = np.random.default_rng([seed, SIGNALS.index(name)])
    if name == "sines":
        return (np.sin(2 * np.pi * 0.5 * t) + 0.5 * np.sin(2 * np.pi * 1.3 * t + 1.0)
                + 0.3 * np.sin(2 * np.pi * 0.07 * t + 2.0))
    if name == "noise":
        return rng.standard_normal(L)
    if name == "walk":
        return np.cumsum(rng.standard_normal(L) * np.sqrt(delta))
    return (t > STEP_TIME).astype(np.float64)


def signals(L: int, delta: float, names=SIGNALS, seed: int = SEED) -> np.ndarray:
    """The inputs ``names`` stacked as channels: shape ``(L, len(names))``."""
    return np.stack([signal(name, L, delta, seed) for name in names], axis=1)


def steps(horizon, delta) -> int:
    """``K = horizon / delta`` exactly (both exact numbers or their text, e.g. ``"10"``, ``"1/100"``);
    refused unless ``horizon`` is a positive whole multiple of ``delta``."""
    ratio = Fraction(str(horizon)) / Fraction(str(delta))
    if ratio.denominator != 1 or ratio < 1:
        raise InputError(f"horizon {horizon} must be a positive whole multiple of delta {delta}")
    return int(ratio)


def held_history(u: np.ndarray, delta: float, lags) -> np.ndarray:
    """The held input (module docstring) at ``s = T - lag`` with ``T = L delta``: ``u_k`` for the step
    ``((k-1) delta, k delta]`` covering ``s``, and ``0`` for ``s <= 0`` (``lag >= T``).

    ``k = L - floor(lag / delta)``; the ``1e-9`` absorbs rounding of ``lag / delta`` at step boundaries.
    """
    L = u.shape[0]
    index = L - np.floor(np.asarray(lags, dtype=np.float64) / delta + 1e-9).astype(int)
    return np.where(index >= 1, u[np.clip(index, 1, L) - 1], 0.0)
