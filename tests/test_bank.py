"""Bank packages (several stationary lag models at one step, exported as one package), against
independent references.

- the blocks of A, B are the single-member matrices ``derive(warp, basis).numeric(delta)``, bit for bit;
- ``scan`` / ``scan_final`` / ``step`` / ``scan_variable`` against a plain numpy loop over each member
  with that member's own ``numeric(delta)`` matrices (no code of the package involved);
- ``history`` / ``reconstruct`` against numpy's Legendre and Laguerre series at ``z = exp(-rate lag)`` and
  ``z = 1 - lag / window``;
- the CUDA kernels on numba's simulator (a child process, ``tests/cuda_sim_runner.py``) against the CPU
  kernels, and (slow, needs libnvvm) compiled to PTX for the real target;
- byte-identical regeneration, headers, and a clear error for every refused input (CLI: exit 2).

Kernel tests use the checked-in ``generated/multires_legs`` (4 x 16 states; its Numba cache persists
beside it); the few exported here are small (N <= 6).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symderive as sd
from symderive import InputError
from symderive.cli import main
from symderive.codegen import bank as bank_module
from symderive.codegen.bank import build_bank_spec
from symderive.codegen.export import MARKER, export_bank, import_package, is_generated
from symderive.codegen.render_bank import render_bank

# tests/cuda_sim_runner.py, tests/helpers.py (tests/ is on sys.path: conftest.py)
import cuda_sim_runner  # imports neither numba nor a package: safe here
from helpers import compile_ptx, cuda_home, file_bytes, relative_error, run_simulator

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
GENERATED = REPO / "generated"

RATES = (8, 2, sp.Rational(1, 2), sp.Rational(1, 8))      # multires_legs, written out independently
N16 = 16
MIXED = {"warps": ("exponential:rate=2", "linear:window=1/2"), "N": 5, "delta": "1/100"}


def shifted_legendre(N, z):
    """p_n(z) = sqrt(2n+1) P_n(2z - 1), n < N, by numpy's Legendre series: array (len(z), N)."""
    z = np.asarray(z, dtype=np.float64)
    return np.stack([np.sqrt(2 * n + 1) * np.polynomial.legendre.legval(2 * z - 1, np.eye(N)[n]) for n in range(N)],
                    axis=-1)


def reference_scan(matrices, u, c0):
    """Bank states by a plain numpy loop, member by member: ``matrices[r] = (A_r, B_r)``; u (L, H), c0 (H, S)."""
    L, H = u.shape
    out = np.zeros((L, H, c0.shape[1]))
    offset = 0
    for A, B in matrices:
        n = A.shape[0]
        c = c0[:, offset:offset + n].copy()
        for t in range(L):
            c = c @ A.T + u[t][:, None] * B
            out[t, :, offset:offset + n] = c
        offset += n
    return out


@pytest.fixture(scope="module")
def bank():
    return import_package(GENERATED, "multires_legs")


