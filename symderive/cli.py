"""The ``symderive`` command line.

    symderive matrices --warp SPEC --basis SPEC --N INT [--delta FLOAT] [--time T] [--exact]
                       [--format json|text|npz] [--out FILE.npz]
    symderive verify --warp SPEC --basis SPEC --against FAMILY --N INT [--format json|markdown]
                     [--delta FLOAT [--time T]] [--certificate PREFIX]
    symderive verify --all --N INT [--format json|markdown]
    symderive export --warp SPEC [--warp SPEC ...] --basis SPEC --N INT --delta FLOAT --name NAME --out DIR
                     [--no-warm]

prints the generator ``A_gen``, ``B_gen`` and, with ``--delta``, the lag matrices ``A``, ``B`` (floats,
rounded once from certified values; matrices as lists of rows, row index = n). ``--exact`` adds the
exact entries as strings (keys ``A_gen_exact``, ``B_gen_exact``, ``A_exact``, ``B_exact``).
``--format npz --out FILE`` writes the float64 arrays ``A_gen``, ``B_gen`` (and ``A``, ``B`` with
``--delta``) and ``metadata`` (the other fields of the JSON output and the symderive version, as a JSON
text in a 0-d string array) to ``FILE``, loadable with ``numpy.load(FILE, allow_pickle=False)``, and
prints a JSON summary (``npz``: the path, ``arrays``: each array's shape). ``--delta`` (and ``--time``)
take what the library takes: ``0.01``, ``1e-3``, ``1/100``.

``verify`` compares the derived generator with a published HiPPO family in exact arithmetic and prints
a certificate (JSON keys ``verdict``, ``exact``, ``transformation``, ``N``, ``difference``, and the steps);
``--certificate PREFIX`` also writes ``PREFIX.json`` and ``PREFIX.md``. ``--all`` prints the table of
every built-in warp x basis against every family.

``export`` writes the importable package ``DIR/NAME/`` (Numba CPU kernels, numba.cuda kernels, the
matrices rounded once) and prints JSON with its path, files and spec hash. It then compiles the CPU
kernels into Numba's cache beside the package (the package's ``warm()`` in a child process, 10 s or
more, one line on stderr; ``warm_seconds`` in the JSON), so that a fresh process's first calls take
well under a second; ``--no-warm`` (or ``SYMDERIVE_NO_WARM=1``) skips that. ``--delta`` is the fixed
step (omit it for the time-varying scale warp). Several ``--warp`` make one *bank* package: every warp
with the same basis and ``N`` at the same ``--delta``, the states concatenated (block-diagonal ``A``);
its JSON adds ``members`` (warp, N, offset, kind, rate or window).

Every subcommand takes ``--budget SECONDS`` (the time all symbolic steps of the command may take
together, default ``SYMDERIVE_BUDGET`` or 10; when it is spent the numeric route takes over and the
output says so), ``--memory GB`` (default ``SYMDERIVE_MEMORY`` or 1), ``--quiet`` (no progress bars; bars
appear on stderr for steps longer than 2 s) and ``--no-cache`` (do not read or write the derivation cache
on disk, :mod:`symderive.cache`). Before large work a command adds up the estimated seconds and memory of
its steps (:mod:`symderive.cost`) and refuses, with the estimate, work beyond ``--budget`` or ``--memory``.

Floats come from the numeric route whenever the exact linear-algebra route does not apply
(quadrature, no symbolic step); ``matrices`` reports ``routes``, the warp's ``support`` and, for
numeric routes, ``precision`` (working decimal digits) and ``error_estimate`` (normwise relative).
With ``--exact`` it also derives exact entries; where there is no exact route it says so in one line on
stderr (and in ``notes``) and gives the numeric result.

Exit status: 0 on success (``verify``: identical or equivalent, or the ``--all`` table), 1 for
``not-equivalent`` or when a derivation route fails, 2 for bad input (one line on stderr, no traceback). ``SYMDERIVE_DEBUG=1`` shows tracebacks of unexpected errors.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import sys

# Only light modules at import time: the engine (SymPy, flint, numpy) loads inside the commands, so that
# --help and a cache hit answer without it (about 0.1 s instead of 1 s).
from . import cache, progress
from ._version import __version__
from ._limits import active_budget, budget, check_gigabytes, check_seconds
from .errors import DerivationError, InputError
from .inputs.spec_text import BASIS_HELP as _BASIS_HELP
from .inputs.spec_text import FAMILY_HELP as _FAMILY_HELP
from .inputs.spec_text import WARP_HELP as _WARP_HELP
from .inputs.spec_text import canonical

ROUTE_QUADRATURE = "numeric-quadrature"   # symderive.derivation.quadrature.ROUTE (checked in the tests)


class _StoreOnce(argparse.Action):
    """Store an option's value, refusing a second one: a repeated single-valued option (two ``--warp`` for
    ``matrices``, two ``--N``) is an error rather than a silent choice of the last."""

    def __call__(self, parser, namespace, values, option_string=None):
        given = namespace.__dict__.setdefault("_given_once", set())
        if self.dest in given:
            hint = "; several --warp make a bank only with `symderive export`" if self.dest == "warp" else ""
            raise InputError(f"{option_string} was given more than once (it takes one value){hint}")
        given.add(self.dest)
        setattr(namespace, self.dest, values)


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad arguments as one line and exit status 2; options that take one value
    refuse to be repeated."""

    def add_argument(self, *args, **kwargs):
        if kwargs.get("action") is None and args and args[0].startswith("-"):
            kwargs["action"] = _StoreOnce
        return super().add_argument(*args, **kwargs)

    def error(self, message):
        raise InputError(message)


