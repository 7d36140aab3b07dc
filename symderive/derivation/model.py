"""``derive(warp, basis)``: the lag-operator SSM of a warp and a basis, exact and numeric.

A :class:`LagModel` holds

- ``A_gen``, ``B_gen``: the continuous generator (docs/math.md, section 3), exact SymPy matrices;
- ``lag(delta)``: the exact discrete matrices ``A_Delta``, ``B_Delta`` (section 2), for a numeric or
  symbolic ``delta`` (``Delta`` positive);
- ``numeric(delta, dtype)`` and ``numeric_generator(dtype)``: floats (or mpmath at a chosen precision)
  rounded once, from a certified ball on the exact linear-algebra route and from the numeric
  quadrature route otherwise (no symbolic step; with an error estimate);
- ``step_matrices(t)`` for the time-varying scale warp: ``A_t``, ``B_t`` for the step ``t -> t + 1``.

Each result records its route: ``exact-linear-algebra`` (polynomial bases whose lag map is affine in
the basis coordinate; for generators also Fourier bases, through closed-form mode moments, see
:mod:`~symderive.derivation.trigonometric`), ``exact-algebraic`` (lag maps rational in a root of z,
:mod:`~symderive.derivation.algebraic`), ``symbolic-integration`` (small N) or ``numeric-quadrature``
(:mod:`~symderive.derivation.quadrature`). Every public method runs its symbolic steps under one
budget (:mod:`symderive._limits`); numeric results go through the disk cache (:mod:`symderive.cache`).
"""

from __future__ import annotations

import functools

import flint
import mpmath
import numpy as np
import sympy as sp

from .. import cache
from .._limits import SymbolicTimeout, active_budget, budget, tidy, time_limit
from ..errors import DerivationError, InputError
from ..inputs.bases import Basis
from ..inputs.warps import Warp, _positive_number
from ..symbols import DELTA, T, Z
from ..symbols import Y_POS as _Y
from .. import cost
from . import algebraic, exact, integration, quadrature, trigonometric
from .arb_eval import midpoint

ROUTE_EXACT = "exact-linear-algebra"
ROUTE_ALGEBRAIC = algebraic.ROUTE
ROUTE_SYMBOLIC = integration.ROUTE_SYMBOLIC
ROUTE_QUADRATURE = quadrature.ROUTE
DEFAULT_DPS = 30
_MAX_PREC = 1 << 16


class LagPair(tuple):
    """``(A, B)``, with the ``route`` that produced it.

    Numeric routes also record ``precision`` (working bits), ``dps`` (the same in decimal digits) and
    ``error_estimate`` (normwise relative: the largest disagreement of two quadrature rules over the
    largest entry); ``note`` says why an exact route was not taken, when one was asked for."""

    def __new__(cls, A, B, route, dps=None, *, precision=None, error_estimate=None, note=None):
        obj = super().__new__(cls, (A, B))
        obj.route = route
        obj.dps = dps
        obj.precision = precision
        obj.error_estimate = error_estimate
        obj.note = note
        return obj

    @property
    def A(self):
        return self[0]

    @property
    def B(self):
        return self[1]


