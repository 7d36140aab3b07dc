"""The kernel spec: everything a generated package needs, as plain data, computed once in Python.

``build_spec(model, delta, name)`` rounds the derived matrices **once** (``model.numeric``: certified
ball arithmetic on the exact route) and collects the data the kernels use at run time:

- ``A``, ``B``: the fixed-step lag matrices ``A_Delta``, ``B_Delta`` (float64), for stationary warps;
- ``A_gen``, ``B_gen``: the generator (for the scale warp, at ``t = 1``);
- ``variable_kind``: how ``scan_variable`` evaluates the lag operator for a per-step ``Delta``, in its
  geometric form "evaluate the reconstruction, slide it, project it back" (MATH.md section 5), with
  ``N``-point Gauss quadrature, exact for these polynomial integrands:

  * ``"dilation"`` (exponential warp, or the scale warp per step; basis polynomial in ``z``):
    ``q = exp(-rate Delta)``, ``(A c)_n = q sum_j w_j p_n(q x_j) sum_k p_k(x_j) c_k``,
    ``B_n = (1 - q) sum_j w_j p_n(q + (1 - q) x_j)`` (Gauss-Legendre nodes ``x_j`` on [0, 1]);
  * ``"translation"`` (linear window; basis polynomial in ``z``): ``s = min(Delta / window, 1)``,
    ``(A c)_n = (1 - s) sum_j w_j p_n((1 - s) x_j) sum_k p_k((1 - s) x_j + s) c_k``,
    ``B_n = s sum_j w_j p_n(1 - s + s x_j)``;
  * ``"neglog"`` (exponential warp with log-Laguerre functions, ``y = -log z``): ``D = rate Delta``,
    ``(A c)_n = e^{-D} sum_j w_j L_n(u_j + D) sum_k L_k(u_j) c_k`` (Gauss-Laguerre nodes ``u_j``),
    ``B_0 = 1 - e^{-D}``, ``B_n = e^{-D} (D / n) L^{(1)}_{n-1}(D)``;
  * ``None``: the model admits no per-step ``Delta`` in this form (Fourier bases, non-affine lag maps).

- ``basis_kind`` and its evaluation data (``reconstruct`` and the kernels): ``"legendre"``
  (``p_n(z) = sqrt(2n+1) P_n(2z - 1)`` by the three-term recurrence), ``"laguerre"`` (``L_n(-log z)``),
  ``"fourier"`` (``modes``), ``"polynomial"`` (``coefficients`` in the coordinate, for custom bases).

Quadrature nodes and weights are computed with mpmath at 50 digits and rounded once. The spec hash is
the SHA-256 of the spec's canonical JSON (floats written with ``float.hex``), so equal specs give
byte-identical packages.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import keyword
import re
import sys
from dataclasses import asdict, dataclass

import numpy as np
import sympy as sp

from ..derivation import quadrature
from ..derivation.arb_eval import midpoint
from ..derivation.model import LagModel
from ..errors import InputError
from ..inputs.warps import exact_rate_or_window

SPEC_VERSION = 1
_SMALLEST_WEIGHT = 1e-290      # Gauss-Laguerre weights below this are too close to float64 underflow
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}", re.ASCII)   # used with fullmatch: no trailing newline


@dataclass(frozen=True)
class KernelSpec:
    """Plain data for one generated package (module docstring). Matrices are tuples of float rows."""

    name: str
    warp: str
    basis: str
    N: int
    delta: float | None            # fixed step (None for the time-varying scale warp)
    delta_exact: str | None
    time_varying: bool
    route: str
    A: tuple | None
    B: tuple | None
    A_gen: tuple
    B_gen: tuple
    variable_kind: str | None
    rate: float | None             # dilation / neglog: q = exp(-rate * Delta)
    window: float | None           # translation: s = Delta / window
    basis_kind: str
    coordinate: str                # "z" or "neglog" (y = -log z) or "z" for Fourier
    modes: tuple                   # Fourier: ((kind, m), ...); else ()
    coefficients: tuple            # "polynomial": p_n(y) = sum_i coefficients[n][i] y^i; else ()
    nodes: tuple                   # Gauss nodes (Legendre on [0, 1], or Laguerre on [0, oo)); () if unused
    weights: tuple
    variable_note: str | None = None   # why scan_variable is unavailable, when a special reason applies
    spec_version: int = SPEC_VERSION

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, floats as ``float.hex`` (exact and platform independent)."""
        return json.dumps(_canonical(asdict(self)), sort_keys=True, separators=(",", ":"))

    @functools.cached_property
    def hash(self) -> str:
        """SHA-256 of :meth:`to_json` (computed once: the spec is frozen)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()


def _canonical(value):
    if isinstance(value, float):
        return value.hex()
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    return value


@functools.lru_cache(maxsize=1)
def _taken_names() -> dict:
    """``{top-level module name: why a package may not take it}``: the standard library, the modules built
    into the interpreter, the installed distributions' top-level packages, and ``symderive`` itself.

    Computed once per process (reading the installed distributions takes ~0.1 s). Only names that exist
    for every interpreter session count: a package that symderive exported earlier into some folder is not
    looked up (``importlib.util.find_spec`` would find it and block its re-export).
    """
    taken = {}
    try:
        installed = importlib.metadata.packages_distributions()
    except Exception:  # noqa: BLE001 - broken metadata of some distribution: check the other names
        installed = {}
    for module, distributions in installed.items():
        taken[module] = f"the installed distribution {', '.join(sorted(set(distributions)))} (its top-level package)"
    for module in sys.builtin_module_names:
        taken[module] = "a module built into the Python interpreter"
    for module in getattr(sys, "stdlib_module_names", ()):
        taken[module] = "a module of the Python standard library"
    taken["symderive"] = "symderive itself"
    return taken


def check_name(name: str) -> str:
    """A package name must be an ASCII Python identifier (not a keyword), at most 64 characters, and not
    the name of a standard-library, built-in or installed top-level module, nor ``symderive`` (a package
    of such a name would shadow that module, or be shadowed by it, on import)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or keyword.iskeyword(name):
        raise InputError(f"--name must be a Python identifier (ASCII letters, digits, _; not starting with a digit; "
                         f"not a keyword; at most 64 characters), got {name!r}")
    why = _taken_names().get(name)
    if why is not None:
        raise InputError(f"--name {name!r} is taken by {why}: a generated package of that name would shadow it or be "
                         f"shadowed by it on import; choose another name, e.g. {name + '_ssm'!r}")
    return name


