"""Measure the time and memory of each derivation step, next to what ``symderive.cost`` estimates.

    python scripts/bench_cost.py                       # the default set of (route, step, N)
    python scripts/bench_cost.py dilation:lag:256 neglog:lag:200 quad-tanh:generator:64

Each case runs in a fresh process (so memory is the step's own): it builds the model, notes the
resident memory, runs one step under a budget large enough never to refuse, and prints the step's
seconds and peak resident memory above the loaded engine, with the estimate of ``symderive.cost``
for the same step and their ratio. The laws in ``symderive/cost.py`` were fitted to these figures
on the reference machine (2 shared cores); rerun this after a route changes and update them.
"""

from __future__ import annotations

import os
import subprocess
import sys

CASES = {
    "dilation": ("sd.warps.exponential()", "sd.bases.legendre({N})"),
    "translation": ("sd.warps.linear()", "sd.bases.legendre({N})"),
    "neglog": ("sd.warps.exponential()", "sd.bases.laguerre({N})"),
    "fourier": ("sd.warps.linear()", "sd.bases.fourier({N})"),
    "quad-legendre": ("sd.warps.custom('1/(1-x)')", "sd.bases.legendre({N})"),
    "quad-tanh": ("sd.warps.custom('tanh(x)+1')", "sd.bases.legendre({N})"),
}
STEPS = {"generator": "m.numeric_generator()", "lag": "m.numeric(sp.Rational(1, 100))",
         "generator_exact": "m.A_gen", "lag_exact": "m.lag(sp.Rational(1, 100))"}
DEFAULT = ["dilation:generator:256", "dilation:lag:256", "translation:lag:128", "translation:lag:256",
           "neglog:generator:128", "neglog:lag:160", "neglog:lag:200", "fourier:generator:64",
           "quad-legendre:generator:128", "quad-legendre:lag:128", "quad-tanh:lag:64",
           "dilation:generator_exact:128", "dilation:lag_exact:32"]

CHILD = '''
import resource, time, sympy as sp, symderive as sd
from symderive import cost
with sd.budget(1e6, 1e4):
    m = sd.derive({warp}, {basis})
    m.basis.polynomial_form
    m.lag_kind, m._generator_kind
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    {step}
    seconds = time.perf_counter() - start
peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
kind = {{"generator": m._cost_kind("polynomial") if m._generator_kind == "polynomial" else "quadrature",
        "lag": m.lag_kind or "quadrature",
        "generator_exact": m._cost_kind(m._generator_kind),
        "lag_exact": "rational" if m.lag_kind == "translation" else m.lag_kind}}["{name}"]
law = cost.LAWS.get(("{name}", kind))
estimate = (law.seconds({N}), law.megabytes({N}) - cost.BASE_MB) if law else (float("nan"), float("nan"))
print(f"{{kind}} {{seconds:.2f}} {{peak:.0f}} {{estimate[0]:.2f}} {{estimate[1]:.0f}}")
'''


def main(argv) -> int:
    cases = argv or DEFAULT
    print(f"{'case':28s} {'route kind':20s} {'seconds':>8s} {'estimate':>9s} {'ratio':>6s} {'MB':>6s} {'est. MB':>8s}")
    env = dict(os.environ, SYMDERIVE_NO_CACHE="1", SYMDERIVE_QUIET="1")
    for case in cases:
        route, step, N = case.split(":")
        warp, basis = CASES[route]
        code = CHILD.format(warp=warp, basis=basis.format(N=N), step=STEPS[step], name=step, N=int(N))
        try:
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900, env=env)
        except subprocess.TimeoutExpired:
            print(f"{case:28s} timed out after 900 s", flush=True)
            continue
        if out.returncode:
            print(f"{case:28s} failed: {(out.stderr.strip().splitlines() or ['?'])[-1][:100]}", flush=True)
            continue
        kind, seconds, mb, est, est_mb = out.stdout.split()
        ratio = float(seconds) / float(est) if float(est) > 0 else float("nan")
        print(f"{case:28s} {kind:20s} {float(seconds):8.2f} {float(est):9.2f} {ratio:6.2f} {float(mb):6.0f} "
              f"{float(est_mb):8.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
