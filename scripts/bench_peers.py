"""Benchmark the generated CPU kernels against peer implementations, side by side in one run.

    python scripts/bench_peers.py [--quick] [--repeats R] [--round-seconds S] [--loop-gflop G]
                                  [--max-minutes M] [--export-all] [--mamba-source PATH] [--cache DIR]

Needs the ``bench`` extra (``pip install -e '.[bench]'``: jax, jaxlib, scipy, einops, torch); every peer
is an optional import and is skipped, with the reason printed, when it is missing.

Packages: ``generated/legs_n64`` for N = 64 (``--export-all``: exported like the others), N = 16 and 256
exported with ``symderive.codegen.export.export`` into ``CACHE/packages/KEY/`` (KEY: a hash of symderive's
sources, its templates and the model, so a changed source exports again and an unchanged one reuses the
package and its compiled Numba cache).

Fixed step (exponential warp x Legendre basis, Delta = 1/100, N = 16, 64, 256; L = 4096, H = 256 and
L = 10^4, H = 1; float32 and float64), "states written" (our ``pkg.scan(u)``) and "final state only"
(``pkg.scan_final(u)``), against:

- a plain numpy loop ``c = c @ A.T + u_t B`` over the same dense A;
- the same loop in torch (CPU);
- ``jax.lax.scan`` (jitted) over the same dense A (``A = pkg.A``, ``B = pkg.B``);
- ``scipy.signal.dlsim`` (H = 1, states written only; it computes in float64 whatever the input).

Per-step Delta (the selective scan): ours ``pkg.scan_variable(u, delta)`` with delta (L, H) per channel
and (L,) shared, float32, N = 16 and 64, against mamba-ssm's ``selective_scan_ref`` (diagonal S4D-real
A = -(1..N) per channel, B and C either fixed (dim, N) or per step (batch, N, L), batch 1, dim = H),
loaded UNCHANGED from the source file ``mamba_ssm/ops/selective_scan_interface.py`` of a mamba-ssm source
archive (``pip install mamba-ssm`` builds CUDA code and downloads a binary, so the function's source is
taken out of the file with ``ast`` and executed with torch, torch.nn.functional as F and einops'
rearrange/repeat). Give the archive (or its extracted folder) with ``--mamba-source``, or put it in the
cache folder (default ~/.cache/symderive-bench/); to get it::

    MAMBA_SKIP_CUDA_BUILD=TRUE pip download --no-deps --no-build-isolation mamba-ssm -d ~/.cache/symderive-bench

(the source archive's metadata step needs torch installed and, without MAMBA_SKIP_CUDA_BUILD, nvcc).
The two models differ (ours: dense N x N lag operator evaluated by quadrature per step; the peer: a
diagonal A, N multiplies per channel-step, then a readout): the figure is the time per channel-step of
each, not the same arithmetic.

Forward + backward (the PyTorch bridge, issue 14): ``pkg.torch.selective_scan(u, delta, C, D)`` with u,
delta (B, L, H) float32 and C (H, N), D (H,), forward only (no_grad) and forward + backward of ``y.sum()``
(gradients for u, delta, C, D), against ``selective_scan_ref`` under torch autograd at the same
(B, L, H, N) with the same four gradients, and against a torch autograd loop over dense LegS matrices
(``matrix_exp(Delta A_gen)`` per channel and step, on a smaller problem; per channel-step figures).

Where the package has ``scan_readout(u, C, D)`` (y = C c_t + D u_t per channel), it is timed against
jax scan + the same readout.

How it is timed: per configuration the methods run interleaved (peer A, ours, peer B, ours, ...), so a
drift of the machine's load hits all of them; each method is called twice back to back and the later
call is kept (a first write into fresh memory after another library freed gigabytes can cost several
times more; where our very first call on a configuration was over 3x slower than the best later one, a
footnote gives it: a compilation, or work the package keeps between calls, such as scan_final's kernel
rows per L), and the best over ``--repeats`` rounds is printed (rounds stop early once a configuration
has used ``--round-seconds``; the table says how many ran). Every peer's result is compared with ours
(two time steps, or the final state) and the largest relative difference is printed. RATIO = peer time /
our time: above 1, symderive is faster. The machine's numpy GEMM rate (2048 x 2048, float64 and float32)
and a memory bandwidth (numpy copy of a 256 MiB array, read + write) are measured at the start and the
end of the run, with the load average.

To fit about 10 minutes on 2 cores: the Python-loop peers (numpy, torch) run on a prefix L' of the steps
where their dense work 2 L H N^2 exceeds ``--loop-gflop`` (default 20; H = 256, N = 256 only) and their
time is scaled by L / L' (marked ``~``; checked against ours on the same prefix); the cheap
configurations run first, the largest (H = 256, N = 256) last, after the selective-scan and readout
sections; any configuration not started after ``--max-minutes`` (default 11) is skipped with a note.

This is a script that prints figures, not a timed test.
"""

from __future__ import annotations

import argparse
import ast
import gc
import hashlib
import importlib
import os
import platform
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
GENERATED = REPO / "generated"
DEFAULT_CACHE = Path(os.environ.get("SYMDERIVE_BENCH_CACHE", Path.home() / ".cache" / "symderive-bench"))
INTERFACE = "mamba_ssm/ops/selective_scan_interface.py"
GEMM_N = 2048
COPY_BYTES = 256 * 2 ** 20


# ---------------------------------------------------------------------- optional peers


def _optional(name):
    """(module, None) or (None, reason)."""
    try:
        return importlib.import_module(name), None
    except Exception as error:                                # noqa: BLE001 - any import failure is a skip
        return None, f"{type(error).__name__}: {error}"


