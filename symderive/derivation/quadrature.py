"""The numeric route: every matrix entry at once, by Gauss quadrature in ball arithmetic.

For any warp and basis, the lag matrices and the generator (docs/math.md, sections 2-3) are inner products

    A_Delta = P(z)^T W Q(z),  P[j, n] = p_n(z_j) w(z_j),  Q[j, k] = p_k(lambda_Delta(z_j))    on [0, z_Delta]
    B_Delta = P(z)^T W 1                                                                      on [z_Delta, 1]
    A_gen   = P(z)^T W Q'(z) - v(1) w(1) p(1) p(1)^T,  Q'[j, k] = p_k'(z_j) v(z_j)           on [0, 1]
    B_gen   = v(1) w(1) p(1)

with ``W = diag(weights)`` of a quadrature rule: the basis is evaluated once per node (``N M``
values, by three-term recurrences for the built-in bases) and each matrix is one matrix product,
done in flint's ball arithmetic (``arb_mat``) at a working precision above the target.

Rules suit the integrand: Gauss-Legendre on a finite interval for bases polynomial or trigonometric
in ``z``; Gauss-Laguerre in ``s`` with ``z = b e^{-s}`` on ``[0, b]`` for bases in ``-log z``
(log-Laguerre), where it is exact for polynomials in ``log z``; Gauss-Legendre in ``u`` with
``z = u^2`` on ``[0, b]`` (square roots of ``z`` at the far past, as algebraic windows have); and
double-exponential (tanh-sinh) for any other endpoint singularity, where the Gauss rules converge
slowly. The node count of a family grows (x 1.5, or h / 2 for
tanh-sinh) until **two consecutive rules agree** on every entry to the target:

    |I_fine - I_coarse| <= 2^-bits (|I_fine| + 2^-GUARD_BITS integral |p_n q_k|)

(the second term, the rule's own ``L1`` norm of the integrand, keeps the test sane for entries that are
exactly or nearly zero; it stays finite exactly when the integral converges absolutely, so a
divergent integral cannot pass by inflating it). The fine rule's value is returned with ``error_estimate``,
the largest ``|I_fine - I_coarse|`` over the largest ``|I_fine|`` (normwise relative): an estimate, not a
bound (ball arithmetic bounds only the rounding).
If no family converges the integral is reported as not converging (it may diverge).
"""

from __future__ import annotations

import contextlib
import functools
import math
from dataclasses import dataclass

import flint
import numpy as np
import sympy as sp
from flint import arb, arb_mat, fmpq

from .. import progress
from ..errors import DerivationError
from ..inputs.bases import Basis
from ..inputs.warps import StationaryWarp, Warp
from ..symbols import X, Z
from .arb_eval import compile_arb, constant, evaluate_accurately, require_finite

ROUTE = "numeric-quadrature"
GUARD_BITS = 24
_GROWTH = 1.5


@dataclass
class NumericMatrices:
    """``A`` (arb_mat) and ``B`` (arb_mat column) from quadrature, with how they were obtained."""

    A: arb_mat
    B: arb_mat
    precision_bits: int
    error_estimate: float
    rules: str

    @property
    def digits(self) -> int:
        return int(self.precision_bits * math.log10(2))


# ---------------------------------------------------------------------- rules on [0, 1] / [0, oo)

#: drop the radius of every ball: recurrences in ball arithmetic inflate radii by about 2 per step
#: (2^N after N steps) although the midpoints stay accurate, so they run on midpoints; the result is an
#: estimate either way (the quadrature error is not bounded), and the working precision carries 64 guard bits
mid = np.frompyfunc(lambda a: arb(a.mid()), 1, 1)


def _objects(values) -> np.ndarray:
    values = list(values)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


