"""Time warps: maps of the history onto Z = (0, 1].

A *stationary* warp is ``sigma_t(s) = f(s - t)`` with ``f`` increasing from 0 to 1 on its support
``(x_min, 0]`` (``x_min = -theta`` for a finite window, ``-inf`` otherwise) and inverse ``g = f^{-1}``.
Stepping from ``t`` to ``t + Delta`` moves a point with new coordinate ``z`` back to

    lambda_Delta(z) = f(g(z) + Delta)          (the lag map, defined for z <= z_Delta = f(-Delta))

and differentiating at ``Delta = 0`` gives the velocity ``v(z) = f'(g(z)) = 1 / g'(z)`` that enters the
generator (docs/math.md, sections 2-3).

The time-varying *scale* warp ``sigma_t(s) = s / t`` on ``[0, t]`` (original HiPPO-LegS) has lag map
``z (t + Delta) / t``, cutoff ``t / (t + Delta)`` and velocity ``z / t``.

Every warp reports the *structure* of its lag map, which decides the derivation route:
``"dilation"`` (``lambda(z) = z / z_Delta``), ``"translation"`` (``lambda(z) = z + 1 - z_Delta``) or
``None`` (anything else).
"""

from __future__ import annotations

import functools

import mpmath
import sympy as sp

from .._limits import SymbolicTimeout, active_budget, budget, time_limit
from ..errors import InputError
from ..symbols import DELTA, T, X, Z  # noqa: F401 (T: kept as warps.T, the time of a time-varying warp)
from ..symbols import Z_POS as _ZPOS
from .geometry import LagGeometry, lag_geometry
from .expressions import as_expression, parse_expression
from .sampling import mp_function

_XNONPOS = sp.Symbol("x", nonpositive=True)
_MONOTONE_SAMPLES = 400
_CONFIRM_SAMPLES = 64


class Warp:
    """Common interface of all warps; see the module docstring for the formulas."""

    name: str
    time_varying: bool = False
    structure: str | None = None

    def __init__(self, name: str, params: dict | None = None, spec: str | None = None):
        self.name = name
        self.params = dict(params or {})
        self._spec = spec

    @property
    def spec(self) -> str:
        if self._spec:
            return self._spec
        if not self.params:
            return self.name
        return self.name + ":" + ",".join(f"{k}={sp.sstr(v)}" for k, v in self.params.items())

    def __repr__(self) -> str:
        return f"Warp({self.spec!r})"

    def cutoff(self, delta, t=None) -> sp.Expr:
        """``z_Delta``: new coordinates above it are the newest ``Delta`` of time."""
        raise NotImplementedError

    def lag_map(self, delta, t=None) -> sp.Expr:
        """``lambda_Delta(z)``: the old coordinate of the point with new coordinate ``z``."""
        raise NotImplementedError

    def velocity(self, t=None) -> sp.Expr:
        """``v(z) = d lambda_Delta(z) / d Delta`` at ``Delta = 0``."""
        raise NotImplementedError

    def max_delta(self):
        """Largest admissible step (the window length for finite windows, else ``oo``)."""
        return sp.oo

    @functools.cached_property
    def geometry(self) -> LagGeometry:
        """What a step does to the coordinate, decided once (:func:`symderive.inputs.geometry.lag_geometry`)."""
        return lag_geometry(self)

    @property
    def support(self) -> str:
        """The part of the history the warp maps onto (0, 1], relative to the present."""
        raise NotImplementedError


