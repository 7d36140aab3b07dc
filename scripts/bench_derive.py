"""Wall-clock benchmark of the derivation: exact LegS (sections 1-4) and custom warps (sections 5-6).

    python scripts/bench_derive.py [--sizes 16,64,256,512] [--naive-N 16] [--skip-naive]
                                   [--symbolic-max 64] [--step-timeout 300]
                                   [--custom-sizes 16,64,256] [--custom-check-max 64]
                                   [--skip-exact] [--skip-custom]

Sections 5 and 6 (``scripts/_bench_custom.py``): float matrices of rational, algebraic and
transcendental warps with Legendre, Fourier and log-Laguerre bases by the numeric route, cold, checked
against mpmath at 50 digits (targets: N = 16 under 1 s, N = 64 under 5 s, N = 256 under 60 s; relative
error at most 1e-13), and issue 10's commands through the command line, cold and cached.

Measures, per N, in one run (time.perf_counter, one repetition each, fresh model every time):

1. ``A_gen, B_gen``: the core rational computation (basis tables + ``exact.generator_core`` through
   ``m._generator_exact_core``) and, separately, the materialization as SymPy matrices (``m.A_gen``,
   ``m.B_gen``).
2. ``A_Delta, B_Delta`` three ways:
   (a) symbolic ``Delta`` (entries polynomials in ``exp(-Delta)``), only for small N;
   (b) an exact rational step: the scale warp at ``t = 100``, step 1, which is exactly the exponential
       warp's ``A_Delta`` at ``Delta = log(101/100)`` (``q = exp(-Delta) = 100/101``, docs/math.md, section 4.4);
   (c) ``m.numeric(0.01)``: float64 rounded once from a certified arb ball evaluation.
3. The naive loop: one ``sympy.integrate`` per entry of Proposition 1 (docs/math.md, section 3.1), checked
   against ``m.A_gen``.
4. The targets, on the total A_gen+B_gen (core + materialize) + A_Delta (b): N=256 faster than the naive
   loop at N=16, N=512 under 60 s; plus, for information, the same work for N=256/512 back to back in
   one process with symderive's caches shared.

Before every measurement the Legendre coefficient-table cache (``_legendre_form``), every other
module-level lru_cache of symderive (e.g. ``exact.dilation_factors``) and SymPy's global cache are
cleared, so that building the basis is counted and no measurement profits from one before it.

A step that runs longer than ``--step-timeout`` seconds is interrupted (SIGALRM; a long C call such as
one flint matrix product finishes first) and reported as ``timeout``. Cells are printed as they finish.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import time

import flint
import numpy as np
import sympy as sp
from sympy.external.gmpy import GROUND_TYPES

import symderive as sd
from symderive import progress
from _bench_common import fresh_state, symderive_caches
from _bench_custom import section_cli, section_custom
from _bench_custom import summary as custom_summary

T_STEP = 100  # scale warp at t = 100, step 1: q = 100/101, Delta = log(101/100)
DELTA_NUM = 0.01
NUMERIC_TOL = 1e-15


# ----------------------------------------------------------------------------- helpers

class StepTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise StepTimeout


def timed_step(fn, N: int, limit: float) -> dict:
    """``fn(N)``, or ``{"timeout": elapsed}`` when it runs past ``limit`` seconds (0: no limit)."""
    t0 = time.perf_counter()
    if limit > 0:
        signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        return fn(N)
    except StepTimeout:
        return {"timeout": time.perf_counter() - t0}
    finally:
        if limit > 0:
            signal.setitimer(signal.ITIMER_REAL, 0)


class Stopwatch:
    """Wall clock (``time.perf_counter``) and this process's CPU time (``time.process_time``)."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> tuple[float, float]:
        """``(wall, cpu)`` seconds since the previous lap (or creation)."""
        wall, cpu = time.perf_counter(), time.process_time()
        out = (wall - self.wall, cpu - self.cpu)
        self.wall, self.cpu = wall, cpu
        return out


def fmt_s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.3f}"