def _within_budget(method):
    """Run ``method`` under one symbolic budget (:func:`symderive._limits.budget`; an outer one rules)."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with budget():
            return method(*args, **kwargs)
    return wrapper


def derive(warp: Warp, basis: Basis) -> "LagModel":
    """The lag-operator SSM of ``warp`` and ``basis`` (see :class:`LagModel`)."""
    if not isinstance(warp, Warp):
        raise InputError(f"warp must be a symderive warp (e.g. sd.warps.exponential()), got {type(warp).__name__}")
    if not isinstance(basis, Basis):
        raise InputError(f"basis must be a symderive basis (e.g. sd.bases.legendre(8)), got {type(basis).__name__}")
    return LagModel(warp, basis)


class LagModel:
    """The matrices of one warp x basis; expensive steps are computed once, on first use."""

    def __init__(self, warp: Warp, basis: Basis):
        self.warp = warp
        self.basis = basis
        self.N = basis.N

    def _cost_kind(self, kind: str) -> str:
        """The route kind of :mod:`symderive.cost` (polynomial bases in ``-log z`` cost more)."""
        return kind + "-neglog" if kind == "polynomial" and self.basis.coordinate == "neglog" else kind

    @property
    def _label(self) -> str:
        return f"{self.warp.spec} x {self.basis.spec}"

    def __repr__(self) -> str:
        return f"LagModel(warp={self.warp.spec!r}, basis={self.basis.spec!r}, N={self.N})"

    # ------------------------------------------------------------------ structure

    @functools.cached_property
    def lag_kind(self) -> str | None:
        """The exact lag formula that applies (``exact.LAG_KINDS``), or None for the fallback routes."""
        if self.basis.weight != 1:
            return None
        return self.warp.geometry.exact_lag_kind(self.basis.coordinate)   # coordinate: known without the form

    def _lag_parameter(self, delta, t) -> sp.Expr:
        cut = self.warp.cutoff(delta, t)
        if self.lag_kind == "dilation":
            value = cut
        elif self.lag_kind == "translation":
            value = 1 - cut
        else:
            value = sp.expand_log(-sp.log(cut), force=True)
        try:
            with time_limit():
                return sp.simplify(value)
        except SymbolicTimeout:
            return value     # exact either way; simplifying only tidies it

    @functools.cached_property
    @_within_budget
    def _velocity_polynomial(self):
        """``(c, [r_0, r_1, ...], r1)`` with ``v_y = c sum_r r_r y^r`` and ``v(1) = c r1``, rational r's; or None."""
        if self.basis.weight != 1 or (self.basis.coordinate is None and self.basis.fourier_modes is None):
            return None
        coordinate = self.basis.coordinate or "z"
        v = self.warp.velocity()
        try:
            with time_limit():
                v1 = sp.simplify(v.subs(Z, 1))
                if coordinate == "z":
                    vy = v.subs(Z, _Y)
                else:
                    vy = sp.expand_log(sp.simplify((-v / Z).subs(Z, sp.exp(-_Y))), force=True)
                poly = sp.Poly(sp.expand(sp.simplify(vy)), _Y)
                coeffs = list(reversed(poly.all_coeffs()))
                c = next((x for x in reversed(coeffs) if x != 0), None)
                if c is None:
                    return None
                r = [sp.simplify(x / c) for x in coeffs]
                r1 = sp.simplify(v1 / c)
        except (sp.PolynomialError, SymbolicTimeout):
            return None
        if not all(x.is_Rational for x in r + [r1]):
            return None
        return c, [flint.fmpq(int(x.p), int(x.q)) for x in r], flint.fmpq(int(r1.p), int(r1.q))

    @functools.cached_property
    def _generator_kind(self) -> str:
        """``"polynomial"`` (coefficient x moment matrices), ``"fourier"`` (mode moments), or
        ``"integration"`` (per-entry fallbacks): exact routes need a velocity polynomial in the coordinate."""
        if self._velocity_polynomial is None:
            return "integration"
        return "fourier" if self.basis.coordinate is None else "polynomial"

    def _step_kind(self, step: str, delta=None, t=None) -> str | None:
        """The route kind of ``step`` in :data:`symderive.cost.LAWS`, or None where no estimate applies."""
        if step == "generator":
            return self._cost_kind("polynomial") if self._generator_kind == "polynomial" else "quadrature"
        if step == "lag":
            return self.lag_kind or "quadrature"
        if step == "generator_exact":
            return None if self._generator_kind == "integration" else self._cost_kind(self._generator_kind)
        if step == "verify":
            return "pair"
        if step == "lag_exact" and self.lag_kind is not None and delta is not None:
            s = self._lag_parameter(self._check_delta(delta, t), t)
            return "rational" if s.is_Rational and self.lag_kind != "neglog-translation" else self.lag_kind
        return None

    def check_cost(self, steps, delta=None, t=None) -> None:
        """Refuse, before any of it starts, work whose estimated time or memory exceeds the budget
        (:func:`symderive.cost.check_all`). ``steps``: any of ``"generator"``, ``"lag"`` (floats, as
        :meth:`numeric_generator` and :meth:`numeric` compute them), ``"generator_exact"``, ``"lag_exact"``
        (SymPy, as :attr:`A_gen` and :meth:`lag`); the basis's exact form is counted when it is not built yet."""
        kinds = [("basis", self.basis.name)] if self.basis.form_pending else []
        kinds += [(step, kind) for step in steps if (kind := self._step_kind(step, delta, t)) is not None]
        cost.check_all(kinds, self.N, self._label)

    @property
    def generator_route(self) -> str:
        """The route of the exact generator: exact linear algebra, the algebraic route, symbolic
        integration, or ``numeric-quadrature`` when it has no exact form (then ``A_gen`` raises)."""
        if self._generator_kind != "integration":
            return ROUTE_EXACT
        exact_result = self._generator_closed
        return ROUTE_QUADRATURE if exact_result is None else exact_result[2]

    def lag_route(self) -> str:
        """The route ``numeric`` takes: exact linear algebra (certified), or quadrature."""
        if self.lag_kind is not None:
            return ROUTE_EXACT
        return ROUTE_QUADRATURE

    # ------------------------------------------------------------------ generator

    @functools.cached_property
    def _generator_exact_core(self):
        c, r, r1 = self._velocity_polynomial
        A, B = exact.generator_core(self.basis.polynomial_form, r, r1)
        return c, A, B

    @functools.cached_property
    def _generator_fourier(self):
        c, r, r1 = self._velocity_polynomial
        modes = self.basis.fourier_modes
        amplitudes = [sp.S.One if m == 0 else sp.sqrt(2) for _, m in modes]
        return trigonometric.generator(modes, amplitudes, [sp.Rational(int(x.p), int(x.q)) for x in r],
                                       c, sp.Rational(int(r1.p), int(r1.q)))

    def _closed_form(self, by_algebra, by_integration):
        """``(A, B, route)`` by the algebraic route, else by symbolic integration (N <= SYMBOLIC_MAX_N),
        within the budget; ``(None, None, reason)`` when neither gives the matrices."""
        with budget():
            try:
                A, B = by_algebra()
                return sp.ImmutableMatrix(A), sp.ImmutableMatrix(B), ROUTE_ALGEBRAIC
            except algebraic.NotAlgebraic as exc:
                reason = str(exc)
            if self.N > integration.SYMBOLIC_MAX_N:
                return None, None, reason + f"; symbolic integration is tried only up to N = {integration.SYMBOLIC_MAX_N}"
            out = by_integration()
            if out is not None:
                return sp.ImmutableMatrix(out.A), sp.ImmutableMatrix(out.B), ROUTE_SYMBOLIC
            b = active_budget()
            return None, None, reason + "; " + ("symbolic integration stopped: " + b.describe()
                                                if b is not None and b.spent else "SymPy could not integrate every entry")

    @functools.cached_property
    def _generator_closed(self):
        """``(A, B, route)`` of the exact generator off the linear-algebra route (:meth:`_closed_form`);
        None if there is none (the reason is kept for the error message)."""
        A, B, route_or_reason = self._closed_form(
            lambda: algebraic.generator(self.warp, self.basis),
            lambda: integration.generator_integrals(self.basis.functions, self.basis.weight, self.warp.velocity()))
        if A is None:
            self._generator_no_closed_form = route_or_reason
            return None
        return A, B, route_or_reason

    @functools.cached_property
    @_within_budget
    def _generator(self):
        self.check_cost(["generator_exact"])
        if self._generator_kind == "fourier":
            return self._generator_fourier
        if self._generator_kind == "polynomial":
            c, A, B = self._generator_exact_core
            form = self.basis.polynomial_form
            return exact.to_sympy(A, form, c), exact.to_sympy(B, form, c, vector=True)
        out = self._generator_closed
        if out is None:
            raise DerivationError(
                f"no closed form for the generator of {self.warp.spec} x {self.basis.spec} at N={self.N} "
                f"({self._generator_no_closed_form}); use numeric_generator() (quadrature)")
        return out[0], out[1]

    @property
    def A_gen(self) -> sp.ImmutableMatrix:
        """Exact ``A_gen`` (N x N); for the scale warp, at ``t = 1`` (``dc/dt = (A_gen c + B_gen u)/t``)."""
        return self._generator[0]

    @property
    def B_gen(self) -> sp.ImmutableMatrix:
        """Exact ``B_gen`` (N x 1); for the scale warp, at ``t = 1``."""
        return self._generator[1]

    @_within_budget
    def generator(self, t=None):
        """``(A_gen, B_gen)``; for the time-varying scale warp, the generator at time ``t`` (``1/t`` times)."""
        if t is None:
            return self.A_gen, self.B_gen
        if not self.warp.time_varying:
            raise InputError(f"t applies only to time-varying warps; {self.warp.spec} is stationary")
        t = _positive_number(t, "t")
        return self.A_gen / t, self.B_gen / t

    @_within_budget
    def numeric_generator(self, dtype=np.float64, dps: int | None = None) -> LagPair:
        """``(A_gen, B_gen)`` rounded once to ``dtype`` (numpy float) or ``"mpmath"`` at ``dps`` digits.

        Exact linear-algebra route of a polynomial basis: certified in ball arithmetic, then rounded.
        Otherwise (the Fourier basis included: its exact closed form is for ``A_gen``) the numeric
        quadrature route (:mod:`~symderive.derivation.quadrature`), with its error estimate."""
        bits = _target_bits(dtype, dps)
        return self._cached("generator", None, None, dtype, dps, lambda: self._numeric_generator(dtype, dps, bits))

    def _numeric_generator(self, dtype, dps, bits) -> LagPair:
        # the Fourier closed form is exact SymPy (pi, trigonometric values): evaluating N^2 of its
        # entries costs far more than quadrature (minutes at N = 256), so its floats come from quadrature
        if self._generator_kind == "polynomial":
            c, A, B = self._generator_exact_core
            form = self.basis.polynomial_form

            def compute(prec):
                with flint.ctx.workprec(prec):
                    ca = exact.sympy_to_arb(c, prec)
                    return exact.to_arb(A, form, ca), exact.to_arb(B, form, ca, vector=True)
            A, B = _certified(compute, bits, dtype, dps)
            return LagPair(A, B, ROUTE_EXACT)
        out = quadrature.generator(self.warp, self.basis, bits=bits)
        return _quadrature_pair(out, dtype, dps, bits)

    # ------------------------------------------------------------------ lag matrices

    def _check_delta(self, delta, t):
        if self.warp.time_varying and t is None:
            raise InputError("the scale warp is time-varying: give the current time t (> 0)")
        if not self.warp.time_varying and t is not None:
            raise InputError(f"t applies only to time-varying warps; {self.warp.spec} is stationary")
        if isinstance(delta, sp.Symbol):
            if not delta.is_positive:
                raise InputError(f"a symbolic delta must be declared positive, got {delta}")
            return delta
        d = _positive_number(delta, "delta")
        if d.free_symbols:
            return d
        window = self.warp.max_delta()
        if window != sp.oo and tidy(d - window).is_nonnegative:
            raise InputError(f"delta must be smaller than the window {sp.sstr(window)} of {self.warp.spec}, "
                             f"got {sp.sstr(d)}")
        return d

    @_within_budget
    def lag(self, delta=DELTA, t=None) -> LagPair:
        """Exact ``(A_Delta, B_Delta)`` (SymPy); ``delta`` a positive number or symbol (default ``Delta``).

        For the scale warp, ``t`` is the current time and the step is ``t -> t + delta``.
        """
        delta = self._check_delta(delta, t)
        if self.lag_kind is not None:
            s = self._lag_parameter(delta, t)
            form = self.basis.polynomial_form
            need_e = self.lag_kind == "neglog-translation"
            self.check_cost(["lag_exact"], delta, t)
            if s.is_Rational and not need_e:
                ring = exact.RationalRing(flint.fmpq(int(s.p), int(s.q)))
            else:
                ring = exact.PolynomialRing(s, need_e)
            A, B = exact.lag_core(self.lag_kind, form, ring)
            return LagPair(exact.to_sympy(A, form, ring=ring), exact.to_sympy(B, form, ring=ring, vector=True),
                           ROUTE_EXACT)
        A, B, route_or_reason = self._closed_form(
            lambda: algebraic.lag(self.warp, self.basis, delta, t),
            lambda: integration.lag_integrals(self.basis.functions, self.basis.weight, self.warp.lag_map(delta, t),
                                              self.warp.cutoff(delta, t)))
        if A is not None:
            return LagPair(A, B, route_or_reason)
        reason = route_or_reason
        if delta.free_symbols:
            raise DerivationError(
                f"no closed form for the lag matrices of {self.warp.spec} x {self.basis.spec} at N={self.N} "
                f"({reason}); give a numeric delta to get them by quadrature")
        pair = self.numeric(delta, dtype="mpmath", dps=DEFAULT_DPS, t=t)
        A = sp.ImmutableMatrix([[sp.Float(pair.A[i, j], DEFAULT_DPS) for j in range(self.N)] for i in range(self.N)])
        B = sp.ImmutableMatrix([[sp.Float(pair.B[i], DEFAULT_DPS)] for i in range(self.N)])
        return LagPair(A, B, ROUTE_QUADRATURE, dps=DEFAULT_DPS, precision=pair.precision,
                       error_estimate=pair.error_estimate, note=f"no exact route: {reason}")

    @_within_budget
    def numeric(self, delta, dtype=np.float64, dps: int | None = None, t=None) -> LagPair:
        """``(A_Delta, B_Delta)`` rounded once to ``dtype`` (numpy float type) or ``"mpmath"`` (``dps`` digits).

        Exact linear-algebra route: evaluated in ball arithmetic at rising precision until every entry
        is certified to the target, then rounded. Every other warp x basis: the numeric quadrature route
        (:mod:`~symderive.derivation.quadrature`; no symbolic step), with its error estimate.
        """
        delta = self._check_delta(delta, t)
        if delta.free_symbols:
            raise InputError("numeric() needs a numeric delta, got a symbol")
        bits = _target_bits(dtype, dps)
        return self._cached("lag", delta, t, dtype, dps, lambda: self._numeric_lag(delta, t, dtype, dps, bits))

    def _numeric_lag(self, delta, t, dtype, dps, bits) -> LagPair:
        if self.lag_kind is not None:
            s = self._lag_parameter(delta, t)
            form = self.basis.polynomial_form
            need_e = self.lag_kind == "neglog-translation"

            def compute(prec):
                with flint.ctx.workprec(prec):
                    ring = exact.ArbRing(exact.sympy_to_arb(s, prec), need_e)
                    A, B = exact.lag_core(self.lag_kind, form, ring)
                    return exact.to_arb(A, form), exact.to_arb(B, form, vector=True)
            A, B = _certified(compute, bits, dtype, dps, exact.coefficient_bits(form))
            return LagPair(A, B, ROUTE_EXACT)
        out = quadrature.lag_matrices(self.warp, self.basis, delta, t, bits=bits)
        return _quadrature_pair(out, dtype, dps, bits)

    def _cached(self, what, delta, t, dtype, dps, compute) -> LagPair:
        """``compute()`` through the disk cache (:mod:`symderive.cache`), keyed by the canonical inputs."""
        name = cache.key("numeric", {"warp": self.warp.spec, "basis": self.basis.spec, "N": self.N, "what": what,
                                     "delta": None if delta is None else sp.srepr(delta),
                                     "t": None if t is None else sp.srepr(_positive_number(t, "t")),
                                     "dtype": _dtype_name(dtype), "dps": dps})
        stored = cache.load(name)
        if stored is not None:
            try:
                return _decode_pair(stored, dtype, dps)
            except (KeyError, TypeError, ValueError):
                pass   # a damaged entry is recomputed and rewritten
        self.check_cost([what])      # refuse before the work, not after
        pair = compute()
        b = active_budget()
        if b is None or not b.spent:     # a fallback taken because time ran out is not remembered
            cache.store(name, _encode_pair(pair))
        return pair

    @_within_budget
    def lag_factors(self, t=None) -> exact.DilationFactors:
        """Exact ``A_Delta`` for every ``Delta`` as rational factors (dilations only; see
        :class:`~symderive.derivation.exact.DilationFactors`): the form that scales to large N."""
        if self.lag_kind != "dilation":
            raise InputError(f"lag_factors applies to dilation lag maps (exponential or scale warps with a "
                             f"basis polynomial in z); {self.warp.spec} x {self.basis.spec} has lag kind "
                             f"{self.lag_kind}")
        if self.warp.time_varying and t is None:
            t = T
        P, WT = exact.dilation_factors(self.basis.polynomial_form)
        return exact.DilationFactors(self._lag_parameter(DELTA, t), self.basis.polynomial_form, P, WT)

    @_within_budget
    def step_matrices(self, t, delta=1, exact_result=True):
        """Per-step ``(A_t, B_t)`` of a time-varying warp for the step ``t -> t + delta``."""
        if not self.warp.time_varying:
            raise InputError(f"step_matrices applies to time-varying warps; {self.warp.spec} is stationary: use lag()")
        return self.lag(delta, t=t) if exact_result else self.numeric(delta, t=t)