class StationaryWarp(Warp):
    """``sigma_t(s) = f(s - t)`` with ``f`` (in ``x``) increasing from 0 at ``x_min`` to 1 at 0.

    ``x_min`` is ``-theta`` for a finite window or ``-oo``; ``g`` is the inverse of ``f`` (in ``z``).
    """

    def __init__(self, name, f, g, x_min, *, params=None, spec=None, structure="detect", checks=()):
        super().__init__(name, params, spec)
        self.f = f
        self.g = g
        self.x_min = x_min
        self.checks = tuple(checks)
        if structure == "detect":
            structure = _detect_structure(self)
        self.structure = structure
        self.geometry    # decided now, before other steps use the budget (inputs/geometry.py: own time limits)

    def cutoff(self, delta, t=None):
        value = self.f.subs(X, -delta)
        try:
            with time_limit():
                return sp.simplify(value)
        except SymbolicTimeout:
            return value

    def lag_map(self, delta, t=None):
        return _simplify_in_z(self.f.subs(X, self.g + delta))

    @functools.cached_property
    def _velocity(self):
        return _simplify_in_z(sp.diff(self.f, X).subs(X, self.g))

    def velocity(self, t=None):
        return self._velocity

    def max_delta(self):
        return -self.x_min

    @property
    def support(self) -> str:
        """``(-inf, 0]`` or the window ``[x_min, 0]`` in ``x = s - t``."""
        return "(-inf, 0]" if self.x_min == -sp.oo else f"[{sp.sstr(self.x_min)}, 0]"


class ScaleWarp(Warp):
    """The time-varying scale warp ``sigma_t(s) = s / t`` on ``[0, t]`` (original HiPPO-LegS).

    Its generator at time ``t`` is ``1/t`` times the generator of the exponential warp of rate 1, so
    ``A_gen`` and ``B_gen`` of this warp are reported at ``t = 1``: ``dc/dt = (A_gen c + B_gen u) / t``.
    """

    time_varying = True
    structure = "dilation"

    def __init__(self):
        super().__init__("scale")

    def _t(self, t):
        if t is None:
            raise InputError("the scale warp is time-varying: give the current time t (> 0) for lag matrices")
        return _positive_number(t, "t")

    def cutoff(self, delta, t=None):
        t = self._t(t)
        return t / (t + delta)

    def lag_map(self, delta, t=None):
        t = self._t(t)
        return Z * (t + delta) / t

    def velocity(self, t=None):
        return Z / (1 if t is None else self._t(t))

    @property
    def support(self) -> str:
        """The whole history since time 0: ``[0, t]`` in ``s``."""
        return "[0, t]"


def _simplify_in_z(expr):
    """Simplify with ``z > 0`` (so that ``exp(log z) = z``), keeping the canonical real ``z``."""
    try:
        with time_limit():
            return sp.simplify(expr.subs(Z, _ZPOS)).subs(_ZPOS, Z)
    except SymbolicTimeout:
        return expr


def _positive_number(value, name: str) -> sp.Expr:
    """An exact positive SymPy number from a Python number, string or SymPy value."""
    if isinstance(value, bool):
        raise InputError(f"{name} must be a positive number, got {value!r}")
    if isinstance(value, str):
        try:
            expr = parse_expression(value, "x", what=name)
        except InputError as exc:
            if any(word in str(exc) for word in ("digits", "range", "too large", "bits", "not a real")):
                raise      # a size or reality limit says more than "not a number"
            raise InputError(f"{name} must be a number, got {value!r} (a number > 0 such as 0.01, 1e-3 or "
                             "1/100)") from None
        if expr.free_symbols:
            raise InputError(f"{name} must be a number, got {value!r}")
    elif isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InputError(f"{name} must be a finite positive number, got {value!r}")
        expr = sp.Rational(repr(value)) if isinstance(value, float) else sp.Integer(value)
    elif isinstance(value, sp.Expr):
        expr = value
    else:
        raise InputError(f"{name} must be a positive number, got {type(value).__name__}")
    if expr.free_symbols:
        return expr  # a symbol (e.g. Delta) is accepted as is
    if not (expr.is_real and expr.is_finite and expr.is_positive):
        raise InputError(f"{name} must be a finite positive number, got {sp.sstr(expr)}")
    return expr


def exponential(rate=1) -> StationaryWarp:
    """``f(x) = exp(rate * x)`` on ``(-oo, 0]``: HiPPO-LegS with Legendre (docs/math.md, section 4.3)."""
    theta = _positive_number(rate, "exponential warp rate")
    f = sp.exp(theta * X)
    g = sp.log(Z) / theta
    params = {"rate": theta} if theta != 1 else {}
    return StationaryWarp("exponential", f, g, -sp.oo, params=params, structure="dilation",
                          checks=("built-in",))


