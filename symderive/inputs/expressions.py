"""Safe parsing of user-supplied math expressions in one variable.

Warp functions ``f(x)`` and basis functions in ``z`` arrive as strings from the command
line or from files. ``sympy.sympify`` and ``sympy.parse_expr`` must never see them: both
*evaluate Python*, so a string such as ``__import__('os').system('...')`` runs code. This
module instead parses the text with ``ast.parse(text, mode="eval")`` (which only builds a
syntax tree and runs nothing), walks the tree admitting a small whitelist of node types,
and builds the SymPy expression directly from the nodes. There is no ``eval``, ``exec``,
``sympify`` of strings or ``lambdify`` here.

Grammar (everything else is rejected with :class:`~symderive.errors.InputError`)::

    expr   := number | VARIABLE | "pi" | "E"
            | expr ("+" | "-" | "*" | "/" | "**") expr
            | ("+" | "-") expr
            | "(" expr ")"
            | FUNC "(" expr ["," expr] ")"        # positional arguments only
    number := integer literal (at most 100 digits)
            | float literal, converted *exactly* from its decimal text (0.1 -> 1/10)
    FUNC   := exp | log | sqrt | sin | cos | tan | sinh | cosh | tanh
            | asin | acos | atan | asinh | acosh | atanh | erf | abs
              (one argument each; log also takes log(value, base))

Guards against denial of service: the text is at most 2000 characters, the tree at most
100 levels deep; a number literal has at most 100 significant digits and a decimal exponent of at
most 400 in absolute value (``1e-300`` is the exact rational ``1/10**300``). Every power is checked
*before* SymPy constructs it and again after SymPy has combined it with what it multiplies: a numeric
exponent must be at most 1000 in absolute value (also once SymPy flattens ``((z**1000)**1000)``),
may not itself be a numeric power (``9**9**9``), and the result may not hold numbers of more than
12000 bits (also once SymPy multiplies numbers together). A constant argument of exp, sin, cos, tan, sinh, cosh, tanh or erf must be at most 10000
in absolute value, and so must every number in an argument of theirs that holds the variable
(``sin(10**99 z)`` oscillates beyond any quadrature; ``exp(exp(exp(100)))`` would hang SymPy's
numerical evaluation). Results that are not finite (``1/0``) are rejected.

Reality: every constant the expression builds must be a real number. ``acos(2)``, ``(-8)**(1/3)``
(SymPy's principal root is complex; write ``-8**(1/3)`` for the real one), ``atanh(10**99)`` and
``log(-1)`` are rejected, and so is a ``log(a, b)`` whose constant base is not positive and
different from 1 (``log(x, 0)`` would silently become 0). Whether an expression *with* the variable
is real on its domain depends on the domain, which the warp and basis checks decide.
"""

from __future__ import annotations

import ast
import decimal
import operator
import time
import warnings
from dataclasses import dataclass

import sympy

from symderive._limits import SymbolicGaveUp, SymbolicTimeout, time_limit
from symderive.errors import InputError

__all__ = ["parse_expression", "symbol"]

MAX_LENGTH = 2000
MAX_DEPTH = 100
MAX_LITERAL_DIGITS = 100
MAX_LITERAL_EXPONENT = 400
MAX_EXPONENT = 1000
MAX_POWER_BITS = 12_000     # below Python's 4300-digit limit on printing integers (about 14,000 bits)
PARSE_SECONDS = 3.0
MAX_ARGUMENT = 10_000

#: functions whose value grows exponentially with, or whose evaluation needs precision
#: proportional to, a large argument: a numeric argument must be at most MAX_ARGUMENT
#: in absolute value (so that exp(exp(exp(100))) never reaches SymPy's evaluators)
BOUNDED_ARGUMENT = {"exp", "sin", "cos", "tan", "sinh", "cosh", "tanh", "erf"}

