"""Time limits for symbolic steps on user input.

SymPy's ``solve``, ``solveset``, ``limit``, ``simplify`` and ``integrate`` can run for a very long time
on some expressions. Each such call on user input runs under :func:`time_limit`; when it expires the
caller takes its stated fallback (a numeric check, quadrature, or an error asking for more input).

The limit uses ``SIGALRM``, so it applies in the main thread of a POSIX process; elsewhere the call
runs unlimited. :class:`SymbolicTimeout` derives from ``BaseException`` so that SymPy's own broad
``except Exception`` blocks cannot swallow it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading

SYMBOLIC_SECONDS = float(os.environ.get("SYMDERIVE_SYMBOLIC_SECONDS", "10"))


class SymbolicTimeout(BaseException):
    """A symbolic step ran past its time limit."""


@contextlib.contextmanager
def time_limit(seconds: float | None = None, exception: type[BaseException] = SymbolicTimeout):
    """Raise ``exception`` (default :class:`SymbolicTimeout`) in the block after ``seconds`` (default
    ``SYMBOLIC_SECONDS``). No limit off the main thread or inside an outer limit (the outer one rules)."""
    seconds = SYMBOLIC_SECONDS if seconds is None else seconds
    usable = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable or seconds <= 0:
        yield
        return

    def expire(signum, frame):
        raise exception(f"symbolic step exceeded {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
