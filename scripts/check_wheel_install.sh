#!/usr/bin/env bash
# A non-editable install, as a user of a released wheel gets it: build the wheel from this checkout,
# install it into a fresh virtual environment outside the checkout, then export a package, import it
# and run its kernels there (the templates must come from the wheel, not from the source tree).
# Usage: bash scripts/check_wheel_install.sh   (from anywhere; about a minute)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip wheel -qq --no-deps --wheel-dir "$work/wheels" "$root"
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -qq "$work"/wheels/symderive-*.whl
mkdir "$work/out"
cd "$work"     # outside the checkout: nothing of the source tree is importable from here
"$work/venv/bin/symderive" export --warp exponential --basis legendre --N 16 --delta 1/100 \
    --name legs16 --out "$work/out" --quiet
"$work/venv/bin/python" - "$work/out" <<'PY'
import sys

import numpy as np

sys.path.insert(0, sys.argv[1])
import legs16
import symderive

assert "site-packages" in symderive.__file__, symderive.__file__
u = np.random.default_rng(0).standard_normal((64, 3))
states = legs16.scan(u)
c = np.zeros((3, 16))
for t in range(64):                       # the recurrence c <- A c + B u, as a plain loop
    c = c @ legs16.A.T + np.outer(u[t], legs16.B)
error = float(np.max(np.abs(states[-1] - c)))
assert error < 1e-12, error
varied = legs16.scan_variable(u, np.full(64, legs16.DELTA))
assert np.max(np.abs(varied - states)) < 1e-12
print(f"wheel install: {symderive.__file__}; exported legs16 scans (max |scan - loop| = {error:.1e})")
PY
