"""Case generators for ``scripts/fuzz_inputs.py`` (hostile inputs for the ``symderive`` CLI).

Every case is a dict::

    {"id": int, "kind": str, "argv": [str, ...],
     "setup_file": "relative/path" (optional: a plain file the child creates before the call),
     "oracle": [str, ...] (optional: an argv whose accepted result must equal this one's)}

``argv`` may contain the token ``{TMP}``: the runner replaces it by the case's own fresh temporary folder
(also the child's working directory), removed after the case. Case ``i`` of seed ``s`` is drawn from
``random.Random(f"{s}:{i}")`` only, so a case does not depend on how many cases are generated and can be
rerun alone (``fuzz_inputs.py --seed s --only i``).
"""

from __future__ import annotations

import random

TMP = "{TMP}"
#: files whose appearance means that input text was executed (the injection payloads create them)
MARKERS = ("/tmp/pwned", "/tmp/symderive-fuzz-pwned")

BUILTIN_WARPS = ["exponential", "exponential:rate=2", "exponential:rate=1/2", "exponential:rate=3",
                 "linear", "linear:window=2", "linear:window=1/3", "scale"]
STATIONARY_WARPS = [w for w in BUILTIN_WARPS if w != "scale"]
BUILTIN_BASES = ["legendre", "fourier", "laguerre"]
FAMILIES = ["legs", "legs:rate=2", "legt", "legt:window=2", "lmu", "lmu:window=2", "lagt", "lagt:rate=1/2",
            "fout", "fout:window=2", "s4-legs", "s4-legt", "s4-lagt", "s4-fout"]
ODD_FAMILIES = ["legs:rate=0", "legs:rate=-1", "legs:rate=1e300", "legs:rate=nan", "legt:window=5e-324",
                "legs:window=1", "legs:rate=2,rate=3", "legs:", "legs:rate", "LEGS", "s4-legs:rate=2",
                "fout:window=acos(2)", "legs:rate=__import__('os').system('touch /tmp/pwned')", "", " ",
                "legt:window=10**99", "lagt:rate=2**-1000", "unknown"]

ODD_N = ["3_0", "+3", " 3 ", "\u0663", "0", "-1", "1e3", "4096", "100000", "", "3.0", "0x3", "three",
         "\uff13", "99999999999999999999999", "4097", "2 ", "\u0663\u0660", "1_0", "-0", "007"]
ODD_REALS = ["1e-300", "1e300", "5e-324", "nan", "inf", "-inf", "-1", "0", "-0", "1/100", "0.1", "1e-9",
             "0x10", "1_0", "\u0660.\u0661", " 0.1 ", "1e400", "NaN", "Infinity", "", "0.1\n", "1e-320",
             "2.5", "1000", "1e20", "+.5", "0.000001"]
ODD_BUDGETS = ["0", "1e-9", "1e300", "nan", "-1", "0.5", "inf", "1e9", "5e-324", "1e20", "abc", "", "2",
               "1_0", "\u0661"]
ODD_NAMES = ["os", "json", "sys", "class", "None", "k16\n", "\u00e9t\u00e9", "a" * 65, "a" * 64, "_",
             "__init__", "numpy", "symderive", "1abc", "a-b", "../evil", "a/b", "", " ", "k16 ",
             "\uff4b16", "import", "sympy", "ok_name", "test", "__main__", "builtins", "\u0663abc", "K16"]

# --- grammar pieces ------------------------------------------------------------------------------------

NUMBERS = ["0", "1", "2", "3", "7", "10", "1/2", "0.5", ".5", "5.", "1_0", "1_000.5", "10**99", "1e-99",
           "2**-1000", "1e300", "5e-324", "1e100", "1e-100", "1e101", "9" * 100, "1" * 101, "0x1F", "0b101",
           "0o17", "1j", "123456789012345678901234567890", "0.1", "3.14159", "-0.0", "1e3", "1E-3",
           "2.5e-10", "00", "0e0", "1.0000000000000000000000000000001", "1e-101", "0." + "0" * 98 + "1"]
