"""Independent reference for the lag-operator matrices: plain mpmath quadrature of docs/math.md, sections 2-3.

Nothing here imports symderive, SymPy, or any function that symderive builds: basis functions,
their derivatives, warps (given by the caller as mpmath callables) and inner products are written
directly in mpmath, so that these numbers share no code path with the code under test.

A basis is a pair ``(p, dp)`` of lists of callables ``z -> mpf``: ``p[n]`` is ``p_n`` and ``dp[n]``
is ``p_n'``. All functions live on ``Z = (0, 1]`` and are orthonormal for a weight ``w``
(``integral_0^1 p_n p_k w dz = delta_nk``; ``w = 1`` unless stated).

Formulas (docs/math.md):

    generator (section 3), with the velocity v(z) = 1/g'(z) = f'(g(z)):
        A_gen[n, k] = -v(1) w(1) p_n(1) p_k(1) + integral_0^1 p_n(z) p_k'(z) v(z) w(z) dz
        B_gen[n]    =  v(1) w(1) p_n(1)

    lag matrices (section 2), with the lag map lam(z) = f(g(z) + Delta), cutoff z_Delta = f(-Delta):
        A_Delta[n, k] = integral_0^{z_Delta} p_n(z) p_k(lam(z)) w(z) dz
        B_Delta[n]    = integral_{z_Delta}^1 p_n(z) w(z) dz

Every integral is ``mpmath.quad`` (tanh-sinh) at ``DPS = 30`` decimal digits, on an interval split
into ``PIECES`` equal parts (the integrands are smooth inside (0, 1]; the endpoint singularities
at z = 0 of log-Laguerre (log z powers) and of sqrt-type warps are what tanh-sinh handles well).
"""

from __future__ import annotations

import mpmath

DPS = 30
PIECES = 4


def _one(z):
    return mpmath.mpf(1)


# ---------------------------------------------------------------------- quadrature


def quad(fn, a, b, dps: int = DPS, pieces: int = PIECES):
    """``integral_a^b fn(z) dz`` by ``mpmath.quad`` at ``dps`` digits, on ``pieces`` equal sub-intervals."""
    with mpmath.workdps(dps):
        a = mpmath.mpf(a)
        b = mpmath.mpf(b)
        nodes = [a + (b - a) * i / pieces for i in range(pieces + 1)]
        return mpmath.quad(fn, nodes)


def inner(f, g, w=_one, dps: int = DPS):
    """``<f, g>_w = integral_0^1 f(z) g(z) w(z) dz``."""
    return quad(lambda z: f(z) * g(z) * w(z), 0, 1, dps)


def gram(p, w=_one, dps: int = DPS):
    """The Gram matrix ``G[n, k] = <p_n, p_k>_w`` (the identity for an orthonormal basis)."""
    N = len(p)
    with mpmath.workdps(dps):
        G = mpmath.matrix(N, N)
        for n in range(N):
            for k in range(n, N):
                G[n, k] = G[k, n] = inner(p[n], p[k], w, dps)
        return G


# ---------------------------------------------------------------------- bases


def legendre(N: int):
    """Shifted orthonormal Legendre ``p_n(z) = sqrt(2n+1) P_n(2z - 1)`` and derivatives.

    ``p_n'(z) = 2 sqrt(2n+1) P_n'(2z - 1)`` with ``P_n' = sum_{j = n-1, n-3, ... >= 0} (2j + 1) P_j``.
    """
    def p(n):
        return lambda z: mpmath.sqrt(2 * n + 1) * mpmath.legendre(n, 2 * z - 1)

    def dp(n):
        def d(z):
            x = 2 * z - 1
            s = mpmath.fsum((2 * j + 1) * mpmath.legendre(j, x) for j in range(n - 1, -1, -2))
            return 2 * mpmath.sqrt(2 * n + 1) * s
        return d

    return [p(n) for n in range(N)], [dp(n) for n in range(N)]


def laguerre(N: int):
    """Log-Laguerre ``p_n(z) = L_n(-log z)`` and derivatives.

    With ``y = -log z``, ``dy/dz = -1/z`` and ``L_n'(y) = -sum_{j<n} L_j(y)``, so
    ``p_n'(z) = (1/z) sum_{j<n} L_j(-log z)``.
    """
    def p(n):
        return lambda z: mpmath.laguerre(n, 0, -mpmath.log(z))

    def dp(n):
        def d(z):
            y = -mpmath.log(z)
            return mpmath.fsum(mpmath.laguerre(j, 0, y) for j in range(n)) / z
        return d

    return [p(n) for n in range(N)], [dp(n) for n in range(N)]


