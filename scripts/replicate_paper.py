"""Reproduce the paper's figures and tables, with the discretization and multi-resolution studies.

    python scripts/replicate_paper.py [--out DIR] [--size full|reduced]

Writes fig1_warp.png, fig3_lag_shift.png, fig4_memory.png, fig5_multires.png and results.md into DIR
(default: the repository's docs/ folder, which the README links). Needs the ``plot`` extra
(matplotlib): ``pip install -e '.[plot]'``. ``--size reduced`` is the small run the test suite makes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from symderive.experiments.replicate import CONFIGS, replicate  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs"), help="folder to write into (default: docs/)")
    parser.add_argument("--size", choices=sorted(CONFIGS), default="full", help="run size (default: full)")
    args = parser.parse_args(argv)
    result = replicate(args.out, CONFIGS[args.size], log=lambda text: print(text, flush=True))
    for path in result["files"]:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
