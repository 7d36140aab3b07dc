"""Render a :class:`~symderive.codegen.spec.KernelSpec` into the files of a generated Python package.

``render_package(spec)`` returns ``{relative path: file text}`` for a package with Numba CPU kernels
(``_cpu.py``) and numba.cuda kernels (``_cuda.py``); writing the files is the caller's job.

Every number and every decision is made here, in :func:`template_context`: floats are printed with
``repr`` (which round-trips a float64 exactly), matrices as nested lists of those strings, and the
model-dependent pieces of code are picked by template *name* (one small template per basis kind,
lag parameterization and per-step lag form). The templates under ``templates/package/`` hold
layout only. Output depends on the spec alone (no dates, versions or paths), so rendering twice gives
byte-identical text and a diff of a generated package means a change of its spec.
"""

from __future__ import annotations

import importlib.resources
import math
from fractions import Fraction
from pathlib import Path

import jinja2

from ..errors import InputError
from .spec import KernelSpec, gauss_legendre_01

# The repository's top-level templates/ folder, installed as the package data symderive._templates
# (pyproject.toml maps one to the other, for editable and non-editable installs alike).
TEMPLATE_DIR = Path(str(importlib.resources.files("symderive._templates")))

# generated file -> the template that emits it
PACKAGE_FILES = {
    "__init__.py": "package/__init__.py.jinja",
    "_data.py": "package/_data.py.jinja",
    "_checks.py": "package/_checks.py.jinja",
    "_cpu.py": "package/_cpu.py.jinja",
    "_cuda.py": "package/_cuda.py.jinja",
}

_ENV: jinja2.Environment | None = None


def environment() -> jinja2.Environment:
    """The one Jinja environment (built on first use): strict undefined, no autoescape, exact newlines."""
    global _ENV
    if _ENV is None:
        _ENV = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
        )
    return _ENV


def render_package(spec: KernelSpec) -> dict[str, str]:
    """``{relative file path inside the package: file text}`` for ``spec`` (deterministic)."""
    context = template_context(spec)
    env = environment()
    return {path: env.get_template(template).render(context) for path, template in sorted(PACKAGE_FILES.items())}


# ---------------------------------------------------------------------- printing values


def _float(x) -> str:
    """A float64 literal that round-trips exactly (``repr``); non-finite values are refused."""
    value = float(x)
    if not math.isfinite(value):
        raise InputError(f"cannot render a non-finite number {value!r} into a generated package")
    return repr(value)


def _string_literal_lines(text: str, width: int = 90) -> list[str]:
    """``text`` as consecutive Python string literals (``repr`` of pieces split after spaces), one per line."""
    pieces, current = [], ""
    for word in str(text).split(" "):
        if current and len(current) + len(word) + 1 > width:
            pieces.append(current + " ")
            current = word
        else:
            current = f"{current} {word}" if current else word
    pieces.append(current)
    return [repr(piece) for piece in pieces]


def _vector(values) -> list[str]:
    return [_float(x) for x in values]


def _matrix(rows) -> list[list[str]]:
    return [_vector(row) for row in rows]


def _lines(values: list[str], per_line: int = 4) -> list[str]:
    """Literals grouped ``per_line`` to a line, each line ending in a comma (short lines, readable diffs)."""
    return [", ".join(values[i:i + per_line]) + "," for i in range(0, len(values), per_line)]


def _matrix_lines(rows) -> list[list[str]]:
    return [_lines(_vector(row)) for row in rows]


