"""Tests for symderive.inputs.expressions: the restricted (non-evaluating) expression parser."""

import os
import time

import pytest
import sympy

from symderive.errors import InputError
from symderive.inputs.expressions import FUNCTIONS, parse_expression, symbol

x = symbol("x")
z = symbol("z")
PWNED = "/tmp/symderive_pwned"


# --- valid expressions -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("exp(2*x)", sympy.exp(2 * x)),
        ("1 + x/3", 1 + x / 3),
        ("x", x),
        ("42", sympy.Integer(42)),
        ("0.1*x", sympy.Rational(1, 10) * x),
        ("1e-3", sympy.Rational(1, 1000)),
        ("2.5e2 + x", 250 + x),
        ("1_000.25", sympy.Rational(4001, 4)),
        (".5*x", x / 2),
        ("-x**2", -(x**2)),
        ("(-x)**2", x**2),
        ("+x - -1", x + 1),
        ("x**-2", x ** (-2)),
        ("x**0.5", sympy.sqrt(x)),
        ("sin(cos(tanh(x)))", sympy.sin(sympy.cos(sympy.tanh(x)))),
        ("log(x, 2)", sympy.log(x, 2)),
        ("log(1 + x)", sympy.log(1 + x)),
        ("abs(x)", sympy.Abs(x)),
        ("erf(x/sqrt(2))", sympy.erf(x / sympy.sqrt(2))),
        ("pi*x + E", sympy.pi * x + sympy.E),
        ("E**x", sympy.exp(x)),
        ("asin(x) + acos(x) + atan(x)", sympy.asin(x) + sympy.acos(x) + sympy.atan(x)),
        ("asinh(x) * acosh(1 + x**2) / atanh(x/2)", sympy.asinh(x) * sympy.acosh(1 + x**2) / sympy.atanh(x / 2)),
        ("sinh(x) - cosh(x) + tan(x)", sympy.sinh(x) - sympy.cosh(x) + sympy.tan(x)),
        ("2**1000 * x", 2**1000 * x),
        ("x**1000", x**1000),
        ("  x + 1  ", x + 1),
    ],
)
def test_valid_expressions(text, expected):
    result = parse_expression(text, "x")
    assert result == expected
    assert isinstance(result, sympy.Expr)


def test_floats_become_exact_rationals():
    assert parse_expression("0.1", "x") == sympy.Rational(1, 10)
    assert parse_expression("0.1", "x").is_Rational
    assert parse_expression("3.14159", "x") == sympy.Rational(314159, 100000)
    assert not parse_expression("0.3*x + 1.7", "x").has(sympy.Float)


def test_other_variable_and_example_basis():
    assert parse_expression("sqrt(2)*cos(2*pi*z)", "z") == sympy.sqrt(2) * sympy.cos(2 * sympy.pi * z)


def test_symbol_identity():
    assert symbol("x") == sympy.Symbol("x", real=True)
    assert symbol("x").is_real
    assert parse_expression("x", "x") == symbol("x")
    assert parse_expression("x**2", "x").free_symbols == {symbol("x")}
    assert symbol("x") != sympy.Symbol("x")  # the plain (non-real) symbol is a different one


def test_constant_result_is_allowed():
    assert parse_expression("2*pi", "x") == 2 * sympy.pi
    assert parse_expression("2*pi", "x").free_symbols == set()


# --- rejections ----------------------------------------------------------------------------


def _error(text, variable="x", what="expression"):
    with pytest.raises(InputError) as info:
        parse_expression(text, variable, what=what)
    return str(info.value)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("__import__('os').system('touch /tmp/symderive_pwned')", "attribute access"),
        ("__import__('os')", "function '__import__' is not allowed"),
        ("__import__", "name '__import__' is not allowed"),
        ("().__class__.__bases__[0].__subclasses__()", "attribute access"),
        ("x.__class__", "attribute access"),
        ("lambda: 1", "lambda"),
        ("exec('1')", "function 'exec' is not allowed"),
        ("eval('1')", "function 'eval' is not allowed"),
        ("open('/etc/passwd')", "function 'open' is not allowed"),
        ("[x for x in ()]", "comprehension"),
        ("(x for x in ())", "generator"),
        ("x if 1 else 2", "conditional"),
        ("f'{x}'", "f-string"),
        ("x; 1", "syntax error"),
        ("import os", "syntax error"),
        ("x +", "syntax error"),
        ("x[0]", "subscripts"),
        ("(x := 1)", "assignment"),
        ("[x]", "lists"),
        ("(x, 1)", "tuples"),
        ("{x}", "sets"),
        ("{x: 1}", "dicts"),
        ("x < 1", "comparisons"),
        ("x and 1", "boolean"),
        ("not x", "not"),
        ("x // 2", "'//'"),
        ("x % 2", "'%'"),
        ("x @ x", "'@'"),
        ("x & 1", "bitwise"),
        ("x << 1", "bitwise"),
        ("~x", "bitwise"),
        ("x^2", "use ** for powers"),
        ("1j*x", "complex"),
        ("True", "booleans"),
        ("'x'", "strings"),
        ("b'x'", "bytes"),
        ("None", "None"),
        ("...", "Ellipsis"),
        ("y", "name 'y' is not allowed"),
        ("I*x", "name 'I' is not allowed"),
        ("sin", "must be called"),
        ("sin(x, 2)", "function 'sin' takes 1 argument, got 2"),
        ("log(x, 2, 3)", "function 'log' takes 1 or 2 arguments, got 3"),
        ("exp()", "function 'exp' takes 1 argument, got 0"),
        ("sin(x=1)", "keyword arguments"),
        ("sin(*[x])", "starred"),
        ("sympy.sin(x)", "attribute access"),
        ("(sin)(x)(x)", "only calls"),
        ("1/0", "not finite"),
        ("x/0", "not finite"),
        ("log(0)", "not finite"),
    ],
)
def test_rejections(text, fragment):
    assert fragment in _error(text)


