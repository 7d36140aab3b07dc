"""The structural theorem: do lag steps compose, ``A_{D1} A_{D2} = A_{D1+D2}``?

For a model ``m = symderive.derive(warp, basis)``, :func:`decide_structure` decides whether the discrete
matrices form a semigroup in the step, and reports a proof or an exact counterexample.

The argument (docs/math.md, sections 2-3; re-derived here, not taken from the paper). Let ``V`` be the span of
the basis in ``L^2(w)``, ``P`` the orthogonal projection onto ``V`` and ``L_D`` the lag operator, so that
``A_D = P L_D |_V``. Lag maps compose, ``lambda_{D1} o lambda_{D2} = lambda_{D1+D2}`` (and the cutoffs
match), so ``L_{D1} L_{D2} = L_{D1+D2}`` and

    A_{D1} A_{D2} - A_{D1+D2} = -P L_{D1} (I - P) L_{D2} |_V,
    B_{D1+D2} - (A_{D2} B_{D1} + B_{D2}) = P L_{D2} (I - P) h_{D1},   h_D = 1[z > z_D],

both zero when ``P L_D (I - P) = 0``, i.e. when the adjoint ``L_D^*`` maps ``V`` into ``V``. For a stationary
warp with ``mu = lambda_D^{-1}``,

    (L_D^* p)(y) = p(mu(y)) w(mu(y)) mu'(y) / w(y) * 1[y > lambda_D(0)].

- Dilations (exponential warp, ``lambda(z) = z / q``): ``lambda(0) = 0`` and ``L^* p = q p(q y)`` (weight 1).
  ``V`` is invariant under every dilation iff it is invariant under the Euler operator ``y d/dy``
  (``p(q y) = q^{y d/dy} p``; conversely differentiate at ``q = 1``); with a weight, under
  ``y d/dy + y w'/w``. For polynomials this is an exact rank test over QQ on the coefficients.
- Log-Laguerre (``y = -log z``): the lag is ``y -> y - s`` and ``L^* p = e^{-s} p(y + s)``: ``V`` must be
  invariant under ``d/dy``.
- Translations (linear window): ``lambda(0) = s > 0``, the adjoint truncates and no space of polynomials
  is invariant. Composition then fails in general; an exact counterexample is computed at rational
  ``s`` (``D1 = D2 = window/4``) in rational arithmetic.
- The scale warp: the step ``t -> t + D`` is the dilation with ``q = t / (t + D)``.

When ``V`` is invariant the family is a continuous matrix semigroup with derivative ``A_gen`` at 0, so
``A_D = expm(D A_gen)``; and ``B_{D+h} = A_h B_D + B_h`` gives ``B' = A_gen B + B_gen``, ``B(0) = 0``, the
zero-order hold ``B_D = integral_0^D expm(s A_gen) ds B_gen``. Invariance failing proves nothing by itself:
"does not compose" is reported only with an exact counterexample, otherwise the verdict is "undecided".

Nothing here decides from floating point numbers; the optional ``discrepancy`` (status "measured")
compares high-precision values of ``A_D``, ``B_D`` with ``expm``, the zero-order hold and the bilinear
(Tustin) discretization of the generator.
"""

from __future__ import annotations

import contextlib

import math
import time
from dataclasses import asdict, dataclass, field

import flint
import mpmath
import sympy as sp
from flint import arb, fmpq, fmpq_mat

from .._limits import budget, tidy, time_limit
from ..derivation import exact
from ..derivation.model import ROUTE_SYMBOLIC, LagModel, derive
from ..errors import DerivationError, InputError
from ..inputs import bases as _bases
from ..inputs.warps import _positive_number
from ..symbols import DELTA as _DELTA
from ..symbols import T as _T
from ..symbols import X_PLAIN as _X
from ..symbols import Z
from ..symbols import Z_POS as _ZPOS

__all__ = ["StructureReport", "decide_structure"]

_Q = sp.Symbol("q", positive=True)

PROVED_ALL = "proved for all N"
PROVED_THIS = "proved for this N"
CHECKED = "checked exactly at N"
MEASURED = "measured"

CHECK_N = 6                # the exact symbolic-Delta check runs at min(N, CHECK_N) for built-in families
CHECK_CUSTOM_MAX_N = 8     # custom bases are checked on the model itself up to this N
FULL_MATRIX_MAX_N = 128    # rational counterexample: the whole difference up to here, column 0 beyond
SYMBOLIC_MAX_N = 8         # symbolic-integration counterexamples (Fourier, custom functions) up to here
SYMBOLIC_SECONDS = 20.0    # ... within this budget
INVARIANCE_SECONDS = 10.0  # symbolic invariance test of non-polynomial bases
DISCREPANCY_DPS = 40
MPMATH_EXPM_MAX_N = 32     # mpmath.expm up to here; python-flint's arb_mat.exp (same precision) beyond