NONREAL = ["acos(2)", "(-8)**(1/3)", "sqrt(-1)", "log(-1)", "asin(2)", "acosh(0)", "atanh(2)", "log(0)",
           "1/0", "0**-1", "(-1)**0.5", "atanh(1)", "log(0, 2)", "log(2, 1)", "log(2, 0)", "(-2)**pi",
           "0/0", "log(-1, -1)", "sqrt(-2)**2"]
FUNCS = ["exp", "log", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan",
         "asinh", "acosh", "atanh", "erf", "abs"]
EXPONENTS = ["2", "3", "1000", "1001", "-1000", "1e3", "0.5", "1/3", "pi", "E", "2**10", "9**9**9",
             "10**99", "-1", "0", "1e-99", "-2", "999.9", "1000.0001", "sqrt(2)", "exp(7)", "log(10**99)"]
BINOPS = ["+", "-", "*", "/", "**"]


def _leaf(rng: random.Random, v: str) -> str:
    r = rng.random()
    if r < 0.42:
        return v
    if r < 0.75:
        return rng.choice(NUMBERS)
    if r < 0.88:
        return rng.choice(["pi", "E"])
    if r < 0.93:
        return rng.choice(NONREAL)
    return str(rng.randint(-5, 5))


def expression(rng: random.Random, v: str, depth: int) -> str:
    """A random expression of the grammar (and slightly beyond it) in the variable ``v``."""
    if depth <= 0 or rng.random() < 0.22:
        return _leaf(rng, v)
    r = rng.random()
    if r < 0.33:
        op = rng.choice(BINOPS)
        a, b = expression(rng, v, depth - 1), expression(rng, v, depth - 1)
        if op == "**":
            return f"({a})**({b})"
        return f"({a}){op}({b})" if rng.random() < 0.6 else f"{a} {op} {b}"
    if r < 0.38:
        return rng.choice(["-", "+", "- -"]) + f"({expression(rng, v, depth - 1)})"
    if r < 0.66:
        return f"{rng.choice(FUNCS)}({expression(rng, v, depth - 1)})"
    if r < 0.70:
        return f"log({expression(rng, v, depth - 1)}, {expression(rng, v, depth - 1)})"
    if r < 0.85:
        return f"({expression(rng, v, depth - 1)})**{rng.choice(EXPONENTS)}"
    if r < 0.92:
        e1, e2 = rng.choice(EXPONENTS[:6]), rng.choice(EXPONENTS[:6])
        inner = rng.choice([v, f"({expression(rng, v, depth - 1)})"])
        return f"(({inner})**{e1})**{e2}"
    if r < 0.97:
        k = rng.choice([10, 30, 60, 99, 100, 101, 150, 300])
        chain = [rng.choice(FUNCS) for _ in range(k)]
        return "".join(f"{f}(" for f in chain) + v + ")" * k
    return rng.choice([
        "(" * 250 + v + ")" * 250,
        "-" * 500 + v,
        "+".join([v] * rng.choice([50, 150, 700])),
        "*".join([v] * 400),
        f"{v}**" * 30 + "2",
        "1+" * 999 + "1",
        "exp(" * 5 + "100" + ")" * 5,
        f"exp(exp(exp({v})))",
        f"{v}**(10**99)",
        f"({v}**1000)**1000",
        f"(({v}**1000)**1000)**1000",
        f"exp({v})**1000",
        f"sin({v})**1000 + cos({v})**1000",
    ])