def machine_facts() -> list[str]:
    return [
        f"python        {sys.version.split()[0]} ({platform.python_implementation()}, {platform.machine()})",
        f"sympy         {sp.__version__}",
        f"ground types  {GROUND_TYPES}  (sympy.external.gmpy.GROUND_TYPES)",
        f"python-flint  {flint.__version__}",
        f"numpy         {np.__version__}",
        f"symderive     {sd.__version__}, {source_revision()}",
        f"os.cpu_count  {os.cpu_count()}",
        f"load average  {load_average()}  (other processes share these CPUs: compare with the load)",
    ]


def source_revision() -> str:
    """The git commit of the symderive sources (read-only git calls), and whether they are modified."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(sd.__file__)))
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--", "symderive"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "commit unknown"
    if not head:
        return "commit unknown"
    return f"commit {head}" + (" + uncommitted changes under symderive/" if dirty else "")


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


# ----------------------------------------------------------------------------- 1. generator

def bench_generator(N: int) -> dict:
    """Time the rational core of ``A_gen, B_gen`` and its materialization as SymPy matrices."""
    fresh_state()
    clock = Stopwatch()
    m = sd.derive(sd.warps.exponential(), sd.bases.legendre(N))
    m._generator_exact_core
    core, core_cpu = clock.lap()
    A, B = m.A_gen, m.B_gen
    mat, mat_cpu = clock.lap()
    # Cheap check against docs/math.md, section 4.3: A_gen = -A_LegS, B_gen = B_LegS.
    ok = (A.shape == (N, N) and B.shape == (N, 1)
          and all(A[n, n] == -(n + 1) for n in range(N))
          and all(B[n, 0] == sp.sqrt(2 * n + 1) for n in range(N))
          and all(A[n, k] == 0 for n in range(N) for k in range(n + 1, N))
          and all(A[n, 0] == -sp.sqrt(2 * n + 1) for n in range(1, N))
          and all(A[N - 1, k] == -sp.sqrt((2 * N - 1) * (2 * k + 1)) for k in range(N - 1)))
    return {"core": core, "materialize": mat, "cpu": core_cpu + mat_cpu, "ok": ok}


# ----------------------------------------------------------------------------- 2. lag matrices

def bench_lag_symbolic(N: int) -> dict:
    """(a) ``m.lag(Delta)`` with a positive symbol: entries polynomials in ``exp(-Delta)``."""
    fresh_state()
    delta = sp.Symbol("Delta", positive=True)
    clock = Stopwatch()
    m = sd.derive(sd.warps.exponential(), sd.bases.legendre(N))
    A, B = m.lag(delta)
    wall, cpu = clock.lap()
    ok = (A.shape == (N, N) and B.shape == (N, 1)
          and all(sp.expand(A[n, n] - sp.exp(-(n + 1) * delta)) == 0 for n in range(N))
          and all(A[n, k] == 0 for n in range(N) for k in range(n + 1, N))
          and sp.expand(B[0, 0] - (1 - sp.exp(-delta))) == 0)
    return {"time": wall, "cpu": cpu, "ok": ok}


def bench_lag_rational(N: int) -> dict:
    """(b) scale warp, ``t = T_STEP``, step 1: the exponential warp's ``A_Delta`` at ``q = t/(t+1)``."""
    fresh_state()
    clock = Stopwatch()
    m = sd.derive(sd.warps.scale(), sd.bases.legendre(N))
    A, B = m.lag(1, t=T_STEP)
    wall, cpu = clock.lap()
    q = sp.Rational(T_STEP, T_STEP + 1)
    ok = (A.shape == (N, N) and B.shape == (N, 1)
          and all(A[n, n] == q ** (n + 1) for n in range(N))
          and all(A[n, k] == 0 for n in range(N) for k in range(n + 1, N))
          and B[0, 0] == 1 - q)
    return {"time": wall, "cpu": cpu, "ok": ok}


def bench_lag_numeric(N: int) -> dict:
    """(c) ``m.numeric(0.01)``: float64 rounded once from certified arb balls."""
    fresh_state()
    clock = Stopwatch()
    m = sd.derive(sd.warps.exponential(), sd.bases.legendre(N))
    A, B = m.numeric(DELTA_NUM)
    wall, cpu = clock.lap()
    diag_expected = np.exp(-DELTA_NUM * np.arange(1, N + 1))
    err = float(np.max(np.abs(np.diag(A) - diag_expected)))
    ok = (A.shape == (N, N) and B.shape == (N,)
          and bool(np.all(np.isfinite(A))) and bool(np.all(np.isfinite(B)))
          and err <= NUMERIC_TOL
          and bool(np.all(np.triu(A, 1) == 0))
          and abs(B[0] - (1 - np.exp(-DELTA_NUM))) <= NUMERIC_TOL)
    return {"time": wall, "cpu": cpu, "ok": ok, "diag_err": err}


