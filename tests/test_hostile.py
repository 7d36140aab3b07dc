"""Hostile and invalid input: every command gives the right answer or exit 2 with one clear line, in
bounded time and memory, and never an internal error (issue 11).

Three layers:

- regressions: each command a fuzz campaign found wrong, with what it must give now; results that are
  accepted are checked against an independent reference (the LegS closed form, plain mpmath quadrature
  from ``tests/reference.py``, first-order expansions for tiny steps);
- resource checks: the commands that used to run for minutes or gigabytes run in a subprocess whose
  peak resident memory is measured;
- property tests (hypothesis, fixed seed, bounded example counts): the expression parser accepts or
  refuses with :class:`InputError` and nothing else; the CLI on generated warps and bases exits 0, 1
  (a derivation that fails, said in one line) or 2 (one line), never with an internal error.

The campaign itself, at scale, is ``scripts/fuzz_inputs.py``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from symderive.cli import main
from symderive.errors import InputError
from symderive.inputs.expressions import parse_expression

import reference as ref  # tests/reference.py (tests/ is on sys.path: conftest.py)

#: a hang is a failure; this is far above what any of these commands takes (about 1-5 s)
SECONDS = 60


def run(argv, capsys):
    """``(exit status, stdout, stderr lines)`` of ``symderive argv`` in this process, timed."""
    start = time.perf_counter()
    status = main(argv)
    elapsed = time.perf_counter() - start
    out, err = capsys.readouterr()
    assert elapsed < SECONDS, f"{argv} took {elapsed:.1f} s"
    return status, out, [line for line in err.splitlines() if line.strip()]


def refused(argv, capsys, *fragments):
    """Exit 2 with exactly one line on stderr, holding every fragment (case-insensitive)."""
    status, out, err = run(argv, capsys)
    assert status == 2, (argv, status, err)
    assert len(err) == 1 and err[0].startswith("symderive: error: "), err
    for fragment in fragments:
        assert fragment.lower() in err[0].lower(), (fragment, err[0])
    assert out == ""
    return err[0]


def accepted(argv, capsys) -> dict:
    status, out, err = run(argv, capsys)
    assert status == 0, (argv, status, err)
    return json.loads(out)


def close(got, want, tol):
    np.testing.assert_allclose(np.array(got, dtype=float), np.array(want, dtype=float), rtol=0, atol=tol)


def floats(M, N):
    """An mpmath matrix (N x N, or N x 1) as nested floats."""
    if M.cols == 1:
        return [float(M[i]) for i in range(N)]
    return [[float(M[i, j]) for j in range(N)] for i in range(N)]


def matrices(warp, basis, N, *extra):
    return ["matrices", "--warp", warp, "--basis", basis, "--N", str(N), *extra]


# ------------------------------------------------------------------------------ silent wrong answers

def _legs_generator(N):
    """HiPPO-LegS in this project's convention: A[n, k] = -sqrt((2n+1)(2k+1)) below the diagonal,
    -(n+1) on it, 0 above; B[n] = sqrt(2n+1) (an independent closed form, not the engine's)."""
    A = [[-math.sqrt((2 * n + 1) * (2 * k + 1)) if n > k else (-(n + 1) if n == k else 0.0) for k in range(N)]
         for n in range(N)]
    return A, [math.sqrt(2 * n + 1) for n in range(N)]


def test_abs_warp_is_legs_on_its_support(capsys):
    """exp(-abs(x)) is exp(x) on x <= 0: the answer is LegS (it was solved on the branch g = -log z)."""
    out = accepted(matrices("f=exp(-abs(x))", "legendre", 3, "--delta", "0.1"), capsys)
    A, B = _legs_generator(3)
    close(out["A_gen"], A, 1e-12)
    close(out["B_gen"], B, 1e-12)
    p, _ = ref.legendre(3)
    cut = mpmath.exp(-mpmath.mpf("0.1"))
    A_ref, B_ref = ref.ref_lag(p, lambda z: z / cut, cut, 3)
    close(out["A"], floats(A_ref, 3), 1e-12)
    close(out["B"], floats(B_ref, 3), 1e-12)


@pytest.mark.parametrize("warp", ["f=exp(-x**2);g=sqrt(-log(z))", "f=1-x**2;g=sqrt(1-z)"])
def test_inverse_on_the_wrong_branch_is_refused(warp, capsys):
    refused(matrices(warp, "legendre", 3, "--delta", "0.1"), capsys, "outside the support", "branch")


def test_solved_inverse_takes_the_support_branch(capsys):
    """f = exp(-x^2): g = -sqrt(-log z), velocity v = f'(g(z)) = 2 z sqrt(-log z), checked by mpmath."""
    out = accepted(matrices("f=exp(-x**2)", "legendre", 3), capsys)
    p, dp = ref.legendre(3)
    A_ref, B_ref = ref.ref_generator(p, dp, lambda z: 2 * z * mpmath.sqrt(-mpmath.log(z)), 3)
    close(out["A_gen"], floats(A_ref, 3), 1e-9)
    close(out["B_gen"], floats(B_ref, 3), 1e-12)


@pytest.mark.parametrize("functions, fragment", [
    ("sqrt(z-1)", "not a finite real number"),
    ("(-z)**0.5", "not a finite real number"),
    ("log(z-2)", "not a finite real number"),
    ("1;(-1)**(1/3)*z", "not a real number"),
    ("acos(2)", "not a real number"),
    ("(-8)**(1/3)", "not a real number"),
    ("atanh(10**99)", "not a real number"),
    ("log(z,0)", "base > 0"),
])
def test_non_real_bases_are_refused(functions, fragment, capsys):
    refused(matrices("exponential", f"functions={functions}", 2 if ";" in functions else 1, "--delta", "0.1"),
            capsys, fragment)


def test_non_real_constants_are_refused_the_same_every_time(capsys):
    first = refused(matrices("exponential", "functions=atanh(10**99)", 1, "--delta", "0.1"), capsys)
    assert refused(matrices("exponential", "functions=atanh(10**99)", 1, "--delta", "0.1"), capsys) == first


# ------------------------------------------------------------------------------ internal errors, now answers

@pytest.mark.parametrize("functions, scale", [("1e-99", 1), ("2**-1000", 1), ("z/10**60", 3)])
def test_tiny_constants_are_normalized(functions, scale, capsys):
    """A scaled function orthonormalizes to the unscaled one: 1 -> p = 1, z -> p = sqrt(3) z, whose
    exponential-warp generator is -1 / -2 (v = z: A = int p p' z dz - p(1)^2)."""
    out = accepted(matrices("exponential", f"functions={functions}", 1, "--delta", "0.1"), capsys)
    if scale == 1:
        assert out["A_gen"] == [[-1.0]] and out["B_gen"] == [1.0]
    else:
        close(out["A_gen"], [[-2.0]], 1e-14)
        close(out["B_gen"], [math.sqrt(3)], 1e-14)


@pytest.mark.parametrize("functions, fragments", [
    ("sin(z)**1000", ("could not integrate",)),
    ("exp(z*10**99)", ("too large",)),
    ("sin(z*10**99)", ("too large",)),
    ("((z**1000)**1000)**1000", ("too large", "combining powers")),
    ("exp(1/z)", ("not square-integrable",)),
    ("1;z;sin(", ("basis function 2", "syntax error")),
])
def test_bad_bases_are_one_line(functions, fragments, capsys):
    refused(matrices("exponential", f"functions={functions}", 1, "--delta", "0.1"), capsys, *fragments)


def test_square_integrable_without_closed_form_is_not_called_divergent(capsys):
    """sin(1/z) is bounded, so square-integrable: whatever SymPy manages, the answer may not say otherwise."""
    status, out, err = run(matrices("exponential", "functions=sin(1/z)", 1, "--delta", "0.1"), capsys)
    assert status in (0, 1, 2) and len(err) <= 1
    assert not any("not square-integrable" in line or "internal error" in line for line in err), err


# ------------------------------------------------------------------------------ numbers and options

@pytest.mark.parametrize("warp", ["exponential", "f=1/(1-x)"])
def test_tiny_step_is_the_identity_to_first_order(warp, capsys):
    """Delta = 1e-300: A_Delta = I + Delta A_gen + ..., B_Delta = Delta B_gen + ... (was refused as a
    number of more than 100 digits)."""
    out = accepted(matrices(warp, "legendre", 3, "--delta", "1e-300"), capsys)
    close(out["A"], [[1.0 if i == j else 0.0 for j in range(3)] for i in range(3)], 1e-15)
    assert [b / 1e-300 for b in out["B"]] == pytest.approx(out["B_gen"], rel=1e-9)


def test_huge_step_forgets_everything(capsys):
    """Delta = 1e300 on LegS: z_Delta = exp(-1e300), so A_Delta = 0 and B_Delta = B of the whole interval."""
    out = accepted(matrices("exponential", "legendre", 3, "--delta", "1e300"), capsys)
    assert out["A"] == [[0.0] * 3] * 3
    close(out["B"], [1.0, 0.0, 0.0], 1e-15)   # integral of p_n over (0, 1]


def test_step_beyond_a_window_is_refused(capsys):
    refused(matrices("linear", "legendre", 3, "--delta", "1e300"), capsys, "smaller than the window")


@pytest.mark.parametrize("text", ["3_0", "+3", " 3 ", "\u0663", "3.0", "0x3", "1e3", ""])
def test_N_is_ascii_digits(text, capsys):
    refused(matrices("exponential", "legendre", text), capsys, "--N")


def test_syntax_warning_is_not_printed(capsys):
    refused(matrices("f=1or x", "legendre", 3), capsys, "not allowed")


def test_out_that_is_a_file_says_so(tmp_path, capsys):
    path = tmp_path / "afile"
    path.write_text("")
    refused(["export", "--warp", "exponential", "--basis", "legendre", "--N", "3", "--delta", "0.1", "--name", "k",
             "--out", str(path)], capsys, "not a folder")


@pytest.mark.parametrize("name", ["k16\n", "os", "sys", "numpy", "json"])
def test_export_names_that_break_imports_are_refused(name, tmp_path, capsys):
    refused(["export", "--warp", "exponential", "--basis", "legendre", "--N", "3", "--delta", "0.1", "--name", name,
             "--out", str(tmp_path)], capsys, "--name")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------ bounded time and memory

# the child's own peak: VmHWM of its memory map (/proc/self/status). getrusage's ru_maxrss is no measure here:
# Linux carries the parent's high-water mark into a child across fork and exec, so a test session that has
# grown past the limit would fail every child
_PEAK = ("import sys\n"
         "from symderive.cli import main\n"
         "status = main(sys.argv[1:])\n"
         "peak = [line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')]\n"
         "print('peak-kb', peak[0], file=sys.stderr)\n"
         "sys.exit(status)\n")


def _measured(argv, seconds=SECONDS):
    """``(exit status, stderr lines, peak resident MB)`` of the CLI in a fresh process (which reports
    its own peak, VmHWM: RUSAGE_CHILDREN would be the largest child of the whole test session)."""
    env = dict(os.environ, SYMDERIVE_NO_CACHE="1", SYMDERIVE_QUIET="1")
    try:
        proc = subprocess.run([sys.executable, "-c", _PEAK, *argv], capture_output=True, text=True, env=env,
                              timeout=seconds)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{argv} ran past {seconds} s")
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    peak = [int(line.split()[1]) / 1024 for line in lines if line.startswith("peak-kb ")]
    return proc.returncode, [line for line in lines if not line.startswith("peak-kb ")], peak[0]


@pytest.mark.parametrize("argv, fragment", [
    (matrices("exponential", "legendre", 4096, "--delta", "0.01"), "estimated before starting"),
    (matrices("exponential", "legendre", 1024, "--delta", "0.01"), "estimated before starting"),
    (matrices("exponential", "functions=((z**1000)**1000)**1000", 1), "too large"),
])
def test_large_work_is_refused_up_front(argv, fragment):
    status, lines, peak = _measured(argv)
    assert status == 2 and len(lines) == 1 and fragment in lines[0], lines
    assert peak < 1024, f"peak resident memory {peak:.0f} MB"


def test_large_N_runs_when_the_budget_allows(capsys, monkeypatch):
    """The refusal names the allowance the work needs; given that allowance the same request is accepted
    (a small N with a tiny budget, and no 10 s floor, stands in for a large N with the default budget)."""
    import symderive.cost
    monkeypatch.setattr(symderive.cost, "WORK_FLOOR_SECONDS", 0.0)
    argv = matrices("linear", "legendre", 96, "--delta", "0.01")
    message = refused(argv + ["--budget", "0.001"], capsys, "estimated before starting", "--budget")
    assert "N = 96" in message
    suggested = message.split("--budget ")[1].split()[0]
    out = accepted(argv + ["--budget", suggested], capsys)
    assert len(out["A"]) == 96


# ------------------------------------------------------------------------------ properties

_NUMBERS = st.sampled_from(["0", "1", "2", "0.5", "1e-99", "1e300", "10**99", "2**-1000", "1_0", "pi", "E",
                            "(-8)**(1/3)", "acos(2)", "-1", "1/3", "1e-300"])
_FUNCTIONS = st.sampled_from(["exp", "log", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos",
                              "atan", "asinh", "acosh", "atanh", "erf", "abs"])


def _expressions(variable):
    leaves = st.one_of(_NUMBERS, st.just(variable))

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**"]), inner).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
            st.tuples(_FUNCTIONS, inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(inner, inner).map(lambda t: f"log({t[0]}, {t[1]})"),
            inner.map(lambda e: f"-{e}"),
        )
    return st.recursive(leaves, extend, max_leaves=8)


_HOSTILE_TEXT = st.one_of(
    _expressions("z"),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(["__import__('os').system('true')", "lambda: 1", "z.__class__", "f'{z}'", "[z]", "z if z else 1",
                     "9**9**9", "1or z", "z\n", "z;z", "", "((((((((((z))))))))))" * 10]),
)


@seed(11)
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(_HOSTILE_TEXT)
def test_parser_accepts_or_refuses_cleanly(text):
    start = time.perf_counter()
    try:
        expr = parse_expression(text, "z")
    except InputError as exc:
        assert str(exc).strip() and "\n" not in str(exc).strip()
    else:
        assert expr.free_symbols <= {parse_expression("z", "z")}
    assert time.perf_counter() - start < 5


def _clean_outcome(argv, capsys, key, expression):
    """Exit 0 with finite ``key`` entries, or exit 1/2 with one line; never an internal error."""
    status, out, err = run(argv, capsys)
    assert status in (0, 1, 2), (expression, status, err)
    assert not any("internal error" in line or "Traceback" in line for line in err), (expression, err)
    if status:
        assert len(err) == 1, (expression, err)
    else:
        data = _strict_json(out)
        assert all(math.isfinite(x) for row in data[key] for x in row), (expression, data)


@seed(12)
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(_expressions("z"))
def test_cli_on_generated_bases_never_fails_internally(capsys, expression):
    argv = matrices("exponential", f"functions={expression}", 1, "--delta", "0.1", "--budget", "2")
    _clean_outcome(argv, capsys, "A_gen", expression)


@seed(13)
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(_expressions("x"))
def test_cli_on_generated_warps_never_fails_internally(capsys, expression):
    _clean_outcome(matrices(f"f={expression}", "legendre", 2, "--delta", "0.1", "--budget", "2"), capsys, "A",
                   expression)


# ------------------------------------------------------------------------------ found by scripts/fuzz_inputs.py

def _strict_json(text):
    """JSON as the standard defines it: ``Infinity`` and ``NaN`` are refused."""
    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")
    return json.loads(text, parse_constant=refuse)


def test_huge_budget_is_as_good_as_none(capsys):
    """setitimer overflowed at 1e10 s: an internal error."""
    out = accepted(matrices("linear", "legendre", 2, "--budget", "1e20"), capsys)
    assert len(out["A_gen"]) == 2


def test_certificate_prefix_checked_before_verifying(tmp_path, capsys):
    long_prefix = str(tmp_path / ("c" * 300))
    refused(["verify", "--warp", "exponential", "--basis", "legendre", "--against", "legs", "--N", "2",
             "--certificate", long_prefix], capsys, "--certificate", "too long")
    refused(["verify", "--warp", "exponential", "--basis", "legendre", "--against", "legs", "--N", "2",
             "--certificate", str(tmp_path / "missing" / "cert")], capsys, "--certificate", "does not exist")
    refused(["verify", "--warp", "exponential", "--basis", "legendre", "--against", "legs", "--N", "2",
             "--certificate", "/proc/cert"], capsys, "--certificate")


def test_time_is_read_by_the_restricted_parser(capsys):
    refused(matrices("scale", "legendre", 2, "--delta", "0.1", "--time", "\u0660.\u0661"), capsys, "--time")
    out = accepted(matrices("scale", "legendre", 2, "--delta", "1/10", "--time", "1/2"), capsys)
    assert out["delta"] == 0.1 and out["time"] == 0.5


@pytest.mark.parametrize("basis, fragment", [
    ("functions=999999**1000*z", "bits"),
    ("functions=" + "*".join(["(10**99)**10"] * 30) + "*z", "bits"),
    ("functions=exp(z);exp(z)", "linearly dependent"),
    ("functions=exp(z);2*exp(z)", "linearly dependent"),
    ("functions=sin(exp(100)*z)", "too large"),
])
def test_more_bad_bases(basis, fragment, capsys):
    refused(matrices("exponential", basis, basis.count(";") + 1), capsys, fragment)


def test_deeply_nested_functions_are_refused_in_seconds(capsys):
    deep = "tanh(acosh(erf(cos(" * 10 + "x" + ")" * 40
    start = time.perf_counter()
    refused(matrices(f"f={deep}", "legendre", 2), capsys, "warp f")
    assert time.perf_counter() - start < 20


def test_verify_output_is_standard_json(capsys):
    """A rate of 1e-99 makes B underflow: the relative distance is not a float, and is null, not Infinity."""
    status, out, err = run(["verify", "--warp", "exponential:rate=1e-99", "--basis", "legendre", "--against", "legs",
                            "--N", "2", "--delta", "0.1"], capsys)
    assert status in (0, 1) and not err
    _strict_json(out)


def test_bank_name_refused_before_deriving(tmp_path, capsys):
    start = time.perf_counter()
    refused(["export", "--warp", "exponential", "--warp", "linear", "--basis", "functions=1;exp(z)", "--N", "2",
             "--delta", "0.1", "--name", "sys", "--out", str(tmp_path)], capsys, "--name")
    assert time.perf_counter() - start < 5


def test_rounding_that_empties_the_quadrature_is_not_an_answer():
    """Through the Python API (no parser guard): sin(e^100 z) at 124 bits had every entry 0 +/- 2, and two
    rules agreed on the midpoints 0: exit 0 with B_gen = 0 (the truth is sqrt(2) sin(e^100) = 0.2011)."""
    import sympy as sp

    import symderive as sd
    from symderive.errors import DerivationError

    z = sp.Symbol("z", real=True)
    model = sd.derive(sd.warps.exponential(), sd.bases.custom([sp.sin(sp.exp(100) * z)]))
    try:
        pair = model.numeric_generator()
    except DerivationError:
        return
    with mpmath.workdps(80):      # e^100 has 44 integer digits: sin of it needs them all
        a = mpmath.exp(100)
        truth = float(mpmath.sin(a) / mpmath.sqrt(mpmath.mpf(1) / 2 - mpmath.sin(2 * a) / (4 * a)))
    assert abs(float(pair.B[0]) - truth) < 1e-8, (pair.B, truth)


def test_steep_warp_with_its_inverse_is_not_refused_by_sampling(capsys):
    """tanh(1000 x) + 1 underflows beyond 1920 digits at x = -2.3: undecided there, not a refusal."""
    out = accepted(matrices("f=tanh(1000*x)+1;g=atanh(z-1)/1000", "legendre", 2), capsys)
    assert out["B_gen"][0] == pytest.approx(1000.0, rel=1e-12)   # v(1) p_0(1) = f'(0) = 1000
