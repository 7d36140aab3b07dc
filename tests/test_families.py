"""Reference families: the fast constructions against their printed formulas and against plain numpy
re-typings of the published constructions (HiPPO paper formulas; s4 transition() at commit bfd9eb1)."""

import numpy as np
import pytest
import sympy as sp

from symderive import InputError
from symderive.verification.exact_numbers import Exact
from symderive.verification.families import FAMILY_NAMES, K_SYM, N_SYM, family, parse_family


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_construction_equals_formula(name):
    """Two independent paths: the exact builder and SymPy's evaluation of the printed formula."""
    fam = family(name)
    N = 8
    A, B = fam.matrices(N)
    for n in range(N):
        assert B[n] == Exact.from_sympy(fam.B_formula.subs(N_SYM, n)), (name, n)
        for k in range(N):
            assert A[n][k] == Exact.from_sympy(fam.A_formula.subs({N_SYM: n, K_SYM: k})), (name, n, k)


def _numpy_reference(name, N):
    """Plain numpy, typed from the publications (not from symderive)."""
    q = np.arange(N, dtype=float)
    i, j = np.meshgrid(q, q, indexing="ij")
    R = np.sqrt(2 * q + 1)
    if name in ("legs", "s4-legs"):
        M = -(np.where(i >= j, 2 * j + 1, 0) - np.diag(q))          # s4: T M T^-1
        return np.diag(R) @ M @ np.diag(1 / R), R
    if name in ("legt", "s4-legt"):
        A = -R[:, None] * np.where(i < j, (-1.0) ** (i - j), 1) * R[None, :]
        s = 0.5 if name == "s4-legt" else 1.0
        return s * A, s * R
    if name == "lmu":
        return np.where(i < j, -1, (-1.0) ** (i - j + 1)) * (2 * q + 1)[:, None], (-1.0) ** q * (2 * q + 1)
    if name == "lagt":
        return -np.tril(np.ones((N, N))), np.ones(N)
    if name == "s4-lagt":
        return np.eye(N) / 2 - np.tril(np.ones((N, N))), np.ones(N)
    if name == "s4-fout":
        freqs = np.arange(N // 2)
        d = np.stack([np.zeros(N // 2), freqs], axis=-1).reshape(-1)[1:]
        A = np.pi * (-np.diag(d, 1) + np.diag(d, -1))
        b = np.zeros(N)
        b[0::2] = np.sqrt(2)
        b[0] = 1
        return A - np.outer(b, b), b
    if name == "fout":   # HTTYH FouT, window 1: J - 2 b b^T, B = 2 b; 0 const, odd cos, even sin
        b = np.zeros(N)
        b[1::2] = np.sqrt(2)
        b[0] = 1
        J = np.zeros((N, N))
        for m in range(1, (N + 1) // 2 + 1):
            c, s = 2 * m - 1, 2 * m
            if s < N:
                J[c, s], J[s, c] = -2 * np.pi * m, 2 * np.pi * m
        return J - 2 * np.outer(b, b), 2 * b
    raise KeyError(name)


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_against_numpy_reference(name):
    N = 8
    A, B = family(name).matrices(N)
    A_ref, B_ref = _numpy_reference(name, N)
    assert np.allclose(np.array([[float(x) for x in row] for row in A]), A_ref, rtol=1e-14, atol=1e-13)
    assert np.allclose(np.array([float(x) for x in B]), B_ref, rtol=1e-14, atol=1e-13)


def test_parameters():
    legt2 = parse_family("legt:window=2")
    assert legt2.spec == "legt:window=2"
    A2, B2 = legt2.matrices(5)
    A1, B1 = family("legt").matrices(5)
    half = Exact.rational(1, 2)
    assert A2 == [[x * half for x in row] for row in A1] and B2 == [x * half for x in B1]
    assert legt2.matrices(6) == family("s4-legt").matrices(6)
    legs3 = parse_family("legs:rate=3")
    assert legs3.matrices(3)[1] == [Exact.monomial(3, 2 * n + 1) for n in range(3)]
    assert parse_family("legs:rate=sqrt(2)").matrices(2)[0][0][0] == Exact.monomial(-1, 2)


@pytest.mark.parametrize("spec, words", [
    ("hippo", "unknown family"), ("legs:window=2", "unknown parameter 'window'"),
    ("legt:window=0", "must be"), ("legs:rate", "key=value"), ("s4-legs:rate=2", "valid parameters: none"),
    ("legs:rate=x", "number"), ("legs:rate=log(2)", "exact number set"), ("", "non-empty"),
])
def test_bad_specs(spec, words):
    with pytest.raises(InputError, match=words):
        parse_family(spec)


def test_s4_fout_needs_even_N():
    with pytest.raises(InputError, match="even N"):
        family("s4-fout").matrices(5)


def test_lmu_is_a_similarity_of_legt():
    """docs/math.md, section 5.1: lmu = D legt D^-1, D legt_B with D = diag((-1)^n sqrt(2n+1)), theta = 1."""
    N = 7
    A, B = family("legt").matrices(N)
    L, LB = family("lmu").matrices(N)
    d = [Exact.monomial((-1) ** n, 2 * n + 1) for n in range(N)]
    assert L == [[d[n] * A[n][k] / d[k] for k in range(N)] for n in range(N)]
    assert LB == [d[n] * B[n] for n in range(N)]