def bench_pipeline(N: int) -> dict:
    """A_gen, B_gen then A_Delta (b) back to back in one process, symderive's caches shared between them
    (the basis tables, the moment matrix), as a user deriving both would run them."""
    fresh_state()
    clock = Stopwatch()
    basis = sd.bases.legendre(N)
    m = sd.derive(sd.warps.exponential(), basis)
    A_gen, B_gen = m.A_gen, m.B_gen
    A, B = sd.derive(sd.warps.scale(), basis).lag(1, t=T_STEP)
    wall, cpu = clock.lap()
    ok = A_gen[N - 1, N - 1] == -N and A[N - 1, N - 1] == sp.Rational(T_STEP, T_STEP + 1) ** N
    return {"time": wall, "cpu": cpu, "ok": ok}


# ----------------------------------------------------------------------------- 3. naive loop

def bench_naive(N: int) -> dict:
    """Per-entry ``sympy.integrate`` of Proposition 1, docs/math.md, section 3.1 (exponential warp: v(z) = z)."""
    fresh_state()
    z = sp.Symbol("z")
    clock = Stopwatch()
    p = [sp.sqrt(2 * n + 1) * sp.legendre(n, 2 * z - 1) for n in range(N)]
    dp = [sp.diff(pk, z) for pk in p]
    p1 = [pn.subs(z, 1) for pn in p]
    A = sp.Matrix(N, N, lambda n, k: -p1[n] * p1[k] + sp.integrate(p[n] * dp[k] * z, (z, 0, 1)))
    B = sp.Matrix(N, 1, lambda n, _: p1[n])
    wall, cpu = clock.lap()
    m = sd.derive(sd.warps.exponential(), sd.bases.legendre(N))
    diff_A = [sp.simplify(A[n, k] - m.A_gen[n, k]) for n in range(N) for k in range(N)]
    diff_B = [sp.simplify(B[n, 0] - m.B_gen[n, 0]) for n in range(N)]
    check_time, _ = clock.lap()
    ok = all(d == 0 for d in diff_A + diff_B)
    return {"time": wall, "cpu": cpu, "check_time": check_time, "ok": ok}


# ----------------------------------------------------------------------------- report

def okstr(flag: bool | None) -> str:
    return "-" if flag is None else ("ok" if flag else "FAILED")


def cell(r: dict, key: str = "time") -> tuple[str, str]:
    """``(time, check)`` strings of one measurement (``timeout`` when interrupted)."""
    if "timeout" in r:
        return f"timeout>{r['timeout']:.0f}", "-"
    return fmt_s(r[key]), okstr(r["ok"])


def print_cell(text: str, width: int) -> None:
    print(f" {text:>{width}}", end="", flush=True)


def section_generator(sizes, limit) -> dict:
    print("1. A_gen, B_gen exact (seconds)")
    print("   core = sd.bases.legendre(N) + sd.derive + m._generator_exact_core (flint fmpq_mat)")
    print("   materialize = m.A_gen, m.B_gen as SymPy ImmutableMatrix;"
          " check: A_gen = -A_LegS, B_gen = B_LegS (docs/math.md 4.3)")
    print(f"   {'N':>5} {'core':>12} {'materialize':>12} {'total':>10} {'check':>7}")
    out = {}
    for N in sizes:
        print(f"   {N:>5}", end="", flush=True)
        r = timed_step(bench_generator, N, limit)
        out[N] = r
        if "timeout" in r:
            print_cell(f"timeout>{r['timeout']:.0f}", 12)
            print(f" {'-':>12} {'-':>10} {'-':>7}")
            continue
        print(f" {fmt_s(r['core']):>12} {fmt_s(r['materialize']):>12} "
              f"{fmt_s(r['core'] + r['materialize']):>10} {okstr(r['ok']):>7}", flush=True)
    print()
    return out


