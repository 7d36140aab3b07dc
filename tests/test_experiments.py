"""The experiments' building blocks against independent references (mpmath quadrature, explicit formulas)."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

import symderive as sd
from symderive.errors import InputError
from symderive.experiments import discretizations as D
from symderive.experiments import reference as R
from symderive.experiments import signals as S
from symderive.verification.families import family


def _held(u, delta):
    """The held input as a function of s (mpmath), zero before 0."""
    def f(s):
        if s <= 0:
            return mpmath.mpf(0)
        k = int(mpmath.ceil(s / delta))
        return mpmath.mpf(float(u[min(k, len(u)) - 1]))
    return f


def _p(n, z):
    return mpmath.sqrt(2 * n + 1) * mpmath.legendre(n, 2 * z - 1)


@pytest.mark.parametrize("kind", ["exponential", "window", "scale"])
def test_reference_projection_matches_quadrature(kind):
    """c_n(T) = integral u(s) p_n(sigma_T(s)) omega_T(s) ds by mpmath.quad, slice by slice."""
    N, K = 5, 12
    u = S.signal("walk", K, 0.25)
    with mpmath.workdps(30):
        if kind == "exponential":
            delta, T = mpmath.mpf(1) / 4, mpmath.mpf(3)
            G = R.slice_integrals(R.exponential_edges(2, sp.Rational(1, 4), K), N)
            sigma = lambda s: mpmath.exp(2 * (s - T))          # noqa: E731
            omega = lambda s: 2 * mpmath.exp(2 * (s - T))      # noqa: E731
            lo = mpmath.mpf(0)
        elif kind == "window":
            delta, T = mpmath.mpf(1) / 4, mpmath.mpf(3)
            G = R.slice_integrals(R.window_edges(sp.Rational(3, 2), sp.Rational(1, 4), K), N)
            sigma = lambda s: 1 + (s - T) / mpmath.mpf(1.5)      # noqa: E731
            omega = lambda s: 1 / mpmath.mpf(1.5)                # noqa: E731
            lo = T - mpmath.mpf(1.5)
        else:
            delta, T = mpmath.mpf(1), mpmath.mpf(K)
            G = R.slice_integrals(R.scale_edges(K), N)
            sigma = lambda s: s / T                              # noqa: E731
            omega = lambda s: 1 / T                              # noqa: E731
            lo = mpmath.mpf(0)
        proj = R.project(G, u[::-1])
        f = _held(u, delta)
        points = [lo] + [delta * k for k in range(1, K + 1) if delta * k > lo]
        for n in range(N):
            exact = mpmath.quad(lambda s: f(s) * _p(n, sigma(s)) * omega(s), points)
            assert abs(exact - proj.c[n]) < mpmath.mpf(10) ** -25
        norm2 = mpmath.quad(lambda s: f(s) ** 2 * omega(s), points)
        assert abs(norm2 - proj.norm2) < mpmath.mpf(10) ** -25


def test_reconstruction_error_is_the_weighted_l2_error():
    """Pythagoras in the orthonormal basis against direct quadrature of (u - u_hat)^2 omega."""
    N, K, delta = 4, 10, sp.Rational(1, 5)
    u = S.signal("sines", K, 0.2)
    state = np.array([0.3, -0.2, 0.1, 0.05])
    with mpmath.workdps(30):
        G = R.slice_integrals(R.exponential_edges(1, delta, K), N)
        proj = R.project(G, u[::-1])
        T = mpmath.mpf(2)
        f = _held(u, mpmath.mpf(1) / 5)

        def err2(s):
            z = mpmath.exp(s - T)
            return (f(s) - sum(state[n] * _p(n, z) for n in range(N))) ** 2 * z

        points = [mpmath.mpf(k) / 5 for k in range(0, K + 1)]
        direct = mpmath.quad(err2, [-mpmath.inf, 0]) + mpmath.quad(err2, points)
        expected = float(mpmath.sqrt(direct / proj.norm2))
    assert proj.reconstruction_error(state) == pytest.approx(expected, rel=1e-12)
    assert proj.reconstruction_error([float(x) for x in proj.c]) == pytest.approx(proj.floor(), rel=1e-12)


def test_fixed_rules_match_explicit_formulas():
    N, delta = 6, 0.05
    A_ode, B_ode = family("legs").sympy_matrices(N)
    A = np.array(A_ode.tolist(), dtype=float)
    B = np.array(B_ode.tolist(), dtype=float).ravel()
    I = np.eye(N)
    expected = {
        "forward": (I + delta * A, delta * B),
        "backward": (np.linalg.inv(I - delta * A), np.linalg.solve(I - delta * A, delta * B)),
        "bilinear": (np.linalg.solve(I - delta / 2 * A, I + delta / 2 * A), np.linalg.solve(I - delta / 2 * A, delta * B)),
    }
    for rule, (Ae, Be) in expected.items():
        Ad, Bd = D.fixed_step(rule, A_ode, B_ode, sp.Rational(1, 20))
        assert np.max(np.abs(Ad - Ae)) < 1e-13 and np.max(np.abs(Bd - Be)) < 1e-13, rule
    # ZOH against A^-1 (expm - I) B in mpmath (a different formula from the augmented exponential)
    with mpmath.workdps(50):
        mA, mB = D.mp_matrices(A_ode, B_ode, 50)
        E = mpmath.expm(mA / 20)
        Bz = mpmath.lu_solve(mA, (E - mpmath.eye(N)) * mB)
        Ad, Bd = D.fixed_step("zoh", A_ode, B_ode, sp.Rational(1, 20))
        assert max(abs(float(E[i, j]) - Ad[i, j]) for i in range(N) for j in range(N)) < 1e-15
        assert max(abs(float(Bz[i]) - Bd[i]) for i in range(N)) < 1e-15
    with pytest.raises(InputError, match="unknown discretization rule"):
        D.fixed_step("rk4", A_ode, B_ode, 0.1)


def _run(A, B, u):
    c = np.zeros(A.shape[0])
    for x in u:
        c = A @ c + B * x
    return c


def test_lag_recurrence_equals_zoh_for_the_exponential_warp_and_not_for_the_window():
    """The issue's check: lag and ZOH states agree to 1e-12 (exponential), differ measurably (window)."""
    N, delta = 12, sp.Rational(1, 50)
    u = S.signal("walk", 500, 0.02)
    legs = sd.derive(sd.warps.exponential(), sd.bases.legendre(N)).numeric(delta)
    A_z, B_z = D.fixed_step("zoh", *family("legs").sympy_matrices(N), delta)
    c_lag = _run(np.asarray(legs.A, float), np.asarray(legs.B, float).ravel(), u)
    c_zoh = _run(A_z, B_z, u)
    assert np.max(np.abs(c_lag - c_zoh)) < 1e-12
    assert np.max(np.abs(c_lag)) > 0.1
    legt = sd.derive(sd.warps.linear(), sd.bases.legendre(N)).numeric(delta)
    A_t, B_t = D.fixed_step("zoh", *family("legt").sympy_matrices(N), delta)
    c_lag_t = _run(np.asarray(legt.A, float), np.asarray(legt.B, float).ravel(), u)
    c_zoh_t = _run(A_t, B_t, u)
    assert np.max(np.abs(c_lag_t - c_zoh_t)) > 1e-4