def _rows(M) -> tuple:
    return tuple(tuple(float(x) for x in row) for row in np.asarray(M, dtype=np.float64))


def _column(B) -> tuple:
    return tuple(float(x) for x in np.asarray(B, dtype=np.float64).reshape(-1))


_RULE_BITS = 200   # the rules are computed at this precision, then rounded once to float64


def _rounded(values) -> tuple:
    """Balls rounded once to the nearest float64 (from their exact midpoints, as mpmath rounds)."""
    return tuple(float(midpoint(x)) for x in values)


@functools.lru_cache(maxsize=32)
def gauss_legendre_01(N: int) -> tuple[tuple, tuple]:
    """``N``-point Gauss-Legendre nodes (ascending) and weights on [0, 1], rounded once from the numeric
    route's ball rule (:func:`symderive.derivation.quadrature.gauss_legendre`; cached: every member of a
    bank asks for the same rule)."""
    nodes, weights = quadrature.gauss_legendre(N, _RULE_BITS)
    return _rounded(nodes), _rounded(weights)


@functools.lru_cache(maxsize=32)
def gauss_laguerre(N: int) -> tuple[tuple, tuple]:
    """``N``-point Gauss-Laguerre nodes and weights (weight ``e^{-u}`` on [0, oo)), rounded once from the
    numeric route's ball rule (:func:`symderive.derivation.quadrature.gauss_laguerre`). Weights below
    float64's range round to 0 (the caller checks the smallest)."""
    nodes, weights = quadrature.gauss_laguerre(N, _RULE_BITS)
    return _rounded(nodes), _rounded(weights)


