"""The fused readout ``scan_readout``, the ``out=`` buffers and the chunked CPU scan of generated packages.

Every result is compared with a plain numpy loop over the package's matrices (``c = A c + B u_t``, then
``y_t = C c_t + D u_t``), not with another kernel: a lower-triangular LegS (exponential x Legendre), a
dense-A model (a window with the Fourier basis: A is not triangular) and a bank of two members. The
chunked scan (``_scan_fixed`` with a chunk length T, which the entry points choose only when a channel
gets several threads) is forced here with T that does not divide L, in the three modes (last state,
states, readout), float64 and float32. The CUDA twins run on the simulator in test_generated_cuda.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import symderive as sd
from symderive.codegen.export import export, export_bank, import_package
from symderive.inputs.specs import parse_basis, parse_warp

from helpers import relative_error

L = 257


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    out = tmp_path_factory.mktemp("readout")
    found = {}
    for name, (warp, basis, N, delta) in {"ro_legs_n6": ("exponential", "legendre", 6, "1/20"),
                                          "ro_fourier_n2": ("linear:window=1", "fourier", 2, "1/10")}.items():
        export(parse_warp(warp), parse_basis(basis, N), delta, name, out)
        found[name] = import_package(out, name)
    return found


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    out = tmp_path_factory.mktemp("readout_bank")
    export_bank([sd.warps.exponential(), sd.warps.linear(2)], sd.bases.legendre(4), "1/20", "ro_bank", out)
    return import_package(out, "ro_bank")


def loop_states(pkg, u, c0):
    """All states by the plain loop c_t = A c_{t-1} + B u_t, float64, (L, H, N)."""
    A = np.asarray(pkg.A, dtype=np.float64)
    B = np.asarray(pkg.B, dtype=np.float64).reshape(-1)
    c = np.array(c0, dtype=np.float64)
    out = np.empty((u.shape[0],) + c.shape)
    for t in range(u.shape[0]):
        c = c @ A.T + u[t][:, None] * B
        out[t] = c
    return out


def inputs(N, H, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((L, H)), rng.standard_normal((H, N)), rng.standard_normal((H, N)),
            rng.standard_normal(H))


# the dense-A model in float64 only, to keep the number of compiled kernels (and the suite's time) down
@pytest.mark.parametrize("name, H", [("ro_legs_n6", 1), ("ro_legs_n6", 3), ("ro_legs_n6", 40),
                                     ("ro_fourier_n2", 3), ("ro_fourier_n2", 40)])
def test_readout_matches_loop(packages, name, H):
    pkg = packages[name]
    u, c0, C, D = inputs(pkg.N, H)
    states = loop_states(pkg, u, c0)
    y_ref = np.einsum("lhn,hn->lh", states, C) + D * u
    y, last = pkg.scan_readout(u, C, D, c0, return_last_state=True)
    assert y.shape == (L, H) and y.dtype == np.float64
    assert relative_error(y, y_ref) < 1e-13
    assert relative_error(last, states[-1]) < 1e-13
    # C shared by the channels, no skip term, scalar D
    assert relative_error(pkg.scan_readout(u, C[0], None, c0), np.einsum("lhn,n->lh", states, C[0])) < 1e-13
    assert relative_error(pkg.scan_readout(u, C[0], 2.0, c0), np.einsum("lhn,n->lh", states, C[0]) + 2.0 * u) < 1e-13
    if name != "ro_legs_n6":
        return
    # float32: float32 arithmetic and result
    y32 = pkg.scan_readout(u.astype(np.float32), C.astype(np.float32), D.astype(np.float32),
                           c0.astype(np.float32))
    assert y32.dtype == np.float32 and relative_error(y32, y_ref) < 1e-5


def test_readout_one_channel_and_bank(packages, bank):
    pkg = packages["ro_legs_n6"]
    u, c0, C, _ = inputs(pkg.N, 1)
    states = loop_states(pkg, u, c0)
    y = pkg.scan_readout(u[:, 0], C[0], 0.5, c0[0])
    assert y.shape == (L,)
    assert relative_error(y, states[:, 0] @ C[0] + 0.5 * u[:, 0]) < 1e-13
    # a bank sums its members' parts of C c_t (each member's block runs in its own job)
    for H in (2, 9):
        u, c0, C, D = inputs(bank.N, H, seed=H)
        states = loop_states(bank, u, c0)
        y = bank.scan_readout(u, C, D, c0)
        assert relative_error(y, np.einsum("lhn,hn->lh", states, C) + D * u) < 1e-13


def test_out_buffers_are_filled_and_returned(packages):
    pkg = packages["ro_legs_n6"]
    u, c0, C, D = inputs(pkg.N, 3)
    states = loop_states(pkg, u, c0)
    buf = np.full((L, 3, pkg.N), np.nan)
    got = pkg.scan(u, c0, out=buf)
    assert got is buf and relative_error(buf, states) < 1e-13
    last = np.full((3, pkg.N), np.nan)
    assert pkg.scan_final(u, c0, out=last) is last and relative_error(last, states[-1]) < 1e-13
    y = np.full((L, 3), np.nan)
    assert pkg.scan_readout(u, C, D, c0, out=y) is y
    assert relative_error(y, np.einsum("lhn,hn->lh", states, C) + D * u) < 1e-13
    one = np.empty((L, pkg.N))
    assert pkg.scan(u[:, 0], out=one) is one and relative_error(one, loop_states(pkg, u[:, :1], np.zeros((1, pkg.N)))[:, 0]) < 1e-13


def test_bad_buffers_and_readout_shapes_are_refused(packages):
    pkg = packages["ro_legs_n6"]
    u, c0, C, D = inputs(pkg.N, 3)
    with pytest.raises(ValueError, match=r"out must have shape \(257, 3, 6\) and dtype float64"):
        pkg.scan(u, out=np.empty((L, 3, pkg.N), dtype=np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        pkg.scan(u, out=np.empty((L, 3, 2 * pkg.N))[:, :, ::2])
    with pytest.raises(TypeError, match="numpy array"):
        pkg.scan_final(u, out=[[0.0] * pkg.N] * 3)
    with pytest.raises(ValueError, match="shares memory with u"):
        pkg.scan_readout(u, C, out=u)
    with pytest.raises(ValueError, match=r"C must have shape \(N,\) = \(6,\) or \(H, N\) = \(3, 6\)"):
        pkg.scan_readout(u, C[:, :4])
    with pytest.raises(ValueError, match=r"D must be a scalar or \(H,\) = \(3,\)"):
        pkg.scan_readout(u, C, D[:2])
    with pytest.raises(ValueError, match="C must be finite"):
        pkg.scan_readout(u, np.full(pkg.N, np.nan))


@pytest.mark.parametrize("name, T", [("ro_legs_n6", 1), ("ro_legs_n6", 10), ("ro_legs_n6", 64),
                                     ("ro_legs_n6", 256), ("ro_fourier_n2", 10)])
def test_chunked_scan_matches_loop(packages, name, T):
    pkg = packages[name]
    cpu = pkg._cpu
    u, c0, C, D = inputs(pkg.N, 2, seed=T)
    states = loop_states(pkg, u, c0)
    y_ref = np.einsum("lhn,hn->lh", states, C) + D * u
    got, last = cpu._run_fixed(u, c0, cpu.STATES, T=T)
    assert relative_error(got, states) < 1e-12 and relative_error(last, states[-1]) < 1e-12
    _, last = cpu._run_fixed(u, c0, cpu.FINAL, T=T)
    assert relative_error(last, states[-1]) < 1e-12
    y, last = cpu._run_fixed(u, c0, cpu.READOUT, None, C, D, T=T)
    assert relative_error(y, y_ref) < 1e-12 and relative_error(last, states[-1]) < 1e-12
    if name != "ro_legs_n6":
        return
    y32, _ = cpu._run_fixed(u.astype(np.float32), c0.astype(np.float32), cpu.READOUT, None,
                            C.astype(np.float32), D.astype(np.float32), T=T)
    assert y32.dtype == np.float32 and relative_error(y32, y_ref) < 1e-5


def test_chunk_rule(packages):
    """Chunks only where each channel gets four threads (states and readouts double the work, and a
    parallel region on a busy 2-core machine can stall), and only for long sequences."""
    cpu = packages["ro_legs_n6"]._cpu
    rows = cpu._chunk_rows
    assert rows(10_000, 1, cpu.FINAL, threads=2) == 0
    assert rows(10_000, 1, cpu.FINAL, threads=4) == 2500
    assert rows(10_000, 1, cpu.STATES, threads=2) == 0
    assert rows(10_000, 1, cpu.READOUT, threads=8) == 1250
    assert rows(10_000, 3, cpu.FINAL, threads=8) == 0
    assert rows(10_000, 2, cpu.FINAL, threads=8) == 2500
    assert rows(cpu.CHUNK_MIN_ROWS - 1, 1, cpu.FINAL, threads=16) == 0


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_final_state_by_kernel_matches_loop(packages, dtype, tol):
    """Many channels' last state is one matrix product with the kernel rows (A^L c0 added when c0 is
    given); the loop is the reference, and the recurrence kernel (T = 0) agrees."""
    for name in ("ro_legs_n6", "ro_fourier_n2"):
        pkg = packages[name]
        u, c0, _, _ = inputs(pkg.N, 40, seed=5)
        states = loop_states(pkg, u, c0)
        assert relative_error(pkg.scan_final(u.astype(dtype), c0.astype(dtype)), states[-1]) < tol
        free = loop_states(pkg, u, np.zeros_like(c0))
        assert relative_error(pkg.scan_final(u.astype(dtype)), free[-1]) < tol
        _, recurrence = pkg._cpu._run_fixed(u.astype(dtype), c0.astype(dtype), pkg._cpu.FINAL, T=0)
        assert relative_error(recurrence, states[-1]) < tol
