"""Decide, exactly, whether a derived ``(A, B)`` equals a family's ``(A_F, B_F)`` up to a transformation.

The transformations are compositions of a time rescaling (``A -> a A``, ``B -> a B``), a diagonal
similarity (``A -> D A D^-1``, ``B -> D B``) and a tilt (``A -> A + c I``). Every composition has the
form

    A = a D A_F D^-1 + c I,      B = a D B_F,                           (*)

with ``a != 0``, ``D`` invertible diagonal. Write ``g_n = a d_n``. Then (*) reads

    B[n] = g_n B_F[n],     A[n, k] g_k = a g_n A_F[n, k]  (n != k),     A[n, n] = a A_F[n, n] + c.

**The parameters are forced.** Each ``g_n`` with ``B_F[n] != 0`` is ``B[n] / B_F[n]``; ``a`` then follows
from any off-diagonal entry joining two known ``g`` (or from two unequal diagonal entries of ``A_F``),
``c`` from any diagonal entry, and the remaining ``g_n`` by walking the off-diagonal nonzero pattern.
So if (*) has a solution it is this candidate: checking the candidate entry by entry in exact
arithmetic (:mod:`.exact_numbers`) either proves the equivalence or proves that none exists. States
that no equation touches are free (``d_n = 1`` is reported).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import sympy as sp
from flint import fmpq_mat

from ..errors import DerivationError
from ..symbols import N_SYM as _n
from .exact_numbers import Exact, NotExact

IDENTICAL, EQUIVALENT, NOT_EQUIVALENT = "identical", "equivalent", "not-equivalent"


@dataclass
class Comparison:
    """The outcome of :func:`compare` (see :attr:`verdict`); every field is plain data or Exact numbers."""

    verdict: str
    N: int
    time_scale: Exact | None = None
    diagonal: list | None = None
    tilt: Exact | None = None
    steps: list = field(default_factory=list)
    failure: dict | None = None          # where the forced candidate (or the zero pattern) fails
    seconds: float = 0.0

    def transformation(self) -> dict | None:
        """The transformation's parameters as strings (None unless ``equivalent``)."""
        if self.verdict != EQUIVALENT:
            return None
        one = Exact.rational(1)
        out = {"form": "A = a * D * A_family * D^-1 + c * I,  B = a * D * B_family",
               "time_scale": str(self.time_scale), "tilt": str(self.tilt),
               "diagonal": [str(x) for x in self.diagonal],
               "diagonal_formula": diagonal_formula(self.diagonal)}
        out["components"] = [name for name, trivial in (
            ("time rescaling", self.time_scale == one),
            ("diagonal similarity", all(x == one for x in self.diagonal)),
            ("tilt", self.tilt.is_zero)) if not trivial]
        return out


def _ratio(x: Exact, y: Exact) -> Exact:
    try:
        return x / y
    except NotExact as exc:
        raise DerivationError(f"cannot divide {x} by {y} exactly: {exc}") from None


