"""The custom-warp section of ``scripts/bench_derive.py``: the numeric route for any warp.

Float matrices with a step, ``m.numeric_generator()`` + ``m.numeric(Delta)``, cold (symderive's and
SymPy's caches cleared, the disk cache off), for a rational, an algebraic and a transcendental warp
with the Legendre, Fourier and log-Laguerre bases. Each cell is checked on sampled entries (the
corners, the middle of the diagonal and random ones) against mpmath quadrature at 50 digits of the
formulas of docs/math.md (sections 2-3), with the lag maps, cutoffs and velocities written out by hand below
(no symderive code): ``relative error = max |x - ref| / max(1, max |ref|)`` over the sampled entries.

Then the commands of issue 10's table through the command line, cold (``--no-cache``), and a cached
rerun (a fresh process, a temporary cache folder).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time

import mpmath

import symderive as sd
from symderive import cache
from _bench_common import fresh_state

mpf = mpmath.mpf
REF_DPS = 50
SAMPLE = 6
DELTA = "1/100"


def _inv(d):       # f = 1/(1-x): lam = z/(1 - d z), z_d = 1/(1+d), v = z^2
    return (lambda z: z / (1 - d * z)), 1 / (1 + d), (lambda z: z * z)


def _window(d):    # f = (1+x/2)^2 on [-2, 0]: lam = (sqrt z + d/2)^2, z_d = (1 - d/2)^2, v = sqrt z
    return (lambda z: (mpmath.sqrt(z) + d / 2) ** 2), (1 - d / 2) ** 2, mpmath.sqrt


def _tanh(d):      # f = tanh(x)+1: lam = 2 z e^{2d} / (2 - z + z e^{2d}), z_d = 1 - tanh d, v = z (2 - z)
    q = mpmath.exp(2 * d)
    return (lambda z: 2 * z * q / (2 - z + z * q)), 1 - mpmath.tanh(d), (lambda z: z * (2 - z))


WARPS = [("rational", "f=1/(1-x)", None, _inv), ("algebraic", "f=(1+x/2)**2", None, _window),
         ("transcendental", "f=tanh(x)+1", "atanh(z - 1)", _tanh)]


def _basis_values(name, N):
    """``(values(z), derivatives(z))``: all ``p_n`` and ``p_n'`` at ``z`` in plain mpmath."""
    def legendre(z):
        x = 2 * z - 1
        P, dP = [mpf(1), x], [mpf(0), mpf(1)]
        for n in range(1, N - 1):
            P.append(((2 * n + 1) * x * P[n] - n * P[n - 1]) / (n + 1))
            dP.append(dP[n - 1] + (2 * n + 1) * P[n])
        s = [mpmath.sqrt(2 * n + 1) for n in range(N)]
        return [s[n] * P[n] for n in range(N)], [2 * s[n] * dP[n] for n in range(N)]

    def fourier(z):
        vals, ders = [mpf(1)], [mpf(0)]
        j = 1
        while len(vals) < N:
            w = 2 * j * mpmath.pi
            vals += [mpmath.sqrt(2) * mpmath.cos(w * z), mpmath.sqrt(2) * mpmath.sin(w * z)]
            ders += [-w * mpmath.sqrt(2) * mpmath.sin(w * z), w * mpmath.sqrt(2) * mpmath.cos(w * z)]
            j += 1
        return vals[:N], ders[:N]

    def laguerre(z):
        y = -mpmath.log(z)
        L = [mpf(1), 1 - y]
        for n in range(1, N - 1):
            L.append(((2 * n + 1 - y) * L[n] - n * L[n - 1]) / (n + 1))
        acc, ders = mpf(0), []
        for n in range(N):
            ders.append(acc / z)
            acc += L[n]
        return L[:N], ders

    fn = {"legendre": legendre, "fourier": fourier, "laguerre": laguerre}[name]
    memo = {}

    def cached(z):
        key = (z, mpmath.mp.prec)
        if key not in memo:
            memo[key] = fn(z)
        return memo[key]
    return cached


