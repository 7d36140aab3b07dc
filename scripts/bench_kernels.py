"""Benchmark the generated CPU kernels of exponential x Legendre at N = 64 (HiPPO-LegS, Delta = 1/100).

    python scripts/bench_kernels.py [--package NAME] [--repeats R] [--quick]

Uses the checked-in package ``generated/legs_n64`` (or ``--package``); if it is missing, exports the
model into a temporary folder first. Every kernel is called once before timing (JIT compile), and each
figure is the best of ``R`` repeats. Printed:

1. ``scan`` against a plain numpy per-step loop ``c = A @ c + B * u_t`` at H = 1, L = 10^4 (target >= 10x);
2. the flop rate of ``scan`` at H = 256, L = 4096, counting N(N+1) flops per channel-step (one
   multiply-add per nonzero of the lower-triangular A), against this machine's float64 GEMM rate
   (numpy ``A @ X``, 2048 x 2048, measured in this run, on all threads and on one) (target >= 30%);
3. ``scan_variable`` against ``scan`` (time ratio, same L and H);
4. ``conv`` (FFT) against ``scan`` (time ratio, same L and H);
5. ``scan_readout(u, C, D)`` (fused, (L, H) out) against ``scan`` followed by the same contraction in numpy,
   float32 and float64, and ``scan`` into a reused ``out=`` buffer against a fresh allocation;
6. the chunked scan at H = 1 (chunks in parallel, then carries with A^T): ``scan_final`` and
   ``scan_readout`` with the chunk length the package chooses against the sequential kernel (T = 0).

This is a script that prints figures, not a timed test.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
GENERATED = REPO / "generated"

GEMM_N = 2048
GEMM_ONE_THREAD = r"""
import time, numpy as np
n = {n}
rng = np.random.default_rng(0)
A = rng.standard_normal((n, n)); X = rng.standard_normal((n, n))
A @ X
best = min((lambda t0: (A @ X, time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range({r}))
print(2.0 * n ** 3 / best)
"""


def timed(fn, repeats: int):
    """``(shortest wall time of repeats calls of fn() in seconds, the last call's result)``; each result
    is dropped before the next call, so no call runs with the previous output still held."""
    times = []
    for _ in range(repeats):
        result = None
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def best_of(fn, repeats: int) -> float:
    """The shortest wall time of ``repeats`` calls of ``fn()`` (seconds)."""
    return timed(fn, repeats)[0]


def load_package(name: str):
    """``generated/name`` if it exists, else exponential x Legendre N = 64 exported to a temporary folder."""
    if (GENERATED / name / "__init__.py").is_file():
        sys.path.insert(0, str(GENERATED))
        return importlib.import_module(name), f"generated/{name}"
    sys.path.insert(0, str(REPO))
    import symderive as sd
    from symderive.codegen.export import export
    out = Path(tempfile.mkdtemp(prefix="bench_kernels_"))
    export(sd.warps.exponential(), sd.bases.legendre(64), "1/100", name, out)
    sys.path.insert(0, str(out))
    return importlib.import_module(name), f"{out}/{name} (exported now)"


def numpy_loop(A, B, u):
    """The plain per-step loop ``c = A @ c + B * u_t`` (one channel), all states kept."""
    c = np.zeros(A.shape[0])
    out = np.empty((u.shape[0], A.shape[0]))
    for t in range(u.shape[0]):
        c = A @ c + B * u[t]
        out[t] = c
    return out


def gemm_rate(repeats: int) -> float:
    """float64 GEMM flop rate of numpy (``2 n^3`` flops), with its default threads."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((GEMM_N, GEMM_N))
    X = rng.standard_normal((GEMM_N, GEMM_N))
    A @ X
    return 2.0 * GEMM_N ** 3 / best_of(lambda: A @ X, repeats)


def gemm_rate_one_thread(repeats: int) -> float | None:
    """The same GEMM in a child process limited to one BLAS thread (None if that fails)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    try:
        out = subprocess.run([sys.executable, "-c", GEMM_ONE_THREAD.format(n=GEMM_N, r=repeats)], env=env,
                             capture_output=True, text=True, timeout=300, check=True)
        return float(out.stdout.strip())
    except (subprocess.SubprocessError, ValueError):
        return None


def machine_info() -> str:
    import numba
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"machine: {cpu}, {os.cpu_count()} logical CPUs, load average {load}\n"
            f"python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__} "
            f"(threads {numba.config.NUMBA_NUM_THREADS}, layer {numba.config.THREADING_LAYER})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", default="legs_n64", help="generated package to time (default legs_n64)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats per figure; the best is kept (default 3)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run, figures not comparable)")
    args = parser.parse_args(argv)
    repeats = max(1, args.repeats)
    L1, H2, L2 = (10_000, 256, 4096) if not args.quick else (2000, 32, 512)

    print(machine_info())
    pkg, where = load_package(args.package)
    N = pkg.N
    A = np.asarray(pkg.A, dtype=np.float64)
    B = np.asarray(pkg.B, dtype=np.float64).reshape(-1)
    print(f"package: {where}, N = {N}, Delta = {pkg.DELTA}, "
          f"A lower triangular: {bool(np.all(np.triu(A, 1) == 0))}")
    rng = np.random.default_rng(0)

    # (1) scan vs the numpy loop, one channel
    u1 = rng.standard_normal(L1)
    pkg.scan(u1[:16])                                    # JIT compile
    t_scan1, scan1 = timed(lambda: pkg.scan(u1), repeats)
    t_loop1, loop1 = timed(lambda: numpy_loop(A, B, u1), max(1, min(repeats, 3)))
    err = np.max(np.abs(scan1 - loop1)) / np.max(np.abs(loop1))
    print(f"\n(1) H = 1, L = {L1}: scan {t_scan1 * 1e3:.2f} ms, numpy loop {t_loop1 * 1e3:.2f} ms: "
          f"speedup {t_loop1 / t_scan1:.1f}x (target >= 10x); max rel diff {err:.1e}")

    # (2) flop rate at H = 256, L = 4096
    u2 = rng.standard_normal((L2, H2))
    pkg.scan(u2[:4])
    t_scan2 = best_of(lambda: pkg.scan(u2), repeats)
    flops = N * (N + 1) * H2 * L2
    rate = flops / t_scan2
    gemm = gemm_rate(repeats)
    gemm1 = gemm_rate_one_thread(repeats)
    print(f"\n(2) H = {H2}, L = {L2}: scan {t_scan2 * 1e3:.1f} ms = {rate / 1e9:.2f} GFLOP/s "
          f"(N(N+1) = {N * (N + 1)} flops per channel-step; output {u2.nbytes * N / 2 ** 20:.0f} MiB)")
    print(f"    numpy float64 GEMM {GEMM_N}x{GEMM_N}: {gemm / 1e9:.2f} GFLOP/s (default threads) -> "
          f"scan at {100 * rate / gemm:.1f}% (target >= 30%)")
    if gemm1 is not None:
        print(f"    numpy float64 GEMM, one thread: {gemm1 / 1e9:.2f} GFLOP/s -> scan at {100 * rate / gemm1:.1f}% "
              f"of one core")
    t_final = best_of(lambda: pkg.scan_final(u2), repeats)
    print(f"    scan_final (no (L, H, N) output): {t_final * 1e3:.1f} ms = {flops / t_final / 1e9:.2f} GFLOP/s "
          f"({100 * flops / t_final / gemm:.1f}% of GEMM)")

    # (3) scan_variable vs scan, same sizes
    deltas = np.exp(rng.uniform(np.log(1e-3), np.log(1e-1), L2))
    try:
        pkg.scan_variable(u2[:4], deltas[:4])
        t_var = best_of(lambda: pkg.scan_variable(u2, deltas), repeats)
        print(f"\n(3) scan_variable (per-step Delta, shared by channels), H = {H2}, L = {L2}: "
              f"{t_var * 1e3:.1f} ms = {t_var / t_scan2:.2f}x scan")
        deltas_h = np.exp(rng.uniform(np.log(1e-3), np.log(1e-1), (L2, H2)))
        pkg.scan_variable(u2[:4], deltas_h[:4])
        t_var_h = best_of(lambda: pkg.scan_variable(u2, deltas_h), repeats)
        print(f"    scan_variable (per-step, per-channel Delta): {t_var_h * 1e3:.1f} ms = "
              f"{t_var_h / t_scan2:.2f}x scan")
    except NotImplementedError as exc:
        print(f"\n(3) scan_variable: not implemented for this package ({exc})")

    # (4) conv (FFT) vs scan, same sizes
    pkg.conv(u2[:8])
    t_conv, conv2 = timed(lambda: pkg.conv(u2), repeats)
    scan2 = pkg.scan(u2)
    diff = np.max(np.abs(conv2 - scan2)) / np.max(np.abs(scan2))
    print(f"\n(4) conv (FFT), H = {H2}, L = {L2}: {t_conv * 1e3:.1f} ms = {t_conv / t_scan2:.2f}x scan; "
          f"max rel diff from scan {diff:.1e}")
    # (5) the fused readout, and out= buffers
    if hasattr(pkg, "scan_readout"):
        for dtype in (np.float32, np.float64):
            u5 = u2.astype(dtype)
            C = rng.standard_normal((H2, N)).astype(dtype)
            D = rng.standard_normal(H2).astype(dtype)
            pkg.scan_readout(u5[:4], C, D)
            t_fused, y = timed(lambda: pkg.scan_readout(u5, C, D), repeats)
            t_split, y2 = timed(lambda: np.einsum("lhn,hn->lh", pkg.scan(u5), C) + D * u5, repeats)
            diff = np.max(np.abs(y - y2)) / np.max(np.abs(y2))
            print(f"\n(5) scan_readout {np.dtype(dtype).name}, H = {H2}, L = {L2}: {t_fused * 1e3:.1f} ms; scan + "
                  f"numpy readout {t_split * 1e3:.1f} ms: {t_split / t_fused:.2f}x; max rel diff {diff:.1e}")
        buf = np.empty((L2, H2, N))
        t_out = best_of(lambda: pkg.scan(u2, out=buf), repeats)
        print(f"    scan into a reused out= buffer: {t_out * 1e3:.1f} ms, fresh array {t_scan2 * 1e3:.1f} ms "
              f"({t_scan2 / t_out:.2f}x)")

    # (6) chunked scans at H = 1
    cpu = getattr(pkg, "_cpu", None)
    if cpu is not None and hasattr(cpu, "_chunk_rows"):
        import numba
        L6 = 200_000 if not args.quick else 20_000
        u6 = rng.standard_normal((L6, 1))
        for mode, label in ((cpu.FINAL, "scan_final"), (cpu.READOUT, "scan_readout"), (cpu.STATES, "scan")):
            T = cpu._chunk_rows(L6, 1, mode)
            C6 = rng.standard_normal((1, N)) if mode == cpu.READOUT else None
            run = lambda T: cpu._run_fixed(u6, None, mode, None, C6, None, T=T)   # noqa: E731
            run(T)
            run(0)
            t_seq, (r_seq, last_seq) = timed(lambda: run(0), repeats)
            threads = numba.get_num_threads()
            note = f"chunks of {T} (the package's choice)"
            if not T:
                T = -(-L6 // threads)
                note = (f"chunks of {T}, forced: with {threads} threads the package does not chunk "
                        f"(it needs 4 per channel)")
                run(T)
            t_chunk, (r_chunk, last_chunk) = timed(lambda: run(T), repeats)
            diff = np.max(np.abs(last_chunk - last_seq)) / np.max(np.abs(last_seq))
            print(f"\n(6) {label}, H = 1, L = {L6}, {threads} threads, {note}: "
                  f"{t_chunk * 1e3:.1f} ms, sequential {t_seq * 1e3:.1f} ms: {t_seq / t_chunk:.2f}x; "
                  f"last state max rel diff {diff:.1e}")

    print(f"\nload average after the run: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