def test_hostile_strings_do_not_run(tmp_path):
    if os.path.exists(PWNED):
        os.remove(PWNED)
    hostile = [
        "__import__('os').system('touch /tmp/symderive_pwned')",
        "exec(\"__import__('os').system('touch /tmp/symderive_pwned')\")",
        "eval(\"__import__('os').system('touch /tmp/symderive_pwned')\")",
        "open('/tmp/symderive_pwned', 'w')",
        "[__import__('os').system('touch /tmp/symderive_pwned') for _ in (1,)]",
        "(lambda: __import__('os').system('touch /tmp/symderive_pwned'))()",
        "x if __import__('os').system('touch /tmp/symderive_pwned') else 1",
        "f\"{__import__('os').system('touch /tmp/symderive_pwned')}\"",
    ]
    for text in hostile:
        with pytest.raises(InputError):
            parse_expression(text, "x")
    assert not os.path.exists(PWNED)


def test_wrong_variable_names_allowed_one():
    message = _error("z", "x")
    assert "name 'z' is not allowed" in message
    assert "the only variable is 'x'" in message
    assert "pi, E" in message and "abs" in message and "sqrt" in message
    message = _error("x + 1", "z")
    assert "the only variable is 'z'" in message


def test_what_prefixes_messages():
    message = _error("y", what="warp f")
    assert message.startswith("warp f: name 'y' is not allowed; the only variable is 'x'")


def test_syntax_error_has_position_and_text_but_no_traceback():
    message = _error("x +* 2")
    assert "syntax error" in message
    assert "column" in message
    assert "x +* 2" in message
    assert "Traceback" not in message


@pytest.mark.parametrize("value", [None, 3, 1.5, b"x", ["x"]])
def test_non_string_input(value):
    assert "expected a string" in _error(value)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_input(text):
    assert "empty" in _error(text)


def test_too_long():
    assert "too long" in _error("x+" * 1000 + "x")
    assert "too long" in _error(" " * 2001 + "x")


def test_nesting_depth():
    assert "nested too deeply" in _error("-" * 150 + "x")
    assert "nested too deeply" in _error("sin(" * 120 + "x" + ")" * 120)
    assert "nested too deeply" in _error("x" + "+x" * 150)
    # Python's own parser limit on parentheses is also an InputError
    assert isinstance(_error("(" * 300 + "x" + ")" * 300), str)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("9**9**9", "power of numbers"),
        ("x**9**9", "power of numbers"),
        ("2**(-(3**4))", "power of numbers"),
        ("2**100000", "exponent 100000 is too large"),
        ("x**1001", "too large"),
        ("x**-1001", "too large"),
        ("x**1e6", "too large"),
        ("x**exp(100)", "too large"),
        ("(10**99)**1000", "power is too large"),
        ("((2**1000)**1000)**1000", "power is too large"),
        ("((2*x)**1000)**1000", "power is too large"),
        ("1" * 101, "more than 100 digits"),
        ("1" * 101 + ".0", "more than 100 significant digits"),
        ("1e999999999", "out of range"),
        ("1e-999999999", "out of range"),
        ("1e401", "out of range"),
        ("sin(x*10**99)", "holds a number too large"),
        ("exp(x*1000)**100", "holds a number too large"),
        ("((x**1000)**1000)**1000", "also after combining powers"),
        ("x**600*x**600", "also after combining powers"),
        ("exp(exp(exp(100)))", "argument of exp is too large"),
        ("abs(exp(exp(exp(100))) - 3)", "argument of exp is too large"),
        ("sin(10**99)", "argument of sin is too large"),
    ],
)
def test_denial_of_service_guards(text, fragment):
    start = time.perf_counter()
    assert fragment in _error(text)
    assert time.perf_counter() - start < 2.0


def test_limits_are_inclusive():
    assert parse_expression("x**1000", "x") == x**1000
    assert parse_expression("1" * 100, "x") == sympy.Integer(int("1" * 100))
    assert parse_expression("exp(10000)", "x") == sympy.exp(10000)


def test_invalid_variable_name():
    with pytest.raises(InputError):
        parse_expression("x", "not a name")
    with pytest.raises(InputError):
        parse_expression("pi", "pi")
    with pytest.raises(InputError):
        symbol("1x")


def test_function_table():
    assert sorted(FUNCTIONS) == sorted(
        "exp log sqrt sin cos tan sinh cosh tanh asin acos atan asinh acosh atanh erf abs".split()
    )
    assert FUNCTIONS["log"][1] == (1, 2)
    assert FUNCTIONS["abs"][0] is sympy.Abs


def test_module_never_evaluates_text():
    import inspect

    import symderive.inputs.expressions as module

    code = "\n".join(
        line for line in inspect.getsource(module).splitlines() if not line.lstrip().startswith("#")
    )
    body = code.split('"""', 2)[2]  # skip the module docstring, which names the forbidden calls
    for forbidden in ("eval(", "exec(", "compile(", "sympify", "parse_expr(", "lambdify"):
        assert forbidden not in body


def test_complex_values_are_rejected():
    with pytest.raises(InputError, match="not a real number"):
        parse_expression("sqrt(-1)*x", "x")
