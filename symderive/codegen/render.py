"""Render a :class:`~symderive.codegen.spec.KernelSpec` into the files of a generated Python package.

``render_package(spec)`` returns ``{relative path: file text}`` for a package with Numba CPU kernels
(``_cpu.py``) and numba.cuda kernels (``_cuda.py``); writing the files is the caller's job.

Every number and every decision is made here, in :func:`template_context`: floats are printed with
``repr`` (which round-trips a float64 exactly), matrices as nested lists of those strings, and the
model-dependent pieces of code are picked by template *name* (one small template per basis kind,
lag parameterization and per-step lag form). The templates under ``templates/package/`` hold
layout only: a choice of code is a template conditional on a flag or a number decided here. Output
depends on the spec alone (no dates, versions or paths), so rendering twice gives byte-identical text
and a diff of a generated package means a change of its spec.

Bank packages (:mod:`.render_bank`) are built from the same kernel templates: every kernel is written
once over R blocks of NM states, a single package being the one-block case. What they share with this
module is its public part: :func:`environment`, :func:`block_layout` (the blocks' sizes, padding and
lower-triangular flags), :func:`basis_parts` (a member's basis table, description and quadrature rule),
:func:`no_variable_reason`, :func:`history_kind`; the values are printed by :mod:`.printing`.
"""

from __future__ import annotations

import importlib.resources
import math
from fractions import Fraction
from pathlib import Path

import jinja2

from ..errors import InputError
from . import printing
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
    "torch.py": "package/torch.py.jinja",
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

# The printing helpers live in .printing (shared with render_bank); the short names below are this
# module's spelling of them.
_float = printing.float_literal
_string_literal_lines = printing.string_literal_lines
_vector = printing.vector
_matrix = printing.matrix
_lines = printing.grouped
_matrix_lines = printing.matrix_lines
_comment_text = printing.comment_text


# ---------------------------------------------------------------------- the decisions


def _lag_template(spec: KernelSpec) -> str | None:
    """How a step ``Delta`` turns into the lag parameters of ``spec.variable_kind`` (template name)."""
    kind = spec.variable_kind
    if kind is None:
        return None
    if kind in ("translation", "rotation"):
        return "package/lag/window_translation.py.jinja"
    clock = "scale" if spec.time_varying else "stationary"
    return f"package/lag/{clock}_{kind}.py.jinja"


def _no_variable_reason(spec: KernelSpec) -> str:
    """Why ``scan_variable`` is unavailable, as one sentence for its NotImplementedError."""
    if spec.variable_note:
        return spec.variable_note
    return (f"the lag of the {spec.warp} warp with the {spec.basis} basis has no per-step kernel; use scan "
            "with the fixed step DELTA")


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
    - polynomial: the orthonormal coefficients, low degree first;
    - printed: the index n only (the functions are printed code, ``basis_code``).

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
    if spec.basis_kind == "printed":
        return [[_float(n)] for n in range(N)]       # the printed _basis_row reads no table: row n holds n
    return _matrix(spec.coefficients)


def _scan_variable_notes(spec: KernelSpec) -> list[str]:
    """Model-specific lines of the scan_variable docstring."""
    if spec.variable_kind in ("translation", "rotation"):
        return [f"Window {_float(spec.window)}: s = min(Delta / window, 1), so Delta >= window replaces the "
                "whole window (A = 0)."]
    if spec.variable_kind == "general":
        support = (f" Steps beyond the support's length {_float(spec.window)} are clamped to it (the whole "
                   "window is replaced)." if spec.window is not None else "")
        top = ("inf" if spec.delta_max is None or not math.isfinite(spec.delta_max) else _float(spec.delta_max))
        verified = (f"steps in [DELTA_MIN, DELTA_MAX] = [{_float(spec.delta_min or 0.0)}, {top}] (others raise "
                    "ValueError)")
        return [f"General lag map (printed: _lag_map, _cutoff): the Gauss rule was chosen at export for {verified}",
                f"and checked against the derived A, B at DELTA.{support}"]
    if spec.time_varying:
        return ["Time-varying warp: the clock starts at ``t0`` (default 0: an empty history, so the first",
                "step has A = 0) and row t steps clock -> clock + Delta_t."]
    return []