PAYLOADS = [
    "__import__('os').system('touch /tmp/pwned')",
    "__import__('os').system('touch /tmp/symderive-fuzz-pwned')",
    "open('/tmp/symderive-fuzz-pwned','w')",
    "exec(\"open('/tmp/pwned','w')\")",
    "eval('1')", "lambda: 0", "lambda x: x", "x.__class__", "().__class__.__bases__[0].__subclasses__()",
    "f'{1}'", "f'{__import__(\"os\").system(\"touch /tmp/pwned\")}'", "globals()", "[x for x in ()]",
    "x if x else 1", "(y:=1)", "x[0]", "'abc'", "b'x'", "...", "None", "True", "x.real",
    "exp.__globals__", "__builtins__", "Symbol('y')", "sympify('x')", "Function('f')(x)", "x @ x", "x ^ 2",
    "x // 2", "x % 2", "~x", "not x", "x < 1", "await x", "(yield x)", "exp(x=1)", "exp(*[x])",
    "log(x, base=2)", "sin.__call__(x)", "x; import os", "x\nimport os", "x # comment",
    "__import__", "breakpoint()", "print(1)", "{x}", "(x, 1)", "{'a': 1}", "x.y.z", "exp(x)(x)",
    "sympy.exp(x)", "S(1)/2", "Rational(1, 2)", "I", "oo", "zoo", "nan", "Integer(2)", "x & 1", "x | 1",
    "x << 2", "x >> 2", "x and 1", "x or 1", "x is 1", "x in []", "*x", "**x", "x = 1", "import os",
]

UNICODE_CHARS = ["\u0663", "\uff13", "\U0001d7d1", "\u00b2", "\u00bd", "\u2179", "\u0445", "\u03c0", "\uff58",
                 "\U0001d465", "\u200b", "\ufeff", "\u00a0", "\u2212", "\u00d7", "\U0001f600", "\n", "\t",
                 "\r", "\udcff", "\u0301", "\u2028", "\uff45\uff58\uff50", "\u212f"]
ASCII_CHARS = list("0123456789xz+-*/().,;:=_ eEpi^%!@#$&[]{}<>?'\"\\|~`")


def _mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 4)):
        r = rng.random()
        pos = rng.randint(0, len(text))
        if r < 0.25:
            ch = rng.choice(UNICODE_CHARS) if rng.random() < 0.3 else rng.choice(ASCII_CHARS)
            text = text[:pos] + ch + text[pos:]
        elif r < 0.45 and text:
            text = text[:pos] + text[pos + 1:]
        elif r < 0.65 and text:
            ch = rng.choice(UNICODE_CHARS) if rng.random() < 0.3 else rng.choice(ASCII_CHARS)
            text = text[:pos] + ch + text[pos + 1:]
        elif r < 0.72:
            text = text + rng.choice(["\n", "\n\n", " ", ";", ";;", ",", ":", "=", "\t"])
        elif r < 0.78:
            text = rng.choice([" ", "\n", "\ufeff", "\u00a0"]) + text
        elif r < 0.84 and text:
            a = rng.randint(0, len(text) - 1)
            b = rng.randint(a, min(len(text), a + 12))
            text = text[:b] + text[a:b] * rng.randint(1, 5) + text[b:]
        elif r < 0.88:
            text = text.upper() if rng.random() < 0.5 else text.swapcase()
        elif r < 0.94:
            text = text[:pos] + rng.choice(PAYLOADS) + text[pos:]
        else:
            text = text + rng.choice(["x" * 3000, "1" * 2001, "(" * 40, "z;" * 800, "0" * 150])
    return text


# --- plausible warps and bases (mostly valid, sometimes just outside) -----------------------------------

PARAMS = ["1", "2", "3", "1/2", "0.5", "10", "1e-3", "1e3", "100", "pi", "E", "sqrt(2)", "1e-99", "10**99",
          "1/3", "7/5", "1e-12", "0.001"]