def compare(A, B, AF, BF) -> Comparison:
    """Exact verdict for ``(A, B)`` against ``(AF, BF)`` (rows of :class:`Exact`; module docstring)."""
    start = time.perf_counter()
    N = len(A)
    if len(AF) != N or len(B) != N or len(BF) != N:
        raise ValueError("matrices of different sizes")
    steps = []

    def done(result: Comparison) -> Comparison:
        result.steps = steps
        result.seconds = time.perf_counter() - start
        return result

    if A == AF and B == BF:
        steps.append({"statement": f"A == A_family and B == B_family entry by entry ({N * N + N} exact comparisons)",
                      "status": "exact"})
        return done(Comparison(IDENTICAL, N))
    steps.append({"statement": "not identical: searching A = a D A_F D^-1 + c I, B = a D B_F "
                               "(time rescaling, diagonal similarity, tilt)", "status": "exact"})

    # 1. zero patterns: a, d_n nonzero keep off-diagonal zeros and zeros of B
    for n in range(N):
        if B[n].is_zero != BF[n].is_zero:
            return done(Comparison(NOT_EQUIVALENT, N, failure={
                "reason": "zero pattern of B differs (a D B_F has the zeros of B_F)",
                "entry": [n], "derived": str(B[n]), "family": str(BF[n])}))
        for k in range(N):
            if n != k and A[n][k].is_zero != AF[n][k].is_zero:
                return done(Comparison(NOT_EQUIVALENT, N, failure={
                    "reason": "off-diagonal zero pattern of A differs (a D A_F D^-1 has the off-diagonal "
                              "zeros of A_F)", "entry": [n, k], "derived": str(A[n][k]), "family": str(AF[n][k])}))
    steps.append({"statement": "zero patterns of B and of the off-diagonal of A agree", "status": "exact"})

    # 2. g_n = B[n] / B_F[n] where B_F[n] != 0
    g = [None] * N
    for n in range(N):
        if not BF[n].is_zero:
            g[n] = _ratio(B[n], BF[n])
    edges = [(n, k) for n in range(N) for k in range(N) if n != k and not AF[n][k].is_zero]

    # 3. a: from an edge with both ends known, else from two unequal diagonal entries of A_F
    a, how = None, None
    for n, k in edges:
        if g[n] is not None and g[k] is not None:
            a = _ratio(A[n][k] * g[k], g[n] * AF[n][k])
            how = f"a = A[{n},{k}] g_{k} / (g_{n} A_F[{n},{k}]), with g = B / B_F"
            break
    if a is None:
        for i in range(1, N):
            if AF[i][i] != AF[0][0]:
                a = _ratio(A[i][i] - A[0][0], AF[i][i] - AF[0][0])
                how = f"a = (A[{i},{i}] - A[0,0]) / (A_F[{i},{i}] - A_F[0,0])"
                break
    if a is None:
        raise DerivationError("the time scale a is not determined by the family's matrices "
                              "(no usable off-diagonal or diagonal entries): cannot decide")
    if a.is_zero:
        return done(Comparison(NOT_EQUIVALENT, N, failure={
            "reason": f"the forced time scale is 0 ({how}), which is not a valid rescaling"}))
    steps.append({"statement": f"time scale forced: {how} = {a}", "status": "exact"})
    c = A[0][0] - a * AF[0][0]
    steps.append({"statement": f"tilt forced by the first diagonal entry: c = A[0,0] - a A_F[0,0] = {c}",
                  "status": "exact"})

    # 4. propagate g along the off-diagonal pattern (breadth first from every known state)
    neighbours = [[] for _ in range(N)]
    for n, k in edges:
        neighbours[n].append(k)
        neighbours[k].append(n)
    queue = deque(n for n in range(N) if g[n] is not None)
    while queue:
        k = queue.popleft()
        for n in neighbours[k]:
            if g[n] is None:
                if not AF[n][k].is_zero:      # A[n,k] g_k = a g_n A_F[n,k]
                    g[n] = _ratio(A[n][k] * g[k], a * AF[n][k])
                else:                         # A[k,n] g_n = a g_k A_F[k,n]
                    g[n] = _ratio(a * g[k] * AF[k][n], A[k][n])
                queue.append(n)
    free = [n for n in range(N) if g[n] is None]
    for n in free:
        g[n] = a
    if free:
        steps.append({"statement": f"states {free[:8]}{'...' if len(free) > 8 else ''} are touched by no "
                                   "equation: their d_n is free, set to 1", "status": "exact"})
    if any(x.is_zero for x in g):
        n = next(i for i, x in enumerate(g) if x.is_zero)
        return done(Comparison(NOT_EQUIVALENT, N, failure={
            "reason": f"the forced similarity has d_{n} = 0 (not invertible)"}))
    steps.append({"statement": "similarity forced: d_n = B[n] / (a B_F[n]), completed along nonzero "
                               "off-diagonal entries of A_F", "status": "exact"})

    # 5. check the candidate everywhere
    for n in range(N):
        if B[n] != g[n] * BF[n]:
            return done(_fail(N, a, g, c, "B", [n], B[n], g[n] * BF[n]))
        gn = g[n]
        for k in range(N):
            if n == k:
                target = a * AF[n][n] + c
                if A[n][n] != target:
                    return done(_fail(N, a, g, c, "A", [n, n], A[n][n], target))
            elif not AF[n][k].is_zero:
                if A[n][k] * g[k] != a * gn * AF[n][k]:
                    return done(_fail(N, a, g, c, "A", [n, k], A[n][k], _ratio(a * gn * AF[n][k], g[k])))
    steps.append({"statement": f"candidate checked on all {N * N + N} entries of A and B", "status": "exact"})
    d = [_ratio(x, a) for x in g]
    return done(Comparison(EQUIVALENT, N, time_scale=a, diagonal=d, tilt=c))