#: name -> (SymPy function, allowed numbers of positional arguments)
FUNCTIONS: dict[str, tuple[object, tuple[int, ...]]] = {
    "abs": (sympy.Abs, (1,)),
    "acos": (sympy.acos, (1,)),
    "acosh": (sympy.acosh, (1,)),
    "asin": (sympy.asin, (1,)),
    "asinh": (sympy.asinh, (1,)),
    "atan": (sympy.atan, (1,)),
    "atanh": (sympy.atanh, (1,)),
    "cos": (sympy.cos, (1,)),
    "cosh": (sympy.cosh, (1,)),
    "erf": (sympy.erf, (1,)),
    "exp": (sympy.exp, (1,)),
    "log": (sympy.log, (1, 2)),
    "sin": (sympy.sin, (1,)),
    "sinh": (sympy.sinh, (1,)),
    "sqrt": (sympy.sqrt, (1,)),
    "tan": (sympy.tan, (1,)),
    "tanh": (sympy.tanh, (1,)),
}

CONSTANTS = {"pi": sympy.pi, "E": sympy.E}

#: admitted binary operators (``**`` is handled separately, with guards)
BINARY_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}

_REJECTED_OPERATORS = {
    ast.BitXor: "'^' is not allowed; use ** for powers",
    ast.FloorDiv: "floor division '//' is not allowed",
    ast.Mod: "operator '%' is not allowed",
    ast.MatMult: "operator '@' is not allowed",
    ast.BitAnd: "bitwise operator '&' is not allowed",
    ast.BitOr: "bitwise operator '|' is not allowed",
    ast.LShift: "bitwise operator '<<' is not allowed",
    ast.RShift: "bitwise operator '>>' is not allowed",
    ast.Invert: "bitwise operator '~' is not allowed",
    ast.Not: "boolean operator 'not' is not allowed",
}

_REJECTED_NODES = {
    ast.Attribute: "attribute access is not allowed",
    ast.Subscript: "subscripts are not allowed",
    ast.Slice: "slices are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.IfExp: "conditional expressions (... if ... else ...) are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "boolean operators (and/or) are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "generator expressions are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.List: "lists are not allowed",
    ast.Tuple: "tuples are not allowed",
    ast.Set: "sets are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.Starred: "starred expressions are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
}


def symbol(name: str) -> sympy.Symbol:
    """The canonical real SymPy symbol used for variable `name` (shared by parser and library)."""
    if not isinstance(name, str) or not name.isidentifier():
        raise InputError(f"variable name must be a Python identifier, got {name!r}")
    return sympy.Symbol(name, real=True)


