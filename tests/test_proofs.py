"""All-n proofs of the closed forms (symderive.verification.proofs): they pass for the built-in pairs,
and a corrupted identity, coefficient or closed form makes them fail."""

import pytest
import sympy as sp

import symderive as sd
from symderive.verification.closed_forms import K_SYM, N_SYM, THETA, template
from symderive.verification.proofs import (
    CHECKED,
    CITED,
    FAILED,
    PROVED,
    J,
    T,
    X,
    identity_holds,
    prove,
    prove_template,
    series_rhs,
)

n, k = N_SYM, K_SYM


@pytest.mark.parametrize("warp,basis_name,name", [
    (sd.warps.exponential(), "legendre", "LegS"),
    (sd.warps.linear(), "legendre", "LegT"),
    (sd.warps.exponential(), "laguerre", "LagT"),
    (sd.warps.linear(), "fourier", "FouT"),
    (sd.warps.exponential(), "fourier", "exponential-Fourier"),
    (sd.warps.exponential(3), "legendre", "LegS"),
    (sd.warps.linear(sp.Rational(1, 2)), "legendre", "LegT"),
    (sd.warps.scale(), "legendre", "LegS"),
])
def test_built_in_pairs_are_proved_for_all_n(warp, basis_name, name):
    proof = prove(warp, getattr(sd.bases, basis_name)(4))
    assert proof is not None and proof.pair.startswith(name)
    assert proof.proved_all_n, [s for s in proof.steps if s["status"] == FAILED]
    statuses = {s["status"] for s in proof.steps}
    assert statuses <= {PROVED, CITED, CHECKED}
    # the all-n claim never rests on a finite check
    assert all(s.get("supporting") for s in proof.steps if s["status"] == CHECKED)
    assert any("Leibniz" in s["method"] for s in proof.steps if s["status"] == CITED)
    assert "cited classical facts" in proof.rests_on
    d = proof.to_dict()
    assert d["proved_all_n"] is True and d["steps"] and d["seconds"] >= 0


def test_no_proof_without_closed_form():
    assert prove(sd.warps.linear(), sd.bases.laguerre(3)) is None
    assert prove(sd.warps.custom("1/(1 - x)"), sd.bases.legendre(3)) is None


def test_identity_checker_can_fail():
    G = (1 - 2 * X * T + T**2) ** sp.Rational(-1, 2)
    lhs = (1 + X) * sp.diff(G, X)
    assert identity_holds(lhs, series_rhs(G, diag=J, below=2 * J + 1))
    assert not identity_holds(lhs, series_rhs(G, diag=J + 1, below=2 * J + 1))   # wrong diagonal
    assert not identity_holds(lhs, series_rhs(G, diag=J, below=2 * J))           # wrong sum
    assert identity_holds(sp.diff(G, X), series_rhs(G, below_odd=2 * J + 1))
    assert not identity_holds(sp.diff(G, X), series_rhs(G, below=2 * J + 1))     # all j < k, not odd gaps


@pytest.mark.parametrize("warp_kind,basis_kind,coefficients", [
    ("exponential", "legendre", {"diag": J + 1}),
    ("linear", "legendre", {"below_odd": 2 * J + 3}),
    ("exponential", "laguerre", {"below": sp.Integer(1)}),
])
def test_corrupted_coefficient_fails_the_proof(warp_kind, basis_kind, coefficients):
    proof = prove_template(warp_kind, basis_kind, coefficients=coefficients)
    assert not proof.proved_all_n
    failed = [s["statement"] for s in proof.steps if s["status"] == FAILED]
    assert any("for every k" in s for s in failed)        # the generating-function identity
    assert any(s.startswith("A_gen[n, k] equals") for s in failed)  # and the case analysis


def test_wrong_closed_form_fails_the_proof():
    s = sp.sqrt(2 * n + 1) * sp.sqrt(2 * k + 1)
    wrong = sp.Piecewise((-THETA * s, n > k), (-THETA * (n + 2), sp.Eq(n, k)), (0, True))
    proof = prove_template("exponential", "legendre", A=wrong)
    assert not proof.proved_all_n
    failed = [st for st in proof.steps if st["status"] == FAILED]
    assert len(failed) == 1 and "n = k: -theta*(k + 2) !=" in failed[0]["method"]
    A, _, _ = template("linear", "fourier")
    proof = prove_template("linear", "fourier", A=A.subs(2 * sp.pi, 3 * sp.pi))
    assert not proof.proved_all_n


def test_template_proof_is_for_symbolic_theta():
    proof = prove_template("exponential", "legendre")
    assert proof.proved_all_n
    assert any("every theta > 0" in s["statement"] for s in proof.steps)