WARP_TEMPLATES = [
    ("exp({a}*x)", "log(z)/({a})"), ("E**({a}*x)", "log(z)/({a})"), ("2**x", "log(z)/log(2)"),
    ("10**x", "log(z, 10)"), ("exp(x/({a}))", "({a})*log(z)"), ("1+x/({a})", "({a})*(z-1)"),
    ("(1+x/({a}))**2", "({a})*(sqrt(z)-1)"), ("(1+x/({a}))**3", None), ("sqrt(1+x/({a}))", "({a})*(z**2-1)"),
    ("(1+x)**({p})", "z**(1/({p}))-1"), ("exp({a}*x)**({p})", None), ("(exp(x)+exp({a}*x))/2", None),
    ("1/(1-({a})*x)", "(1-1/z)/({a})"), ("1/(1-x)**({p})", None), ("1+tanh({a}*x)", "atanh(z-1)/({a})"),
    ("1+erf(x)", None), ("1+2*atan(x)/pi", "tan(pi*(z-1)/2)"), ("2/(1+exp(-({a})*x))", "-log(2/z-1)/({a})"),
    ("exp(x+x**3)", None), ("exp(sinh(x))", "asinh(log(z))"), ("sin(pi*(1+x/({a}))/2)", None),
    ("cos(pi*x/2)", "-2*acos(z)/pi"), ("(x+({a}))/({a})", None), ("exp({a}*x)*(1+x)", None), ("x+1", "z-1"),
    ("exp(-x)", None), ("exp(x**2)", None), ("1+x**3", "(z-1)**(1/3)"), ("1+x**2", None), ("exp(x)-x", None),
    ("exp(x*1e-99)", None), ("exp(x*10**99)", None), ("exp(1e300*x)", None), ("abs(x+1)", None),
    ("exp(x)*cos(x)", None), ("exp(({a})*x)", "log(z)"), ("exp(2*x)", "log(z)/2"), ("exp(x)", "log(z)"),
    ("exp(x)", "-log(z)"), ("1+x", "z-1"), ("1+x", "log(z)"), ("exp(abs(x))", None), ("cosh(x)", None),
    ("(2**x + 3**x)/2", None), ("exp(x)**2/exp(x)", "log(z)"), ("exp(log(1+x))", "z-1"),
    ("1+sinh(x)", None), ("exp(x/1e300)", None), ("exp(x)+1e-99*x", None), ("(1+x/({a}))**1000", None),
]
BASIS_ITEMS = ["1", "z", "z**2", "z**3", "z**{k}", "sqrt(z)", "z**(1/3)", "log(z)", "log(z)**2", "exp(z)",
               "exp(-z)", "sin(pi*z)", "cos(2*pi*z)", "sin(2*pi*z)", "sin({k}*pi*z)", "z*log(z)", "1/z",
               "1/sqrt(z)", "z**(-1/3)", "abs(z-1/2)", "erf(z)", "atan(z)", "tanh(z)", "exp(z**2)", "1/(1+z)",
               "z**1000", "(z**1000)**1000", "2*z", "z+1", "0", "1e-300*z", "z**2+1e-99", "log(log(z+2))",
               "sqrt(1-z)", "acos(z)", "asin(z)", "atanh(z)", "atanh(z/2)", "log(1-z)", "exp(1/z)",
               "exp(-1/z)", "z**z", "sin(1/z)", "10**99*z", "z**-1000", "cos(1000*pi*z)", "sqrt(z)**3",
               "z**(1/2)", "abs(log(z))", "sinh(z)", "cosh(z)", "tan(z)", "z**pi", "z**E", "E**z", "pi"]


def _plausible_warp(rng: random.Random) -> str:
    f, g = rng.choice(WARP_TEMPLATES)
    a, p = rng.choice(PARAMS), rng.choice(["2", "3", "1/2", "0.5", "1/3", "1000", "1e-3", "pi"])
    text = "f=" + f.format(a=a, p=p)
    if g is not None and rng.random() < 0.55:
        text += ";g=" + g.format(a=a, p=p)
    elif rng.random() < 0.1:
        text += ";g=" + expression(rng, "z", 2)
    return text