@pytest.fixture(scope="module")
def member_models():
    return [sd.derive(sd.warps.exponential(rate), sd.bases.legendre(N16)) for rate in RATES]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A small bank of an exponential warp and a window (dense LegT block): (package, folder, models)."""
    out = tmp_path_factory.mktemp("bank_mixed")
    warps = [sd.warps.exponential(2), sd.warps.linear(sp.Rational(1, 2))]
    basis = sd.bases.legendre(MIXED["N"])
    export_bank(warps, basis, MIXED["delta"], "bank_mixed", out)
    return import_package(out, "bank_mixed"), out, [sd.derive(w, basis) for w in warps]


# ---------------------------------------------------------------------- constants


def test_blocks_are_the_single_member_matrices(bank, member_models):
    assert bank.N == 64 and bank.R == 4 and bank.DELTA == 0.01
    assert bank.SIZES == (16,) * 4 and bank.OFFSETS == (0, 16, 32, 48)
    assert bank.RATES == (8.0, 2.0, 0.5, 0.125) and bank.WINDOWS == (None,) * 4
    assert bank.KINDS == ("dilation",) * 4
    assert bank.A.shape == (64, 64) and bank.B.shape == (64,)
    for r, model in enumerate(member_models):
        A, B = model.numeric("1/100")
        block = slice(16 * r, 16 * r + 16)
        assert np.array_equal(bank.A[block, block], A) and np.array_equal(bank.BLOCKS[r], A)
        assert np.array_equal(bank.B[block], B) and np.array_equal(bank.B_BLOCKS[r], B)
        outside = np.ones(64, dtype=bool)
        outside[block] = False
        assert not bank.A[block][:, outside].any()            # exact zeros off the diagonal blocks
        member = bank.MEMBERS[r]
        assert member["warp"] == model.warp.spec and member["basis"] == "legendre" and member["N"] == 16
        assert member["offset"] == 16 * r and member["kind"] == "dilation"
        assert member["rate"] == float(RATES[r]) and member["window"] is None
    meta = bank.METADATA
    assert meta["name"] == "multires_legs" and meta["N"] == 64 and meta["R"] == 4
    assert meta["members"] == tuple(m.warp.spec for m in member_models)
    assert meta["spec_hash"] in (GENERATED / "multires_legs" / MARKER).read_text()
    assert not bank.A.flags.writeable and not bank.BLOCKS.flags.writeable


# ---------------------------------------------------------------------- fixed step


def test_scan_matches_a_numpy_loop_over_each_member(bank, member_models):
    rng = np.random.default_rng(0)
    L = 300
    matrices = [m.numeric("1/100") for m in member_models]
    for H in (3, 9):                                   # one (member, channel) per job; channel blocks
        u = rng.standard_normal((L, H))
        c0 = rng.standard_normal((H, bank.N))
        expected = reference_scan(matrices, u, c0)
        states = bank.scan(u, c0)
        assert states.shape == (L, H, 64) and states.dtype == np.float64
        assert relative_error(states, expected) < 1e-13
        assert relative_error(bank.scan_final(u, c0), expected[-1]) < 1e-13
    u1 = rng.standard_normal(L)
    expected = reference_scan(matrices, u1[:, None], np.zeros((1, 64)))[:, 0]
    assert relative_error(bank.scan(u1), expected) < 1e-13
    assert bank.scan_final(u1).shape == (64,)
    step = bank.step(expected[-2], u1[-1])
    assert relative_error(step, expected[-1]) < 1e-14
    assert np.allclose(step, bank.A @ expected[-2] + bank.B * u1[-1], rtol=0, atol=1e-14)


def test_kernel_is_each_members_powers_and_conv_equals_the_numpy_loop(bank, member_models, mixed):
    rng = np.random.default_rng(5)
    L = 257                                            # FFT length 1024: not a power of two in L
    matrices = [m.numeric("1/100") for m in member_models]
    K = bank.kernel(L)
    assert K.shape == (L, 64) and K.dtype == np.float64
    for r, (A, B) in enumerate(matrices):              # rows A_r^k B_r from numpy matrix powers
        expected = np.array([np.linalg.matrix_power(A, k) @ B for k in range(L)])
        assert relative_error(K[:, 16 * r:16 * r + 16], expected) < 1e-13
    u = rng.standard_normal((L, 3))
    c0 = rng.standard_normal((3, 64))
    expected = reference_scan(matrices, u, c0)
    states = bank.conv(u, c0)
    assert states.shape == (L, 3, 64) and relative_error(states, expected) < 1e-12
    u1 = rng.standard_normal(L)
    one = bank.conv(u1)
    expected_one = reference_scan(matrices, u1[:, None], np.zeros((1, 64)))[:, 0]
    assert one.shape == (L, 64) and relative_error(one, expected_one) < 1e-12
    low = bank.conv(u.astype(np.float32))
    assert low.dtype == np.float32 and bank.kernel(4, np.float32).dtype == np.float32
    assert relative_error(low, bank.conv(u)) < 1e-5
    assert bank.conv(np.zeros((0, 2))).shape == (0, 2, 64)
    # a window member has a dense block: its kernel rows too come from its own matrix powers
    pkg, _, models = mixed
    nm = MIXED["N"]
    Kw = pkg.kernel(50)
    for r, model in enumerate(models):
        A, B = model.numeric(MIXED["delta"])
        expected = np.array([np.linalg.matrix_power(A, k) @ B for k in range(50)])
        assert relative_error(Kw[:, nm * r:nm * (r + 1)], expected) < 1e-13
    with pytest.raises(ValueError, match="L must be"):
        bank.kernel(-1)
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        bank.kernel(4, np.int64)


def test_float32_stays_float32(bank):
    rng = np.random.default_rng(1)
    u = rng.standard_normal((200, 2))
    low = bank.scan(u.astype(np.float32))
    assert low.dtype == np.float32 and relative_error(low, bank.scan(u)) < 1e-5
    assert bank.scan_final(u.astype(np.float32)).dtype == np.float32
    assert bank.history(low[-1], [0.0, 1.0]).dtype == np.float32
    assert bank.scan_variable(u.astype(np.float32), 0.01).dtype == np.float32


def test_a_window_member_dense_block(mixed):
    pkg, _, models = mixed
    rng = np.random.default_rng(2)
    u = rng.standard_normal((120, 2))
    c0 = rng.standard_normal((2, pkg.N))
    matrices = [m.numeric(MIXED["delta"]) for m in models]
    assert pkg.KINDS == ("dilation", "translation") and pkg.RATES == (2.0, None) and pkg.WINDOWS == (None, 0.5)
    assert np.array_equal(pkg.BLOCKS[1], matrices[1][0]) and np.triu(pkg.BLOCKS[1], 1).any()   # LegT: dense
    assert relative_error(pkg.scan(u, c0), reference_scan(matrices, u, c0)) < 1e-13


# ---------------------------------------------------------------------- per-step Delta


def _variable_reference(models, u, deltas, c0):
    """Per-step states with each member's own numeric(Delta_t) matrices (Delta >= a window: A = 0, B = e_0)."""
    cache = {}

    def matrices(r, d):
        if (r, d) not in cache:
            model = models[r]
            window = model.warp.max_delta()
            if window != sp.oo and d >= float(window):   # the whole window is replaced: B_n = int_0^1 p_n = delta_n0
                cache[r, d] = (np.zeros((model.N, model.N)), np.eye(model.N)[0])
            else:
                cache[r, d] = model.numeric(sp.Rational(repr(d)))
        return cache[r, d]

    L, H = u.shape
    out = np.zeros((L, H, c0.shape[1]))
    for h in range(H):
        offset = 0
        for r, model in enumerate(models):
            c = c0[h, offset:offset + model.N].copy()
            for t in range(L):
                A, B = matrices(r, float(deltas[t, h]))
                c = A @ c + B * u[t, h]
                out[t, h, offset:offset + model.N] = c
            offset += model.N
    return out