def _device_functions(spec: KernelSpec) -> list[str]:
    """The CPU kernels whose Python source _cuda.py compiles as CUDA device functions (callees first)."""
    if spec.variable_kind is None:
        return []
    if spec.variable_kind == "rotation":
        names = ["_translation_parameters", "_lag_parameters", "_cos_integral", "_sin_integral", "_mode_integral",
                 "_extended_integral", "_rotate_add",
                 "_window_input", "_lag_step"]
        if spec.derivative_route:
            names = ["_basis_row"] + names + ["_translation_cutoff"]
    else:
        names = ["_basis_row"]
        if spec.variable_kind == "general":
            names += [function[0] for function in spec.lag_code]
            names += [spec.velocity_code[0]] if spec.velocity_code else []
        names += _affine_step(spec)
        names.append("_lag_parameters")
        if spec.variable_kind == "neglog":
            names.append("_neglog_input")
        names.append("_lag_step")
        if spec.derivative_route and spec.variable_kind != "general":
            names.append(f"_{spec.variable_kind}_cutoff")
    if spec.derivative_route:      # the selective scan's steps (package/cpu/adjoint.py.jinja)
        names += ["_lag_cutoff", "_lag_adjoint", "_bridge_step", "_bridge_adjoint_step"]
    return names


def _variable_template(spec: KernelSpec) -> str | None:
    """The per-step lag form: one template per kind (general: one per basis coordinate)."""
    if spec.variable_kind is None:
        return None
    suffix = "_neglog" if spec.variable_kind == "general" and spec.coordinate == "neglog" else ""
    return f"package/variable/{spec.variable_kind}{suffix}.py.jinja"


def _affine_step(spec: KernelSpec) -> list[str]:
    """The shared lag-parameter functions (templates/package/lag/affine.py.jinja) a stationary affine
    per-step form calls (the scale warp computes its own)."""
    if spec.time_varying or spec.variable_kind not in ("dilation", "translation", "neglog"):
        return []
    return ["_dilation_parameters", "_translation_parameters", "_neglog_parameters"]


def _modes_count(spec: KernelSpec) -> int:
    """The extended Fourier modes a rotation works on: const, cos m, sin m up to the highest frequency."""
    return 2 * max(int(m) for _, m in spec.modes) + 1


def _lag_functions(spec: KernelSpec) -> list[dict]:
    """The printed warp functions of a general per-step kernel, ready for the template: the lag map, cutoff,
    ... (``lag_code``) and, when the package differentiates in Delta, the velocity ``v(z) = 1/g'(z)``."""
    printed = list(spec.lag_code) + ([spec.velocity_code] if spec.velocity_code else [])
    return [{"name": name, "arguments": ", ".join(arguments), "assignments": list(assignments), "result": result,
             "formula": _comment_text(f"{name[1:]}({', '.join(arguments)}) = {formula}")}
            for name, arguments, assignments, result, formula in printed]


def derivative_context(spec: KernelSpec) -> dict:
    """Values of the reverse-mode kernels (package/cpu/adjoint.py.jinja) and the PyTorch bridge."""
    route = spec.derivative_route
    reason = spec.derivative_note or "this package has no derivative route"
    return {
        "derivative_route": route,
        "derivative_route_text": repr(route),
        "G_int": _matrix_lines(spec.G_int) if route == "closed" else [],
        "D_basis": _matrix_lines(spec.D_basis) if route == "quadrature" else [],
        "p_one": _lines(_vector(spec.p_one)) if route else [],
        "no_derivative_reason": _string_literal_lines(reason if route is None else ""),
        # the block adjoint (package/cpu/adjoint.py.jinja) exists for the dilation and translation forms
        "bridge_blocks": route is not None and spec.variable_kind in ("dilation", "translation"),
    }


def _basis_function(spec: KernelSpec) -> dict:
    """The printed functions of a custom basis (``basis_kind`` "printed"), ready for the template."""
    if spec.basis_kind != "printed":
        return {"basis_function": None}
    _name, arguments, assignments, results, formula = spec.basis_code
    return {"basis_function": {"assignments": list(assignments), "results": list(results),
                               "formulas": [_comment_text(f"p_{n}(z) = {f}") for n, f in
                                            enumerate(formula.split("; "))]}}


