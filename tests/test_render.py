"""The renderer (KernelSpec -> generated package files) and the packages it writes.

Rendering: deterministic text, the two header lines on every file, strict undefined names. Import
and run: one package per per-step lag kind, each checked against an independent reference, never
the code path that produced it: a plain numpy loop over ``spec.A, spec.B`` for the fixed step, and
per step ``model.numeric(Delta, "mpmath", dps=40)`` (or ``model.numeric(Delta, t=t)`` for the scale
warp), certified by symderive's exact route, for ``scan_variable``. The CUDA kernels are compared
with the CPU ones on numba's simulator in ``tests/test_generated_cuda.py``; here (slow, needs
libnvvm) they compile to PTX for the real target.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import re
import subprocess
import sys
from pathlib import Path

import jinja2
import mpmath
import numpy as np
import pytest
import sympy as sp

import symderive as sd
from symderive.codegen import render
from symderive.codegen.render import TEMPLATE_DIR, render_package, template_context
from symderive.codegen.spec import build_spec
from symderive.errors import InputError

from helpers import compile_ptx, cuda_home  # tests/helpers.py (tests/ is on sys.path: conftest.py)

RNG = np.random.default_rng(20251218)


def spec_of(warp, basis, delta="1/100", name="pkg"):
    return build_spec(sd.derive(warp, basis), delta, name)


def write_package(root: Path, spec) -> Path:
    folder = root / spec.name
    folder.mkdir(parents=True)
    for path, text in render_package(spec).items():
        (folder / path).write_text(text)
    return folder


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """Render, write and import a package per case (once per module); returns name -> (model, spec, module)."""
    root = tmp_path_factory.mktemp("generated")
    sys.path.insert(0, str(root))
    built = {}

    def get(name, warp, basis, delta="1/100"):
        if name not in built:
            model = sd.derive(warp, basis)
            spec = build_spec(model, delta, name)
            write_package(root, spec)
            built[name] = (model, spec, importlib.import_module(name))
        return built[name]

    yield get
    sys.path.remove(str(root))


def log_uniform(L, low=1e-5, high=10.0, rng=RNG):
    return np.exp(rng.uniform(np.log(low), np.log(high), L))


def numpy_loop(A, B, u, c0=None):
    """Plain numpy reference of c_t = A c_{t-1} + B u_t; u (L,) or (L, H)."""
    A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
    U = u[:, None] if u.ndim == 1 else u
    c = np.zeros((U.shape[1], len(B))) if c0 is None else np.broadcast_to(c0, (U.shape[1], len(B))).copy()
    out = []
    for row in U:
        c = c @ A.T + row[:, None] * B
        out.append(c)
    out = np.array(out)
    return out[:, 0, :] if u.ndim == 1 else out


def mpmath_steps(model, deltas, u, t0=None):
    """States of the per-step recurrence with certified 40-digit matrices (one channel, c_{-1} = 0)."""
    c = mpmath.matrix(model.N, 1)
    clock = None if t0 is None else sp.Float(t0, 40)
    states = []
    for d, ut in zip(deltas, u):
        delta = sp.Float(float(d), 40)  # the float's exact binary value
        if clock is None:
            A, B = model.numeric(delta, dtype="mpmath", dps=40)
        else:
            A, B = model.numeric(delta, dtype="mpmath", dps=40, t=clock)
            clock = clock + delta
        with mpmath.workdps(40):
            c = mpmath.matrix(A) * c + mpmath.matrix(B) * mpmath.mpf(float(ut))
            states.append([float(x) for x in c])
    return np.array(states)


def relative_error(x, ref):
    """max over steps of ||x_t - ref_t||_inf / ||ref_t||_inf."""
    x, ref = np.asarray(x, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    num = np.abs(x - ref).reshape(len(ref), -1).max(axis=1)
    den = np.abs(ref).reshape(len(ref), -1).max(axis=1)
    return float(np.max(num / den))


# ---------------------------------------------------------------------- rendering


@pytest.fixture(scope="module")
def legs_spec():
    return spec_of(sd.warps.exponential(), sd.bases.legendre(8), "1/100", "legs_test")


def test_rendering_is_deterministic_and_names_its_spec(legs_spec):
    first, second = render_package(legs_spec), render_package(legs_spec)
    assert first == second
    assert sorted(first) == ["__init__.py", "_checks.py", "_cpu.py", "_cuda.py", "_data.py", "torch.py"]
    other = spec_of(sd.warps.exponential(), sd.bases.legendre(8), "1/50", "legs_test")
    assert other.hash != legs_spec.hash
    rendered = render_package(other)
    for path, text in first.items():
        assert text.splitlines()[1] == f"# spec-sha256: {legs_spec.hash}"
        assert rendered[path].splitlines()[1] == f"# spec-sha256: {other.hash}"
    assert "delta=1/50." in rendered["_data.py"].splitlines()[0]


def test_every_file_has_the_header_a_docstring_and_nothing_volatile(legs_spec):
    header = "# Generated by symderive from warp=exponential, basis=legendre, N=8, delta=1/100. Do not edit."
    for path, text in render_package(legs_spec).items():
        lines = text.splitlines()
        assert lines[0] == header, path
        assert lines[1] == f"# spec-sha256: {legs_spec.hash}", path
        tree = ast.parse(text, filename=path)  # valid Python
        assert ast.get_docstring(tree), f"{path} has no module docstring"
        assert str(TEMPLATE_DIR) not in text and "/tmp" not in text and str(Path.home()) not in text
        assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text), f"{path} contains a date"
        assert "{{" not in text and "{%" not in text, f"{path} contains unrendered Jinja"
        assert text.endswith("\n") and not text.endswith("\n\n\n")


def test_floats_round_trip_exactly(legs_spec):
    """A, B and the quadrature nodes are written with repr: the generated literals are the spec's floats."""
    data = render_package(legs_spec)["_data.py"]
    tree = ast.parse(data)
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Call):
            call = node.value
            if call.args and isinstance(call.args[0], (ast.List,)):
                values[node.targets[0].id] = ast.literal_eval(call.args[0])
    assert np.array_equal(np.array(values["A"]), np.array(legs_spec.A))
    assert np.array_equal(np.array(values["B"]), np.array(legs_spec.B))
    assert np.array_equal(np.array(values["NODES"]), np.array(legs_spec.nodes))


