"""Hostile-input campaign over the ``symderive`` command line (reproducible from a seed).

Run (from the repository root, with the project's venv active)::

    python scripts/fuzz_inputs.py --cases 2000 --seed 0 [--jobs 2] [--timeout 15] [--memory-gb 1.5]
                                  [--out /tmp/fuzz.jsonl]
    python scripts/fuzz_inputs.py --seed 0 --only 17,230      # rerun single cases, showing their output

Cases (``scripts/_fuzz_cases.py``) are argv lists for ``matrices`` (mostly), ``verify`` and ``export``:
grammar-based random expressions for custom warps ``f=EXPR[;g=EXPR]`` and bases ``functions=E1;E2;...``
(huge, tiny and non-real numbers, nested powers, every whitelisted function, deep nesting), plausible
warps and bases near the edge of validity, mutations of valid SPECs (characters inserted, deleted,
replaced, unicode digits, newlines, Python injection payloads, very long strings), odd option values
(``--N``, ``--delta``, ``--time``, ``--budget``, ``--name``, ``--out``, ``--certificate``), and *oracle*
pairs (a custom SPEC that must give the same matrices as a built-in one). Case ``i`` of seed ``s`` depends
on ``(s, i)`` only.

Each case runs in a forked child of this process, which has already imported SymPy, flint, numpy,
mpmath and symderive's engine, so a case costs no import time. The child limits its address space to
``--memory-gb`` (RLIMIT_AS), sets ``SYMDERIVE_NO_CACHE=1`` and ``SYMDERIVE_QUIET=1``, works in a fresh
temporary folder (its cwd; ``{TMP}`` in an argv; removed afterwards), sends stdout and stderr to files,
calls ``symderive.cli.main(argv)`` and exits with its status. The parent kills a child that runs past
``--timeout`` seconds (SIGKILL) and reads its peak RSS from ``os.wait4``.

``--symbolic-budget S`` (default 3) sets ``SYMDERIVE_BUDGET`` for every case that does not pass ``--budget``
itself, so that a campaign of 2000 cases takes minutes rather than the CLI's default of 10 s of symbolic work
per case (``--symbolic-budget default`` keeps the CLI's default); the replay commands repeat it.

Classes:

- ``accepted``: exit 0.
- ``accepted-nonfinite``: exit 0, but the printed JSON holds NaN/Infinity (or a non-finite number).
- ``accepted-suspect``: exit 0, but a check of the result failed: wrong matrix shapes; ``A`` far from
  ``I + Delta A_gen`` for a small step; exact entries (``--exact``) that do not evaluate to the printed
  floats; an oracle pair whose numbers differ; a generated package file that does not parse.
  These are candidates for silently wrong answers (the ``checks`` field says which).
- ``refused``: exit 2 and stderr is exactly one line starting with ``symderive: error:``.
- ``refused-badly``: exit 2 but stderr has more lines (warnings, a traceback) or another form.
- ``derivation-failed``: exit 1 with one line ``symderive: derivation failed: ...`` (plus notes).
- ``not-equivalent``: ``verify`` exit 1 with a verdict on stdout and no error line.
- ``internal-error``: exit 1 with ``internal error`` or a traceback, any other exit status, death by a
  signal, an exception escaping ``main``.
- ``over-time``: killed at ``--timeout``.
- ``over-memory``: peak RSS above the cap, or MemoryError / "Cannot allocate" / GNU MP messages.
- ``CODE-EXECUTION``: a marker file of the injection payloads (``/tmp/pwned``,
  ``/tmp/symderive-fuzz-pwned``) appeared, or a generated package contains an injected call. The campaign
  stops at once.

Output: a summary table on stdout (counts per class, the slowest cases, replay commands for the first
few cases of each bad class) and one JSON line per case in ``--out`` (id, kind, argv, class, exit status,
seconds, peak MB, first 300 characters of stderr, checks, replay command).
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import math
import os
import resource
import shlex
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

# Settings read at import time by symderive and the numeric libraries: before anything is imported.
os.environ["SYMDERIVE_NO_CACHE"] = "1"
os.environ["SYMDERIVE_QUIET"] = "1"
for _name in ("SYMDERIVE_DEBUG", "SYMDERIVE_BUDGET", "SYMDERIVE_SYMBOLIC_SECONDS"):
    os.environ.pop(_name, None)
# The symbolic budget of cases that do not pass --budget is read by symderive._limits at import: it has to be
# in the environment before preload(). Taken from --symbolic-budget (peeked here, parsed again in main).
SYMBOLIC_BUDGET = "3"
for _i, _a in enumerate(sys.argv):
    if _a == "--symbolic-budget" and _i + 1 < len(sys.argv):
        SYMBOLIC_BUDGET = sys.argv[_i + 1]
    elif _a.startswith("--symbolic-budget="):
        SYMBOLIC_BUDGET = _a.split("=", 1)[1]
if SYMBOLIC_BUDGET.strip().lower() not in ("", "default", "none"):
    os.environ["SYMDERIVE_BUDGET"] = SYMBOLIC_BUDGET
else:
    SYMBOLIC_BUDGET = ""
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _fuzz_cases  # noqa: E402

BAD_CLASSES = ("CODE-EXECUTION", "internal-error", "over-time", "over-memory", "refused-badly",
               "accepted-nonfinite", "accepted-suspect")
ORDER = ("accepted", "accepted-nonfinite", "accepted-suspect", "refused", "refused-badly", "derivation-failed",
         "not-equivalent", "internal-error", "over-time", "over-memory", "CODE-EXECUTION")
MEMORY_SIGNS = ("MemoryError", "Cannot allocate", "GNU MP", "Unable to allocate", "out of memory",
                "std::bad_alloc", "cannot allocate")


def preload() -> None:
    """Import everything a case may need, once, in the parent (the children inherit it)."""
    import flint  # noqa: F401
    import mpmath  # noqa: F401
    import numpy  # noqa: F401
    import sympy  # noqa: F401

    import symderive.cli  # noqa: F401
    import symderive.codegen.export  # noqa: F401
    import symderive.derivation.model  # noqa: F401
    import symderive.inputs.specs  # noqa: F401
    import symderive.verification.families  # noqa: F401
    import symderive.verification.table  # noqa: F401
    import symderive.verification.verify  # noqa: F401


# ------------------------------------------------------------------------------------------------ child

def _child(case: dict, folder: str, out_path: str, err_path: str, memory_bytes: int) -> None:
    """Run one case in this (forked) process and ``os._exit`` with its status; never returns."""
    status = 70
    try:
        os.setpgid(0, 0)
        os.chdir(folder)
        for fd, path, flags in ((0, os.devnull, os.O_RDONLY), (1, out_path, os.O_WRONLY | os.O_TRUNC),
                                (2, err_path, os.O_WRONLY | os.O_TRUNC)):
            new = os.open(path, flags)
            os.dup2(new, fd)
            os.close(new)
        enc = "utf-8"
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding=enc, errors="strict",
                                      write_through=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding=enc, errors="backslashreplace",
                                      write_through=True)
        os.environ["SYMDERIVE_NO_CACHE"] = "1"
        os.environ["SYMDERIVE_QUIET"] = "1"
        os.environ["SYMDERIVE_CACHE_DIR"] = os.path.join(folder, ".cache")
        from symderive import cache, cli, progress
        cache.set_enabled(False)
        progress.set_quiet(True)
        if case.get("setup_file"):
            Path(folder, case["setup_file"]).write_text("not a folder\n")
        argv = [a.replace(_fuzz_cases.TMP, folder) for a in case["argv"]]
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 20, 256 << 20))
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        try:
            result = cli.main(argv)
        except SystemExit as exc:
            if isinstance(exc.code, int) or exc.code is None:
                result = exc.code or 0
            else:
                print(exc.code, file=sys.stderr)
                result = 1
        if not isinstance(result, int):
            print(f"fuzz-harness: main returned {result!r}, not an int", file=sys.stderr)
            result = 71
        status = result & 0xFF
    except MemoryError:
        try:
            os.write(2, b"fuzz-harness: MemoryError escaped symderive.cli.main\n")
        except OSError:
            pass
        status = 72
    except BaseException:  # noqa: BLE001 - anything escaping main is a finding
        try:
            os.write(2, b"fuzz-harness: exception escaped symderive.cli.main\n")
            os.write(2, traceback.format_exc().encode("utf-8", "backslashreplace"))
        except BaseException:  # noqa: BLE001
            pass
        status = 73
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001
            pass
        os._exit(status)


# ------------------------------------------------------------------------------------------------ checks

def _nonfinite(value) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_nonfinite(v) for v in value.values())
    if isinstance(value, list):
        return any(_nonfinite(v) for v in value)
    return False


def _argv_option(argv: list[str], flag: str):
    for i, a in enumerate(argv[:-1]):
        if a == flag:
            return argv[i + 1]
    return None


def _check_matrices(out: dict, argv: list[str]) -> list[str]:
    """Cheap consistency checks of an accepted ``matrices`` result (numpy)."""
    import numpy as np
    problems = []
    try:
        N = int(out["N"])
        A_gen, B_gen = np.array(out["A_gen"], dtype=float), np.array(out["B_gen"], dtype=float)
        if A_gen.shape != (N, N) or B_gen.shape != (N,):
            return [f"shape: N={N}, A_gen {A_gen.shape}, B_gen {B_gen.shape}"]
        asked_N = _argv_option(argv, "--N")
        if asked_N is not None and asked_N.strip().isascii() and asked_N.strip().lstrip("+").isdigit() \
                and int(asked_N) != N:
            problems.append(f"asked N={asked_N!r}, got N={N}")
        if "A" in out:
            A, B = np.array(out["A"], dtype=float), np.array(out["B"], dtype=float)
            if A.shape != (N, N) or B.shape != (N,):
                return problems + [f"shape: A {A.shape}, B {B.shape}"]
            delta = float(out["delta"]) / float(out.get("time", 1.0))
            norm = max(1.0, float(np.abs(A_gen).max()), float(np.abs(B_gen).max()))
            if 0 < delta * norm <= 1e-2:
                errA = float(np.abs(A - np.eye(N) - delta * A_gen).max())
                errB = float(np.abs(B - delta * B_gen).max())
                bound = 20 * (delta * norm) ** 2 + 1e-9
                if errA > bound or errB > bound:
                    problems.append(f"first order: |A - I - dA_gen| = {errA:.3g}, |B - dB_gen| = {errB:.3g} "
                                    f"> {bound:.3g} (d = {delta:g})")
            elif delta * norm > 1e-2:
                rho = max(abs(np.linalg.eigvals(A))) if np.all(np.isfinite(A)) else math.inf
                if rho > 1 + 1e-6 and np.all(np.linalg.eigvals(A_gen).real < -1e-9):
                    problems.append(f"A has spectral radius {rho:.6g} > 1 though A_gen is stable")
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(f"unreadable result: {type(exc).__name__}: {exc}")
    return problems


def _check_package(folder: str) -> tuple[list[str], bool]:
    """``(problems, injected)``: every generated .py file must parse; no call of exec/eval/__import__/system."""
    problems, injected = [], False
    for path in Path(folder).rglob("*.py"):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError) as exc:
            problems.append(f"generated {path.name} does not parse: {exc}")
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
                if name in ("exec", "eval", "__import__", "system", "popen", "breakpoint"):
                    problems.append(f"generated {path.name} calls {name}()")
                    injected = True
    return problems, injected


def classify(case: dict, rc: int | None, sig: int | None, timed_out: bool, peak_mb: float, cap_mb: float,
             stdout: str, stderr: str) -> tuple[str, list[str]]:
    """The class of one finished case and the list of failed result checks (see the module docstring)."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    main_lines = [ln for ln in lines if not ln.startswith("symderive: note: ")]
    if timed_out:
        return "over-time", []
    if peak_mb > cap_mb or any(s in stderr for s in MEMORY_SIGNS):
        return "over-memory", []
    if sig is not None:
        return "internal-error", [f"killed by signal {sig}"]
    if "Traceback (most recent call last)" in stderr and rc != 2:
        return "internal-error", []
    if rc == 0:
        checks = []
        if main_lines:
            checks.append(f"stray stderr on success: {main_lines[0][:120]!r}")
        text = stdout.strip()
        if text[:1] in "{[":
            if "NaN" in text or "Infinity" in text:
                return "accepted-nonfinite", checks
            try:
                data = json.loads(text)
            except ValueError as exc:
                return "accepted-suspect", checks + [f"stdout is not JSON: {exc}"]
            if _nonfinite(data):
                return "accepted-nonfinite", checks
            if case["argv"][:1] == ["matrices"] and isinstance(data, dict):
                checks += _check_matrices(data, case["argv"])
        return ("accepted-suspect" if any(not c.startswith("stray") for c in checks) else "accepted"), checks
    if rc == 2:
        ok = len(lines) == 1 and lines[0].startswith("symderive: error:")
        return ("refused" if ok else "refused-badly"), []
    if rc == 1:
        if any("internal error" in ln for ln in lines):
            return "internal-error", []
        if main_lines and main_lines[-1].startswith("symderive: derivation failed:") and len(main_lines) == 1:
            return "derivation-failed", []
        if case["argv"][:1] == ["verify"] and not main_lines and ("verdict" in stdout or "not-equivalent" in stdout):
            return "not-equivalent", []
        return "internal-error", []
    return "internal-error", [f"exit status {rc}"]