def section_lag(sizes, symbolic_max, limit) -> tuple[dict, dict, dict]:
    print("2. A_Delta, B_Delta exact (seconds, each including sd.bases.legendre and sd.derive)")
    print(f"   (a) m.lag(Delta), Delta a positive symbol (N <= {symbolic_max});"
          " check: diag = exp(-(n+1) Delta), strictly upper = 0")
    print(f"   (b) scale warp .lag(1, t={T_STEP}) = exponential A_Delta at Delta = log({T_STEP + 1}/{T_STEP});"
          f" check: diag = ({T_STEP}/{T_STEP + 1})^(n+1) exactly, strictly upper = 0")
    print(f"   (c) m.numeric({DELTA_NUM}) float64 from certified arb balls;"
          f" check: |diag - exp(-(n+1)*{DELTA_NUM})| <= {NUMERIC_TOL:g}, strictly upper = 0")
    print(f"   {'N':>5} {'(a) symbolic':>21} {'check':>7} {'(b) rational':>12} {'check':>7} "
          f"{'(c) numeric':>12} {'check':>7} {'(c) diag err':>12}")
    ra_all, rb_all, rc_all = {}, {}, {}
    for N in sizes:
        print(f"   {N:>5}", end="", flush=True)
        if N <= symbolic_max:
            ra = ra_all[N] = timed_step(bench_lag_symbolic, N, limit)
            t, c = cell(ra)
            print_cell(t, 21)
            print_cell(c, 7)
        else:
            print_cell("skipped (N^3/6 terms)", 21)
            print_cell("", 7)
        rb = rb_all[N] = timed_step(bench_lag_rational, N, limit)
        for text, width in zip(cell(rb), (12, 7)):
            print_cell(text, width)
        rc = rc_all[N] = timed_step(bench_lag_numeric, N, limit)
        for text, width in zip(cell(rc), (12, 7)):
            print_cell(text, width)
        print_cell("-" if "timeout" in rc else f"{rc['diag_err']:.1e}", 12)
        print()
    print()
    return ra_all, rb_all, rc_all


def section_naive(N, skip, limit) -> dict | None:
    if skip:
        print("3. naive sympy.integrate loop: skipped (--skip-naive)")
        print()
        return None
    print(f"3. naive loop at N={N}: A_gen[n,k] = -p_n(1) p_k(1) + integrate(p_n p_k' z, (z, 0, 1)),")
    print("   p_n = sqrt(2n+1) legendre(n, 2z-1), all N^2 entries; B_gen[n] = p_n(1)")
    r = timed_step(bench_naive, N, limit)
    if "timeout" in r:
        print(f"   timeout after {r['timeout']:.0f} s")
    else:
        print(f"   time {fmt_s(r['time'])} s wall (process CPU time {fmt_s(r['cpu'])} s)")
        print(f"   equals m.A_gen, m.B_gen exactly (simplify of difference == 0): "
              f"{okstr(r['ok'])} (check took {fmt_s(r['check_time'])} s, not counted)")
    print()
    return r


def section_targets(gen, lag_b, naive, naive_N, pipeline) -> None:
    print("4. targets; exact derivation total = A_gen+B_gen (core + materialize) + A_Delta (b)")

    def total(N):
        g, b = gen.get(N), lag_b.get(N)
        if g is None or b is None:
            return None, "N not in --sizes"
        if "timeout" in g or "timeout" in b:
            return None, "a step timed out"
        return g["core"] + g["materialize"] + b["time"], ""

    for N in sorted(gen):
        t, why = total(N)
        if t is None:
            print(f"   N={N:>4} total: {why}")
        else:
            cpu = gen[N]["cpu"] + lag_b[N]["cpu"]
            print(f"   N={N:>4} total: {t:.3f} s wall  (process CPU time {cpu:.3f} s)")
    t256, why256 = total(256)
    target = f"N=256 exact derivation faster than the naive loop at N={naive_N}"
    if naive is None or "timeout" in naive:
        print(f"   {target}: not measured (naive loop skipped or timed out)")
    elif t256 is None:
        print(f"   {target}: not measured ({why256})")
    else:
        met = t256 < naive["time"]
        print(f"   {target}: {t256:.3f} s vs {naive['time']:.3f} s -> {'MET' if met else 'NOT MET'}")
    t512, why512 = total(512)
    if t512 is None:
        print(f"   N=512 under 60 s: not measured ({why512})")
    else:
        print(f"   N=512 under 60 s: {t512:.3f} s -> {'MET' if t512 < 60 else 'NOT MET'}")
    if pipeline:
        print("   for information, the same work back to back in one process with symderive's caches shared")
        print("   (basis tables and moment matrix built once; the verdicts above use the separate cold runs):")
        for N, r in pipeline.items():
            if "timeout" in r:
                print(f"   N={N:>4} pipeline: timeout>{r['timeout']:.0f} s")
            else:
                print(f"   N={N:>4} pipeline: {r['time']:.3f} s wall  (process CPU time {r['cpu']:.3f} s)  "
                      f"check {okstr(r['ok'])}")
    print()


