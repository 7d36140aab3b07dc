"""Estimated time and memory of a derivation's large steps, checked before they start.

Each route's work grows as a power of N: the certified linear-algebra route multiplies N x N matrices
of rationals whose numerators grow with N, quadrature evaluates N basis functions at O(N) nodes at a
precision that grows with N, and exact SymPy output holds N^2 large rationals. So each step has a law

    seconds(N) = seconds_0 (N / N_0)^p,        megabytes(N) = megabytes_0 (N / N_0)^q + BASE_MB,

with ``seconds_0``, ``megabytes_0`` (peak resident memory above the loaded engine) measured at ``N_0``
and the powers fitted between two sizes on this project's reference machine (2 shared cores; the
measurements, next to the estimates, are printed by ``scripts/bench_cost.py``). Before a step runs, :func:`check` compares its
estimate with the active budget (:func:`symderive._limits.budget`: ``--budget`` seconds, but at least
10 s, and ``--memory`` gigabytes, defaults 10 s and 1 GB) and refuses a step that would exceed either with an
:class:`~symderive.errors.InputError` that names the estimate and how to raise the allowance. A
refusal costs nothing: no work has started. Steps that the estimate admits run to the end; the
estimates are medians, not bounds, so a loaded machine may take longer than estimated.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._limits import DEFAULT_BUDGET, DEFAULT_MEMORY_GB, active_budget
from .errors import InputError

#: resident memory of a process with the engine loaded (SymPy, flint, numpy), MB
BASE_MB = 120.0

#: estimated work up to this many seconds always runs, whatever the budget: the budget's seconds bound the
#: symbolic steps (0 means none at all, and the numeric route takes over), and may raise this allowance
WORK_FLOOR_SECONDS = 10.0


@dataclass(frozen=True)
class Law:
    """``seconds_0 (N/N_0)^p`` seconds and ``megabytes_0 (N/N_0)^q`` MB above the loaded engine."""

    N0: int
    seconds0: float
    p: float
    megabytes0: float
    q: float

    def seconds(self, N: int) -> float:
        return self.seconds0 * (N / self.N0) ** self.p

    def megabytes(self, N: int) -> float:
        return self.megabytes0 * (N / self.N0) ** self.q + BASE_MB


#: (step, route kind) -> law, from ``scripts/bench_cost.py`` on the reference machine (2 shared cores)
LAWS: dict[tuple[str, str], Law] = {
    # building a built-in basis's exact polynomial form (N^2 rationals of about N bits)
    ("basis", "legendre"): Law(1024, 5.0, 2.3, 260.0, 3.0),
    ("basis", "laguerre"): Law(1024, 7.9, 2.9, 200.0, 3.0),
    # floats, certified from the exact linear-algebra route
    ("generator", "polynomial"): Law(256, 4.0, 2.05, 80.0, 2.7),
    ("generator", "polynomial-neglog"): Law(256, 6.5, 3.2, 217.0, 2.9),
    ("lag", "dilation"): Law(256, 3.0, 2.0, 110.0, 2.2),
    ("lag", "translation"): Law(256, 10.0, 3.5, 190.0, 2.1),
    ("lag", "neglog-translation"): Law(200, 9.7, 4.6, 134.0, 3.2),   # 5.3 s at 160, 45 s at 256: steeper than a power
    # floats by quadrature (custom warps, Fourier)
    ("generator", "quadrature"): Law(128, 4.0, 2.2, 60.0, 2.0),
    ("lag", "quadrature"): Law(128, 3.5, 2.3, 40.0, 1.8),
    # exact SymPy matrices
    ("generator_exact", "polynomial"): Law(256, 5.5, 2.7, 85.0, 2.5),
    ("generator_exact", "polynomial-neglog"): Law(256, 8.0, 3.2, 220.0, 2.9),
    ("generator_exact", "fourier"): Law(64, 3.0, 2.5, 50.0, 2.0),
    ("lag_exact", "dilation"): Law(64, 30.0, 4.0, 78.0, 3.0),
    ("lag_exact", "neglog-translation"): Law(64, 30.0, 4.0, 78.0, 3.0),
    ("lag_exact", "rational"): Law(128, 4.0, 3.0, 150.0, 2.5),
    ("lag_exact", "translation"): Law(64, 30.0, 4.0, 78.0, 3.0),   # irrational step: as the dilation (stand-in)
    # verify: the exact rational generator core, the family's matrices, the comparison (CLI, one pair)
    ("verify", "pair"): Law(256, 3.5, 2.5, 100.0, 2.0),
}

_WHAT = {"generator": "the generator", "lag": "the lag matrices", "generator_exact": "the exact generator",
         "lag_exact": "the exact lag matrices", "basis": "the exact form of the basis",
         "verify": "the verification"}


def estimate(step: str, kind: str, N: int) -> tuple[float, float] | None:
    """``(seconds, gigabytes)`` of ``step`` by route ``kind`` at ``N``, or None when no law applies."""
    law = LAWS.get((step, kind))
    if law is None:
        return None
    return law.seconds(N), law.megabytes(N) / 1024.0


def check(step: str, kind: str, N: int, label: str) -> None:
    """Refuse one step (:func:`check_all`)."""
    check_all([(step, kind)], N, label)


def check_all(steps, N: int, label: str) -> None:
    """Refuse the work ``steps`` (``[(step, route kind), ...]``, run one after the other) with an
    :class:`InputError` when the sum of their estimated seconds exceeds the active budget's seconds (but at
    least :data:`WORK_FLOOR_SECONDS`), or the
    largest estimated memory its gigabytes (without an active budget: the defaults, ``SYMDERIVE_BUDGET``
    and ``SYMDERIVE_MEMORY``). ``label`` names what is being derived in the message."""
    b = active_budget()
    parts = [(step, kind, estimate(step, kind, N)) for step, kind in steps]
    parts = [(step, kind, found) for step, kind, found in parts if found is not None]
    if not parts:
        return
    allowed_seconds = max(WORK_FLOOR_SECONDS, DEFAULT_BUDGET if b is None else b.seconds)
    allowed_gb = DEFAULT_MEMORY_GB if b is None else b.memory_gb
    seconds = sum(found[0] for _, _, found in parts)
    gigabytes = max(found[1] for _, _, found in parts)
    over_time = seconds > allowed_seconds
    over_memory = gigabytes > allowed_gb
    if not (over_time or over_memory):
        return
    want = []
    if over_time:
        want.append(f"--budget {_round_up(seconds * 1.5)}")
    if over_memory:
        want.append(f"--memory {_round_up(gigabytes * 1.5)}")
    detail = ", ".join(f"{_WHAT.get(step, step)} ({kind}) {_number(found[0])} s" for step, kind, found in parts)
    raise InputError(
        f"N = {N}: {label} would take about {_number(seconds)} s and {_number(gigabytes)} GB on a machine like the "
        f"reference one (estimated before starting: {detail}), more than the allowance of {allowed_seconds:g} s "
        f"and {allowed_gb:g} GB; lower N or raise it: {' '.join(want)} "
        "(SYMDERIVE_BUDGET / SYMDERIVE_MEMORY; in Python: with sd.budget(seconds, memory_gb))")


def _number(value: float) -> str:
    """Two significant digits, without exponent notation: 2071 -> 2100, 0.0085 -> 0.0085."""
    if value >= 100:
        return f"{float(f'{value:.2g}'):,.0f}"
    return f"{value:.2g}"


def _round_up(value: float) -> str:
    """A generous round number at or above ``value``: 37.2 -> 40, 0.62 -> 1, 1234 -> 1300."""
    if value <= 1:
        return "1"
    digits = len(str(int(value))) - 1
    step = 10 ** max(digits - 1, 0)
    return str(int(-(-value // step) * step))