# ------------------------------------------------------------------------------------------------ runner

class Runner:
    def __init__(self, jobs: int, timeout: float, memory_gb: float, stop_on_code: bool = True,
                 keep_stdout: bool = False):
        self.keep_stdout = keep_stdout
        self.jobs, self.timeout = max(1, jobs), timeout
        self.memory_bytes = int(memory_gb * (1 << 30))
        self.cap_mb = memory_gb * 1024
        self.stop_on_code = stop_on_code
        self.base = tempfile.mkdtemp(prefix="symderive-fuzz-")

    def _launch(self, case: dict) -> dict:
        folder = tempfile.mkdtemp(prefix=f"case{case['id']}-", dir=self.base)
        io_dir = tempfile.mkdtemp(prefix=f"io{case['id']}-", dir=self.base)
        out_path, err_path = os.path.join(io_dir, "stdout"), os.path.join(io_dir, "stderr")
        for p in (out_path, err_path):
            open(p, "w").close()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(case, folder, out_path, err_path, self.memory_bytes)
        try:
            os.setpgid(pid, pid)   # also in the child: whichever runs first, killpg then reaches the case
        except OSError:
            pass
        return {"case": case, "pid": pid, "start": time.monotonic(), "folder": folder, "io": io_dir,
                "out": out_path, "err": err_path, "killed": False}

    def _finish(self, job: dict, status: int, usage) -> dict:
        seconds = time.monotonic() - job["start"]
        case = job["case"]
        rc = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        peak_mb = usage.ru_maxrss / 1024.0
        stdout = Path(job["out"]).read_bytes().decode("utf-8", "backslashreplace")
        stderr = Path(job["err"]).read_bytes().decode("utf-8", "backslashreplace")
        cls, checks = classify(case, rc, sig, job["killed"], peak_mb, self.cap_mb, stdout, stderr)
        if cls.startswith("accepted") and case["argv"][:1] == ["export"]:
            problems, injected = _check_package(job["folder"])
            checks += problems
            if injected:
                cls = "CODE-EXECUTION"
            elif problems:
                cls = "accepted-suspect"
        markers = [m for m in _fuzz_cases.MARKERS if os.path.exists(m)]
        if markers:
            cls = "CODE-EXECUTION"
            checks.append(f"marker file(s) appeared: {markers}")
        shutil.rmtree(job["folder"], ignore_errors=True)
        shutil.rmtree(job["io"], ignore_errors=True)
        record = {"id": case["id"], "kind": case["kind"], "argv": case["argv"], "class": cls,
                  "exit": rc if rc is not None else (-sig if sig else None), "seconds": round(seconds, 3),
                  "peak_mb": round(peak_mb, 1), "stderr": stderr[:300], "checks": checks,
                  "replay": replay_command(case)}
        if "oracle" in case:
            record["oracle"] = case["oracle"]
        record["_stdout"] = stdout if (self.keep_stdout or case.get("oracle") or case.get("is_reference")
                                       or (cls.startswith("accepted") and "--exact" in case["argv"])) else ""
        return record

    def run(self, cases: list[dict], progress_every: int = 100):
        """Yield one record per case (in completion order); stop after a CODE-EXECUTION."""
        queue = list(reversed(cases))
        running: dict[int, dict] = {}
        done = 0
        stop = False
        try:
            while (queue and not stop) or running:
                while queue and not stop and len(running) < self.jobs:
                    job = self._launch(queue.pop())
                    running[job["pid"]] = job
                pid, status, usage = os.wait4(-1, os.WNOHANG)
                if pid == 0:
                    now = time.monotonic()
                    for job in running.values():
                        if not job["killed"] and now - job["start"] > self.timeout:
                            job["killed"] = True
                            try:
                                os.killpg(job["pid"], signal.SIGKILL)
                            except ProcessLookupError:
                                pass
                    time.sleep(0.005)
                    continue
                job = running.pop(pid, None)
                if job is None:
                    continue
                record = self._finish(job, status, usage)
                done += 1
                if progress_every and done % progress_every == 0:
                    print(f"[fuzz] {done} cases done", file=sys.stderr, flush=True)
                if record["class"] == "CODE-EXECUTION" and self.stop_on_code:
                    stop = True
                yield record
        finally:
            for job in running.values():
                try:
                    os.killpg(job["pid"], signal.SIGKILL)
                    os.waitpid(job["pid"], 0)
                except (ProcessLookupError, ChildProcessError):
                    pass
            shutil.rmtree(self.base, ignore_errors=True)