def _quad(basis, fn, a, b):
    if basis != "laguerre":
        return mpmath.quad(fn, mpmath.linspace(a, b, 9))
    lo, hi = -mpmath.log(b), (mpmath.inf if a == 0 else -mpmath.log(a))
    top = min(hi, lo + 4 * 300)
    nodes = list(mpmath.linspace(lo, top, 61)) + ([hi] if hi > top else [])
    return mpmath.quad(lambda y: fn(mpmath.exp(-y)) * mpmath.exp(-y), nodes)


def _sample(N, seed):
    rng = random.Random(seed)
    chosen = {(0, 0), (N - 1, N - 1), (N - 1, 0), (0, N - 1), (N // 2, N // 2)}
    while len(chosen) < min(N * N, SAMPLE + 5):
        chosen.add((rng.randrange(N), rng.randrange(N)))
    return sorted(chosen)


def reference_error(warp, basis, N, A_gen, A, B) -> float:
    """Largest error over sampled entries of A_gen, A_Delta and B_Delta, relative to max(1, max |ref|)."""
    with mpmath.workdps(REF_DPS):
        values = _basis_values(basis, N)
        lam, zcut, v = warp[3](mpf(1) / 100)
        one = mpf(1)
        p1 = values(one)[0]
        worst = mpf(0)
        for label, entries in (("gen", _sample(N, 1)), ("lag", _sample(N, 2)), ("B", [(n, 0) for n in range(0, N, max(1, N // 6))])):
            refs, gots = [], []
            for n, k in entries:
                if label == "gen":
                    r = _quad(basis, lambda z: values(z)[0][n] * values(z)[1][k] * v(z), 0, one) - v(one) * p1[n] * p1[k]
                    g = A_gen[n, k]
                elif label == "lag":
                    r = _quad(basis, lambda z: values(z)[0][n] * values(lam(z))[0][k], 0, zcut)
                    g = A[n, k]
                else:
                    r = _quad(basis, lambda z: values(z)[0][n], zcut, one)
                    g = B[n]
                refs.append(r)
                gots.append(mpf(float(g)))
            scale = max([one] + [abs(r) for r in refs])
            worst = max(worst, max(abs(g - r) for g, r in zip(gots, refs)) / scale)
        return float(worst)


def section_custom(sizes, check_max) -> dict:
    """Cold float matrices for custom warps (module docstring); returns ``{(warp, basis, N): cell}`` with
    ``seconds``, ``target`` and the reference ``error`` (None above ``check_max``), or ``failed``."""
    print("5. custom warps, float matrices with a step: m.numeric_generator() + m.numeric(1/100), cold")
    print("   (caches cleared, disk cache off; warp construction excluded, timed separately)")
    print(f"   check: sampled entries vs mpmath.quad at {REF_DPS} digits (hand-written maps), "
          f"relative to max(1, max|ref|), up to N = {check_max}")
    print(f"   {'warp':<15} {'basis':<9} {'N':>4} {'seconds':>8} {'target':>7} {'route':<19} {'est. error':>10} "
          f"{'ref. error':>10}")
    was = cache.is_enabled()
    cache.set_enabled(False)
    out = {}
    try:
        for warp_case in WARPS:
            label, spec, inverse, _ = warp_case
            start = time.perf_counter()
            warp = sd.warps.custom(spec[2:], inverse=inverse)
            print(f"   {label:<15} (warp {spec}: built in {time.perf_counter() - start:.2f} s)")
            for basis in ("legendre", "fourier", "laguerre"):
                for N in sizes:
                    fresh_state()
                    start = time.perf_counter()
                    m = sd.derive(warp, getattr(sd.bases, basis)(N))
                    try:
                        A_gen, _ = gen = m.numeric_generator()
                        A, B = pair = m.numeric(DELTA)
                    except sd.DerivationError as exc:
                        print(f"   {label:<15} {basis:<9} {N:>4} {time.perf_counter() - start:>8.2f}  FAILED: "
                              f"{str(exc)[:150]}", flush=True)
                        out[(label, basis, N)] = {"failed": str(exc)}
                        continue
                    seconds = time.perf_counter() - start
                    target = 1 if N <= 16 else 5 if N <= 64 else 60
                    est = max(x or 0.0 for x in (gen.error_estimate, pair.error_estimate))
                    error = reference_error(warp_case, basis, N, A_gen, A, B) if N <= check_max else None
                    err = "-" if error is None else f"{error:.1e}"
                    out[(label, basis, N)] = {"seconds": seconds, "target": target, "error": error}
                    print(f"   {label:<15} {basis:<9} {N:>4} {seconds:>8.2f} {'<' + str(target):>7} "
                          f"{pair.route:<19} {est:>10.1e} {err:>10}", flush=True)
    finally:
        cache.set_enabled(was)
    print()
    return out


ISSUE_TABLE = [
    ["matrices", "--warp", "f=1/(1-x)", "--basis", "legendre", "--N", "2", "--delta", "0.01"],
    ["matrices", "--warp", "f=1/(1-x)", "--basis", "legendre", "--N", "5", "--delta", "0.01"],
    ["matrices", "--warp", "f=1/(1-x)", "--basis", "legendre", "--N", "32", "--delta", "0.01"],
    ["export", "--warp", "f=1/(1-x)", "--basis", "legendre", "--N", "4", "--delta", "0.01", "--name", "pow4",
     "--out", "{out}"],
    ["matrices", "--warp", "f=(1+x/2)**2", "--basis", "legendre", "--N", "32", "--delta", "0.1"],
    ["matrices", "--warp", "f=tanh(x)+1", "--basis", "legendre", "--N", "32"],
    ["matrices", "--warp", "exponential", "--basis", "fourier", "--N", "64", "--delta", "0.01"],
    ["matrices", "--warp", "f=exp(x)*(1+x)", "--basis", "legendre", "--N", "32"],
]


def _cli(args, env) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "symderive", *args], capture_output=True, text=True, env=env)
    return time.perf_counter() - start, proc.returncode, proc.stderr.strip().splitlines()[-1:] or [""]


def section_cli() -> None:
    print("6. issue 10's commands through the CLI (--format json), fresh processes: cold (--no-cache), then a")
    print("   first and a second run with a temporary cache folder (the second is the cached rerun)")
    print(f"   {'command':<86} {'cold':>7} {'first':>7} {'cached':>7}")
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, SYMDERIVE_CACHE_DIR=os.path.join(folder, "cache"), SYMDERIVE_NO_CACHE="0",
                   SYMDERIVE_QUIET="1")
        for i, args in enumerate(ISSUE_TABLE):
            out = os.path.join(folder, f"out{i}")
            os.makedirs(out)
            args = [a.replace("{out}", out) for a in args]
            cold, rc, err = _cli(args + ["--no-cache"], env)
            if args[0] == "export":     # the package exists now: export into fresh folders
                os.makedirs(out + "b")
                os.makedirs(out + "c")
                first = _cli([a.replace(out, out + "b") for a in args], env)
                cached = _cli([a.replace(out, out + "c") for a in args], env)
            else:
                first, cached = _cli(args, env), _cli(args, env)
            text = " ".join(args).replace(out, "DIR")
            status = "" if rc == 0 and first[1] == 0 and cached[1] == 0 else f"  exit {rc}: {err[0][:60]}"
            print(f"   {text:<86} {cold:>6.2f}s {first[0]:>6.2f}s {cached[0]:>6.2f}s{status}", flush=True)
    print()


def summary(cells: dict) -> tuple[str, bool]:
    """One line on section 5: failed cells, cells over their time target, reference errors above 1e-13."""
    failed = [k for k, c in cells.items() if "failed" in c]
    slow = [k for k, c in cells.items() if "seconds" in c and c["seconds"] >= c["target"]]
    wrong = [k for k, c in cells.items() if c.get("error") is not None and c["error"] > 1e-13]
    names = lambda ks: ", ".join(f"{w} x {b} N={n}" for w, b, n in ks) or "none"   # noqa: E731
    text = (f"custom warps: {len(cells)} cells; failed: {names(failed)}; over the time target: {names(slow)}; "
            f"reference error above 1e-13: {names(wrong)}")
    return text, not failed and not wrong
