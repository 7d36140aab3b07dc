"""Evaluate a SymPy expression at many points in ball arithmetic (python-flint ``arb``).

The numeric route needs warps and bases at hundreds of quadrature nodes, at a working precision
above float64 and with rounding errors tracked. :func:`compile_arb` walks the SymPy tree once and
returns a function of a numpy object array of ``arb`` values (one per node); the loop over nodes
runs in numpy, each operation in flint. Nothing is evaluated as Python code: only the node types
listed in ``_FUNCTIONS`` and ``Add``, ``Mul``, ``Pow``, numbers, ``pi``, ``E`` and the one variable
are understood, and anything else raises :class:`UnsupportedExpression`.

Values that are not real (``log`` of a negative number, ``sqrt(-1)``) come back as non-finite
balls; :func:`require_finite` turns them into a :class:`~symderive.errors.DerivationError` that
names the expression and the point.
"""

from __future__ import annotations

import math

import flint
import mpmath
import numpy as np
import sympy as sp
from flint import arb, fmpq

from .._limits import SymbolicTimeout, time_limit
from ..errors import DerivationError


class UnsupportedExpression(DerivationError):
    """The expression holds a function the ball evaluator does not know."""


def _unary(method):
    return np.frompyfunc(method, 1, 1)


_FUNCTIONS = {
    sp.exp: _unary(lambda a: a.exp()),
    sp.log: _unary(lambda a: a.log()),
    sp.sin: _unary(lambda a: a.sin()),
    sp.cos: _unary(lambda a: a.cos()),
    sp.tan: _unary(lambda a: a.tan()),
    sp.sinh: _unary(lambda a: a.sinh()),
    sp.cosh: _unary(lambda a: a.cosh()),
    sp.tanh: _unary(lambda a: a.tanh()),
    sp.asin: _unary(lambda a: a.asin()),
    sp.acos: _unary(lambda a: a.acos()),
    sp.atan: _unary(lambda a: a.atan()),
    sp.asinh: _unary(lambda a: a.asinh()),
    sp.acosh: _unary(lambda a: a.acosh()),
    sp.atanh: _unary(lambda a: a.atanh()),
    sp.erf: _unary(lambda a: a.erf()),
    sp.Abs: _unary(abs),
    sp.LambertW: _unary(lambda a: a.lambertw()),
}
_SQRT = _unary(lambda a: a.sqrt())
_POWER = np.frompyfunc(lambda a, b: a ** b, 2, 1)
_FINITE = np.frompyfunc(lambda a: a.is_finite(), 1, 1)


def constant(value: sp.Expr) -> arb:
    """A ball for an exact SymPy constant (rational, pi, E, or an expression of them)."""
    return compile_arb(value, None)(np.array([arb(0)], dtype=object))[0]


def compile_arb(expr: sp.Expr, variable: sp.Symbol | None):
    """``F(points) -> values``: ``expr`` as a function of ``variable`` on an object array of balls.

    Evaluated at the precision of the enclosing ``flint.ctx`` (``flint.ctx.workprec``)."""
    expr = sp.sympify(expr)
    free = expr.free_symbols - ({variable} if variable is not None else set())
    if free:
        raise UnsupportedExpression(f"cannot evaluate {sp.sstr(expr)} numerically: free symbols "
                                    f"{', '.join(sorted(map(str, free)))}")
    return _compile(expr, variable)


def _compile(e, variable):
    if e == variable:
        return lambda x: x
    if e.is_Rational:
        value = fmpq(int(e.p), int(e.q))
        return lambda x: np.full(x.shape, arb(value), dtype=object)
    if e.is_Float:
        man, exp = sp.Float(e)._mpf_[1], sp.Float(e)._mpf_[2]
        sign = -1 if sp.Float(e)._mpf_[0] else 1
        value = arb(sign * int(man)) * arb(2) ** int(exp)
        return lambda x: np.full(x.shape, value, dtype=object)
    if e is sp.pi:
        return lambda x: np.full(x.shape, arb.pi(), dtype=object)
    if e is sp.E:
        return lambda x: np.full(x.shape, arb(1).exp(), dtype=object)
    if isinstance(e, sp.Add):
        parts = [_compile(a, variable) for a in e.args]

        def add(x):
            out = parts[0](x)
            for p in parts[1:]:
                out = out + p(x)
            return out
        return add
    if isinstance(e, sp.Mul):
        parts = [_compile(a, variable) for a in e.args]

        def mul(x):
            out = parts[0](x)
            for p in parts[1:]:
                out = out * p(x)
            return out
        return mul
    if isinstance(e, sp.Pow):
        base = _compile(e.base, variable)
        ex = e.exp
        if ex.is_Integer:
            n = int(ex)
            if n >= 0:
                return lambda x: base(x) ** n
            return lambda x: 1 / base(x) ** (-n)
        if ex == sp.Rational(1, 2):
            return lambda x: _SQRT(base(x))
        if ex == sp.Rational(-1, 2):
            return lambda x: 1 / _SQRT(base(x))
        power = _compile(ex, variable)
        # a ** b for real a >= 0; a negative base gives a non-real value (SymPy's principal branch)
        return lambda x: _POWER(base(x), power(x))
    func = _FUNCTIONS.get(type(e))
    if func is not None and len(e.args) == 1:
        inner = _compile(e.args[0], variable)
        return lambda x: func(inner(x))
    if isinstance(e, sp.log) and len(e.args) == 2:   # not produced by SymPy's constructor, kept for safety
        a, b = (_compile(arg, variable) for arg in e.args)
        return lambda x: _FUNCTIONS[sp.log](a(x)) / _FUNCTIONS[sp.log](b(x))
    if not e.free_symbols:
        return _evalf_constant(e)
    raise UnsupportedExpression(f"cannot evaluate {sp.sstr(e)} numerically in ball arithmetic "
                                f"(unsupported: {type(e).__name__})")


