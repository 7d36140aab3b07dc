"""Closed forms of the generator ``(A_gen, B_gen)`` in symbolic ``n, k``, checked exactly.

For every built-in warp x basis pair with a generator, :func:`closed_form` gives ``A_gen[n, k]`` and
``B_gen[n]`` as SymPy expressions in the integer symbols :data:`N_SYM`, :data:`K_SYM` (``>= 0``), with
the warp's parameter ``theta`` (rate or window) substituted as an exact number. Written out
(``v = 1/g'`` is the velocity of the warp, docs/math.md, section 2.1; ``s = sqrt((2n+1)(2k+1))``;
``m(n) = ceiling(n/2)`` is the Fourier mode index):

==============================  =====================================================================
exponential(theta) x legendre   HiPPO-LegS, negated: ``-theta s`` (n > k), ``-theta (n+1)`` (n = k),
                                0 (n < k); ``B = theta sqrt(2n+1)``
linear(theta) x legendre        HiPPO-LegT (orthonormal): ``-s/theta`` (n >= k),
                                ``-(-1)^(n-k) s/theta`` (n < k); ``B = sqrt(2n+1)/theta``
exponential(theta) x laguerre   HiPPO-LagT, negated: ``-theta`` (n >= k), 0 (n < k); ``B = theta``
linear(theta) x fourier         FouT-like: ``-a_n a_k / theta`` plus ``+-2 pi m / theta`` on the
                                cos/sin pairs of one mode; ``B = a_n / theta``
exponential(theta) x fourier    rational entries ``2 m_n^2/(m_k^2 - m_n^2)`` (cos/cos),
                                ``2 m_n m_k/(m_k^2 - m_n^2)`` (sin/sin), ``-3/2``, ``-1/2`` on the
                                diagonal, ``+-pi m`` on the cos/sin pairs, times ``theta``
scale x (any of the three)      the exponential warp of rate 1 (the generator is reported at t = 1)
linear x laguerre               no generator (the integral of 1/z diverges): None
==============================  =====================================================================

with ``a_n = p_n(1)``: 1 for the constant, ``sqrt 2`` for a cosine, 0 for a sine. The Fourier
entries were derived by hand from Proposition 1 with the mode moments of
:mod:`symderive.derivation.trigonometric`; :mod:`.proofs` proves the pairs it can for all ``n, k``.

:func:`check_closed_form` compares a closed form with the derived matrices *exactly*: the formula is
compiled once into nested Python closures over ints, ``flint.fmpq`` and
:class:`~.exact_numbers.Exact` (no ``eval``/``exec``/``lambdify``), evaluated at every ``(n, k)``, and
compared with :func:`~.derived.generator_exact` normal form against normal form.

The templates themselves (and :class:`ClosedForm`, :func:`template`, :func:`pair_kind`) live in
:mod:`.closed_form_templates`, which both this module and :mod:`.proofs` import; this module imports
:mod:`.proofs` for :func:`closed_form`'s proof, and :mod:`.proofs` does not import this module.
"""

from __future__ import annotations

import time
from dataclasses import replace

import sympy as sp
from flint import fmpq

from .closed_form_templates import (K_SYM, N_SYM, THETA, ClosedForm, instantiate, mode_index,
                                    pair_kind, template)
from .exact_numbers import Exact, NotExact
from .proofs import prove as _prove

__all__ = ["N_SYM", "K_SYM", "THETA", "ClosedForm", "closed_form", "template", "pair_kind",
           "check_closed_form", "compile_expression", "format_closed_form"]


def closed_form(warp, basis, *, prove: bool = True) -> ClosedForm | None:
    """The closed form of ``warp`` x ``basis`` (module docstring), or None (custom inputs, linear x
    laguerre). ``proved_all_n`` is True only when :func:`.proofs.prove` proves it (cached per pair kind
    and parameter; ``prove=False`` skips the proof and reports False)."""
    cf = instantiate(warp, basis)
    if cf is None or not prove:
        return cf
    proof = _prove(warp, basis)
    return replace(cf, proved_all_n=proof is not None and proof.proved_all_n)


# --------------------------------------------------------------------------- the evaluator

class EvaluationError(ValueError):
    """The expression contains a node the exact evaluator does not handle."""


def _as_exact(value) -> Exact:
    if isinstance(value, Exact):
        return value
    if isinstance(value, (int, fmpq)):
        return Exact.rational(value)
    raise EvaluationError(f"a condition (boolean) where a number was expected: {value!r}")


