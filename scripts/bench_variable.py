"""Per-step (Delta_t) kernels side by side: ns per channel-step of ``scan_variable`` for each per-step kind.

    python scripts/bench_variable.py [--N 16] [--L 2048] [--H 16] [--repeats 3]

Exports one package per kind into a temporary folder (exponential x legendre: dilation; linear window x
legendre: translation; linear window x fourier: rotation; power law 1/(1-x) x legendre: general;
tanh(x)+1 x laguerre: general in y = -log z) and times ``scan_variable`` with one Delta shared by the
channels and one per channel (Delta_t log-uniform in [DELTA/10, 10 DELTA]), best of ``--repeats`` after a
warm-up call (compilation excluded), next to the fixed-step ``scan`` of the same package. Prints the load
average: the machine is shared, so compare ratios from one run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

from symderive.codegen.export import export, import_package
from symderive.inputs.specs import parse_basis, parse_warp

KINDS = {
    "dilation": ("exponential", "legendre"),
    "translation": ("linear:window=1", "legendre"),
    "rotation": ("linear:window=1", "fourier"),
    "general": ("f=1/(1-x)", "legendre"),
    "general (y = -log z)": ("f=tanh(x)+1", "laguerre"),
}


def best(call, repeats):
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--N", type=int, default=16)
    parser.add_argument("--L", type=int, default=2048)
    parser.add_argument("--H", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    delta = 0.01
    rng = np.random.default_rng(0)
    u = rng.standard_normal((args.L, args.H))
    shared = np.exp(rng.uniform(np.log(delta / 10), np.log(delta * 10), args.L))
    each = np.exp(rng.uniform(np.log(delta / 10), np.log(delta * 10), (args.L, args.H)))
    steps = args.L * args.H
    print(f"N = {args.N}, L = {args.L}, H = {args.H}, float64; load average {os.getloadavg()[0]:.2f}")
    print(f"{'kind':22} {'M':>4} {'scan':>10} {'shared Delta':>14} {'per channel':>14}   (ns per channel-step)")
    with tempfile.TemporaryDirectory() as out:
        for i, (kind, (warp, basis)) in enumerate(KINDS.items()):
            name = f"bench_variable_{i}"
            export(parse_warp(warp), parse_basis(basis, args.N), "1/100", name, out)
            pkg = import_package(out, name)
            fixed = best(lambda: pkg.scan(u), args.repeats)
            one = best(lambda: pkg.scan_variable(u, shared), args.repeats)
            many = best(lambda: pkg.scan_variable(u, each), args.repeats)
            print(f"{kind:22} {pkg._cpu.M:>4} {fixed / steps * 1e9:>10.0f} {one / steps * 1e9:>14.0f} "
                  f"{many / steps * 1e9:>14.0f}")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
