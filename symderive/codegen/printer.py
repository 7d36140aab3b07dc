"""The kernel printer: SymPy expressions -> Numba-ready Python code, or an error (never partial code).

What a kernel needs of a warp and a basis (docs/math.md, section 2) is printed here and nowhere else:
the lag map ``lambda_Delta(z)``, the cutoff ``z_Delta`` and its complement ``1 - z_Delta`` (or their forms
in ``y = -log z``), and the functions of a custom basis that has no polynomial or Fourier form. Each is printed
as a :class:`PrintedFunction`, a body of assignments (common subexpressions eliminated by
:func:`sympy.cse`) and one returned expression, which the templates lay out as an ``@njit`` function.

:class:`KernelPrinter` is a :class:`sympy.printing.pycode.PythonCodePrinter` made strict:

- only the functions of Python's ``math`` module that Numba compiles (:data:`MATH_FUNCTIONS`), ``abs``,
  powers and the four operations are printed; anything else (``Piecewise``, ``Min``, special functions,
  an unevaluated integral, a symbol that is not an argument of the function) raises
  :class:`UnprintableExpression`;
- every number is a float64 literal written by ``repr`` (exact round trip): rationals and constants
  are rounded once from 30 significant digits, integers stay integers only as exponents;
- before printing, ``exp(x) - 1`` and ``log(1 + x)`` are rewritten to ``expm1`` / ``log1p``
  (:data:`sympy.codegen.rewriting.optims_c99`), so a small step keeps its digits.
"""

from __future__ import annotations

import math
import dataclasses
from dataclasses import dataclass

import sympy as sp
from sympy.codegen.rewriting import expm1_opt, log1p_opt, optimize
from sympy.printing.pycode import PythonCodePrinter

from ..errors import InputError

# SymPy function name -> the math-module function Numba compiles
MATH_FUNCTIONS = {
    "exp": "exp", "log": "log", "expm1": "expm1", "log1p": "log1p", "sqrt": "sqrt",
    "sin": "sin", "cos": "cos", "tan": "tan", "asin": "asin", "acos": "acos", "atan": "atan", "atan2": "atan2",
    "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "asinh": "asinh", "acosh": "acosh", "atanh": "atanh",
    "erf": "erf", "erfc": "erfc",
}
_DIGITS = 30


class UnprintableExpression(InputError):
    """An expression the kernel printer cannot turn into Numba code (nothing is printed)."""


@dataclass(frozen=True)
class PrintedFunction:
    """``def name(arguments): <assignments>; return <result>`` as printed text; ``formula`` is the
    expression in SymPy's notation, for the docstring."""

    name: str
    arguments: tuple[str, ...]
    assignments: tuple[tuple[str, str], ...]
    result: str | tuple[str, ...]          # one expression, or one per function of print_functions
    formula: str