def parse_expression(text: str, variable: str, *, what: str = "expression") -> sympy.Expr:
    """Parse `text` into a SymPy expression in the one variable `variable` (e.g. "x" or "z").

    Raises :class:`InputError` (never runs any part of `text`) when the text is not in the
    grammar of the module docstring or trips one of the size guards.
    """
    var = symbol(variable)
    if variable in CONSTANTS or variable in FUNCTIONS:
        raise InputError(f"{what}: variable name {variable!r} clashes with a constant or function")
    if not isinstance(text, str):
        raise InputError(f"{what}: expected a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise InputError(f"{what}: expression is too long ({len(text)} characters, at most {MAX_LENGTH})")
    text = text.strip()
    if not text:
        raise InputError(f"{what}: expression is empty")
    try:
        with warnings.catch_warnings():     # "invalid decimal literal" in `1or x`: the error below says it
            warnings.simplefilter("ignore")
            tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        near = (exc.text or text).strip()
        if len(near) > 60:  # show the neighbourhood of the error, not 2000 characters
            start = max(0, (exc.offset or 1) - 30)
            near = near[start : start + 60]
        raise InputError(f"{what}: syntax error{where}: {exc.msg} near {near!r}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise InputError(f"{what}: cannot parse expression: {exc}") from None

    start = time.monotonic()
    try:
        with time_limit(PARSE_SECONDS, own=True):
            result = _build(tree.body, 1, _Context(text, variable, var, what))
    except SymbolicGaveUp:
        raise InputError(f"{what}: SymPy cannot build this expression (nested too deeply?)") from None
    except SymbolicTimeout:
        if time.monotonic() - start < 0.9 * PARSE_SECONDS:
            raise       # an enclosing limit fired (a whole basis SPEC's): its caller says what ran out
        raise InputError(f"{what}: building the expression took more than {PARSE_SECONDS:g} s "
                         "(SymPy's automatic simplification of deeply nested functions); simplify it") from None
    except RecursionError:
        raise InputError(f"{what}: expression is nested too deeply") from None
    except ArithmeticError as exc:  # e.g. OverflowError from SymPy's own evaluation
        raise InputError(f"{what}: cannot evaluate expression: {exc}") from None
    if result.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
        raise InputError(f"{what}: expression is not finite (division by zero?): {result}")
    if result.has(sympy.I):
        raise InputError(f"{what}: expression has complex values ({result}); warps and bases must be real")
    extra = result.free_symbols - {var}
    assert not extra, f"parser produced unexpected symbols {extra}"
    return result


def _rational_bits(expr: sympy.Basic) -> int:
    """Largest bit length of any numerator/denominator in `expr` (at least 1)."""
    bits = 1
    for r in expr.atoms(sympy.Rational):
        bits = max(bits, int(r.p).bit_length(), int(r.q).bit_length())
    return bits


def _magnitude(expr: sympy.Expr, ctx: "_Context") -> float:
    """Absolute value of the constant `expr`, evaluated numerically (15 digits)."""
    try:
        return abs(complex(expr.evalf(15)))
    except (TypeError, ValueError, ArithmeticError):
        raise ctx.fail(f"cannot evaluate the constant {expr}") from None


@dataclass(frozen=True)
class _Context:
    """What one parse needs to know: the source text, the variable and the error prefix."""

    text: str
    variable: str
    var: sympy.Symbol
    what: str

    def fail(self, message: str) -> InputError:
        return InputError(f"{self.what}: {message}")


def _build(node: ast.AST, depth: int, ctx: _Context) -> sympy.Expr:
    """Build the SymPy expression for `node`, admitting only the whitelisted node types."""
    if depth > MAX_DEPTH:
        raise ctx.fail(f"expression is nested too deeply (more than {MAX_DEPTH} levels)")
    if isinstance(node, ast.Constant):
        return _number(node, ctx)
    if isinstance(node, ast.Name):
        if node.id == ctx.variable:
            return ctx.var
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        if node.id in FUNCTIONS:
            raise ctx.fail(f"function {node.id!r} must be called, e.g. {node.id}({ctx.variable})")
        raise ctx.fail(
            f"name {node.id!r} is not allowed; the only variable is {ctx.variable!r} "
            f"(also allowed: pi, E and the functions {', '.join(FUNCTIONS)})"
        )
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.USub):
            return -_build(node.operand, depth + 1, ctx)
        if isinstance(node.op, ast.UAdd):
            return _build(node.operand, depth + 1, ctx)
        raise ctx.fail(_REJECTED_OPERATORS[type(node.op)])
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Pow):
            return _power(node, depth, ctx)
        if type(node.op) in BINARY_OPERATORS:
            left = _build(node.left, depth + 1, ctx)
            right = _build(node.right, depth + 1, ctx)
            return _checked(BINARY_OPERATORS[type(node.op)](left, right), ctx)
        raise ctx.fail(_REJECTED_OPERATORS.get(type(node.op), "this operator is not allowed"))
    if isinstance(node, ast.Call):
        return _call(node, depth, ctx)
    raise ctx.fail(_REJECTED_NODES.get(type(node), f"{type(node).__name__} is not allowed"))


