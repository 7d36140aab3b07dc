"""The exact linear-algebra route: every inner product is coefficient matrix x moment matrix.

With ``p_n = S_n P_n(y)`` (``P`` rational coefficients in the coordinate ``y``, ``S_n = norm_sq[n]^{-1/2}``)
and moments ``mu(m) = integral y^m dz`` over Z (``1/(m+1)`` for ``y = z``, ``m!`` for ``y = -log z``):

Generator (docs/math.md, section 3.1, Propositions 1-2), for a velocity that is a polynomial in ``y``,
``v_y(y) = c sum_r v_r y^r`` (``v_y = dy/dz * v(z)``, the speed of the coordinate along the lag flow)
and ``v(1) = c r1``:

    A_gen = c S (P Mv P^T - r1 (P e)(P e)^T) S,   Mv[i, j] = j sum_r v_r mu(i + j - 1 + r)
    B_gen = c r1 S P e,                           e[i] = y(1)^i

Lag matrices (docs/math.md, sections 2.3 and 4.4) when the lag map is affine in ``y``; ``s`` is the lag parameter:

- ``dilation`` (``y = z``, ``lambda(z) = z / s``, ``s = z_Delta``)::

      A = S P diag(s^{i+1}) H P^T S,   H[i, l] = 1/(i + l + 1)
      B = S P [(1 - s^{i+1}) / (i + 1)]_i

- ``translation`` (``y = z``, ``lambda(z) = z + s``, ``s = 1 - z_Delta``)::

      A = S P M(s) T(s)^T P^T S,   M[i, l] = (1 - s)^{i+l+1} / (i + l + 1),   T[j, l] = C(j, l) s^{j-l}
      B = S P [(1 - (1 - s)^{i+1}) / (i + 1)]_i

- ``neglog-translation`` (``y = -log z``, a dilation in ``z`` is ``y -> y - s``, ``s = -log z_Delta``,
  ``e = exp(-s) = z_Delta``)::

      A = e S P T(s) G P^T S,      G[a, l] = (a + l)!
      B = S P [i! (1 - e sum_{j <= i} s^j / j!)]_i

The formulas are written once against a *ring*: exact rationals, polynomials in ``(s, e)`` over QQ
(symbolic Delta, or an irrational exact value substituted afterwards), or arb balls (numeric values
with rigorous error bounds, so that rounding to float64 or mpmath happens once, from a certified value).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import flint
import sympy as sp
from flint import arb, arb_mat, fmpq, fmpq_mat
from sympy import QQ
from sympy.polys.matrices import DomainMatrix
from sympy.polys.rings import ring as poly_ring

from ..inputs.bases import PolynomialForm

LAG_KINDS = ("dilation", "translation", "neglog-translation")


def moment(coordinate: str, m: int) -> fmpq:
    """``integral_Z y^m dz``: ``1/(m+1)`` for ``y = z``, ``m!`` for ``y = -log z``."""
    return fmpq(1, m + 1) if coordinate == "z" else fmpq(math.factorial(m))


def boundary_value(coordinate: str) -> fmpq:
    """``y(1)``: the coordinate of the present, ``z = 1``."""
    return fmpq(1) if coordinate == "z" else fmpq(0)


# ----------------------------------------------------------------------------- rings

class RationalRing:
    """Exact rationals; matrices are flint ``fmpq_mat``."""

    def __init__(self, s=None):
        self.s = None if s is None else fmpq(s)
        self.e = None

    def mat(self, rows):
        return fmpq_mat(rows) if rows and rows[0] else fmpq_mat(len(rows), 0)

    def from_rational(self, m: fmpq_mat):
        return m

    def rat(self, p, q=1):
        return fmpq(p, q)


class PolynomialRing:
    """Polynomials in ``(s, e)`` over QQ, as SymPy ``DomainMatrix`` entries.

    ``s_expr`` may be a rational (then ``s`` is that constant and only ``e`` stays a variable).
    Entries convert back to SymPy with ``s`` and ``e`` replaced by ``s_expr`` and ``exp(-s_expr)``.
    """

    def __init__(self, s_expr: sp.Expr, need_e: bool):
        self._s_sym, self._e_sym = sp.Dummy("s"), sp.Dummy("e")
        self.ring, s, e = poly_ring([self._s_sym, self._e_sym], QQ)
        self.domain = self.ring.to_domain()
        rational = s_expr.is_Rational
        self.s = self.ring(QQ(int(s_expr.p), int(s_expr.q))) if rational else s
        self.e = e if need_e else None
        self._values = (s_expr, sp.exp(-s_expr))
        self._powers = ([sp.S.One], [sp.S.One])

    def mat(self, rows):
        return DomainMatrix([[self.domain.convert(x) for x in row] for row in rows],
                            (len(rows), len(rows[0]) if rows else 0), self.domain)

    def rat(self, p, q=1):
        return self.ring(QQ(p, q))

    def from_rational(self, m: fmpq_mat):
        return self.mat([[QQ(int(x.p), int(x.q)) for x in row] for row in m.tolist()])

    def _power(self, which: int, k: int) -> sp.Expr:
        cache = self._powers[which]
        while len(cache) <= k:
            cache.append(cache[-1] * self._values[which])
        return cache[k]

    def to_sympy(self, element) -> sp.Expr:
        """``sum c s^a e^b`` with ``s``, ``e`` replaced by the expressions they stand for."""
        terms = []
        for (a, b), c in element.terms():
            coeff = sp.Rational(int(c.numerator), int(c.denominator))
            terms.append(coeff * self._power(0, a) * self._power(1, b))
        return sp.Add(*terms)


class ArbRing:
    """Real balls (python-flint ``arb``, at the precision of the enclosing ``flint.ctx``); ``s`` and
    ``e`` are balls."""

    def __init__(self, s: arb | None, need_e: bool):
        self.s = s
        self.e = (-s).exp() if (need_e and s is not None) else None

    def mat(self, rows):
        return arb_mat(rows) if rows and rows[0] else arb_mat(len(rows), 0)

    def from_rational(self, m: fmpq_mat):
        return arb_mat(m)

    def rat(self, p, q=1):
        return arb(fmpq(p, q))


# ----------------------------------------------------------------------------- formulas

@functools.lru_cache(maxsize=16)
def coefficient_matrix(form: PolynomialForm) -> fmpq_mat:
    """``P`` (N x K) as an exact flint matrix."""
    return fmpq_mat([list(row) for row in form.coeffs])


def _P(form: PolynomialForm, ring):
    return ring.from_rational(coefficient_matrix(form))


_MOMENT_EXTRA = 4  # moment columns beyond K, enough for velocities up to degree 5 without recomputing


@functools.lru_cache(maxsize=16)
def _moment_matrix(form: PolynomialForm, ncols: int) -> fmpq_mat:
    hankel = fmpq_mat([[moment(form.coordinate, i + m) for m in range(ncols)] for i in range(form.K)])
    return coefficient_matrix(form) * hankel


def moment_matrix(form: PolynomialForm, ncols: int | None = None) -> fmpq_mat:
    """``W[n, m] = integral_Z P_n(y) y^m dz`` for ``m < ncols`` (default ``K``): one product ``P x Hankel(mu)``,
    shared by the generator (``(P Mv)[n, j] = j sum_r v_r W[n, j-1+r]``) and the dilation (``H P^T = W^T``)."""
    need = form.K if ncols is None else ncols
    return _moment_matrix(form, max(need, form.K + _MOMENT_EXTRA))


def generator_core(form: PolynomialForm, v_coeffs: list[fmpq], r1: fmpq):
    """``(P Mv P^T - r1 (Pe)(Pe)^T, r1 P e)`` over QQ: the generator before ``c`` and ``S`` scaling."""
    N, K = form.N, form.K
    W = moment_matrix(form, K + len(v_coeffs))
    Wl = W.tolist()
    PMv = fmpq_mat([[fmpq(0) if j == 0 else
                     j * sum((vr * Wl[n][j - 1 + r] for r, vr in enumerate(v_coeffs) if vr), fmpq(0))
                     for j in range(K)] for n in range(N)])
    P = coefficient_matrix(form)
    y1 = boundary_value(form.coordinate)
    Pe = P * fmpq_mat([[y1**i] for i in range(K)])
    A = PMv * P.transpose() - (Pe * Pe.transpose()) * r1
    return A, Pe * r1


def lag_core(kind: str, form: PolynomialForm, ring):
    """``(A_core, B_core)`` with ``A = S A_core S``, ``B = S B_core`` in the ring's arithmetic."""
    if kind not in LAG_KINDS:
        raise ValueError(f"unknown lag kind {kind!r}; valid: {LAG_KINDS}")
    if kind == "dilation" and isinstance(ring, PolynomialRing) and not ring.s.is_ground:
        return _dilation_polynomial(form, ring)
    K, N = form.K, form.N
    s, one = ring.s, ring.rat(1)
    P = _P(form, ring)
    powers = [one]
    for _ in range(K + 1):
        powers.append(powers[-1] * s)
    if kind == "dilation":
        R = ring.from_rational(dilation_factors(form)[1])
        A = P * ring.mat([[powers[i + 1] * R[i, k] for k in range(N)] for i in range(K)])
        b = [(one - powers[i + 1]) * ring.rat(1, i + 1) for i in range(K)]
    elif kind == "translation":
        c = one - s
        cpow = [one]
        for _ in range(2 * K + 1):
            cpow.append(cpow[-1] * c)
        M = ring.mat([[cpow[i + l + 1] * ring.rat(1, i + l + 1) for l in range(K)] for i in range(K)])
        Tt = ring.mat([[powers[j - l] * ring.rat(math.comb(j, l)) if l <= j else ring.rat(0)
                        for j in range(K)] for l in range(K)])
        A = P * M * Tt * P.transpose()
        b = [(one - cpow[i + 1]) * ring.rat(1, i + 1) for i in range(K)]
    else:
        e = ring.e
        T = ring.mat([[powers[i - a] * ring.rat(math.comb(i, a)) if a <= i else ring.rat(0)
                       for a in range(K)] for i in range(K)])
        G = ring.mat([[ring.rat(math.factorial(a + l)) for l in range(K)] for a in range(K)])
        A = (P * T * G * P.transpose()) * e
        b = []
        for i in range(K):
            partial = ring.rat(0)
            for j in range(i + 1):
                partial = partial + powers[j] * ring.rat(1, math.factorial(j))
            b.append((one - e * partial) * ring.rat(math.factorial(i)))
    B = P * ring.mat([[x] for x in b])
    return A, B