def _plausible_basis(rng: random.Random) -> tuple[str, int]:
    k = rng.randint(1, 5)
    items = [rng.choice(BASIS_ITEMS).format(k=rng.choice(["2", "3", "5", "10", "50", "100", "999"]))
             for _ in range(k)]
    if rng.random() < 0.4:   # start from the polynomial chain so that most lists are independent
        items = ["1", "z", "z**2"][: rng.randint(1, 3)] + items[: rng.randint(0, 2)]
    return "functions=" + ";".join(items), len(items)


# --- argv builders -------------------------------------------------------------------------------------

def _small_n(rng: random.Random) -> str:
    return str(rng.choice([1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 6]))


def _delta_for(rng: random.Random, warp: str) -> list[str]:
    """``--delta`` (and ``--time`` for scale) options, valid most of the time."""
    if rng.random() < 0.55:
        return []
    d = rng.choice(["0.1", "0.01", "0.5", "1", "0.001", "1/10", "2", "0.25", "1e-3"])
    out = ["--delta", d]
    if warp == "scale":
        out += ["--time", rng.choice(["1", "2", "0.5", "10"])]
    return out


def _extras(rng: random.Random) -> list[str]:
    extra = []
    if rng.random() < 0.25:
        extra.append("--exact")
    if rng.random() < 0.1:
        extra += ["--format", "text"]
    if rng.random() < 0.08:
        extra += ["--budget", rng.choice(["1", "2", "0", "0.5", "30"])]
    return extra


def _any_warp(rng: random.Random) -> str:
    return rng.choice(BUILTIN_WARPS) if rng.random() < 0.6 else _plausible_warp(rng)


def _matrices(warp: str, basis: str, N: str, rest=()) -> list[str]:
    return ["matrices", "--warp", warp, "--basis", basis, "--N", N, *rest]


def case_warp_grammar(rng):
    warp = "f=" + expression(rng, "x", rng.randint(1, 5))
    if rng.random() < 0.3:
        warp += ";g=" + expression(rng, "z", rng.randint(1, 4))
    return _matrices(warp, rng.choice(BUILTIN_BASES), _small_n(rng), _delta_for(rng, warp) + _extras(rng))


def case_warp_plausible(rng):
    warp = _plausible_warp(rng)
    if rng.random() < 0.3:
        basis, k = _plausible_basis(rng)
        N = str(rng.randint(1, k))
    else:
        basis, N = rng.choice(BUILTIN_BASES), _small_n(rng)
    return _matrices(warp, basis, N, _delta_for(rng, warp) + _extras(rng))


def case_basis_grammar(rng):
    k = rng.randint(1, 5)
    items = [expression(rng, "z", rng.randint(0, 4)) for _ in range(k)]
    N = str(rng.randint(1, k)) if rng.random() < 0.9 else str(k + 1)
    warp = rng.choice(BUILTIN_WARPS)
    return _matrices(warp, "functions=" + ";".join(items), N, _delta_for(rng, warp) + _extras(rng))


def case_basis_plausible(rng):
    basis, k = _plausible_basis(rng)
    warp = _any_warp(rng) if rng.random() < 0.3 else rng.choice(BUILTIN_WARPS)
    N = str(rng.randint(1, k))
    return _matrices(warp, basis, N, _delta_for(rng, warp) + _extras(rng))


VALID_WARP_TEXTS = BUILTIN_WARPS + ["f=exp(x)", "f=1+x", "f=exp(2*x);g=log(z)/2", "f=2/(1+exp(-x))",
                                    "f=1+x/3;g=3*(z-1)", "f=sqrt(1+x)"]
VALID_BASIS_TEXTS = BUILTIN_BASES + ["functions=1;z;z**2", "functions=1;log(z)", "functions=1;sqrt(z);z",
                                     "functions=1;cos(2*pi*z);sin(2*pi*z)"]