def fourier(N: int):
    """Fourier ``1, sqrt2 cos 2 pi z, sqrt2 sin 2 pi z, sqrt2 cos 4 pi z, ...`` (N functions) and derivatives.

    ``(sqrt2 cos 2 pi j z)' = -2 pi j sqrt2 sin 2 pi j z``, ``(sqrt2 sin 2 pi j z)' = 2 pi j sqrt2 cos 2 pi j z``.
    """
    p, dp = [lambda z: mpmath.mpf(1)], [lambda z: mpmath.mpf(0)]
    j = 1
    while len(p) < N:
        def cos_(z, j=j):
            return mpmath.sqrt(2) * mpmath.cos(2 * j * mpmath.pi * z)

        def dcos(z, j=j):
            return -2 * j * mpmath.pi * mpmath.sqrt(2) * mpmath.sin(2 * j * mpmath.pi * z)

        def sin_(z, j=j):
            return mpmath.sqrt(2) * mpmath.sin(2 * j * mpmath.pi * z)

        def dsin(z, j=j):
            return 2 * j * mpmath.pi * mpmath.sqrt(2) * mpmath.cos(2 * j * mpmath.pi * z)

        p.append(cos_)
        dp.append(dcos)
        if len(p) < N:
            p.append(sin_)
            dp.append(dsin)
        j += 1
    return p, dp


def gram_schmidt(funcs, dfuncs=None, w=_one, dps: int = DPS):
    """Orthonormalize ``funcs`` in the given order (classical Gram-Schmidt, quadrature inner products).

    ``q_n = f_n - sum_{k<n} <f_n, p_k>_w p_k``, ``p_n = q_n / ||q_n||_w`` (so the coefficient of ``f_n``
    in ``p_n`` is positive). Works on coefficients: ``p_n = sum_j C[n][j] f_j`` with the Gram matrix
    ``G[i][j] = <f_i, f_j>_w`` of the inputs, so ``<f_n, p_k> = sum_j C[k][j] G[n][j]`` and the derivatives
    are ``p_n' = sum_j C[n][j] f_j'`` (``dfuncs`` the derivatives of ``funcs``, written by the caller).

    Returns ``(p, dp, C)``; ``dp`` is None when ``dfuncs`` is None.
    """
    N = len(funcs)
    with mpmath.workdps(dps):
        G = gram(funcs, w, dps)
        C = []
        for n in range(N):
            q = [mpmath.mpf(1) if j == n else mpmath.mpf(0) for j in range(N)]
            for ck in C:
                proj = mpmath.fsum(ck[j] * G[n, j] for j in range(N))
                q = [qj - proj * cj for qj, cj in zip(q, ck)]
            norm_sq = mpmath.fsum(q[i] * q[j] * G[i, j] for i in range(N) for j in range(N))
            if norm_sq <= 0:
                raise ValueError(f"function {n} is linearly dependent on the ones before it")
            norm = mpmath.sqrt(norm_sq)
            C.append([qj / norm for qj in q])

    def combo(fs, row):
        return lambda z: mpmath.fsum(c * f(z) for c, f in zip(row, fs))

    p = [combo(funcs, row) for row in C]
    dp = [combo(dfuncs, row) for row in C] if dfuncs is not None else None
    return p, dp, C


# ---------------------------------------------------------------------- matrices


def ref_generator(p, dp, v, N: int, w=_one, dps: int = DPS):
    """``(A_gen, B_gen)`` of docs/math.md, section 3.1 as mpmath matrices (N x N and N x 1).

    ``A_gen[n, k] = -v(1) w(1) p_n(1) p_k(1) + integral_0^1 p_n(z) p_k'(z) v(z) w(z) dz``,
    ``B_gen[n] = v(1) w(1) p_n(1)``, where ``v(z) = 1/g'(z) = f'(g(z))`` is the velocity of the warp
    (given as an mpmath callable).
    """
    with mpmath.workdps(dps):
        one = mpmath.mpf(1)
        vw1 = v(one) * w(one)
        p1 = [p[n](one) for n in range(N)]
        A = mpmath.matrix(N, N)
        B = mpmath.matrix(N, 1)
        for n in range(N):
            B[n] = vw1 * p1[n]
            for k in range(N):
                integral = quad(lambda z: p[n](z) * dp[k](z) * v(z) * w(z), 0, 1, dps)
                A[n, k] = -vw1 * p1[n] * p1[k] + integral
        return A, B


def ref_lag(p, lam, zcut, N: int, w=_one, dps: int = DPS):
    """``(A_Delta, B_Delta)`` of docs/math.md, section 2.3 as mpmath matrices (N x N and N x 1).

    ``A_Delta[n, k] = integral_0^{zcut} p_n(z) p_k(lam(z)) w(z) dz``,
    ``B_Delta[n] = integral_{zcut}^1 p_n(z) w(z) dz``, where ``lam`` is the lag map (an mpmath callable)
    and ``zcut = z_Delta`` the cutoff (an mpmath number; the integrals are split there).
    """
    with mpmath.workdps(dps):
        zcut = mpmath.mpf(zcut)
        A = mpmath.matrix(N, N)
        B = mpmath.matrix(N, 1)
        for n in range(N):
            B[n] = quad(lambda z: p[n](z) * w(z), zcut, 1, dps)
            for k in range(N):
                A[n, k] = quad(lambda z: p[n](z) * p[k](lam(z)) * w(z), 0, zcut, dps)
        return A, B