@functools.lru_cache(maxsize=64)
def gauss_legendre(M: int, prec: int):
    """``M``-point Gauss-Legendre nodes and weights on [0, 1] (flint's roots of ``P_M``, with weights)."""
    with flint.ctx.workprec(prec):
        pairs = [arb.legendre_p_root(M, k, weight=True) for k in range(M)]
        return _objects((1 - x) / 2 for x, _ in pairs), _objects(w / 2 for _, w in pairs)


@functools.lru_cache(maxsize=64)
def gauss_laguerre(M: int, prec: int):
    """``M``-point Gauss-Laguerre nodes and weights (weight ``e^{-s}`` on [0, oo)).

    Nodes: the double-precision eigenvalues of the Jacobi matrix refined by Newton on ``L_M`` in ball
    arithmetic (on midpoints), all nodes at once (``L_M``, ``L_{M-1}`` by the three-term recurrence), until
    a step is below ``2^-(prec/2 + 16)`` (Newton converges quadratically: the next error is about its
    square); weights ``s_j / ((M+1)^2 L_{M+1}(s_j)^2)``.
    """
    n = np.arange(M, dtype=float)     # Golub-Welsch: eigenvalues of the Jacobi matrix of Laguerre
    guess = np.linalg.eigvalsh(np.diag(2 * n + 1) + np.diag(n[1:], 1) + np.diag(n[1:], -1))
    with flint.ctx.workprec(prec + 20):
        s = _objects(arb(float(x)) for x in guess)

        def laguerre_pair(s, top):
            L0, L1 = np.full(s.shape, arb(1), dtype=object), 1 - s
            for n in range(1, top):
                L0, L1 = L1, mid(((2 * n + 1 - s) * L1 - n * L0) / (n + 1))
            return L0, L1

        for _ in range(80):
            L0, L1 = laguerre_pair(s, M)
            step = L1 * s / (M * (L1 - L0))          # L_M' = M (L_M - L_{M-1}) / s
            s = mid(s - step)                        # drop the radius: Newton self-corrects
            worst = max(abs(float((d / x).mid())) for d, x in zip(step, s))
            if worst < 2.0 ** -(prec // 2 + 16):   # quadratic convergence: this step left ~worst^2
                break
        else:
            raise DerivationError(f"Gauss-Laguerre nodes for M = {M} did not converge")
        _, L_next = laguerre_pair(s, M + 1)
        weights = s / ((M + 1) ** 2 * L_next * L_next)
    if not all(x.is_finite() for x in weights) or any(not (lo < hi) for lo, hi in zip(s[:-1], s[1:])):
        raise DerivationError(f"Gauss-Laguerre nodes for M = {M} are not distinct and finite")
    with flint.ctx.workprec(prec):
        return _objects(+x for x in s), _objects(+w for w in weights)


@functools.lru_cache(maxsize=64)
def tanh_sinh(level: int, prec: int):
    """Tanh-sinh nodes on [0, 1] with step ``h = 2^-level``: ``(distance to 0, distance to 1, weight)``.

    ``z = (1 + tanh(pi/2 sinh t)) / 2``; both distances are formed without cancellation
    (``1 - tanh u = 2 / (1 + e^{2u})``), so nodes crowd the endpoints to the working precision.
    """
    with flint.ctx.workprec(prec + 20):
        h = arb(2) ** -level
        half_pi = arb.pi() / 2
        tiny = arb(2) ** -(prec + 30)
        left, right, weights = [], [], []
        k = 0
        while True:
            t = k * h
            u = half_pi * t.sinh()
            w = h * half_pi * t.cosh() / (2 * u.cosh() ** 2)
            near = 1 / (1 + (2 * u).exp())            # distance of the node at +t to 1
            for sign in ((1,) if k == 0 else (1, -1)):
                if sign == 1:
                    left.append(1 - near)
                    right.append(near)
                else:
                    left.append(near)
                    right.append(1 - near)
                weights.append(w)
            if w < tiny or near < tiny:
                break
            k += 1
    with flint.ctx.workprec(prec):
        return _objects(+x for x in left), _objects(+x for x in right), _objects(+x for x in weights)


# ---------------------------------------------------------------------- a rule on an interval

@dataclass(frozen=True)
class Rule:
    """One quadrature rule: ``family`` (gauss-legendre, gauss-laguerre, graded-gauss-legendre, tanh-sinh)
    and its size (nodes; for tanh-sinh the level, ``h = 2^-size``)."""

    family: str
    size: int

    def describe(self) -> str:
        return f"{self.family} {'h=2^-' if self.family == 'tanh-sinh' else ''}{self.size}"

    def points(self, a: arb, b: arb, prec: int):
        """Nodes ``z_j`` in (a, b) (midpoints: exact inputs) and weights for ``integral_a^b dz``."""
        z, w = self._points(a, b, prec)
        return mid(z), w

    def _points(self, a, b, prec):
        if self.family == "gauss-legendre":
            t, w = gauss_legendre(self.size, prec)
            return a + (b - a) * t, (b - a) * w
        if self.family == "gauss-laguerre":   # a = 0: z = b e^{-s}, dz = z ds, weight e^{-s} built in
            s, w = gauss_laguerre(self.size, prec)
            return b * _EXP(-s), b * w
        if self.family == "graded-gauss-legendre":   # z = a + (b - a) u^2: sqrt(z - a) becomes u
            u, w = gauss_legendre(self.size, prec)
            return a + (b - a) * u * u, 2 * (b - a) * u * w
        left, right, w = tanh_sinh(self.size, prec)
        if a == 0:   # keep the tiny distances to 0 exact in floating point
            return (b - a) * left, (b - a) * w
        return b - (b - a) * right, (b - a) * w


_EXP = np.frompyfunc(lambda a: a.exp(), 1, 1)
_SQRT = np.frompyfunc(lambda a: a.sqrt(), 1, 1)
_MID = np.frompyfunc(lambda a: float(a.mid()), 1, 1)


def _ladders(N: int, coordinate: str, a_is_zero: bool):
    """Rule families to try in order, each a list of growing sizes."""
    start = N + 12
    cap = max(3 * N + 200, 400)
    sizes = [start]
    while sizes[-1] < cap:
        sizes.append(int(math.ceil(sizes[-1] * _GROWTH)))
    main = "gauss-laguerre" if (coordinate == "neglog" and a_is_zero) else "gauss-legendre"
    # tanh-sinh: h = 2^-level; level 3 starts near 50 nodes, each level doubles them
    first_level = max(3, int(math.ceil(math.log2(max(N, 8) / 4))))
    ladders = [[Rule(main, m) for m in sizes]]
    if main == "gauss-legendre" and a_is_zero:   # square-root singularities at z = 0 (algebraic windows)
        ladders.append([Rule("graded-gauss-legendre", m) for m in sizes])
    return ladders + [[Rule("tanh-sinh", lv) for lv in range(first_level, first_level + 6)]]


def _product(P, Q, w) -> tuple[arb_mat, np.ndarray]:
    """``P diag(w) Q^T`` as arb_mat, and the rule's ``integral |p_n q_k|`` as floats (the L1 scale).

    The weights enter as ``sqrt(w)`` on both sides (all Gauss and tanh-sinh weights are positive), so
    the scaled factors stay near the size of the integrand even where ``w`` underflows float64."""
    root = _SQRT(w)
    Pw = mid(P * root[None, :])
    Qw = mid(Q * root[None, :])
    left = arb_mat([list(r) for r in Pw])
    right = arb_mat([list(r) for r in Qw.T])
    with np.errstate(all="ignore"):
        scale = np.abs(_MID(Pw).astype(float)) @ np.abs(_MID(Qw).astype(float)).T
    return left * right, np.nan_to_num(scale, nan=np.inf)


def _agreement(fine: arb_mat, coarse: arb_mat, scale: np.ndarray, coarse_scale: np.ndarray, bits: int):
    """``(converged, largest |fine - coarse|, largest ratio of a difference to its tolerance)`` with the test
    of the module docstring; the two rules' L1 norms must agree within a factor of two as well (a rule that does not suit the integrand, or an
    integral that diverges, shows as L1 norms that keep growing)."""
    tol = 2.0 ** -bits
    guard = 2.0 ** -GUARD_BITS
    worst = excess = 0.0
    with np.errstate(all="ignore"):
        ok = bool(np.all(np.isfinite(scale)) and np.all(np.abs(scale - coarse_scale) <= 0.5 * scale))
    for i in range(fine.nrows()):
        for j in range(fine.ncols()):
            f = fine[i, j]
            if not f.is_finite():
                return False, math.inf, math.inf
            d = abs(float((f - coarse[i, j]).mid())) + float(f.rad())
            worst = max(worst, d)
            allowed = tol * (abs(float(f.mid())) + guard * scale[i, j])
            if not d <= allowed:
                ok = False
                excess = max(excess, d / allowed if allowed > 0 else math.inf)
    return ok, worst, excess


def integrate(factors, a: arb, b: arb, *, N: int, coordinate: str, bits: int, prec: int, what: str,
              bar=None) -> tuple[arb_mat, float, str]:
    """``integral_a^b P(z) Q(z)^T dz`` with ``(P, Q) = factors(z)`` (object arrays, rows = functions,
    columns = nodes), by the rule ladders: ``(value, error estimate, rule description)``."""
    a_is_zero = a == 0
    for ladder in _ladders(N, coordinate, a_is_zero):
        prev = None
        previous_excess = math.inf
        for rule in ladder:
            z, w = rule.points(a, b, prec)
            P, Q = factors(z)
            value, scale = _product(P, Q, w)
            if bar is not None:
                bar.update(1)
            if prev is not None:
                ok, worst, excess = _agreement(value, prev, scale, prev_scale, bits)
                if ok:
                    largest = max((abs(float(value[i, j].mid())) for i in range(value.nrows())
                                   for j in range(value.ncols())), default=0.0)
                    relative = worst / largest if largest > 0 else worst
                    return value, relative, f"{prev_rule.describe()} vs {rule.describe()}"
                # past the resolution of the basis a Gauss rule converges geometrically; a difference that
                # shrinks by less than 16 per step means an endpoint singularity: go to the next family
                if rule.family != "tanh-sinh" and rule.size >= 3 * N + 24 and excess > previous_excess / 16:
                    break
                previous_excess = excess
            prev, prev_rule, prev_scale = value, rule, scale
    raise DerivationError(
        f"the quadrature of {what} did not converge (Gauss and tanh-sinh rules up to "
        f"{prev_rule.describe()} nodes disagree): the integral may diverge, or its integrand cancel "
        f"beyond the working precision of {int(prec * math.log10(2))} digits")


# ---------------------------------------------------------------------- basis values at nodes

class BasisValues:
    """``p_n(z)`` and ``p_n'(z)`` at an object array of balls: recurrences for the built-in bases,
    the exact polynomial form for custom polynomial bases, compiled expressions otherwise."""

    def __init__(self, basis: Basis):
        self.basis = basis
        self.N = basis.N
        form = basis.polynomial_form
        if basis.name in ("legendre", "laguerre") and form is not None:
            self.kind = basis.name
        elif basis.fourier_modes is not None:
            self.kind = "fourier"
        elif form is not None:
            self.kind = "polynomial"
        else:
            self.kind = "expressions"
        self.coordinate = form.coordinate if form is not None else "z"
        self._fns = self._dfns = None

    @property
    def extra_bits(self) -> int:
        """Bits that cancel in the evaluation (monomial form of a custom polynomial basis)."""
        if self.kind != "polynomial":
            return 0
        from .exact import coefficient_bits
        return coefficient_bits(self.basis.polynomial_form) + 4 * self.N

    def values(self, z: np.ndarray) -> np.ndarray:
        return self._evaluate(z, derivative=False)

    def derivatives(self, z: np.ndarray) -> np.ndarray:
        return self._evaluate(z, derivative=True)

    def _evaluate(self, z, derivative):
        N, M = self.N, len(z)
        if self.kind == "legendre":
            x = 2 * z - 1
            P = [np.full(M, arb(1), dtype=object), x]
            for n in range(1, N - 1):
                P.append(mid(((2 * n + 1) * x * P[n] - n * P[n - 1]) / (n + 1)))
            P = P[:N]
            scale = [arb(2 * n + 1).sqrt() for n in range(N)]
            if not derivative:
                return np.array([scale[n] * P[n] for n in range(N)], dtype=object).reshape(N, M)
            dP = [np.full(M, arb(0), dtype=object), np.full(M, arb(1), dtype=object)]
            for n in range(1, N - 1):
                dP.append(mid(dP[n - 1] + (2 * n + 1) * P[n]))
            return np.array([2 * scale[n] * dP[n] for n in range(N)], dtype=object).reshape(N, M)
        if self.kind == "laguerre":
            y = -_LOG(z)
            L = [np.full(M, arb(1), dtype=object), 1 - y]
            for n in range(1, N - 1):
                L.append(mid(((2 * n + 1 - y) * L[n] - n * L[n - 1]) / (n + 1)))
            L = L[:N]
            if not derivative:
                return np.array(L, dtype=object).reshape(N, M)
            out, acc = [], np.full(M, arb(0), dtype=object)
            for n in range(N):                      # p_n' = (sum_{j<n} L_j(y)) / z
                out.append(acc / z)
                acc = mid(acc + L[n])
            return np.array(out, dtype=object).reshape(N, M)
        if self.kind == "fourier":
            theta = 2 * arb.pi() * z
            c1, s1 = _COS(theta), _SIN(theta)
            top = max(m for _, m in self.basis.fourier_modes)
            cos_m = [np.full(M, arb(1), dtype=object), c1]
            sin_m = [np.full(M, arb(0), dtype=object), s1]
            for _ in range(2, top + 1):
                c, s = cos_m[-1], sin_m[-1]
                cos_m.append(mid(c * c1 - s * s1))
                sin_m.append(mid(s * c1 + c * s1))
            root2 = arb(2).sqrt()
            rows = []
            for kind, m in self.basis.fourier_modes:
                amp = arb(1) if m == 0 else root2
                if not derivative:
                    rows.append(amp * (cos_m[m] if kind == "cos" else sin_m[m]))
                else:
                    k = 2 * arb.pi() * m * amp
                    rows.append(-k * sin_m[m] if kind == "cos" else k * cos_m[m])
            return np.array(rows, dtype=object).reshape(N, M)
        if self.kind == "polynomial":
            form = self.basis.polynomial_form
            y = z if form.coordinate == "z" else -_LOG(z)
            K = form.K
            powers = [np.full(M, arb(1), dtype=object)]
            for _ in range(1, K):
                powers.append(powers[-1] * y)
            if derivative:   # d/dz sum c_i y^i = sum i c_i y^(i-1) dy/dz
                coeffs = [[c * i for i, c in enumerate(row)][1:] + [fmpq(0)] for row in form.coeffs]
                dy = np.full(M, arb(1), dtype=object) if form.coordinate == "z" else -1 / z
            else:
                coeffs = [list(row) for row in form.coeffs]
            C = arb_mat([[arb(c) for c in row] for row in coeffs])
            Y = arb_mat([list(p) for p in powers])
            V = C * Y
            scale = [arb(fmpq(int(x.q), int(x.p))).sqrt() for x in form.norm_sq]
            out = np.array([[V[n, j] * scale[n] for j in range(M)] for n in range(N)], dtype=object)
            return out * dy[None, :] if derivative else out
        if self._fns is None:
            fns = self.basis.functions
            self._fns = [compile_arb(p, Z) for p in fns]
            self._dfns = [compile_arb(sp.diff(p, Z), Z) for p in fns]
        fns = self._dfns if derivative else self._fns
        what = "a basis function" + ("'s derivative" if derivative else "")
        accuracy = max(32, flint.ctx.prec // 2)     # raised precision where a value lost it (sin(exp(100) z))
        out = np.array([evaluate_accurately(f, z, accuracy, what, absolute=True) for f in fns],
                       dtype=object).reshape(N, M)
        return require_finite(out, z, what)


_LOG = np.frompyfunc(lambda a: a.log(), 1, 1)
_COS = np.frompyfunc(lambda a: a.cos(), 1, 1)
_SIN = np.frompyfunc(lambda a: a.sin(), 1, 1)


# ---------------------------------------------------------------------- warp maps at nodes

class WarpMaps:
    """The lag map, cutoff and velocity of a warp as ball functions, composed from ``f`` and ``g``
    (``lambda(z) = f(g(z) + Delta)``, ``z_Delta = f(-Delta)``, ``v(z) = f'(g(z))``) without simplifying
    anything; the time-varying scale warp uses its own (affine) formulas."""

    def __init__(self, warp: Warp):
        self.warp = warp
        if isinstance(warp, StationaryWarp):
            self._f = compile_arb(warp.f, X)
            self._g = compile_arb(warp.g, Z)
            self._df = compile_arb(sp.diff(warp.f, X), X)

    def cutoff(self, delta: sp.Expr, t) -> arb:
        if isinstance(self.warp, StationaryWarp):
            return self._f(np.array([-constant(delta)], dtype=object))[0]
        return constant(self.warp.cutoff(delta, t))

    def lag_map(self, delta: sp.Expr, t):
        if isinstance(self.warp, StationaryWarp):
            d = constant(delta)
            return lambda z: self._f(self._g(z) + d)
        return compile_arb(self.warp.lag_map(delta, t), Z)

    def velocity(self, t=None):
        if isinstance(self.warp, StationaryWarp):
            return lambda z: self._df(self._g(z))
        return compile_arb(self.warp.velocity(t), Z)


# ---------------------------------------------------------------------- the two matrices

def _with_weight(basis: Basis):
    weight = sp.sympify(basis.weight)
    return None if weight == 1 else compile_arb(weight, Z)


def _precision(bits: int, values: BasisValues) -> int:
    return bits + 64 + values.extra_bits


def _weighted(values: BasisValues, weight, z, bits: int) -> np.ndarray:
    """``P[n, j] = p_n(z_j) w(z_j)``: the left factor of every inner product."""
    P = values.values(z)
    if weight is None:
        return P
    return P * evaluate_accurately(weight, z, bits + 32, "the basis weight")[None, :]


@contextlib.contextmanager
def _setup(warp: Warp, basis: Basis, bits: int, what: str, extra: int = 0):
    """``(basis values, warp maps, weight, working precision, progress bar)``, inside the working precision
    (``extra`` bits above the usual, for tiny steps)."""
    values = BasisValues(basis)
    prec = _precision(bits, values) + extra
    with progress.bar(f"quadrature {what} {warp.spec} x {basis.spec} (N={basis.N})", unit="rule") as bar, \
            flint.ctx.workprec(prec):
        yield values, WarpMaps(warp), _with_weight(basis), prec, bar


_MAX_STEP_BITS = 1 << 13


def _step_bits(delta) -> int:
    """About ``-log2(Delta)`` for a small rational step (0 otherwise): the bits below 1 where ``z_Delta``
    differs from 1, which the working precision must resolve (``Delta = 1e-300`` needs about 1000)."""
    d = sp.Rational(delta) if getattr(delta, "is_Rational", False) else None
    if d is None or d >= 1:
        return 0
    return max(0, int(d.q).bit_length() - int(d.p).bit_length())


def lag_matrices(warp: Warp, basis: Basis, delta: sp.Expr, t=None, *, bits: int = 60) -> NumericMatrices:
    """``A_Delta`` and ``B_Delta`` (module docstring) to ``bits`` relative bits, estimated.

    A tiny step moves the cutoff ``z_Delta`` within ``2^-k`` of 1: the working precision rises by ``k``
    bits (doubling while ``z_Delta`` is still indistinguishable from 1, up to 8192 extra bits)."""
    extra = _step_bits(delta)
    while True:
        try:
            return _lag_matrices(warp, basis, delta, t, bits, extra)
        except _CutoffUnresolved as exc:
            if extra >= _MAX_STEP_BITS:
                raise DerivationError(str(exc)) from None
            extra = min(_MAX_STEP_BITS, 2 * extra + 64)


class _CutoffUnresolved(Exception):
    """The cutoff overlaps 1 (or 0) at this working precision."""


def _lag_matrices(warp, basis, delta, t, bits, extra) -> NumericMatrices:
    with _setup(warp, basis, bits, "lag", extra) as (values, maps, weight, prec, bar):
        cut = maps.cutoff(delta, t)
        lam = maps.lag_map(delta, t)
        if not (cut.is_finite() and cut > 0 and cut < 1):
            message = (f"the cutoff z_Delta = f(-Delta) of {warp.spec} at Delta = {sp.sstr(delta)} "
                       f"is {cut.str(10)}, not in (0, 1)")
            if cut.is_finite() and (cut.overlaps(arb(1)) or cut.overlaps(arb(0))):
                raise _CutoffUnresolved(message + f" at {prec} bits of working precision")
            raise DerivationError(message)

        def a_factors(z):
            lz = evaluate_accurately(lam, z, bits + 32, f"the lag map of {warp.spec}")
            return _weighted(values, weight, z, bits), values.values(mid(lz))

        def b_factors(z):
            return _weighted(values, weight, z, bits), np.full((1, len(z)), arb(1), dtype=object)

        what = f"the lag matrix A of {warp.spec} x {basis.spec}"
        A, errA, ruleA = integrate(a_factors, arb(0), cut, N=basis.N, coordinate=values.coordinate,
                                   bits=bits, prec=prec, what=what, bar=bar)
        B, errB, ruleB = integrate(b_factors, cut, arb(1), N=basis.N, coordinate="z", bits=bits, prec=prec,
                                   what=f"B of {warp.spec} x {basis.spec}", bar=bar)
    return NumericMatrices(A, B, prec, max(errA, errB), f"A: {ruleA}; B: {ruleB}")


def generator(warp: Warp, basis: Basis, *, bits: int = 60) -> NumericMatrices:
    """``A_gen`` and ``B_gen`` (module docstring) to ``bits`` relative bits, estimated."""
    with _setup(warp, basis, bits, "generator") as (values, maps, weight, prec, bar):
        v = maps.velocity()
        one = np.array([arb(1)], dtype=object)
        v1 = require_finite(v(one), one, f"the velocity of {warp.spec}")[0]
        w1 = arb(1) if weight is None else require_finite(weight(one), one, "the basis weight")[0]
        p1 = values.values(one)[:, 0]

        def factors(z):
            vz = evaluate_accurately(v, z, bits + 32, f"the velocity of {warp.spec}")
            return _weighted(values, weight, z, bits), values.derivatives(z) * vz[None, :]

        A, err, rule = integrate(factors, arb(0), arb(1), N=basis.N, coordinate=values.coordinate, bits=bits,
                                 prec=prec, what=f"the generator of {warp.spec} x {basis.spec}", bar=bar)
        N = basis.N
        out = arb_mat(N, N)
        B = arb_mat(N, 1)
        for n in range(N):
            B[n, 0] = v1 * w1 * p1[n]
            for k in range(N):
                out[n, k] = A[n, k] - v1 * w1 * p1[n] * p1[k]
    return NumericMatrices(out, B, prec, err, rule)
