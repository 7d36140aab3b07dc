"""The ``symderive`` command line.

    symderive matrices --warp SPEC --basis SPEC --N INT [--delta FLOAT] [--time T] [--exact]
                       [--format json|text]

prints the generator ``A_gen``, ``B_gen`` and, with ``--delta``, the lag matrices ``A``, ``B`` (floats,
rounded once from certified values; matrices as lists of rows, row index = n). ``--exact`` adds the
exact entries as strings (keys ``A_gen_exact``, ``B_gen_exact``, ``A_exact``, ``B_exact``).

Exit status: 0 on success, 2 for bad input (one line on stderr, no traceback), 1 when a derivation
route fails. ``SYMDERIVE_DEBUG=1`` shows tracebacks of unexpected errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import sympy as sp

from . import __version__
from .derivation.model import derive
from .errors import DerivationError, InputError
from .inputs.specs import _BASIS_HELP, _WARP_HELP, parse_basis, parse_warp


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad arguments as one line and exit status 2."""

    def error(self, message):
        raise InputError(message)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"--delta must be a number, got {text!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise InputError(f"--delta must be a finite number > 0, got {text!r}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InputError(f"--N must be an integer >= 1, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="symderive", description="Exact lag-operator state space models.")
    parser.add_argument("--version", action="version", version=f"symderive {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    mat = sub.add_parser("matrices", help="generator and lag matrices of a warp x basis")
    mat.add_argument("--warp", required=True, help=_WARP_HELP)
    mat.add_argument("--basis", required=True, help=_BASIS_HELP)
    mat.add_argument("--N", required=True, type=str, help="number of basis functions (>= 1)")
    mat.add_argument("--delta", type=str, help="step size Delta > 0: also print A, B")
    mat.add_argument("--time", type=str, help="current time t > 0 (time-varying warps: step t -> t + Delta)")
    mat.add_argument("--exact", action="store_true", help="add the exact entries as strings")
    mat.add_argument("--format", choices=("json", "text"), default="json")
    return parser


def _rows(matrix: np.ndarray) -> list:
    return [[float(x) for x in row] for row in matrix]


def _exact_rows(matrix: sp.MatrixBase, vector=False) -> list:
    if vector:
        return [sp.sstr(matrix[i, 0]) for i in range(matrix.rows)]
    return [[sp.sstr(x) for x in matrix.row(i)] for i in range(matrix.rows)]


def run_matrices(args) -> dict:
    N = _int(args.N)
    warp = parse_warp(args.warp)
    basis = parse_basis(args.basis, N)
    model = derive(warp, basis)
    A_gen, B_gen = model.numeric_generator()
    out = {"N": model.N, "warp": warp.spec, "basis": basis.spec,
           "A_gen": _rows(A_gen), "B_gen": [float(x) for x in B_gen],
           "routes": {"generator": model.generator_route}}
    if args.time is not None and not warp.time_varying:
        raise InputError(f"--time applies only to time-varying warps; {warp.spec} is stationary")
    if args.delta is not None:
        delta = _positive_float(args.delta)
        t = None
        if warp.time_varying:
            if args.time is None:
                raise InputError(f"the {warp.spec} warp is time-varying: give --time T (> 0) with --delta")
            t = _positive_float(args.time)
        A, B = pair = model.numeric(args.delta.strip(), t=None if t is None else args.time.strip())
        out.update({"delta": delta, "A": _rows(A), "B": [float(x) for x in B]})
        out["routes"]["lag"] = pair.route
        if t is not None:
            out["time"] = t
    if args.exact:
        out["A_gen_exact"] = _exact_rows(model.A_gen)
        out["B_gen_exact"] = _exact_rows(model.B_gen, vector=True)
        if args.delta is not None:
            exact_pair = model.lag(args.delta.strip(), t=None if args.time is None else args.time.strip())
            out["A_exact"] = _exact_rows(exact_pair.A)
            out["B_exact"] = _exact_rows(exact_pair.B, vector=True)
    return out


def _text(out: dict) -> str:
    lines = [f"warp {out['warp']}  x  basis {out['basis']}  (N = {out['N']})",
             "routes: " + ", ".join(f"{k}: {v}" for k, v in out["routes"].items()), ""]
    np.set_printoptions(linewidth=120, precision=6, suppress=True)
    for key in ("A_gen", "B_gen", "A", "B"):
        if key in out:
            label = key if key.endswith("gen") else f"{key} (Delta = {out['delta']})"
            lines += [f"{label} =", str(np.array(out[key])), ""]
        if key + "_exact" in out:
            lines += [f"{key} (exact) =", sp.pretty(sp.Matrix(out[key + "_exact"])), ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        out = run_matrices(args)
    except InputError as exc:
        print(f"symderive: error: {exc}", file=sys.stderr)
        return 2
    except DerivationError as exc:
        print(f"symderive: derivation failed: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback unless asked
        if os.environ.get("SYMDERIVE_DEBUG"):
            raise
        print(f"symderive: internal error: {type(exc).__name__}: {exc} (set SYMDERIVE_DEBUG=1 for a traceback)",
              file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps(out))
    else:
        sys.stdout.write(_text(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