def replay_command(case: dict) -> str:
    """A shell command that reruns the case outside the harness (``{TMP}`` becomes a fresh folder)."""
    parts = []
    for a in case["argv"]:
        if _fuzz_cases.TMP in a:
            pre, _, post = a.partition(_fuzz_cases.TMP)
            parts.append((shlex.quote(pre) if pre else "") + '"$T"' + (shlex.quote(post) if post else ""))
        else:
            parts.append(shlex.quote(a))
    prefix = "T=$(mktemp -d) && " if any(_fuzz_cases.TMP in a for a in case["argv"]) else ""
    if case.get("setup_file"):
        prefix += f'echo x > "$T"/{case["setup_file"]} && '
    env = f"SYMDERIVE_BUDGET={SYMBOLIC_BUDGET} " if SYMBOLIC_BUDGET else ""
    return prefix + env + "SYMDERIVE_NO_CACHE=1 SYMDERIVE_QUIET=1 python -m symderive " + " ".join(parts)


# ------------------------------------------------------------------------------------------------ post checks

def _fork_call(fn, arg, timeout: float):
    """``fn(arg)`` in a forked child (JSON result through a pipe), or None on timeout or failure."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
            data = json.dumps(fn(arg)).encode()
        except BaseException as exc:  # noqa: BLE001
            data = json.dumps({"error": f"{type(exc).__name__}: {exc}"[:300]}).encode()
        os.write(w, data)
        os._exit(0)
    os.close(w)
    chunks, start = [], time.monotonic()
    os.set_blocking(r, False)
    while True:
        try:
            chunk = os.read(r, 65536)
            if chunk == b"":
                break
            chunks.append(chunk)
        except BlockingIOError:
            if time.monotonic() - start > timeout:
                os.kill(pid, signal.SIGKILL)
                break
            time.sleep(0.01)
    os.close(r)
    os.waitpid(pid, 0)
    try:
        return json.loads(b"".join(chunks))
    except ValueError:
        return None


def _exact_vs_float(out: dict) -> dict:
    """Evaluate the exact entries (through symderive's own safe parser) and compare with the floats."""
    import sympy as sp

    from symderive.inputs.expressions import parse_expression
    worst, where, skipped = 0.0, None, 0
    for key in ("A_gen", "B_gen", "A", "B"):
        if key + "_exact" not in out or key not in out:
            continue
        exact, floats = out[key + "_exact"], out[key]
        if key.startswith("B"):
            pairs = zip(exact, floats)
        else:
            pairs = ((e, f) for er, fr in zip(exact, floats) for e, f in zip(er, fr))
        for text, value in pairs:
            try:
                ex = parse_expression(text, "x")
                num = complex(sp.N(ex, 30))
            except Exception:  # noqa: BLE001 - entries outside the grammar (other functions) are skipped
                skipped += 1
                continue
            err = abs(num - value) / max(1.0, abs(value))
            if err > worst:
                worst, where = err, f"{key}: exact {text[:80]} = {num.real:.15g}, float {value!r}"
    return {"worst": worst, "where": where, "skipped": skipped}


def post_checks(records: list[dict], timeout: float) -> None:
    """Exact-vs-float and oracle checks of accepted results; failing ones become ``accepted-suspect``."""
    by_argv = {json.dumps(r["argv"]): r for r in records}
    for rec in records:
        if not rec["class"].startswith("accepted") or not rec["_stdout"].strip().startswith("{"):
            continue
        try:
            out = json.loads(rec["_stdout"])
        except ValueError:
            continue
        if "--exact" in rec["argv"] and any(k.endswith("_exact") for k in out):
            res = _fork_call(_exact_vs_float, out, timeout)
            if res is None:
                rec["checks"].append("exact entries could not be evaluated in time")
            elif "error" in res:
                rec["checks"].append(f"exact check failed: {res['error']}")
            elif res["worst"] > 1e-8:
                rec["checks"].append(f"exact != float (rel {res['worst']:.3g}): {res['where']}")
                rec["class"] = "accepted-suspect"
        if rec.get("oracle"):
            ref = by_argv.get(json.dumps(rec["oracle"]))
            if ref is None or not ref["class"].startswith("accepted"):
                rec["checks"].append(f"oracle reference not accepted ({ref and ref['class']})")
                continue
            refout = json.loads(ref["_stdout"])
            for key in ("A_gen", "B_gen", "A", "B"):
                a, b = out.get(key), refout.get(key)
                if a is None and b is None:
                    continue
                if a is None or b is None or _max_rel_diff(a, b) > 1e-9:
                    rec["checks"].append(f"oracle mismatch in {key} against {' '.join(rec['oracle'][1:])}: "
                                         f"rel diff {_max_rel_diff(a, b) if a and b else 'missing'}")
                    rec["class"] = "accepted-suspect"
                    break


def _max_rel_diff(a, b) -> float:
    import numpy as np
    a, b = np.array(a, dtype=float), np.array(b, dtype=float)
    if a.shape != b.shape:
        return math.inf
    return float((np.abs(a - b) / np.maximum(1.0, np.abs(b))).max()) if a.size else 0.0


# ------------------------------------------------------------------------------------------------ report

def summary(records: list[dict], elapsed: float, args) -> str:
    counts = {c: 0 for c in ORDER}
    for r in records:
        counts[r["class"]] = counts.get(r["class"], 0) + 1
    main_cases = [r for r in records if r["kind"] != "reference"]
    lines = [f"symderive fuzz: seed {args.seed}, {len(main_cases)} cases (+{len(records) - len(main_cases)} oracle "
             f"references), jobs {args.jobs}, timeout {args.timeout:g} s, memory cap {args.memory_gb:g} GiB, "
             f"symbolic budget {SYMBOLIC_BUDGET or 'CLI default'} s, {elapsed:.0f} s wall", ""]
    lines.append(f"{'class':<22}{'count':>7}{'share':>8}")
    lines.append("-" * 37)
    lines.append(f"{'tried':<22}{len(records):>7}{'':>8}")
    for c in ORDER:
        if counts.get(c) or c in ("accepted", "refused", "derivation-failed", "internal-error", "over-time",
                                  "over-memory", "refused-badly"):
            lines.append(f"{c:<22}{counts.get(c, 0):>7}{100 * counts.get(c, 0) / max(1, len(records)):>7.1f}%")
    stray = sum(1 for r in records if any(c.startswith("stray") for c in r["checks"]))
    if stray:
        lines.append(f"{'(accepted w/ stray stderr)':<22}{stray:>5}")
    lines += ["", "kinds: " + ", ".join(f"{k} {sum(1 for r in records if r['kind'] == k)}"
                                        for k in sorted({r['kind'] for r in records}))]
    lines += ["", "slowest cases:"]
    for r in sorted(records, key=lambda r: -r["seconds"])[:8]:
        lines.append(f"  #{r['id']:<5} {r['seconds']:7.2f} s {r['peak_mb']:7.0f} MB  {r['class']:<18} "
                     f"{_short(r['argv'])}")
    lines.append(f"peak RSS max {max((r['peak_mb'] for r in records), default=0):.0f} MB; "
                 f"total case time {sum(r['seconds'] for r in records):.0f} s")
    for c in BAD_CLASSES:
        bad = [r for r in records if r["class"] == c]
        if not bad:
            continue
        lines += ["", f"{c} ({len(bad)}): first cases (replay: python scripts/fuzz_inputs.py --seed {args.seed} "
                      f"--only ID)"]
        for r in bad[: args.show]:
            first = (r["stderr"].strip().splitlines() or [""])[0][:160]
            lines.append(f"  #{r['id']} [{r['seconds']:.1f} s, exit {r['exit']}] {first}")
            if r["checks"]:
                lines.append(f"      checks: {'; '.join(r['checks'])[:220]}")
            lines.append(f"      {r['replay'][:400]}")
    return "\n".join(lines)


def _short(argv, width=110) -> str:
    text = " ".join(shlex.quote(a) for a in argv)
    return text if len(text) <= width else text[: width - 3] + "..."


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=15.0, help="wall-clock seconds per case")
    ap.add_argument("--memory-gb", type=float, default=1.5, help="RLIMIT_AS of each case")
    ap.add_argument("--out", default="/tmp/fuzz.jsonl", help="JSON lines, one per case")
    ap.add_argument("--only", help="comma-separated case ids: rerun just these and print their output")
    ap.add_argument("--show", type=int, default=3, help="replay commands shown per bad class")
    ap.add_argument("--symbolic-budget", default="3",
                    help="SYMDERIVE_BUDGET for cases without --budget (default 3 s, to keep a campaign to minutes; "
                         "'default' leaves the CLI's own default of 10 s)")
    args = ap.parse_args(argv)

    present = [m for m in _fuzz_cases.MARKERS if os.path.exists(m)]
    if present:
        print(f"marker file(s) {present} exist before the campaign: remove them first", file=sys.stderr)
        return 3
    preload()
    runner = Runner(args.jobs, args.timeout, args.memory_gb, keep_stdout=bool(args.only))

    if args.only:
        cases = [_fuzz_cases.make_case(args.seed, int(i)) for i in args.only.split(",")]
        for rec in runner.run(cases, progress_every=0):
            print(json.dumps({k: v for k, v in rec.items() if k not in ("_stdout", "stderr")}))
            print("--- stdout:\n" + (rec["_stdout"] or "(empty)")[:3000])
            print("--- stderr:\n" + rec["stderr"], flush=True)
        return 0

    cases = _fuzz_cases.make_cases(args.seed, args.cases)
    known = {json.dumps(c["argv"]) for c in cases}
    refs = []
    for c in cases:
        key = json.dumps(c.get("oracle"))
        if c.get("oracle") and key not in known:
            known.add(key)
            refs.append({"id": args.cases + len(refs), "kind": "reference", "argv": c["oracle"],
                         "is_reference": True})
    for c in cases:   # a case that is also somebody's reference keeps its stdout
        if any(json.dumps(c["argv"]) == json.dumps(o.get("oracle")) for o in cases if o.get("oracle")):
            c["is_reference"] = True

    start = time.monotonic()
    records = list(runner.run(cases + refs))
    post_checks(records, timeout=20.0)
    elapsed = time.monotonic() - start
    records.sort(key=lambda r: r["id"])
    with open(args.out, "w") as fh:
        for r in records:
            fh.write(json.dumps({k: v for k, v in r.items() if k != "_stdout"}) + "\n")
    print(summary(records, elapsed, args))
    print(f"\nper-case records: {args.out}")
    if any(r["class"] == "CODE-EXECUTION" for r in records):
        print("\n*** CODE-EXECUTION: the campaign stopped; see the record above ***")
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
