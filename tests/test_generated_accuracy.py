"""Accuracy of the generated packages against independent references.

The packages under test are the ones checked into ``generated/`` (imported from there), plus two
exported into a temporary folder for what the checked-in set lacks: exponential x Legendre at N = 8,
and a Fourier basis in a window (its per-step rotation is tested in ``tests/test_variable_general.py``).
No reference below calls a generated kernel or reads a generated matrix:

- **generators typed from docs/math.md, section 4.3**: LegS ``A_gen[n,k] = -sqrt((2n+1)(2k+1))`` (n > k),
  ``-(n+1)`` (n = k), 0 (n < k), ``B_gen[n] = sqrt(2n+1)``, times the rate of the warp ``exp(rate x)``
  (``2**x``: rate log 2); LagT ``A_gen = -tril(ones)``, ``B_gen = ones``;
- **discrete matrices in ball arithmetic**: the exponential of the augmented generator
  ``[[D A_gen, D B_gen], [0, 0]]`` (python-flint ``arb_mat.exp`` at 256 bits), whose blocks are
  ``expm(D A_gen)`` and the zero-order hold ``A_gen^{-1} (expm(D A_gen) - I) B_gen`` (Van Loan); the
  route is itself checked against ``mpmath.expm`` and the ``A_gen^{-1}`` formula at N = 8;
- **symderive's certified route** where no closed form applies: ``model.numeric(delta, "mpmath",
  dps=40)`` (LegT per step; the fixed-step matrices of every kind), and the exact
  ``model.step_matrices(t, delta)`` of the time-varying scale warp;
- **a plain numpy loop** ``c_t = A_t c_{t-1} + B_t u_t`` in float64 with those matrices.

Error measure: ``max |c - c_ref| / max |c_ref|`` over all steps and channels. Measured errors are
printed (``pytest -s`` shows them).
"""

from __future__ import annotations

import functools
import importlib
import sys
from fractions import Fraction
from pathlib import Path

import flint
import mpmath
import numpy as np
import pytest
import sympy as sp

import symderive as sd
from symderive.inputs.specs import parse_basis, parse_warp

from helpers import relative_error  # tests/helpers.py (on sys.path: conftest.py); max |c - ref| / max |ref|

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
GENERATED = REPO / "generated"

PREC = 256                         # bits of the ball-arithmetic references
FIXED_RTOL = 1e-10                 # float64 scans against the float64 reference loop
VARIABLE_RTOL = 1e-10
FLOAT32_RTOL = 1e-4
MATRIX_RTOL = 1e-14                # rounded-once matrices against the ball-arithmetic expm / ZOH
CONV_RTOL = 1e-10

# checked-in packages (scripts/derive_and_export.py): warp SPEC, basis SPEC, N, Delta, reference generator
CHECKED_IN = {
    "legs_n64": ("exponential", "legendre", 64, Fraction(1, 100), "legs"),
    "legt_n32": ("linear:window=1", "legendre", 32, Fraction(1, 100), None),
    "lagt_n32": ("exponential", "laguerre", 32, Fraction(1, 100), "lagt"),
    "legs_scale_n64": ("scale", "legendre", 64, None, None),
    "pow2_legendre_n16": ("f=2**x", "legendre", 16, Fraction(1, 20), "pow2"),
}
EXTRA = {"accuracy_legs_n8": ("exponential", "legendre", 8, Fraction(1, 100), "legs"),
         "accuracy_fourier_n3": ("linear:window=1", "fourier", 3, Fraction(1, 10), None)}
CASES = {**CHECKED_IN, **EXTRA}


# ---------------------------------------------------------------------- packages


def checked_in(name: str):
    """Import the checked-in package ``generated/name``."""
    if str(GENERATED) not in sys.path:
        sys.path.insert(0, str(GENERATED))
    return importlib.import_module(name)


@pytest.fixture(scope="module")
def extra_packages(tmp_path_factory):
    """The EXTRA packages, exported into a temporary folder and imported from there."""
    from symderive.codegen.export import export
    out = tmp_path_factory.mktemp("generated_accuracy")
    for name, (warp, basis, N, delta, _) in EXTRA.items():
        export(parse_warp(warp), parse_basis(basis, N), str(delta), name, out)
    sys.path.insert(0, str(out))
    try:
        return {name: importlib.import_module(name) for name in EXTRA}
    finally:
        sys.path.remove(str(out))


