"""End to end: ``scripts/replicate_paper.py --size reduced`` writes every figure and table, and the
numbers in results.md are the run's (recomputed here by an independent path)."""

from __future__ import annotations

import re
import struct
import subprocess
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp

import symderive as sd
from symderive.experiments import reference as R
from symderive.experiments import signals as S
from symderive.experiments.multires import multiscale
from symderive.experiments.replicate import FIGURES, REDUCED
from symderive.experiments.report import number

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("replicate")
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "replicate_paper.py"), "--out", str(out),
                           "--size", "reduced"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc.stdout, (out / "results.md").read_text()


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_every_file_is_written(run):
    out, stdout, text = run
    for name in FIGURES:
        width, height = _png_size(out / name)
        assert width >= 800 and height >= 300, (name, width, height)
        assert (out / name).stat().st_size > 20_000
        assert f"]({name})" in text
    for heading in ("## The equivalence table", "## The discretization table", "### Findings",
                    "### HiPPO-LegS, fixed step", "### HiPPO-LegT", "### Time-varying HiPPO-LegS",
                    "## Figure 5 and the multi-resolution table"):
        assert heading in text
    assert "wrote fig1_warp.png" in stdout


def _row(text: str, prefix: str) -> list[str]:
    for line in text.splitlines():
        if line.startswith(prefix):
            return [cell.strip() for cell in line.strip("|").split("|")]
    raise AssertionError(f"no row starting with {prefix!r}")


def _loop(A, B, u):
    c = np.zeros(A.shape[0])
    for x in u:
        c = A @ c + B * x
    return c


def test_legs_row_matches_an_independent_recomputation(run):
    """The LegS deviation table row (sines, Delta = 1/10, T = 1): the lag and bilinear cells, recomputed
    with the derived matrices in a numpy loop and the bilinear rule in numpy."""
    _, _, text = run
    N, delta, K = REDUCED.N, sp.Rational(1, 10), 10
    u = S.signal("sines", K, 0.1)
    lag = sd.derive(sd.warps.exponential(), sd.bases.legendre(N)).numeric(delta)
    c_lag = _loop(np.asarray(lag.A, float), np.asarray(lag.B, float).ravel(), u)
    n = np.arange(N)
    A = -np.where(n[:, None] > n[None, :], np.sqrt((2 * n[:, None] + 1) * (2 * n[None, :] + 1)), 0.0) - np.diag(n + 1.0)
    B = np.sqrt(2 * n + 1.0)
    M = np.eye(N) - 0.05 * A
    c_bil = _loop(np.linalg.solve(M, np.eye(N) + 0.05 * A), np.linalg.solve(M, 0.1 * B), u)
    with mpmath.workdps(30):
        ref = R.project(R.slice_integrals(R.exponential_edges(1, delta, K), N), u[::-1])
        dev_bil = ref.state_deviation(c_bil)
        rec_bil = ref.reconstruction_error(c_bil)
    cells = _row(text, "| sines | 1/10 | 1 | 10 |")
    # columns: input, Delta, T, steps, lag, forward, backward, bilinear, zoh
    assert float(cells[4]) < 1e-14 and ref.state_deviation(c_lag) < 1e-14
    assert cells[7] == number(dev_bil, 2)
    floor_row = _row(text, f"| sines | 1/10 | 1 | {number(ref.floor(), 3)} |")
    assert floor_row[7] == number(rec_bil, 3)


def test_legt_lag_and_zoh_differ_in_the_table(run):
    """For the window, the lag recurrence and the ZOH of the LegT ODE are different recurrences: well above
    rounding, and their deviations differ by more than 5% in some rows."""
    _, _, text = run
    legt = text.split("### HiPPO-LegT")[1].split("Relative omega-weighted")[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in legt.splitlines()
            if line.startswith("| ") and line.split("|")[1].strip() in ("sines", "noise", "walk")]
    assert len(rows) == 3 * len(REDUCED.deltas) * len(REDUCED.horizons)
    lag = np.array([float(r[4]) for r in rows])
    zoh = np.array([float(r[8]) for r in rows])
    assert np.all(lag > 1e-6) and np.all(zoh > 1e-6)
    assert np.any(np.abs(lag - zoh) > 0.05 * lag)


def test_multires_table_matches_a_single_member_package(run):
    """The bank's first member, in the first lag window, has the RMS error of that member's single model:
    the derived matrices run in a numpy loop and reconstructed with Legendre polynomials in numpy."""
    _, _, text = run
    rate, N, delta = sp.Rational(REDUCED.bank_rates[0]), REDUCED.bank_N, sp.Rational(REDUCED.bank_delta)
    L = S.steps(REDUCED.bank_T, delta)
    u = multiscale(L, float(delta))
    pair = sd.derive(sd.warps.exponential(rate), sd.bases.legendre(N)).numeric(delta)
    c = _loop(np.asarray(pair.A, float), np.asarray(pair.B, float).ravel(), u)
    lags = np.linspace(0.0, 0.25, 400)
    z = np.exp(-float(rate) * lags)
    x = 2 * z - 1
    P = np.stack([np.sqrt(2 * k + 1) * np.polynomial.legendre.legval(x, [0] * k + [1]) for k in range(N)], axis=-1)
    rms = float(np.sqrt(np.mean((P @ c - S.held_history(u, float(delta), lags)) ** 2)))
    cells = _row(text, f"| bank member rate {rate} (N = {N}) |")
    assert cells[3] == number(rms, 2)          # memory, states, multiply-adds, then the window [0, 0.25]
    assert re.search(r"exported as \*\*one\*\* generated package", text)


def test_docs_hold_a_full_run():
    """docs/ (linked from the README) holds the full-size run of the same script: every figure, and a
    results.md that names the full size and links them."""
    docs = REPO / "docs"
    text = (docs / "results.md").read_text()
    assert "full size" in text and "--size reduced" not in text.splitlines()[2]
    for name in FIGURES:
        width, height = _png_size(docs / name)
        assert width >= 800 and height >= 300
        assert f"]({name})" in text