def linear(window=1) -> StationaryWarp:
    """``f(x) = 1 + x / window`` on ``[-window, 0]``: HiPPO-LegT with Legendre."""
    theta = _positive_number(window, "linear warp window")
    f = 1 + X / theta
    g = theta * (Z - 1)
    params = {"window": theta} if theta != 1 else {}
    return StationaryWarp("linear", f, g, -theta, params=params, structure="translation",
                          checks=("built-in",))


def scale() -> ScaleWarp:
    """The time-varying scale warp ``s / t`` on ``[0, t]`` (original scale-invariant HiPPO-LegS)."""
    return ScaleWarp()


def custom(f, inverse=None) -> StationaryWarp:
    """A stationary warp from an expression ``f`` in ``x`` (string or SymPy), validated.

    Checks: ``f(0) = 1``; ``f`` reaches 0 at a finite ``x_min < 0`` (a window) or as ``x -> -oo``;
    ``f`` is increasing on ``(x_min, 0)``. The inverse ``g`` is solved symbolically unless given
    (``inverse``, an expression in ``z``), and checked either way.
    """
    with budget():
        return _custom(f, inverse)


def _budget_note() -> str:
    """Why a symbolic check may have failed: the derivation's budget was spent (empty when it was not)."""
    b = active_budget()
    if b is not None and b.spent:
        return (f" ({b.describe()} before this could be decided: raise --budget or SYMDERIVE_BUDGET, "
                "or give the inverse)")
    return ""


def _on_support(expr, variable, assumed):
    """``expr`` with ``variable`` replaced by a symbol carrying the sign it has on the domain
    (``x <= 0`` for ``f``, ``z > 0`` for ``g``), and back: ``abs(x)`` becomes ``-x``, ``sqrt(z**2)``
    becomes ``z``. Exact, no simplification; the warp is only ever evaluated there."""
    return expr.xreplace({variable: assumed}).xreplace({assumed: variable})


def _custom(f, inverse) -> StationaryWarp:
    f = as_expression(f, "x", what="warp f")
    spec = f"f={sp.sstr(f)}"
    f = _on_support(f, X, _XNONPOS)
    checks = []
    try:
        with time_limit():
            f0 = sp.simplify(f.subs(X, 0))
    except SymbolicTimeout:
        raise InputError(f"warp f: SymPy could not evaluate f(0){_budget_note() or ''}; simplify f") from None
    if f0 != 1:
        raise InputError(f"warp f: f(0) must equal 1 (the present maps to z = 1), got f(0) = {sp.sstr(f0)}")
    x_min = _support_start(f)
    checks.append("f(0) = 1 (exact)")
    checks.append(_check_increasing(f, x_min))
    if inverse is None:
        g = _solve_inverse(f, x_min)
        checks.append("inverse g solved symbolically and checked")
    else:
        g = as_expression(inverse, "z", what="warp inverse g")
        spec += f";g={sp.sstr(g)}"
        g = _on_support(g, Z, _ZPOS)
        _check_inverse(f, g, x_min)
        checks.append("user inverse g checked: f(g(z)) = z")
    return StationaryWarp("custom", f, g, x_min, spec=spec, checks=checks)


def _support_start(f) -> sp.Expr:
    """``x_min``: the largest zero of ``f`` below 0, or ``-oo`` when ``f -> 0`` only as ``x -> -oo``."""
    xneg = sp.Symbol("x", negative=True)
    fn = f.subs(X, xneg)
    try:
        with time_limit():
            zeros = sp.solveset(fn, xneg, sp.Interval.open(-sp.oo, 0))
    except (NotImplementedError, ValueError, TypeError, SymbolicTimeout):
        zeros = None
    if isinstance(zeros, sp.FiniteSet) and len(zeros) > 0:
        real = [r for r in zeros if r.is_real]
        if real:
            return max(real, key=lambda r: float(r))
    if zeros is not None and zeros is not sp.S.EmptySet and not isinstance(zeros, sp.FiniteSet):
        raise InputError(f"warp f: could not locate where f reaches 0 (solutions {sp.sstr(zeros)}); "
                         "use a warp that reaches 0 at one x < 0 or only as x -> -oo" + _budget_note())
    try:
        with time_limit():
            # SymPy 1.14 returns oo for limit(2**x, x, -oo); the exp form gives the right 0
            lim = sp.limit(f.rewrite(sp.exp), X, -sp.oo)
    except (NotImplementedError, ValueError, SymbolicTimeout):
        lim = None
    if lim == 0:
        return -sp.oo
    note = _budget_note()
    if note:
        raise InputError(f"warp f: could not decide where f reaches 0{note}")
    raise InputError(
        f"warp f: f must reach 0 at some x < 0 (a finite window) or tend to 0 as x -> -oo "
        f"(f never reaches 0 below x = 0; its limit at -oo is {sp.sstr(lim)})")


