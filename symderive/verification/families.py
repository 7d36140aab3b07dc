"""Published HiPPO matrices, exactly, all written for ``dc/dt = A c + B u``.

Each :class:`Family` carries its closed form in symbolic ``n, k`` (SymPy, used for printing and for
difference formulas) and a direct exact construction of its ``N x N`` matrices (used for
comparisons at large N; a test checks the two agree). Parameters use the warp SPEC syntax,
``legt:window=2``, ``legs:rate=3``; the default is 1.

Sources and conventions:

- **HiPPO** = Gu, Dao, Ermon, Rudra, Re, "HiPPO: Recurrent Memory with Optimal Polynomial Projections",
  NeurIPS 2020 (arXiv 2008.07669). It writes ``dc/dt = -A c + B f``; the matrices below are its ``-A``.
- **HTTYH** = Gu, Johnson, Timalsina, Rudra, Re, "How to Train Your HiPPO", ICLR 2023 (arXiv 2206.12037),
  written for ``dx/dt = A x + B u``.
- **s4** = the state-spaces/s4 reference code, ``src/models/hippo/hippo.py``, function ``transition()``
  (as of commit bfd9eb1, the version whose ``legt`` is halved "for timescale correctness"); it returns
  ``A`` for ``dx/dt = A x + B u``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import sympy as sp

from ..errors import InputError
from ..inputs.spec_text import FAMILY_HELP
from ..inputs.warps import _positive_number
from ..symbols import K_SYM, N_SYM
from .exact_numbers import Exact, NotExact, to_exact

n_, k_ = N_SYM, K_SYM


def _sqrt_odd(n: int) -> Exact:
    return Exact.monomial(1, 2 * n + 1)


@dataclass(frozen=True)
class Family:
    """One published matrix pair with its parameters (see the module docstring for sources)."""

    name: str
    params: tuple = ()                     # ((key, SymPy value), ...)
    title: str = ""
    source: str = ""
    convention: str = "dc/dt = A c + B u"
    A_formula: sp.Expr = field(default=sp.S.Zero, compare=False)
    B_formula: sp.Expr = field(default=sp.S.Zero, compare=False)
    builder: object = field(default=None, compare=False, repr=False)
    even_N_only: bool = False

    @property
    def spec(self) -> str:
        extra = ",".join(f"{k}={sp.sstr(v)}" for k, v in self.params if v != 1)
        return self.name + (":" + extra if extra else "")

    def matrices(self, N: int) -> tuple[list[list[Exact]], list[Exact]]:
        """``(A rows, B)`` of size ``N`` as exact normal forms."""
        if not isinstance(N, int) or N < 1:
            raise InputError(f"N must be an integer >= 1, got {N!r}")
        if self.even_N_only and N % 2:
            raise InputError(f"{self.name} is defined for even N only (the reference code builds N/2 "
                             f"cos/sin pairs); got N = {N}")
        return self.builder(N, {k: to_exact(v) for k, v in self.params})

    def sympy_matrices(self, N: int) -> tuple[sp.ImmutableMatrix, sp.ImmutableMatrix]:
        """The same matrices as exact SymPy matrices."""
        A, B = self.matrices(N)
        return (sp.ImmutableMatrix([[x.to_sympy() for x in row] for row in A]),
                sp.ImmutableMatrix([[x.to_sympy()] for x in B]))


# ------------------------------------------------------------------ constructions

def _scaled(A, B, a: Exact, b: Exact):
    one = Exact.rational(1)
    if a != one:
        A = [[x * a if x else x for x in row] for row in A]
    if b != one:
        B = [x * b for x in B]
    return A, B


def _legs(N, p):
    r = p.get("rate", Exact.rational(1))
    s = [_sqrt_odd(i) for i in range(N)]
    A = [[(-(s[i] * s[j]) if i > j else (Exact.rational(-(i + 1)) if i == j else Exact()))
          for j in range(N)] for i in range(N)]
    return _scaled(A, s, r, r)


def _legt(N, p, window=None):
    inv = Exact.rational(1) / (window if window is not None else p["window"])
    s = [_sqrt_odd(i) for i in range(N)]
    A = [[-(s[i] * s[j]) if (i >= j or (i - j) % 2 == 0) else s[i] * s[j] for j in range(N)] for i in range(N)]
    return _scaled(A, s, inv, inv)


def _lmu(N, p):
    inv = Exact.rational(1) / p["window"]
    A = [[Exact.rational(-(2 * i + 1) * ((-1) ** ((i - j) % 2) if i >= j else 1)) for j in range(N)]
         for i in range(N)]
    B = [Exact.rational((-1) ** i * (2 * i + 1)) for i in range(N)]
    return _scaled(A, B, inv, inv)


def _lagt(N, p):
    r = p["rate"]
    A = [[Exact.rational(-1) if i >= j else Exact() for j in range(N)] for i in range(N)]
    return _scaled(A, [Exact.rational(1)] * N, r, r)


def _s4_lagt(N, p):
    A = [[Exact.rational(-1, 2) if i == j else (Exact.rational(-1) if i > j else Exact())
          for j in range(N)] for i in range(N)]
    return A, [Exact.rational(1)] * N


def _s4_fout_b(i: int) -> Exact:
    if i == 0:
        return Exact.rational(1)
    return Exact.monomial(1, 2) if i % 2 == 0 else Exact()


def _s4_fout(N, p):
    b = [_s4_fout_b(i) for i in range(N)]
    A = []
    for i in range(N):
        row = []
        for j in range(N):
            x = -(b[i] * b[j])
            if i % 2 == 1 and j == i - 1 and i >= 3:      # sin_m <- cos_m, m = (i - 1) / 2
                x = x + Exact.monomial((i - 1) // 2, 1, 1)
            elif i % 2 == 0 and j == i + 1 and i >= 2:    # cos_m <- sin_m, m = i / 2
                x = x - Exact.monomial(i // 2, 1, 1)
            row.append(x)
        A.append(row)
    return A, b


def _fout_b(i: int) -> Exact:
    if i == 0:
        return Exact.rational(1)
    return Exact.monomial(1, 2) if i % 2 == 1 else Exact()


def _fout(N, p):
    inv = Exact.rational(1) / p["window"]
    b = [_fout_b(i) for i in range(N)]
    A = []
    for i in range(N):
        row = []
        for j in range(N):
            x = Exact.rational(-2) * b[i] * b[j]
            if i % 2 == 1 and j == i + 1:                 # cos_m <- sin_m, m = (i + 1) / 2
                x = x - Exact.monomial(i + 1, 1, 1)
            elif i % 2 == 0 and i >= 2 and j == i - 1:    # sin_m <- cos_m, m = i / 2
                x = x + Exact.monomial(i, 1, 1)
            row.append(x)
        A.append(row)
    return _scaled(A, [Exact.rational(2) * x for x in b], inv, inv)


# ------------------------------------------------------------------ formulas

def _legs_formulas(r):
    A = r * sp.Piecewise((-sp.sqrt((2 * n_ + 1) * (2 * k_ + 1)), n_ > k_), (-(n_ + 1), sp.Eq(n_, k_)), (0, True))
    return A, r * sp.sqrt(2 * n_ + 1)


def _legt_formulas(theta):
    A = -sp.sqrt((2 * n_ + 1) * (2 * k_ + 1)) / theta * sp.Piecewise((1, n_ >= k_), ((-1) ** (n_ - k_), True))
    return A, sp.sqrt(2 * n_ + 1) / theta


def _lmu_formulas(theta):
    A = -(2 * n_ + 1) / theta * sp.Piecewise(((-1) ** (n_ - k_), n_ >= k_), (1, True))
    return A, (-1) ** n_ * (2 * n_ + 1) / theta


def _lagt_formulas(r):
    return -r * sp.Piecewise((1, n_ >= k_), (0, True)), r * sp.S.One


_FOUT_B = sp.Piecewise((1, sp.Eq(n_, 0)), (sp.sqrt(2), sp.Eq(sp.Mod(n_, 2), 1)), (0, True))
_FOUT_ROTATION = sp.Piecewise((-sp.pi * (n_ + 1), sp.And(sp.Eq(sp.Mod(n_, 2), 1), sp.Eq(k_, n_ + 1))),
                              (sp.pi * n_, sp.And(sp.Eq(sp.Mod(n_, 2), 0), sp.Eq(k_, n_ - 1), n_ >= 2)),
                              (0, True))


def _fout_formulas(theta):
    return (_FOUT_ROTATION - 2 * _FOUT_B * _FOUT_B.subs(n_, k_)) / theta, 2 * _FOUT_B / theta


_S4_LAGT_FORMULAS = (sp.Piecewise((sp.Rational(-1, 2), sp.Eq(n_, k_)), (-1, n_ > k_), (0, True)), sp.S.One)

_S4_FOUT_B = sp.Piecewise((1, sp.Eq(n_, 0)), (sp.sqrt(2), sp.Eq(sp.Mod(n_, 2), 0)), (0, True))
_S4_FOUT_A = (-_S4_FOUT_B * _S4_FOUT_B.subs(n_, k_)
              + sp.Piecewise((sp.pi * (n_ - 1) / 2, sp.And(sp.Eq(sp.Mod(n_, 2), 1), sp.Eq(k_, n_ - 1), n_ >= 3)),
                             (-sp.pi * n_ / 2, sp.And(sp.Eq(sp.Mod(n_, 2), 0), sp.Eq(k_, n_ + 1), n_ >= 2)),
                             (0, True)))


# ------------------------------------------------------------------ registry

_SPECS = {
    # name: (parameter names, builder, formulas(params), title, source)
    "legs": (("rate",), _legs, lambda p: _legs_formulas(p["rate"]),
             "HiPPO-LegS (scaled Legendre), orthonormal",
             "HiPPO, Theorem 2 / eq. for LegS (printed as -A for dc/dt = -A c + B f); docs/math.md, section 5.1"),
    "legt": (("window",), _legt, lambda p: _legt_formulas(p["window"]),
             "HiPPO-LegT (translated Legendre, window theta), orthonormal",
             "HiPPO, LegT (Theorem 1 / Appendix D.1) rescaled to orthonormal states by sqrt(2n+1); "
             "docs/math.md, section 4.3"),
    "lmu": (("window",), _lmu, lambda p: _lmu_formulas(p["window"]),
            "HiPPO-LegT as printed (unnormalized, entries (2n+1)): the Legendre Memory Unit's",
            "HiPPO, LegT (Theorem 1): A_nk = (2n+1)/theta * ((-1)^(n-k) if k <= n else 1), "
            "B_n = (2n+1)(-1)^n/theta for dc/dt = -A c + B f (negated here); equals s4 'lmu' at theta = 1"),
    "lagt": (("rate",), _lagt, lambda p: _lagt_formulas(p["rate"]),
             "HiPPO-LagT (translated Laguerre)",
             "HiPPO, LagT (Theorem 1): A_nk = 1 for n >= k, B_n = 1 for dc/dt = -A c + B f (negated here)"),
    "fout": (("window",), _fout, lambda p: _fout_formulas(p["window"]),
             "FouT (translated Fourier, window theta), with both endpoints of the window",
             "How to Train Your HiPPO (FouT): A = J - 2 b b^T, B = 2 b for window 1, b = (1, sqrt2, 0, sqrt2, 0, ...) "
             "(0: constant, odd n: sqrt2 cos(2 pi m z), even n >= 2: sqrt2 sin(2 pi m z), m = ceil(n/2)), "
             "J[2m-1, 2m] = -2 pi m, J[2m, 2m-1] = 2 pi m; the factor 2 comes from approximating u(t - theta) "
             "by the midpoint of the series' jump. Rotation entries follow the derivation (and the doubled "
             "s4 'fout'); a transcription of the printed case table reads 2 pi n, which we could not check "
             "against the PDF"),
    "s4-legs": ((), lambda N, p: _legs(N, {}), lambda p: _legs_formulas(sp.S.One),
                "s4 transition('legs')", "s4 transition('legs'): T M T^-1 with T = diag(sqrt(2n+1))"),
    "s4-legt": ((), lambda N, p: _legt(N, {}, window=Exact.rational(2)), lambda p: _legt_formulas(sp.Integer(2)),
                "s4 transition('legt'), halved (window 2)",
                "s4 transition('legt') at commit bfd9eb1: orthonormal LegT times 1/2 (A and B)"),
    "s4-lagt": ((), _s4_lagt, lambda p: _S4_LAGT_FORMULAS,
                "s4 transition('lagt') (beta = 1): LagT + I/2",
                "s4 transition('lagt'): A = I/2 - tril(ones), B = ones"),
    "s4-fout": ((), _s4_fout, lambda p: (_S4_FOUT_A, _S4_FOUT_B),
                "s4 transition('fout'): Fourier, translated, with a zero-frequency sine state at index 1",
                "s4 transition('fourier'/'fout') at commit bfd9eb1: A = pi(-diag(d,1) + diag(d,-1)) - B B^T, "
                "d = (0, 0, 1, 0, 2, ...), B = (1, 0, sqrt2, 0, sqrt2, ...); even N only"),
}

FAMILY_NAMES = tuple(_SPECS)
_FAMILY_HELP = FAMILY_HELP


def family(name: str, **params) -> Family:
    """A reference family by name with parameters (exact positive numbers or expressions as strings)."""
    if name not in _SPECS:
        raise InputError(f"unknown family {name!r}; valid: {_FAMILY_HELP}")
    keys, builder, formulas, title, source = _SPECS[name]
    for key in params:
        if key not in keys:
            valid = ", ".join(keys) if keys else "none"
            raise InputError(f"family {name}: unknown parameter {key!r}; valid parameters: {valid}")
    values = {}
    for key in keys:
        value = _positive_number(params.get(key, 1), f"{name} {key}")
        if value.free_symbols:
            raise InputError(f"family {name}: {key} must be a number, got {value}")
        try:
            to_exact(value)
        except NotExact as exc:
            raise InputError(f"family {name}: {key} = {value} is outside the exact number set "
                             f"(rationals, square roots of rationals, powers of pi): {exc}") from None
        values[key] = value
    A_f, B_f = formulas(values)
    even = name in ("s4-fout",)
    return Family(name=name, params=tuple(values.items()), title=title, source=source,
                  A_formula=A_f, B_formula=B_f, builder=builder, even_N_only=even)


def parse_family(spec: str) -> Family:
    """A family from its SPEC: ``NAME`` or ``NAME:key=value,...`` (values as in warp SPECs)."""
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(f"family SPEC must be a non-empty string; valid: {_FAMILY_HELP}")
    name, _, rest = spec.strip().partition(":")
    name = name.strip()
    if name not in _SPECS:
        raise InputError(f"unknown family {name!r}; valid: {_FAMILY_HELP}")
    params = {}
    if rest.strip():
        for item in rest.split(","):
            key, eq, value = item.partition("=")
            if not eq or not key.strip() or not value.strip():
                raise InputError(f"family {name}: parameter {item.strip()!r} must look like key=value")
            if key.strip() in params:
                raise InputError(f"family {name}: parameter {key.strip()!r} given twice")
            params[key.strip()] = value.strip()
    return family(name, **params)


@functools.lru_cache(maxsize=None)
def default_families() -> tuple[Family, ...]:
    """Every family at its default parameters (the ``verify --all`` columns)."""
    return tuple(family(name) for name in FAMILY_NAMES)