def test_strict_undefined_raises_on_a_missing_context_key(legs_spec):
    context = template_context(legs_spec)
    del context["N"]
    with pytest.raises(jinja2.UndefinedError):
        render.environment().get_template("package/_data.py.jinja").render(context)
    assert render.environment().undefined is jinja2.StrictUndefined


def test_time_varying_warp_without_per_step_form_is_refused():
    spec = spec_of(sd.warps.scale(), sd.bases.fourier(3), None, "scale_fourier")
    with pytest.raises(InputError, match="time-varying"):
        render_package(spec)


# ---------------------------------------------------------------------- import and run


def test_dilation_package_legs(packages):
    """exponential x Legendre, N = 8: fixed scan, step, conv, kernel, float32, scan_variable vs mpmath."""
    model, spec, pkg = packages("rt_legs8", sd.warps.exponential(), sd.bases.legendre(8))
    assert pkg.METADATA["variable_kind"] == "dilation" and pkg.METADATA["spec_hash"] == spec.hash
    assert np.array_equal(pkg.A, np.array(spec.A)) and pkg.B.shape == (8,) and pkg.DELTA == 0.01
    U = RNG.standard_normal((300, 3))
    c0 = RNG.standard_normal((3, 8))
    ref = numpy_loop(spec.A, spec.B, U, c0)
    assert relative_error(pkg.scan(U, c0), ref) < 1e-14
    assert relative_error(pkg.scan(U[:, 1]), numpy_loop(spec.A, spec.B, U[:, 1])) < 1e-14
    np.testing.assert_array_equal(pkg.scan_final(U, c0), pkg.scan(U, c0)[-1])
    np.testing.assert_allclose(pkg.step(ref[-2], U[-1]), ref[-1], rtol=1e-14, atol=1e-15)
    assert relative_error(pkg.conv(U, c0), ref) < 1e-12
    K = pkg.kernel(5)
    assert np.allclose(K[3], np.linalg.matrix_power(np.array(spec.A), 3) @ np.array(spec.B), rtol=1e-14)
    low = pkg.scan(U.astype(np.float32), c0)
    assert low.dtype == np.float32 and relative_error(low, ref) < 1e-5
    deltas = log_uniform(10)
    u = RNG.standard_normal(10)
    assert relative_error(pkg.scan_variable(u, deltas), mpmath_steps(model, deltas, u)) < 1e-12
    # per-channel Delta runs the table-free step (the CUDA threads' code): same states
    both = pkg.scan_variable(np.stack([u, -u], 1), np.stack([deltas, deltas], 1))
    assert relative_error(both[:, 1], -pkg.scan_variable(u, deltas)) < 1e-13