def _number(node: ast.Constant, ctx: _Context) -> sympy.Expr:
    """An int literal, or a float literal converted exactly from its decimal source text."""
    value = node.value
    if isinstance(value, bool):
        raise ctx.fail("booleans are not allowed")
    if isinstance(value, int):
        if abs(value) >= 10**MAX_LITERAL_DIGITS:
            raise ctx.fail(f"integer literal has more than {MAX_LITERAL_DIGITS} digits")
        return sympy.Integer(value)
    if isinstance(value, float):
        source = ast.get_source_segment(ctx.text, node) or repr(value)
        try:
            dec = decimal.Decimal(source.replace("_", ""))
        except decimal.InvalidOperation:
            raise ctx.fail(f"cannot read number {source!r}") from None
        _, digits, exponent = dec.as_tuple()
        digits = digits[next((i for i, d in enumerate(digits) if d), len(digits) - 1):]   # leading zeros
        if len(digits) > MAX_LITERAL_DIGITS:
            raise ctx.fail(f"number literal {source!r} has more than {MAX_LITERAL_DIGITS} significant digits")
        if abs(dec.adjusted()) > MAX_LITERAL_EXPONENT:
            raise ctx.fail(f"number literal {source!r} is out of range: its decimal exponent must be at most "
                           f"{MAX_LITERAL_EXPONENT} in absolute value (e.g. 1e-300 or 1e300)")
        numerator = int("".join(map(str, digits)))
        if exponent >= 0:
            return sympy.Integer(numerator * 10**exponent)
        return sympy.Rational(numerator, 10**-exponent)
    kinds = {complex: "complex numbers (like 1j)", str: "strings", bytes: "bytes"}
    for kind, label in kinds.items():
        if isinstance(value, kind):
            raise ctx.fail(f"{label} are not allowed")
    if value is None:
        raise ctx.fail("None is not allowed")
    if value is Ellipsis:
        raise ctx.fail("'...' (Ellipsis) is not allowed")
    raise ctx.fail(f"constant {value!r} is not allowed")


def _power(node: ast.BinOp, depth: int, ctx: _Context) -> sympy.Expr:
    """``base ** exponent``, with the exponent checked before SymPy computes anything."""
    base = _build(node.left, depth + 1, ctx)
    exponent = _build(node.right, depth + 1, ctx)
    inner = node.right
    while isinstance(inner, ast.UnaryOp) and isinstance(inner.op, (ast.UAdd, ast.USub)):
        inner = inner.operand
    if isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Pow) and not exponent.free_symbols:
        raise ctx.fail("an exponent that is itself a power of numbers (like 9**9**9) is not allowed")
    if not exponent.free_symbols:
        size = abs(exponent) if exponent.is_Rational else _magnitude(exponent, ctx)
        if size > MAX_EXPONENT:
            raise ctx.fail(f"exponent {exponent} is too large (at most {MAX_EXPONENT} in absolute value)")
        if exponent.is_Rational and size * _rational_bits(base) > MAX_POWER_BITS:
            raise ctx.fail(f"power is too large (it would hold numbers of more than {MAX_POWER_BITS} bits)")
    return _checked(base**exponent, ctx)


def _call(node: ast.Call, depth: int, ctx: _Context) -> sympy.Expr:
    """A call of a whitelisted function by bare name with positional arguments."""
    if isinstance(node.func, ast.Attribute):
        raise ctx.fail("attribute access is not allowed")
    if not isinstance(node.func, ast.Name):
        raise ctx.fail("only calls of the allowed functions by name are allowed")
    name = node.func.id
    if name not in FUNCTIONS:
        raise ctx.fail(f"function {name!r} is not allowed (allowed functions: {', '.join(FUNCTIONS)})")
    if node.keywords:
        raise ctx.fail(f"function {name!r}: keyword arguments are not allowed")
    if any(isinstance(arg, ast.Starred) for arg in node.args):
        raise ctx.fail(f"function {name!r}: starred arguments (*args) are not allowed")
    func, counts = FUNCTIONS[name]
    if len(node.args) not in counts:
        takes = " or ".join(map(str, counts))
        plural = "" if counts == (1,) else "s"
        raise ctx.fail(f"function {name!r} takes {takes} argument{plural}, got {len(node.args)}")
    args = [_build(arg, depth + 1, ctx) for arg in node.args]
    if name in BOUNDED_ARGUMENT:
        if not args[0].free_symbols and _magnitude(args[0], ctx) > MAX_ARGUMENT:
            raise ctx.fail(f"argument of {name} is too large (at most {MAX_ARGUMENT} in absolute value): {args[0]}")
        big = _largest_number(args[0])
        if args[0].free_symbols and big > MAX_ARGUMENT:
            raise ctx.fail(f"argument of {name} holds a number too large for a warp or basis ({_short(big)}; "
                           f"at most {MAX_ARGUMENT} in absolute value): {_short(args[0])}")
    if name == "log" and len(args) == 2 and not args[1].free_symbols:
        base = _real_value(args[1], ctx, f"base of log(..., {_short(args[1])})")
        if base <= 0 or args[1] == 1:
            raise ctx.fail(f"log(a, base) needs a base > 0 and != 1, got {_short(args[1])}")
    return _checked(func(*args), ctx)