# ---------------------------------------------------------------------- rounding

def _target_bits(dtype, dps) -> int:
    if isinstance(dtype, str) and dtype == "mpmath":
        if dps is None:
            raise InputError("dtype='mpmath' needs dps (decimal digits), e.g. dps=50")
        if not isinstance(dps, int) or dps < 1:
            raise InputError(f"dps must be a positive integer, got {dps!r}")
        return int(dps * 3.33) + 8
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise InputError(f"dtype must be numpy.float64, numpy.float32 or 'mpmath', got {dtype!r}") from None
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise InputError(f"dtype must be numpy.float64, numpy.float32 or 'mpmath', got {dtype!r}")
    return 60


def _underflow(dtype, bits) -> flint.arb:
    """Magnitude below which a value rounds to zero in the target (or is zero to ``2 bits`` for mpmath)."""
    if isinstance(dtype, str):
        return flint.arb(2) ** (-2 * bits)
    return flint.arb(2) ** (-1076 if np.dtype(dtype) == np.float64 else -151)


def _converged(M, bits, floor) -> bool:
    """Every entry known to ``bits`` relative bits, or known to lie below ``floor`` in magnitude."""
    for i in range(M.nrows()):
        for j in range(M.ncols()):
            x = M[i, j]
            if x.is_exact() or x.rel_accuracy_bits() >= bits:
                continue
            if abs(x.mid()) + x.rad() < floor:
                continue
            return False
    return True