def _step_options(args, warp) -> tuple:
    """``(delta, t)``, exact SymPy numbers from ``--delta`` and ``--time`` (None when not given), checked against
    the warp before anything is derived: ``--time`` only for a time-varying warp and only with ``--delta``
    (the step t -> t + Delta); a time-varying warp's ``--delta`` needs ``--time``. Both are read by the
    restricted expression parser (``1e-300``, ``1/100``; never by Python's ``float``, which also takes other
    scripts' digits)."""
    delta = t = None
    if args.delta is not None:
        delta = _positive_value(args.delta, "--delta")
    if args.time is not None:
        if not warp.time_varying:
            raise InputError(f"--time applies only to time-varying warps; {warp.spec} is stationary")
        if delta is None:
            raise InputError("--time needs --delta (the step t -> t + Delta)")
        t = _positive_value(args.time, "--time")
    elif delta is not None and warp.time_varying:
        raise InputError(f"the {warp.spec} warp is time-varying: give --time T (> 0) with --delta")
    return delta, t


def _positive_value(text: str, flag: str):
    """``text`` read by the restricted parser and checked to be a finite number > 0 that float64 can hold
    (the output prints it as a float): its exact SymPy value."""
    from .inputs.warps import _positive_number   # noqa: PLC0415 - the engine loads inside the commands
    value = _positive_number(text, flag)
    as_float = float(value)
    if not math.isfinite(as_float) or as_float == 0:
        raise InputError(f"{flag} must be a number between 5e-324 and 1.7e308 (a float64 > 0), got {text.strip()!r}")
    return value


def _package_files(path) -> list[str]:
    """The files of an exported package, relative to its folder, sorted."""
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())


def _int(text: str) -> int:
    """``--N`` as written: ASCII digits only (Python's ``int`` would also take ``3_0``, ``+3``, `` 3 `` and
    other scripts' digits)."""
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise InputError(f"--N must be a whole number >= 1 written with the digits 0-9, got {text!r}")
    return int(text)


def _add_model_arguments(parser, required=True, repeat_warp=False) -> None:
    """``--warp``, ``--basis`` and ``--N``, shared by every subcommand (``repeat_warp``: ``--warp`` may be
    given several times, collected in a list)."""
    if repeat_warp:
        parser.add_argument("--warp", required=required, action="append",
                            help=_WARP_HELP + "; repeat --warp for a bank of several warps (export)")
    else:
        parser.add_argument("--warp", required=required, help=_WARP_HELP)
    parser.add_argument("--basis", required=required, help=_BASIS_HELP)
    parser.add_argument("--N", required=True, type=str, help="number of basis functions (>= 1)")


def _add_run_arguments(parser) -> None:
    """``--budget``, ``--quiet`` and ``--no-cache``, shared by every subcommand."""
    parser.add_argument("--budget", type=str, metavar="SECONDS",
                        help="seconds for all symbolic steps together (default: SYMDERIVE_BUDGET or 10); "
                             "when spent, the numeric route takes over")
    parser.add_argument("--memory", type=str, metavar="GB",
                        help="gigabytes a derivation may use by its estimate, checked before large work "
                             "(default: SYMDERIVE_MEMORY or 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars on stderr")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the derivation cache")


MATRICES_FORMATS = ("json", "text", "npz")