def test_time_varying_rules_follow_the_reference_code_and_zoh_is_the_late_lag_step():
    N = 5
    A_ode, B_ode = family("legs").sympy_matrices(N)
    A = np.array(A_ode.tolist(), dtype=float)
    B = np.array(B_ode.tolist(), dtype=float).ravel()
    At, Bt = D.time_varying_step("bilinear", A, B, 4)
    M = np.eye(N) - A / 8
    assert np.allclose(M @ At, np.eye(N) + A / 8, atol=1e-14) and np.allclose(M @ Bt, B / 4, atol=1e-14)
    with pytest.raises(InputError, match="t must be >= 1"):
        D.time_varying_step("forward", A, B, 0)
    # the reference code's ZOH option, expm(A log((t+1)/t)), equals the scale warp's exact step t -> t+1
    scale = sd.derive(sd.warps.scale(), sd.bases.legendre(N))
    with mpmath.workdps(40):
        mA, mB = D.mp_matrices(A_ode, B_ode, 40)
        for t in (1, 3):
            E = mpmath.expm(mA * mpmath.log(mpmath.mpf(t + 1) / t))
            At_exact, Bt_exact = scale.step_matrices(t=t)
            assert max(abs(float(E[i, j]) - float(At_exact[i, j])) for i in range(N) for j in range(N)) < 1e-14
            Bz = mpmath.lu_solve(mA, (E - mpmath.eye(N)) * mB)
            assert max(abs(float(Bz[i]) - float(Bt_exact[i])) for i in range(N)) < 1e-14