def load_peers():
    peers, reasons = {}, {}
    torch, reasons["torch"] = _optional("torch")
    if torch is not None:
        peers["torch"] = torch
    jax, reasons["jax"] = _optional("jax")
    if jax is not None:
        jax.config.update("jax_enable_x64", True)            # float64 arrays stay float64
        peers["jax"] = jax
    signal, reasons["scipy"] = _optional("scipy.signal")
    if signal is not None:
        peers["scipy"] = signal
    einops, reasons["einops"] = _optional("einops")
    if einops is not None:
        peers["einops"] = einops
    return peers, {k: v for k, v in reasons.items() if v}


# ---------------------------------------------------------------------- machine figures


def machine_info(peers) -> str:
    import numba
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = [f"machine: {cpu}, {os.cpu_count()} logical CPUs",
             f"python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__} "
             f"(threads {numba.config.NUMBA_NUM_THREADS}, layer {numba.config.THREADING_LAYER})"]
    versions = []
    if "torch" in peers:
        versions.append(f"torch {peers['torch'].__version__} (threads {peers['torch'].get_num_threads()})")
    if "jax" in peers:
        jax = peers["jax"]
        versions.append(f"jax {jax.__version__} ({', '.join(str(d) for d in jax.devices())})")
    if "scipy" in peers:
        import scipy
        versions.append(f"scipy {scipy.__version__}")
    if "einops" in peers:
        versions.append(f"einops {peers['einops'].__version__}")
    if versions:
        lines.append("peers: " + ", ".join(versions))
    return "\n".join(lines)


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def gemm_rate(dtype, repeats: int = 3) -> float:
    """numpy's GEMM flop rate (2 n^3 flops, n = 2048), default threads, best of ``repeats``."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((GEMM_N, GEMM_N)).astype(dtype)
    X = rng.standard_normal((GEMM_N, GEMM_N)).astype(dtype)
    A @ X
    best = min(_wall(lambda: A @ X) for _ in range(repeats))
    return 2.0 * GEMM_N ** 3 / best


def copy_bandwidth(repeats: int = 5) -> float:
    """Bytes read + written per second by ``numpy.copyto`` of a 256 MiB float64 array into another."""
    src = np.ones(COPY_BYTES // 8)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    best = min(_wall(lambda: np.copyto(dst, src)) for _ in range(repeats))
    return 2.0 * COPY_BYTES / best


def _wall(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# ---------------------------------------------------------------------- packages


def _source_key(*parts) -> str:
    """A folder name for exported packages: symderive's sources and templates, and the export's inputs."""
    from symderive import cache
    from symderive.codegen.render import TEMPLATE_DIR
    digest = hashlib.sha256(cache.source_hash().encode())
    for path in sorted(Path(TEMPLATE_DIR).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(TEMPLATE_DIR)).encode())
            digest.update(path.read_bytes())
    digest.update(repr(parts).encode())
    return digest.hexdigest()[:16]


def load_package(N: int, cache_dir: Path, use_generated: bool = True):
    """exponential x Legendre, N states, Delta = 1/100: ``generated/legs_n64`` for N = 64 when present
    (and ``use_generated``), else exported (once per symderive source) under ``cache_dir/packages/``."""
    name = f"legs_n{N}"
    from symderive.codegen.export import import_package
    if use_generated and N == 64 and (GENERATED / name / "__init__.py").is_file():
        return import_package(GENERATED, name), f"generated/{name}"
    import symderive as sd
    from symderive.codegen.export import export
    folder = cache_dir / "packages" / _source_key("exponential", "legendre", N, "1/100")
    if not (folder / name / "__init__.py").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        export(sd.warps.exponential(), sd.bases.legendre(N), "1/100", name, folder)
        where = f"{folder / name} (exported now, {time.perf_counter() - start:.1f} s)"
    else:
        where = f"{folder / name} (exported earlier from the same symderive sources)"
    return import_package(folder, name), where


# ---------------------------------------------------------------------- mamba-ssm's selective_scan_ref


def _interface_text(path: Path):
    """(text of mamba_ssm/ops/selective_scan_interface.py, where it was read) from an archive or a folder."""
    if path.is_dir():
        found = sorted(path.rglob("selective_scan_interface.py"))
        found = [p for p in found if p.as_posix().endswith(INTERFACE)]
        if not found:
            raise FileNotFoundError(f"no {INTERFACE} under {path}")
        return found[0].read_text(), str(found[0])
    if tarfile.is_tarfile(path):
        with tarfile.open(path) as archive:
            member = next((m for m in archive.getmembers() if m.name.endswith(INTERFACE)), None)
            if member is None:
                raise FileNotFoundError(f"no {INTERFACE} in {path}")
            return archive.extractfile(member).read().decode(), f"{path}:{member.name}"
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            member = next((n for n in archive.namelist() if n.endswith(INTERFACE)), None)
            if member is None:
                raise FileNotFoundError(f"no {INTERFACE} in {path}")
            return archive.read(member).decode(), f"{path}:{member}"
    raise ValueError(f"{path} is neither a folder, a tar archive nor a zip archive")


def _mamba_candidates(source, cache_dir: Path):
    if source:
        return [Path(source).expanduser()]
    if not cache_dir.is_dir():
        return []
    return sorted((p for p in cache_dir.iterdir() if p.name.startswith(("mamba_ssm-", "mamba-ssm-"))),
                  reverse=True)                           # newest version first (by name)


def load_selective_scan_ref(source, cache_dir: Path, peers):
    """(selective_scan_ref, a line saying where it came from) or (None, why not)."""
    missing = [name for name in ("torch", "einops") if name not in peers]
    if missing:
        return None, f"needs {' and '.join(missing)}"
    candidates = _mamba_candidates(source, cache_dir)
    if not candidates:
        return None, (f"no mamba-ssm source archive (give --mamba-source, or run: MAMBA_SKIP_CUDA_BUILD=TRUE "
                      f"pip download --no-deps --no-build-isolation mamba-ssm -d {cache_dir})")
    errors = []
    for path in candidates:
        try:
            text, where = _interface_text(path)
            node = next((n for n in ast.parse(text).body
                         if isinstance(n, ast.FunctionDef) and n.name == "selective_scan_ref"), None)
            if node is None:
                raise LookupError(f"no function selective_scan_ref in {where}")
            if node.decorator_list:
                raise LookupError("selective_scan_ref has decorators: not loaded")
            function_source = ast.get_source_segment(text, node)
            torch = peers["torch"]
            namespace = {"torch": torch, "F": importlib.import_module("torch.nn.functional"),
                         "rearrange": peers["einops"].rearrange, "repeat": peers["einops"].repeat}
            # the function's own lines, unchanged; line numbers in tracebacks match the file
            code = compile("\n" * (node.lineno - 1) + function_source, where, "exec")
            exec(code, namespace)                                 # noqa: S102 - the reference's source, as published
            origin = (f"archive sha256 {hashlib.sha256(path.read_bytes()).hexdigest()[:16]}" if path.is_file()
                      else "an extracted folder")
            line = (f"mamba-ssm selective_scan_ref: loaded UNCHANGED (lines {node.lineno}-{node.end_lineno}, "
                    f"source sha256 {hashlib.sha256(function_source.encode()).hexdigest()[:16]}) from "
                    f"{where} ({origin}), executed with torch, torch.nn.functional as F, einops.rearrange/repeat")
            return namespace["selective_scan_ref"], line
        except Exception as error:                            # noqa: BLE001 - the next candidate, or a skip
            errors.append(f"{path}: {type(error).__name__}: {error}")
    return None, "; ".join(errors)


# ---------------------------------------------------------------------- the peers' loops


def numpy_loop(A, B, u, keep):
    """c = c @ A.T + u_t B for u (L, H), every state written into (L, H, N) when ``keep``."""
    AT = np.ascontiguousarray(A.T)
    L, H = u.shape
    c = np.zeros((H, A.shape[0]), dtype=u.dtype)
    out = np.empty((L, H, A.shape[0]), dtype=u.dtype) if keep else None
    for t in range(L):
        c = c @ AT
        c += u[t][:, None] * B
        if keep:
            out[t] = c
    return out if keep else c


def torch_loop(torch, AT, B, u, keep):
    """The same loop with torch tensors (AT = A.T contiguous, B (N,), u (L, H))."""
    with torch.no_grad():
        L, H = u.shape
        c = torch.zeros((H, AT.shape[0]), dtype=u.dtype)
        out = torch.empty((L, H, AT.shape[0]), dtype=u.dtype) if keep else None
        for t in range(L):
            c = torch.addmm(u[t][:, None] * B, c, AT)
            if keep:
                out[t] = c
        return out if keep else c


def make_jax_scans(jax):
    """Jitted lax.scan over dense A: (states written (L, H, N), final state only (H, N)), and the readout."""
    jnp, lax = jax.numpy, jax.lax

    def body(A, B):
        def step(c, ut):
            c = c @ A.T + ut[:, None] * B
            return c, c
        return step

    @jax.jit
    def states(A, B, u):
        c0 = jnp.zeros((u.shape[1], A.shape[0]), dtype=u.dtype)
        return lax.scan(body(A, B), c0, u)[1]

    @jax.jit
    def final(A, B, u):
        step = body(A, B)
        c0 = jnp.zeros((u.shape[1], A.shape[0]), dtype=u.dtype)
        return lax.scan(lambda c, ut: (step(c, ut)[0], None), c0, u)[0]

    @jax.jit
    def readout(A, B, C, D, u):
        def step(c, ut):
            c = c @ A.T + ut[:, None] * B
            return c, jnp.sum(c * C, axis=1) + D * ut
        c0 = jnp.zeros((u.shape[1], A.shape[0]), dtype=u.dtype)
        return lax.scan(step, c0, u)[1]

    return states, final, readout


# ---------------------------------------------------------------------- timing


class Runner:
    """Interleaved best-of timing: per round, (peer, ours) pairs; each method called twice, later call kept."""

    def __init__(self, repeats: int, round_seconds: float, deadline: float):
        self.repeats, self.round_seconds, self.deadline = repeats, round_seconds, deadline

    def late(self) -> bool:
        """True once the run has passed --max-minutes: the remaining configurations are skipped."""
        return time.perf_counter() > self.deadline

    def pair(self, fn):
        """Call ``fn`` twice back to back; (wall time of the second call, its result). The first call's
        time is kept in ``self.first_call`` (the last pair's)."""
        start = time.perf_counter()
        result = fn()
        self.first_call = time.perf_counter() - start
        del result
        start = time.perf_counter()
        result = fn()
        return time.perf_counter() - start, result

    def run(self, ours, peers, sample):
        """``ours``: (name, fn); ``peers``: [(name, fn)] or [(name, fn, scale, check)]: a peer's time is
        multiplied by ``scale`` (a loop run on a prefix of the steps), and ``check(result) -> (got, ref)``
        replaces the default comparison ``sample(peer result)`` against ``sample(our result)``.

        Returns ({name: best seconds}, {peer name: max relative difference from ours}, rounds run).
        """
        peers = [p if len(p) == 4 else (p[0], p[1], 1.0, None) for p in peers]
        best, got = {}, {}
        self.first = {}                     # each method's very first call on this configuration
        ref = None
        order = []
        for name, fn, scale, check in peers:
            order += [(name, fn, scale, check), (ours[0], ours[1], 1.0, None)]
        if not order:
            order = [(ours[0], ours[1], 1.0, None)]
        start = time.perf_counter()
        rounds = 0
        for _ in range(self.repeats):
            rounds += 1
            for name, fn, scale, check in order:
                gc.collect()
                seconds, result = self.pair(fn)
                best[name] = min(best.get(name, np.inf), seconds * scale)
                if name not in self.first:
                    self.first[name] = self.first_call * scale
                if name == ours[0]:
                    if ref is None:
                        ref = sample(result)
                elif name not in got:
                    got[name] = check(result) if check is not None else sample(result)
                del result
            if time.perf_counter() - start > self.round_seconds or self.late():
                break
        diff = {}
        for name, value in got.items():
            peer_value, reference = value if isinstance(value, tuple) else (value, ref)
            scale = float(np.max(np.abs(reference))) or 1.0
            diff[name] = float(np.max(np.abs(peer_value - reference))) / scale
        return best, diff, rounds


def _first_call_note(runner, ours_t):
    """A footnote where our very first call on a configuration was much slower than the best later one:
    a compilation, or work kept between calls (scan_final keeps the kernel rows A^k B per L, so its later
    calls are one GEMM)."""
    first = runner.first.get("ours")
    if first is not None and first > 3.0 * ours_t:
        print(f"      (ours: first call on this configuration {first * 1e3:.2f} ms, best later {ours_t * 1e3:.2f} ms: "
              "a compilation or work kept between calls, e.g. scan_final's kernel rows for this L)")


def _to_numpy(x):
    if hasattr(x, "detach"):                    # torch
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _steps_sample(L):
    picks = [L // 2, L - 2]

    def sample(result):
        x = _to_numpy(result)
        return np.asarray(x[picks], dtype=np.float64).reshape(-1)
    return sample


def _final_sample(result):
    return np.asarray(_to_numpy(result), dtype=np.float64).reshape(-1)


def _ms(seconds) -> str:
    return f"{seconds * 1e3:9.2f}"


# ---------------------------------------------------------------------- sections


FIXED_NAMES = ["numpy", "torch", "jax", "dlsim"]


def fixed_legend(loop_gflop, short=False):
    if not short:
        fixed_legend_text(loop_gflop)
    print(f"{'L':>6} {'H':>4} {'N':>4} {'dtype':>7} {'mode':>6} {'ours':>9} "
          + " ".join(f"{n:>10} {'x':>6}" for n in FIXED_NAMES) + f" {'GF/s':>6} {'%GEMM':>6} {'GB/s':>6} {'rnd':>3}")


def fixed_legend_text(loop_gflop):
    print("\n== fixed step: c_t = A c_{t-1} + B u_t (exponential x Legendre, Delta = 1/100) ==")
    print("times in ms (best later call); x = peer time / our time (above 1: symderive faster); GF/s: our rate "
          "counting N(N+1) flops per channel-step (one multiply-add per nonzero of the lower-triangular A; B u "
          "not counted; the dense peers execute 2N^2 + 2N; a package whose scan_final takes another route, e.g. "
          "one GEMM with kept kernel rows, shows this recurrence-equivalent rate); %GEMM: of numpy's GEMM rate in the same dtype, measured "
          "just before the configuration (best of 2, so it sees the same load); GB/s: "
          "our states (or final state) written + u read, per second; rnd: rounds run")
    print(f"~: a Python-loop peer (numpy, torch) run on the first L' < L steps (its dense work 2 L H N^2 above "
          f"{loop_gflop:g} GFLOP) and its time scaled by L / L' (the loop's cost per step is constant); its check "
          f"compares with ours on the same L' steps")


def fixed_step(packages, peers, runner, sizes, worst, loop_gflop):
    jax_states = jax_final = None
    if "jax" in peers:
        jax_states, jax_final, _ = make_jax_scans(peers["jax"])
    torch = peers.get("torch")
    for L, H in sizes:
        for N, pkg in packages.items():
            A64 = np.asarray(pkg.A, dtype=np.float64)
            lower = bool(np.all(np.triu(A64, 1) == 0))
            flops = L * H * (N * (N + 1) if lower else 2 * N * N)
            dense = 2.0 * L * H * N * N
            steps = L if dense <= loop_gflop * 1e9 else max(min(L, 256), int(L * loop_gflop * 1e9 / dense))
            for dtype in (np.float32, np.float64):
                if runner.late():
                    print(f"{L:>6} {H:>4} {N:>4} {np.dtype(dtype).name:>7}  skipped: past --max-minutes")
                    continue
                gemm = gemm_rate(dtype, repeats=2)
                u = np.random.default_rng(N + L).standard_normal((L, H)).astype(dtype)
                A, B = A64.astype(dtype), np.asarray(pkg.B, dtype=np.float64).reshape(-1).astype(dtype)
                ours_u = u[:, 0].copy() if H == 1 else u
                prefix = np.ascontiguousarray(u[:steps])
                if torch is not None:
                    tu = torch.from_numpy(prefix)
                    tAT, tB = torch.from_numpy(np.ascontiguousarray(A.T)), torch.from_numpy(B)
                if jax_states is not None:
                    jnp = peers["jax"].numpy
                    ju, jA, jB = jnp.asarray(u), jnp.asarray(A), jnp.asarray(B)
                for mode in ("states", "final"):
                    keep = mode == "states"
                    if keep:
                        ours = ("ours", lambda: pkg.scan(ours_u))
                        sample = _steps_sample(L)
                    else:
                        ours = ("ours", lambda: pkg.scan_final(ours_u))
                        sample = _final_sample
                    loop_check = None
                    if steps < L:
                        if keep:
                            loop_ref = _steps_sample(steps)(pkg.scan(prefix))
                            loop_check = lambda r: (_steps_sample(steps)(r), loop_ref)          # noqa: E731
                        else:
                            loop_ref = _final_sample(pkg.scan_final(prefix))
                            loop_check = lambda r: (_final_sample(r), loop_ref)                 # noqa: E731
                    scale = L / steps
                    peer_list = [("numpy", lambda: numpy_loop(A, B, prefix, keep), scale, loop_check)]
                    if torch is not None:
                        peer_list.append(("torch", lambda: torch_loop(torch, tAT, tB, tu, keep), scale, loop_check))
                    if jax_states is not None:
                        fn = jax_states if keep else jax_final
                        peer_list.append(("jax", lambda: fn(jA, jB, ju).block_until_ready()))
                    if "scipy" in peers and H == 1 and keep:
                        dlsim = peers["scipy"].dlsim
                        system = (A, B[:, None], np.zeros((1, N), dtype=dtype), np.zeros((1, 1), dtype=dtype), 1.0)
                        # dlsim's x[k+1] = A x[k] + B u[k]: our c_t is its x[t + 1]
                        peer_list.append(("dlsim", lambda: dlsim(system, u[:, 0])[2][1:]))
                    best, diff, rounds = runner.run(ours, peer_list, sample)
                    ours_t = best["ours"]
                    cells = []
                    for name in FIXED_NAMES:
                        if name in best:
                            mark = "~" if steps < L and name in ("numpy", "torch") else " "
                            cells.append(f"{mark}{_ms(best[name])} {best[name] / ours_t:6.2f}")
                            key = (name, np.dtype(dtype).name)
                            worst[key] = max(worst.get(key, 0.0), diff[name])
                        else:
                            cells.append(f"{'-':>10} {'-':>6}")
                    itemsize = np.dtype(dtype).itemsize
                    moved = L * H * itemsize + (L * H * N if keep else H * N) * itemsize
                    rate = flops / ours_t
                    print(f"{L:>6} {H:>4} {N:>4} {np.dtype(dtype).name:>7} {mode:>6} {_ms(ours_t)} "
                          + " ".join(cells)
                          + f" {rate / 1e9:6.1f} {100 * rate / gemm:5.1f}% "
                          f"{moved / ours_t / 1e9:6.2f} {rounds:>3}", flush=True)
                    if not lower:
                        print("      (A is not lower triangular: 2N^2 flops per channel-step counted)")
                    _first_call_note(runner, ours_t)
                    if steps < L and mode == "final":
                        print(f"      (~ numpy, torch: L' = {steps} steps, time x {scale:.2f})")


def selective(packages, peers, runner, L, H, Ns, ssr):
    print(f"\n== per-step Delta (selective scan), L x H = {L} x {H}, float32, ns per channel-step ==")
    if ssr is None:
        print("selective_scan_ref: skipped (see above); ours only")
    torch = peers.get("torch")
    print("ours each / shared: pkg.scan_variable(u, delta) with delta (L, H) / (L,), every state (L, H, N) "
          "written; ref B,C fixed: selective_scan_ref(u, delta, A, B (H, N), C (H, N)); ref B,C per step: B, C "
          "(1, N, L); the ref returns y (1, H, L) (it forms exp(delta A) and delta B u as (1, H, L, N) first). "
          "x = peer time / our time (per channel / shared delta)")
    print(f"{'N':>4} {'ours each':>10} {'ours shared':>12} {'ref B,C fixed':>14} {'x':>11} "
          f"{'ref B,C per step':>17} {'x':>11} {'rnd':>3}")
    rng = np.random.default_rng(1)
    for N in Ns:
        pkg = packages[N]
        if runner.late():
            print(f"{N:>4} skipped: past --max-minutes")
            continue
        if pkg.METADATA.get("variable_kind") is None:
            print(f"{N:>4} no per-step kernel in this package")
            continue
        u = rng.standard_normal((L, H)).astype(np.float32)
        low, high = 1e-3, 1e-1
        checks = pkg._checks if hasattr(pkg, "_checks") else None
        if checks is not None:
            low = max(low, getattr(checks, "DELTA_MIN", 0.0) * 1.01)
            high = min(high, getattr(checks, "DELTA_MAX", np.inf) * 0.99)
        each = np.exp(rng.uniform(np.log(low), np.log(high), (L, H)))
        shared = each[:, 0].copy()
        order = [("ours each", lambda: pkg.scan_variable(u, each)),
                 ("ours shared", lambda: pkg.scan_variable(u, shared))]
        peer_list = []
        if ssr is not None:
            tu = torch.from_numpy(np.ascontiguousarray(u.T))[None]                      # (1, H, L)
            tdelta = torch.from_numpy(np.ascontiguousarray(each.T.astype(np.float32)))[None]
            tA = -torch.arange(1, N + 1, dtype=torch.float32).repeat(H, 1)             # S4D-real, (H, N)
            g = torch.Generator().manual_seed(N)
            tB, tC = torch.randn(H, N, generator=g), torch.randn(H, N, generator=g)
            tBL, tCL = torch.randn(1, N, L, generator=g), torch.randn(1, N, L, generator=g)

            def fixed_bc():
                with torch.no_grad():
                    return ssr(tu, tdelta, tA, tB, tC)

            def step_bc():
                with torch.no_grad():
                    return ssr(tu, tdelta, tA, tBL, tCL)
            peer_list = [("ref fixed", fixed_bc), ("ref step", step_bc)]
        # interleaved: ref fixed, ours each, ref step, ours shared (then again, per round)
        best, rounds = {}, 0
        start = time.perf_counter()
        sequence = ([peer_list[0], order[0], peer_list[1], order[1]] if peer_list else order)
        for _ in range(runner.repeats):
            rounds += 1
            for name, fn in sequence:
                gc.collect()
                seconds, result = runner.pair(fn)
                del result
                best[name] = min(best.get(name, np.inf), seconds)
            if time.perf_counter() - start > runner.round_seconds or runner.late():
                break
        per = {name: seconds / (L * H) * 1e9 for name, seconds in best.items()}
        cells = [f"{per['ours each']:10.1f}", f"{per['ours shared']:12.1f}"]
        for name in ("ref fixed", "ref step"):
            if name in per:
                width = 14 if name == "ref fixed" else 17
                cells.append(f"{per[name]:{width}.1f} {per[name] / per['ours each']:5.2f}/"
                             f"{per[name] / per['ours shared']:<5.2f}")
            else:
                cells.append(f"{'-':>{14 if name == 'ref fixed' else 17}} {'-':>11}")
        print(f"{N:>4} " + " ".join(cells) + f" {rounds:>3}", flush=True)


def _dense_legs(torch, pkg, u, delta, C, D):
    """The torch autograd reference for LegS: a loop over time with dense per-step matrices of every channel,
    A(Delta) = matrix_exp(Delta A_gen) and B(Delta) = A_gen^{-1} (A(Delta) - I) B_gen (exact for a dilation,
    docs/math.md, section 3.3), batched over the B H channels; y_t = C . c_t + D u_t."""
    n_batch, L, H = u.shape
    N = pkg.N
    Ag = torch.tensor(np.asarray(pkg.A_GEN), dtype=u.dtype)
    Bg = torch.tensor(np.asarray(pkg.B_GEN), dtype=u.dtype)
    b0 = torch.linalg.solve(Ag, Bg)                          # A_gen^{-1} B_gen (A(Delta) commutes with A_gen)
    c = torch.zeros(n_batch * H, N, dtype=u.dtype)
    eye = torch.eye(N, dtype=u.dtype)
    ys = []
    for t in range(L):
        d = delta[:, t, :].reshape(-1)
        A = torch.linalg.matrix_exp(d[:, None, None] * Ag)
        Bd = (A - eye) @ b0
        c = (A @ c[:, :, None])[:, :, 0] + Bd * u[:, t, :].reshape(-1, 1)
        ys.append((c.reshape(n_batch, H, N) * C).sum(-1) + D * u[:, t, :])
    return torch.stack(ys, dim=1)


def _forward_backward(call, leaves):
    """A timed method: clear the leaves' gradients, ``y = call()``, backward of ``y.sum()``; returns y."""
    def run():
        for x in leaves:
            x.grad = None
        y = call()
        y.sum().backward()
        return y
    return run


def selective_backward(packages, peers, runner, shape, dense_shape, Ns, ssr):
    """Forward + backward under torch autograd, float32, ns per channel-step (module docstring)."""
    B, L, H = shape
    print(f"\n== selective scan, forward + backward under torch autograd, B x L x H = {B} x {L} x {H}, float32, "
          "ns per channel-step ==")
    torch = peers.get("torch")
    if torch is None:
        print("skipped: torch is not installed")
        return
    print("ours: pkg.torch.selective_scan(u, delta (B, L, H), C (H, N), D (H,)); fwd under no_grad, f+b: forward "
          "and backward of y.sum() for u, delta, C, D. ref: mamba-ssm's selective_scan_ref(u, delta, A, B, C, D) "
          "with A = S4D-real (H, N), B (H, N) fixed, the same four gradients. dense: a torch autograd loop over "
          f"dense LegS matrices matrix_exp(Delta A_gen) of every channel, on B x L x H = {' x '.join(map(str, dense_shape))}. "
          "x = peer f+b / ours f+b; f+b/fwd: ours, forward + backward over forward only")
    print(f"{'N':>4} {'ours fwd':>9} {'ours f+b':>9} {'f+b/fwd':>8} {'ref fwd':>9} {'ref f+b':>9} {'x':>6} "
          f"{'dense f+b':>10} {'x':>6} {'rnd':>3}")
    for N in Ns:
        pkg = packages[N]
        if runner.late():
            print(f"{N:>4} skipped: past --max-minutes")
            continue
        if getattr(pkg, "_cpu", None) is None or getattr(pkg._cpu, "DERIVATIVE_ROUTE", None) is None:
            print(f"{N:>4} no PyTorch bridge in this package (regenerate it)")
            continue
        mt = pkg.torch
        g = torch.Generator().manual_seed(N)
        u = torch.randn(B, L, H, generator=g).requires_grad_()
        delta = torch.exp(torch.empty(B, L, H).uniform_(np.log(1e-3), np.log(1e-1), generator=g)).requires_grad_()
        C = torch.randn(H, N, generator=g).requires_grad_()
        D = torch.randn(H, generator=g).requires_grad_()
        leaves = (u, delta, C, D)

        def ours_fwd():
            with torch.no_grad():
                return mt.selective_scan(u, delta, C, D)

        methods = [("ours fwd", ours_fwd),
                   ("ours f+b", _forward_backward(lambda: mt.selective_scan(u, delta, C, D), leaves))]
        if ssr is not None:
            tu = u.detach().transpose(1, 2).contiguous().requires_grad_()          # (B, H, L)
            td = delta.detach().transpose(1, 2).contiguous().requires_grad_()
            tA = -torch.arange(1, N + 1, dtype=torch.float32).repeat(H, 1)
            tB = torch.randn(H, N, generator=g)
            tC = C.detach().clone().requires_grad_()
            tD = D.detach().clone().requires_grad_()

            def ref_fwd():
                with torch.no_grad():
                    return ssr(tu, td, tA, tB, tC, tD)

            methods += [("ref fwd", ref_fwd),
                        ("ref f+b", _forward_backward(lambda: ssr(tu, td, tA, tB, tC, tD), (tu, td, tC, tD)))]
        dB, dL, dH = dense_shape
        du = u.detach()[:dB, :dL, :dH].clone().requires_grad_()
        dd = delta.detach()[:dB, :dL, :dH].clone().requires_grad_()
        dC = C.detach()[:dH].clone().requires_grad_()
        dD = D.detach()[:dH].clone().requires_grad_()

        methods.append(("dense f+b", _forward_backward(lambda: _dense_legs(torch, pkg, du, dd, dC, dD),
                                                       (du, dd, dC, dD))))
        # the dense loop is checked against ours on its sub-problem: forward and the step's gradient
        y_ours = mt.selective_scan(du, dd, dC, dD)
        grad_ours = torch.autograd.grad(y_ours.sum(), dd)[0]
        y_dense = _dense_legs(torch, pkg, du, dd, dC, dD)
        grad_dense = torch.autograd.grad(y_dense.sum(), dd)[0]
        with torch.no_grad():
            agree = (float((y_ours - y_dense).abs().max() / y_dense.abs().max()),
                     float((grad_ours - grad_dense).abs().max() / grad_dense.abs().max()))
        best, rounds = {}, 0
        start = time.perf_counter()
        for _ in range(runner.repeats):
            rounds += 1
            for name, fn in methods:
                gc.collect()
                seconds, result = runner.pair(fn)
                del result
                count = dB * dL * dH if name == "dense f+b" else B * L * H
                best[name] = min(best.get(name, np.inf), seconds / count * 1e9)
            if time.perf_counter() - start > runner.round_seconds or runner.late():
                break
        cells = [f"{best['ours fwd']:9.1f}", f"{best['ours f+b']:9.1f}", f"{best['ours f+b'] / best['ours fwd']:8.2f}"]
        if "ref f+b" in best:
            cells += [f"{best['ref fwd']:9.1f}", f"{best['ref f+b']:9.1f}", f"{best['ref f+b'] / best['ours f+b']:6.2f}"]
        else:
            cells += [f"{'-':>9}", f"{'-':>9}", f"{'-':>6}"]
        cells += [f"{best['dense f+b']:10.1f}", f"{best['dense f+b'] / best['ours f+b']:6.2f}"]
        print(f"{N:>4} " + " ".join(cells) + f" {rounds:>3}   (dense vs ours, float32: y {agree[0]:.1e}, "
              f"d/dDelta {agree[1]:.1e})", flush=True)


def readout(packages, peers, runner, L, H, worst):
    have = {N: pkg for N, pkg in packages.items() if hasattr(pkg, "scan_readout")}
    print(f"\n== readout y_t = C c_t + D u_t (pkg.scan_readout), L x H = {L} x {H} ==")
    if not have:
        print("skipped: no package here has scan_readout")
        return
    if "jax" not in peers:
        print("jax missing: ours only")
    print(f"{'N':>4} {'dtype':>7} {'ours ms':>9} {'jax ms':>9} {'x':>6} {'rnd':>3}")
    _, _, jax_readout = make_jax_scans(peers["jax"]) if "jax" in peers else (None, None, None)
    for N, pkg in have.items():
        for dtype in (np.float32, np.float64):
            if runner.late():
                print(f"{N:>4} {np.dtype(dtype).name:>7} skipped: past --max-minutes")
                continue
            rng = np.random.default_rng(N)
            u = rng.standard_normal((L, H)).astype(dtype)
            C = rng.standard_normal((H, N)).astype(dtype)
            D = rng.standard_normal(H).astype(dtype)
            ours = ("ours", lambda: pkg.scan_readout(u, C, D))
            peer_list = []
            if jax_readout is not None:
                jnp = peers["jax"].numpy
                A = jnp.asarray(np.asarray(pkg.A, dtype=np.float64).astype(dtype))
                B = jnp.asarray(np.asarray(pkg.B, dtype=np.float64).reshape(-1).astype(dtype))
                jC, jD, ju = jnp.asarray(C), jnp.asarray(D), jnp.asarray(u)
                peer_list.append(("jax", lambda: jax_readout(A, B, jC, jD, ju).block_until_ready()))
            best, diff, rounds = runner.run(ours, peer_list, _steps_sample(L))
            jax_cells = (f"{_ms(best['jax'])} {best['jax'] / best['ours']:6.2f}" if "jax" in best
                         else f"{'-':>9} {'-':>6}")
            if "jax" in diff:
                key = ("jax readout", np.dtype(dtype).name)
                worst[key] = max(worst.get(key, 0.0), diff["jax"])
            print(f"{N:>4} {np.dtype(dtype).name:>7} {_ms(best['ours'])} {jax_cells} {rounds:>3}", flush=True)
            _first_call_note(runner, best["ours"])


# ---------------------------------------------------------------------- main


SECTIONS = ("fixed", "selective", "backward", "readout")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run; figures not comparable)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds per configuration, the best kept (default 3)")
    parser.add_argument("--round-seconds", type=float, default=20.0,
                        help="no new round once a configuration has run this long (default 20)")
    parser.add_argument("--loop-gflop", type=float, default=20.0,
                        help="the numpy and torch loops run on a prefix of the steps when their dense work is larger "
                             "than this, their time scaled (default 20)")
    parser.add_argument("--max-minutes", type=float, default=11.0,
                        help="configurations not started by then are skipped, with a note (default 11)")
    parser.add_argument("--export-all", action="store_true",
                        help="export N = 64 too, instead of using the checked-in generated/legs_n64 (which lags "
                             "template changes until generated/ is regenerated)")
    parser.add_argument("--mamba-source", default=None,
                        help="mamba-ssm source archive (.tar.gz/.zip) or extracted folder (default: look in --cache)")
    parser.add_argument("--cache", default=str(DEFAULT_CACHE),
                        help=f"folder for the mamba-ssm archive and the exported packages (default {DEFAULT_CACHE})")
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run (default all: {','.join(SECTIONS)})")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    cache_dir = Path(args.cache).expanduser()
    if args.quick:
        fixed_sizes, (sel_L, sel_H), Ns = [(512, 32), (2000, 1)], (256, 16), (16, 64, 256)
        back_shape, dense_shape = (2, 128, 8), (1, 32, 4)
    else:
        fixed_sizes, (sel_L, sel_H), Ns = [(4096, 256), (10_000, 1)], (4096, 256), (16, 64, 256)
        back_shape, dense_shape = (4, 1024, 64), (1, 256, 16)
    unknown = set(args.sections.split(",")) - set(SECTIONS)
    if unknown:
        parser.error(f"--sections: unknown {', '.join(sorted(unknown))}; valid: {', '.join(SECTIONS)}")
    if "fixed" not in args.sections.split(","):
        Ns = tuple(N for N in Ns if N != 256)
    runner = Runner(max(1, args.repeats), args.round_seconds, started + 60.0 * args.max_minutes)

    print(f"load average at start: {load_average()}")
    peers, reasons = load_peers()
    print(machine_info(peers))
    for name, reason in reasons.items():
        print(f"skipped peer {name}: {reason}")
    gemm, bandwidth = machine_rates("at start")
    ssr, ssr_line = load_selective_scan_ref(args.mamba_source, cache_dir, peers)
    print(ssr_line if ssr is not None else f"skipped selective_scan_ref: {ssr_line}")
    if ssr is not None:
        _check_ssr(ssr, peers["torch"])

    packages = {}
    for N in Ns:
        pkg, where = load_package(N, cache_dir, not args.export_all)
        packages[N] = pkg
        print(f"package N = {N}: {where}, Delta = {pkg.DELTA}, per-step kind {pkg.METADATA.get('variable_kind')}")
    print(f"quick: {args.quick}; rounds: up to {runner.repeats} (none started after {runner.round_seconds:g} s "
          "per configuration); each method called twice back to back, the later call kept", flush=True)

    worst = {}
    # cheap configurations first, the largest (H = 256, N = 256) last, so a late run loses the fewest
    if "fixed" in set(args.sections.split(",")):
        fixed_legend(args.loop_gflop)
        fixed_step(packages, peers, runner, [fixed_sizes[1]], worst, args.loop_gflop)
        fixed_step({N: p for N, p in packages.items() if N < 256}, peers, runner, [fixed_sizes[0]], worst,
                   args.loop_gflop)
    wanted = set(args.sections.split(","))
    if "selective" in wanted:
        selective(packages, peers, runner, sel_L, sel_H, [N for N in (16, 64) if N in packages], ssr)
    if "backward" in wanted:
        selective_backward(packages, peers, runner, back_shape, dense_shape,
                           [N for N in (16, 64) if N in packages], ssr)
    if "readout" in wanted:
        readout({N: packages[N] for N in (16, 64) if N in packages}, peers, runner, *fixed_sizes[0], worst)
    if 256 in packages and "fixed" in wanted:
        print("\n== fixed step, continued: the largest configuration ==")
        fixed_legend(args.loop_gflop, short=True)
        fixed_step({256: packages[256]}, peers, runner, [fixed_sizes[0]], worst, args.loop_gflop)
    print(f"(dlsim: H = 1, states only, float64 arithmetic for both dtypes; memory bandwidth at start: "
          f"{bandwidth / 1e9:.2f} GB/s read + write)")

    print("\nlargest relative difference of each peer from ours (max |peer - ours| / max |ours|, two steps or "
          "the final state): " + (", ".join(f"{name} {dtype} {err:.1e}" for (name, dtype), err in sorted(worst.items()))
                                  or "none compared"))
    end_gemm, end_bandwidth = machine_rates("at end")
    print("(the machine's best of start and end: float64 "
          f"{max(gemm['float64'], end_gemm['float64']) / 1e9:.1f} GFLOP/s, float32 "
          f"{max(gemm['float32'], end_gemm['float32']) / 1e9:.1f} GFLOP/s, copy "
          f"{max(bandwidth, end_bandwidth) / 1e9:.2f} GB/s)")
    print(f"load average at end: {load_average()}; total {time.perf_counter() - started:.0f} s")
    return 0


def machine_rates(when: str):
    """numpy's GEMM rates {dtype name: flop/s} and the copy bandwidth (bytes/s), printed."""
    gemm = {np.dtype(d).name: gemm_rate(d) for d in (np.float64, np.float32)}
    bandwidth = copy_bandwidth()
    print(f"{when}: numpy GEMM {GEMM_N} x {GEMM_N}: float64 {gemm['float64'] / 1e9:.1f} GFLOP/s, float32 "
          f"{gemm['float32'] / 1e9:.1f} GFLOP/s; memory bandwidth (numpy copy of 256 MiB, read + write): "
          f"{bandwidth / 1e9:.2f} GB/s (load average {load_average()})", flush=True)
    return gemm, bandwidth


def _check_ssr(ssr, torch):
    """The loaded reference on a tiny input against the recurrence it should compute (x = exp(d A) x + d B u,
    y = C x), so a wrongly called peer is not timed."""
    rng = np.random.default_rng(0)
    H, N, L = 3, 4, 5
    u, d = rng.standard_normal((H, L)), rng.uniform(0.01, 0.1, (H, L))
    A = -np.tile(np.arange(1.0, N + 1), (H, 1))
    B, C = rng.standard_normal((H, N)), rng.standard_normal((H, N))
    x = np.zeros((H, N))
    y = np.empty((H, L))
    for t in range(L):
        x = np.exp(d[:, t, None] * A) * x + d[:, t, None] * B * u[:, t, None]
        y[:, t] = np.sum(x * C, axis=1)
    f = lambda a: torch.tensor(a, dtype=torch.float32)          # noqa: E731
    got = ssr(f(u)[None], f(d)[None], f(A), f(B), f(C))[0].numpy()
    err = float(np.max(np.abs(got - y)) / np.max(np.abs(y)))
    print(f"selective_scan_ref checked on a tiny input against x = exp(delta A) x + delta B u, y = C x: "
          f"relative difference {err:.1e}")
    if err > 1e-5:
        raise SystemExit("selective_scan_ref does not compute the expected recurrence: not timed")


if __name__ == "__main__":
    sys.exit(main())