@functools.lru_cache(maxsize=16)
def dilation_factors(form: PolynomialForm):
    """``(P, H P^T)`` over QQ: the dilation's ``A_core(s) = sum_i s^{i+1} P[:, i] (H P^T)[i, :]``,
    where ``(H P^T)[i, k] = integral_0^1 z^i P_k dz = W[k, i]``."""
    W = moment_matrix(form).tolist()
    return coefficient_matrix(form), fmpq_mat([[W[k][i] for k in range(form.N)] for i in range(form.K)])


@functools.lru_cache(maxsize=16)
def coefficient_bits(form: PolynomialForm) -> int:
    """``log2`` of the largest ``|P[n, i]|``: about the bits that cancel when the monomial form is
    evaluated in floating point, so a good first working precision for certified evaluation."""
    return max((abs(c).p.bit_length() - c.q.bit_length() for row in form.coeffs for c in row if c), default=0)


@dataclass(frozen=True)
class DilationFactors:
    """The exact ``A_Delta``, ``B_Delta`` of a dilation for every ``Delta`` at once:

        A_Delta = S P diag(q^{i+1}) W^T S,   B_Delta = S P [(1 - q^{i+1}) / (i + 1)]_i,   q = parameter(Delta)

    with ``P``, ``W^T`` exact rational matrices (``flint.fmpq_mat``). Entry ``(n, k)`` is the polynomial
    ``S_n S_k sum_i P[n, i] W[k, i] q^{i+1}``; materializing all of them costs about N^3/6 terms, so
    they are built on demand (:meth:`entry`).
    """

    parameter: sp.Expr
    form: PolynomialForm
    P: fmpq_mat
    WT: fmpq_mat

    def entry(self, n: int, k: int, q: sp.Expr | None = None) -> sp.Expr:
        """``A_Delta[n, k]`` as a SymPy expression in ``q`` (default: the parameter as a function of Delta)."""
        q = self.parameter if q is None else q
        S = scales_sympy(self.form)
        poly = sp.Add(*[sp.Rational(int(c.p), int(c.q)) * q ** (i + 1)
                        for i in range(self.form.K) if (c := self.P[n, i] * self.WT[i, k]) != 0])
        return S[n] * S[k] * poly


