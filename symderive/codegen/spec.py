"""The kernel spec: everything a generated package needs, as plain data, computed once in Python.

``build_spec(model, delta, name)`` rounds the derived matrices **once** (``model.numeric``: certified
ball arithmetic on the exact route) and collects the data the kernels use at run time:

- ``A``, ``B``: the fixed-step lag matrices ``A_Delta``, ``B_Delta`` (float64), for stationary warps;
- ``A_gen``, ``B_gen``: the generator (for the scale warp, at ``t = 1``);
- ``variable_kind``: how ``scan_variable`` evaluates the lag operator for a per-step ``Delta``, in its
  geometric form "evaluate the reconstruction, slide it, project it back" (docs/math.md, section 6); the first
  three use ``N``-point Gauss quadrature, exact for their polynomial integrands:

  * ``"dilation"`` (exponential warp, or the scale warp per step; basis polynomial in ``z``):
    ``q = exp(-rate Delta)``, ``(A c)_n = q sum_j w_j p_n(q x_j) sum_k p_k(x_j) c_k``,
    ``B_n = (1 - q) sum_j w_j p_n(q + (1 - q) x_j)`` (Gauss-Legendre nodes ``x_j`` on [0, 1]);
  * ``"translation"`` (linear window; basis polynomial in ``z``): ``s = min(Delta / window, 1)``,
    ``(A c)_n = (1 - s) sum_j w_j p_n((1 - s) x_j) sum_k p_k((1 - s) x_j + s) c_k``,
    ``B_n = s sum_j w_j p_n(1 - s + s x_j)``;
  * ``"neglog"`` (exponential warp with log-Laguerre functions, ``y = -log z``): ``D = rate Delta``,
    ``(A c)_n = e^{-D} sum_j w_j L_n(u_j + D) sum_k L_k(u_j) c_k`` (Gauss-Laguerre nodes ``u_j``),
    ``B_0 = 1 - e^{-D}``, ``B_n = e^{-D} (D / n) L^{(1)}_{n-1}(D)``;
  * ``"rotation"`` (linear window with the Fourier basis): ``s = min(Delta / window, 1)``; sliding the
    reconstruction by ``s`` rotates each pair ``(cos 2 pi m z, sin 2 pi m z)`` by the angle ``2 pi m s``
    exactly, and ``A c`` is the rotated coefficients times the closed-form Gram matrix of the modes on
    ``[0, 1 - s]``; ``B_n = integral_{1-s}^1 p_n dz`` in closed form;
  * ``"general"`` (any other stationary warp; basis in ``z``, any weight, or in ``y = -log z``): the printed lag map
    (``lag_code``, :mod:`.printer`) at the nodes of an ``M``-point Gauss-Legendre rule on
    ``[0, z_Delta]`` through ``z = z_Delta u**power``, and on ``[z_Delta, 1]``; ``M`` is chosen by
    convergence and checked against ``A``, ``B`` (:mod:`.step_rule`), valid up to ``delta_max``;
  * ``None``: the model admits no per-step ``Delta`` (time-varying non-affine warps, ``variable_note``).

- ``basis_kind`` and its evaluation data (``reconstruct`` and the kernels): ``"legendre"``
  (``p_n(z) = sqrt(2n+1) P_n(2z - 1)`` by the three-term recurrence), ``"laguerre"`` (``L_n(-log z)``),
  ``"fourier"`` (``modes``), ``"polynomial"`` (``coefficients`` in the coordinate, for custom bases),
  ``"printed"`` (any other custom basis in ``z``: its orthonormal functions as printed code, ``basis_code``).

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

import mpmath
import numpy as np
import sympy as sp

from ..derivation import lag_derivative
from ..derivation.model import ROUTE_EXACT, LagModel
from ..errors import DerivationError, InputError
from . import step_rule
from ..symbols import DELTA, Y_POS, Z
from .printer import PrintedFunction, UnprintableExpression, print_function, print_functions
from .rules import SMALLEST_WEIGHT, gauss_laguerre, gauss_legendre_01  # noqa: F401 (re-exported: render, tests)

SPEC_VERSION = 1
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
    window: float | None           # translation, rotation: s = Delta / window; general: the support's length
    basis_kind: str
    coordinate: str                # "z" or "neglog" (y = -log z) or "z" for Fourier
    modes: tuple                   # Fourier: ((kind, m), ...); else ()
    coefficients: tuple            # "polynomial": p_n(y) = sum_i coefficients[n][i] y^i; else ()
    nodes: tuple                   # Gauss nodes (Legendre on [0, 1], or Laguerre on [0, oo)); () if unused
    weights: tuple
    variable_note: str | None = None   # why scan_variable is unavailable, when a special reason applies
    basis_code: tuple = ()         # "printed": the custom basis functions as printed code (.printer)
    lag_code: tuple = ()           # "general": the printed _lag_map, _cutoff, _cutoff_complement (.printer)
    power: int = 1                 # "general": the substitution z = z_Delta u**power on [0, z_Delta]
    delta_max: float | None = None  # "general": the largest step the rule was verified for (inf: any)
    delta_min: float | None = None  # "general": the smallest step the rule was verified for
    derivative_route: str | None = None   # d/dDelta of the lag matrices: "closed" or "quadrature" (None: none)
    derivative_note: str | None = None    # why there is no derivative route
    G_int: tuple = ()              # "closed": the interior generator <p_m, v p_k'>_w (lag_derivative)
    p_one: tuple = ()              # p(1), the basis at the present
    D_basis: tuple = ()            # "quadrature": p_k' = sum_m D[m, k] p_m
    velocity_code: tuple = ()      # "quadrature": the printed _velocity(z) = 1/g'(z)
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


def _rate_or_window(model: LagModel):
    """The scalar that turns ``Delta`` into the lag parameter, from the warp's exact geometry (or None):
    ``(rate, None)`` for a dilation, ``(None, window)`` for a window translation, ``(1.0, None)`` for the
    time-varying scale warp; only for models on an exact lag route (``model.lag_kind``)."""
    if model.warp.time_varying:
        return 1.0, None
    constant = model.warp.geometry.affine_constant
    if model.lag_kind is None or constant is None:
        return None, None
    kind, value = constant
    value = float(sp.N(value, 30))
    return (value, None) if kind == "dilation" else (None, value)


def _printed(function: PrintedFunction) -> tuple:
    """A printed function as plain data: (name, arguments, assignments, result, formula)."""
    return (function.name, function.arguments, function.assignments, function.result, function.formula)


def _general_step(model: LagModel, basis_kind, data, coordinate, delta_f, A, B):
    """``(nodes, weights, power, (delta_min, delta_max), lag_code, note)`` of the general per-step kernel of a
    stationary warp (:mod:`.step_rule`), or empty values and the reason it has none. For a basis in
    ``y = -log z`` the lag map and cutoff are printed in ``y``."""
    geometry = model.warp.geometry
    none = ((), (), 1, (None, None), ())
    weight = model.basis.weight
    if not geometry.printable:
        return (*none, f"the lag map of {model.warp.spec} did not simplify within symderive's limit for kernel "
                       "code (an unsimplified form could cancel), so it is not printed; use scan with the fixed "
                       "step DELTA")
    if weight != 1 and coordinate != "z":
        return (*none, "the basis in y = -log z has a weight other than 1, which the per-step quadrature kernel "
                       "in y does not carry; use scan with the fixed step DELTA")
    try:
        if coordinate == "z":
            lag_code = (_printed(print_function("_lag_map", geometry.lag_map, (Z, DELTA))),
                        _printed(print_function("_cutoff", geometry.cutoff, (DELTA,))),
                        _printed(print_function("_cutoff_complement", geometry.cutoff_complement, (DELTA,))),
                        _printed(print_function("_weight", weight, (Z,))))
        else:
            lag_y, cut_y, printable = geometry.neglog_forms
            if not printable:
                return (*none, f"the lag map of {model.warp.spec} in y = -log z did not simplify within "
                               "symderive's limit for kernel code, so it is not printed; use scan with the fixed "
                               "step DELTA")
            lag_code = (_printed(print_function("_lag_map", lag_y, (Y_POS, DELTA))),
                        _printed(print_function("_cutoff", cut_y, (DELTA,))))
    except UnprintableExpression as exc:
        return (*none, f"the lag map cannot be printed into a kernel ({exc}); use scan with the fixed step DELTA")
    rule = step_rule.choose_rule(geometry, basis_kind, data, model.N, delta_f, A, B, coordinate, weight)
    if isinstance(rule, str):
        return (*none, rule)
    return rule.nodes, rule.weights, rule.power, (rule.delta_min, rule.delta_max), lag_code, None


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
    basis_code = ()
    if basis.fourier_modes is not None:
        basis_kind, coordinate, modes, coeffs = "fourier", "z", tuple(basis.fourier_modes), ()
    elif basis.name in ("legendre", "laguerre") and form is not None:
        basis_kind, coordinate, modes, coeffs = basis.name, form.coordinate, (), ()
    elif form is not None:
        scale = [1 / np.sqrt(float(x)) for x in form.norm_sq]
        coeffs = tuple(tuple(float(c) * scale[n] for c in row) for n, row in enumerate(form.coeffs))
        basis_kind, coordinate, modes = "polynomial", form.coordinate, ()
    else:
        basis_kind, coordinate, modes, coeffs = "printed", "z", (), ()
        try:
            basis_code = _printed(print_functions("_basis_row", basis.functions, (Z,)))
        except UnprintableExpression as exc:
            raise InputError(f"export needs the functions of the basis {basis.spec} as kernel code, and {exc}; "
                             "built-in bases (legendre, laguerre, fourier) and custom bases with Numba-printable "
                             "functions can be exported") from None
    rate, window = _rate_or_window(model)
    geometry = model.warp.geometry
    variable_kind, variable_note = None, None
    nodes = weights = lag_code = ()
    power, delta_min, delta_max = 1, None, None
    if basis_kind in ("legendre", "laguerre", "polynomial") and model.lag_kind is not None:
        if model.lag_kind == "dilation" and rate is not None:
            variable_kind = "dilation"
        elif model.lag_kind == "translation" and window is not None:
            variable_kind = "translation"
        elif model.lag_kind == "neglog-translation" and rate is not None and basis_kind == "laguerre":
            variable_kind = "neglog"
    if (variable_kind is None and basis_kind == "fourier" and geometry.kind == "translation"
            and geometry.window is not None):
        variable_kind = "rotation"
        window = float(sp.N(geometry.window, 30))
    elif variable_kind is None and not model.warp.time_varying:
        data = {"legendre": N, "laguerre": N, "polynomial": coeffs, "fourier": modes,
                "printed": basis.functions if basis_kind == "printed" else None}[basis_kind]
        nodes, weights, power, (delta_min, delta_max), lag_code, variable_note = _general_step(
            model, basis_kind, data, coordinate, delta_f, A, B)
        variable_kind = "general" if variable_note is None else None
        if variable_kind == "general" and geometry.max_delta != sp.oo:
            window = float(sp.N(geometry.max_delta, 30))     # the support: longer steps are clamped to it
    if variable_kind in ("dilation", "translation"):
        nodes, weights = gauss_legendre_01(N)
    elif variable_kind == "neglog":
        nodes, weights = gauss_laguerre(N)
        if min(weights) < SMALLEST_WEIGHT:
            variable_kind, nodes, weights = None, (), ()
            variable_note = (f"the {N}-point Gauss-Laguerre weights underflow float64 (the smallest is below "
                             f"{SMALLEST_WEIGHT:g}; this happens above N ~ 175), so the per-step log-Laguerre "
                             "lag cannot be evaluated accurately; use scan with the fixed step DELTA")
    derivative = _derivative(model, variable_kind, coordinate, None if model.warp.time_varying else exact_delta)
    return KernelSpec(
        name=name, warp=model.warp.spec, basis=basis.spec, N=N, delta=delta_f, delta_exact=delta_exact,
        time_varying=model.warp.time_varying, route=route, A=A, B=B, A_gen=_rows(A_gen), B_gen=_column(B_gen),
        variable_kind=variable_kind, rate=rate, window=window, basis_kind=basis_kind, coordinate=coordinate,
        modes=modes, coefficients=coeffs, nodes=nodes, weights=weights, variable_note=variable_note,
        lag_code=lag_code, power=power, delta_max=delta_max, delta_min=delta_min, basis_code=basis_code,
        **derivative)


def _derivative(model: LagModel, variable_kind, coordinate, exact_delta) -> dict:
    """The spec fields of ``d/dDelta`` (:mod:`..derivation.lag_derivative`): the closed route's interior
    generator and ``p(1)``, checked against the generator (``A_gen = G_int - B_gen p(1)^T``) and, on the exact
    lag route, against a 50-digit central difference of the certified lag matrices at ``DELTA``; or the
    quadrature route's derivative matrix and printed velocity; or the reason there is none."""
    def none(reason):
        return {"derivative_route": None, "derivative_note": reason}
    if model.warp.time_varying:
        return none("the warp is time-varying: its step matrices depend on the clock as well as on Delta, and "
                    "d/dDelta is derived for stationary warps only")
    if variable_kind is None:
        return none("the package has no per-step Delta (scan_variable), so there is nothing to differentiate")
    dps = 40
    if variable_kind == "general" and coordinate != "z":
        return none("the per-step kernel works in y = -log z with a printed lag map; d/dDelta is derived for "
                    "the affine lag forms and for general warps with a basis in z")
    velocity = {}
    if variable_kind == "general":
        try:
            velocity = {"velocity_code": _printed(print_function("_velocity", model.warp.velocity(), (Z,)))}
        except UnprintableExpression as exc:
            return none(f"the velocity of the warp cannot be printed into a kernel ({exc})")
    reason = lag_derivative.closure(model)
    if reason is None:
        G = lag_derivative.interior_generator(model, dps)
        p1 = lag_derivative.p_one(model, dps)
        Ag, Bg = model.numeric_generator("mpmath", dps=dps)
        with mpmath.workdps(dps):
            gap = mpmath.mnorm(G - Bg * p1.T - Ag, 1)
            scale = 1 + mpmath.mnorm(Ag, 1)
        if gap > mpmath.mpf(10) ** (-25) * scale:
            raise DerivationError(f"d/dDelta of {model.warp.spec} x {model.basis.spec}: the interior generator "
                                  f"disagrees with A_gen by {mpmath.nstr(gap, 3)} (A_gen = G_int - B_gen p(1)^T)")
        if model.lag_route() == ROUTE_EXACT and exact_delta is not None:
            _check_derivative(model, exact_delta)
        return {"derivative_route": lag_derivative.ROUTE_CLOSED, "G_int": _rows(_mp_float(G)),
                "p_one": _column(_mp_float(p1)), **velocity}
    if variable_kind == "general" and model.basis.polynomial_form is not None:
        try:
            D = lag_derivative.derivative_matrix(model, dps)
        except InputError as exc:
            return none(f"{reason}, and the quadrature route needs {exc}")
        return {"derivative_route": lag_derivative.ROUTE_QUADRATURE, "D_basis": _rows(_mp_float(D)),
                "p_one": _column(_mp_float(lag_derivative.p_one(model, dps))), **velocity}
    return none(f"{reason}; the quadrature route needs the general per-step kernel and a basis polynomial in z")