def _certified(compute, bits, dtype, dps, cancellation_bits=0):
    """Evaluate ``compute(prec)`` (an arb matrix and an arb column, ``(A, B)``) at rising precision
    until every entry is certified:
    ``bits`` correct relative bits, or certainly below the target's underflow threshold (then 0).
    The first precision allows for ``cancellation_bits`` lost to cancellation; it doubles from there."""
    floor = _underflow(dtype, bits)
    prec = 2 * bits + 64 + max(0, cancellation_bits)   # tiny coefficients (z / 10**60) cancel nothing
    while prec <= _MAX_PREC:
        A, B = compute(prec)
        if _converged(A, bits, floor) and _converged(B, bits, floor):
            return _arb_round(A, dtype, dps, floor), _arb_round(B, dtype, dps, floor, vector=True)
        prec *= 2
    raise DerivationError(f"could not certify {bits} bits below {_MAX_PREC} bits of working precision")


def _arb_round(M, dtype, dps, floor, vector=False):
    def value(x):
        if not x.is_exact() and abs(x.mid()) + x.rad() < floor:
            return mpmath.mpf(0)
        return midpoint(x)
    if vector:
        return _from_mp_one([value(M[i, 0]) for i in range(M.nrows())], dtype, dps, vector=True)
    return _from_mp_one([[value(M[i, j]) for j in range(M.ncols())] for i in range(M.nrows())], dtype, dps)