def _short(value, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _largest_number(expr: sympy.Expr) -> float:
    """The largest absolute value of a constant in ``expr`` (0 if none): number literals, and constant
    sub-expressions such as ``exp(100)`` in ``sin(exp(100) z)``."""
    largest = max((float(abs(n)) for n in expr.atoms(sympy.Number) if n.is_finite), default=0.0)
    for node in sympy.preorder_traversal(expr):
        if not node.free_symbols and not node.is_Number and node.args:
            try:
                largest = max(largest, abs(complex(node.evalf(15))))
            except (TypeError, ValueError, ArithmeticError):
                return float("inf")
    return largest


def _real_value(expr: sympy.Expr, ctx: "_Context", what: str) -> float:
    """The constant ``expr`` as a float, refusing a constant that is not a real number."""
    try:
        value = complex(expr.evalf(30))
    except (TypeError, ValueError, ArithmeticError):
        raise ctx.fail(f"cannot evaluate {what}") from None
    if value.imag != 0 and abs(value.imag) > 1e-25 * max(1.0, abs(value.real)):
        raise ctx.fail(f"{what} is not a real number (it is {value.real:.6g}{value.imag:+.6g}i); "
                       "warps and bases must be real")
    return value.real


def _checked(result: sympy.Expr, ctx: "_Context") -> sympy.Expr:
    """``result`` of one operation, after SymPy combined it: powers and numbers still bounded, constants real."""
    if _rational_bits(result) > MAX_POWER_BITS:
        raise ctx.fail(f"the expression holds a number of more than {MAX_POWER_BITS} bits (products of large "
                       "numbers); write it with smaller numbers")
    for power in result.atoms(sympy.Pow):
        e = power.exp
        if e.is_Rational and abs(e) > MAX_EXPONENT and power.base.free_symbols:
            raise ctx.fail(f"power {_short(power)} is too large (exponents at most {MAX_EXPONENT} in absolute value, "
                           "also after combining powers)")
    for exp in result.atoms(sympy.exp):
        big = _largest_number(exp.args[0])
        if exp.args[0].free_symbols and big > MAX_ARGUMENT:
            raise ctx.fail(f"argument of exp holds a number too large for a warp or basis ({_short(big)}; at most "
                           f"{MAX_ARGUMENT} in absolute value, also after combining powers): {_short(exp)}")
    if not result.free_symbols and not result.is_Rational:
        if result.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
            raise ctx.fail(f"expression is not finite (division by zero?): {_short(result)}")
        _real_value(result, ctx, f"the constant {_short(result)}")
    return result


def as_expression(value, variable: str, *, what: str = "expression") -> sympy.Expr:
    """A checked SymPy expression in ``variable`` from a string (through :func:`parse_expression`),
    a Python number (exact: ``0.1`` is 1/10) or a SymPy expression using no other symbol."""
    if isinstance(value, str):
        return parse_expression(value, variable, what=what)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return sympy.Rational(str(value))
    if isinstance(value, sympy.Expr):
        extra = value.free_symbols - {symbol(variable)}
        if extra:
            raise InputError(f"{what}: the only variable allowed is {variable}, found {sorted(map(str, extra))}")
        return value
    raise InputError(f"{what}: expected an expression in {variable} (string or SymPy), got {type(value).__name__}")
