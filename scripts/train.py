"""Train LagSSM models with derived memories on selective copying and sequential digits; write docs/training.md.

    python scripts/train.py [--size full|reduced] [--out DIR] [--no-progress]
    python scripts/train.py --report-from docs/training.json [--out DIR]     # the page again, no training

Five memories in the same layer (symderive.nn.LagSSM): lag LegS, lag LegT window, the custom warp
f = 1/(1-x), LegS with a learned fixed step, and the S4D-real diagonal memory; 3 seeds each at the full
size (about half an hour on 2 CPU cores), one seed of LegS and the diagonal memory at the reduced size
(about a minute: the test suite's run). Writes training.md, training_copy.png and training_digits.png
into DIR (default: the repository's docs/ folder). Needs the ``train`` extra (torch, scikit-learn,
matplotlib): ``pip install -e '.[train]'``. Progress bars per epoch go to stderr.

The generated packages are exported once into the ``packages`` folder of symderive's cache and reused,
so a second run loads their compiled kernels instead of compiling them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["full", "reduced"], default="full", help="run size (default: full)")
    parser.add_argument("--out", default=str(REPO / "docs"), help="folder to write into (default: docs/)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    parser.add_argument("--report-from", metavar="JSON", default=None,
                        help="render training.md and the figures again from a saved training.json (no training)")
    args = parser.parse_args(argv)
    try:
        import sklearn  # noqa: F401
        import torch  # noqa: F401
        import matplotlib  # noqa: F401
    except ImportError as error:
        print(f"scripts/train.py needs the train extra ({error.name} is missing): pip install -e '.[train]'",
              file=sys.stderr)
        return 2
    from symderive.experiments.training import SIZES, run_all
    from symderive.experiments.training_report import read_json, write_report

    if args.report_from:
        try:
            result, size = read_json(args.report_from)
        except (OSError, ValueError, KeyError, TypeError) as error:
            print(f"--report-from {args.report_from!r}: not a training.json written by this script ({error})",
                  file=sys.stderr)
            return 2
    else:
        size = SIZES[args.size]
        result = run_all(size, progress=not args.no_progress, log=lambda text: print(text, flush=True))
    command = "python scripts/train.py" + ("" if size.name == "full" else f" --size {size.name}")
    for path in write_report(result, size, args.out, command):
        print(path)
    print(f"done in {result['seconds'] / 60:.1f} minutes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