def test_scan_variable_matches_per_step_member_matrices(bank, member_models):
    rng = np.random.default_rng(3)
    L, H = 60, 2
    values = np.array([0.01, 0.003, 0.25])
    shared = values[rng.integers(0, 3, L)]
    per_channel = values[rng.integers(0, 3, (L, H))]
    u = rng.standard_normal((L, H))
    c0 = rng.standard_normal((H, bank.N))
    expected = _variable_reference(member_models, u, np.repeat(shared[:, None], H, axis=1), c0)
    assert relative_error(bank.scan_variable(u, shared, c0), expected) < 1e-12
    expected = _variable_reference(member_models, u, per_channel, c0)
    assert relative_error(bank.scan_variable(u, per_channel, c0), expected) < 1e-12
    fixed = bank.scan(u, c0)
    assert relative_error(bank.scan_variable(u, 0.01, c0), fixed) < 1e-12     # the fixed step, by quadrature


def test_scan_variable_with_a_window_member(mixed):
    pkg, _, models = mixed
    rng = np.random.default_rng(4)
    L, H = 40, 2
    deltas = np.array([0.01, 0.05, 0.2, 0.8])[rng.integers(0, 4, (L, H))]   # 0.8 >= window 1/2: A = 0
    deltas[5, :] = 0.8
    u = rng.standard_normal((L, H))
    c0 = rng.standard_normal((H, pkg.N))
    expected = _variable_reference(models, u, deltas, c0)
    assert relative_error(pkg.scan_variable(u, deltas, c0), expected) < 1e-12
    expected = _variable_reference(models, u, np.repeat(deltas[:, :1], H, axis=1), c0)
    assert relative_error(pkg.scan_variable(u, deltas[:, 0], c0), expected) < 1e-12


# ---------------------------------------------------------------------- history and reconstruction


