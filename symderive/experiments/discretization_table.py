"""The discretization table: the lag recurrence against ODE discretizations, measured exactly.

For each model, input (:mod:`.signals`), step ``Delta`` and horizon ``T = K Delta``, every method is run
in float64 over the same held input from ``c_0 = 0``, and its state after ``K`` steps is compared with
the exact projection of the input (:mod:`.reference`, mpmath):

- ``deviation``: ``max_n |c_n - c_ref,n|``;
- ``reconstruction``: ``||u - u_hat||_omega / ||u||_omega`` with ``u_hat = sum_n c_n p_n(sigma_T)``, which is
  ``sqrt(floor^2 + |c - c_ref|^2 / ||u||^2)``; ``floor`` is the projection floor (the exact state's error).

Models and methods:

- ``legs`` (exponential warp, rate 1 x Legendre): the lag recurrence (a generated package's ``scan_final``)
  and HiPPO-LegS (``dc/dt = -A_LegS c + B_LegS u``, typed from the HiPPO formula) discretized by
  forward Euler, backward Euler, bilinear and ZOH (:mod:`.discretizations`, computed in mpmath);
- ``legt`` (linear window ``theta`` x Legendre): the same with HiPPO-LegT (orthonormal); here the lag
  recurrence is not a discretization of the LegT ODE (the window drops its oldest slice exactly);
- ``legs-tv`` (the scale warp ``s/t``, time-varying, unit steps): the lag recurrence (generated
  scale-warp package) against the HiPPO reference code's per-step rules (``A/t``, ``B/t``) and its
  ZOH option (the exact step ``t -> t+1`` applied to ``u_t``: the scale-warp kernel started at ``t0 = 1``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
import numpy as np
import sympy as sp

from ..errors import InputError
from ..inputs import bases, warps
from ..verification.families import family
from . import discretizations, reference, signals
from .packages import load

LAG = "lag"
FIXED_METHODS = (LAG, "forward", "backward", "bilinear", "zoh")
TV_METHODS = (LAG, "ref-forward", "ref-backward", "ref-bilinear", "ref-zoh")
METHOD_TITLES = {
    LAG: "lag recurrence", "forward": "forward Euler", "backward": "backward Euler", "bilinear": "bilinear",
    "zoh": "ZOH", "ref-forward": "ref. code forward", "ref-backward": "ref. code backward",
    "ref-bilinear": "ref. code bilinear", "ref-zoh": "ref. code ZOH",
}


@dataclass(frozen=True)
class Case:
    """One row: a model, an input, a step and a horizon, with every method's errors."""

    model: str
    signal: str
    delta: str                       # exact text, e.g. "1/100" (the time-varying model: sample spacing)
    horizon: str                     # T (time units), exact text
    steps: int                       # K = T / Delta
    floor: float
    deviation: dict = field(default_factory=dict)        # method -> max_n |c_n - c_ref,n|
    reconstruction: dict = field(default_factory=dict)   # method -> relative omega-weighted error


def _cases(model, names, delta, checkpoints, references, states) -> list[Case]:
    """One :class:`Case` per (horizon, input): ``checkpoints`` is a list of ``(T text, K)``."""
    out = []
    for T, K in checkpoints:
        for h, name in enumerate(names):
            ref = references[K][h]
            dev = {m: ref.state_deviation(states[m][K][h]) for m in states}
            rec = {m: ref.reconstruction_error(states[m][K][h]) for m in states}
            out.append(Case(model, name, str(delta), str(T), K, ref.floor(), dev, rec))
    return out


def _final_states(package, U, checkpoints, **kw) -> dict:
    """``{K: scan_final(U[:K]) (H, N)}`` with a generated package."""
    return {K: np.asarray(package.scan_final(np.ascontiguousarray(U[:K]), **kw)) for K in checkpoints}


