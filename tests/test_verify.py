"""Exact verdicts: both ways, transformations checked independently, no float path to a verdict."""

import json
import random

import numpy as np
import pytest
import sympy as sp

import symderive as sd
from symderive import DerivationError
from symderive.cli import main
from symderive.verification.derived import generator_exact
from symderive.verification.equivalence import compare, exact_rank
from symderive.verification.exact_numbers import Exact, NotExact
from symderive.verification.families import family, parse_family
from symderive.verification.verify import verify


def _verdict(warp, basis, fam):
    return verify(warp, basis, parse_family(fam), details=False)


def _sympy_transform(fam, N, t):
    """Apply a reported transformation with SymPy matrices (an independent path from compare())."""
    A, B = fam.sympy_matrices(N)
    a, c = sp.sympify(t["time_scale"]), sp.sympify(t["tilt"])
    D = sp.diag(*[sp.sympify(x) for x in t["diagonal"]])
    return a * D * A * D.inv() + c * sp.eye(N), a * D * B


@pytest.mark.parametrize("warp, basis, fam", [
    (sd.warps.exponential(), sd.bases.legendre, "legs"),          # the paper's claim
    (sd.warps.linear(), sd.bases.legendre, "legt"),
    (sd.warps.exponential(), sd.bases.laguerre, "lagt"),
    (sd.warps.exponential(3), sd.bases.legendre, "legs:rate=3"),
    (sd.warps.linear(2), sd.bases.legendre, "s4-legt"),
    (sd.warps.scale(), sd.bases.legendre, "s4-legs"),
])
def test_identical(warp, basis, fam):
    for N in (1, 2, 9):
        cert = _verdict(warp, basis(N), fam)
        assert cert.verdict == "identical" and cert.transformation is None
    # independent: the SymPy matrices of the model equal the family's SymPy matrices
    m = sd.derive(warp, basis(6))
    A, B = parse_family(fam).sympy_matrices(6)
    assert (m.A_gen - A).expand() == sp.zeros(6, 6) and (m.B_gen - B).expand() == sp.zeros(6, 1)


@pytest.mark.parametrize("warp, basis, fam, components, formula", [
    (sd.warps.linear(), sd.bases.legendre, "lmu", ["diagonal similarity"], "(-1)**n/sqrt(2*n + 1)"),
    (sd.warps.linear(2), sd.bases.legendre, "lmu", ["time rescaling", "diagonal similarity"], "(-1)**n/sqrt(2*n + 1)"),
    (sd.warps.exponential(), sd.bases.laguerre, "s4-lagt", ["tilt"], "1"),
    (sd.warps.exponential(3), sd.bases.laguerre, "s4-lagt", ["time rescaling", "tilt"], "1"),
    (sd.warps.linear(), sd.bases.legendre, "s4-legt", ["time rescaling"], "1"),
    (sd.warps.exponential("1/2"), sd.bases.legendre, "legs:rate=2", ["time rescaling"], "1"),
])
def test_equivalent_with_transformation_checked_independently(warp, basis, fam, components, formula):
    N = 7
    cert = _verdict(warp, basis(N), fam)
    t = cert.transformation
    assert cert.verdict == "equivalent"
    assert t["components"] == components and t["diagonal_formula"] == formula
    A, B = _sympy_transform(parse_family(fam), N, t)
    m = sd.derive(warp, basis(N))
    assert sp.simplify(m.A_gen - A) == sp.zeros(N, N) and sp.simplify(m.B_gen - B) == sp.zeros(N, 1)


def test_reported_parameters_of_known_relations():
    t = _verdict(sd.warps.exponential(3), sd.bases.laguerre(5), "s4-lagt").transformation
    assert (t["time_scale"], t["tilt"]) == ("3", "-3/2")        # 3 (LagT + I/2) - 3/2 I = 3 LagT
    t = _verdict(sd.warps.linear(), sd.bases.legendre(5), "s4-legt").transformation
    assert t["time_scale"] == "2"


