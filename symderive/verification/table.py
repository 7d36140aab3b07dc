"""The equivalence table: every built-in warp x basis against every reference family, exact verdicts."""

from __future__ import annotations

import time

from ..errors import DerivationError, InputError
from ..inputs.specs import parse_basis, parse_warp
from .equivalence import EQUIVALENT
from .families import default_families
from .verify import exact_generator, family_matrices, verify_derived

BUILTIN_WARPS = ("exponential", "linear", "scale")
BUILTIN_BASES = ("legendre", "laguerre", "fourier")


def equivalence_table(N: int) -> dict:
    """``{"N", "families", "rows": [{"warp", "basis", "cells": {family: cell}}], "seconds"}``.

    A cell is ``{"verdict": ..., "transformation": ...}`` or ``{"verdict": None, "note": why}`` when no
    verdict exists (no generator, or the family is not defined at this N). Each family's matrices are
    built once, and each warp x basis pair is derived once for its whole row."""
    start = time.perf_counter()
    families = default_families()
    matrices = {}
    for fam in families:
        try:
            matrices[fam.spec] = family_matrices(fam, N)
        except InputError as exc:
            matrices[fam.spec] = exc
    rows = []
    for warp_spec in BUILTIN_WARPS:
        for basis_spec in BUILTIN_BASES:
            warp, basis = parse_warp(warp_spec), parse_basis(basis_spec, N)
            try:
                generator = exact_generator(warp, basis)
            except (DerivationError, InputError) as exc:
                generator = exc  # no verdict in this row: every cell carries the note
            cells = {fam.spec: _cell(warp, basis, fam, generator, matrices[fam.spec]) for fam in families}
            rows.append({"warp": warp.spec, "basis": basis.spec, "cells": cells})
    return {"N": N, "families": [f.spec for f in families], "rows": rows,
            "seconds": round(time.perf_counter() - start, 3)}


def _cell(warp, basis, fam, generator, matrices) -> dict:
    """One cell; ``generator`` and ``matrices`` are the row's and the column's results or their errors
    (the generator's error comes first, as when :func:`.verify.verify` derives before building the family)."""
    for failed in (generator, matrices):
        if isinstance(failed, Exception):
            return _no_verdict(failed)
    try:
        cert = verify_derived(warp, basis, fam, generator, matrices, details=False)
    except (DerivationError, InputError) as exc:
        return _no_verdict(exc)
    return {"verdict": cert.verdict, "transformation": cert.transformation}


def _no_verdict(exc: Exception) -> dict:
    if isinstance(exc, DerivationError):
        return {"verdict": None, "note": f"no exact generator: {exc}"}
    return {"verdict": None, "note": str(exc)}


def _cell_text(cell: dict) -> str:
    if cell["verdict"] is None:
        return "no generator" if cell["note"].startswith("no exact generator") else "n/a"
    if cell["verdict"] != EQUIVALENT:
        return cell["verdict"]
    t = cell["transformation"]
    parts = []
    if "time rescaling" in t["components"]:
        parts.append(f"a={t['time_scale']}")
    if "diagonal similarity" in t["components"]:
        parts.append(f"D={t['diagonal_formula'] or 'diag(...)'}")
    if "tilt" in t["components"]:
        parts.append(f"c={t['tilt']}")
    return "equivalent (" + ", ".join(parts) + ")"


def table_markdown(table: dict) -> str:
    """The table as Markdown, with a legend for the transformations."""
    fams = table["families"]
    lines = [f"Exact verdicts at N = {table['N']} (derived A_gen, B_gen against each family, dc/dt = A c + B u).",
             "", "| warp x basis | " + " | ".join(fams) + " |", "|---|" + "---|" * len(fams)]
    for row in table["rows"]:
        cells = [_cell_text(row["cells"][f]) for f in fams]
        lines.append(f"| {row['warp']} x {row['basis']} | " + " | ".join(cells) + " |")
    lines += ["", "equivalent (...): A = a D A_family D^-1 + c I, B = a D B_family with the parameters shown "
              "(a: time rescaling, D: diagonal similarity, c: tilt). n/a: the family is not defined at this N. "
              "no generator: the generator integrals diverge for this pair.", ""]
    return "\n".join(lines)
