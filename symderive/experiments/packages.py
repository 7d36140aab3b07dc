"""Export generated packages for the experiments and import them (the kernels the runs use).

``load(warp, basis, delta, name, folder)`` writes ``folder/name`` with :func:`symderive.codegen.export.export`
(``load_bank(warps, basis, delta, name, folder)``: a bank package, :func:`symderive.codegen.export.export_bank`)
and imports it (:func:`symderive.codegen.export.import_package`). A module of the same name already imported from elsewhere is dropped first unless it
was generated from the identical spec (same hash), so a run never uses a stale package.
"""

from __future__ import annotations

from ..codegen.export import export, export_bank, import_package

__all__ = ["load", "load_bank", "import_package"]


def load(warp, basis, delta, name: str, folder):
    """Export ``warp x basis`` at step ``delta`` as ``folder/name`` and import it."""
    path, spec = export(warp, basis, delta, name, folder)
    return import_package(path.parent, name, spec.hash)


def load_bank(warps, basis, delta, name: str, folder):
    """Export the bank of ``warps`` (one member each) x ``basis`` at step ``delta`` as ``folder/name`` and
    import it."""
    path, spec = export_bank(warps, basis, delta, name, folder)
    return import_package(path.parent, name, spec.hash)