def test_signals_are_seeded_and_checked():
    a, b = S.signals(50, 0.1), S.signals(50, 0.1)
    assert a.shape == (50, 4) and np.array_equal(a, b)
    step = S.signal("step", 10, 0.1)
    assert step.tolist() == [0.0] * 5 + [1.0] * 5
    with pytest.raises(InputError, match="unknown signal"):
        S.signal("chirp", 10, 0.1)
    with pytest.raises(InputError, match="delta"):
        S.signal("noise", 10, -1.0)


def test_horizon_readout_picks_the_fastest_member_in_reach():
    from symderive.experiments.multires import HORIZON, horizon_readout
    rates = ["8", "2", "1/2"]
    estimates = np.array([[1.0] * 5, [2.0] * 5, [3.0] * 5])
    lags = np.array([0.0, HORIZON / 8, HORIZON / 8 + 1e-9, HORIZON / 2 + 1e-9, 100.0])
    assert horizon_readout(estimates, rates, lags).tolist() == [1.0, 1.0, 2.0, 3.0, 3.0]


def test_held_history_follows_the_held_input_convention():
    """u(s) = u_k on ((k-1) Delta, k Delta], 0 for s <= 0, at s = T - lag (T = L Delta), against _held."""
    u = S.signal("walk", 8, 0.25)
    lags = np.array([0.0, 0.1, 0.25, 0.26, 1.0, 1.9, 1.99, 2.0, 2.5])       # T = 2
    f = _held(u, mpmath.mpf(1) / 4)
    expected = [float(f(mpmath.mpf(2) - mpmath.mpf(str(lag)))) for lag in lags]
    assert S.held_history(u, 0.25, lags).tolist() == expected
    assert expected[-2:] == [0.0, 0.0] and expected[-3] == u[0]


def test_steps_is_exact_or_refused():
    assert S.steps("10", "1/100") == 1000 and S.steps(sp.Integer(300), sp.Rational(1, 100)) == 30000
    assert S.steps(1, 0.1) == 10
    for horizon, delta in (("1/3", "1/10"), ("0", "1/10"), ("1", "3/10")):
        with pytest.raises(InputError, match="whole multiple"):
            S.steps(horizon, delta)


def test_fixed_and_time_varying_runs_are_the_plain_loop():
    N, L = 4, 30
    A_ode, B_ode = family("legs").sympy_matrices(N)
    A = np.array(A_ode.tolist(), dtype=float)
    B = np.array(B_ode.tolist(), dtype=float).ravel()
    U = S.signals(L, 0.1, ("sines", "noise"))
    Ad, Bd = D.fixed_step("bilinear", A_ode, B_ode, sp.Rational(1, 10))
    fixed = D.run_fixed(Ad, Bd, U, [L, 5])
    tv = D.run_time_varying("backward", A, B, U, [7, L])
    for h in range(U.shape[1]):
        for K in (5, L):
            assert np.allclose(fixed[K][h], _run(Ad, Bd, U[:K, h]), rtol=0, atol=1e-13)
        c = np.zeros(N)
        for k in range(1, L + 1):
            M = np.eye(N) - A / k
            c = np.linalg.solve(M, c) + np.linalg.solve(M, B / k) * U[k - 1, h]
            if k in (7, L):
                assert np.allclose(tv[k][h], c, rtol=0, atol=1e-13)
    with pytest.raises(InputError, match="checkpoints"):
        D.run_fixed(Ad, Bd, U, [L + 1])