def case_mutation(rng):
    warp, basis, N = rng.choice(VALID_WARP_TEXTS), rng.choice(VALID_BASIS_TEXTS), _small_n(rng)
    r = rng.random()
    if r < 0.4:
        warp = _mutate(rng, warp)
    elif r < 0.75:
        basis = _mutate(rng, basis)
    elif r < 0.9:
        payload = rng.choice(PAYLOADS)
        if rng.random() < 0.5:
            warp = rng.choice(["f=", "f=exp(x);g=", "exponential:rate=", "linear:window="]) + payload
        else:
            basis = rng.choice(["functions=", "functions=1;"]) + payload.replace("x", "z")
    else:
        warp, basis = _mutate(rng, warp), _mutate(rng, basis)
    rest = _delta_for(rng, warp) + _extras(rng)
    if "functions=" in basis and basis.count(";") + 1 < int(N):
        N = "1"
    return _matrices(warp, basis, N, rest)


def case_odd_options(rng):
    warp, basis = rng.choice(BUILTIN_WARPS), rng.choice(BUILTIN_BASES)
    N = _small_n(rng)
    argv = ["matrices", "--warp", warp, "--basis", basis]
    r = rng.random()
    if r < 0.25:
        argv += ["--N", rng.choice(ODD_N)]
        if rng.random() < 0.5:
            argv += ["--delta", "0.1"] + (["--time", "1"] if warp == "scale" else [])
    elif r < 0.55:
        argv += ["--N", N, "--delta", rng.choice(ODD_REALS)]
        if warp == "scale" or rng.random() < 0.2:
            argv += ["--time", rng.choice(ODD_REALS + ["1", "2"])]
        if rng.random() < 0.3:
            argv.append("--exact")
    elif r < 0.7:
        argv += ["--N", N, "--budget", rng.choice(ODD_BUDGETS)]
        if rng.random() < 0.5:
            argv += ["--delta", "0.1"] + (["--time", "1"] if warp == "scale" else [])
    elif r < 0.8:   # parameters of the built-in warps
        name = rng.choice(["exponential:rate=", "linear:window=", "exponential:window=", "scale:rate="])
        argv[2] = name + rng.choice(ODD_REALS + PARAMS + ["acos(2)", "x", "2**-1000", "-(-1)"])
        argv += ["--N", N] + (["--delta", rng.choice(["0.1", "0.5", "2", "1e-300"])] if rng.random() < 0.6 else [])
        if rng.random() < 0.3:
            argv.append("--exact")
    else:
        argv += ["--N", N]
        argv += rng.choice([
            ["--N", "3"], ["--warp", "linear"], ["--foo"], ["--format", "xml"], ["--format", "json", "--format",
            "text"], ["--delta"], ["--exact=1"], ["--N=3"], ["--time", "1"], ["--delta", "0.1", "--delta", "0.2"],
            ["--delta", "2"], ["--delta", "1"], ["--delta", "0.999999"], ["--delta", "1.0000001"],
            ["--delta", "100", "--exact"], ["--quiet", "--no-cache", "--exact"], ["extra"], ["--", "x"],
            ["--delta", "1e-300", "--exact"], ["--delta", "1e300"], ["--delta", "50", "--exact"],
            ["--delta", "0.1", "--time", "1e-300"], ["--delta", "1e300", "--time", "1e-300"],
            ["--delta", "0.1", "--time", "1e300", "--exact"], ["-h"], ["--delta", "5e-324", "--exact"],
        ])
    return argv