def _fail(N, a, g, c, which, entry, derived, transformed) -> Comparison:
    return Comparison(NOT_EQUIVALENT, N, time_scale=a, diagonal=[_ratio(x, a) for x in g], tilt=c, failure={
        "reason": "the only candidate allowed by the equations (time scale, similarity and tilt are forced) "
                  f"fails at {which}{entry}",
        "entry": entry, "derived": str(derived), "family_transformed": str(transformed),
        "candidate": {"time_scale": str(a), "tilt": str(c)}})


# ------------------------------------------------------------------ reporting helpers

def diagonal_formula(d: list) -> str | None:
    """``d_n`` as ``sign(n) * sqrt(p n + q)`` or ``sign(n) / sqrt(p n + q)`` (sign ``1``, ``-1`` or
    ``+-(-1)^n``) when such a formula fits every entry exactly, else None."""
    if not d or any(not x.is_monomial or x.terms[0][0][1] != 0 for x in d):
        return None
    squares = [(x * x).as_rational() for x in d]
    signs = [1 if x.terms[0][1] > 0 else -1 for x in d]
    sign_patterns = ((lambda i: 1, sp.S.One), (lambda i: -1, -sp.S.One),
                     (lambda i: (-1) ** i, (-1) ** _n), (lambda i: -((-1) ** i), -(-1) ** _n))
    sign_expr = next((expr for pattern, expr in sign_patterns
                      if all(signs[i] == pattern(i) for i in range(len(d)))), None)
    if sign_expr is None:
        return None
    for power in (1, -1):
        values = [x ** power for x in squares]
        p = values[1] - values[0] if len(d) > 1 else 0 * values[0]
        q = values[0]
        if all(values[i] == p * i + q for i in range(len(d))):
            radicand = sp.Rational(int(p.p), int(p.q)) * _n + sp.Rational(int(q.p), int(q.q))
            return sp.sstr(sign_expr * sp.sqrt(radicand) ** power)
    return None


def exact_rank(M: list[list[Exact]]) -> int | None:
    """Rank of a matrix of :class:`Exact` entries, exactly, or None if not computed.

    When every nonzero entry is a monomial ``r sqrt(h) pi^e`` and ``M = U R V`` for diagonal ``U``, ``V``
    of monomials and rational ``R`` (found by walking the nonzero pattern), the rank is ``rank(R)``
    over QQ (flint). Otherwise the rank is left uncomputed (None)."""
    rows, cols = len(M), len(M[0]) if M else 0
    if any(not x.is_zero and not x.is_monomial for row in M for x in row):
        return None
    u, v = [None] * rows, [None] * cols       # monomials: row and column factors
    for start in range(rows):
        if u[start] is not None or all(x.is_zero for x in M[start]):
            continue
        u[start] = Exact.rational(1)
        stack = [("r", start)]
        while stack:
            kind, i = stack.pop()
            if kind == "r":
                for j in range(cols):
                    if not M[i][j].is_zero and v[j] is None:
                        v[j] = M[i][j] / u[i]
                        stack.append(("c", j))
            else:
                for r in range(rows):
                    if not M[r][i].is_zero and u[r] is None:
                        u[r] = M[r][i] / v[i]
                        stack.append(("r", r))
    R = fmpq_mat(rows, cols)
    for i in range(rows):
        for j in range(cols):
            if M[i][j].is_zero:
                continue
            x = M[i][j] / (u[i] * v[j])
            if not x.is_rational:
                return None
            R[i, j] = x.as_rational()
    return R.rank()
