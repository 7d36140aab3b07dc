"""ODE discretization rules for ``dc/dt = A c + B u``, the baselines the lag recurrence is compared with.

Fixed step ``Delta`` (the input held over the step), computed in mpmath at ``dps`` digits from the
exact published matrices (:mod:`symderive.verification.families`) and rounded once to float64:

- ``forward`` Euler:  ``A_d = I + Delta A``,                    ``B_d = Delta B``;
- ``backward`` Euler: ``A_d = (I - Delta A)^-1``,               ``B_d = (I - Delta A)^-1 Delta B``;
- ``bilinear``:       ``A_d = (I - Delta A/2)^-1 (I + Delta A/2)``, ``B_d = (I - Delta A/2)^-1 Delta B``;
- ``zoh`` (zero-order hold): ``A_d = expm(Delta A)``, ``B_d = integral_0^Delta expm(s A) ds B``, both
  read off one exponential of the augmented matrix ``Delta [[A, B], [0, 0]]`` (no ``A^-1``, so no
  cancellation at small ``Delta``).

The time-varying HiPPO-LegS of the HiPPO reference code (``HiPPO_LegS``/``HiPPOScale``) integrates
``dc/dt = (A c + B u) / t`` and applies at step ``t = 1, 2, ...`` (input ``u_t``) the rule to
``A_t = A / t``, ``B_t = B / t`` with a unit step, in float64 as that code does:
``forward`` ``I + A_t``, ``B_t``; ``backward`` ``(I - A_t)^-1``, ``(I - A_t)^-1 B_t``; ``bilinear``
``(I - A_t/2)^-1 (I + A_t/2)``, ``(I - A_t/2)^-1 B_t``. (Its ``zoh`` option uses
``expm(A log((t+1)/t))``: the exact step ``t -> t+1`` applied to ``u_t``, i.e. the lag step of the scale
warp one step late; the experiments run it with the generated scale-warp kernel started at ``t0 = 1``.)
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from ..errors import InputError

FIXED_RULES = ("forward", "backward", "bilinear", "zoh")
TIME_VARYING_RULES = ("forward", "backward", "bilinear")


def mp_matrices(A, B, dps: int):
    """Exact SymPy ``A`` (N x N) and ``B`` (N x 1 or N) as mpmath matrices at ``dps`` digits."""
    A = sp.Matrix(A)
    B = sp.Matrix(B)
    N = A.shape[0]
    with mpmath.workdps(dps):
        mA = mpmath.matrix(N, N)
        mB = mpmath.matrix(N, 1)
        for i in range(N):
            mB[i, 0] = mpmath.mpf(sp.N(B[i], dps + 10))
            for j in range(N):
                mA[i, j] = mpmath.mpf(sp.N(A[i, j], dps + 10))
    return mA, mB


def fixed_step(rule: str, A, B, delta, dps: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """``(A_d, B_d)`` of ``rule`` (one of :data:`FIXED_RULES`) at step ``delta`` (module docstring), float64.

    ``A``, ``B`` are exact SymPy matrices for ``dc/dt = A c + B u``; ``delta`` an exact number (int,
    Fraction, SymPy Rational) or a float.
    """
    if rule not in FIXED_RULES:
        raise InputError(f"unknown discretization rule {rule!r}; valid: {', '.join(FIXED_RULES)}")
    with mpmath.workdps(dps):
        mA, mB = mp_matrices(A, B, dps)
        N = mA.rows
        d = mpmath.mpf(sp.N(sp.nsimplify(delta) if not isinstance(delta, float) else delta, dps + 10))
        if not d > 0:
            raise InputError(f"delta must be > 0, got {delta!r}")
        eye = mpmath.eye(N)
        if rule == "forward":
            Ad, Bd = eye + d * mA, d * mB
        elif rule == "backward":
            M = mpmath.inverse(eye - d * mA)
            Ad, Bd = M, M * (d * mB)
        elif rule == "bilinear":
            M = mpmath.inverse(eye - (d / 2) * mA)
            Ad, Bd = M * (eye + (d / 2) * mA), M * (d * mB)
        else:
            aug = mpmath.zeros(N + 1, N + 1)
            for i in range(N):
                aug[i, N] = d * mB[i, 0]
                for j in range(N):
                    aug[i, j] = d * mA[i, j]
            E = mpmath.expm(aug)
            Ad = E[:N, :N]
            Bd = E[:N, N]
        return _to_numpy(Ad), _to_numpy(Bd).reshape(-1)


def _to_numpy(M) -> np.ndarray:
    return np.array([[float(M[i, j]) for j in range(M.cols)] for i in range(M.rows)], dtype=np.float64)


def time_varying_step(rule: str, A: np.ndarray, B: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
    """The HiPPO reference code's per-step matrices at step ``t >= 1`` (module docstring), float64."""
    if rule not in TIME_VARYING_RULES:
        raise InputError(f"unknown time-varying rule {rule!r}; valid: {', '.join(TIME_VARYING_RULES)}")
    if t < 1:
        raise InputError(f"step t must be >= 1, got {t}")
    N = A.shape[0]
    eye = np.eye(N)
    At, Bt = A / t, B / t
    if rule == "forward":
        return eye + At, Bt
    if rule == "backward":
        M = eye - At
        return np.linalg.solve(M, eye), np.linalg.solve(M, Bt)
    M = eye - At / 2
    return np.linalg.solve(M, eye + At / 2), np.linalg.solve(M, Bt)


def _run(step_matrices, U: np.ndarray, checkpoints) -> dict:
    """Plain float64 loop ``c_k = A_k c_{k-1} + B_k u_k`` (``c_0 = 0``) over ``U`` (L, H), with
    ``step_matrices(k) = (A_k^T, B_k)`` (the transpose, as the channels-as-rows update ``c @ A_k^T`` uses);
    the states (H, N) after ``K`` steps for every ``K`` in ``checkpoints``."""
    U = np.asarray(U, dtype=np.float64)
    wanted = sorted(set(int(k) for k in checkpoints))
    if not wanted or wanted[0] < 1 or wanted[-1] > U.shape[0]:
        raise InputError(f"checkpoints must lie in 1..{U.shape[0]}, got {wanted}")
    c = None
    out = {}
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, wanted[-1] + 1):
            AkT, Bk = step_matrices(k)
            if c is None:
                c = np.zeros((U.shape[1], AkT.shape[0]))
            c = c @ AkT + U[k - 1][:, None] * Bk[None, :]
            if k in wanted:
                out[k] = c.copy()
    return out


def run_fixed(A: np.ndarray, B: np.ndarray, U: np.ndarray, checkpoints) -> dict:
    """Plain float64 loop ``c_k = A c_{k-1} + B u_k`` (``c_0 = 0``) over ``U`` (L, H); the states (H, N)
    after ``K`` steps for every ``K`` in ``checkpoints``."""
    At = np.ascontiguousarray(A.T)
    return _run(lambda k: (At, B), U, checkpoints)


def run_time_varying(rule: str, A: np.ndarray, B: np.ndarray, U: np.ndarray, checkpoints) -> dict:
    """Like :func:`run_fixed` with the reference code's per-step matrices of ``rule`` at ``t = k``."""
    def step_matrices(k):
        Ak, Bk = time_varying_step(rule, A, B, k)
        return Ak.T, Bk
    return _run(step_matrices, U, checkpoints)