def _as_rational(value):
    """An int or fmpq for comparisons and integer-valued operations."""
    if isinstance(value, (int, fmpq)):
        return value
    if isinstance(value, Exact):
        return value.as_rational()
    raise EvaluationError(f"expected a number, got {value!r}")


def _as_int(value, what: str) -> int:
    value = _as_rational(value)
    if isinstance(value, fmpq):
        if value.q != 1:
            raise EvaluationError(f"{what} needs an integer, got {value}")
        return int(value.p)
    return value


def _pow_int(base, e: int):
    if isinstance(base, Exact):
        if e < 0:
            base, e = base.inverse(), -e
        out = Exact.rational(1)
        for _ in range(e):
            out = out * base
        return out
    if e >= 0:
        return base ** e
    return fmpq(base) ** e if base != 0 else _raise(ZeroDivisionError("division by zero in the formula"))


def _raise(exc):
    raise exc


_PI = Exact.monomial(1, 1, 1)


def _sqrt(value):
    """``sqrt`` of a rational value (int or fmpq or rational Exact), exact."""
    return Exact.sqrt_rational(_as_rational(value))


def _half_power(base, p: int):
    """``base ** (p/2)`` for odd ``p``."""
    root = _sqrt(base)
    return _pow_int(root, p)


def _floor(value) -> int:
    value = _as_rational(value)
    if isinstance(value, int):
        return value
    return int(value.p) // int(value.q)


def _compile_condition(cond, syms, memo):
    if cond is sp.true:
        return lambda *a: True
    if cond is sp.false:
        return lambda *a: False
    if isinstance(cond, (sp.And, sp.Or)):
        parts = [_compile_condition(c, syms, memo) for c in cond.args]
        if isinstance(cond, sp.And):
            return lambda *a: all(p(*a) for p in parts)
        return lambda *a: any(p(*a) for p in parts)
    if isinstance(cond, sp.Not):
        inner = _compile_condition(cond.args[0], syms, memo)
        return lambda *a: not inner(*a)
    if isinstance(cond, sp.Eq):
        lhs, rhs = (_compile(x, syms, memo) for x in cond.args)
        return lambda *a: _as_exact(lhs(*a)) == _as_exact(rhs(*a))
    if isinstance(cond, sp.Ne):
        lhs, rhs = (_compile(x, syms, memo) for x in cond.args)
        return lambda *a: _as_exact(lhs(*a)) != _as_exact(rhs(*a))
    ops = {sp.StrictGreaterThan: lambda x, y: x > y, sp.StrictLessThan: lambda x, y: x < y,
           sp.GreaterThan: lambda x, y: x >= y, sp.LessThan: lambda x, y: x <= y}
    for cls, op in ops.items():
        if isinstance(cond, cls):
            lhs, rhs = (_compile(x, syms, memo) for x in cond.args)
            return lambda *a, op=op: op(_as_rational(lhs(*a)), _as_rational(rhs(*a)))
    raise EvaluationError(f"unsupported condition {sp.sstr(cond)} ({type(cond).__name__})")


def _memoized(fn, index):
    cache = {}

    def wrapper(*a):
        key = a[index]
        try:
            return cache[key]
        except KeyError:
            value = cache[key] = fn(*a)
            return value
    return wrapper


def _compile(expr, syms, memo=True):
    """A closure ``f(*values_of_syms)`` for ``expr``. Subtrees that depend on one symbol only are
    memoized on that symbol's value (``sqrt(2k+1)`` is computed N times, not N^2 times); constant
    subtrees are evaluated once, at compile time."""
    used = [i for i, s in enumerate(syms) if expr.has(s)]
    if memo and not expr.is_Symbol and not expr.is_Number and len(used) <= 1:
        inner = _compile_node(expr, syms, memo=False)
        if not used:
            try:
                value = inner(*(0 for _ in syms))
            except (ZeroDivisionError, NotExact, EvaluationError) as exc:
                return lambda *a, exc=exc: _raise(exc)
            return lambda *a: value
        return _memoized(inner, used[0])
    return _compile_node(expr, syms, memo)