def _from_mp_one(values, dtype, dps, vector=False):
    if isinstance(dtype, str):
        with mpmath.workdps(dps):
            return mpmath.matrix([[+x] for x in values] if vector else [[+x for x in row] for row in values])
    dt = np.dtype(dtype)
    with mpmath.workprec(53 if dt == np.float64 else 24):
        if vector:
            return np.array([float(+x) for x in values], dtype=dt)
        return np.array([[float(+x) for x in row] for row in values], dtype=dt)


def _dtype_name(dtype) -> str:
    return "mpmath" if isinstance(dtype, str) else np.dtype(dtype).name


def _encode_pair(pair: LagPair) -> dict:
    """A :class:`LagPair` of numbers as JSON text: floats by ``float.hex``, mpmath values by mantissa and
    exponent (exact round trip)."""
    def number(x):
        if isinstance(x, mpmath.mpf):
            sign, man, exp, _ = x._mpf_          # man_exp alone drops the sign
            return ["mpf", str(-int(man) if sign else int(man)), int(exp)]
        return float(x).hex()

    def rows(M):
        if isinstance(M, np.ndarray):
            return [[number(x) for x in row] for row in np.atleast_2d(M)] if M.ndim == 2 else [number(x) for x in M]
        if M.cols == 1 and M is pair.B:
            return [number(M[i]) for i in range(M.rows)]
        return [[number(M[i, j]) for j in range(M.cols)] for i in range(M.rows)]
    return {"A": rows(pair.A), "B": rows(pair.B), "route": pair.route, "dps": pair.dps,
            "precision": pair.precision, "error_estimate": pair.error_estimate, "note": pair.note}


