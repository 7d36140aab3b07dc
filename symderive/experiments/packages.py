"""Export generated packages for the experiments and import them (the kernels the runs use).

``load(warp, basis, delta, name, folder)`` writes ``folder/name`` with :func:`symderive.codegen.export.export`
and imports it. A module of the same name already imported from elsewhere is dropped first unless it
was generated from the identical spec (same hash), so a run never uses a stale package.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from ..codegen.export import export


def _forget(name: str) -> None:
    for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
        del sys.modules[key]


def import_package(folder, name: str, spec_hash: str | None = None):
    """Import the generated package ``folder/name`` (fresh unless the loaded one has ``spec_hash``)."""
    folder = str(Path(folder).resolve())
    loaded = sys.modules.get(name)
    if loaded is not None:
        same = spec_hash is not None and getattr(loaded, "METADATA", {}).get("spec_hash") == spec_hash
        if same and str(Path(loaded.__file__).resolve().parent.parent) == folder:
            return loaded
        _forget(name)
    sys.path.insert(0, folder)
    try:
        importlib.invalidate_caches()
        return importlib.import_module(name)
    finally:
        sys.path.remove(folder)


def load(warp, basis, delta, name: str, folder):
    """Export ``warp x basis`` at step ``delta`` as ``folder/name`` and import it."""
    path, spec = export(warp, basis, delta, name, folder)
    return import_package(path.parent, name, spec.hash)
