"""Exact generator for Fourier bases: integrals of Fourier modes against polynomials, in closed form.

A Fourier basis function is ``a_n T_n(2 pi m_n z)`` with ``T`` one of ``1, cos, sin`` and ``a_n``
``1`` (the constant) or ``sqrt 2``. With a velocity polynomial in ``z``, ``v = c sum_r v_r z^r``,

    A_gen[n, k] = -c r1 p_n(1) p_k(1) + c sum_r v_r integral_0^1 z^r p_n(z) p_k'(z) dz,

and each product of two modes is half a sum of modes at ``m_n +- m_k``
(``cos a cos b = (cos(a-b) + cos(a+b))/2`` and so on). The mode moments
``C_r(m) = integral_0^1 z^r cos(2 pi m z) dz``, ``S_r(m) = integral_0^1 z^r sin(2 pi m z) dz``
follow from integrating by parts (``w = 2 pi m != 0``, ``sin w = 0``, ``cos w = 1``):

    C_0 = S_0 = 0,    C_r = -(r / w) S_{r-1},    S_r = -1/w + (r / w) C_{r-1}   (r >= 1)

and ``C_r(0) = 1/(r+1)``, ``S_r(0) = 0``: rational functions of ``pi``, exact.
"""

from __future__ import annotations

import functools

import sympy as sp

# a mode is (kind, m): kind "cos" or "sin", m >= 0; the constant function is ("cos", 0)


@functools.lru_cache(maxsize=None)
def mode_moment(kind: str, m: int, r: int) -> sp.Expr:
    """``integral_0^1 z^r T(2 pi m z) dz`` for ``T = cos`` or ``sin`` (module docstring)."""
    if m == 0:
        return sp.Rational(1, r + 1) if kind == "cos" else sp.S.Zero
    if r == 0:
        return sp.S.Zero
    w = 2 * sp.pi * m
    if kind == "cos":
        return sp.expand(-sp.Rational(r) / w * mode_moment("sin", m, r - 1))
    return sp.expand(-1 / w + sp.Rational(r) / w * mode_moment("cos", m, r - 1))


def _product(mode1, mode2):
    """``T1(a) T2(b)`` as ``[(coefficient, kind, m >= 0)]`` (sin of a negative frequency flips sign)."""
    (k1, a), (k2, b) = mode1, mode2
    half = sp.Rational(1, 2)
    if k1 == "cos" and k2 == "cos":
        terms = [(half, "cos", a - b), (half, "cos", a + b)]
    elif k1 == "sin" and k2 == "sin":
        terms = [(half, "cos", a - b), (-half, "cos", a + b)]
    elif k1 == "sin":
        terms = [(half, "sin", a + b), (half, "sin", a - b)]
    else:
        terms = [(half, "sin", a + b), (-half, "sin", a - b)]
    return [(-c if (kind == "sin" and m < 0) else c, kind, abs(m)) for c, kind, m in terms]


def _derivative(mode):
    """``d/dz T(2 pi m z) = factor * T'(2 pi m z)``: returns ``(factor, mode')``."""
    kind, m = mode
    w = 2 * sp.pi * m
    return (-w, ("sin", m)) if kind == "cos" else (w, ("cos", m))


def generator(modes, amplitudes, v_coeffs, c, r1):
    """Exact ``(A_gen, B_gen)`` for basis functions ``amplitudes[n] * mode_n`` (module docstring).

    ``v_coeffs`` are the rational ``v_r``, ``c`` the common factor and ``r1 = v(1)/c``.
    """
    N = len(modes)
    at_one = [amplitudes[n] if modes[n][0] == "cos" else sp.S.Zero for n in range(N)]
    derivs = [_derivative(mode) for mode in modes]
    A = []
    for n in range(N):
        row = []
        for k in range(N):
            factor, dmode = derivs[k]
            integral = sp.S.Zero
            if factor != 0:
                for coef, kind, m in _product(modes[n], dmode):
                    integral += coef * sum((sp.Rational(vr) * mode_moment(kind, m, r)
                                            for r, vr in enumerate(v_coeffs) if vr), sp.S.Zero)
                integral *= factor * amplitudes[n] * amplitudes[k]
            row.append(sp.expand(c * (integral - sp.Rational(r1) * at_one[n] * at_one[k])))
        A.append(row)
    B = [[sp.expand(c * sp.Rational(r1) * at_one[n])] for n in range(N)]
    return sp.ImmutableMatrix(A), sp.ImmutableMatrix(B)