def _comment_text(text: str) -> str:
    """``text`` made safe for a one-line comment and a docstring: printable ASCII, no backslash or quote."""
    out = []
    for ch in str(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append("'")
        elif 32 <= ord(ch) < 127:
            out.append(ch)
        else:
            out.append(f"\\u{ord(ch):04x}")
    return "".join(out)


# ---------------------------------------------------------------------- the decisions


def _lag_template(spec: KernelSpec) -> str | None:
    """How a step ``Delta`` turns into the lag parameters of ``spec.variable_kind`` (template name)."""
    kind = spec.variable_kind
    if kind is None:
        return None
    if kind == "translation":
        return "package/lag/window_translation.py.jinja"
    clock = "scale" if spec.time_varying else "stationary"
    return f"package/lag/{clock}_{kind}.py.jinja"


def _no_variable_reason(spec: KernelSpec) -> str:
    """Why ``scan_variable`` is unavailable, as one sentence for its NotImplementedError."""
    if spec.variable_note:
        return spec.variable_note
    if spec.basis_kind == "fourier":
        return ("the lag of a trigonometric (Fourier) basis is not a polynomial integrand, so no exact "
                "N-point quadrature evaluates A(Delta), B(Delta) for a per-step Delta; use scan "
                "with the fixed step DELTA")
    return (f"the lag map of the {spec.warp} warp with the {spec.basis} basis is not a dilation or "
            "translation of the basis coordinate, so A(Delta), B(Delta) have no exact quadrature form "
            "for a per-step Delta; use scan with the fixed step DELTA")


def _quadrature(spec: KernelSpec) -> tuple[tuple, tuple]:
    """Quadrature nodes and weights, enough for the lag integrands to be integrated exactly.

    The spec's ``N``-point rule is exact for degree ``2N - 1``; a custom polynomial basis of degree
    ``d >= N`` (e.g. ``1, z**2, z**3``) needs ``d + 1`` Gauss-Legendre points, computed here the same
    way as the spec's (50 digits, rounded once), so the package still depends on the spec alone.
    """
    nodes, weights = tuple(spec.nodes), tuple(spec.weights)
    if spec.variable_kind in ("dilation", "translation") and spec.basis_kind == "polynomial":
        degree = max((i for row in spec.coefficients for i, c in enumerate(row) if float(c) != 0.0), default=0)
        if degree + 1 > len(nodes):
            nodes, weights = gauss_legendre_01(degree + 1)
    return nodes, weights


def _basis_table(spec: KernelSpec) -> list[list[str]]:
    """The data the basis evaluation kernel reads (``_data.TABLE``), one row per basis function:

    - legendre: ``(sqrt(2n+1), (2n+1)/(n+1), n/(n+1))``, the scale and three-term recurrence coefficients;
    - laguerre: ``((2n+1)/(n+1), 1/(n+1), n/(n+1))``: ``L_{n+1} = (a_n - c_n y) L_n - b_n L_{n-1}``;
    - fourier: ``(kind, m)`` with kind 0 for cos and 1 for sin;
    - polynomial: the orthonormal coefficients, low degree first.

    Recurrence coefficients are exact rationals rounded once; the kernels then need no division or
    square root per evaluation.
    """
    N = int(spec.N)
    if spec.basis_kind == "legendre":
        return [[_float(math.sqrt(2 * n + 1)), _float(Fraction(2 * n + 1, n + 1)), _float(Fraction(n, n + 1))]
                for n in range(N)]
    if spec.basis_kind == "laguerre":
        return [[_float(Fraction(2 * n + 1, n + 1)), _float(Fraction(1, n + 1)), _float(Fraction(n, n + 1))]
                for n in range(N)]
    if spec.basis_kind == "fourier":
        return [[_float(0.0 if kind == "cos" else 1.0), _float(m)] for kind, m in spec.modes]
    return _matrix(spec.coefficients)


def _scan_variable_notes(spec: KernelSpec) -> list[str]:
    """Model-specific lines of the scan_variable docstring."""
    if spec.variable_kind == "translation":
        return [f"Window {_float(spec.window)}: s = min(Delta / window, 1), so Delta >= window replaces the "
                "whole window (A = 0)."]
    if spec.time_varying:
        return ["Time-varying warp: the clock starts at ``t0`` (default 0: an empty history, so the first",
                "step has A = 0) and row t steps clock -> clock + Delta_t."]
    return []


def _device_functions(spec: KernelSpec) -> list[str]:
    """The CPU kernels whose Python source _cuda.py compiles as CUDA device functions (callees first)."""
    if spec.variable_kind is None:
        return []
    names = ["_basis_row", "_lag_parameters"]
    if spec.variable_kind == "neglog":
        names.append("_neglog_input")
    return names + ["_lag_step"]


CHANNEL_BLOCK = 32          # channels per block of the CPU scan kernel for H > 1 (innermost, vectorized)
MIN_BLOCKED_CHANNELS = 8    # below this many channels the CPU scan runs one channel (bank: one member's) per job


def _round_up(n: int, multiple: int) -> int:
    """``n`` rounded up to a multiple of ``multiple`` (the kernels' zero-padded sizes)."""
    return -(-n // multiple) * multiple


def _lower_triangular(rows) -> bool:
    """Whether every entry above the diagonal of ``rows`` is exactly zero (the kernels then skip them)."""
    return all(float(x) == 0.0 for n, row in enumerate(rows) for x in row[n + 1:])


def _scan_layout(spec: KernelSpec) -> dict:
    """The loop bounds of the fixed-step CPU scan kernels (templates/package/cpu/fixed_stationary).

    The kernels pad A to ``NP`` (``N`` rounded up to a multiple of 8) and skip zeros of A in aligned
    groups. Bounds are printed as compile-time expressions (a bound loaded from a table halves the
    speed of the column kernel): ``column_start``, the first row of the column block ``k .. k + 7``
    (``k`` when A is lower triangular, else ``0``), and ``row_end``, where the columns of row ``n``
    stop, rounded up to a group of 4 (``n + 1`` when lower triangular, else ``N`` rounded up to 4).
    Only exact zeros are skipped, so the sums are those of the full product, term for term.
    """
    N = int(spec.N)
    lower = spec.A is not None and _lower_triangular(spec.A)
    return {"padded_N": str(_round_up(N, 8)), "lower_triangular": lower,
            "column_start": "k" if lower else "0",
            "row_end": "n + 1" if lower else str(_round_up(N, 4))}


def _value_source(spec: KernelSpec) -> str:
    """Where the rounded matrices come from: certified balls (exact route) or converged quadrature."""
    return "a certified value" if spec.route == "exact-linear-algebra" else "a quadrature value (two rules agreeing)"


def _model_lines(spec: KernelSpec) -> list[str]:
    """The package docstring's description of A and B."""
    if spec.A is not None:
        return [f"A = A_Delta, B = B_Delta at the fixed step DELTA = {_comment_text(spec.delta_exact)}, rounded once",
                f"from {_value_source(spec)} (A_GEN, B_GEN: the continuous generator)."]
    return ["A = A_t, B = B_t of the step t -> t + 1 of the time-varying warp, evaluated per step by exact",
            "quadrature (row i of u steps t0 + i -> t0 + i + 1). There are no fixed matrices, so A, B and",
            "DELTA are None, and kernel / conv raise NotImplementedError. A_GEN, B_GEN: the generator at t = 1."]


def _usage_lines(spec: KernelSpec) -> list[str]:
    """Example calls for the package docstring (only the functions this model supports)."""
    lines = ["u = np.random.default_rng(0).standard_normal((1000, 4))   # L = 1000 steps, H = 4 channels",
             "states = m.scan(u)                     # (1000, 4, N)",
             "last = m.scan_final(u)                 # (4, N)"]
    if spec.A is not None:
        lines += ["same = m.conv(u)                       # all states by FFT convolution (the S4 route)",
                  "c = m.step(last, u[-1])               # one more step: A c + B u"]
    if spec.variable_kind is not None:
        lines.append("varied = m.scan_variable(u, np.full(1000, 0.01))   # a per-step Delta_t")
    else:
        lines.append("# scan_variable raises NotImplementedError for this model (see _cpu.NO_VARIABLE_REASON)")
    lines += ["values = m.reconstruct(last, np.linspace(0.01, 1.0, 50))   # (4, 50)",
              "gpu = m.scan_cuda(u)                   # numba.cuda (NUMBA_ENABLE_CUDASIM=1: the simulator)"]
    return lines


def _basis_description(spec: KernelSpec) -> str:
    return {
        "legendre": "p_n(z) = sqrt(2n+1) P_n(2z - 1) (shifted orthonormal Legendre)",
        "laguerre": "p_n(z) = L_n(-log z) (log-Laguerre functions)",
        "fourier": "1, sqrt2 cos(2 pi m z), sqrt2 sin(2 pi m z) (modes (kind, m) in _data.TABLE)",
        "polynomial": ("p_n = sum_i TABLE[n][i] y^i, y = "
                       + ("-log z" if spec.coordinate == "neglog" else "z")
                       + " (custom basis, orthonormalized exactly)"),
    }[spec.basis_kind]


def basis_context(nodes, weights, table, basis_kind: str) -> dict:
    """The quadrature rule, the basis evaluation table and the basis template, printed for the templates
    (shared by single and bank packages)."""
    return {
        "nodes": _lines(_vector(nodes)),
        "weights": _lines(_vector(weights)),
        "table": [_lines(row) for row in table],
        "table_rows": str(len(table)),
        "table_columns": str(len(table[0])),
        "basis_template": f"package/basis/{basis_kind}.py.jinja",
    }


def template_context(spec: KernelSpec) -> dict:
    """Every value the templates print, as ready-to-print strings, and the names of the templates to include."""
    if spec.time_varying and spec.variable_kind is None:
        raise InputError(f"cannot export {spec.warp} x {spec.basis}: the warp is time-varying (no fixed A, B) and "
                         "its lag has no per-step quadrature form, so no kernel could step it")
    if spec.basis_kind not in ("legendre", "laguerre", "fourier", "polynomial"):
        raise InputError(f"unknown basis kind {spec.basis_kind!r} in the kernel spec")
    warp, basis = _comment_text(spec.warp), _comment_text(spec.basis)
    delta_text = _comment_text(spec.delta_exact) if spec.delta_exact is not None else "per step (time-varying warp)"
    nodes, weights = _quadrature(spec)
    fixed = spec.A is not None
    variable = spec.variable_kind is not None
    table = _basis_table(spec)
    metadata = {
        "basis": repr(spec.basis),
        "basis_kind": repr(spec.basis_kind),
        "delta": _float(spec.delta) if spec.delta is not None else "None",
        "delta_exact": repr(spec.delta_exact) if spec.delta_exact is not None else "None",
        "N": str(int(spec.N)),
        "route": repr(spec.route),
        "spec_hash": repr(spec.hash),
        "time_varying": repr(bool(spec.time_varying)),
        "variable_kind": repr(spec.variable_kind) if variable else "None",
        "warp": repr(spec.warp),
    }
    return {
        "header": [
            f"# Generated by symderive from warp={warp}, basis={basis}, N={int(spec.N)}, delta={delta_text}. "
            "Do not edit.",
            f"# spec-sha256: {spec.hash}",
        ],
        "name": spec.name,
        "warp_text": warp,
        "basis_text": basis,
        "delta_text": delta_text,
        "route_text": _comment_text(spec.route),
        "value_source": _value_source(spec),
        "basis_description": _basis_description(spec),
        "model_lines": _model_lines(spec),
        "usage_lines": _usage_lines(spec),
        "N": str(int(spec.N)),
        "M": str(len(nodes)),
        "metadata": [(repr(key), value) for key, value in sorted(metadata.items())],
        "fixed": fixed,
        "time_varying": bool(spec.time_varying),
        "variable": variable,
        "variable_kind_text": spec.variable_kind if variable else "none",
        "scan_variable_notes": _scan_variable_notes(spec),
        "no_variable_reason": _string_literal_lines(_no_variable_reason(spec)),
        "no_fixed_reason": _string_literal_lines(
            f"the {spec.warp} warp is time-varying: each step t -> t + 1 has its own A_t, B_t, so there is no "
            "fixed kernel A^k B to convolve with; use scan"),
        "device_functions": repr(tuple(_device_functions(spec))),
        "neglog_coordinate": repr(spec.coordinate == "neglog"),
        "is_neglog": spec.coordinate == "neglog",
        "delta": _float(spec.delta) if fixed else "None",
        "delta_exact": repr(spec.delta_exact) if fixed else "None",
        "A": _matrix_lines(spec.A) if fixed else [],
        "B": _lines(_vector(spec.B)) if fixed else [],
        "A_gen": _matrix_lines(spec.A_gen),
        "B_gen": _lines(_vector(spec.B_gen)),
        **_scan_layout(spec),
        "channel_block": str(CHANNEL_BLOCK),
        "min_blocked_channels": str(MIN_BLOCKED_CHANNELS),
        "rate": _float(spec.rate) if spec.rate is not None else "None",
        "window": _float(spec.window) if spec.window is not None else "None",
        **basis_context(nodes, weights, table, spec.basis_kind),
        "lag_template": _lag_template(spec),
        "variable_template": f"package/variable/{spec.variable_kind}.py.jinja" if variable else None,
        "cpu_fixed_template": ("package/cpu/fixed_stationary.py.jinja" if fixed
                               else "package/cpu/fixed_time_varying.py.jinja"),
        "cpu_variable_template": ("package/cpu/variable_scan.py.jinja" if variable
                                  else "package/cpu/variable_none.py.jinja"),
        "cuda_fixed_template": ("package/cuda/fixed_stationary.py.jinja" if fixed
                                else "package/cuda/fixed_time_varying.py.jinja"),
        "cuda_variable_template": ("package/cuda/variable_scan.py.jinja" if variable
                                   else "package/cuda/variable_none.py.jinja"),
    }