def stationary_cases(model: str, N: int, deltas, horizons, folder, dps: int = 30, window="1",
                     names=signals.SIGNALS, log=print) -> list[Case]:
    """The ``legs`` or ``legt`` rows (module docstring); ``folder`` receives the generated packages."""
    if model == "legs":
        warp, fam = warps.exponential(), family("legs")
    elif model == "legt":
        warp, fam = warps.linear(sp.Rational(str(window))), family("legt", window=sp.Rational(str(window)))
    else:
        raise InputError(f"unknown stationary model {model!r}; valid: legs, legt")
    A_ode, B_ode = fam.sympy_matrices(N)
    rows = []
    for delta in deltas:
        start = time.perf_counter()
        d = sp.Rational(str(delta))
        checkpoints = [signals.steps(T, delta) for T in horizons]
        L = max(checkpoints)
        U = signals.signals(L, float(d), names)
        tag = str(delta).replace("/", "_")
        package = load(warp, bases.legendre(N), d, f"_exp_{model}_n{N}_d{tag}", folder)
        states = {LAG: _final_states(package, U, checkpoints)}
        for rule in discretizations.FIXED_RULES:
            Ad, Bd = discretizations.fixed_step(rule, A_ode, B_ode, d, dps=dps + 10)
            states[rule] = discretizations.run_fixed(Ad, Bd, U, checkpoints)
        with mpmath.workdps(dps):
            if model == "legs":
                edges = reference.exponential_edges(1, d, L)
            else:
                edges = reference.window_edges(sp.Rational(str(window)), d, L)
            G = reference.slice_integrals(edges, N)
            refs = {K: [reference.project(G, U[:K][::-1, h]) for h in range(len(names))] for K in checkpoints}
            rows += _cases(model, names, delta, list(zip(horizons, checkpoints)), refs, states)
        log(f"  {model} N={N} delta={delta}: {len(checkpoints)} horizons x {len(names)} inputs "
            f"({len(G)} reference slices) in {time.perf_counter() - start:.1f} s")
    return rows


def time_varying_cases(N: int, steps, folder, delta="1/100", dps: int = 30, names=signals.SIGNALS,
                       log=print) -> list[Case]:
    """The ``legs-tv`` rows: the scale warp's lag recurrence vs the reference code's per-step rules.

    The scale warp is scale invariant, so ``delta`` only sets how the inputs are sampled (``t_k = k delta``).
    """
    start = time.perf_counter()
    checkpoints = sorted(int(k) for k in steps)
    L = checkpoints[-1]
    U = signals.signals(L, float(sp.Rational(str(delta))), names)
    package = load(warps.scale(), bases.legendre(N), None, f"_exp_legs_scale_n{N}", folder)
    states = {LAG: _final_states(package, U, checkpoints),
              "ref-zoh": _final_states(package, U, checkpoints, t0=1.0)}
    A_ode, B_ode = family("legs").sympy_matrices(N)
    A = np.array(A_ode.tolist(), dtype=np.float64)
    B = np.array(B_ode.tolist(), dtype=np.float64).reshape(-1)
    for rule in discretizations.TIME_VARYING_RULES:
        states["ref-" + rule] = discretizations.run_time_varying(rule, A, B, U, checkpoints)
    states = {m: states[m] for m in TV_METHODS}
    with mpmath.workdps(dps):
        refs = {}
        for K in checkpoints:
            G = reference.slice_integrals(reference.scale_edges(K), N)
            refs[K] = [reference.project(G, U[:K][::-1, h]) for h in range(len(names))]
        rows = _cases("legs-tv", names, delta, [(Fraction(str(delta)) * K, K) for K in checkpoints], refs, states)
    log(f"  legs-tv N={N}: {len(checkpoints)} horizons x {len(names)} inputs in {time.perf_counter() - start:.1f} s")
    return rows


ROUNDING = 1e-15      # deviations below this count as float64 rounding when methods are compared


def summary(rows: list[Case], methods) -> dict:
    """Per method: the largest and the median deviation, how often it is closer than the lag recurrence,
    and the geometric mean of its deviation over the lag recurrence's, with both clipped below at
    :data:`ROUNDING` (so two methods at rounding level compare as 1) over the cases where it is finite."""
    out = {}
    for m in methods:
        devs = np.array([r.deviation[m] for r in rows], dtype=np.float64)
        ratios = [max(r.deviation[m], ROUNDING) / max(r.deviation[LAG], ROUNDING) for r in rows
                  if np.isfinite(r.deviation[m])]
        better = sum(1 for r in rows if r.deviation[m] < r.deviation[LAG])
        out[m] = {
            "max": float(np.max(devs)) if devs.size else float("nan"),
            "median": float(np.median(devs)) if devs.size else float("nan"),
            "ratio_to_lag": float(np.exp(np.mean(np.log(ratios)))) if ratios else float("nan"),
            "ratio_cases": len(ratios),
            "beats_lag": better,
            "cases": len(rows),
            "diverged": int(np.sum(~np.isfinite(devs) | (devs > 1e3))),
        }
    return out
