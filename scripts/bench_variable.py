"""Per-step (Delta_t) kernels against the fixed-step scan: ns per channel-step of ``scan_variable``.

    python scripts/bench_variable.py [--N 16 64] [--L 4096] [--H 256] [--dtypes float32 float64]
                                     [--kinds dilation] [--repeats 1] [--out FOLDER]

Exports one package per (kind, N) (exponential x legendre: dilation; linear window x legendre:
translation; linear window x fourier: rotation; power law 1/(1-x) x legendre: general; tanh(x)+1 x
laguerre: general in y = -log z; exponential x laguerre: neglog; ``--kinds all``: every one) into
``--out`` (reused when it already holds them; default a temporary folder) and times, for u of each
dtype: the fixed-step ``scan``, ``scan_variable`` with one Delta shared by the channels (L,) and with
one Delta per channel (L, H) (Delta_t log-uniform in [DELTA/10, 10 DELTA]). Each call is compiled on a
short input first, then timed ``--repeats`` times (best), writing its states into one preallocated
``out=`` buffer where the function takes one (so the kernels are timed, not the first touch of a fresh
(L, H, N) array; ``--fresh``: a new array per call, as a plain call does; calls without ``out=`` always
allocate and are marked *). Prints ns per channel-step and the ratio to the fixed scan, and the load
average: the machine may be shared, so compare ratios from one run.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from numba import get_num_threads

from symderive.codegen.export import export, import_package
from symderive.inputs.specs import parse_basis, parse_warp

KINDS = {
    "dilation": ("exponential", "legendre"),
    "translation": ("linear:window=1", "legendre"),
    "neglog": ("exponential", "laguerre"),
    "rotation": ("linear:window=1", "fourier"),
    "general": ("f=1/(1-x)", "legendre"),
    "general_neglog": ("f=tanh(x)+1", "laguerre"),
}


def best(call, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def package(out: Path, kind: str, N: int):
    """The benchmark package of ``kind`` at ``N`` in ``out`` (exported unless it is there already)."""
    name = f"bench_variable_{kind}_{N}"
    if not (out / name / "__init__.py").exists():
        warp, basis = KINDS[kind]
        export(parse_warp(warp), parse_basis(basis, N), "1/100", name, out)
    return import_package(out, name)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--N", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--L", type=int, default=4096)
    parser.add_argument("--H", type=int, default=256)
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--kinds", nargs="+", default=["dilation"], help=f"any of {', '.join(KINDS)}, or all")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="folder for the packages (default: temporary)")
    parser.add_argument("--fresh", action="store_true", help="a new result array per call (no out= buffer)")
    args = parser.parse_args(argv)
    kinds = list(KINDS) if args.kinds == ["all"] else args.kinds
    delta = 0.01
    rng = np.random.default_rng(0)
    u64 = rng.standard_normal((args.L, args.H))
    shared = np.exp(rng.uniform(np.log(delta / 10), np.log(delta * 10), args.L))
    each = np.exp(rng.uniform(np.log(delta / 10), np.log(delta * 10), (args.L, args.H)))
    steps = args.L * args.H
    print(f"L = {args.L}, H = {args.H}, repeats {args.repeats}, {'fresh arrays' if args.fresh else 'out= buffers'}; "
          f"{get_num_threads()} threads; load average {os.getloadavg()[0]:.2f}")
    print(f"{'kind':15} {'N':>3} {'dtype':8} {'scan':>8} {'shared':>8} {'(x scan)':>8} {'per channel':>12} "
          f"{'(x scan)':>8}   ns per channel-step")
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        for kind in kinds:
            for N in args.N:
                pkg = package(out, kind, N)
                for dtype in args.dtypes:
                    u = u64.astype(dtype)
                    buffer = None if args.fresh else np.zeros((args.L, args.H, N), dtype=dtype)
                    cells = []
                    for function, steps_of in ((pkg.scan, None), (pkg.scan_variable, shared),
                                               (pkg.scan_variable, each)):
                        reuse = buffer is not None and "out" in inspect.signature(function).parameters
                        extra = (steps_of,) if steps_of is not None else ()
                        function(u[:64], *(e[:64] for e in extra))                      # compile
                        kwargs = {"out": buffer} if reuse else {}
                        seconds = best(lambda: function(u, *extra, **kwargs), args.repeats)
                        cells.append((seconds / steps * 1e9, "" if reuse or args.fresh else "*"))
                    (scan, a), (one, b), (many, c) = cells
                    print(f"{kind:15} {N:>3} {dtype:8} {scan:>7.0f}{a:1} {one:>7.0f}{b:1} {one / scan:>8.2f} "
                          f"{many:>11.0f}{c:1} {many / scan:>8.2f}")
                    sys.stdout.flush()
    print(f"load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