@pytest.fixture
def package(request):
    """``package(name)``: a checked-in package, or an EXTRA one from the temporary folder."""
    def get(name):
        pkg = request.getfixturevalue("extra_packages")[name] if name in EXTRA else checked_in(name)
        warp, basis, N, delta, _ = CASES[name]
        assert pkg.N == N and pkg.METADATA["warp"] == parse_warp(warp).spec
        assert pkg.METADATA["basis"] == parse_basis(basis, N).spec
        if delta is not None:
            assert Fraction(pkg.METADATA["delta_exact"]) == delta
        return pkg
    return get


@functools.lru_cache(maxsize=None)
def model(name):
    """The symderive model behind a package, derived afresh from the table above."""
    warp, basis, N, _, _ = CASES[name]
    return sd.derive(parse_warp(warp), parse_basis(basis, N))


# ---------------------------------------------------------------------- references


def report(label, error):
    print(f"\n    {label}: {error:.2e}", end="")
    return error


def legs_generator(N: int, rate=1):
    """docs/math.md, section 4.3: ``A_gen = -rate A_LegS``, ``B_gen = rate B_LegS``, arb matrices at PREC bits."""
    with flint.ctx.workprec(PREC):
        rate = flint.arb(rate)
        A = flint.arb_mat(N, N)
        B = flint.arb_mat(N, 1)
        for n in range(N):
            for k in range(n):
                A[n, k] = -rate * flint.arb((2 * n + 1) * (2 * k + 1)).sqrt()
            A[n, n] = -rate * (n + 1)
            B[n, 0] = rate * flint.arb(2 * n + 1).sqrt()
        return A, B


def lagt_generator(N: int):
    """docs/math.md, section 4.3: HiPPO-LagT ``A_gen = -tril(ones)``, ``B_gen = ones``."""
    with flint.ctx.workprec(PREC):
        A = flint.arb_mat(N, N)
        B = flint.arb_mat(N, 1)
        for n in range(N):
            for k in range(n + 1):
                A[n, k] = -1
            B[n, 0] = 1
        return A, B


@functools.lru_cache(maxsize=None)
def generator(kind: str, N: int):
    """The typed generator of a reference kind: "legs", "pow2" (LegS times log 2) or "lagt"."""
    if kind == "lagt":
        return lagt_generator(N)
    if kind == "pow2":
        with flint.ctx.workprec(PREC):
            return legs_generator(N, flint.arb(2).log())
    return legs_generator(N)


def arb_delta(delta):
    """A step as an arb: a Fraction exactly, a float as its exact binary value."""
    with flint.ctx.workprec(PREC):
        if isinstance(delta, Fraction):
            return flint.arb(delta.numerator) / delta.denominator
        return flint.arb(float(delta))


def zoh(gen, delta):
    """``(expm(D A_gen), A_gen^{-1}(expm(D A_gen) - I) B_gen)`` rounded once to float64.

    Computed as ``expm([[D A_gen, D B_gen], [0, 0]])`` in ball arithmetic (its top blocks are the two
    results), so nothing cancels for small ``D``; every entry is checked to be known to 1e-30.
    """
    A_gen, B_gen = gen
    N = A_gen.nrows()
    with flint.ctx.workprec(PREC):
        d = arb_delta(delta)
        M = flint.arb_mat(N + 1, N + 1)
        for n in range(N):
            for k in range(N):
                M[n, k] = A_gen[n, k] * d
            M[n, N] = B_gen[n, 0] * d
        E = M.exp()
        assert all(E[n, k].rad() < 1e-30 for n in range(N) for k in range(N + 1))
        A = np.array([[float(E[n, k].mid()) for k in range(N)] for n in range(N)])
        B = np.array([float(E[n, N].mid()) for n in range(N)])
    return A, B


def to_float(M) -> np.ndarray:
    """A SymPy or mpmath matrix (exact or high precision) rounded once to float64."""
    if isinstance(M, mpmath.matrix):
        values = np.array([[float(M[i, j]) for j in range(M.cols)] for i in range(M.rows)])
        return values[:, 0] if M.cols == 1 else values
    return np.array(sp.Matrix(M).evalf(40).tolist(), dtype=np.float64).squeeze()