def _sample_points(x_min, count):
    """Points of ``(x_min, 0)``: uniform for a window, ``-tan`` spread over ``(-oo, 0)`` otherwise."""
    u = [mpmath.mpf(i) / (count + 1) for i in range(1, count + 1)]
    if x_min == -sp.oo:
        return [-mpmath.tan(mpmath.pi / 2 * ui) for ui in u]
    lo = mpmath.mpf(sp.N(x_min, 30))
    return [lo * ui for ui in u]


def _check_increasing(f, x_min) -> str:
    """Exact when SymPy decides ``f' <= 0`` has no interval of solutions; else sampled (and said so)."""
    df = sp.diff(f, X)
    interval = sp.Interval.open(x_min, 0)
    try:
        with time_limit():
            bad = sp.solveset(df < 0, X, interval)
            flat = sp.solveset(sp.Eq(df, 0), X, interval)
        decided = not isinstance(bad, sp.ConditionSet) and not isinstance(flat, sp.ConditionSet)
    except (NotImplementedError, ValueError, TypeError, SymbolicTimeout):
        decided = False
    if decided:
        if bad is not sp.S.EmptySet:
            raise InputError(f"warp f: f must be increasing on its support {sp.sstr(interval)}, "
                             f"but f' = {sp.sstr(df)} < 0 on {sp.sstr(bad)}")
        if isinstance(flat, sp.FiniteSet) or flat is sp.S.EmptySet:
            # a second, independent route: the values themselves (real, in (0, 1], f' > 0) at sample points
            _sample_increasing(f, df, x_min, _CONFIRM_SAMPLES, proved=True)
            if flat is sp.S.EmptySet:
                return "f increasing on its support (exact: f' > 0 there)"
            return "f increasing on its support (exact: f' > 0 there except at isolated points)"
        raise InputError(f"warp f: f must be increasing on its support, but f' = 0 on {sp.sstr(flat)}")
    _sample_increasing(f, df, x_min, _MONOTONE_SAMPLES)
    return f"f increasing on its support (checked numerically at {_MONOTONE_SAMPLES} points; not proved)"


def _sample_increasing(f, df, x_min, count, proved=False) -> None:
    """Refuse ``f`` unless it is real with values in (0, 1] and ``f' > 0`` at ``count`` points of its support
    (each point evaluated at rising precision while cancellation leaves 0: ``tanh(x) + 1`` at ``x = -41``).
    ``proved``: SymPy has shown ``f' > 0``; a value still 0 at the top precision is then undecided (the true
    value of ``tanh(1000 x) + 1`` at ``x = -2.3`` is near 1e-1994), not a refusal."""
    dfn, fn = mp_function(df, X), mp_function(f, X)
    with mpmath.workdps(30):
        points = _sample_points(x_min, count)
    for x in points:
        for dps in (30, 120, 480, 1920):
            with mpmath.workdps(dps):
                d, v = dfn(x), fn(x)
                ok = mpmath.im(d) == 0 and mpmath.im(v) == 0 and mpmath.re(d) > 0 and 0 < mpmath.re(v) <= 1
                if ok or not (d == 0 or v == 0):      # only an exact 0 may be cancellation
                    break
        if not ok and proved and (d == 0 or v == 0) and mpmath.im(d) == 0 and mpmath.im(v) == 0:
            continue
        if not ok:
            with mpmath.workdps(30):
                raise InputError(f"warp f: f must be real and increasing with values in (0, 1] on its support, "
                                 f"but at x = {mpmath.nstr(x, 8)}: f = {mpmath.nstr(v, 8)}, f' = {mpmath.nstr(d, 8)}")