def _verify_args(rng):
    warp = _any_warp(rng) if rng.random() < 0.85 else _mutate(rng, rng.choice(VALID_WARP_TEXTS))
    basis = rng.choice(BUILTIN_BASES) if rng.random() < 0.8 else _plausible_basis(rng)[0]
    fam = rng.choice(FAMILIES) if rng.random() < 0.8 else rng.choice(ODD_FAMILIES)
    N = _small_n(rng) if rng.random() < 0.9 else rng.choice(ODD_N)
    if basis.startswith("functions=") and N.isdigit() and int(N) > basis.count(";") + 1:
        N = str(basis.count(";") + 1)
    argv = ["verify", "--warp", warp, "--basis", basis, "--against", fam, "--N", N]
    if rng.random() < 0.3:
        argv += ["--delta", rng.choice(["0.1", "0.5", "1e-300", "1e300", "1", "nan"])]
        if warp == "scale" or rng.random() < 0.1:
            argv += ["--time", rng.choice(["1", "0.5", "1e-300", "1e300"])]
    if rng.random() < 0.2:
        argv += ["--certificate", rng.choice(["cert", "sub/cert", "", " ", "/proc/cert", TMP + "/c", "cert\n",
                                              "a" * 300, TMP + "/missing/c", "."])]
    if rng.random() < 0.15:
        argv += ["--format", "markdown"]
    return argv


def case_verify(rng):
    r = rng.random()
    if r < 0.06:
        argv = ["verify", "--all", "--N", rng.choice(["1", "2", "2", "3", "0", "-1", "\u0662"])]
        if rng.random() < 0.3:
            argv += rng.choice([["--warp", "linear"], ["--format", "markdown"], ["--delta", "0.1"],
                                ["--certificate", "c"], ["--budget", "1"]])
        return argv
    if r < 0.12:
        return ["verify", "--N", _small_n(rng)] + rng.choice([[], ["--warp", "linear"], ["--basis", "legendre"],
                                                              ["--against", "legs"]])
    return _verify_args(rng)


def case_export(rng):
    basis = rng.choice(BUILTIN_BASES) if rng.random() < 0.8 else _plausible_basis(rng)[0]
    N = _small_n(rng) if rng.random() < 0.9 else rng.choice(ODD_N)
    if basis.startswith("functions=") and N.isdigit() and int(N) > basis.count(";") + 1:
        N = "1"
    r = rng.random()
    if r < 0.2:
        warps = rng.sample(STATIONARY_WARPS, rng.randint(2, 3))
        if rng.random() < 0.3:
            warps[-1] = rng.choice(["scale", _plausible_warp(rng), "exponential"])
    else:
        warps = [rng.choice(BUILTIN_WARPS) if rng.random() < 0.6 else _plausible_warp(rng)]
        if rng.random() < 0.15:
            warps = [_mutate(rng, warps[0])]
    argv = ["export"]
    for w in warps:
        argv += ["--warp", w]
    argv += ["--basis", basis, "--N", N]
    if "scale" not in warps or rng.random() < 0.2:
        if rng.random() < 0.9:
            argv += ["--delta", rng.choice(["0.1", "0.01", "0.5", "1", "0.1"] if rng.random() < 0.8 else ODD_REALS)]
    name = "pkg_fuzz" if rng.random() < 0.6 else rng.choice(ODD_NAMES)
    out = TMP if rng.random() < 0.75 else rng.choice(["/proc", TMP + "/missing/deeper", TMP + "/afile", "", TMP + "/",
                                                      "/proc/self/fd", TMP + "/../" + "x" * 300])
    argv += ["--name", name, "--out", out]
    if rng.random() < 0.1:
        argv += rng.choice([["--exact"], ["--time", "1"], ["--budget", "0"], ["--format", "json"]])
    return argv


def case_toplevel(rng):
    return rng.choice([[], ["--help"], ["--version"], ["matrices"], ["unknown"], ["matrices", "--help"],
                       ["--N", "3"], ["export"], ["verify"], ["matrices", "--warp"], ["MATRICES"],
                       ["matrices", "--warp", "exponential", "--basis", "legendre"],
                       ["matrices", "--warp=exponential", "--basis=legendre", "--N=3"],
                       ["matrices", "--wa", "exponential", "--ba", "legendre", "--N", "2"],
                       ["matrices", "--warp", "", "--basis", "", "--N", ""],
                       ["matrices", "--warp", "exponential", "--basis", "legendre", "--N", "2", "--N", "2"]])