def test_history_is_the_legendre_series_at_each_members_z(bank):
    rng = np.random.default_rng(5)
    c = rng.standard_normal((2, 3, bank.N))
    lags = np.array([0.0, 0.004, 0.05, 0.3, 1.0, 4.0, 17.0, 300.0])
    values = bank.history(c, lags)
    assert values.shape == (2, 3, 4, 8)
    for r, rate in enumerate(RATES):
        z = np.exp(-float(rate) * lags)
        expected = c[..., 16 * r:16 * r + 16] @ shifted_legendre(16, z).T
        assert relative_error(values[:, :, r], expected) < 1e-13, r
    assert bank.history(c[0, 0], 0.5).shape == (4,)
    assert bank.history(c[0, 0], np.zeros((2, 5))).shape == (4, 2, 5)
    z = np.linspace(0.0, 1.0, 11)
    recon = bank.reconstruct(c, z)
    assert recon.shape == (2, 3, 4, 11)
    for r in range(4):
        assert relative_error(recon[:, :, r], c[..., 16 * r:16 * r + 16] @ shifted_legendre(16, z).T) < 1e-13


def test_history_of_a_window_member_is_nan_beyond_the_window(mixed):
    pkg, _, _ = mixed
    c = np.random.default_rng(6).standard_normal(pkg.N)
    lags = np.array([0.0, 0.1, 0.25, 0.5, 0.5000001, 3.0])
    values = pkg.history(c, lags)
    assert np.allclose(values[0], c[:5] @ shifted_legendre(5, np.exp(-2 * lags)).T, rtol=1e-13, atol=1e-13)
    inside = lags <= 0.5
    assert np.allclose(values[1, inside], c[5:] @ shifted_legendre(5, 1 - lags[inside] / 0.5).T, rtol=1e-13,
                       atol=1e-13)
    assert np.isnan(values[1, ~inside]).all() and np.isfinite(values[1, inside]).all()


def test_history_reads_back_a_smooth_signal_at_several_horizons(bank):
    """The point of the bank: the fast member resolves the recent past, the slow ones the distant past."""
    t = np.arange(3000) * bank.DELTA

    def signal(s):
        return np.sin(0.7 * s) + 0.5 * np.cos(2.3 * s)

    c = bank.scan_final(signal(t))
    recent, distant = np.array([0.02, 0.1, 0.3]), np.array([5.0])
    err_recent = np.abs(bank.history(c, recent) - signal(t[-1] - recent))        # (R, 3)
    err_distant = np.abs(bank.history(c, distant) - signal(t[-1] - distant))[:, 0]
    assert err_recent[0].max() < 3e-3 and (err_recent[0] < err_recent[3]).all()
    assert err_distant[0] > 0.5 and err_distant[3] < 0.3


def test_laguerre_bank_history_uses_the_log_coordinate(tmp_path):
    warps = [sd.warps.exponential(2), sd.warps.exponential(sp.Rational(1, 3))]
    path, spec = export_bank(warps, sd.bases.laguerre(4), "1/10", "bank_lagt", tmp_path)
    pkg = import_package(tmp_path, "bank_lagt")
    assert pkg.METADATA["variable_kind"] == "neglog" and (path / "_lag_neglog.py").is_file()
    c = np.random.default_rng(7).standard_normal(8)
    lags = np.array([0.0, 0.5, 3.0, 40.0])
    values = pkg.history(c, lags)
    for r, rate in enumerate((2.0, 1 / 3)):
        expected = np.polynomial.laguerre.lagval(rate * lags, c[4 * r:4 * r + 4])     # L_n(-log z), y = rate lag
        assert np.allclose(values[r], expected, rtol=1e-13, atol=1e-13)


# ---------------------------------------------------------------------- CUDA