@pytest.mark.parametrize("warp, basis, fam", [
    (sd.warps.exponential(), sd.bases.legendre, "legt"),
    (sd.warps.exponential(), sd.bases.legendre, "lagt"),
    (sd.warps.exponential(), sd.bases.laguerre, "legs"),
    (sd.warps.linear(), sd.bases.fourier, "fout"),
    (sd.warps.linear(), sd.bases.legendre, "legs"),
    (sd.warps.exponential(), sd.bases.fourier, "s4-fout"),
])
def test_not_equivalent(warp, basis, fam):
    N = 8
    cert = _verdict(warp, basis(N), fam)
    assert cert.verdict == "not-equivalent"
    diff = cert.difference
    assert diff["reason"] and diff["A_minus_family_nonzero_entries"] + diff["B_minus_family_nonzero_entries"] > 0
    # independent rank: float SVD of the SymPy difference (well conditioned at N = 8)
    m = sd.derive(warp, basis(N))
    A, _ = parse_family(fam).sympy_matrices(N)
    numeric = np.array((m.A_gen - A).evalf(30).tolist(), dtype=float)
    if diff["A_minus_family_rank"] is not None:
        assert diff["A_minus_family_rank"] == np.linalg.matrix_rank(numeric, tol=1e-9)


def test_fout_differs_from_the_lag_window_by_the_endpoint_factor():
    """Derived linear x fourier: -b b^T / theta; HTTYH FouT: -2 b b^T (both endpoints). The forced
    candidate takes a = 1/2 from B, so the rotation entries no longer match."""
    cert = _verdict(sd.warps.linear(), sd.bases.fourier(6), "fout")
    assert cert.verdict == "not-equivalent"
    assert cert.difference["candidate"]["time_scale"] == "1/2"


def _random_transform(A, B, rng):
    N = len(A)
    a = Exact.rational(rng.choice([-3, 2, 5]), rng.choice([1, 7]))
    d = [Exact.monomial(rng.choice([-1, 1]) * rng.randint(1, 4), rng.choice([1, 2, 3])) for _ in range(N)]
    c = Exact.rational(rng.randint(-4, 4), 3)
    A2 = [[a * d[n] * A[n][k] / d[k] + (c if n == k else Exact()) for k in range(N)] for n in range(N)]
    return A2, [a * d[n] * B[n] for n in range(N)], a, d, c


@pytest.mark.parametrize("name", ["legs", "legt", "lagt", "fout", "s4-fout"])
def test_random_transformations_are_recovered_and_perturbations_detected(name):
    rng = random.Random(name)
    AF, BF = family(name).matrices(6)
    for _ in range(5):
        A, B, a, d, c = _random_transform(AF, BF, rng)
        result = compare(A, B, AF, BF)
        assert result.verdict in ("equivalent", "identical")
        if result.verdict == "equivalent":
            assert result.time_scale == a and result.tilt == c
            # the similarity is recovered exactly where the equations fix it
            for n in range(6):
                if not BF[n].is_zero:
                    assert result.diagonal[n] == d[n]
        n, k = rng.randrange(6), rng.randrange(6)
        A[n][k] = A[n][k] + Exact.monomial(1, 5)
        assert compare(A, B, AF, BF).verdict == "not-equivalent"


def test_a_float_path_cannot_produce_a_verdict(monkeypatch):
    with pytest.raises(NotExact):
        Exact.from_sympy(sp.Float("0.5"))
    # a generator that only quadrature can give has no exact verdict. The inverse is given, so building
    # the warp does not depend on how fast SymPy's solve is on this machine; the short symbolic time
    # limit then applies to the derivation only (the fallback route is what is being tested)
    warp = sd.warps.custom("exp(sinh(x))", inverse="asinh(log(z))")
    monkeypatch.setattr("symderive._limits.DEFAULT_BUDGET", 1.0)
    m = sd.derive(warp, sd.bases.legendre(2))
    with pytest.raises(DerivationError):
        verify(warp, sd.bases.legendre(2), family("legs"), details=False)
    assert m.generator_route != "exact-linear-algebra"
    # a model whose SymPy generator carries floats is refused, not rounded
    m = sd.derive(sd.warps.exponential(), sd.bases.fourier(3))
    monkeypatch.setattr(type(m), "_generator_kind", property(lambda self: "integration"))
    monkeypatch.setattr(type(m), "A_gen", property(lambda self: sp.ImmutableMatrix(3, 3, [sp.Float(0.1)] * 9)))
    with pytest.raises(NotExact):
        generator_exact(m)


def test_exact_rank_against_sympy():
    M = [[Exact.monomial(1, 2), Exact.monomial(1, 6)], [Exact.monomial(1, 3), Exact.rational(3)]]
    assert exact_rank(M) == sp.Matrix([[sp.sqrt(2), sp.sqrt(6)], [sp.sqrt(3), 3]]).rank(simplify=True) == 1
    M[1][1] = Exact.rational(2)
    assert exact_rank(M) == 2


# ------------------------------------------------------------------ CLI


def _run(capsys, *argv):
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


