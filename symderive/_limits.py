"""One time budget for every symbolic step of a derivation.

SymPy's ``solve``, ``solveset``, ``limit``, ``simplify`` and ``integrate`` can run for a very long time
on some expressions. Every such call on user input runs under :func:`time_limit`, and all of them
draw on one :class:`Budget`: the whole derivation (a CLI command, or one call of a model method such
as ``lag``, ``A_gen`` or ``numeric``) gets ``SYMDERIVE_BUDGET`` seconds (default 10; ``--budget`` on the
command line, :func:`budget` in Python), not each SymPy call. When the budget is spent, every later
symbolic step fails at once and its caller takes its stated fallback (the numeric route, a numeric
check, or an error asking for more input), and the result records it.

Mechanism: ``SIGALRM`` interrupts a running SymPy call, which works in the main thread of a POSIX
process only. Off the main thread (and on platforms without ``setitimer``) the budget is checked
*between* symbolic steps: a derivation still stops taking symbolic steps once the budget is spent,
but a single SymPy call that started before then is not interrupted.

:class:`SymbolicTimeout` derives from ``BaseException`` so that SymPy's own broad ``except Exception``
blocks cannot swallow it.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import signal
import threading
import time

from .errors import InputError


def _seconds_from_environment() -> tuple[float, str | None]:
    """``(seconds, problem)``: a bad value is reported when a budget opens, not at import."""
    for name in ("SYMDERIVE_BUDGET", "SYMDERIVE_SYMBOLIC_SECONDS"):   # the second: the older name
        text = os.environ.get(name)
        if text is not None and text.strip():
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or value < 0:
                return 10.0, f"{name} must be a finite number of seconds >= 0, got {text!r}"
            return value, None
    return 10.0, None


#: seconds of symbolic work per derivation (``SYMDERIVE_BUDGET``; 0 means: no symbolic step at all)
DEFAULT_BUDGET, _ENVIRONMENT_PROBLEM = _seconds_from_environment()


class SymbolicTimeout(BaseException):
    """A symbolic step ran past its time limit or the derivation's budget."""


class Budget:
    """Seconds of symbolic work for one derivation; ``spent`` turns true when a step hit the deadline."""

    def __init__(self, seconds: float):
        self.seconds = float(seconds)
        self.deadline = time.monotonic() + self.seconds
        self.spent = False

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def describe(self) -> str:
        return f"the symbolic budget of {self.seconds:g} s was spent"


_ACTIVE: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("symderive_budget", default=None)


def active_budget() -> Budget | None:
    return _ACTIVE.get()


def check_seconds(value, name: str = "budget") -> float:
    """A budget in seconds from a number or text: finite and >= 0."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number of seconds >= 0, got {value!r}") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise InputError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
    return seconds


@contextlib.contextmanager
def budget(seconds: float | None = None):
    """Run the block under one budget of ``seconds`` (default ``DEFAULT_BUDGET``) for all its symbolic
    steps. Inside an active budget this opens nothing: the outermost budget rules."""
    current = _ACTIVE.get()
    if current is not None:
        yield current
        return
    if seconds is None and _ENVIRONMENT_PROBLEM:
        raise InputError(_ENVIRONMENT_PROBLEM)
    b = Budget(DEFAULT_BUDGET if seconds is None else check_seconds(seconds))
    token = _ACTIVE.set(b)
    try:
        yield b
    finally:
        _ACTIVE.reset(token)


@contextlib.contextmanager
def time_limit(seconds: float | None = None, exception: type[BaseException] = SymbolicTimeout):
    """Raise ``exception`` (default :class:`SymbolicTimeout`) in the block after ``seconds``, or when the
    active budget runs out, whichever comes first (without a budget: ``seconds``, default
    ``DEFAULT_BUDGET``). A spent budget raises at once."""
    b = _ACTIVE.get()
    limit = seconds if seconds is not None else (math.inf if b is not None else DEFAULT_BUDGET)
    budget_rules = False
    if b is not None and b.remaining() <= limit:
        limit, budget_rules = b.remaining(), True
    if limit <= 0:
        if b is not None and budget_rules:
            b.spent = True
        raise exception("symbolic budget spent" if budget_rules else "symbolic step given no time")
    usable = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread())
    if not usable or limit == math.inf:
        yield
        return
    outer = signal.getitimer(signal.ITIMER_REAL)[0]
    if outer and outer <= limit:      # an enclosing limit fires first: it rules
        yield
        return

    def expire(signum, frame):
        if budget_rules:
            b.spent = True
        raise exception(f"symbolic step exceeded {limit:.3g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:   # re-arm the enclosing limit with what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-3))