def certified(name, delta, t=None):
    """symderive's certified ``(A_Delta, B_Delta)`` at 40 digits (``model.numeric(..., "mpmath")``), as float64."""
    A, B = model(name).numeric(delta, dtype="mpmath", dps=40, t=t)
    return to_float(A), to_float(B).reshape(-1)


def loop(step_matrices, u, c0=None):
    """The plain numpy reference ``c_t = A_t c_{t-1} + B_t u_t``.

    ``step_matrices(t, h)`` gives ``(A_t, B_t)``; it is called with ``h = None`` first and may return
    ``(None, None)`` to ask for one call per channel. ``u`` is (L,) or (L, H); ``c0`` (N,) or (H, N).
    Returns (L, N) or (L, H, N).
    """
    u = np.asarray(u, dtype=np.float64)
    L = u.shape[0]
    U = u.reshape(L, -1)
    H = U.shape[1]
    N = step_matrices(0, 0)[0].shape[0]
    C = np.zeros((N, H))
    if c0 is not None:
        C[:] = np.broadcast_to(np.asarray(c0, dtype=np.float64), (H, N)).T
    out = np.empty((L, H, N))
    for t in range(L):
        A, B = step_matrices(t, None)
        if A is not None:
            C = A @ C + np.outer(B, U[t])
        else:
            for h in range(H):
                A, B = step_matrices(t, h)
                C[:, h] = A @ C[:, h] + B * U[t, h]
        out[t] = C.T
    return out.reshape(u.shape + (N,))


def fixed(A, B):
    return lambda t, h: (A, B)


def per_step(matrices, deltas):
    """Step matrices for per-step ``deltas`` of shape (L,) or (L, H), from ``matrices[delta]``."""
    deltas = np.asarray(deltas)

    def step(t, h):
        if deltas.ndim == 1:
            return matrices[float(deltas[t])]
        if h is None:
            return None, None
        return matrices[float(deltas[t, h])]
    return step


def log_uniform(rng, count, low=1e-5, high=10.0):
    """``count`` steps log-uniform in [low, high], the two ends included."""
    return np.concatenate([[low, high], np.exp(rng.uniform(np.log(low), np.log(high), count - 2))])


def signal(rng, L, H=None):
    """A test input, (L,) or (L, H): a slow sine plus noise."""
    shape = (L,) if H is None else (L, H)
    t = np.arange(L, dtype=np.float64).reshape((L,) + (1,) * (len(shape) - 1))
    return np.sin(0.01 * t) + 0.5 * rng.standard_normal(shape)


# ---------------------------------------------------------------------- the reference route itself


def test_ball_arithmetic_zoh_matches_mpmath_expm_and_the_inverse_formula():
    """arb's augmented expm against mpmath.expm(D A_gen) and A_gen^{-1}(A_D - I) B_gen at 40 digits
    (N = 8, steps 1e-5 .. 10): the reference is what the docstring says it is."""
    N = 8
    for delta in (1e-5, 0.01, 0.7, 10.0):
        A, B = zoh(generator("legs", N), delta)
        with mpmath.workdps(40):
            G = mpmath.matrix(N, N)
            for n in range(N):
                for k in range(n):
                    G[n, k] = -mpmath.sqrt((2 * n + 1) * (2 * k + 1))
                G[n, n] = -(n + 1)
            Bg = mpmath.matrix([mpmath.sqrt(2 * n + 1) for n in range(N)])
            E = mpmath.expm(mpmath.mpf(delta) * G)
            Z = mpmath.lu_solve(G, (E - mpmath.eye(N)) * Bg)
            A_mp, B_mp = to_float(E), to_float(Z)
        assert relative_error(A, A_mp) < 1e-15 and relative_error(B, B_mp) < 1e-15, delta


# ---------------------------------------------------------------------- fixed Delta