def _evalf_constant(e):
    """A real constant flint has no function for (``Si(2)``, ``Ei(2)`` from a basis's normalization):
    SymPy's adaptive ``evalf`` at the working precision plus 32 guard bits, taken as a ball of radius
    ``2^-(precision)`` relative (``evalf`` claims every digit it returns)."""
    cache = {}

    if e.has(sp.Integral, sp.Sum, sp.Product):
        raise UnsupportedExpression(f"cannot evaluate {sp.sstr(e)} numerically in ball arithmetic "
                                    "(an unevaluated integral or sum has no error bound)")

    def value(x):
        prec = flint.ctx.prec
        if prec not in cache:
            digits = int(prec * 0.30103) + 10
            try:
                with time_limit():
                    number = sp.N(e, digits)
            except SymbolicTimeout:
                raise DerivationError(f"SymPy could not evaluate the constant {sp.sstr(e)[:80]} in time") from None
            if not (number.is_Float and number.is_finite):
                raise DerivationError(f"the constant {sp.sstr(e)} is not a finite real number ({number})")
            sign, man, exp, _ = number._mpf_
            exact = arb(-int(man) if sign else int(man)) * arb(2) ** int(exp)   # keeps its rounding radius
            cache[prec] = exact + arb(0, abs(exact.mid()) * arb(2) ** (-prec))  # evalf's 10 extra digits, and more
        return np.full(x.shape, cache[prec], dtype=object)
    return value


def midpoint(x: arb) -> mpmath.mpf:
    """The midpoint of a ball as an mpmath number, exactly (enough bits for its mantissa), so that a
    later rounding to float64 or to ``dps`` digits is the only one."""
    man, exp = x.mid().man_exp()
    with mpmath.workprec(max(int(man).bit_length(), 53) + 8):
        return mpmath.mpf((int(man), int(exp)))


def require_finite(values, points, what: str):
    """Raise :class:`DerivationError` if any value is not a finite real ball (e.g. log of a negative)."""
    ok = _FINITE(values)
    if not all(ok.ravel()):
        idx = int(np.argmin(ok.ravel().astype(bool)))
        point = points.ravel()[idx % points.size]
        raise DerivationError(f"{what} is not a finite real number at z = {point.str(8)}; "
                              "the warp or basis must be real and finite on (0, 1]")
    return values


_ACCURACY = np.frompyfunc(lambda a: a.rel_accuracy_bits() if a.is_finite() else -(1 << 30), 1, 1)
MAX_PRECISION_FACTOR = 256


def _relative_or_absolute_bits(a) -> int:
    """The larger of the relative and the absolute accuracy of the ball ``a``, in bits: a value that is
    exactly 0 (``cos(pi z)`` at ``z = 1/2``) has no relative accuracy, but ``[0 +/- 1e-60]`` is known to
    about 200 bits absolutely."""
    if not a.is_finite():
        return -(1 << 30)
    radius = float(a.rad())
    absolute = (1 << 30) if radius == 0.0 else int(-math.log2(radius))
    return max(a.rel_accuracy_bits(), absolute)


_ACCURACY_ABSOLUTE = np.frompyfunc(_relative_or_absolute_bits, 1, 1)


def evaluate_accurately(fn, points: np.ndarray, bits: int, what: str, absolute: bool = False) -> np.ndarray:
    """``fn(points)`` with every value known to ``bits`` relative bits (points taken as exact); with
    ``absolute``, a value known to ``bits`` bits absolutely is accepted too (for basis values, which
    enter the integrals as O(1) factors, so a zero of the function needs no relative accuracy).

    Values that lose accuracy to cancellation (``tanh(u) + 1`` for ``u`` near -500 needs about
    1400 bits; quadrature nodes reach ``z = 1e-1168`` for N = 256 log-Laguerre) are evaluated again at
    doubled working precision, only at the nodes that need it, up to ``MAX_PRECISION_FACTOR`` times
    the current one; values still short of ``bits`` (or not finite) raise :class:`DerivationError`."""
    prec = flint.ctx.prec
    measure = _ACCURACY_ABSOLUTE if absolute else _ACCURACY
    values = fn(points)
    acc = measure(values).astype(np.int64)
    bad = np.nonzero(acc < bits)[0]
    factor = 2
    while bad.size and factor <= MAX_PRECISION_FACTOR:
        with flint.ctx.workprec(prec * factor):
            redo = fn(points[bad])
        acc_redo = measure(redo).astype(np.int64)
        for i, v, a in zip(bad, redo, acc_redo):
            if a >= bits:
                values[i] = +v
        bad = bad[acc_redo < bits]
        factor *= 2
    require_finite(values, points, what)
    if bad.size:
        z = points[bad[0]]
        raise DerivationError(f"{what} cannot be evaluated to {bits} bits at z = {z.str(8)} even at "
                              f"{prec * MAX_PRECISION_FACTOR} bits of working precision")
    return values
