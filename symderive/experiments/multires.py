"""A multi-resolution memory: a bank of exponential warps at several rates, as one generated package.

The paper names multi-resolution memories as future work. A bank (``symderive.codegen.bank``) runs
members ``r`` with warps ``exp(rate_r x)`` side by side on the same input, with a block-diagonal ``A``;
member ``r`` holds the history under the measure ``rate_r e^{rate_r (s - t)}``, so fast members resolve
the recent past finely and slow members keep the distant past. ``history(c, lags)`` of the generated
package reconstructs every member's estimate of ``u(t - lag)`` at once.

The demo feeds a signal with three time scales (periods 0.8, 7 and 60),
``u(t) = sin(2 pi t / 0.8) + 0.6 sin(2 pi t / 7 + 1) + 0.8 sin(2 pi t / 60 + 2)``, held over steps
``Delta``, and compares the members' estimates of the history with single LegS memories of the same
total state size (rate 1 and the slowest rate): the RMS error over windows of lag.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..inputs import bases, warps
from . import report, signals
from .packages import load, load_bank

WINDOW_POINTS = 400      # lags per window at which the RMS errors are taken


def multiscale(L: int, delta: float) -> np.ndarray:
    """The demo input (module docstring) at ``t_k = k delta``, ``k = 1..L``."""
    t = delta * np.arange(1, L + 1, dtype=np.float64)
    return (np.sin(2 * np.pi * t / 0.8) + 0.6 * np.sin(2 * np.pi * t / 7 + 1.0)
            + 0.8 * np.sin(2 * np.pi * t / 60 + 2.0))


def lag_windows(T: float) -> list[tuple[float, float]]:
    """Lag windows ``[0, 1/4], [1/4, 1], [1, 4], ...`` (factors of 4) up to ``T / 2``."""
    edges = [0.0, 0.25]
    while edges[-1] * 4 <= T / 2:
        edges.append(edges[-1] * 4)
    return list(zip(edges[:-1], edges[1:]))


def _rms(values) -> float:
    return float(np.sqrt(np.mean(np.asarray(values) ** 2)))


HORIZON = 2.0      # the horizon readout uses, at lag l, the fastest member with rate * l <= HORIZON


def horizon_readout(estimates: np.ndarray, rates, lags) -> np.ndarray:
    """At each lag ``l``, the estimate of the fastest member whose measure still weighs that lag by at least
    ``e^{-HORIZON}`` of its weight at the present (``rate * l <= HORIZON``); the slowest member beyond all.

    ``estimates`` has shape ``(R, len(lags))`` (``history``'s output); the rule is fixed in advance, not
    fitted to the signal.
    """
    rates = np.asarray([float(sp.Rational(str(r))) for r in rates])
    lags = np.asarray(lags, dtype=np.float64)
    order = np.argsort(-rates)                                   # fastest first
    choice = np.full(lags.shape, order[-1])
    for r in order[::-1]:                                        # slower first, faster overwrite
        choice = np.where(rates[r] * lags <= HORIZON, r, choice)
    return np.take_along_axis(np.asarray(estimates), choice[None, :], axis=0)[0]


def _cost(sizes) -> int:
    """Multiply-adds of one step ``c <- A c + B u`` with dense blocks: ``sum_r (N_r^2 + N_r)``."""
    return int(sum(n * n + n for n in sizes))


def bank_demo(rates, N: int, delta, T, folder) -> dict:
    """Export the bank (rates, Legendre ``N`` each, step ``delta``), run it for ``T`` and measure it
    against single LegS memories with the same states (``R N``) and with the same cost per step (``N_c``
    with ``N_c^2 + N_c`` about the bank's), at rate 1 and at the slowest rate.

    Returns ``table`` (Markdown), ``caption`` and ``figure`` (the data of :func:`.figures.figure_multires`).
    """
    d = sp.Rational(str(delta))
    Tq = sp.Rational(str(T))
    L = signals.steps(Tq, d)
    df, Tf = float(d), float(Tq)
    rate_values = [sp.Rational(str(r)) for r in rates]
    R = len(rate_values)
    bank = load_bank([warps.exponential(r) for r in rate_values], bases.legendre(N), d, "_exp_multires", folder)
    u = multiscale(L, df)
    c = np.asarray(bank.scan_final(u), dtype=np.float64)
    bank_cost = _cost([N] * R)
    S = N * R
    N_cost = max(n for n in range(1, S + 1) if _cost([n]) <= bank_cost)

    singles = []
    for size in (S, N_cost):
        for rate in (sp.Integer(1), min(rate_values)):
            tag = f"n{size}_r{str(rate).replace('/', '_')}"
            pkg = load(warps.exponential(rate), bases.legendre(size), d, f"_exp_single_{tag}", folder)
            cs = np.asarray(pkg.scan_final(u), dtype=np.float64)
            singles.append((f"single LegS rate {rate}, N = {size}", size, pkg, cs, float(rate)))

    def members(lags):
        """Every member's estimate of ``u(t - lag)``, shape ``(R, len(lags))``."""
        return np.asarray(bank.history(c, lags), dtype=np.float64)

    def single(pkg, cs, rate, lags):
        return np.asarray(pkg.reconstruct(cs, np.exp(-rate * np.asarray(lags))), dtype=np.float64)

    windows = lag_windows(Tf)
    labels = [f"bank member rate {r} (N = {N})" for r in rate_values]
    member_rms = [[] for _ in range(R)]
    readout, scale = [], []
    single_rms = [[] for _ in singles]
    for lo, hi in windows:
        lags = np.linspace(lo, hi, WINDOW_POINTS)
        truth = signals.held_history(u, df, lags)
        estimates = members(lags)
        for r in range(R):
            member_rms[r].append(_rms(estimates[r] - truth))
        readout.append(_rms(horizon_readout(estimates, rate_values, lags) - truth))
        for i, (_, _, pkg, cs, rate) in enumerate(singles):
            single_rms[i].append(_rms(single(pkg, cs, rate, lags) - truth))
        scale.append(_rms(truth))
    best = [min(member_rms[r][j] for r in range(R)) for j in range(len(windows))]
    best_names = [labels[int(np.argmin([member_rms[r][j] for r in range(R)]))] for j in range(len(windows))]

    header = ["memory", "states", "multiply-adds per step"] + [f"lag [{lo:g}, {hi:g}]" for lo, hi in windows]
    body = [["RMS of u itself", "-", "-"] + [report.number(x, 2) for x in scale]]
    for r in range(R):
        body.append([labels[r], str(N), str(_cost([N]))] + [report.number(x, 2) for x in member_rms[r]])
    body.append(["bank: best member per window (chosen after the fact)", str(S), str(bank_cost)]
                + [report.number(x, 2) for x in best])
    body.append([f"**bank: horizon readout** (fastest member with rate x lag <= {HORIZON:g})", str(S), str(bank_cost)]
                + [f"**{report.number(x, 2)}**" for x in readout])
    for (label, size, *_), rms in zip(singles, single_rms):
        body.append([label, str(size), str(_cost([size]))] + [report.number(x, 2) for x in rms])
    table = report.table(header, body)
    wins = {label: sum(1 for j in range(len(windows)) if readout[j] < rms[j]) for (label, *_), rms in zip(singles, single_rms)}

    lags = np.geomspace(df / 2, Tf / 2, 1200)
    estimates = members(lags)
    figure = {
        "lags": lags, "u": signals.held_history(u, df, lags),
        "members": [(labels[r], estimates[r]) for r in range(R)],
        "single": (singles[0][0], single(*singles[0][2:], lags)),
        "windows": windows,
        "window_rms": ([(labels[r], member_rms[r], False) for r in range(R)]
                       + [("bank: horizon readout", readout, False)]
                       + [(label, rms, True) for (label, *_), rms in zip(singles, single_rms)]),
        "title": (f"One bank package ({R} exponential warps x Legendre N = {N}, {S} states): the history at every "
                  f"lag from one final state (T = {sp.sstr(Tq)}, Delta = {sp.sstr(d)})"),
    }
    all_rms = member_rms + [readout] + single_rms
    lost = sum(1 for j in range(len(windows)) if min(row[j] for row in all_rms) > 0.5 * scale[j])
    caption = (
        f"A bank of {R} exponential warps (rates {', '.join(sp.sstr(r) for r in rate_values)}; Legendre N = {N} "
        f"each; {S} states; Delta = {sp.sstr(d)}) is exported as **one** generated package (`symderive export` "
        f"with one `--warp` per member; block-diagonal `A`), run over T = {sp.sstr(Tq)} of a signal with periods "
        "0.8, 7 and 60, and its final state is read back at every lag at once with `history(c, lags)`. "
        "Each member is accurate up to a few `1 / rate` and forgets beyond (its estimate goes flat), so the "
        "members take over from each other as the lag grows. The table gives the RMS error of the estimate of `u(t - lag)` over windows of "
        f"lag, against single LegS memories with the same {S} states and with the same cost per step "
        f"(N = {N_cost}). The horizon readout (fixed in advance: at lag `l`, the fastest member with "
        f"`rate l <= {HORIZON:g}`) beats, window by window: "
        + "; ".join(f"{label} in {wins[label]} of {len(windows)}" for label, *_ in singles)
        + f". Best member per window: {', '.join(b.replace('bank member ', '') for b in best_names)}. "
        f"The bank costs {bank_cost} multiply-adds per step against {_cost([S])} for one {S}-state memory. "
        + (f"In {lost} of {len(windows)} windows every memory's error exceeds half the RMS of u itself: "
           "no memory holds that part of the past at that resolution." if lost else "")
    )
    return {"table": table, "caption": caption, "figure": figure}