def _compile_node(expr, syms, memo):
    if expr.is_Symbol:
        if expr not in syms:
            raise EvaluationError(f"free symbol {expr} (substitute the warp parameter first)")
        i = syms.index(expr)
        return lambda *a: a[i]
    if expr.is_Integer:
        v = int(expr)
        return lambda *a: v
    if expr.is_Rational:
        v = fmpq(int(expr.p), int(expr.q))
        return lambda *a: v
    if expr is sp.pi:
        return lambda *a: _PI
    if isinstance(expr, (sp.Add, sp.Mul)):
        parts = [_compile(x, syms, memo) for x in expr.args]
        if isinstance(expr, sp.Add):
            def add(*a):
                total = parts[0](*a)
                for p in parts[1:]:
                    total = total + p(*a)
                return total
            return add

        def mul(*a):
            total = parts[0](*a)
            for p in parts[1:]:
                total = total * p(*a)
            return total
        return mul
    if isinstance(expr, sp.Pow):
        base, e = expr.args
        if base == -1:  # (-1)**(integer expression): the parity of the exponent
            fe = _compile(e, syms, memo)
            return lambda *a: -1 if _as_int(fe(*a), "(-1)**x") % 2 else 1
        fb = _compile(base, syms, memo)
        if e.is_Integer:
            ei = int(e)
            return lambda *a: _pow_int(fb(*a), ei)
        if e.is_Rational and e.q == 2:
            p = int(e.p)
            return lambda *a: _half_power(fb(*a), p)
        raise EvaluationError(f"unsupported power {sp.sstr(expr)}: exponents must be integers or halves")
    if isinstance(expr, sp.Mod):
        fa, fm = (_compile(x, syms, memo) for x in expr.args)
        return lambda *a: _as_int(fa(*a), "Mod") % _as_int(fm(*a), "Mod")
    if isinstance(expr, sp.floor):
        fa = _compile(expr.args[0], syms, memo)
        return lambda *a: _floor(fa(*a))
    if isinstance(expr, sp.ceiling):
        fa = _compile(expr.args[0], syms, memo)
        return lambda *a: -_floor(-_as_rational(fa(*a)))
    if isinstance(expr, sp.KroneckerDelta):
        fi, fj = (_compile(x, syms, memo) for x in expr.args[:2])
        return lambda *a: 1 if _as_exact(fi(*a)) == _as_exact(fj(*a)) else 0
    if isinstance(expr, sp.Piecewise):
        branches = [(_compile(e, syms, memo), _compile_condition(c, syms, memo)) for e, c in expr.args]

        def piecewise(*a):
            for fe, fc in branches:
                if fc(*a):
                    return fe(*a)
            raise EvaluationError(f"no branch of {sp.sstr(expr)} applies at {a}")
        return piecewise
    if expr.is_Number:  # Float, NaN, infinities
        raise EvaluationError(f"{sp.sstr(expr)} is not an exact rational number")
    raise EvaluationError(f"unsupported node {type(expr).__name__}: {sp.sstr(expr)}")


def compile_expression(expr: sp.Expr, symbols=(N_SYM, K_SYM)):
    """``f(*ints) -> Exact``: ``expr`` compiled once into closures (module docstring).

    Handles Add, Mul, Pow with integer or half-integer exponents (square roots of rationals),
    ``(-1)**x``, Integer, Rational, pi, Mod, floor, ceiling, KroneckerDelta and Piecewise with
    Eq/Ne/Gt/Lt/Ge/Le/And/Or/Not conditions. Anything else raises :class:`EvaluationError` at compile
    time; a value outside the exact normal form raises :class:`~.exact_numbers.NotExact` when evaluated."""
    syms = tuple(symbols)
    f = _compile(sp.sympify(expr), syms)

    def evaluate(*values):
        return _as_exact(f(*values))
    return evaluate


# --------------------------------------------------------------------------- the check