def check_summary(*groups) -> tuple[str, bool]:
    results = [r for g in groups for r in g.values()]
    failed = sum(1 for r in results if r.get("ok") is False)
    timeouts = sum(1 for r in results if "timeout" in r)
    if failed:
        return f"FAILED ({failed} failed, {timeouts} timed out)", False
    if timeouts:
        return f"ok where measured ({timeouts} step(s) timed out, unchecked)", True
    return "ok", True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="16,64,256,512", help="comma-separated N (default 16,64,256,512)")
    parser.add_argument("--naive-N", type=int, default=16, help="N of the naive sympy.integrate loop (default 16)")
    parser.add_argument("--skip-naive", action="store_true", help="skip the naive loop")
    parser.add_argument("--symbolic-max", type=int, default=64,
                        help="largest N for the symbolic-Delta lag (a) (default 64)")
    parser.add_argument("--step-timeout", type=float, default=300,
                        help="interrupt a single measurement after this many seconds (default 300; 0: never)")
    parser.add_argument("--custom-sizes", default="16,64,256", help="N of the custom-warp section (default 16,64,256)")
    parser.add_argument("--custom-check-max", type=int, default=64,
                        help="largest N checked against the 50-digit reference in section 5 (default 64)")
    parser.add_argument("--skip-exact", action="store_true", help="skip sections 1-4 (exact LegS)")
    parser.add_argument("--skip-custom", action="store_true", help="skip sections 5-6 (custom warps, CLI)")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    custom_sizes = [int(x) for x in args.custom_sizes.split(",") if x.strip()]

    start = time.perf_counter()
    progress.set_quiet(True)     # the benchmark prints its own table; no progress bars in it
    print("symderive derivation benchmark: exact LegS (sections 1-4), custom warps (sections 5-6)")
    for line in machine_facts():
        print("  " + line)
    print("  timer: time.perf_counter, one run per cell, a fresh LagModel per measurement;")
    names = ", ".join(f"{fn.__module__.split('.')[-1]}.{fn.__name__}" for fn in symderive_caches())
    print("  before each measurement: symderive.inputs.bases._legendre_form.cache_clear() (so building the")
    print("  basis is counted in every cell), the other symderive lru_caches and sympy's clear_cache();")
    print(f"  symderive lru_caches found: {names};")
    print(f"  a single measurement is interrupted after {args.step_timeout:g} s (--step-timeout).")
    print()

    gen = lag_a = lag_b = lag_c = pipeline = {}
    naive = None
    if not args.skip_exact:
        gen = section_generator(sizes, args.step_timeout)
        lag_a, lag_b, lag_c = section_lag(sizes, args.symbolic_max, args.step_timeout)
        naive = section_naive(args.naive_N, args.skip_naive, args.step_timeout)
        pipeline = {N: timed_step(bench_pipeline, N, args.step_timeout) for N in sizes if N in (256, 512)}
        section_targets(gen, lag_b, naive, args.naive_N, pipeline)
    custom_line, custom_ok = None, True
    if not args.skip_custom:
        custom_line, custom_ok = custom_summary(section_custom(custom_sizes, args.custom_check_max))
        section_cli()

    summary, ok = check_summary(gen, lag_a, lag_b, lag_c, pipeline, {"naive": naive} if naive else {})
    if custom_line:
        print(custom_line)
    print(f"exact-section checks: {summary if not args.skip_exact else 'skipped'}; load average now "
          f"{load_average()}; whole run {time.perf_counter() - start:.1f} s")
    return 0 if ok and custom_ok else 1


if __name__ == "__main__":
    sys.exit(main())