def _general_context(spec: KernelSpec) -> dict:
    """Values of the general per-step kernel: the printed functions, the substitution power, the clamp of
    a finite window (steps beyond it replace the whole window) and the verified range of steps (inf: any)."""
    general = spec.variable_kind == "general"
    delta_max = spec.delta_max if general and spec.delta_max is not None else math.inf
    clamp = general and spec.window is not None
    return {
        "lag_functions": _lag_functions(spec) if general else [],
        "power": str(int(spec.power)),
        "power_less_one": str(int(spec.power) - 1),
        "delta_clamp": _float(spec.window) if clamp else None,
        "delta_max": _float(delta_max) if math.isfinite(delta_max) else "_np.inf",   # printed in _checks.py
        "delta_min": _float(spec.delta_min) if general and spec.delta_min else "0.0",
    }


CHANNEL_BLOCK = 32          # channels per block of the CPU scan kernel for H > 1 (innermost, vectorized)
MIN_BLOCKED_CHANNELS = 8    # below this many channels the CPU scan runs one channel (bank: one member's) per job


def _round_up(n: int, multiple: int) -> int:
    """``n`` rounded up to a multiple of ``multiple`` (the kernels' zero-padded sizes)."""
    return -(-n // multiple) * multiple


def _lower_triangular(rows) -> bool:
    """Whether every entry above the diagonal of ``rows`` is exactly zero (the kernels then skip them)."""
    return all(float(x) == 0.0 for n, row in enumerate(rows) for x in row[n + 1:])


def _variable_lower(spec: KernelSpec) -> bool:
    """Whether A(Delta) of the per-step lag is lower triangular for every Delta: a dilation or a shift of
    y = -log z maps a polynomial of degree n to one of degree n, so it is for a degree-graded basis
    (Legendre, Laguerre, or any basis whose fixed A is exactly lower triangular). The per-step kernels
    then set the upper triangle to exactly 0 and skip it."""
    if spec.variable_kind not in ("dilation", "neglog"):
        return False
    return spec.basis_kind in ("legendre", "laguerre") or (spec.A is not None and _lower_triangular(spec.A))


def _scan_layout(spec: KernelSpec) -> dict:
    """The state's layout for the kernels (one block: the whole state, :func:`block_layout`)."""
    return block_layout(int(spec.N), [spec.A], bank=False)


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
        "printed": "p_n(z) as printed in _basis_row (custom basis, orthonormalized exactly)",
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
        "basis_kind": basis_kind,        # the per-step kernels' channel-block helpers specialize on it
    }


def block_layout(size: int, blocks, bank: bool) -> dict:
    """How the kernels lay out a state made of ``len(blocks)`` blocks of ``size`` states each: a single
    package is one block (the whole state), a bank one block per member (``blocks``: each block's fixed
    ``A`` as rows, or None for a time-varying warp).

    The fixed-step CPU kernels (templates/package/cpu/fixed_blocks) work on each block's A and B
    zero-padded to ``NP`` rows and columns (``size`` rounded up to a multiple of 8), so every pass over
    the state handles whole groups of 8 or 4 entries; ``NC`` is ``size`` rounded up to 4, where the
    columns of a dense row stop. ``lower`` prints the blocks' flags "A is lower triangular" (one bool
    for a single package, a tuple for a bank): the kernels then skip the zero upper triangle in aligned
    groups. Only exact zeros are skipped, so every sum has the terms of A c in order. ``bank`` selects
    the bank's form of the kernels shared with single packages (a member index, parallel members).
    """
    flags = [rows is not None and _lower_triangular(rows) for rows in blocks]
    return {
        "bank": bool(bank),
        "R": str(len(flags)),
        "NM": str(int(size)),
        "NP": str(_round_up(int(size), 8)),
        "NC": str(_round_up(int(size), 4)),
        "lower": printing.tuple_literal(repr(flag) for flag in flags) if bank else repr(flags[0]),
        "lower_triangular": all(flags),
        "channel_block": str(CHANNEL_BLOCK),
        "min_blocked_channels": str(MIN_BLOCKED_CHANNELS),
    }


def history_kind(spec: KernelSpec) -> str | None:
    """How ``history`` maps a lag (time before the present) to the coordinate ``z = f(-lag)`` of the
    warp ``f``, from the spec's numbers: ``"dilation"`` where it gives a rate (``z = exp(-rate lag)``),
    ``"translation"`` where it gives a window (``z = 1 - lag / window``), None otherwise (a time-varying
    warp, whose map depends on the time of the state, and every other warp). The window of a general
    per-step kernel is the length of the warp's support, not a translation window: a general kernel
    has ``"general"``, the printed cutoff ``z = f(-lag)`` (``_cutoff``; in ``y = -log z`` for a basis in
    ``y``), with lags beyond a finite support giving NaN."""
    if spec.time_varying:
        return None
    if spec.variable_kind == "general":
        return "general"
    if spec.rate is not None:
        return "dilation"
    if spec.window is not None:
        return "translation"
    return None