def test_translation_package_legt(packages):
    """linear window x Legendre: per-step Delta < window vs mpmath; Delta >= window replaces the window."""
    model, spec, pkg = packages("rt_legt8", sd.warps.linear(), sd.bases.legendre(8))
    assert pkg.METADATA["variable_kind"] == "translation"
    deltas = log_uniform(10, high=0.99)
    u = RNG.standard_normal(10)
    assert relative_error(pkg.scan_variable(u, deltas), mpmath_steps(model, deltas, u)) < 1e-12
    c0 = RNG.standard_normal(8)
    whole = pkg.scan_variable(np.array([2.0]), np.array([3.0]), c0)[0]
    np.testing.assert_allclose(whole, 2.0 * np.eye(8)[0], atol=1e-14)  # A = 0, B = integral p_n = e_0


def test_neglog_package_lagt(packages):
    """exponential x log-Laguerre: Gauss-Laguerre quadrature vs mpmath."""
    model, spec, pkg = packages("rt_lagt8", sd.warps.exponential(), sd.bases.laguerre(8))
    assert pkg.METADATA["variable_kind"] == "neglog"
    deltas = log_uniform(10)
    u = RNG.standard_normal(10)
    assert relative_error(pkg.scan_variable(u, deltas), mpmath_steps(model, deltas, u)) < 1e-12
    z = np.array([0.05, 0.5, 1.0])
    c = RNG.standard_normal(8)
    y = -np.log(z)
    ref = sum(c[n] * np.polynomial.laguerre.lagval(y, np.eye(8)[n]) for n in range(8))
    assert np.allclose(pkg.reconstruct(c, z), ref, rtol=1e-13, atol=1e-13)


def test_scale_package_time_varying(packages):
    """The scale warp: A, B, DELTA are None; scan steps t -> t + 1 from t = 0 (A_0 = 0); vs step_matrices."""
    model, spec, pkg = packages("rt_scale8", sd.warps.scale(), sd.bases.legendre(8), None)
    assert pkg.A is None and pkg.B is None and pkg.DELTA is None and pkg.METADATA["time_varying"] is True
    u = RNG.standard_normal(12)
    ref = []
    c = np.zeros(8)
    for i, ut in enumerate(u):
        if i == 0:
            A, B = np.zeros((8, 8)), np.eye(8)[0]  # empty history; B = integral_0^1 p_n dz
        else:
            A, B = (np.array(M, dtype=np.float64) for M in model.step_matrices(i, exact_result=False))
        c = A @ c + B.ravel() * ut
        ref.append(c)
    assert relative_error(pkg.scan(u), np.array(ref)) < 1e-13
    deltas = log_uniform(8, high=3.0)
    assert relative_error(pkg.scan_variable(u[:8], deltas, t0=0.5),
                          mpmath_steps(model, deltas, u[:8], t0=0.5)) < 1e-11
    with pytest.raises(NotImplementedError, match="time-varying"):
        pkg.conv(u)


def test_fourier_package_with_a_dilation_steps_by_the_general_rule(packages):
    """exponential x fourier: no exact per-step quadrature (the slid modes are not polynomials); the
    general kernel's rule (chosen at export) matches the certified per-step matrices."""
    model, spec, pkg = packages("rt_fourier5", sd.warps.exponential(), sd.bases.fourier(5))
    u = RNG.standard_normal((40, 2))
    assert relative_error(pkg.scan(u), numpy_loop(spec.A, spec.B, u)) < 1e-14
    assert pkg.METADATA["variable_kind"] == "general"
    deltas = log_uniform(6)
    assert relative_error(pkg.scan_variable(u[:6, 0], deltas), mpmath_steps(model, deltas, u[:6, 0])) < 1e-12
    z = np.array([0.1, 0.3])
    c = RNG.standard_normal(5)
    ref = c[0] + np.sqrt(2) * (c[1] * np.cos(2 * np.pi * z) + c[2] * np.sin(2 * np.pi * z)
                               + c[3] * np.cos(4 * np.pi * z) + c[4] * np.sin(4 * np.pi * z))
    assert np.allclose(pkg.reconstruct(c, z), ref, rtol=1e-14, atol=1e-14)


def test_custom_polynomial_basis_of_degree_above_N(packages):
    """1, z^2, z^3 has degree 3 with N = 3: the renderer adds a 4th Gauss node so the quadrature stays exact."""
    model, spec, pkg = packages("rt_custom", sd.warps.exponential(), sd.bases.custom(["1", "z**2", "z**3"]))
    assert len(spec.nodes) == 3 and pkg._cpu.M == 4
    deltas = log_uniform(6)
    u = RNG.standard_normal(6)
    assert relative_error(pkg.scan_variable(u, deltas), mpmath_steps(model, deltas, u)) < 1e-12