def _check_inverse(f, g, x_min):
    """Refuse ``g`` unless it is the inverse of ``f`` on its support: ``f(g(z)) = z`` (symbolically, or
    numerically at 30 digits when SymPy cannot decide within the budget) *and* ``g`` maps (0, 1] into the
    support ``[x_min, 0]`` (always checked numerically at 20 points, ``g(1) = 0`` included): ``-log z`` also
    solves ``exp(-abs(x)) = z``, and ``sqrt(1 - z)`` solves ``1 - x**2 = z``, on the wrong branch."""
    gp = g.subs(Z, _ZPOS)
    try:
        with time_limit():
            identity = sp.simplify(f.subs(X, gp) - _ZPOS) == 0 and sp.simplify(g.subs(Z, 1)) == 0
    except SymbolicTimeout:
        identity = False  # decide numerically below
    fn, gn = mp_function(f, X), mp_function(g, Z)
    tol = mpmath.mpf(10) ** -20
    with mpmath.workdps(30):
        lo = -mpmath.inf if x_min == -sp.oo else mpmath.mpf(sp.N(x_min, 30))
        points = [mpmath.mpf(10) ** -6, mpmath.mpf(10) ** -3] + [mpmath.mpf(k) / 16 for k in range(1, 17)]
        for zz in points:
            x = gn(zz)                      # nan where g is not defined: then not real
            real = mpmath.im(x) == 0 and mpmath.isfinite(x)
            inside = real and lo - tol * (1 + abs(lo) if lo != -mpmath.inf else 1) <= mpmath.re(x) <= tol
            inverse = identity or (inside and abs(fn(mpmath.re(x)) - zz) < tol)
            if real and not inside:
                raise InputError(f"warp inverse g: g = {sp.sstr(g)} maps z = {mpmath.nstr(zz, 6)} to x = "
                                 f"{mpmath.nstr(mpmath.re(x), 6)}, outside the support of f (x in "
                                 f"{'(-inf' if x_min == -sp.oo else '[' + sp.sstr(x_min)}, 0]): it is the inverse on "
                                 "another branch; give the branch that maps (0, 1] into the support")
            if not (real and inverse):
                raise InputError(f"warp inverse g: g = {sp.sstr(g)} is not the inverse of f on (0, 1] "
                                 f"(f(g(z)) != z at z = {mpmath.nstr(zz, 6)})")


def _solve_inverse(f, x_min) -> sp.Expr:
    xneg = sp.Symbol("x", negative=True)       # solve on the support: x < 0 picks the branch there
    candidates = []
    for unknown in (xneg, X):
        try:
            with time_limit():
                candidates += [c.subs(unknown, X) for c in sp.solve(sp.Eq(f.subs(X, unknown), _ZPOS), unknown)]
        except (NotImplementedError, ValueError, TypeError, SymbolicTimeout):
            pass
    for cand in candidates:
        g = cand.subs(_ZPOS, Z)
        try:
            _check_inverse(f, g, x_min)
        except InputError:
            continue
        return g
    raise InputError(f"warp f: SymPy could not invert f = {sp.sstr(f)} on (0, 1]{_budget_note()}; "
                     "give the inverse explicitly (CLI: f=EXPR;g=EXPR_IN_z, Python: inverse=...)")


def _detect_structure(warp: StationaryWarp) -> str | None:
    """``"dilation"`` if ``lambda(z) = z / z_Delta``, ``"translation"`` if ``lambda(z) = z + 1 - z_Delta``."""
    try:
        with time_limit():
            lam = warp.lag_map(DELTA).subs(Z, _ZPOS)
            cut = warp.cutoff(DELTA)
            if sp.simplify(lam * cut - _ZPOS) == 0:
                return "dilation"
            if sp.simplify(lam - _ZPOS - 1 + cut) == 0:
                return "translation"
    except SymbolicTimeout:
        pass  # undecided: the per-entry routes are correct for any lag map
    return None


def exact_rate_or_window(warp) -> tuple[str, sp.Expr] | None:
    """``("dilation", rate)`` or ``("translation", window)`` of a stationary warp, exact, or None: the
    constant of ``warp.geometry`` (:mod:`symderive.inputs.geometry`), where it is decided."""
    return warp.geometry.affine_constant


BUILTIN = {"exponential": exponential, "linear": linear, "scale": scale}