#: oracle pairs: (variant argv, reference argv); an accepted variant must give the reference's numbers
def case_oracle(rng):
    N = str(rng.randint(1, 4))
    a = rng.choice(["2", "3", "1/2", "5/2"])
    warp_pairs = [
        (f"f=exp({a}*x)", f"exponential:rate={a}"), (f"f=E**(x*{a})", f"exponential:rate={a}"),
        ("f=exp(x);g=log(z)", "exponential"), (f"f=1+x/({a})", f"linear:window={a}"),
        (f"f=(x+{a})/({a})", f"linear:window={a}"), ("f=2**x", "exponential:rate=log(2)"),
        ("f=exp(x/2)**2", "exponential"), ("f=sqrt(exp(2*x))", "exponential"),
        (f"exponential:rate={a}.0" if "/" not in a else f"exponential:rate=({a})", f"exponential:rate={a}"),
        ("f=exp(log(1+x))", "linear"), ("f=1+x;g=z-1", "linear"), ("f=  exp( x )  ", "exponential"),
    ]
    basis_pairs = [("legendre", "legendre"),
                   ("functions=" + ";".join(["1", "z", "z**2", "z**3"][: int(N)]), "legendre"),
                   ("functions=" + ";".join(["3", "2*z-1", "z**2+z", "z**3-z"][: int(N)]), "legendre"),
                   ("functions=" + ";".join(["1", "cos(2*pi*z)", "sin(2*pi*z)", "cos(4*pi*z)"][: int(N)]), "fourier"),
                   ("functions=" + ";".join(["1", "log(z)", "log(z)**2", "log(z)**3"][: int(N)]), "laguerre"),
                   ("laguerre", "laguerre"), ("fourier", "fourier")]
    if rng.random() < 0.6:
        wv, wr = rng.choice(warp_pairs)
        bv = br = rng.choice(BUILTIN_BASES)
    else:
        wv = wr = rng.choice(STATIONARY_WARPS)
        bv, br = rng.choice(basis_pairs)
        if bv == br:
            bv = " " + bv + "\n"
    rest = []
    if rng.random() < 0.5:
        rest = ["--delta", rng.choice(["0.1", "0.5", "0.25", "1e-3"])]
    return ["matrices", "--warp", wv, "--basis", bv, "--N", N, *rest], \
           ["matrices", "--warp", wr, "--basis", br, "--N", N, *rest]


KINDS = [  # (weight, name, builder)
    (13, "warp-grammar", case_warp_grammar),
    (13, "warp-plausible", case_warp_plausible),
    (11, "basis-grammar", case_basis_grammar),
    (9, "basis-plausible", case_basis_plausible),
    (14, "mutation", case_mutation),
    (12, "odd-options", case_odd_options),
    (5, "oracle", None),
    (12, "verify", case_verify),
    (9, "export", case_export),
    (2, "toplevel", case_toplevel),
]


def make_case(seed: int, index: int) -> dict:
    rng = random.Random(f"{seed}:{index}")
    total = sum(w for w, _, _ in KINDS)
    pick = rng.uniform(0, total)
    for weight, kind, builder in KINDS:
        pick -= weight
        if pick <= 0:
            break
    case = {"id": index, "kind": kind}
    if kind == "oracle":
        case["argv"], case["oracle"] = case_oracle(rng)
    else:
        case["argv"] = builder(rng)
    if any(TMP + "/afile" in a for a in case["argv"]):
        case["setup_file"] = "afile"
    return case


def make_cases(seed: int, count: int) -> list[dict]:
    return [make_case(seed, i) for i in range(count)]