def test_input_errors_name_the_input(packages):
    _, _, pkg = packages("rt_legs8", sd.warps.exponential(), sd.bases.legendre(8))
    u = np.zeros((5, 2))
    with pytest.raises(TypeError, match="u must be .*float32 or float64, got dtype int64"):
        pkg.scan(np.arange(5))
    with pytest.raises(ValueError, match=r"u must be 1-D \(L,\) or 2-D \(L, H\).*\(5, 2, 2\)"):
        pkg.scan(np.zeros((5, 2, 2)))
    with pytest.raises(ValueError, match="u must be finite"):
        pkg.scan_variable(np.array([1.0, np.nan]), 0.1)
    with pytest.raises(ValueError, match=r"c0 must have shape \(N,\) = \(8,\) or \(H, N\) = \(2, 8\)"):
        pkg.scan(u, np.zeros(7))
    with pytest.raises(ValueError, match=r"delta must have shape \(L,\) = \(5,\) or \(L, H\) = \(5, 2\)"):
        pkg.scan_variable(u, np.ones(4))
    with pytest.raises(ValueError, match="delta must be > 0"):
        pkg.scan_variable(u, np.zeros(5))
    with pytest.raises(ValueError, match="z must lie in Z"):
        pkg.reconstruct(np.zeros(8), np.array([1.5]))


def legendre_series(c, z):
    """sum_n c[..., n] sqrt(2n+1) P_n(2z - 1) by numpy's Legendre module (z: 1-D)."""
    N = c.shape[-1]
    P = np.stack([np.sqrt(2 * n + 1) * np.polynomial.legendre.legval(2 * z - 1, np.eye(N)[n]) for n in range(N)])
    return c @ P


def test_history_is_the_reconstruction_at_the_z_of_each_lag(packages):
    """history(c, lags) = sum_n c_n p_n(z) at z = f(-lag), against numpy series: exp(-rate lag) for the
    exponential warp (Legendre in z, Laguerre in y = -log z = rate lag), 1 - lag / window for the window
    (NaN beyond it); the shapes and dtype follow c and lags."""
    _, spec, legs = packages("rt_legs8", sd.warps.exponential(), sd.bases.legendre(8))
    assert spec.rate == 1.0
    c = RNG.standard_normal((3, 8))
    lags = np.array([0.0, 0.01, 0.4, 2.5, 30.0])
    np.testing.assert_allclose(legs.history(c, lags), legendre_series(c, np.exp(-lags)), rtol=1e-13, atol=1e-13)
    assert legs.history(c[0], 0.5).shape == () and legs.history(c, np.zeros((2, 4))).shape == (3, 2, 4)
    low = legs.history(c.astype(np.float32), lags)
    assert low.dtype == np.float32 and np.allclose(low, legendre_series(c, np.exp(-lags)), rtol=1e-5, atol=1e-5)
    _, spec, legt = packages("rt_legt8", sd.warps.linear(), sd.bases.legendre(8))
    assert spec.window == 1.0
    lags = np.array([0.0, 0.3, 0.999, 1.0, 1.5])
    values = legt.history(c, lags)
    np.testing.assert_allclose(values[:, :4], legendre_series(c, 1.0 - lags[:4]), rtol=1e-13, atol=1e-13)
    assert np.isnan(values[:, 4]).all()
    _, _, lagt = packages("rt_lagt8", sd.warps.exponential(), sd.bases.laguerre(8))
    lags = np.array([0.0, 0.2, 3.0, 40.0])
    L = np.stack([np.polynomial.laguerre.lagval(lags, np.eye(8)[n]) for n in range(8)])
    np.testing.assert_allclose(lagt.history(c, lags), c @ L, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="lags must be >= 0"):
        legs.history(c, [-0.1])
    with pytest.raises(TypeError, match="lags must be a number or an array of float32 or float64"):
        legs.history(c, np.array([1, 2]))


def test_history_without_a_rate_or_window_says_why(packages):
    """The time-varying scale warp, and a warp whose spec gives no rate or window, raise and point to reconstruct."""
    _, _, scale = packages("rt_scale8", sd.warps.scale(), sd.bases.legendre(8), None)
    with pytest.raises(NotImplementedError, match=r"history: the scale warp is time-varying.*reconstruct\(c, z\)"):
        scale.history(np.zeros(8), [0.5])
    spec = dataclasses.replace(spec_of(sd.warps.exponential(), sd.bases.legendre(3), "1/10", "rt_nolag"),
                               rate=None, window=None)
    tree = ast.parse(render_package(spec)["_cpu.py"])
    (reason,) = [ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                 and getattr(node.targets[0], "id", None) == "NO_HISTORY_REASON"]
    assert "not a dilation" in reason and "reconstruct(c, z)" in reason