def check_closed_form(cf: ClosedForm, model, max_mismatches: int = 5, *, derived=None) -> dict:
    """Compare ``cf`` with the derived generator of ``model`` exactly, for every ``n, k < model.N``.

    ``derived`` is ``(A_gen rows, B_gen)`` of ``model`` as :func:`~.derived.generator_exact` returns
    them, when the caller has them already (:func:`.verify.verify` does); by default they are computed here.

    Each basis built in is *nested*: its first ``N'`` functions do not depend on ``N``, so ``A_gen`` at
    any ``N' <= N`` is the leading ``N' x N'`` block of ``A_gen`` at ``N`` (and ``B_gen`` the leading
    entries): a check at ``N`` covers every ``N' <= N``.

    Returns ``{"N", "checked_entries", "mismatches", "mismatch_count", "ok", "seconds",
    "derive_seconds", "evaluate_seconds"}`` (``derive_seconds`` counts only a derivation done here);
    ``mismatches`` lists up to ``max_mismatches`` tuples
    ``(n, k, formula_value, derived_value)`` (``k`` is None for an entry of ``B_gen``; a formula that
    cannot be evaluated exactly at an entry reports the error text as its value).
    """
    from .derived import generator_exact

    t0 = time.perf_counter()
    if derived is None:
        A_d, B_d, _route = generator_exact(model)
    else:
        A_d, B_d = derived
    t1 = time.perf_counter()
    fA = compile_expression(cf.A, (N_SYM, K_SYM))
    fB = compile_expression(cf.B, (N_SYM,))
    N = model.N
    mismatches, count = [], 0

    def compare(value_fn, derived, n, k):
        nonlocal count
        try:
            value = value_fn()
        except (ZeroDivisionError, NotExact, EvaluationError) as exc:
            value = f"{type(exc).__name__}: {exc}"
        if not isinstance(value, Exact) or value != derived:
            count += 1
            if len(mismatches) < max_mismatches:
                mismatches.append((n, k, value, derived))

    for n in range(N):
        row = A_d[n]
        for k in range(N):
            compare(lambda: fA(n, k), row[k], n, k)
        compare(lambda: fB(n), B_d[n], n, None)
    t2 = time.perf_counter()
    return {"N": N, "checked_entries": N * N + N, "mismatches": mismatches, "mismatch_count": count,
            "ok": count == 0, "seconds": t2 - t0, "derive_seconds": t1 - t0, "evaluate_seconds": t2 - t1}


# --------------------------------------------------------------------------- printing

def _cond_text(cond) -> str:
    if cond is sp.true:
        return "otherwise"
    if isinstance(cond, sp.And):
        return " and ".join(_cond_text(c) for c in cond.args)
    if isinstance(cond, sp.Or):
        return " or ".join(f"({_cond_text(c)})" if isinstance(c, sp.And) else _cond_text(c) for c in cond.args)
    if isinstance(cond, sp.Eq) and isinstance(cond.lhs, sp.Mod) and cond.lhs.args[1] == 2 and cond.rhs in (0, 1):
        return f"{sp.sstr(cond.lhs.args[0])} {'odd' if cond.rhs == 1 else 'even'}"
    if isinstance(cond, sp.Eq):
        return f"{sp.sstr(cond.lhs)} = {sp.sstr(cond.rhs)}"
    if isinstance(cond, sp.Ne):
        return f"{sp.sstr(cond.lhs)} != {sp.sstr(cond.rhs)}"
    if isinstance(cond, sp.Rel):
        return f"{sp.sstr(cond.lhs)} {cond.rel_op} {sp.sstr(cond.rhs)}"
    return sp.sstr(cond)


def _expr_lines(name: str, expr) -> list[str]:
    expr = sp.piecewise_fold(expr)
    if not isinstance(expr, sp.Piecewise):
        return [f"{name} = {sp.sstr(expr)}"]
    values = [sp.sstr(e) for e, _ in expr.args]
    width = max(len(v) for v in values)
    pad = " " * (len(name) + 3)
    lines = []
    for i, (v, (_, c)) in enumerate(zip(values, expr.args)):
        cond = _cond_text(c)
        cond = cond if cond == "otherwise" else "if " + cond
        lines.append(f"{name + ' = ' if i == 0 else pad}{{ {v.ljust(width)}   {cond}")
    return lines


def format_closed_form(cf: ClosedForm) -> str:
    """A readable multi-line text: the description, ``A_gen[n, k]`` and ``B_gen[n]`` as cases, and
    whether the form is proved for all ``n, k``. Fourier mode indices ``ceiling(n/2)``,
    ``ceiling(k/2)`` print as ``m_n``, ``m_k``."""
    names = {mode_index(N_SYM): sp.Symbol("m_n"), mode_index(K_SYM): sp.Symbol("m_k")}
    A, B = cf.A.xreplace(names), cf.B.xreplace(names)
    lines = [cf.description + (f"  [{cf.pair}]" if cf.pair else "")]
    lines += _expr_lines("A_gen[n, k]", A)
    lines += _expr_lines("B_gen[n]", B)
    if A != cf.A or B != cf.B:
        lines.append("  where m_n = ceiling(n/2), m_k = ceiling(k/2) (the Fourier mode index)")
    if isinstance(sp.piecewise_fold(A), sp.Piecewise) or isinstance(sp.piecewise_fold(B), sp.Piecewise):
        lines.append("  (cases are read top to bottom: the first matching case applies)")
    lines.append("proved for all n, k: " + ("yes (see symderive.verification.proofs)" if cf.proved_all_n
                                              else "no (checked exactly up to a finite N only)"))
    return "\n".join(lines)