_NUMBER_HELP = "a number such as 0.01, 1e-3 or 1/100"

# 1-3 example command lines per subcommand, shown at the end of its --help (tests/test_cli.py parses them).
EXAMPLES = {
    "matrices": [
        "symderive matrices --warp exponential --basis legendre --N 8 --delta 1/100",
        "symderive matrices --warp linear:window=2 --basis fourier --N 5 --format text",
        "symderive matrices --warp exponential --basis legendre --N 8 --delta 0.01 --format npz --out legs8.npz",
    ],
    "verify": [
        "symderive verify --warp exponential --basis legendre --N 8 --against legs",
        "symderive verify --warp linear --basis legendre --N 6 --against legt --delta 1e-3 --certificate legt6",
        "symderive verify --all --N 6 --format markdown",
    ],
    "export": [
        "symderive export --warp exponential --basis legendre --N 16 --delta 0.01 --name legs16 --out .",
        "symderive export --warp scale --basis legendre --N 8 --name legs_scale --out .",
        "symderive export --warp exponential:rate=1 --warp exponential:rate=10 --basis legendre --N 8 "
        "--delta 1/100 --name legs_bank --out .",
    ],
}


def _examples(command: str) -> str:
    return "examples:\n" + "\n".join("  " + line for line in EXAMPLES[command])


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="symderive", description="Exact lag-operator state space models.")
    parser.add_argument("--version", action="version", version=f"symderive {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    mat = sub.add_parser("matrices", help="generator and lag matrices of a warp x basis",
                         description="Print the generator A_gen, B_gen of a warp x basis and, with --delta, the lag "
                                     "matrices A, B (floats rounded once from certified values).",
                         epilog=_examples("matrices"), formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_model_arguments(mat)
    mat.add_argument("--delta", type=str, help="step size Delta > 0 (" + _NUMBER_HELP + "): also print A, B")
    mat.add_argument("--time", type=str, help="current time t > 0 (time-varying warps: step t -> t + Delta)")
    mat.add_argument("--exact", action="store_true", help="add the exact entries as strings")
    mat.add_argument("--format", choices=MATRICES_FORMATS, default="json",
                     help="json (default): one JSON object on stdout; text: the matrices printed for reading; "
                          "npz: a NumPy .npz file written to --out (float64 arrays A_gen, B_gen, and A, B with "
                          "--delta; metadata: a JSON text as a 0-d string array), and a JSON summary on stdout")
    mat.add_argument("--out", type=str, metavar="FILE",
                     help="with --format npz: the file to write (written as named, no suffix added; its folder "
                          "must exist)")
    _add_run_arguments(mat)
    ver = sub.add_parser("verify", help="exact verdict against a published HiPPO family, with a certificate",
                         description="Compare the derived generator with a published HiPPO family in exact "
                                     "arithmetic and print a certificate (or, with --all, the table of every "
                                     "built-in warp x basis against every family).",
                         epilog=_examples("verify"), formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_model_arguments(ver, required=False)     # not needed with --all
    ver.add_argument("--against", help=_FAMILY_HELP)
    ver.add_argument("--all", action="store_true", help="every built-in warp x basis against every family")
    ver.add_argument("--delta", type=str,
                     help="step Delta > 0 (" + _NUMBER_HELP + "): also measure the lag recurrence against ODE "
                          "discretizations")
    ver.add_argument("--time", type=str, help="with --delta, for time-varying warps: the step t -> t + Delta")
    ver.add_argument("--certificate", type=str, metavar="PREFIX", help="write PREFIX.json and PREFIX.md")
    ver.add_argument("--format", choices=("json", "markdown"), default="json",
                     help="json (default): one JSON object (the certificate, or with --all the table); "
                          "markdown: the same as a Markdown report")
    _add_run_arguments(ver)
    exp = sub.add_parser("export", help="write an importable package with Numba CPU and CUDA kernels",
                         description="Write the importable package OUT/NAME/ (Numba CPU kernels, numba.cuda "
                                     "kernels, the matrices rounded once) and print JSON with its path, files and "
                                     "spec hash. Several --warp make one bank package.",
                         epilog=_examples("export"), formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_model_arguments(exp, repeat_warp=True)
    exp.add_argument("--delta", type=str,
                     help="fixed step Delta > 0 (" + _NUMBER_HELP + "; not for the time-varying scale warp)")
    exp.add_argument("--name", required=True, help="package name (a Python identifier)")
    exp.add_argument("--out", required=True, help="existing folder to write the package into")
    exp.add_argument("--no-warm", action="store_true",
                     help="do not compile the CPU kernels into Numba's cache after writing the package (by "
                          "default export runs the package's warm() in a child process, 10 s or more, so that a "
                          "fresh process's first calls take well under a second; default on with "
                          "SYMDERIVE_NO_WARM=1)")
    _add_run_arguments(exp)
    return parser


def run_export(args) -> dict:
    from .codegen.export import check_destination, export
    from .inputs.specs import parse_basis, parse_warp
    check_destination(args.out, args.name)      # a bad name or folder is refused before any derivation
    if len(args.warp) > 1:
        return run_export_bank(args)
    N = _int(args.N)
    warp = parse_warp(args.warp[0])
    basis = parse_basis(args.basis, N)
    if warp.time_varying and args.delta is not None:
        raise InputError(f"the {warp.spec} warp is time-varying: its package steps t -> t + 1 (and takes per-step "
                         "Delta in scan_variable); do not give --delta")
    if not warp.time_varying:
        if args.delta is None:
            raise InputError("export needs --delta (the fixed step) for a stationary warp")
        delta = _positive_value(args.delta, "--delta")
    else:
        delta = None
    path, spec = export(warp, basis, delta, args.name, args.out)
    files = _package_files(path)
    return {"package": str(path), "name": spec.name, "spec_hash": spec.hash, "files": files, "N": spec.N,
            "warp": spec.warp, "basis": spec.basis, "delta": spec.delta, "variable_kind": spec.variable_kind,
            "route": spec.route, "warm_seconds": _warm(args, path)}


def _warm(args, path):
    """Compile the exported package's CPU kernels into Numba's cache unless ``--no-warm`` (or
    ``SYMDERIVE_NO_WARM=1``): the seconds it took, or None (skipped, or failed with a warning)."""
    from .codegen.export import warm_package
    if args.no_warm or os.environ.get("SYMDERIVE_NO_WARM", "").strip() not in ("", "0"):
        return None
    return warm_package(path)


def run_export_bank(args) -> dict:
    """``symderive export`` with several ``--warp``: one bank package (members in the order given)."""
    from .codegen.export import export_bank
    from .inputs.specs import parse_basis, parse_warp
    N = _int(args.N)
    warps = [parse_warp(spec) for spec in args.warp]
    basis = parse_basis(args.basis, N)
    if args.delta is None:
        raise InputError("a bank (several --warp) needs --delta, the fixed step shared by every member")
    path, spec = export_bank(warps, basis, _positive_value(args.delta, "--delta"), args.name, args.out)
    members = [{"warp": m.warp, "N": m.N, "offset": offset, "kind": kind, "rate": rate, "window": window}
               for m, offset, kind, rate, window in zip(spec.members, spec.offsets, spec.kinds, spec.rates,
                                                        spec.windows)]
    files = _package_files(path)
    return {"package": str(path), "name": spec.name, "spec_hash": spec.hash, "files": files,
            "N": spec.N, "members": members, "basis": spec.members[0].basis, "delta": spec.delta,
            "warm_seconds": _warm(args, path)}


def _rows(matrix) -> list:
    return [[float(x) for x in row] for row in matrix]


def _exact_rows(matrix, vector=False) -> list:
    import sympy as sp
    if vector:
        return [sp.sstr(matrix[i, 0]) for i in range(matrix.rows)]
    return [[sp.sstr(x) for x in matrix.row(i)] for i in range(matrix.rows)]


def _numeric_fields(out: dict, which: str, pair) -> None:
    """Record a result's route, and for numeric routes its working precision and error estimate."""
    out["routes"][which] = pair.route
    if pair.route == ROUTE_QUADRATURE:
        out.setdefault("precision", {})[which] = pair.dps
        out.setdefault("error_estimate", {})[which] = pair.error_estimate


def _matrices_cache_key(args, N: int) -> str:
    """The command-line cache key: canonical specs (parsed, not validated) and every option that matters."""
    return cache.key("matrices", {"warp": canonical(args.warp, "warp"), "basis": canonical(args.basis, "basis"), "N": N,
                                  "delta": args.delta and args.delta.strip(), "time": args.time and args.time.strip(),
                                  "exact": bool(args.exact), "budget": args.budget, "memory": args.memory})


def run_matrices(args) -> dict:
    N = _int(args.N)
    name = _matrices_cache_key(args, N)
    stored = cache.load(name)
    if stored is not None:
        for note in stored.get("notes", []):
            print(f"symderive: note: {note}", file=sys.stderr)
        return stored
    from .derivation.model import derive
    from .inputs.specs import parse_basis, parse_warp
    warp = parse_warp(args.warp)
    basis = parse_basis(args.basis, N)
    delta, t = _step_options(args, warp)
    model = derive(warp, basis)
    steps = ["generator"] + (["lag"] if delta is not None else [])
    if args.exact:
        steps += ["generator_exact"] + (["lag_exact"] if delta is not None else [])
    model.check_cost(steps, delta, t)          # refuse before any large work, with the estimate
    A_gen, B_gen = gen = model.numeric_generator()
    out = {"N": model.N, "warp": warp.spec, "basis": basis.spec, "support": warp.support,
           "A_gen": _rows(A_gen), "B_gen": [float(x) for x in B_gen], "routes": {}}
    _numeric_fields(out, "generator", gen)
    if delta is not None:
        A, B = pair = model.numeric(delta, t=t)
        out.update({"delta": float(delta), "A": _rows(A), "B": [float(x) for x in B]})
        _numeric_fields(out, "lag", pair)
        if t is not None:
            out["time"] = float(t)
    notes = []
    if args.exact:
        try:
            out["A_gen_exact"] = _exact_rows(model.A_gen)
            out["B_gen_exact"] = _exact_rows(model.B_gen, vector=True)
            out["routes"]["generator_exact"] = model.generator_route
        except DerivationError as exc:
            notes.append(f"no exact generator: {exc}")
        if delta is not None:
            exact_pair = model.lag(delta, t=t)
            if exact_pair.route == ROUTE_QUADRATURE:
                notes.append(f"no exact lag matrices ({exact_pair.note}); the numeric ones are given")
            else:
                out["A_exact"] = _exact_rows(exact_pair.A)
                out["B_exact"] = _exact_rows(exact_pair.B, vector=True)
                out["routes"]["lag_exact"] = exact_pair.route
    if notes:
        out["notes"] = notes
        for note in notes:
            print(f"symderive: note: {note}", file=sys.stderr)
    spent = active_budget()
    if spent is None or not spent.spent:     # a fallback taken because time ran out is not remembered
        cache.store(name, out)
    return out


def run_verify(args) -> tuple[str, int]:
    """``(printed output, exit status)`` of ``symderive verify``."""
    from .inputs import bases
    from .inputs.specs import parse_basis, parse_warp
    from .verification.equivalence import NOT_EQUIVALENT
    from .verification.families import parse_family
    from .verification.table import equivalence_table, table_markdown
    from .verification.verify import verify
    N = _int(args.N)
    if args.all:
        if args.warp or args.basis or args.against or args.certificate or args.delta:
            raise InputError("--all prints the whole table: do not combine it with --warp, --basis, --against, "
                             "--delta or --certificate")
        bases._check_N(N)
        out = equivalence_table(N)
        return (json.dumps(out, allow_nan=False) if args.format == "json" else table_markdown(out)), 0
    missing = [flag for flag, value in (("--warp", args.warp), ("--basis", args.basis), ("--against", args.against))
               if not value]
    if missing:
        raise InputError(f"verify needs {', '.join(missing)} (or --all)")
    warp = parse_warp(args.warp)
    basis = parse_basis(args.basis, N)
    fam = parse_family(args.against)
    delta, t = _step_options(args, warp)
    if args.certificate is not None:
        _check_certificate_prefix(args.certificate)
    cert = verify(warp, basis, fam, delta=delta, t=t)
    data = cert.to_dict()
    markdown = cert.to_markdown()
    if args.certificate:
        prefix = args.certificate.strip()
        try:
            with open(prefix + ".json", "w") as fh:
                json.dump(data, fh, indent=1, allow_nan=False)
                fh.write("\n")
            with open(prefix + ".md", "w") as fh:
                fh.write(markdown)
        except OSError as exc:
            raise InputError(f"--certificate: cannot write {prefix!r}.json/.md: {exc.strerror or exc}") from None
    printed = json.dumps(data, allow_nan=False) if args.format == "json" else markdown
    return printed, (1 if cert.verdict == NOT_EQUIVALENT else 0)


def _check_certificate_prefix(text: str) -> None:
    """Refuse, before verifying, a ``--certificate`` prefix whose files could not be written."""
    prefix = text.strip()
    if not prefix:
        raise InputError("--certificate needs a file prefix, e.g. --certificate out/legs")
    directory = os.path.dirname(prefix) or "."
    name = os.path.basename(prefix)
    if not name or name in (".", ".."):
        raise InputError(f"--certificate needs a file prefix after the folder, e.g. {os.path.join(directory, 'legs')}")
    if len(os.fsencode(name)) + 5 > 255:
        raise InputError(f"--certificate: file name {name[:40]!r}... is too long (at most 250 bytes)")
    if not os.path.isdir(directory):
        raise InputError(f"--certificate: folder {directory!r} does not exist (create it first)")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError(f"--certificate: folder {directory!r} is not writable")


NPZ_ARRAYS = ("A_gen", "B_gen", "A", "B")


def _check_npz_options(args) -> None:
    """``--format npz`` needs ``--out FILE``, ``--out`` needs ``--format npz``; the file's folder must exist and
    be writable. Checked before anything is derived."""
    if args.format != "npz":
        if args.out is not None:
            raise InputError(f"--out applies only to --format npz (the {args.format} output goes to stdout)")
        return
    path = (args.out or "").strip()
    if not path:
        raise InputError("--format npz needs --out FILE (the .npz file to write), e.g. --out legs8.npz")
    if os.path.isdir(path):
        raise InputError(f"--out: {path!r} is a folder; give a file name, e.g. {os.path.join(path, 'matrices.npz')}")
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        raise InputError(f"--out: folder {directory!r} does not exist (create it first)")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError(f"--out: folder {directory!r} is not writable")


def npz_metadata(out: dict) -> dict:
    """The ``metadata`` of ``--format npz``: every field of the JSON output except the float arrays, with
    ``delta`` and ``notes`` always present (None, []) and the version of symderive that wrote it."""
    meta = {key: value for key, value in out.items() if key not in NPZ_ARRAYS}
    meta.setdefault("delta", None)
    meta.setdefault("notes", [])
    meta["symderive_version"] = __version__
    return meta


def write_npz(out: dict, path: str) -> dict:
    """Write the result of ``matrices`` to ``path`` (exactly that name) as float64 arrays ``A_gen``,
    ``B_gen`` (and ``A``, ``B`` when a step was given) plus ``metadata``, a JSON text stored as a 0-d
    NumPy string array (``json.loads(str(npz["metadata"]))``); loadable with ``allow_pickle=False``.
    The file is written next to its final name and renamed, so a failed write leaves no partial file.
    Returns the summary printed on stdout."""
    import tempfile

    import numpy as np
    arrays = {key: np.asarray(out[key], dtype=np.float64) for key in NPZ_ARRAYS if key in out}
    arrays["metadata"] = np.array(json.dumps(npz_metadata(out), allow_nan=False))
    path = path.strip()
    directory = os.path.dirname(path) or "."
    tmp = None
    try:
        with tempfile.NamedTemporaryFile("wb", dir=directory, prefix=".symderive-", suffix=".npz.tmp",
                                         delete=False) as fh:
            tmp = fh.name
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)
        raise InputError(f"--out: cannot write {path!r}: {exc.strerror or exc}") from None
    return {"npz": path, "arrays": {key: list(value.shape) for key, value in arrays.items()}}


def _text(out: dict) -> str:
    import numpy as np
    import sympy as sp
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


@contextlib.contextmanager
def _settings(quiet: bool, no_cache: bool):
    """``--quiet`` and ``--no-cache`` for one command (restored afterwards, for callers of :func:`main`)."""
    was_quiet, was_cached = progress.is_quiet(), cache.is_enabled()
    progress.set_quiet(was_quiet or quiet)
    cache.set_enabled(was_cached and not no_cache)
    try:
        yield
    finally:
        progress.set_quiet(was_quiet)
        cache.set_enabled(was_cached)


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.budget is not None:
            args.budget = check_seconds(args.budget, "--budget")
        if args.memory is not None:
            args.memory = check_gigabytes(args.memory, "--memory")
        with _settings(quiet=args.quiet, no_cache=args.no_cache), budget(args.budget, args.memory):
            if args.command == "verify":
                printed, status = run_verify(args)
                print(printed.rstrip("\n"))
                return status
            if args.command == "export":
                print(json.dumps(run_export(args), allow_nan=False))
                return 0
            _check_npz_options(args)
            out = run_matrices(args)
            if args.format == "npz":
                text = json.dumps(write_npz(out, args.out), allow_nan=False)
            else:
                text = json.dumps(out, allow_nan=False) if args.format == "json" else _text(out)
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
    if args.format in ("json", "npz"):
        print(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