def _cuda_inputs(pkg, seed, window=False):
    rng = np.random.default_rng(seed)
    L, H = 24, 3
    d2 = np.exp(rng.uniform(np.log(1e-5), np.log(0.9), (L, H)))
    d1 = d2[:, 0].copy()
    if window:
        d1[L // 2] = 0.8                           # >= the window: the window member drops everything
    return {"u1": rng.standard_normal(L), "u2": rng.standard_normal((L, H)), "c0": rng.standard_normal((H, pkg.N)),
            "d1": d1, "d2": d2}


def test_cuda_simulator_matches_cpu_kernels(tmp_path, bank, mixed):
    packages = {"multires_legs": (GENERATED, bank), "bank_mixed": (mixed[1], mixed[0])}
    inputs = {"multires_legs": _cuda_inputs(bank, 0), "bank_mixed": _cuda_inputs(mixed[0], 1, window=True)}
    results = run_simulator(tmp_path, {name: folder for name, (folder, _) in packages.items()}, inputs)
    for name, (_, pkg) in packages.items():
        arrays = inputs[name]
        labels = []
        for label, call in cuda_sim_runner.calls(pkg, arrays, "cpu"):
            expected, got = call(), results[f"{name}/{label}"]
            assert got.shape == expected.shape and got.dtype == expected.dtype, (name, label)
            assert relative_error(got, expected) < 1e-12, (name, label, relative_error(got, expected))
            labels.append(label)
        assert sum(label.startswith("scan_variable") for label in labels) == 3
        assert relative_error(results[f"{name}/scan device u(L,H) c0"], pkg.scan(arrays["u2"], arrays["c0"])) < 1e-12
        one = results[f"{name}/scan device u(L,)"]
        assert one.shape == (len(arrays["u1"]), pkg.N) and relative_error(one, pkg.scan(arrays["u1"])) < 1e-12
        low = results[f"{name}/scan float32"]
        assert low.dtype == np.float32 and relative_error(low, pkg.scan(arrays["u2"])) < 1e-5
        low = results[f"{name}/scan_variable float32 d(L,H)"]
        assert low.dtype == np.float32 and low.shape == (*arrays["u2"].shape, pkg.N)
        assert relative_error(low, pkg.scan_variable(arrays["u2"], arrays["d2"])) < 1e-5
        assert str(results[f"{name}/raises nan u"]).startswith("ValueError: u must be finite")
        assert str(results[f"{name}/raises bad c0"]).startswith("ValueError: c0 must have shape")
        assert str(results[f"{name}/raises delta <= 0"]).startswith("ValueError: delta must be > 0")


# the bank kernels' arguments, as helpers.compile_ptx spells them:
# fixed step (u, A, B, lower, c0, out, final, yR, CT, D, mode), yR (R, L, H) of u's dtype like out;
# per step (u, delta, per_channel, codes, parameters, nodes, weights, sqrtw, V, table, c0, out, final, keep)
# the selective scan's forward and backward kernels (package/cuda/bridge.py.jinja)
PTX_SIGNATURES = {"_scan_fixed_kernel": "u a3 a2 a1 a2 out a2 out a2 a1 i64",
                  "_scan_steps_kernel": "u a2 i64 a1 a1 a1 a1 a1 a2 a2 a2 out a2 bool",
                  "_bridge_forward_kernel": "u3 u3 bool u3 bool v1 u3 i64 u3 a4 a3 a1 a1 a1 a1 a1 a2 a2",
                  "_bridge_backward_kernel": ("u3 u3 bool u3 bool v1 a4 i64 a3 a3 a3 a3 a4 a2 a3 a3 a2 a1 a1 a1 a1 a1 a1 "
                                              "a2 a2")}


@pytest.mark.slow
def test_cuda_kernels_compile_to_ptx(tmp_path, mixed):
    """The real CUDA target (not the simulator) types and lowers the bank kernels, without a GPU."""
    home = cuda_home()
    if home is None:
        pytest.skip("no CUDA toolkit (libnvvm, libdevice) found")
    out = compile_ptx(mixed[1], ["bank_mixed"], PTX_SIGNATURES, home)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count(" ok") == 2 * 4      # 2 dtypes x (fixed, per-step, selective forward and backward)


# ---------------------------------------------------------------------- rendering and export


def test_regeneration_is_byte_identical_and_every_file_has_the_header(tmp_path, mixed):
    _, folder, models = mixed
    spec = build_bank_spec(models, MIXED["delta"], "bank_mixed")
    first = file_bytes(folder / "bank_mixed")
    path, again = export_bank([m.warp for m in models], models[0].basis, MIXED["delta"], "bank_mixed", tmp_path)
    assert again.hash == spec.hash and file_bytes(path) == first and is_generated(path)
    assert render_bank(spec) == render_bank(again)
    assert sorted(first) == [MARKER, "__init__.py", "_basis.py", "_checks.py", "_cpu.py", "_cuda.py", "_data.py",
                             "_lag_dilation.py", "_lag_translation.py", "torch.py"]
    header = ("# Generated by symderive from a bank of warps=[exponential:rate=2, linear:window=1/2], "
              "basis=legendre, N=2x5, delta=1/100. Do not edit.")
    for name, data in first.items():
        lines = data.decode().splitlines()
        assert lines[1] == f"# spec-sha256: {spec.hash}", name
        if name != MARKER:
            assert lines[0] == header, name
            tree = ast.parse(data.decode())
            assert ast.get_docstring(tree), name
            assert "{{" not in data.decode() and "{%" not in data.decode() and "/tmp" not in data.decode()
    other = build_bank_spec(models, "1/50", "bank_mixed")
    assert other.hash != spec.hash and "delta=1/50." in render_bank(other)["_data.py"].splitlines()[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bank_mixed"]        # no staging leftovers


def test_a_bank_without_a_per_step_form_says_why(tmp_path):
    warps = [sd.warps.exponential(), sd.warps.exponential(2)]
    spec = build_bank_spec([sd.derive(w, sd.bases.fourier(3)) for w in warps], "1/10", "bank_fourier")
    files = render_bank(spec)
    assert not any(name.startswith("_lag_") for name in files)
    tree = ast.parse(files["_cpu.py"])
    (reason,) = [ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                 and getattr(node.targets[0], "id", None) == "NO_VARIABLE_REASON"]
    assert reason.startswith("bank member 1 (exponential x fourier) has a per-step form (general) that banks "
                             "do not dispatch")
    assert "'variable_kind': None" in files["_data.py"]


def test_bad_banks_are_refused_with_a_clear_message(tmp_path, monkeypatch):
    legendre = sd.bases.legendre(3)

    def models(*warps, basis=legendre):
        return [sd.derive(w, basis) for w in warps]

    exp1, exp2 = sd.warps.exponential(), sd.warps.exponential(2)
    cases = [
        (models(exp1), "at least 2 members"),
        (sd.derive(exp1, legendre), "a list of at least 2 models"),
        ([sd.derive(exp1, legendre), "exponential"], "LagModel"),
        (models(sd.warps.scale(), exp1), "bank member 1 \\(scale\\): the scale warp is time-varying"),
        (models(exp1, sd.warps.custom("1/(1 - x)")), "bank member 2 .*neither a dilation .* nor a window translation"),
        (models(exp1, sd.warps.custom("(1 + x/2)**2")), "bank member 2 .*neither a dilation"),
        (models(exp2, sd.warps.custom("exp(2*x)")), "members 1 and 2 have the same lag map \\(dilation, rate 2\\)"),
        (models(exp1, sd.warps.exponential("1")), "same lag map"),
        ([sd.derive(exp1, legendre), sd.derive(exp2, sd.bases.legendre(4))],
         "same basis .* member 1 has legendre with N=3, member 2 has legendre with N=4"),
        ([sd.derive(exp1, legendre), sd.derive(exp2, sd.bases.laguerre(3))], "same basis"),
    ]
    for value, pattern in cases:
        with pytest.raises(InputError, match=pattern):
            build_bank_spec(value, "1/10", "bad_bank")
    window = models(exp1, sd.warps.linear(sp.Rational(1, 2)))
    with pytest.raises(InputError, match=r"bank member 2 \(linear:window=1/2\): delta must be smaller than the window"):
        build_bank_spec(window, "1/2", "bad_bank")
    with pytest.raises(InputError, match="give --delta"):
        build_bank_spec(window, None, "bad_bank")
    with pytest.raises(InputError, match="delta must be a finite positive number"):
        build_bank_spec(window, -1, "bad_bank")
    with pytest.raises(InputError, match="--name must be a Python identifier"):
        build_bank_spec(window, "1/10", "1bank")
    monkeypatch.setattr(bank_module, "MAX_TOTAL_STATES", 5)
    with pytest.raises(InputError, match="at most 5 states in all .* 2 members x N=3 = 6"):
        build_bank_spec(window, "1/10", "bad_bank")
    monkeypatch.undo()
    # a custom warp that is exactly exponential is a dilation member, with its exact rate
    spec = build_bank_spec(models(exp1, sd.warps.custom("2**x")), "1/10", "ok_bank")
    assert spec.kinds == ("dilation", "dilation") and spec.rates_exact == ("1", "log(2)")
    # export_bank: one basis, a list of warps, an existing folder that symderive generated
    with pytest.raises(InputError, match="one basis for every member"):
        export_bank([exp1, exp2], [legendre, legendre], "1/10", "b", tmp_path)
    with pytest.raises(InputError, match="list of warps"):
        export_bank(exp1, legendre, "1/10", "b", tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        export_bank([exp1, exp2], legendre, "1/10", "b", tmp_path / "missing")
    (tmp_path / "mine").mkdir()
    with pytest.raises(InputError, match="not generated by symderive"):
        export_bank([exp1, exp2], legendre, "1/10", "mine", tmp_path)


def test_package_inputs_are_checked(bank):
    c = np.zeros(bank.N)
    with pytest.raises(ValueError, match="lags must be >= 0"):
        bank.history(c, [-0.1, 1.0])
    with pytest.raises(ValueError, match="lags must be finite"):
        bank.history(c, [np.nan])
    with pytest.raises(TypeError, match="lags must be a number or an array of float32 or float64"):
        bank.history(c, np.array([1, 2]))
    with pytest.raises(ValueError, match=r"c must have shape \(N,\), \(L, N\) or \(\.\.\., N\) with N = 64"):
        bank.history(np.zeros(16), [0.0])
    with pytest.raises(ValueError, match="z must lie in Z"):
        bank.reconstruct(c, [1.5])
    with pytest.raises(TypeError, match="u must be an array of float32 or float64"):
        bank.scan(np.arange(4))
    with pytest.raises(ValueError, match=r"c0 must have shape \(N,\) = \(64,\)"):
        bank.scan(np.zeros(4), np.zeros(16))
    with pytest.raises(ValueError, match="delta must be > 0"):
        bank.scan_variable(np.zeros(4), np.array([0.1, 0.0, 0.1, 0.1]))


# ---------------------------------------------------------------------- command line


def test_cli_exports_a_bank_with_repeated_warps(capsys, tmp_path):
    code = main(["export", "--warp", "exponential:rate=8", "--warp", "exponential:rate=0.5", "--warp",
                 "linear:window=2", "--basis", "legendre", "--N", "3", "--delta", "0.01", "--name", "cli_bank",
                 "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["N"] == 9 and data["name"] == "cli_bank" and data["delta"] == 0.01
    assert [m["warp"] for m in data["members"]] == ["exponential:rate=8", "exponential:rate=1/2", "linear:window=2"]
    assert [m["offset"] for m in data["members"]] == [0, 3, 6]
    assert [m["kind"] for m in data["members"]] == ["dilation", "dilation", "translation"]
    assert data["members"][2]["window"] == 2.0 and data["members"][1]["rate"] == 0.5
    assert "_lag_translation.py" in data["files"] and MARKER in data["files"]
    assert data["spec_hash"] in (tmp_path / "cli_bank" / MARKER).read_text()


@pytest.mark.parametrize("args, message", [
    (["--warp", "scale", "--warp", "exponential"], "bank member 1 (scale): the scale warp is time-varying"),
    (["--warp", "exponential", "--warp", "exponential:rate=1"], "same lag map"),
    (["--warp", "exponential", "--warp", "f=1/(1-x)"], "neither a dilation"),
    (["--warp", "exponential", "--warp", "linear:window=1/200"], "delta must be smaller than the window"),
    (["--warp", "exponential", "--warp", "nope"], "unknown warp 'nope'"),
])
def test_cli_bad_banks_exit_2_with_one_line(capsys, tmp_path, args, message):
    code = main(["export", *args, "--basis", "legendre", "--N", "3", "--delta", "0.01", "--name", "bad",
                 "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "bad").exists()


def test_cli_bank_needs_delta_in_a_real_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "symderive", "export", "--warp", "exponential", "--warp",
                           "exponential:rate=2", "--basis", "legendre", "--N", "3", "--name", "b", "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "symderive: error: a bank (several --warp) needs --delta, the fixed step shared by every member"]