def _decode_pair(stored: dict, dtype, dps) -> LagPair:
    def number(x):
        if isinstance(x, list):
            if x[0] != "mpf":
                raise ValueError("unknown number tag")
            man = int(x[1])
            with mpmath.workprec(max(man.bit_length(), 53) + 8):   # exact: enough bits for the mantissa
                return mpmath.mpf((man, int(x[2])))
        return float.fromhex(x)
    A = [[number(x) for x in row] for row in stored["A"]]
    B = [number(x) for x in stored["B"]]
    if isinstance(dtype, str):
        with mpmath.workdps(dps):
            A, B = mpmath.matrix(A), mpmath.matrix([[x] for x in B])
    else:
        A, B = np.array(A, dtype=np.dtype(dtype)), np.array(B, dtype=np.dtype(dtype))
    return LagPair(A, B, stored["route"], stored["dps"], precision=stored["precision"],
                   error_estimate=stored["error_estimate"], note=stored["note"])


def _require_narrow_balls(matrices, bits) -> None:
    """Refuse quadrature balls wider than ``2^-(bits/2)`` of the largest entry (normwise): two rules can agree
    on midpoints that rounding has emptied of meaning (``sin(exp(100) z)`` at 124 bits: every entry is
    ``0 +/- 2``), and a rounded midpoint would then be a wrong answer."""
    mids, rads = [], []
    for M in matrices:
        for i in range(M.nrows()):
            for j in range(M.ncols()):
                mids.append(abs(M[i, j].mid()))
                rads.append(M[i, j].rad())
    scale, widest = max(mids), max(rads)
    if widest > scale * flint.arb(2) ** (-(bits // 2)) or (scale == 0 and widest > 0):
        raise DerivationError("the quadrature lost its accuracy to rounding (entries known only to "
                              f"+/- {flint.arb(widest).str(3)} against a largest value of {flint.arb(scale).str(3)}): "
                              "the warp or basis varies too fast for the working precision")


def _quadrature_pair(out, dtype, dps, bits) -> LagPair:
    """A :class:`LagPair` from quadrature balls, rounded once (entries below the target's underflow: 0)."""
    floor = _underflow(dtype, bits)
    _require_narrow_balls([out.A, out.B], bits)
    A = _arb_round(out.A, dtype, dps, floor)
    B = _arb_round(out.B, dtype, dps, floor, vector=True)
    return LagPair(A, B, ROUTE_QUADRATURE, dps=out.digits, precision=out.precision_bits,
                   error_estimate=out.error_estimate)
