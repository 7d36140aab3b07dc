"""The many-channel per-step kernels of ``scan_variable`` (channel blocks, time chunks) against a plain numpy
loop over dense per-step matrices.

The reference matrices are symderive's certified ``model.numeric(Delta)`` (ball arithmetic, rounded once;
no generated kernel is involved) for a few distinct steps, each used many times; the reference scan is
``c_t = A(Delta_t) c_{t-1} + B(Delta_t) u_t`` in float64. Sizes are chosen so that every edge of the
blocked kernels is crossed: H = 37 channels (not a multiple of the channel blocks), L = 70 steps (not a
multiple of the time chunks, set to 16 steps here), N = 10 (not a multiple of 4: zero-padded tables). Packages: a dilation
(exponential x Legendre: lower triangular A), a window translation (linear x Legendre: dense A) and a bank
of both (per-member lower / dense blocks); float64 and float32 input (float32 is applied in float32 by
the shared-Delta kernel, in float64 by the per-channel one). Most of the run time is Numba compiling the
kernels (several seconds per package, dtype and kernel), so the cases are few.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symderive as sd
from symderive.codegen.export import export, export_bank, import_package
from symderive.inputs.specs import parse_basis, parse_warp

from helpers import relative_error  # tests/helpers.py: max |c - ref| / max |ref|

L, H = 70, 37
STEPS = np.array([1e-5, 2e-3, 0.03, 0.2, 0.45])      # < the windows (1 and 1/2): no step drops a whole window
RTOL = {np.float64: 1e-12, np.float32: 1e-4}


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """name -> (package, its models (one per block), the references' cache)."""
    out = tmp_path_factory.mktemp("variable_blocks")
    found = {}
    for name, warp, N in (("blocks_legs", "exponential", 10), ("blocks_legt", "linear:window=1", 9)):
        basis = parse_basis("legendre", N)
        export(parse_warp(warp), basis, "1/100", name, out)
        found[name] = (import_package(out, name), [sd.derive(parse_warp(warp), basis)], {})
    warps, basis = [sd.warps.exponential(2), sd.warps.linear(sp.Rational(1, 2))], sd.bases.legendre(6)
    export_bank(warps, basis, "1/100", "blocks_bank", out)
    found["blocks_bank"] = (import_package(out, "blocks_bank"), [sd.derive(w, basis) for w in warps], {})
    return found


def matrices(entry, delta):
    """The block-diagonal (A(Delta), B(Delta)) of a package's models, float64, cached per step."""
    _, models, cache = entry
    if delta not in cache:
        pairs = [model.numeric(delta) for model in models]
        size = sum(pair.A.shape[0] for pair in pairs)
        A, B, offset = np.zeros((size, size)), np.zeros(size), 0
        for pair in pairs:
            n = pair.A.shape[0]
            A[offset:offset + n, offset:offset + n] = np.asarray(pair.A, dtype=np.float64)
            B[offset:offset + n] = np.asarray(pair.B, dtype=np.float64).reshape(-1)
            offset += n
        cache[delta] = (A, B)
    return cache[delta]


def reference(entry, u, deltas, c0):
    """c_t = A(Delta_t) c_{t-1} + B(Delta_t) u_t, a plain float64 loop; deltas (L,) or (L, H)."""
    u = np.asarray(u, dtype=np.float64)
    C = np.array(c0, dtype=np.float64).T.copy()       # (N, H)
    out = np.empty((u.shape[0], u.shape[1], C.shape[0]))
    for t in range(u.shape[0]):
        if deltas.ndim == 1:
            A, B = matrices(entry, float(deltas[t]))
            C = A @ C + np.outer(B, u[t])
        else:
            for h in range(u.shape[1]):
                A, B = matrices(entry, float(deltas[t, h]))
                C[:, h] = A @ C[:, h] + B * u[t, h]
        out[t] = C.T
    return out


def inputs(pkg, seed):
    rng = np.random.default_rng(seed)
    u = np.sin(0.1 * np.arange(L))[:, None] + 0.5 * rng.standard_normal((L, H))
    return u, rng.choice(STEPS, L), rng.choice(STEPS, (L, H)), rng.standard_normal((H, pkg.N))


# the float32 and bank cases compile their own kernels (10-20 s each): run with -m slow
@pytest.mark.parametrize("name, dtype", [("blocks_legs", np.float64),
                                         pytest.param("blocks_legs", np.float32, marks=pytest.mark.slow),
                                         ("blocks_legt", np.float64),
                                         pytest.param("blocks_bank", np.float64, marks=pytest.mark.slow)])
def test_shared_delta_chunks(packages, name, dtype, monkeypatch):
    """One Delta per row (L,), H = 37 channels: the chunked kernel (A_t formed once per step, applied per
    channel block in u's dtype), in chunks of 16 steps (L = 70: four whole chunks and one of 6); out=
    receives the same states."""
    entry = packages[name]
    pkg = entry[0]
    monkeypatch.setattr(pkg._cpu, "TIME_CHUNK", 16)
    assert pkg._cpu._chunk_length(L, np.dtype(dtype).itemsize) == 16
    u, shared, _, c0 = inputs(pkg, 1)
    ref = reference(entry, u, shared, c0)
    got = pkg.scan_variable(u.astype(dtype), shared, c0)
    assert got.dtype == dtype and got.shape == (L, H, pkg.N)
    assert relative_error(got, ref) < RTOL[dtype]
    if dtype == np.float64:
        buffer = np.empty((L, H, pkg.N))
        assert pkg.scan_variable(u, shared, c0, out=buffer) is buffer
        np.testing.assert_array_equal(buffer, got)


@pytest.mark.parametrize("name, dtype", [("blocks_legs", np.float64),
                                         pytest.param("blocks_bank", np.float64, marks=pytest.mark.slow)])
def test_per_channel_delta_blocks(packages, name, dtype):
    """One Delta per row and channel (L, H), H = 37: the channel-block kernel (every channel its own step,
    the channel index innermost; float64 for every input dtype, so float64 only). The bank has a dilation
    and a window member: both per-step forms' _lag_block."""
    entry = packages[name]
    pkg = entry[0]
    u, _, each, c0 = inputs(pkg, 2)
    got = pkg.scan_variable(u.astype(dtype), each, c0)
    assert got.dtype == dtype
    assert relative_error(got, reference(entry, u, each, c0)) < RTOL[dtype]


def test_blocked_kernels_equal_the_per_channel_kernels(packages):
    """The same steps through the channel-block kernels (H = 37) and the one-channel-at-a-time kernels
    (the same channels in groups of 4, below VARIABLE_MIN_CHANNELS): equal to rounding."""
    pkg = packages["blocks_legs"][0]
    assert pkg._cpu.VARIABLE_MIN_CHANNELS > 4 and pkg._cpu.VARIABLE_LOWER
    assert not packages["blocks_legt"][0]._cpu.VARIABLE_LOWER
    u, shared, each, c0 = inputs(pkg, 3)
    for deltas in (shared, each):
        blocked = pkg.scan_variable(u, deltas, c0)
        groups = [pkg.scan_variable(u[:, h:h + 4], deltas if deltas.ndim == 1 else deltas[:, h:h + 4], c0[h:h + 4])
                  for h in range(0, H, 4)]
        assert relative_error(blocked, np.concatenate(groups, axis=1)) < 1e-13


def test_out_buffers_are_checked(packages):
    """scan_variable(..., out=) writes into the caller's array and returns it; a wrong one is refused."""
    pkg = packages["blocks_legs"][0]
    u, shared, _, _ = inputs(pkg, 4)
    u1 = np.ascontiguousarray(u[:, 0])
    line = np.empty((L, pkg.N))
    assert pkg.scan_variable(u1, shared[0], out=line) is line
    np.testing.assert_array_equal(line, pkg.scan_variable(u1, shared[0]))
    for bad, error in ((np.empty((L, H, pkg.N), dtype=np.float32), ValueError),        # not u's dtype
                       (np.empty((L, H, pkg.N + 1)), ValueError),                       # wrong shape
                       (np.empty((L, pkg.N, H)).transpose(0, 2, 1), ValueError),        # not C-contiguous
                       ([[0.0]], TypeError)):
        with pytest.raises(error, match="out"):
            pkg.scan_variable(u, shared, out=bad)