def test_cli_json_keys_and_status(capsys):
    status, out, _ = _run(capsys, "verify", "--warp", "exponential", "--basis", "legendre", "--against", "legs",
                          "--N", "8", "--format", "json")
    data = json.loads(out)
    assert status == 0
    assert {"verdict", "exact", "transformation", "N", "difference"} <= set(data)
    assert (data["verdict"], data["exact"], data["transformation"], data["N"], data["difference"]) == \
        ("identical", True, None, 8, None)
    status, out, _ = _run(capsys, "verify", "--warp", "linear", "--basis", "legendre", "--against", "lmu",
                          "--N", "4")
    assert status == 0 and json.loads(out)["transformation"]["diagonal_formula"] == "(-1)**n/sqrt(2*n + 1)"
    status, out, _ = _run(capsys, "verify", "--warp", "exponential", "--basis", "legendre", "--against", "legt",
                          "--N", "4")
    assert status == 1 and json.loads(out)["verdict"] == "not-equivalent"


@pytest.mark.parametrize("argv, words", [
    (["--warp", "exponential", "--basis", "legendre", "--against", "nope", "--N", "4"], "unknown family"),
    (["--warp", "exponential", "--basis", "legendre", "--N", "4"], "--against"),
    (["--warp", "exponential", "--basis", "legendre", "--against", "legs", "--N", "0"], "N"),
    (["--all", "--N", "4", "--against", "legs"], "--all"),
    (["--warp", "exponential", "--basis", "legendre", "--against", "legs", "--N", "4",
      "--certificate", "/nonexistent/dir/x"], "does not exist"),
])
def test_cli_bad_input(capsys, argv, words):
    status, out, err = _run(capsys, "verify", *argv)
    assert status == 2 and out == "" and words in err and "Traceback" not in err


def test_cli_derivation_failure(capsys):
    status, out, err = _run(capsys, "verify", "--warp", "linear", "--basis", "laguerre", "--against", "lagt",
                            "--N", "3")
    assert status == 1 and "derivation failed" in err


def test_cli_certificate_files(capsys, tmp_path):
    prefix = tmp_path / "legs"
    status, out, _ = _run(capsys, "verify", "--warp", "exponential", "--basis", "legendre", "--against", "legs",
                          "--N", "6", "--format", "markdown", "--certificate", str(prefix))
    assert status == 0 and out.startswith("# symderive certificate")
    data = json.loads((tmp_path / "legs.json").read_text())
    assert data["verdict"] == "identical" and data["software"]["symderive"] == sd.__version__
    assert data["closed_form"]["status"] == "proved for all n" and data["closed_form"]["check"]["ok"]
    assert data["structure"]["composes"] and data["structure"]["expm_zoh"]
    assert "**Verdict: identical**" in (tmp_path / "legs.md").read_text()


def test_cli_all_table(capsys):
    status, out, _ = _run(capsys, "verify", "--all", "--N", "6")
    data = json.loads(out)
    assert status == 0
    cells = {(r["warp"], r["basis"]): r["cells"] for r in data["rows"]}
    assert cells[("exponential", "legendre")]["legs"]["verdict"] == "identical"
    assert cells[("linear", "legendre")]["legt"]["verdict"] == "identical"
    assert cells[("exponential", "laguerre")]["lagt"]["verdict"] == "identical"
    assert cells[("linear", "legendre")]["lmu"]["verdict"] == "equivalent"
    assert cells[("exponential", "legendre")]["legt"]["verdict"] == "not-equivalent"
    assert cells[("linear", "laguerre")]["legs"]["verdict"] is None
    assert len(data["rows"]) == 9 and len(data["families"]) == 9
    status, out, _ = _run(capsys, "verify", "--all", "--N", "5", "--format", "markdown")
    assert status == 0 and "| exponential x legendre | identical |" in out and "n/a" in out   # s4-fout: even N


def test_certificate_for_the_linear_window_reports_the_structure_both_ways():
    cert = verify(sd.warps.linear(), sd.bases.legendre(8), family("legt"), delta="1/100")
    d = cert.to_dict()
    assert d["verdict"] == "identical"
    assert d["closed_form"]["status"] == "proved for all n"
    st = d["structure"]
    assert not st["composes"] and st["exact"] and st["counterexample"] is not None
    assert 1e-3 < st["discrepancy"]["A_vs_expm"]["max_abs"] < 1e-2          # docs/math.md, section 3.3: 5.7e-3
    md = cert.to_markdown()
    assert "## Structure" in md and "counterexample" in md
