"""The ``symderive matrices`` command: JSON contract, exit codes, one-line errors, hostile input."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import symderive
from symderive.cli import main


def run_cli(*args):
    proc = subprocess.run([sys.executable, "-m", "symderive", *args], capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def run_inline(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_contract_in_a_subprocess():
    code, out, err = run_cli("matrices", "--warp", "exponential", "--basis", "legendre", "--N", "4",
                             "--delta", "0.1", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["N"] == 4
    A_gen = np.array(data["A_gen"])
    n = np.arange(4)
    legs = np.where(n[:, None] > n[None, :], np.sqrt((2 * n[:, None] + 1) * (2 * n[None, :] + 1)), 0) + np.diag(n + 1)
    assert np.array_equal(A_gen, -legs)  # exact values round to the same doubles
    assert np.allclose(data["B_gen"], np.sqrt(2 * n + 1), rtol=0, atol=0)
    A = np.array(data["A"])
    assert A.shape == (4, 4) and np.allclose(np.diag(A), np.exp(-0.1 * (n + 1)), rtol=1e-15)
    assert len(data["B"]) == 4 and "A_exact" not in data


def test_exact_adds_strings(capsys):
    code, out, _ = run_inline(capsys, "matrices", "--warp", "linear:window=2", "--basis", "legendre", "--N", "3",
                              "--delta", "0.5", "--exact")
    assert code == 0
    data = json.loads(out)
    assert data["A_gen_exact"][1][0] == "-sqrt(3)/2"
    exact = sp.Matrix([[sp.sympify(x) for x in row] for row in data["A_exact"]])  # our own output, trusted text
    assert np.allclose(np.array(exact.evalf(20), dtype=float), data["A"], rtol=0, atol=1e-16)
    assert data["routes"] == {"generator": "exact-linear-algebra", "lag": "exact-linear-algebra",
                              "generator_exact": "exact-linear-algebra", "lag_exact": "exact-linear-algebra"}


def test_scale_warp_needs_time_and_uses_it(capsys):
    code, _, err = run_inline(capsys, "matrices", "--warp", "scale", "--basis", "legendre", "--N", "2", "--delta", "1")
    assert code == 2 and "--time" in err
    code, out, _ = run_inline(capsys, "matrices", "--warp", "scale", "--basis", "legendre", "--N", "2",
                              "--delta", "1", "--time", "3", "--exact")
    data = json.loads(out)
    assert code == 0 and data["A_exact"] == [["3/4", "0"], ["-3*sqrt(3)/16", "9/16"]]


def test_custom_warp_and_basis(capsys):
    code, out, _ = run_inline(capsys, "matrices", "--warp", "f=exp(2*x)", "--basis", "functions=1;z;z**2", "--N", "3")
    assert code == 0
    data = json.loads(out)
    assert np.allclose(data["A_gen"][2], [-2 * np.sqrt(5), -2 * np.sqrt(15), -6], rtol=1e-15)


def test_text_format(capsys):
    code, out, _ = run_inline(capsys, "matrices", "--warp", "exponential", "--basis", "laguerre", "--N", "3",
                              "--format", "text")
    assert code == 0 and "A_gen =" in out and "routes: generator: exact-linear-algebra" in out


BAD = [
    ("--warp", "bogus", "--basis", "legendre", "--N", "3"),
    ("--warp", "exponential", "--basis", "bogus", "--N", "3"),
    ("--warp", "exponential", "--basis", "legendre", "--N", "0"),
    ("--warp", "exponential", "--basis", "legendre", "--N", "three"),
    ("--warp", "exponential", "--basis", "legendre", "--N", "3", "--delta", "0"),
    ("--warp", "exponential", "--basis", "legendre", "--N", "3", "--delta", "-0.1"),
    ("--warp", "exponential", "--basis", "legendre", "--N", "3", "--delta", "inf"),
    ("--warp", "linear", "--basis", "legendre", "--N", "3", "--delta", "1"),
    ("--warp", "exponential:rate=-1", "--basis", "legendre", "--N", "3"),
    ("--warp", "f=x+", "--basis", "legendre", "--N", "3"),
    ("--warp", "f=exp(x)", "--basis", "functions=1;z;2*z", "--N", "3"),
    ("--warp", "exponential", "--basis", "legendre", "--N", "3", "--time", "2"),
    ("--warp", "exponential", "--basis", "legendre"),
    ("--warp", "exponential", "--basis", "legendre", "--N", "3", "--format", "xml"),
]


@pytest.mark.parametrize("args", BAD, ids=[" ".join(a) for a in BAD])
def test_bad_input_exits_2_with_one_line(capsys, args):
    code, out, err = run_inline(capsys, "matrices", *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("symderive: error:") and "Traceback" not in err


STEP_OPTIONS = [
    (("--warp", "scale", "--basis", "legendre", "--N", "2", "--delta", "0.1", "--time", "abc"),
     "--time must be a number, got 'abc'"),
    (("--warp", "scale", "--basis", "legendre", "--N", "2", "--delta", "0.1", "--time", "-1"),
     "--time must be a finite positive number"),
    (("--warp", "scale", "--basis", "legendre", "--N", "2", "--time", "3"), "--time needs --delta"),
    (("--warp", "exponential", "--basis", "legendre", "--N", "2", "--delta", "0.1", "--time", "3"),
     "--time applies only to time-varying warps"),
]


@pytest.mark.parametrize("command", ["matrices", "verify"])
@pytest.mark.parametrize("args,message", STEP_OPTIONS, ids=[" ".join(a) for a, _ in STEP_OPTIONS])
def test_step_options_are_checked_the_same_way_by_matrices_and_verify(capsys, command, args, message):
    extra = ("--against", "legs") if command == "verify" else ()
    code, out, err = run_inline(capsys, command, *args, *extra)
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err


REPEATED = [
    ("matrices", "--warp", "exponential", "--warp", "linear", "--basis", "legendre", "--N", "3"),
    ("matrices", "--warp", "exponential", "--basis", "legendre", "--N", "3", "--N", "4"),
    ("verify", "--warp", "exponential", "--basis", "legendre", "--N", "3", "--against", "legs", "--against", "legt"),
    ("export", "--warp", "exponential", "--basis", "legendre", "--basis", "fourier", "--N", "3", "--delta", "0.1",
     "--name", "x", "--out", "."),
]


@pytest.mark.parametrize("args", REPEATED, ids=[" ".join(a) for a in REPEATED])
def test_a_repeated_single_valued_option_is_refused_not_overwritten(capsys, args):
    code, out, err = run_inline(capsys, *args)
    repeated = next(a for a in args if args.count(a) == 2 and a.startswith("--"))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"{repeated} was given more than once" in err
    if repeated == "--warp":
        assert "symderive export" in err     # says where several warps are meant


HOSTILE = [
    "f=__import__('os').system('touch /tmp/symderive_cli_pwned')",
    "f=().__class__.__bases__[0].__subclasses__()",
    "f=lambda: 1",
    "f=exec('import os')",
    "f=open('/etc/passwd').read()",
    "f=9**9**9",
]


@pytest.mark.parametrize("spec", HOSTILE)
def test_hostile_expressions_are_rejected_and_do_not_run(capsys, spec):
    if os.path.exists("/tmp/symderive_cli_pwned"):
        os.remove("/tmp/symderive_cli_pwned")
    code, out, err = run_inline(capsys, "matrices", "--warp", spec, "--basis", "legendre", "--N", "2")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    code, out, err = run_inline(capsys, "matrices", "--warp", "exponential", "--basis",
                                "functions=" + spec[2:], "--N", "1")
    assert code == 2 and err.count("\n") == 1
    assert not os.path.exists("/tmp/symderive_cli_pwned")


def test_hostile_input_in_a_real_process():
    code, out, err = run_cli("matrices", "--warp", "f=__import__('os').system('touch /tmp/symderive_cli_pwned')",
                             "--basis", "legendre", "--N", "2")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert not os.path.exists("/tmp/symderive_cli_pwned")


# ------------------------------------------------------------------ --delta as the library takes it

DELTA_FORMS = ("1/100", "0.01", "1e-2", " 1E-2 ", ".01")


def test_matrices_delta_accepts_fractions_decimals_and_exponents(capsys):
    results = []
    for text in DELTA_FORMS:
        code, out, err = run_inline(capsys, "matrices", "--warp", "exponential", "--basis", "legendre", "--N", "3",
                                    "--delta", text, "--exact")
        assert code == 0, (text, err)
        results.append(json.loads(out))
    assert all(r == results[0] for r in results[1:])       # the same exact step: the same output
    assert results[0]["delta"] == 0.01 and results[0]["A_exact"][0][0] == "exp(-1/100)"


def test_verify_delta_accepts_fractions_decimals_and_exponents(capsys):
    measured = []
    for text in ("1/100", "0.01", "1e-2"):
        code, out, err = run_inline(capsys, "verify", "--warp", "exponential", "--basis", "legendre", "--N", "2",
                                    "--against", "legs", "--delta", text)
        assert code == 0, (text, err)
        measured.append(json.loads(out)["structure"]["discrepancy"])
    assert measured[0]["delta"] == "1/100" and all(m == measured[0] for m in measured[1:])


def test_export_delta_accepts_fractions_decimals_and_exponents(capsys, tmp_path):
    hashes = set()
    for i, text in enumerate(("1/100", "0.01", "1e-2")):
        folder = tmp_path / str(i)
        folder.mkdir()
        code, out, err = run_inline(capsys, "export", "--warp", "exponential", "--basis", "legendre", "--N", "2",
                                    "--delta", text, "--name", "pkg", "--out", str(folder))
        assert code == 0, (text, err)
        data = json.loads(out)
        assert data["delta"] == 0.01
        hashes.add(data["spec_hash"])
    assert len(hashes) == 1                                 # the spec (exact step included) is the same


# ------------------------------------------------------------------ --format npz

def _load_npz(path):
    with np.load(path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


@pytest.mark.parametrize("args", [
    ("--warp", "exponential", "--basis", "legendre", "--N", "4", "--delta", "1/100", "--exact"),
    ("--warp", "linear:window=2", "--basis", "fourier", "--N", "3"),
    ("--warp", "scale", "--basis", "legendre", "--N", "2", "--delta", "1", "--time", "3"),
], ids=["with-step", "generator-only", "time-varying"])
def test_npz_holds_the_json_output(capsys, tmp_path, args):
    code, out, err = run_inline(capsys, "matrices", *args)
    assert code == 0, err
    expected = json.loads(out)
    path = tmp_path / "m.npz"
    code, out, err = run_inline(capsys, "matrices", *args, "--format", "npz", "--out", str(path))
    assert code == 0, err
    summary = json.loads(out)
    arrays = _load_npz(path)
    stepped = "A" in expected
    assert set(arrays) == {"A_gen", "B_gen", "metadata"} | ({"A", "B"} if stepped else set())
    assert summary == {"npz": str(path), "arrays": {k: list(v.shape) for k, v in arrays.items()}}
    for key in ("A_gen", "B_gen") + (("A", "B") if stepped else ()):
        assert arrays[key].dtype == np.float64
        assert np.array_equal(arrays[key], np.array(expected[key], dtype=np.float64))   # bit for bit
    meta = arrays["metadata"]
    assert meta.shape == () and meta.dtype.kind == "U"
    meta = json.loads(str(meta))
    for key in ("warp", "basis", "N", "routes"):
        assert meta[key] == expected[key]
    assert meta["delta"] == expected.get("delta") and meta["notes"] == expected.get("notes", [])
    assert meta["symderive_version"] == symderive.__version__
    rest = {k: v for k, v in expected.items() if k not in ("A_gen", "B_gen", "A", "B")}   # support, exact, ...
    assert meta == {"delta": None, "notes": [], **rest, "symderive_version": symderive.__version__}


def test_npz_is_written_under_the_name_given(capsys, tmp_path):
    path = tmp_path / "matrices.bin"                       # np.savez would have appended .npz
    code, _, err = run_inline(capsys, "matrices", "--warp", "exponential", "--basis", "laguerre", "--N", "2",
                              "--format", "npz", "--out", str(path))
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["matrices.bin"]   # no temporary file left behind
    assert set(_load_npz(path)) == {"A_gen", "B_gen", "metadata"}


@pytest.mark.parametrize("extra,message", [
    (("--format", "npz"), "--format npz needs --out FILE"),
    (("--format", "json", "--out", "x.npz"), "--out applies only to --format npz"),
    (("--out", "x.npz"), "--out applies only to --format npz"),
    (("--format", "npz", "--out", "no/such/folder/x.npz"), "does not exist"),
    (("--format", "npz", "--out", "."), "is a folder"),
])
def test_npz_options_are_checked_before_deriving(capsys, extra, message):
    code, out, err = run_inline(capsys, "matrices", "--warp", "exponential", "--basis", "legendre", "--N", "2",
                                *extra)
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err


# ------------------------------------------------------------------ --help

@pytest.mark.parametrize("command", ["matrices", "verify", "export"])
def test_help_ends_with_examples_that_parse(capsys, command):
    from symderive.cli import EXAMPLES, build_parser
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    examples = EXAMPLES[command]
    assert 1 <= len(examples) <= 3
    assert text.rstrip().endswith(examples[-1]) and "examples:" in text
    for line in examples:
        assert line in text                               # printed as written (RawDescriptionHelpFormatter)
        argv = line.split()
        assert argv[:2] == ["symderive", command]
        build_parser().parse_args(argv[1:])               # every example is a valid command line
    if command == "matrices":
        assert "npz" in text and "json (default)" in text