def _dilation_polynomial(form: PolynomialForm, ring: PolynomialRing):
    """The dilation for a symbolic ``s``: each entry built directly as a polynomial in ``s``."""
    P, R = dilation_factors(form)
    N, K = form.N, form.K
    Pl = [[P[n, i] for i in range(K)] for n in range(N)]
    Rl = [[R[i, k] for k in range(N)] for i in range(K)]
    poly = ring.ring.from_dict
    rows = []
    for n in range(N):
        row = []
        for k in range(N):
            terms = {}
            for i in range(K):
                c = Pl[n][i] * Rl[i][k] if Pl[n][i] else 0
                if c:
                    terms[(i + 1, 0)] = QQ(int(c.p), int(c.q))
            row.append(poly(terms) if terms else ring.ring.zero)
        rows.append(row)
    A = DomainMatrix(rows, (N, N), ring.domain)
    b = [poly({(0, 0): QQ(1, i + 1), (i + 1, 0): QQ(-1, i + 1)}) for i in range(K)]
    B = _P(form, ring) * ring.mat([[x] for x in b])
    return A, B


# ----------------------------------------------------------------------------- output

def scales_sympy(form: PolynomialForm) -> list[sp.Expr]:
    """``S_n = norm_sq[n]^{-1/2}`` as exact SymPy numbers."""
    return [sp.sqrt(sp.Rational(int(x.q), int(x.p))) for x in form.norm_sq]