def history_context(spec: KernelSpec) -> dict:
    """``history_kind`` (see :func:`history_kind`), printed as the one block's ``KINDS`` tuple, and, where it
    is None, the reason ``history`` raises."""
    kind = history_kind(spec)
    if kind is not None:
        reason = ""
    elif spec.time_varying:
        reason = (f"the {spec.warp} warp is time-varying: the point z that a lag maps to depends on the time of "
                  "the state, which the state does not record; evaluate reconstruct(c, z) at the z of the lag")
    else:
        reason = (f"the lag -> z map of the {spec.warp} warp is not a dilation z = exp(-rate lag) or a window "
                  "translation z = 1 - lag / window, the two this package evaluates; evaluate "
                  "reconstruct(c, z) at z = f(-lag) of the warp f")
    return {"history_kind": kind, "history_kinds": printing.tuple_literal([repr(kind)]) if kind else "()",
            "no_history_reason": _string_literal_lines(reason) if reason else []}


def basis_parts(spec: KernelSpec, quadrature: bool = True) -> dict:
    """The basis of ``spec``'s package as the templates print it, for a package that shares it (the
    members of a bank have one basis): :func:`basis_context` (with the quadrature rule of the per-step
    lag when ``quadrature``, else none), ``M`` (its number of nodes) and the basis description."""
    nodes, weights = _quadrature(spec) if quadrature else ((), ())
    return {**basis_context(nodes, weights, _basis_table(spec), spec.basis_kind), "M": str(len(nodes)),
            "basis_description": _basis_description(spec)}


def no_variable_reason(spec: KernelSpec) -> str:
    """Why ``spec``'s package has no ``scan_variable`` (one sentence, as its NotImplementedError says)."""
    return _no_variable_reason(spec)


def template_context(spec: KernelSpec) -> dict:
    """Every value the templates print, as ready-to-print strings, and the names of the templates to include."""
    if spec.time_varying and spec.variable_kind is None:
        raise InputError(f"cannot export {spec.warp} x {spec.basis}: the warp is time-varying (no fixed A, B) and "
                         "its lag has no per-step quadrature form, so no kernel could step it")
    if spec.basis_kind not in ("legendre", "laguerre", "fourier", "polynomial", "printed"):
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
        "M": str(_modes_count(spec) if spec.variable_kind == "rotation" else len(nodes)),
        "metadata": [(repr(key), value) for key, value in sorted(metadata.items())],
        "fixed": fixed,
        "time_varying": bool(spec.time_varying),
        "variable": variable,
        "variable_kind_text": spec.variable_kind if variable else "none",
        "variable_lower": repr(_variable_lower(spec)),
        "variable_unit": {"rotation": "Fourier modes, rotated exactly",
                          "general": "Gauss nodes of the rule chosen at export"}.get(
                              spec.variable_kind, "Gauss nodes, exact for these integrands"),
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
        **history_context(spec),
        "channel_block": str(CHANNEL_BLOCK),
        "min_blocked_channels": str(MIN_BLOCKED_CHANNELS),
        "rate": _float(spec.rate) if spec.rate is not None else "None",
        "window": _float(spec.window) if spec.window is not None else "None",
        **basis_context(nodes, weights, table, spec.basis_kind),
        "lag_template": _lag_template(spec),
        **_general_context(spec),
        **_basis_function(spec),
        **derivative_context(spec),
        "variable_template": _variable_template(spec),
        "cpu_fixed_template": ("package/cpu/fixed_stationary.py.jinja" if fixed
                               else "package/cpu/fixed_time_varying.py.jinja"),
        "cpu_variable_template": ("package/cpu/variable_scan.py.jinja" if variable
                                  else "package/cpu/variable_none.py.jinja"),
        "cuda_fixed_template": ("package/cuda/fixed_stationary.py.jinja" if fixed
                                else "package/cuda/fixed_time_varying.py.jinja"),
        "cuda_variable_template": ("package/cuda/variable_scan.py.jinja" if variable
                                   else "package/cuda/variable_none.py.jinja"),
    }
