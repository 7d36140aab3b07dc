"""Benchmark: the exact LegS certificate (exponential warp x Legendre against HiPPO-LegS).

    python scripts/bench_verify.py [--N 64 256 512]

For each N, a cold run (symderive's caches and SymPy's cache cleared: ``_bench_common.fresh_state``):
derive the exact generator, build the family, compare in exact normal form, check the closed form for
every n, k < N, the all-n proof, the structural theorem.
Prints each step's seconds and the total; target: N = 512 under 60 s on this machine's kind.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import symderive as sd  # noqa: E402
from _bench_common import fresh_state  # noqa: E402
from symderive.verification.families import family  # noqa: E402
from symderive.verification.verify import verify  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--N", type=int, nargs="+", default=[64, 256, 512])
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()}, {os.cpu_count()} cpus, load {os.getloadavg()[0]:.2f}")
    print(f"{'N':>5} {'verdict':>10} {'derive':>8} {'family':>8} {'compare':>8} {'closed':>8} {'struct':>8} "
          f"{'total':>8}  closed form status")
    for N in args.N:
        fresh_state()
        start = time.perf_counter()
        cert = verify(sd.warps.exponential(), sd.bases.legendre(N), family("legs"))
        wall = time.perf_counter() - start
        t = cert.timings
        status = (cert.closed_form or {}).get("status", "-")
        print(f"{N:>5} {cert.verdict:>10} {t.get('derive_generator', 0):8.2f} {t.get('family_matrices', 0):8.2f} "
              f"{t.get('compare', 0):8.2f} {t.get('closed_form', 0):8.2f} {t.get('structure', 0):8.2f} "
              f"{wall:8.2f}  {status}", flush=True)
        if N == 512:
            print(f"N=512 under 60 s: {wall:.1f} s -> {'MET' if wall < 60 else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
