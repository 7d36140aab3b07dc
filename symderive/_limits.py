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


def _memory_from_environment() -> tuple[float, str | None]:
    text = os.environ.get("SYMDERIVE_MEMORY")
    if text is None or not text.strip():
        return 1.0, None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        return 1.0, f"SYMDERIVE_MEMORY must be a finite number of gigabytes > 0, got {text!r}"
    return value, None


#: gigabytes one derivation may use, by the estimate made before large work (``SYMDERIVE_MEMORY``)
DEFAULT_MEMORY_GB, _MEMORY_PROBLEM = _memory_from_environment()


_MAX_TIMER = 1e8   # seconds (three years): a larger budget is as good as none


class SymbolicTimeout(BaseException):
    """A symbolic step ran past its time limit or the derivation's budget, or gave up (see
    :class:`SymbolicGaveUp`): either way its caller takes its fallback."""


class SymbolicGaveUp(SymbolicTimeout):
    """A symbolic step failed inside SymPy in a way that says nothing about the input (SymPy's own
    recursion limit, e.g. ``integrate(sin(z)**1000)`` recurses once per power): treated like a timeout,
    without spending the budget."""


class Budget:
    """Seconds of symbolic work for one derivation; ``spent`` turns true when a step hit the deadline."""

    def __init__(self, seconds: float, memory_gb: float | None = None):
        self.seconds = float(seconds)
        self.memory_gb = DEFAULT_MEMORY_GB if memory_gb is None else float(memory_gb)
        self.deadline = time.monotonic() + self.seconds
        self.spent = False

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def describe(self) -> str:
        return f"the symbolic budget of {self.seconds:g} s was spent"


_ACTIVE: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("symderive_budget", default=None)


def active_budget() -> Budget | None:
    return _ACTIVE.get()


def check_gigabytes(value, name: str = "memory") -> float:
    """A memory allowance in gigabytes from a number or text: finite and > 0."""
    try:
        gb = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number of gigabytes > 0, got {value!r}") from None
    if not math.isfinite(gb) or gb <= 0:
        raise InputError(f"{name} must be a finite number of gigabytes > 0, got {value!r}")
    return gb


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
def budget(seconds: float | None = None, memory_gb: float | None = None):
    """Run the block under one budget of ``seconds`` (default ``DEFAULT_BUDGET``) for all its symbolic
    steps and for the estimated time of its large numeric steps, and ``memory_gb`` gigabytes (default
    ``SYMDERIVE_MEMORY`` or 1) for their estimated memory (:mod:`symderive.cost`). Inside an
    active budget this opens nothing: the outermost budget rules."""
    current = _ACTIVE.get()
    if current is not None:
        yield current
        return
    if seconds is None and _ENVIRONMENT_PROBLEM:
        raise InputError(_ENVIRONMENT_PROBLEM)
    if memory_gb is None and _MEMORY_PROBLEM:
        raise InputError(_MEMORY_PROBLEM)
    b = Budget(DEFAULT_BUDGET if seconds is None else check_seconds(seconds),
               None if memory_gb is None else check_gigabytes(memory_gb))
    token = _ACTIVE.set(b)
    try:
        yield b
    finally:
        _ACTIVE.reset(token)


def _sympy_failure(exc: BaseException) -> str | None:
    """Why ``exc`` is SymPy giving up rather than a fault of the input or of symderive: its recursion limit,
    one of SymPy's own exception classes escaping (``PolynomialDivisionFailed`` from ``integrate``), or any
    exception raised inside SymPy's or mpmath's own code (``TypeError`` from ``limit``'s series expansion)."""
    if isinstance(exc, RecursionError):
        return "recursion too deep"
    module = type(exc).__module__ or ""
    if module.startswith("sympy.") and isinstance(exc, Exception):
        return type(exc).__name__
    tb, last = exc.__traceback__, None
    while tb is not None:       # a builtin exception (TypeError in sympy/series/gruntz.py) raised inside SymPy
        last, tb = tb, tb.tb_next
    filename = last.tb_frame.f_code.co_filename if last is not None else ""
    if any(f"{os.sep}{package}{os.sep}" in filename for package in ("sympy", "mpmath")):
        return f"{type(exc).__name__} inside SymPy"
    return None


@contextlib.contextmanager
def _gives_up(exception):
    """Turn SymPy giving up (:func:`_sympy_failure`) into :class:`SymbolicGaveUp` (when the caller expects
    timeouts): its caller takes the same fallback as for a timeout."""
    try:
        yield
    except Exception as exc:   # noqa: BLE001 - re-raised unless it is SymPy's own failure
        why = _sympy_failure(exc)
        if exception is not SymbolicTimeout or why is None:
            raise
        raise SymbolicGaveUp(f"SymPy gave up: {why}") from None


@contextlib.contextmanager
def time_limit(seconds: float | None = None, exception: type[BaseException] = SymbolicTimeout, *,
               own: bool = False):
    """Raise ``exception`` (default :class:`SymbolicTimeout`) in the block after ``seconds``, or when the
    active budget runs out, whichever comes first (without a budget: ``seconds``, default
    ``DEFAULT_BUDGET``). A spent budget raises at once. ``own=True``: only ``seconds`` applies, not the
    budget (reading the input, which must work even after the budget is spent)."""
    b = None if own else _ACTIVE.get()
    limit = seconds if seconds is not None else (math.inf if b is not None else DEFAULT_BUDGET)
    budget_rules = False
    if b is not None and b.remaining() <= limit:
        limit, budget_rules = b.remaining(), True
    if limit <= 0:
        if b is not None and budget_rules:
            b.spent = True
        raise exception("symbolic budget spent" if budget_rules else "symbolic step given no time")
    usable = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread())
    outer = signal.getitimer(signal.ITIMER_REAL)[0] if usable else 0.0
    if not usable or limit == math.inf or (outer and outer <= limit):   # an enclosing limit rules
        with _gives_up(exception):
            yield
        return

    def expire(signum, frame):
        if budget_rules:
            b.spent = True
        raise exception(f"symbolic step exceeded {limit:.3g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, min(limit, _MAX_TIMER))   # setitimer overflows near 1e10 s
    try:
        with _gives_up(exception):
            yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:   # re-arm the enclosing limit with what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-3))


def tidy(value):
    """``sympy.simplify(value)`` within the budget; the unsimplified (equally exact) value when the budget
    or SymPy gives out. Every simplification of user input goes through here (or :func:`time_limit`)."""
    import sympy   # noqa: PLC0415 - this module stays light for the command line

    try:
        with time_limit():
            return sympy.simplify(value)
    except SymbolicTimeout:
        return value
