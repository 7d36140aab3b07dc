"""A derivation cache on disk: what was derived once is not derived again.

Entries are small JSON files in the platform's cache folder (``platformdirs.user_cache_dir``, e.g.
``~/.cache/symderive`` on Linux; ``SYMDERIVE_CACHE_DIR`` overrides it), one per result, named by a
SHA-256 key of the canonical inputs (warp, basis, N, Delta, t, precision, budget, what was asked), of
symderive's version and of a hash of symderive's own source files, so that a changed derivation never
reads an old result. Values are stored as text that is parsed, never evaluated: floats as
``float.hex``, mpmath numbers as decimal strings. A damaged or unreadable entry is ignored (and
rewritten); a cache folder that cannot be written is skipped silently, since the cache only saves time.

Off: ``--no-cache`` on the command line, ``SYMDERIVE_NO_CACHE=1``, or :func:`set_enabled`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path

from ._version import __version__

_enabled = os.environ.get("SYMDERIVE_NO_CACHE", "").strip() in ("", "0")


def set_enabled(enabled: bool = True) -> None:
    """Turn the disk cache on or off for this process."""
    global _enabled
    _enabled = bool(enabled)


def is_enabled() -> bool:
    return _enabled


def directory() -> Path:
    """The cache folder (not created here)."""
    override = os.environ.get("SYMDERIVE_CACHE_DIR", "").strip()
    if override:
        return Path(override)
    import platformdirs
    return Path(platformdirs.user_cache_dir("symderive"))


@functools.lru_cache(maxsize=1)
def source_hash() -> str:
    """SHA-256 of symderive's Python sources (file names and bytes), computed once per process."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def key(kind: str, payload: dict) -> str:
    """The cache key of one result: ``kind`` and the canonical ``payload`` (JSON-able values)."""
    text = json.dumps({"kind": kind, "version": __version__, "source": source_hash(), **payload},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _path(name: str) -> Path:
    return directory() / name[:2] / f"{name}.json"


def load(name: str) -> dict | None:
    """The stored value of key ``name``, or None (cache off, missing, or unreadable)."""
    if not _enabled:
        return None
    try:
        with open(_path(name), encoding="utf-8") as fh:
            value = json.load(fh)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def store(name: str, value: dict) -> None:
    """Write ``value`` under key ``name`` atomically (a temporary file renamed into place)."""
    if not _enabled:
        return
    path = _path(name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(value, fh)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass   # a read-only or full cache folder only costs time