def test_importing_a_package_does_not_import_numba_cuda(tmp_path):
    folder = write_package(tmp_path, spec_of(sd.warps.exponential(), sd.bases.legendre(4), "1/10", "rt_nocuda"))
    code = f"import sys; sys.path.insert(0, {str(folder.parent)!r}); import rt_nocuda; " \
           "print('numba.cuda' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------- CUDA


def test_cuda_functions_explain_a_missing_gpu(packages):
    from numba import cuda
    if cuda.is_available():
        pytest.skip("a CUDA device (or the simulator) is available here")
    _, _, pkg = packages("rt_legs8", sd.warps.exponential(), sd.bases.legendre(8))
    with pytest.raises(RuntimeError, match="CUDA is not available.*NUMBA_ENABLE_CUDASIM"):
        pkg.scan_cuda(np.zeros(4))


# ---------------------------------------------------------------------- slow: N = 64, PTX


@pytest.mark.slow
@pytest.mark.parametrize("name, warp, basis, high", [
    ("rt_legs64", sd.warps.exponential(), sd.bases.legendre(64), 10.0),
    ("rt_legt64", sd.warps.linear(), sd.bases.legendre(64), 0.99),
    ("rt_lagt32", sd.warps.exponential(), sd.bases.laguerre(32), 10.0),
    ("rt_lagt64", sd.warps.exponential(), sd.bases.laguerre(64), 10.0),
])
def test_scan_variable_large_N_against_mpmath(packages, name, warp, basis, high):
    model, spec, pkg = packages(name, warp, basis)
    deltas = log_uniform(10, high=high)
    u = RNG.standard_normal(10)
    assert relative_error(pkg.scan_variable(u, deltas), mpmath_steps(model, deltas, u)) < 1e-11


# the kernels' arguments, as helpers.compile_ptx spells them:
# fixed step (u, A, B, c0, out, final, yR, CT, D, mode), yR (R, L, H) of u's dtype like out;
# chunked fixed step (u, A, B, c0, T, first, ends, out, yR, CT, D, mode), (power, ends, carries, final),
# (A, T, first, carries, out, yR, CT, mode);
# per step (u, delta, per_channel, t0, nodes, weights, sqrtw, V, table, c0, out, final, keep)
PTX_SIGNATURES = {"_scan_fixed_kernel": "u a2 a1 a2 out a2 out a2 a1 i64",
                  "_chunk_local_kernel": "u a2 a1 a2 i64 i64 a3 out out a2 a1 i64",
                  "_chunk_carry_kernel": "a2 a3 a3 a2",
                  "_chunk_carry_in_kernel": "a2 i64 i64 a3 out out a2 i64",
                  "_scan_steps_kernel": "u a2 i64 f64 a1 a1 a1 a2 a2 a2 out a2 bool",
                  "_bridge_forward_kernel": "u3 u3 bool u3 bool v1 u3 i64 u3 a4 a3 a1 a1 a1 a1 a1 a2 a2",
                  "_bridge_backward_kernel": ("u3 u3 bool u3 bool v1 a4 i64 a3 a3 a3 a3 a4 a2 a3 a3 a2 a1 a1 a1 a1 a1 a1 "
                                              "a2 a2")}


@pytest.mark.slow
def test_cuda_kernels_compile_to_ptx(tmp_path):
    """The real CUDA target (not the simulator) types and lowers every kernel, without a GPU (needs libnvvm)."""
    home = cuda_home()
    if home is None:
        pytest.skip("no CUDA toolkit (libnvvm, libdevice) found")
    names = []
    for name, warp, basis, delta in [("ptx_legs", sd.warps.exponential(), sd.bases.legendre(8), "1/100"),
                                     ("ptx_legt", sd.warps.linear(), sd.bases.legendre(8), "1/100"),
                                     ("ptx_scale_lagt", sd.warps.scale(), sd.bases.laguerre(4), None),
                                     ("ptx_fourier", sd.warps.exponential(), sd.bases.fourier(3), "1/100")]:
        write_package(tmp_path, spec_of(warp, basis, delta, name))
        names.append(name)
    out = compile_ptx(tmp_path, names, PTX_SIGNATURES, home)
    assert out.returncode == 0, out.stderr[-3000:]
    # 2 dtypes x (fixed, 4 kernels each: legs, legt, fourier; per-step: legs, legt, scale, fourier (general);
    # the selective scan's forward and backward: legs, legt)
    assert out.stdout.count(" ok") == 2 * (3 * 4 + 4 + 2 * 2)