@pytest.mark.parametrize("name", ["accuracy_legs_n8", "legs_n64", "pow2_legendre_n16", "lagt_n32"])
def test_matrices_equal_expm_and_zero_order_hold_of_the_typed_generator(package, name):
    """A_GEN, B_GEN equal the generator of docs/math.md, section 4.3; A, B equal expm(Delta A_gen) and its
    zero-order hold."""
    pkg = package(name)
    _, _, N, delta, kind = CASES[name]
    A_gen, B_gen = generator(kind, N)
    G = np.array([[float(A_gen[n, k].mid()) for k in range(N)] for n in range(N)])
    g = np.array([float(B_gen[n, 0].mid()) for n in range(N)])
    assert report(f"{name} A_GEN", relative_error(pkg.A_GEN, G)) < 1e-15
    assert relative_error(pkg.B_GEN, g) < 1e-15
    A, B = zoh((A_gen, B_gen), delta)
    assert report(f"{name} A vs expm", relative_error(pkg.A, A)) < MATRIX_RTOL
    assert report(f"{name} B vs ZOH", relative_error(pkg.B, B)) < MATRIX_RTOL
    assert pkg.A.dtype == np.float64 and pkg.A.shape == (N, N) and pkg.B.shape == (N,)


@pytest.mark.parametrize("name", ["accuracy_legs_n8", "legs_n64"])
def test_fixed_scan_over_ten_thousand_steps(package, name):
    """scan, scan_final and step against the numpy loop with symderive's certified 40-digit matrices
    (exponential x Legendre, N = 8 and 64, L = 10^4, one channel and three with an initial state)."""
    pkg = package(name)
    A, B = certified(name, str(CASES[name][3]))
    rng = np.random.default_rng(1)
    L = 10_000
    u = signal(rng, L)
    c = pkg.scan(u)
    assert c.shape == (L, pkg.N) and c.dtype == np.float64
    assert report(f"{name} scan (L,)", relative_error(c, loop(fixed(A, B), u))) < FIXED_RTOL
    U = signal(rng, L, 3)
    c0 = rng.standard_normal((3, pkg.N))
    C = pkg.scan(U, c0)
    ref = loop(fixed(A, B), U, c0)
    assert C.shape == (L, 3, pkg.N)
    assert report(f"{name} scan (L,H) with c0", relative_error(C, ref)) < FIXED_RTOL
    np.testing.assert_allclose(pkg.scan_final(U, c0), C[-1], rtol=1e-15, atol=0)
    np.testing.assert_allclose(pkg.step(c0, U[0]), ref[0], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(pkg.step(c0[0], float(U[0, 0])), ref[0, 0], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", ["legt_n32", "lagt_n32", "pow2_legendre_n16", "accuracy_fourier_n3"])
def test_fixed_scan_other_models(package, name):
    """LegT (window), LagT (Laguerre), the custom warp 2**x and a Fourier basis: scan against the numpy
    loop with the certified 40-digit matrices, L = 3000, two channels, an initial state."""
    pkg = package(name)
    A, B = certified(name, str(CASES[name][3]))
    rng = np.random.default_rng(2)
    U = signal(rng, 3000, 2)
    c0 = rng.standard_normal(pkg.N)
    assert report(f"{name} scan", relative_error(pkg.scan(U, c0), loop(fixed(A, B), U, c0))) < FIXED_RTOL


def scale_reference(t, delta):
    """The scale warp's step ``t -> t + delta`` (docs/math.md, section 3.3: a dilation with q = t / (t + delta)); from
    t = 0 the history is empty (q = 0): A = 0 and B_n = integral_0^1 p_n dz = [n = 0]."""
    N = CASES["legs_scale_n64"][2]
    if t == 0:
        return np.zeros((N, N)), np.eye(N)[0]
    A, B = model("legs_scale_n64").step_matrices(sp.Rational(t), sp.Rational(delta))
    return to_float(A), to_float(B).reshape(-1)


def test_scale_warp_scan_matches_exact_step_matrices(package):
    """The time-varying LegS: scan (t0 + i -> t0 + i + 1) and scan_variable (t -> t + Delta_i) against
    the exact model.step_matrices(t, delta), from t0 = 0 (empty history) and from t0 = 5 with c0."""
    pkg = package("legs_scale_n64")
    assert pkg.A is None and pkg.B is None
    rng = np.random.default_rng(3)
    L = 6
    U = signal(rng, L, 2)
    ref = loop(lambda t, h: scale_reference(t, 1), U)
    assert report("scale scan from t0=0", relative_error(pkg.scan(U), ref)) < FIXED_RTOL
    c0 = rng.standard_normal((2, pkg.N))
    ref = loop(lambda t, h: scale_reference(5 + t, 1), U, c0)
    assert report("scale scan from t0=5", relative_error(pkg.scan(U, c0, t0=5.0), ref)) < FIXED_RTOL
    deltas = np.array([0.3, 2.0, 1e-3, 7.5, 0.05, 1.0])
    clock = np.concatenate([[2.0], 2.0 + np.cumsum(deltas)[:-1]])   # the clock before each step
    ref = loop(lambda t, h: scale_reference(clock[t], deltas[t]), U, c0)
    err = relative_error(pkg.scan_variable(U, deltas, c0, t0=2.0), ref)
    assert report("scale scan_variable from t0=2", err) < VARIABLE_RTOL
    with pytest.raises(NotImplementedError):
        pkg.conv(U)
    with pytest.raises(NotImplementedError):
        pkg.kernel(4)


# ---------------------------------------------------------------------- per-step Delta


def zoh_table(kind, N, deltas):
    return {float(d): zoh(generator(kind, N), float(d)) for d in np.unique(deltas)}


def test_scan_variable_legs_n8(package):
    """Exponential x Legendre N = 8: per-step Delta log-uniform in [1e-5, 10], shared (L,) and per
    channel (L, H), against expm / ZOH in ball arithmetic at every step."""
    pkg = package("accuracy_legs_n8")
    rng = np.random.default_rng(4)
    L, H = 48, 3
    deltas = log_uniform(rng, L)
    rng.shuffle(deltas)
    U = signal(rng, L, H)
    c0 = rng.standard_normal((H, 8))
    table = zoh_table("legs", 8, deltas)
    err = relative_error(pkg.scan_variable(U, deltas, c0), loop(per_step(table, deltas), U, c0))
    assert report("legs N=8 scan_variable delta (L,)", err) < VARIABLE_RTOL
    err = relative_error(pkg.scan_variable(U[:, 0], deltas), loop(per_step(table, deltas), U[:, 0]))
    assert report("legs N=8 scan_variable u (L,)", err) < VARIABLE_RTOL
    each = log_uniform(rng, 16 * H).reshape(16, H)
    table = zoh_table("legs", 8, each)
    err = relative_error(pkg.scan_variable(U[:16], each, c0), loop(per_step(table, each), U[:16], c0))
    assert report("legs N=8 scan_variable delta (L,H)", err) < VARIABLE_RTOL


@pytest.mark.parametrize("name, distinct, L", [("legs_n64", 6, 12), ("pow2_legendre_n16", 24, 24),
                                               ("lagt_n32", 10, 16)])
def test_scan_variable_against_expm(package, name, distinct, L):
    """Checked-in dilation / log-Laguerre packages: per-step Delta log-uniform in [1e-5, 10] (a few
    distinct steps, each used more than once at N = 64), against expm / ZOH of the typed generator."""
    pkg = package(name)
    _, _, N, _, kind = CASES[name]
    rng = np.random.default_rng(5)
    deltas = rng.permutation(np.resize(log_uniform(rng, distinct), L))
    U = signal(rng, L, 2)
    c0 = rng.standard_normal((2, N))
    table = zoh_table(kind, N, deltas)
    err = relative_error(pkg.scan_variable(U, deltas, c0), loop(per_step(table, deltas), U, c0))
    assert report(f"{name} scan_variable", err) < VARIABLE_RTOL


def test_scan_variable_window_translation(package):
    """LegT (linear window 1): per-step Delta log-uniform in [1e-5, 0.9] against symderive's certified
    model.numeric(Delta, "mpmath"); a step Delta >= window replaces the whole window (A = 0, B = e_0)."""
    pkg = package("legt_n32")
    N = 32
    rng = np.random.default_rng(6)
    deltas = np.concatenate([log_uniform(rng, 11, high=0.9), [3.0]])
    rng.shuffle(deltas)
    table = {float(d): certified("legt_n32", sp.Rational(float(d))) for d in deltas if d < 1}
    table[3.0] = (np.zeros((N, N)), np.eye(N)[0])
    U = signal(rng, len(deltas), 2)
    c0 = rng.standard_normal(N)
    err = relative_error(pkg.scan_variable(U, deltas, c0), loop(per_step(table, deltas), U, c0))
    assert report("legt_n32 scan_variable", err) < VARIABLE_RTOL


# ---------------------------------------------------------------------- float32


def test_float32_follows_float64_reference(package):
    """float32 in -> float32 out, within 1e-4 of the float64 reference (scan L = 10^4 at N = 64,
    scan_variable at N = 8, conv at N = 64)."""
    pkg = package("legs_n64")
    A, B = certified("legs_n64", "1/100")
    rng = np.random.default_rng(7)
    u32 = signal(rng, 10_000).astype(np.float32)
    ref = loop(fixed(A, B), u32.astype(np.float64))
    c = pkg.scan(u32)
    assert c.dtype == np.float32
    assert report("float32 scan N=64 L=1e4", relative_error(c, ref)) < FLOAT32_RTOL
    c = pkg.conv(u32[:4096])
    assert c.dtype == np.float32
    assert report("float32 conv N=64 L=4096", relative_error(c, ref[:4096])) < FLOAT32_RTOL
    small = package("accuracy_legs_n8")
    deltas = log_uniform(rng, 48)
    U32 = signal(rng, 48, 3).astype(np.float32)
    ref = loop(per_step(zoh_table("legs", 8, deltas), deltas), U32.astype(np.float64))
    c = small.scan_variable(U32, deltas)
    assert c.dtype == np.float32
    assert report("float32 scan_variable N=8", relative_error(c, ref)) < FLOAT32_RTOL


# ---------------------------------------------------------------------- conv, kernel, reconstruct


@pytest.mark.parametrize("name", ["legs_n64", "legt_n32", "lagt_n32", "pow2_legendre_n16"])
def test_conv_equals_scan_and_kernel_rows_are_powers(package, name):
    """conv (FFT) equals scan to 1e-10 (with an initial state); kernel(L) rows equal A^k B from a numpy loop."""
    pkg = package(name)
    rng = np.random.default_rng(8)
    U = signal(rng, 4096 if name == "legs_n64" else 1024, 3)
    c0 = rng.standard_normal((3, pkg.N))
    assert report(f"{name} conv vs scan", relative_error(pkg.conv(U, c0), pkg.scan(U, c0))) < CONV_RTOL
    assert relative_error(pkg.conv(U[:, 1]), pkg.scan(U[:, 1])) < CONV_RTOL
    K = pkg.kernel(600)
    rows = [np.array(pkg.B)]
    for _ in range(599):
        rows.append(pkg.A @ rows[-1])
    assert K.shape == (600, pkg.N)
    assert report(f"{name} kernel rows", relative_error(K, np.array(rows))) < 1e-13


def test_reconstruct_evaluates_the_basis():
    """reconstruct(c, z) = sum_n c_n p_n(z): shifted orthonormal Legendre (numpy.polynomial.legendre)
    and log-Laguerre L_n(-log z) (numpy.polynomial.laguerre)."""
    rng = np.random.default_rng(9)
    z = np.array([0.0, 1e-3, 0.2, 0.5, 0.77, 1.0])
    legs = checked_in("legs_n64")
    c = rng.standard_normal((5, 64))
    ref = np.polynomial.legendre.legval(2 * z - 1, (c * np.sqrt(2 * np.arange(64) + 1)).T)
    assert relative_error(legs.reconstruct(c, z), ref) < 1e-13
    assert legs.reconstruct(c[0], z).shape == (6,)
    lagt = checked_in("lagt_n32")
    c = rng.standard_normal((4, 32))
    ref = np.polynomial.laguerre.lagval(-np.log(z[1:]), c.T)
    assert relative_error(lagt.reconstruct(c, z[1:]), ref) < 1e-12


# ---------------------------------------------------------------------- input checks


def test_bad_inputs_raise_with_a_message_naming_the_problem(package):
    pkg = package("accuracy_legs_n8")
    u = np.zeros(5)
    checks = [
        (lambda: pkg.scan(np.zeros((5, 2, 2))), ValueError, r"u must be 1-D .* got shape \(5, 2, 2\)"),
        (lambda: pkg.scan(np.float64(1.0)), ValueError, r"u must be 1-D"),
        (lambda: pkg.scan(np.arange(5)), TypeError, r"u must be .*float32 or float64, got dtype int"),
        (lambda: pkg.scan(np.array([0.0, np.nan])), ValueError, r"u must be finite.*nan or inf"),
        (lambda: pkg.conv(np.array([0.0, np.inf])), ValueError, r"u must be finite"),
        (lambda: pkg.scan(u, np.zeros(7)), ValueError, r"c0 must have shape \(N,\) = \(8,\)"),
        (lambda: pkg.scan(np.zeros((5, 3)), np.zeros((2, 8))), ValueError, r"c0 must have shape"),
        (lambda: pkg.scan(u, np.full(8, np.nan)), ValueError, r"c0 must be finite"),
        (lambda: pkg.scan_variable(u, np.ones(4)), ValueError, r"delta must have shape \(L,\) = \(5,\)"),
        (lambda: pkg.scan_variable(u, np.zeros(5)), ValueError, r"delta must be > 0.* got 0\.0"),
        (lambda: pkg.scan_variable(u, -1.0), ValueError, r"delta must be > 0"),
        (lambda: pkg.scan_variable(u, np.array([1, 1, 1, 1, 1])), TypeError, r"delta .*float32 or float64"),
        (lambda: pkg.scan_variable(u, np.array([1.0, np.nan, 1, 1, 1])), ValueError, r"delta must be finite"),
        (lambda: pkg.scan_variable(u, np.array([1.0, np.inf, 1, 1, 1])), ValueError, r"delta must be finite"),
        (lambda: pkg.kernel(0), ValueError, r"L must be >= 1"),
        (lambda: pkg.kernel(2.5), TypeError, r"L must be an int"),
        (lambda: pkg.reconstruct(np.zeros(8), np.array([0.5, 1.5])), ValueError, r"z must lie in Z"),
        (lambda: pkg.reconstruct(np.zeros(7), 0.5), ValueError, r"c must have shape"),
        (lambda: pkg.step(np.zeros(7), 1.0), ValueError, r"c must have shape"),
    ]
    for call, error, pattern in checks:
        with pytest.raises(error, match=pattern):
            call()
    scale = package("legs_scale_n64")
    with pytest.raises(ValueError, match=r"t0 must be a finite time >= 0"):
        scale.scan(u, t0=-1.0)
    with pytest.raises(ValueError, match=r"delta must be > 0"):        # the Fourier rotation checks it too
        package("accuracy_fourier_n3").scan_variable(u, np.array([1.0, -1.0, 1, 1, 1]))


# ---------------------------------------------------------------------- slow: more steps at N = 64


@pytest.mark.slow
def test_scan_variable_legs_n64_every_step_distinct(package):
    """legs_n64 with 64 distinct log-uniform steps (shared) and 48 per-channel steps (L = 16, H = 3)."""
    pkg = package("legs_n64")
    rng = np.random.default_rng(10)
    deltas = rng.permutation(log_uniform(rng, 64))
    U = signal(rng, 64, 3)
    c0 = rng.standard_normal((3, 64))
    table = zoh_table("legs", 64, deltas)
    err = relative_error(pkg.scan_variable(U, deltas, c0), loop(per_step(table, deltas), U, c0))
    assert report("legs_n64 scan_variable, 64 distinct steps", err) < VARIABLE_RTOL
    each = log_uniform(rng, 48).reshape(16, 3)
    table = zoh_table("legs", 64, each)
    err = relative_error(pkg.scan_variable(U[:16], each, c0), loop(per_step(table, each), U[:16], c0))
    assert report("legs_n64 scan_variable, per-channel steps", err) < VARIABLE_RTOL


@pytest.mark.slow
def test_scale_warp_forty_steps(package):
    """legs_scale_n64 over 40 steps from t0 = 0 against the exact step matrices."""
    pkg = package("legs_scale_n64")
    U = signal(np.random.default_rng(11), 40, 2)
    ref = loop(lambda t, h: scale_reference(t, 1), U)
    assert report("scale scan, 40 steps", relative_error(pkg.scan(U), ref)) < FIXED_RTOL
