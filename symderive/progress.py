"""Progress bars on stderr for steps that may run longer than about two seconds.

Every long step (a quadrature ladder, the entries of an exact route) runs inside :func:`bar`. A bar
appears only once its step has run for ``DELAY`` seconds, always on stderr (stdout carries results),
and never when progress is silenced: ``symderive --quiet``, ``SYMDERIVE_QUIET=1`` or
:func:`set_quiet`.
"""

from __future__ import annotations

import contextlib
import os
import sys

DELAY = 2.0
_quiet = os.environ.get("SYMDERIVE_QUIET", "").strip() not in ("", "0")


def set_quiet(quiet: bool = True) -> None:
    """Silence (or restore) progress bars for this process."""
    global _quiet
    _quiet = bool(quiet)


def is_quiet() -> bool:
    return _quiet


class _Silent:
    def update(self, n=1):
        pass

    def set_postfix_str(self, text):
        pass


@contextlib.contextmanager
def bar(description: str, total: int | None = None, unit: str = "step"):
    """A tqdm bar on stderr shown after ``DELAY`` seconds (a silent stand-in when quiet)."""
    if _quiet:
        yield _Silent()
        return
    from tqdm import tqdm
    with tqdm(total=total, desc=description, unit=unit, delay=DELAY, file=sys.stderr, leave=False,
              dynamic_ncols=True) as handle:
        yield handle