def _rate_or_window(model: LagModel):
    """The scalar that turns ``Delta`` into the lag parameter, from the exact warp (or None): ``(rate,
    None)`` for a dilation, ``(None, window)`` for a window translation, ``(1.0, None)`` for the
    time-varying scale warp; only for models on an exact lag route (``model.lag_kind``)."""
    if model.warp.time_varying:
        return 1.0, None
    if model.lag_kind is None:
        return None, None
    geometry = exact_rate_or_window(model.warp)
    if geometry is None:
        return None, None
    kind, value = geometry
    value = float(sp.N(value, 30))
    return (value, None) if kind == "dilation" else (None, value)


def build_spec(model: LagModel, delta, name: str) -> KernelSpec:
    """The :class:`KernelSpec` of ``model`` at the fixed step ``delta`` (ignored for time-varying warps)."""
    name = check_name(name)
    N = model.N
    basis = model.basis
    A_gen, B_gen = model.numeric_generator()
    if model.warp.time_varying:
        A = B = None
        delta_f = delta_exact = None
        route = model.lag_route()
    else:
        if delta is None:
            raise InputError(f"the {model.warp.spec} warp is stationary: give the fixed step --delta")
        exact_delta = model._check_delta(delta, None)
        if exact_delta.free_symbols:
            raise InputError(f"--delta must be a number, got {delta!r}")
        pair = model.numeric(exact_delta)
        A, B = _rows(pair.A), _column(pair.B)
        delta_exact = sp.sstr(exact_delta)
        delta_f = float(sp.N(exact_delta, 30))
        route = pair.route
    form = basis.polynomial_form
    if basis.fourier_modes is not None:
        basis_kind, coordinate, modes, coeffs = "fourier", "z", tuple(basis.fourier_modes), ()
    elif basis.name in ("legendre", "laguerre") and form is not None:
        basis_kind, coordinate, modes, coeffs = basis.name, form.coordinate, (), ()
    elif form is not None:
        scale = [1 / np.sqrt(float(x)) for x in form.norm_sq]
        coeffs = tuple(tuple(float(c) * scale[n] for c in row) for n, row in enumerate(form.coeffs))
        basis_kind, coordinate, modes = "polynomial", form.coordinate, ()
    else:
        raise InputError(f"export supports polynomial (legendre, laguerre, custom polynomial) and fourier bases; "
                         f"{basis.spec} has no polynomial or Fourier form")
    rate, window = _rate_or_window(model)
    variable_kind = None
    if basis_kind in ("legendre", "laguerre", "polynomial") and model.lag_kind is not None:
        if model.lag_kind == "dilation" and rate is not None:
            variable_kind = "dilation"
        elif model.lag_kind == "translation" and window is not None:
            variable_kind = "translation"
        elif model.lag_kind == "neglog-translation" and rate is not None and basis_kind == "laguerre":
            variable_kind = "neglog"
    variable_note = None
    if variable_kind in ("dilation", "translation"):
        nodes, weights = gauss_legendre_01(N)
    elif variable_kind == "neglog":
        nodes, weights = gauss_laguerre(N)
        if min(weights) < _SMALLEST_WEIGHT:
            variable_kind, nodes, weights = None, (), ()
            variable_note = (f"the {N}-point Gauss-Laguerre weights underflow float64 (the smallest is below "
                             f"{_SMALLEST_WEIGHT:g}; this happens above N ~ 175), so the per-step log-Laguerre "
                             "lag cannot be evaluated accurately; use scan with the fixed step DELTA")
    else:
        nodes = weights = ()
    return KernelSpec(
        name=name, warp=model.warp.spec, basis=basis.spec, N=N, delta=delta_f, delta_exact=delta_exact,
        time_varying=model.warp.time_varying, route=route, A=A, B=B, A_gen=_rows(A_gen), B_gen=_column(B_gen),
        variable_kind=variable_kind, rate=rate, window=window, basis_kind=basis_kind, coordinate=coordinate,
        modes=modes, coefficients=coeffs, nodes=nodes, weights=weights, variable_note=variable_note)