def _mp_float(M) -> np.ndarray:
    return np.array([[float(M[i, j]) for j in range(M.cols)] for i in range(M.rows)], dtype=np.float64)


def _check_derivative(model: LagModel, exact_delta) -> None:
    """The closed route's ``dA/dDelta, dB/dDelta`` at the package's step against a central difference of the
    certified lag matrices at 50 digits (step 1e-15: error about 1e-30); a disagreement is an error."""
    delta = exact_delta
    h = sp.Rational(1, 10**15)
    dA, dB = lag_derivative.numeric_lag_derivative(model, delta, dps=50)
    Ap, Bp = model.numeric(delta + h, dtype="mpmath", dps=50)
    Am, Bm = model.numeric(delta - h, dtype="mpmath", dps=50)
    with mpmath.workdps(50):
        hm = mpmath.mpf(1) / 10**15
        gap = max(mpmath.mnorm((Ap - Am) / (2 * hm) - dA, 1), mpmath.mnorm((Bp - Bm) / (2 * hm) - dB, 1))
        scale = 1 + mpmath.mnorm(dA, 1)
    if gap > mpmath.mpf(10) ** (-20) * scale:
        raise DerivationError(f"d/dDelta of {model.warp.spec} x {model.basis.spec} at Delta = {sp.sstr(delta)}: the closed "
                              f"route and a 50-digit central difference disagree by {mpmath.nstr(gap, 3)}")
