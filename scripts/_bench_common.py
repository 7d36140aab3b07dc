"""What the benchmark scripts share: forgetting every cache before a cold measurement.

The scripts run as ``python scripts/NAME.py``, so this folder is on ``sys.path`` and they import this
module as ``_bench_common`` (after putting the repository on ``sys.path`` where they do).
"""

from __future__ import annotations

import gc
import sys

from sympy.core.cache import clear_cache

from symderive.inputs import bases as sd_bases


def symderive_caches() -> list:
    """Every module-level cache (``functools.lru_cache``, ``functools.cache``) defined in an imported
    symderive module (basis tables, exact factor matrices, square-free splits, ...)."""
    found = []
    for name, module in sorted(sys.modules.items()):
        if name == "symderive" or name.startswith("symderive."):
            for attr in vars(module).values():
                if callable(getattr(attr, "cache_clear", None)) and getattr(attr, "__module__", None) == name:
                    found.append(attr)
    return found


def fresh_state() -> None:
    """Forget every cache a measurement could profit from: symderive's caches and SymPy's global cache."""
    sd_bases._legendre_form.cache_clear()
    for fn in symderive_caches():
        fn.cache_clear()
    clear_cache()
    gc.collect()
