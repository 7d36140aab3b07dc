"""Check every CUDA entry point of generated packages against its CPU twin, and time it on the GPU.

    python scripts/gpu_check.py [--size tiny|full] [--L L] [--H H] [--packages legs,legt,power,bank] [--out DIR]
    NUMBA_ENABLE_CUDASIM=1 python scripts/gpu_check.py --size tiny      # numba's CUDA simulator

Exports, into a temporary folder (``--out`` keeps them): LegS (exponential x Legendre), LegT (the window
``linear:window=1`` x Legendre), the non-affine power-law warp ``f=1/(1-x)`` x Legendre (the general
per-step kernel) and a bank (exponential warps at several rates x Legendre, block-diagonal A). For each
package every public ``*_cuda`` function is found by name and called next to its CPU twin (the name
without ``_cuda``), with arguments built from its signature (``u`` (L, H), ``delta`` both shared (L,) and
per channel (L, H), ``C`` (H, N), ``D`` (H,), also where C and D are optional; other optional parameters
left at their defaults; a required parameter of another name leaves the entry point UNCHECKED, printed),
in float64 and float32. A check passes when ``max |cuda - cpu| / max |cpu| <= 1e-12`` (float64) or ``1e-5`` (float32)
with the same shape and u's dtype. u, C and D are float32 numbers in both runs, so the float64 CPU
result is the reference of both (float32 output is compared with it, as float64).

The PyTorch bridge (``pkg.torch.selective_scan``, where torch is installed and the package has a
derivative route): its CUDA kernels (``kernels="cuda"``, on host arrays, and on torch CUDA tensors where
torch has CUDA) against its CPU kernels, y, the last state and every gradient (``BRIDGE_SIZES``: B, L, H =
2, 16, 4 tiny; 8, 256, 2048 full), with the wall time of forward + backward on a GPU (of a second call: the
first compiles).

Timing: each entry point is first called on 4 steps of the same channels (compilation, same kernel path),
then once at the checked size, which is both checked and timed.
The kernel time is the sum of the package's kernel launches in that call, measured with CUDA events by
wrapping the package's ``_cuda._launch`` (the wall time of the whole call, copies and host checks
included, is printed too; without ``_launch`` only the wall time is). Achieved bandwidth = bytes of the
host-visible inputs (u, delta, C, D) read + outputs (states, final state or y) written, per second of
kernel time; flop rate (fixed step only) = (2 nnz(A) + 2N) per channel-step (one multiply-add per
nonzero of A and per entry of B; +2N for the readout), against the device's peak, derived from numba.cuda's
device attributes (name, compute capability, SM count, clock, memory clock, bus width) and the FP64 and
FP32 lanes per SM of that compute capability; the kernels run float64 arithmetic, so FP64 is the peak
compared with. Where the peak cannot be derived (the simulator, an unknown compute capability, a driver
without the clock attributes), the achieved figures are printed and the reason is said.

Sizes: ``--size tiny`` (L = 16, H = 4, N = 8, 4 for the power law, a bank of 2 x 4) is for the CUDA
simulator (no timing there: it runs each thread in Python); ``--size full`` (L = 256, H = 16384,
N = 64, 16 for the power law, a bank of 4 x 16) is for a GPU, under 5 minutes. Exit status 1 if any
check fails or raises, 2 for bad arguments, else 0. The simulator must be chosen before numba is imported:
set NUMBA_ENABLE_CUDASIM=1 in the environment, or pass ``--simulator``. ``--cpu-python`` (tiny only) runs
the CPU twins' Numba kernels as their Python source, uncompiled: on the simulator, compiling them for four
fresh packages is most of the run (about two minutes on 2 cores; seconds without).
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent

TOLERANCE = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}

# name -> (warp SPECs, basis SPEC, N tiny, N full, Delta)
PACKAGES = {
    "legs": (["exponential"], "legendre", 8, 64, "1/100"),
    "legt": (["linear:window=1"], "legendre", 8, 64, "1/100"),
    "power": (["f=1/(1-x)"], "legendre", 4, 16, "1/100"),
    "bank": (["exponential:rate=8", "exponential:rate=0.5"], "legendre", 4, 16, "1/100"),
}
BANK_FULL = ["exponential:rate=8", "exponential:rate=2", "exponential:rate=0.5", "exponential:rate=0.125"]
SIZES = {"tiny": (16, 4), "full": (256, 16384)}

# FP64 and FP32 lanes per SM by compute capability (NVIDIA's CUDA C++ Programming Guide, throughput table)
FP64_PER_SM = {(6, 0): 32, (6, 1): 4, (6, 2): 4, (7, 0): 32, (7, 2): 2, (7, 5): 2, (8, 0): 32, (8, 6): 2,
               (8, 7): 2, (8, 9): 2, (9, 0): 64, (10, 0): 64, (12, 0): 2}
FP32_PER_SM = {(6, 0): 64, (6, 1): 128, (6, 2): 128, (7, 0): 64, (7, 2): 64, (7, 5): 64, (8, 0): 64,
               (8, 6): 128, (8, 7): 128, (8, 9): 128, (9, 0): 128, (10, 0): 128, (12, 0): 128}


# ---------------------------------------------------------------------- device


def device_info(cuda, simulator: bool):
    """(lines to print, {"bandwidth": bytes/s, "fp64": flop/s, "fp32": flop/s} or None, why not)."""
    if simulator:
        return ["device: numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1)"], None, "the simulator has no peak"
    device = cuda.get_current_device()
    name = device.name.decode() if isinstance(device.name, bytes) else str(device.name)
    cc = tuple(device.compute_capability)
    lines = [f"device: {name}, compute capability {cc[0]}.{cc[1]}"]
    try:
        sms = int(device.MULTIPROCESSOR_COUNT)
        clock = float(device.CLOCK_RATE) * 1e3                 # kHz -> Hz
        memory_clock = float(device.MEMORY_CLOCK_RATE) * 1e3
        bus = int(device.GLOBAL_MEMORY_BUS_WIDTH)
    except Exception as error:                                  # noqa: BLE001 - an attribute this driver lacks
        return lines, None, f"device attributes unavailable ({type(error).__name__}: {error})"
    lines.append(f"  {sms} SMs, clock {clock / 1e6:.0f} MHz, memory clock {memory_clock / 1e6:.0f} MHz, "
                 f"bus {bus} bits")
    peak = {"bandwidth": 2.0 * memory_clock * bus / 8.0}      # double data rate
    if cc in FP64_PER_SM:
        peak["fp64"] = sms * FP64_PER_SM[cc] * 2.0 * clock
        peak["fp32"] = sms * FP32_PER_SM[cc] * 2.0 * clock
        lines.append(f"  peak: memory {peak['bandwidth'] / 1e9:.0f} GB/s, FP64 {peak['fp64'] / 1e12:.2f} TFLOP/s "
                     f"({FP64_PER_SM[cc]} lanes/SM), FP32 {peak['fp32'] / 1e12:.2f} TFLOP/s (no tensor cores)")
        return lines, peak, None
    lines.append(f"  peak: memory {peak['bandwidth'] / 1e9:.0f} GB/s; flop peak not derived (compute capability "
                 f"{cc[0]}.{cc[1]} not in this script's table)")
    return lines, peak, f"no FP64 lane count for compute capability {cc[0]}.{cc[1]}"


class LaunchTimer:
    """Wraps a package's ``_cuda._launch`` to add up the time of its kernel launches (CUDA events; on the
    simulator, which runs launches synchronously and records no event times, the wall time of each)."""

    def __init__(self, cuda, module):
        self.cuda, self.module = cuda, module
        self.original = getattr(module, "_launch", None)
        self.seconds = 0.0
        self.launches = 0
        if self.original is not None:
            module._launch = self._timed

    def _timed(self, kernel, count, *args, **options):
        start, end = self.cuda.event(), self.cuda.event()
        wall = time.perf_counter()
        start.record()
        self.original(kernel, count, *args, **options)
        end.record()
        end.synchronize()
        wall = time.perf_counter() - wall
        ms = start.elapsed_time(end)
        self.seconds += ms / 1e3 if ms is not None and ms >= 0 else wall
        self.launches += 1

    def reset(self):
        self.seconds, self.launches = 0.0, 0

    @property
    def available(self) -> bool:
        return self.original is not None


# ---------------------------------------------------------------------- calls


def compare(got, ref, dtype) -> tuple[bool, str]:
    """(passed, what): ``got`` (a CUDA result) against ``ref`` (the float64 CPU result): same shape, u's
    dtype, and ``max |got - ref| / max |ref|`` within the dtype's tolerance. Tuples are compared entry by
    entry (the worst counts)."""
    dtype = np.dtype(dtype)
    if isinstance(ref, tuple) or isinstance(got, tuple):
        if not (isinstance(ref, tuple) and isinstance(got, tuple) and len(got) == len(ref)):
            return False, f"result kinds differ ({type(got).__name__} vs {type(ref).__name__})"
        results = [compare(g, r, dtype) for g, r in zip(got, ref)]
        return all(ok for ok, _ in results), "; ".join(what for _, what in results)
    got, ref = np.asarray(got), np.asarray(ref, dtype=np.float64)
    if got.shape != ref.shape:
        return False, f"shape {got.shape} != CPU {ref.shape}"
    if got.dtype != dtype:
        return False, f"dtype {got.dtype}, expected {dtype}"
    if not np.all(np.isfinite(got)):
        return False, "non-finite values"
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    error = float(np.max(np.abs(got.astype(np.float64) - ref))) / scale if scale > 0 else (
        float(np.max(np.abs(got))) if got.size else 0.0)
    tolerance = TOLERANCE[dtype]
    return error <= tolerance, f"rel err {error:.1e} (tol {tolerance:.0e})"


def _inputs(pkg, L, H, seed):
    """float32-representable u (L, H), C (H, N), D (H,) as float64, and steps (L, H) inside the verified range."""
    rng = np.random.default_rng(seed)
    u = rng.standard_normal((L, H)).astype(np.float32).astype(np.float64)
    C = rng.standard_normal((H, pkg.N)).astype(np.float32).astype(np.float64)
    D = rng.standard_normal(H).astype(np.float32).astype(np.float64)
    checks = getattr(pkg, "_checks", None)
    low = max(1e-4, 1.01 * getattr(checks, "DELTA_MIN", 0.0))
    high = min(0.5, 0.99 * getattr(checks, "DELTA_MAX", np.inf))
    data = getattr(pkg, "_data", pkg)
    window = [w for w in (getattr(data, "WINDOWS", None) or []) if w]   # a bank's windows
    if getattr(data, "WINDOW", None):                                   # a single window warp
        window.append(float(data.WINDOW))
    if window:
        high = min(high, 0.5 * min(window))
    delta = np.exp(rng.uniform(np.log(low), np.log(high), (L, H)))
    return {"u": u, "C": C, "D": D, "delta_each": delta, "delta_shared": delta[:, 0].copy()}


KNOWN = ("u", "delta", "C", "D")


def variants(function, arrays):
    """``([(label, build)], None)`` for a CUDA entry point, from its signature: ``build(dtype)`` gives the
    positional arguments (every required parameter, and the optional ``C`` and ``D`` where the function
    has them; other optional ones keep their defaults); two variants when it takes ``delta`` (shared and per
    channel). ``(None, why)`` when a required parameter is one this script cannot fill."""
    names = []
    for p in inspect.signature(function).parameters.values():
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        if p.default is inspect.Parameter.empty or p.name in ("C", "D"):
            names.append(p.name)
        else:
            break                              # later parameters keep their defaults (positional order)
    unknown = [n for n in names if n not in KNOWN]
    if unknown:
        return None, f"required parameter(s) {', '.join(unknown)} unknown to this script"
    choices = [("delta (L,)", "delta_shared"), ("delta (L,H)", "delta_each")] if "delta" in names else [("", None)]
    out = []
    for label, key in choices:
        def build(dtype, key=key):
            values = {"u": arrays["u"].astype(dtype), "C": arrays["C"].astype(dtype), "D": arrays["D"].astype(dtype)}
            if key is not None:
                values["delta"] = arrays[key]
            return [values[n] for n in names]
        out.append((label, build))
    return out, None


def _moved_bytes(args, result) -> int:
    parts = list(args) + (list(result) if isinstance(result, tuple) else [result])
    return int(sum(np.asarray(p).nbytes for p in parts))


def _flops(pkg, name, L, H):
    """Useful flops of a fixed-step call: (2 nnz(A) + 2N) per channel-step (+2N with a readout); None for
    per-step kernels (quadrature; not derived) and time-varying models."""
    if "variable" in name or getattr(pkg, "A", None) is None:
        return None
    nnz = int(np.count_nonzero(np.asarray(pkg.A)))
    per_step = 2 * nnz + 2 * pkg.N + (2 * pkg.N if "readout" in name else 0)
    return float(per_step) * L * H


# ---------------------------------------------------------------------- main


def python_kernels(pkg) -> int:
    """Replace every Numba dispatcher in the package's modules by its Python function (``py_func``), so
    the CPU twins run their kernels' source uncompiled; returns how many were replaced. For the simulator
    at tiny sizes, where compiling the CPU kernels costs most of the run (``--cpu-python``)."""
    replaced = 0
    for name, module in list(sys.modules.items()):
        if module is None or not (name == pkg.__name__ or name.startswith(pkg.__name__ + ".")):
            continue
        for attr, value in list(vars(module).items()):
            if hasattr(value, "py_func") and hasattr(value, "signatures"):          # a numba dispatcher
                setattr(module, attr, value.py_func)
                replaced += 1
    return replaced


def export_packages(out: Path, size: str, chosen, quiet=True):
    from symderive.codegen.export import export, export_bank, import_package
    from symderive.inputs.specs import parse_basis, parse_warp
    found = {}
    for key in chosen:
        warps, basis, n_tiny, n_full, delta = PACKAGES[key]
        N = n_tiny if size == "tiny" else n_full
        if key == "bank" and size == "full":
            warps = BANK_FULL
        name = f"gpucheck_{key}_n{N}"
        start = time.perf_counter()
        if len(warps) > 1:
            export_bank([parse_warp(w) for w in warps], parse_basis(basis, N), delta, name, out)
        else:
            export(parse_warp(warps[0]), parse_basis(basis, N), delta, name, out)
        pkg = import_package(out, name)
        found[key] = pkg
        print(f"package {key}: {' + '.join(warps)} x {basis}, N = {pkg.N} in all, Delta = {delta}, per-step kind "
              f"{pkg.METADATA.get('variable_kind')} ({out / name}, exported in {time.perf_counter() - start:.1f} s)",
              flush=True)
    return found


def check_package(key, pkg, cuda, L, H, peak, simulator, self_test_fail, seed):
    """Every *_cuda entry point of ``pkg``: returns (checks run, failures, unchecked)."""
    entry_points = sorted(n for n in dir(pkg) if n.endswith("_cuda") and not n.startswith("_")
                          and callable(getattr(pkg, n)))
    timer = LaunchTimer(cuda, getattr(pkg, "_cuda", None)) if hasattr(pkg, "_cuda") else None
    arrays = _inputs(pkg, L, H, seed)
    # the warm-up call: 4 steps, the same channels, so the timed call takes the same kernel path, compiled
    tiny = _inputs(pkg, 4, H, seed + 1000)
    print(f"entry points of {key}: {', '.join(entry_points) or '(none)'}", flush=True)
    runs = failures = unchecked = 0
    for name in entry_points:
        cpu_name = name[: -len("_cuda")]
        if not callable(getattr(pkg, cpu_name, None)):
            print(f"UNCHECKED {key} {name}: no CPU twin {cpu_name}")
            unchecked += 1
            continue
        gpu_fn, cpu_fn = getattr(pkg, name), getattr(pkg, cpu_name)
        built, why = variants(gpu_fn, arrays)
        if built is None:
            print(f"UNCHECKED {key} {name}: {why}")
            unchecked += 1
            continue
        warm, _ = variants(gpu_fn, tiny)
        for (label, build), (_, warm_build) in zip(built, warm):
            ref = None
            for dtype in (np.float64, np.float32):
                what = f"{key} {name}{' ' + label if label else ''} {np.dtype(dtype).name}"
                runs += 1
                try:
                    if ref is None:                  # the float64 CPU result: the reference of both dtypes
                        ref = cpu_fn(*build(np.float64))
                    if not simulator:                # compile on a tiny input, so the timed call is warm
                        gpu_fn(*warm_build(dtype))
                    args = build(dtype)
                    if timer is not None:
                        timer.reset()
                    wall = time.perf_counter()
                    got = gpu_fn(*args)
                    wall = time.perf_counter() - wall
                    if self_test_fail:               # a deliberately wrong result: the check must catch it
                        got = _spoil(got)
                    ok, detail = compare(got, ref, dtype)
                except Exception as error:           # noqa: BLE001 - a failed check, reported
                    failures += 1
                    print(f"FAIL  {what}: raised {type(error).__name__}: {error}")
                    print("      " + traceback.format_exc().strip().splitlines()[-2].strip())
                    continue
                if not ok:
                    failures += 1
                print(f"{'ok   ' if ok else 'FAIL '} {what}: {detail}{_timing(pkg, name, args, got, L, H, timer, wall, peak, simulator)}",
                      flush=True)
    return runs, failures, unchecked


BRIDGE_SIZES = {"tiny": (2, 16, 4), "full": (8, 256, 2048)}     # (B, L, H) of the selective-scan check


def check_bridge(key, pkg, size, simulator, self_test_fail, seed):
    """The PyTorch bridge's CUDA kernels (``pkg.torch.selective_scan(..., kernels="cuda")``) against its CPU
    kernels: y, the last state and the gradients of one loss for u, delta (per channel), C, D and c0, float64
    and float32 tensors, the CPU float64 result the reference of both; with torch's CUDA tensors too where
    torch has CUDA. Returns (checks run, failures); none where torch or the bridge is missing (printed)."""
    cpu_module = getattr(pkg, "_cpu", None)
    if cpu_module is None or getattr(cpu_module, "DERIVATIVE_ROUTE", None) is None:
        print(f"bridge {key}: no derivative route ({getattr(cpu_module, 'NO_DERIVATIVE_REASON', 'no _cpu')})")
        return 0, 0
    try:
        import torch
    except ImportError:
        print(f"bridge {key}: UNCHECKED, torch is not installed (pip install torch: the torch extra)")
        return 0, 0
    B, L, H = BRIDGE_SIZES[size]
    N = pkg.N
    g = torch.Generator().manual_seed(seed)
    base = [torch.randn(B, L, H, generator=g), 0.01 + 0.05 * torch.rand(B, L, H, generator=g),
            torch.randn(H, N, generator=g), torch.randn(H, generator=g), torch.randn(B, H, N, generator=g)]
    weights = torch.randn(B, L, H, generator=g, dtype=torch.float64)

    def run(dtype, kernels, device="cpu"):
        args = [x.to(dtype).to(device).requires_grad_() for x in base]
        start = time.perf_counter()
        y, last = pkg.torch.selective_scan(*args, return_last_state=True, kernels=kernels)
        loss = (y.double() * weights.to(device)).sum() + last.double().square().sum()
        grads = torch.autograd.grad(loss, args)
        if device != "cpu":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        return [x.detach().double().cpu().numpy() for x in (y, last, *grads)], seconds

    runs = failures = 0
    if not simulator:
        run(torch.float64, "cpu")          # compile first: the times printed are of a second call
    reference, cpu_seconds = run(torch.float64, "cpu")
    targets = [("cuda", "cpu")] + ([("cuda", "cuda")] if torch.cuda.is_available() and not simulator else [])
    for kernels, device in targets:
        for dtype in (torch.float64, torch.float32):
            runs += 1
            what = f"{key} selective_scan {'CUDA tensors' if device != 'cpu' else 'host arrays'} {dtype}"
            try:
                if not simulator:
                    run(dtype, kernels, device)  # compile first (and, on CUDA tensors, torch's allocator warms)
                got, seconds = run(dtype, kernels, device)
            except Exception as error:           # noqa: BLE001 - a failed check, reported
                failures += 1
                print(f"FAIL  {what}: raised {type(error).__name__}: {error}")
                continue
            if self_test_fail:
                got = [x + 1.0 for x in got]
            worst = max(float(np.max(np.abs(a - b)) / max(1e-300, float(np.max(np.abs(b)))))
                        for a, b in zip(got, reference))
            ok = worst <= TOLERANCE[np.dtype(np.float64 if dtype == torch.float64 else np.float32)]
            failures += 0 if ok else 1
            timing = "" if simulator else (f"; forward + backward {seconds * 1e3:.1f} ms wall (CPU kernels "
                                           f"{cpu_seconds * 1e3:.1f} ms), {seconds / (B * L * H) * 1e9:.1f} ns per "
                                           "channel-step")
            print(f"{'ok   ' if ok else 'FAIL '} {what}: y, last state and 5 gradients, max relative difference "
                  f"{worst:.1e} (B, L, H = {B}, {L}, {H}){timing}", flush=True)
    return runs, failures


def _spoil(result):
    if isinstance(result, tuple):
        return (_spoil(result[0]),) + tuple(result[1:])
    bad = np.array(result, copy=True)
    flat = bad.reshape(-1)
    flat[flat.size // 2] += np.asarray(1e-3 * (np.max(np.abs(flat)) or 1.0), dtype=bad.dtype)
    return bad


def _timing(pkg, name, args, got, L, H, timer, wall, peak, simulator) -> str:
    if simulator:
        return "; timing: not measured on the simulator"
    moved = _moved_bytes(args, got)
    flops = _flops(pkg, name, L, H)
    text = f"; wall {wall * 1e3:.2f} ms"
    if timer is None or not timer.available or timer.launches == 0:
        return text + f" (no kernel timing: the package has no _cuda._launch); {moved / wall / 1e9:.1f} GB/s by wall time"
    seconds = timer.seconds
    text += f", kernel {seconds * 1e3:.3f} ms ({timer.launches} launch{'es' if timer.launches > 1 else ''})"
    bandwidth = moved / seconds
    text += f"; {bandwidth / 1e9:.1f} GB/s"
    if peak is not None and "bandwidth" in peak:
        text += f" ({100 * bandwidth / peak['bandwidth']:.1f}% of peak)"
    if flops is None:
        text += "; flops not counted (per-step quadrature kernel)"
    else:
        rate = flops / seconds
        text += f"; {rate / 1e9:.1f} GFLOP/s"
        if peak is not None and "fp64" in peak:
            text += f" ({100 * rate / peak['fp64']:.1f}% of FP64 peak)"
        else:
            text += " (flop peak not derived)"
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full",
                        help="tiny: L = 16, H = 4, small N (the CUDA simulator); full: L = 256, H = 16384 (a GPU)")
    parser.add_argument("--L", type=int, default=None, help="override the size's number of steps")
    parser.add_argument("--H", type=int, default=None, help="override the size's number of channels")
    parser.add_argument("--packages", default=",".join(PACKAGES),
                        help=f"comma-separated subset of {','.join(PACKAGES)} (default: all)")
    parser.add_argument("--out", default=None, help="export the packages here and keep them (default: a temporary folder)")
    parser.add_argument("--simulator", action="store_true", help="set NUMBA_ENABLE_CUDASIM=1 (before numba is imported)")
    parser.add_argument("--cpu-python", action="store_true",
                        help="run the CPU twins' Numba kernels as plain Python (no compilation; tiny sizes only)")
    parser.add_argument("--self-test-fail", action="store_true", help=argparse.SUPPRESS)   # spoil every CUDA result
    args = parser.parse_args(argv)
    if args.cpu_python and args.size != "tiny":
        parser.error("--cpu-python is for --size tiny (the CPU kernels uncompiled are slow)")
    chosen = [k.strip() for k in args.packages.split(",") if k.strip()]
    bad = [k for k in chosen if k not in PACKAGES]
    if bad or not chosen:
        parser.error(f"--packages: unknown {', '.join(bad) or '(none given)'}; choose from {', '.join(PACKAGES)}")
    if args.simulator:
        if "numba" in sys.modules:
            print("--simulator: numba is already imported; set NUMBA_ENABLE_CUDASIM=1 in the environment", file=sys.stderr)
            return 2
        os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    started = time.perf_counter()
    L, H = SIZES[args.size]
    L, H = args.L or L, args.H or H
    if L < 2 or H < 1:
        parser.error("--L must be >= 2 and --H >= 1")
    os.environ.setdefault("SYMDERIVE_QUIET", "1")
    sys.path.insert(0, str(REPO))

    import numba
    from numba import cuda
    simulator = bool(numba.config.ENABLE_CUDASIM)
    if not cuda.is_available():
        print("CUDA is not available here (no GPU or driver); run with NUMBA_ENABLE_CUDASIM=1 (or --simulator) "
              "for the simulator", file=sys.stderr)
        return 1
    lines, peak, why = device_info(cuda, simulator)
    print("\n".join(lines))
    if peak is None or "fp64" not in peak:
        print(f"  peak not derived: {why}; achieved figures only")
    print(f"size {args.size}: L = {L}, H = {H}; tolerances: float64 {TOLERANCE[np.dtype(np.float64)]:.0e}, "
          f"float32 {TOLERANCE[np.dtype(np.float32)]:.0e} (relative to max |CPU float64|)"
          + ("; SELF-TEST: every CUDA result is spoiled, every check must fail" if args.self_test_fail else ""),
          flush=True)

    with tempfile.TemporaryDirectory(prefix="gpu_check_") as tmp:
        out = Path(args.out) if args.out else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        packages = export_packages(out, args.size, chosen)
        if args.cpu_python:
            counts = {key: python_kernels(pkg) for key, pkg in packages.items()}
            print("CPU twins run as Python source (--cpu-python): "
                  + ", ".join(f"{key} {n} kernels" for key, n in counts.items()), flush=True)
        runs = failures = unchecked = 0
        for seed, (key, pkg) in enumerate(packages.items()):
            r, f, u = check_package(key, pkg, cuda, L, H, peak, simulator, args.self_test_fail, seed)
            runs, failures, unchecked = runs + r, failures + f, unchecked + u
            r, f = check_bridge(key, pkg, args.size, simulator, args.self_test_fail, seed)
            runs, failures = runs + r, failures + f
    status = "FAILED" if failures else "passed"
    print(f"{status}: {runs - failures} of {runs} checks passed, {failures} failed, {unchecked} entry points "
          f"unchecked; {time.perf_counter() - started:.1f} s")
    return 1 if failures or runs == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
