"""Regenerate every package checked into ``generated/`` (or into ``--out DIR``).

    python scripts/derive_and_export.py [--out DIR] [--only NAME ...]

The list below is the single source of truth; ``tests/test_generated_drift.py`` regenerates the
packages into a temporary folder and fails with a diff if ``generated/`` has drifted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from symderive.codegen.export import export, export_bank  # noqa: E402
from symderive.inputs.specs import parse_basis, parse_warp  # noqa: E402

# name, warp SPEC, basis SPEC, N, Delta (None: time-varying). A tuple of warp SPECs makes a bank
# package (export_bank): one member per warp, each with the basis SPEC and N, at the same Delta.
PACKAGES = (
    ("legs_n64", "exponential", "legendre", 64, "1/100"),          # HiPPO-LegS, the paper's model
    ("legt_n32", "linear:window=1", "legendre", 32, "1/100"),      # HiPPO-LegT (lag recurrence, not ZOH)
    ("lagt_n32", "exponential", "laguerre", 32, "1/100"),          # HiPPO-LagT
    ("legs_scale_n64", "scale", "legendre", 64, None),             # original time-varying LegS
    ("pow2_legendre_n16", "f=2**x", "legendre", 16, "1/20"),       # a custom warp (rate log 2)
    ("multires_legs", ("exponential:rate=8", "exponential:rate=2",  # a multi-resolution memory bank:
                       "exponential:rate=1/2", "exponential:rate=1/8"), "legendre", 16, "1/100"),  # LegS at 4 rates
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "generated"), help="folder to write into (default generated/)")
    parser.add_argument("--only", nargs="*", help="regenerate only these package names")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = {p[0] for p in PACKAGES}
    for name in args.only or ():
        if name not in names:
            parser.error(f"unknown package {name!r}; known: {', '.join(sorted(names))}")
    for name, warp, basis, N, delta in PACKAGES:
        if args.only and name not in args.only:
            continue
        start = time.perf_counter()
        if isinstance(warp, tuple):
            path, spec = export_bank([parse_warp(w) for w in warp], parse_basis(basis, N), delta, name, out)
            warp = "[" + ", ".join(warp) + "]"
        else:
            path, spec = export(parse_warp(warp), parse_basis(basis, N), delta, name, out)
        print(f"{name:>20}: {warp} x {basis}, N={N}, delta={delta} -> {os.path.relpath(path)} "
              f"({spec.hash[:12]}, {time.perf_counter() - start:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
