"""Data for Figures 1, 3 and 4, computed from derived models and generated kernels.

- :func:`warps_data`: ``sigma`` and ``omega`` of the built-in and one custom warp (Figure 1);
- :func:`lag_shift_data`: backward shift ``A_Delta e_k`` (the projection of ``L_Delta p_k``) and forward
  shift ``A_Delta^T e_k`` (the projection of the adjoint ``L*_Delta p_k``) against the exact shifted
  functions (Figure 3). For the dilation ``z -> q z`` (``q = e^{-rate Delta}``):
  ``(L p)(z) = p(z / q) 1[z <= q]`` and ``(L* p)(y) = q p(q y)``: the backward shift compresses
  ``p`` toward ``z = 0`` (old history) and leaves the newest slice ``(q, 1]`` to the input; the forward
  shift stretches it toward ``z = 1`` and shrinks its amplitude by ``q``, the Jacobian of the dilation.
  ``L*`` maps polynomials to polynomials, so ``A^T e_k`` reproduces it exactly. For the window
  translation by ``s = Delta / theta``: ``(L p)(z) = p(z + s) 1[z <= 1 - s]``, ``(L* p)(y) = p(y - s) 1[y >= s]``;
  both are cut, so their projections ripple;
- :func:`memory_data`: the final state of the lag model (generated kernel) and of HiPPO-LegS (bilinear,
  as in the reference code), reconstructed over the history, with the exact projection (Figure 4).
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from ..derivation.model import derive
from ..inputs import bases, warps
from ..verification.families import family
from . import discretizations, reference, signals
from .curves import legendre_values, projected, warp_and_measure


def warps_data(span: float = 12.0, points: int = 1201) -> dict:
    """Figure 1: two exponential rates, a linear window and a custom power-law warp ``1/(1 - x)``."""
    x = np.linspace(-span, 0.0, points)
    chosen = [
        (r"exponential, rate 1: $e^{x}$ (LegS)", warps.exponential(1)),
        (r"exponential, rate 1/4: $e^{x/4}$", warps.exponential(sp.Rational(1, 4))),
        (r"linear window 4: $1 + x/4$ on $[-4, 0]$ (LegT)", warps.linear(4)),
        (r"custom: $1/(1 - x)$ (power-law tail)", warps.custom("1/(1 - x)")),
    ]
    curves = []
    for label, warp in chosen:
        sigma, omega = warp_and_measure(warp, x)
        curves.append((label, sigma, omega))
    return {"x": x, "curves": curves}


def _shift_row(title, model, delta, ks, z, backward_exact, forward_exact, cutoff, forward_cut, delta_text):
    A, _ = model.numeric(delta)
    A = np.asarray(A, dtype=np.float64)
    N = A.shape[0]
    P = legendre_values(z, N)
    curves = []
    for k in ks:
        base = P[:, k]
        curves.append((k, base, backward_exact(k), projected(A[:, k], z), forward_exact(k), projected(A[k, :], z)))
    return {"title": title, "z": z, "curves": curves, "cutoff": cutoff, "forward_cut": forward_cut,
            "delta_text": delta_text}


def lag_shift_data(N: int = 12, ks=(2, 5), rate_delta=sp.Rational(2, 5), window_delta=sp.Rational(1, 5),
                   points: int = 801) -> dict:
    """Figure 3 (module docstring): dilation (exponential warp, rate 1) and translation (window 1)."""
    z = np.linspace(1e-6, 1.0, points)
    q = float(sp.exp(-rate_delta))
    s = float(window_delta)

    def p(k, y):
        return legendre_values(np.clip(y, 0.0, 1.0), k + 1)[..., k]

    dil = derive(warps.exponential(), bases.legendre(N))
    row1 = _shift_row(
        "exponential warp (dilation)", dil, rate_delta, ks, z,
        lambda k: np.where(z <= q, p(k, z / q), 0.0),
        lambda k: q * p(k, q * z),
        q, None, rf"$\Delta$ = {sp.sstr(rate_delta)}, q = $e^{{-\Delta}}$ = {q:.3f}")
    tra = derive(warps.linear(1), bases.legendre(N))
    row2 = _shift_row(
        "linear window 1 (translation)", tra, window_delta, ks, z,
        lambda k: np.where(z <= 1 - s, p(k, z + s), 0.0),
        lambda k: np.where(z >= s, p(k, z - s), 0.0),
        1 - s, s, rf"$\Delta$ = {sp.sstr(window_delta)}")
    # how well each matrix reproduces the exact shifted function (L2 on a fine grid)
    fits = {}
    for row, name in ((row1, "dilation"), (row2, "translation")):
        for k, _, b_exact, b_proj, f_exact, f_proj in row["curves"]:
            fits[(name, k, "backward")] = float(np.sqrt(np.trapezoid((b_exact - b_proj) ** 2, z)))
            fits[(name, k, "forward")] = float(np.sqrt(np.trapezoid((f_exact - f_proj) ** 2, z)))
    return {"rows": [row1, row2], "N": N, "ks": tuple(ks), "fits": fits}


def memory_data(package, N: int, delta, T, signal_name: str = "sines", dps: int = 30, points: int = 2001) -> dict:
    """Figure 4: lag model (``package``: exponential x Legendre at ``delta``) vs HiPPO-LegS bilinear."""
    d = sp.Rational(str(delta))
    K = signals.steps(T, d)
    u = signals.signal(signal_name, K, float(d))
    c_lag = np.asarray(package.scan_final(u), dtype=np.float64)
    A_ode, B_ode = family("legs").sympy_matrices(N)
    Ad, Bd = discretizations.fixed_step("bilinear", A_ode, B_ode, d, dps=dps + 10)
    c_hippo = discretizations.run_fixed(Ad, Bd, u[:, None], [K])[K][0]
    with mpmath.workdps(dps):
        G = reference.slice_integrals(reference.exponential_edges(1, d, K), N)
        ref = reference.project(G, u[::-1])
    c_exact = np.array([float(x) for x in ref.c])
    Tf = float(sp.Rational(str(T)))
    s = np.linspace(0.0, Tf, points)
    z = np.exp(s - Tf)
    lag_values = np.asarray(package.reconstruct(c_lag, z), dtype=np.float64)
    hippo_values = legendre_values(z, N) @ c_hippo
    return {
        "s": s, "u": signals.held_history(u, float(d), Tf - s), "T": Tf, "N": N,
        "lag": lag_values,
        "hippo": hippo_values,
        "exact": legendre_values(z, N) @ c_exact,
        "omega": z,
        "lag_label": f"generated kernel {package.__name__}, N = {N}",
        "hippo_label": f"bilinear, Delta = {sp.sstr(d)}",
        "title": (f"Final memory state c_T reconstructed (input: {signal_name}, Delta = {sp.sstr(d)}, "
                  f"T = {sp.sstr(sp.Rational(str(T)))}, N = {N})"),
        "state_gap": float(np.max(np.abs(c_lag - c_hippo))),
        "lag_deviation": ref.state_deviation(c_lag),
        "hippo_deviation": ref.state_deviation(c_hippo),
        "reconstruction_gap": float(np.max(np.abs(lag_values - hippo_values))),
    }