@dataclass
class StructureReport:
    """The verdict on ``A_{D1} A_{D2} = A_{D1+D2}`` for one model, with its proof or counterexample.

    ``composes``: the steps compose (proved); ``exact``: the decision was made in exact arithmetic or
    by a rigorous argument (False when undecided); ``verdict``: ``"composes"``, ``"does not compose"``
    or ``"undecided"`` (``composes`` is False then too); ``steps``: the argument, each
    ``{"statement", "method", "status"}`` with status one of "proved for all N", "proved for this N",
    "checked exactly at N", "measured"; ``expm_zoh``: ``A_D = expm(D A_gen)`` and ``B_D`` is the
    zero-order hold, proved; ``counterexample``: the exact counterexample (or None);
    ``discrepancy``: high-precision differences from expm / ZOH / bilinear when ``delta`` was given.
    """

    composes: bool
    exact: bool
    reason: str
    steps: list[dict]
    expm_zoh: bool
    counterexample: dict | None = None
    discrepancy: dict | None = None
    verdict: str = "undecided"
    model: str = ""
    N: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain JSON-able data (str, bool, int, float, None, lists and dicts)."""
        return asdict(self)


def _step(statement: str, method: str, status: str) -> dict:
    return {"statement": statement, "method": method, "status": status}


# ------------------------------------------------------------------------------------ time budget

class _OutOfTime(BaseException):
    """Our own budget ran out (a BaseException, so that SymPy's broad handlers cannot swallow it)."""


@contextlib.contextmanager
def _budget(seconds: float):
    """Raise :class:`_OutOfTime` after ``seconds``: one alarm around a whole symbolic attempt, which
    opens a derivation budget of the same length unless one is active (then the outer budget rules:
    a command's ``--budget`` covers its proofs too). Off the main thread only the budget's checks
    between steps apply."""
    with budget(seconds), time_limit(seconds, _OutOfTime):
        yield


# ------------------------------------------------------------------------------------ exact zero tests

def _transcendental_atom(e) -> bool:
    """``pi``, ``exp(r)`` (``r`` rational, nonzero) or ``log(r)`` (``r`` rational, positive, not 1):
    transcendental numbers (Lindemann-Weierstrass)."""
    if e is sp.pi or e is sp.E:
        return True
    if isinstance(e, sp.exp):
        return e.args[0].is_Rational and e.args[0] != 0
    if isinstance(e, sp.log):
        return e.args[0].is_Rational and e.args[0] > 0 and e.args[0] != 1
    return False


def _classify(e, atoms: set) -> bool:
    """True when ``e`` is built from rationals, radicals of such, and the transcendental atoms (collected),
    the atoms never under a fractional power."""
    if e.is_Rational:
        return True
    if _transcendental_atom(e):
        atoms.add(e)
        return True
    if isinstance(e, sp.Add | sp.Mul):
        return all(_classify(a, atoms) for a in e.args)
    if isinstance(e, sp.Pow):
        base, ex = e.args
        if not ex.is_Rational:
            return False
        inner = set()
        if not _classify(base, inner):
            return False
        if inner and not ex.is_Integer:
            return False
        atoms |= inner
        return True
    return False


def _algebraic_is_zero(c) -> bool:
    c = sp.expand(c)
    if c == 0:
        return True
    if c.is_Rational:
        return False
    return sp.minimal_polynomial(c, _X) == _X


def _exact_zero_test(x) -> bool | None:
    """``True``: ``x == 0`` proved; ``False``: ``x != 0`` proved; ``None``: undecided.

    Exact: for an algebraic number by its minimal polynomial; for a rational function of ONE
    transcendental number ``t`` (pi, e^r, log r) with algebraic coefficients, ``x != 0`` iff its
    numerator, a polynomial in ``t``, has a nonzero coefficient (``t`` is not algebraic). Never numeric.
    """
    x = sp.expand(x)
    if x == 0:
        return True
    if x.is_Rational:
        return False
    atoms: set = set()
    if not _classify(x, atoms) or len(atoms) > 1:
        return None
    if not atoms:
        return _algebraic_is_zero(x)
    t = atoms.pop()
    num, _ = sp.together(x).as_numer_denom()
    try:
        poly = sp.Poly(sp.expand(num), t)
    except sp.PolynomialError:
        return None
    if poly.gens != (t,):
        return None
    coeffs = poly.all_coeffs()
    if any(c.has(t) for c in coeffs):
        return None
    return all(_algebraic_is_zero(c) for c in coeffs)


# ------------------------------------------------------------------------------------ invariance

def _polynomial_invariance(form, family: bool):
    """Is the span of ``form`` invariant under ``y d/dy`` (coordinate z) or ``d/dy`` (coordinate -log z)?

    Returns ``(invariant, statement, method, status)``, decided exactly over QQ."""
    N, K = form.N, form.K
    op = "y d/dy" if form.coordinate == "z" else "d/dy"
    coordinate = "z" if form.coordinate == "z" else "y = -log z"
    status = PROVED_ALL if family else PROVED_THIS
    # Orthogonal rows with nonzero norms are independent; in degree < N they span all of P_{<N}.
    if all(row[i] == 0 for row in form.coeffs for i in range(N, K)):
        return (True, f"V = all polynomials of degree < N in {coordinate}, which {op} maps into itself",
                "the N orthogonal basis polynomials have degree < N" + (" for every N" if family else ""),
                status)
    C = [list(row) for row in form.coeffs]
    if form.coordinate == "z":
        image = [[c * i for i, c in enumerate(row)] for row in C]
    else:
        image = [[row[i + 1] * (i + 1) for i in range(K - 1)] + [fmpq(0)] for row in C]
    r = fmpq_mat(C).rank()
    r2 = fmpq_mat(C + image).rank()
    method = f"rank over QQ of the coefficient rows of V and of {op}(V): {r2} vs {r}"
    if r2 == r:
        return True, f"V is invariant under {op}", method, PROVED_THIS
    return False, f"V is not invariant under {op}", method, PROVED_THIS


def _symbolic_invariance(basis):
    """For a basis given by functions: is ``V`` invariant under ``G = z d/dz + z w'/w`` (the generator of
    ``p -> q p(q z) w(q z) / w(z)``)? ``(True|False|None, method)``; exact integrals and simplification."""
    w = basis.weight.subs(Z, _ZPOS)
    fs = [p.subs(Z, _ZPOS) for p in basis.functions]
    ew = sp.simplify(_ZPOS * sp.diff(w, _ZPOS) / w)

    def integral(expr):
        value = sp.integrate(sp.expand(expr * w), (_ZPOS, 0, 1))
        if value.has(sp.Integral) or not value.is_finite:
            raise ValueError("no finite closed form")
        return value

    try:
        with _budget(INVARIANCE_SECONDS):
            for n, p in enumerate(fs):
                g = sp.expand(_ZPOS * sp.diff(p, _ZPOS) + ew * p)
                c = [sp.simplify(integral(g * pk)) for pk in fs]
                residual = sp.simplify(g - sum((ck * pk for ck, pk in zip(c, fs)), sp.S.Zero))
                if residual == 0:
                    continue
                gap = integral(g * g) - sum((ck**2 for ck in c), sp.S.Zero)  # ||G p_n - P G p_n||^2
                if _exact_zero_test(gap) is False:
                    return False, (f"G p_{n} has a residual of exact squared norm {sp.sstr(sp.simplify(gap))} "
                                   "off V (closed-form integrals)")
                return None, f"could not decide whether G p_{n} lies in V"
    except (_OutOfTime, ValueError, TypeError, NotImplementedError, ZeroDivisionError):
        return None, "the symbolic invariance test did not finish"
    return True, "G p_n - sum_k <G p_n, p_k> p_k simplifies to 0 for every n (closed-form integrals)"


# ------------------------------------------------------------------------------------ counterexamples

@dataclass
class _Trial:
    """Three steps: ``first``, then ``second``, against ``total`` (``A_total`` vs ``A_second A_first``)."""

    first: tuple
    second: tuple
    total: tuple
    labels: dict


def _trial(model: LagModel) -> _Trial:
    """The step pair of the counterexample: rational lag parameters where possible."""
    warp = model.warp
    if warp.time_varying:  # scale warp: t = 1 -> 2 -> 3 against 1 -> 3 (q = 1/2, 2/3, 1/3)
        one, two = sp.Integer(1), sp.Integer(2)
        return _Trial((one, one), (one, two), (two, one), {"t": "1", "D1": "1", "D2": "1"})
    window = warp.max_delta()
    if window != sp.oo:
        d = tidy(window / 4)
    else:  # the step whose cutoff is 1/2: q = 1/2 for a dilation
        d = tidy(-warp.g.subs(Z, sp.Rational(1, 2)))
    return _Trial((d, None), (d, None), (tidy(2 * d), None), {"D1": sp.sstr(d), "D2": sp.sstr(d)})


def _core_apply(kind: str, form, s: fmpq, V: fmpq_mat) -> fmpq_mat:
    """``A_core(s) V`` through the factors of :func:`symderive.derivation.exact.lag_core`, matrix-vector
    products only (``O(K^2)`` per column instead of ``O(K^3)`` for the whole core)."""
    K = form.K
    P = exact.coefficient_matrix(form)
    if kind == "dilation":
        R = exact.dilation_factors(form)[1]
        X = R * V
        power = fmpq(1)
        scaled = []
        for i in range(K):
            power *= s
            scaled.append([X[i, j] * power for j in range(X.ncols())])
        return P * fmpq_mat(scaled)
    c = 1 - s
    cpow = [fmpq(1)]
    for _ in range(2 * K + 1):
        cpow.append(cpow[-1] * c)
    spow = [fmpq(1)]
    for _ in range(K):
        spow.append(spow[-1] * s)
    M = fmpq_mat([[cpow[i + l + 1] / (i + l + 1) for l in range(K)] for i in range(K)])
    Tt = fmpq_mat([[spow[j - l] * math.comb(j, l) if l <= j else fmpq(0) for j in range(K)] for l in range(K)])
    return P * (M * (Tt * (P.transpose() * V)))


def _rational_counterexample(model: LagModel, trial: _Trial, full_max_n: int = FULL_MATRIX_MAX_N):
    """Exact ``A_second A_first - A_total`` when the three lag parameters are rational (the route
    ``model.lag`` takes then), in QQ: with ``A = S core S``, ``S^2 = diag(1 / norm_sq)`` rational, the
    difference is ``S (core_2 S^2 core_1 - core_total) S``. Returns a dict, None (every entry computed is
    zero) or ``"irrational"`` (a lag parameter is not rational: use the symbolic route)."""
    form = model.basis.polynomial_form
    kind = model.lag_kind
    N = form.N
    s1, s2, st = (model._lag_parameter(*step) for step in (trial.first, trial.second, trial.total))
    if not all(x.is_Rational for x in (s1, s2, st)):
        return "irrational"
    s1, s2, st = (fmpq(int(x.p), int(x.q)) for x in (s1, s2, st))
    inv_norm = [1 / x for x in form.norm_sq]
    if N <= full_max_n:
        A1, _ = exact.lag_core(kind, form, exact.RationalRing(s1))
        A2, _ = exact.lag_core(kind, form, exact.RationalRing(s2))
        At, _ = exact.lag_core(kind, form, exact.RationalRing(st))
        S2 = fmpq_mat(N, N)
        for i in range(N):
            S2[i, i] = inv_norm[i]
        D = A2 * S2 * A1 - At
        columns, checked = [(j, j) for j in range(N)], "all entries"  # (column of A, column of D)
    else:
        columns, checked, D = [], None, None
        for j in range(min(N, 4)):  # the first column that is not zero
            e = fmpq_mat(N, 1)
            e[j, 0] = 1
            x = _core_apply(kind, form, s1, e)
            for i in range(N):
                x[i, 0] = x[i, 0] * inv_norm[i]
            col = _core_apply(kind, form, s2, x) - _core_apply(kind, form, st, e)
            if any(col[i, 0] != 0 for i in range(N)):
                D, columns, checked = col, [(j, 0)], f"column {j} (N > {full_max_n}: columns computed one at a time)"
                break
        if D is None:
            return None
    scales = [arb(x).sqrt() for x in inv_norm]
    best, where = None, None
    with flint.ctx.workprec(128):
        for j, jd in columns:
            for i in range(N):
                d = D[i, jd]
                if d == 0:
                    continue
                mag = abs(arb(d) * scales[i] * scales[j])
                if best is None or mag > best:
                    best, where = mag, (i, j, d)
    if where is None:
        return None
    i, j, d = where
    entry = sp.sqrt(sp.Rational(int(inv_norm[i].p), int(inv_norm[i].q))) * \
        sp.sqrt(sp.Rational(int(inv_norm[j].p), int(inv_norm[j].q))) * sp.Rational(int(d.p), int(d.q))
    text = sp.sstr(entry)
    return {
        "max_abs_entry": repr(float(best.mid())),
        "entry": [i, j],
        "entry_exact": text if len(text) <= 2000 else None,
        "entries_checked": checked,
        "lag_parameters": [sp.sstr(sp.Rational(int(x.p), int(x.q))) for x in (s1, s2, st)],
        "method": ("exact rational arithmetic: the cores of A = S core S from the exact linear-algebra route "
                   "(model.lag's formulas over QQ); the entry is a nonzero rational times S_n S_k > 0"),
    }


def _symbolic_counterexample(model: LagModel, trial: _Trial):
    """``model.lag`` at the three steps by symbolic integration (small N, time budget), then an exact
    nonzero test of an entry of the difference. A dict, ``None`` (difference exactly zero) or a string
    saying why nothing was decided."""
    if model.N > SYMBOLIC_MAX_N:
        return f"N = {model.N} > {SYMBOLIC_MAX_N}: symbolic lag matrices not attempted"
    start = time.perf_counter()
    try:
        with _budget(SYMBOLIC_SECONDS):
            pairs = [model.lag(*step) for step in (trial.first, trial.second, trial.total)]
            if any(p.route != ROUTE_SYMBOLIC and p.route != "exact-linear-algebra" for p in pairs):
                return "SymPy could not integrate every entry in closed form"
            D = (pairs[1].A * pairs[0].A - pairs[2].A).applyfunc(sp.expand)
            mags = sorted(((abs(float(sp.N(x, 30))), (i, j)) for (i, j), x in
                           ((ij, D[ij]) for ij in ((i, j) for i in range(D.rows) for j in range(D.cols)))
                           if x != 0), reverse=True)
            if not mags:
                return None
            for _, (i, j) in mags[:8]:
                verdict = _exact_zero_test(D[i, j])
                if verdict is False:
                    return {
                        "max_abs_entry": repr(mags[0][0]),
                        "entry": [i, j],
                        "entry_exact": sp.sstr(D[i, j]),
                        "entries_checked": "all entries",
                        "method": ("closed-form lag matrices from model.lag (symbolic integration); the entry is "
                                   "proved nonzero exactly (minimal polynomial of an algebraic number, or of the "
                                   "coefficients of a polynomial in one transcendental number)"),
                        "seconds": round(time.perf_counter() - start, 3),
                    }
    except _OutOfTime:
        return f"symbolic lag matrices did not finish within {SYMBOLIC_SECONDS:g} s"
    except DerivationError as err:
        return f"the lag matrices have no closed form here ({err})"
    except (NotImplementedError, TypeError, ValueError) as err:
        return f"the exact zero test failed ({type(err).__name__})"
    return "no entry of the difference could be proved nonzero exactly"


# ------------------------------------------------------------------------------------ exact check

def _small_model(model: LagModel) -> LagModel | None:
    basis = model.basis
    if basis.name in _bases.BUILTIN and basis.spec == basis.name:
        return model if basis.N <= CHECK_N else derive(model.warp, _bases.BUILTIN[basis.name](CHECK_N))
    return model if basis.N <= CHECK_CUSTOM_MAX_N else None


def _in_q(x):
    """An entry of the scale warp's step ``t -> t + 1`` as a function of ``q = t/(t+1)``: rational in ``q``
    and ``log q`` (log-Laguerre entries carry ``s = log((t+1)/t) = -log q``)."""
    x = x.subs(_T, _Q / (1 - _Q))
    x = x.replace(lambda e: isinstance(e, sp.log), lambda e: sp.log(sp.cancel(e.args[0])))
    return sp.cancel(sp.expand_log(x, force=True))


def _exact_check(model: LagModel) -> dict | None:
    """``A' = A_gen A``, ``A(0) = I``, ``B' = A B_gen``, ``B(0) = 0`` as exact identities in a symbolic step."""
    small = _small_model(model)
    if small is None:
        return None
    n = small.N
    try:
        with _budget(SYMBOLIC_SECONDS):
            Ag, Bg = small.A_gen, small.B_gen
            if small.warp.time_varying:
                # step t -> t + 1 is the dilation q = t/(t+1) = exp(-tau); in q: q A'(q) = -A_gen A, A(1) = I
                A, B = (M.applyfunc(_in_q) for M in small.lag(1, t=_T))
                ra = (_Q * sp.diff(A, _Q) + Ag * A).applyfunc(sp.expand)
                rb = (_Q * sp.diff(B, _Q) + A * Bg).applyfunc(sp.expand)
                a0, b0 = A.subs(_Q, 1), B.subs(_Q, 1)
                what = ("with q = t/(t+1) = exp(-tau), tau = log(1 + 1/t): q dA_t/dq = -A_gen A_t, A_t = I at q = 1, "
                        "q dB_t/dq = -A_t B_gen, B_t = 0 at q = 1")
            else:
                A, B = small.lag(_DELTA)
                ra = (sp.diff(A, _DELTA) - Ag * A).applyfunc(sp.expand)
                rb = (sp.diff(B, _DELTA) - A * Bg).applyfunc(sp.expand)
                a0, b0 = A.subs(_DELTA, 0), B.subs(_DELTA, 0)
                what = "d/dDelta A_Delta = A_gen A_Delta, A_0 = I, d/dDelta B_Delta = A_Delta B_gen, B_0 = 0"
            a0 = a0.applyfunc(sp.simplify)
            b0 = b0.applyfunc(sp.simplify)
            ok = ra == sp.zeros(n, n) and rb == sp.zeros(n, 1) and a0 == sp.eye(n) and b0 == sp.zeros(n, 1)
    except (_OutOfTime, DerivationError):
        return None
    basis = f"{small.basis.spec} (N = {n})"
    statement = (f"{what} hold as exact identities for {small.warp.spec} x {basis}" if ok else
                 f"NOT CONFIRMED: {what} fail to expand to zero for {small.warp.spec} x {basis}")
    return _step(statement, "model.lag with a symbolic step, SymPy expansion of the residuals to 0", CHECKED)


# ------------------------------------------------------------------------------------ discrepancy

def _to_mp_matrix(M, n, m):
    out = mpmath.matrix(n, m)
    for i in range(n):
        for j in range(m):
            out[i, j] = M[i, j] if m > 1 else M[i]
    return out


def _reference(Ag, Bg, tau, n):
    """``expm(tau A)``, ``integral_0^tau expm(s A) ds B`` (top-right block of the exponential of the
    augmented matrix ``[[A, B], [0, 0]] tau``) and the bilinear pair ``(I - tau A/2)^{-1} (I + tau A/2)``,
    ``(I - tau A/2)^{-1} tau B``, as mpmath matrices at the current precision."""
    aug = mpmath.matrix(n + 1, n + 1)
    rhs = mpmath.matrix(n, n + 1)  # [I + tau A/2 | tau B]
    lhs = mpmath.eye(n) - (tau / 2) * Ag
    for i in range(n):
        for j in range(n):
            aug[i, j] = tau * Ag[i, j]
            rhs[i, j] = (tau / 2) * Ag[i, j] + (1 if i == j else 0)
        aug[i, n] = tau * Bg[i]
        rhs[i, n] = tau * Bg[i]
    if n <= MPMATH_EXPM_MAX_N:
        X = mpmath.expm(aug)
        Y = mpmath.inverse(lhs) * rhs
        method = f"mpmath.expm and mpmath.inverse at {mpmath.mp.dps} digits"
    else:
        prec = int(mpmath.mp.prec) + 32
        digits = mpmath.mp.dps + 5

        def to_arb(M):
            out = flint.arb_mat(M.rows, M.cols)
            for i in range(M.rows):
                for j in range(M.cols):
                    out[i, j] = arb(mpmath.nstr(M[i, j], digits, strip_zeros=False))
            return out

        def to_mp(M):
            out = mpmath.matrix(M.nrows(), M.ncols())
            for i in range(M.nrows()):
                for j in range(M.ncols()):
                    out[i, j] = mpmath.mpf(M[i, j].mid().str(digits, radius=False))
            return out
        with flint.ctx.workprec(prec):
            X = to_mp(to_arb(aug).exp())
            Y = to_mp(to_arb(lhs).solve(to_arb(rhs)))
        method = (f"python-flint arb_mat.exp and arb_mat.solve at {prec} bits (mpmath's O(N^3) Python "
                  f"expm is too slow above N = {MPMATH_EXPM_MAX_N})")
    E, Bz = mpmath.matrix(n, n), mpmath.matrix(n, 1)
    Abil, Bbil = mpmath.matrix(n, n), mpmath.matrix(n, 1)
    for i in range(n):
        for j in range(n):
            E[i, j] = X[i, j]
            Abil[i, j] = Y[i, j]
        Bz[i] = X[i, n]
        Bbil[i] = Y[i, n]
    return E, Bz, Abil, Bbil, method


def _compare(X, Y) -> dict:
    """``max_abs`` and ``rel_fro`` (relative Frobenius distance) of ``X`` from ``Y``; ``rel_fro`` is None
    when it is not a finite float (``Y`` is 0, or underflows: a rate of 1e-99)."""
    diff = X - Y
    max_abs = max(abs(diff[i, j]) for i in range(diff.rows) for j in range(diff.cols))
    ref = mpmath.mnorm(Y, "f")
    rel = float(mpmath.mnorm(diff, "f") / ref) if ref != 0 else math.inf
    return {"max_abs": float(max_abs), "rel_fro": rel if math.isfinite(rel) else None}


def _discrepancy(model: LagModel, delta, t) -> dict:
    d = _positive_number(delta, "delta")
    tt = None if t is None else _positive_number(t, "t")
    dps = DISCREPANCY_DPS
    A, B = model.numeric(d, dtype="mpmath", dps=dps, t=tt)      # refuses t for a stationary warp, and no t
    tau = sp.log(1 + d / tt) if model.warp.time_varying else d  # for the scale warp
    Ag, Bg = model.numeric_generator("mpmath", dps=dps)
    n = model.N
    with mpmath.workdps(dps + 10):
        A = _to_mp_matrix(A, n, n)
        B = _to_mp_matrix(B, n, 1)
        Ag = _to_mp_matrix(Ag, n, n)
        Bg = _to_mp_matrix(Bg, n, 1)
        tau_mp = mpmath.mpf(sp.N(tau, dps + 20))
        E, Bz, Abil, Bbil, method = _reference(Ag, Bg, tau_mp, n)
        out = {
            "delta": sp.sstr(d),
            "t": None if tt is None else sp.sstr(tt),
            "tau": sp.sstr(tau),
            "dps": dps,
            "expm_method": method,
            "A_vs_expm": _compare(A, E),
            "B_vs_zoh": _compare(B, Bz),
            "A_vs_bilinear": _compare(A, Abil),
            "B_vs_bilinear": _compare(B, Bbil),
            "status": MEASURED,
        }
    return out


# ------------------------------------------------------------------------------------ decision

def _adjoint_step(model: LagModel, coordinate: str | None) -> dict:
    warp = model.warp
    if warp.time_varying:
        return _step("the step t -> t + D is the dilation lambda(z) = z / q with q = t/(t + D): lambda(0) = 0, "
                     "nothing is truncated, and (L^* p)(y) = q p(q y) (weight 1); steps t1 -> t2 -> t3 compose "
                     "to t1 -> t3 as maps", "adjoint by substitution y = lambda(z) (docs/math.md, section 2.2)",
                     PROVED_ALL)
    if coordinate == "neglog":
        return _step("in y = -log z the lag is the translation y -> y - s (s = -log z_D) and the adjoint in "
                     "L^2(e^{-y} dy) is (L^* p)(y) = e^{-s} p(y + s), defined on all of y >= 0 (no truncation)",
                     "adjoint by substitution", PROVED_ALL)
    return _step("lambda_D(z) = z / q with q = z_D: lambda(0) = 0, so the adjoint does not truncate and "
                 "(L_D^* p)(y) = q p(q y) w(q y) / w(y)",
                 "adjoint by substitution y = lambda(z) (docs/math.md, section 2.2)",
                 PROVED_ALL)


def _composes_steps(model: LagModel, status: str) -> list[dict]:
    if model.warp.time_varying:
        return [
            _step("A_{t2 -> t3} A_{t1 -> t2} = A_{t1 -> t3} and "
                  "B_{t1 -> t3} = A_{t2 -> t3} B_{t1 -> t2} + B_{t2 -> t3} "
                  "for all 0 < t1 < t2 < t3", "invariance of V under the adjoint of every step", status),
            _step("the step t -> t + 1 is A_t = expm(log(1 + 1/t) A_gen) and B_t = integral_0^tau expm(s A_gen) ds "
                  "B_gen, tau = log(1 + 1/t) (= A_gen^{-1}(A_t - I) B_gen when A_gen is invertible), with A_gen, "
                  "B_gen the generator reported at t = 1: in log time tau the steps are the dilations q = exp(-tau) "
                  "of the exponential warp of rate 1, a continuous semigroup with derivative A_gen at 0",
                  "semigroup + generator (docs/math.md, section 3.3)", status),
        ]
    return [
        _step("A_{D1} A_{D2} = A_{D1+D2} and B_{D1+D2} = A_{D2} B_{D1} + B_{D2} for all D1, D2 > 0",
              "invariance of V under L_D^* for every D", status),
        _step("A_D = expm(D A_gen) for every D > 0: D -> A_D is a continuous matrix semigroup with A_0 = I "
              "and derivative A_gen at 0", "semigroup + generator (docs/math.md, section 3.3)", status),
        _step("B_D = integral_0^D expm(s A_gen) ds B_gen (zero-order hold; = A_gen^{-1}(A_D - I) B_gen when "
              "A_gen is invertible): B_{D+h} = A_h B_D + B_h gives B' = A_gen B + B_gen, B(0) = 0",
              "ODE from the semigroup identity for B", status),
    ]


def _base_step() -> dict:
    return _step("lambda_{D1} o lambda_{D2} = lambda_{D1+D2}, so L_{D1} L_{D2} = L_{D1+D2} and "
                 "A_{D1} A_{D2} - A_{D1+D2} = -P L_{D1} (I - P) L_{D2} on V (likewise for B): steps compose "
                 "when the adjoint L_D^* maps V into V",
                 "operator identity, A_D = P L_D |_V (docs/math.md, section 3.3)", PROVED_ALL)


def decide_structure(model: LagModel, delta=None, *, t=None) -> StructureReport:
    """Decide whether the lag steps of ``model`` compose and report why (see the module docstring).

    ``delta`` (optional, with ``t`` for the time-varying scale warp) adds ``discrepancy``: differences of
    ``A_D``, ``B_D`` from ``expm(D A_gen)``, the zero-order hold and the bilinear discretization, from
    values at 40 digits (status "measured"; for the scale warp the step ``t -> t + delta`` against
    ``tau = log(1 + delta/t)``).
    """
    if not isinstance(model, LagModel):
        raise InputError(f"model must be a symderive LagModel (symderive.derive(warp, basis)), got "
                         f"{type(model).__name__}")
    if delta is None and t is not None:
        raise InputError("t is used only with delta (the discrepancy of the step t -> t + delta)")
    start = time.perf_counter()
    warp, basis = model.warp, model.basis
    form = basis.polynomial_form
    family = basis.name in ("legendre", "laguerre") and basis.spec == basis.name
    steps = [_base_step()]
    notes: list[str] = []
    invariant: bool | None = None
    why_not = ""

    if warp.structure == "dilation":
        coordinate = form.coordinate if (form is not None and basis.weight == 1) else None
        steps.append(_adjoint_step(model, coordinate))
        if form is not None and basis.weight == 1:
            invariant, statement, method, status = _polynomial_invariance(form, family)
            steps.append(_step(statement, method, status))
            if form.coordinate == "z" and invariant:
                steps.append(_step("V is invariant under every dilation p(y) -> p(q y) = q^{y d/dy} p, "
                                   "so L_D^* V is in V",
                                   "finite-dimensional exponential of y d/dy", status))
            elif invariant:
                steps.append(_step("V is invariant under every translation p(y) -> p(y + s) = exp(s d/dy) p, "
                                   "so L_D^* V is in V", "Taylor expansion of a polynomial", status))
            else:
                why_not = "V is not invariant under the adjoint of the lag"
        elif basis.fourier_modes is not None and basis.weight == 1:
            if basis.N == 1:
                invariant = True
                steps.append(_step("V = constants, and y d/dy maps constants to 0", "direct", PROVED_THIS))
                steps.append(_step("V is invariant under every dilation, so L_D^* V is in V",
                                   "dilations fix constants", PROVED_THIS))
            else:
                invariant = False
                why_not = "the Euler operator maps the Fourier span outside itself"
                steps.append(_step("V is not invariant under y d/dy: it maps sqrt2 cos(2 pi z) to -2 sqrt2 pi z "
                                   "sin(2 pi z), whose entire extension is not 1-periodic, unlike every element of V "
                                   "(N >= 2)", "identity theorem for entire functions", PROVED_ALL))
        else:
            invariant, method = _symbolic_invariance(basis)
            op = "z d/dz" + (" + z w'/w" if basis.weight != 1 else "")
            if invariant is True:
                steps.append(_step(f"V is invariant under G = {op}, hence under every p -> q p(q z) w(q z)/w(z)",
                                   method, PROVED_THIS))
            elif invariant is False:
                why_not = f"V is not invariant under {op}"
                steps.append(_step(f"V is not invariant under G = {op}", method, PROVED_THIS))
            else:
                why_not = "the invariance of V could not be decided symbolically"
                notes.append(method)
    elif warp.structure == "translation":
        invariant = False
        why_not = "the window's adjoint truncates at lambda(0) = s > 0"
        what = "no nonzero polynomial p has p(y - s) 1[y > s] polynomial" if form is not None else \
            "the adjoint of every step truncates"
        steps.append(_step(f"lambda_D(z) = z + s (s = 1 - z_D > 0): lambda(0) = s, "
                           f"(L_D^* p)(y) = p(y - s) w(y - s) / w(y) "
                           f"1[y > s]; {what}, so V is not invariant"
                           + ("" if form is not None else " for bases of analytic functions"),
                           "adjoint by substitution (docs/math.md, section 2.2)", PROVED_ALL))
    else:
        why_not = "the lag map is neither a dilation nor a translation, so no invariance argument applies"

    if invariant is True:
        status = steps[-1]["status"]
        invariance_reason = steps[2]["statement"]
        steps.extend(_composes_steps(model, status))
        check = _exact_check(model)
        if check is not None:
            steps.append(check)
            if check["statement"].startswith("NOT CONFIRMED"):
                notes.append("the exact symbolic check did not confirm the ODE identities: investigate")
        else:
            notes.append(f"exact symbolic check skipped (custom basis with N > {CHECK_CUSTOM_MAX_N}, or out of time)")
        report = StructureReport(
            composes=True, exact=True, verdict="composes", steps=steps, expm_zoh=True,
            reason=(f"{invariance_reason}, so L_D^* maps V into V, lag steps compose exactly and "
                    + ("A_t = expm(log(1 + 1/t) A_gen) with the zero-order-hold B_t" if warp.time_varying else
                       "A_D = expm(D A_gen) with the zero-order-hold B_D")),
        )
    else:
        trial = _trial(model)
        found = None
        if model.lag_kind in ("dilation", "translation"):
            found = _rational_counterexample(model, trial)
            if found == "irrational":
                found = _symbolic_counterexample(model, trial)
        else:
            found = _symbolic_counterexample(model, trial)
        if isinstance(found, dict):
            found = {**trial.labels, **found}
            pair = (f"t = {trial.labels['t']}: steps 1 -> 2 -> 3 against 1 -> 3" if warp.time_varying else
                    f"D1 = D2 = {trial.labels['D1']}")
            steps.append(_step(f"A_{{D2}} A_{{D1}} != A_{{D1+D2}} at {pair}: entry {tuple(found['entry'])} of the "
                               f"difference is nonzero (largest |entry| {float(found['max_abs_entry']):.6e})",
                               found["method"], PROVED_THIS))
            steps.append(_step("hence A_D != expm(D A_gen) for at least one of the steps compared (the exponentials "
                               "compose)", "contrapositive of the semigroup property", PROVED_THIS))
            report = StructureReport(
                composes=False, exact=True, verdict="does not compose", steps=steps, expm_zoh=False,
                counterexample=found,
                reason=f"{why_not[0].upper() + why_not[1:]}, and an exact counterexample at {pair} shows the steps "
                       f"do not compose",
            )
        else:
            if found is None:
                detail = ("the difference A_{D2} A_{D1} - A_{D1+D2} is exactly zero at the pair tried, "
                          "which proves nothing")
            else:
                detail = found
            report = StructureReport(
                composes=False, exact=False, verdict="undecided", steps=steps, expm_zoh=False,
                reason=f"{why_not[0].upper() + why_not[1:]}; no exact counterexample computed at this N ({detail})",
            )
    report.model = repr(model)
    report.N = model.N
    report.notes = notes
    if delta is not None:
        report.discrepancy = _discrepancy(model, delta, t)
        disc = report.discrepancy
        where = (f"for the step t = {disc['t']} -> {disc['t']} + {disc['delta']} (tau = {disc['tau']})"
                 if disc["t"] is not None else f"at Delta = {disc['delta']}")
        steps.append(_step(
            f"{where}: max |A_Delta - expm(tau A_gen)| = "
            f"{disc['A_vs_expm']['max_abs']:.3e}, max |B_Delta - B_zoh| = {disc['B_vs_zoh']['max_abs']:.3e}, "
            f"max |A_Delta - A_bilinear| = {disc['A_vs_bilinear']['max_abs']:.3e} (tau = Delta for a stationary warp)",
            f"model.numeric / numeric_generator at {DISCREPANCY_DPS} digits; {disc['expm_method']}",
            MEASURED))
    report.seconds = round(time.perf_counter() - start, 3)
    return report