class KernelPrinter(PythonCodePrinter):
    """Strict, float64, ``math``-module printing (module docstring)."""

    printmethod = "_symderive_kernel_code"

    def __init__(self, arguments):
        super().__init__({"fully_qualified_modules": True, "allow_unknown_functions": False, "strict": True})
        self._arguments = {str(a) for a in arguments}

    # ---------------------------------------------------------------- refusals
    def _print_not_supported(self, expr):
        raise UnprintableExpression(f"the kernel printer cannot print {sp.sstr(expr)[:160]} "
                                    f"({type(expr).__name__}) into a Numba kernel")

    emptyPrinter = _print_not_supported

    def _print_Symbol(self, expr):
        if expr.name not in self._arguments:
            raise UnprintableExpression(f"the kernel printer met the symbol {expr.name!r}, which is not an argument "
                                        f"of the printed function ({', '.join(sorted(self._arguments))})")
        return expr.name

    def _print_Function(self, expr):
        if expr.is_number:                       # a constant such as sqrt(2) or exp(-1): one rounded literal
            return self._float_literal(expr)
        name = type(expr).__name__
        if name not in MATH_FUNCTIONS:
            return self._print_not_supported(expr)
        return f"math.{MATH_FUNCTIONS[name]}({', '.join(self._print(a) for a in expr.args)})"

    for _name in MATH_FUNCTIONS:
        locals()[f"_print_{_name}"] = _print_Function
    del _name
    _print_Abs = lambda self, expr: f"abs({self._print(expr.args[0])})"  # noqa: E731
    for _name in ("Piecewise", "Min", "Max", "Integral", "Derivative", "Sum", "Product", "floor", "ceiling",
                  "sign", "Heaviside", "loggamma", "gamma", "factorial", "re", "im", "arg", "conjugate",
                  "ImaginaryUnit", "Infinity", "NegativeInfinity", "ComplexInfinity", "NaN", "Relational",
                  "BooleanTrue", "BooleanFalse", "Order", "Subs", "Lambda"):
        locals()[f"_print_{_name}"] = _print_not_supported
    del _name

    # ---------------------------------------------------------------- numbers
    def _float_literal(self, expr) -> str:
        value = float(sp.N(expr, _DIGITS))
        if not math.isfinite(value):
            raise UnprintableExpression(f"the constant {sp.sstr(expr)[:80]} is not a finite float64")
        return repr(value)

    def _print_Integer(self, expr):
        return self._float_literal(expr)

    _print_Rational = _print_Float = _print_Integer
    _print_NumberSymbol = _print_Integer
    _print_Pi = _print_Exp1 = _print_EulerGamma = _print_GoldenRatio = _print_Catalan = _print_Integer

    def _print_Pow(self, expr, rational=False):
        if expr.is_number:
            return self._float_literal(expr)
        base, exponent = expr.args
        if exponent.is_Integer:
            if exponent == -1:
                return f"1.0 / {self.parenthesize(base, sp.printing.precedence.PRECEDENCE['Pow'])}"
            text = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Pow"])
            return f"{text}**{int(exponent)}"
        if exponent == sp.Rational(1, 2):
            return f"math.sqrt({self._print(base)})"
        if exponent == -sp.Rational(1, 2):
            return f"1.0 / math.sqrt({self._print(base)})"
        if exponent.is_number and not exponent.is_real:
            return self._print_not_supported(expr)
        return (f"{self.parenthesize(base, sp.printing.precedence.PRECEDENCE['Pow'])}"
                f"**{self.parenthesize(exponent, sp.printing.precedence.PRECEDENCE['Pow'])}")

    def _print_Mul(self, expr):
        if expr.could_extract_minus_sign() and expr.args[0] == -1:
            rest = sp.Mul(*expr.args[1:], evaluate=False)
            return "-" + self.parenthesize(rest, sp.printing.precedence.PRECEDENCE["Mul"])
        return super()._print_Mul(expr)


def _prepared(expr: sp.Expr) -> sp.Expr:
    """``expr`` with cancelling forms rewritten (expm1, log1p) and floats from the input made exact."""
    expr = sp.nsimplify(expr, rational=True) if expr.has(sp.Float) else expr
    return optimize(expr, [expm1_opt, log1p_opt])


def print_functions(name: str, exprs, arguments) -> PrintedFunction:
    """Print several expressions of the same arguments at once, their common subexpressions shared:
    ``result`` is a tuple of printed expressions (one per input). Raises :class:`UnprintableExpression`
    when any part cannot be printed."""
    arguments = tuple(arguments)
    exprs = [sp.sympify(e) for e in exprs]
    for expr in exprs:
        if expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
            raise UnprintableExpression(f"{name}: {sp.sstr(expr)[:120]} is not finite")
    names = sp.numbered_symbols("t", real=True)
    replacements, reduced = sp.cse([_prepared(e) for e in exprs], symbols=names, optimizations="basic")
    printer = KernelPrinter([*arguments, *(str(symbol) for symbol, _ in replacements)])
    assignments = tuple((str(symbol), printer.doprint(value)) for symbol, value in replacements)
    return PrintedFunction(name=name, arguments=tuple(str(a) for a in arguments), assignments=assignments,
                           result=tuple(printer.doprint(r) for r in reduced),
                           formula="; ".join(sp.sstr(e) for e in exprs))


def print_function(name: str, expr: sp.Expr, arguments) -> PrintedFunction:
    """Print ``expr`` as the body of ``def name(*arguments)`` (SymPy symbols, in order), CSE applied:
    :func:`print_functions` of one expression, with ``result`` the one printed expression.

    Raises :class:`UnprintableExpression` when any part cannot be printed: the caller gets all the code
    or none of it.
    """
    printed = print_functions(name, [expr], arguments)
    return dataclasses.replace(printed, result=printed.result[0])