def scales_arb(form: PolynomialForm) -> list[arb]:
    return [arb(fmpq(int(x.q), int(x.p))).sqrt() for x in form.norm_sq]


def _entries(matrix) -> list[list]:
    if isinstance(matrix, DomainMatrix):
        return matrix.to_list()
    return [[matrix[i, j] for j in range(matrix.ncols())] for i in range(matrix.nrows())]


@functools.lru_cache(maxsize=1 << 16)
def squarefree_split(m: int) -> tuple[int, int]:
    """``m = s^2 f`` with ``f`` squarefree (``m >= 1``): returns ``(s, f)``."""
    if m < 1:
        raise ValueError(f"squarefree_split needs a positive integer, got {m}")
    s, f = 1, 1
    for prime, exp in flint.fmpz(m).factor():
        s *= int(prime) ** (exp // 2)
        if exp % 2:
            f *= int(prime)
    return s, f


def _scales_split(form: PolynomialForm) -> list[tuple[fmpq, int]]:
    """``S_n = norm_sq[n]^{-1/2} = alpha_n sqrt(f_n)`` with ``alpha_n`` rational, ``f_n`` squarefree."""
    out = []
    for x in form.norm_sq:  # x = p/q, S = sqrt(q/p) = sqrt(p q) / p
        s, f = squarefree_split(int(x.p) * int(x.q))
        out.append((fmpq(s, int(x.p)), f))
    return out


class _RadicalBuilder:
    """Canonical SymPy numbers ``r sqrt(h)`` (``r`` rational, ``h`` squarefree) built without
    SymPy's general Mul flattening, which dominates the cost at large N."""

    def __init__(self):
        self._roots = {}

    def __call__(self, r: fmpq, h: int) -> sp.Expr:
        if r == 0:
            return sp.S.Zero
        coeff = sp.Integer(int(r.p)) if r.q == 1 else sp.Rational(int(r.p), int(r.q))
        if h == 1:
            return coeff
        root = self._roots.get(h)
        if root is None:
            root = self._roots[h] = sp.Pow(sp.Integer(h), sp.S.Half, evaluate=False)
        return root if coeff == 1 else sp.Mul._from_args((coeff, root))


def scaled_entries(rows, form: PolynomialForm, factor: fmpq = fmpq(1), vector: bool = False) -> list[list[tuple]]:
    """The entries of ``factor * S core S`` (or ``factor * S core`` for a column) as pairs ``(r, h)``
    meaning ``r sqrt(h)``, with ``r`` rational and ``h`` a squarefree integer.

    ``rows``: the rational core as nested lists; ``S_n = a_n sqrt(f_n)`` (:func:`_scales_split`), so
    ``S_n x S_k = a_n a_k g x sqrt((f_n / g)(f_k / g))`` with ``g = gcd(f_n, f_k)``.
    """
    split = _scales_split(form)
    out = []
    for n, row in enumerate(rows):
        an, fn = split[n]
        if vector:
            out.append([(factor * an * fmpq(row[0]), fn)])
            continue
        entries = []
        for k, x in enumerate(row):
            ak, fk = split[k]
            g = math.gcd(fn, fk)
            entries.append((factor * an * ak * g * fmpq(x), (fn // g) * (fk // g)))
        out.append(entries)
    return out


def _rational_to_sympy(rows, form: PolynomialForm, factor: fmpq, vector: bool) -> sp.ImmutableMatrix:
    build = _RadicalBuilder()
    return sp.ImmutableMatrix([[build(r, h) for r, h in row] for row in scaled_entries(rows, form, factor, vector)])


def to_sympy(core, form: PolynomialForm, factor: sp.Expr = sp.S.One, ring=None, vector=False) -> sp.ImmutableMatrix:
    """``factor * S core S`` (or ``factor * S core`` for a column) as an exact SymPy matrix."""
    rows = _entries(core)
    rational_core = ring is None or not isinstance(ring, PolynomialRing)
    if rational_core and factor.is_Rational:
        return _rational_to_sympy(rows, form, fmpq(int(factor.p), int(factor.q)), vector)
    S = scales_sympy(form)
    if ring is not None and isinstance(ring, PolynomialRing):
        conv = ring.to_sympy
    else:
        def conv(x):
            x = fmpq(x)
            return sp.Rational(int(x.p), int(x.q))
    out = []
    for n, row in enumerate(rows):
        if vector:
            out.append([factor * S[n] * conv(row[0])])
        else:
            out.append([factor * S[n] * S[k] * conv(x) if x != 0 else sp.S.Zero for k, x in enumerate(row)])
    return sp.ImmutableMatrix(out)


def to_arb(core, form: PolynomialForm, factor: arb | None = None, vector=False) -> arb_mat:
    """``factor * S core S`` (or ``S core``) as an arb matrix; ``core`` is fmpq_mat or arb_mat."""
    S = scales_arb(form)
    M = arb_mat(core) if isinstance(core, fmpq_mat) else core
    n, m = M.nrows(), M.ncols()
    out = arb_mat(n, m)
    for i in range(n):
        for j in range(m):
            x = M[i, j] * S[i] if vector else M[i, j] * S[i] * S[j]
            out[i, j] = x if factor is None else x * factor
    return out


def sympy_to_arb(value: sp.Expr, prec: int) -> arb:
    """A ball containing the exact SymPy real number ``value``, about ``prec`` bits wide."""
    if value.is_Rational:
        return arb(fmpq(int(value.p), int(value.q)))
    dps = int(prec * 0.30103) + 20
    approx = sp.N(value, dps)
    if not approx.is_real:
        raise ValueError(f"expected a real number, got {value}")
    with flint.ctx.workprec(prec + 70):
        mid = arb(str(approx))
    return arb(mid.mid(), abs(mid.mid()) * arb(2) ** (-(prec + 60)) + mid.rad() + arb(2) ** (-(prec + 60)))
