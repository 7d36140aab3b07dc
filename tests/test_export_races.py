"""Export under races and kills: concurrent exports of one name, readers during a replacement, exports
killed at any point of the swap, and the removal of what dead exports left behind.

Writers and killed exports run in child processes (``python -c``, with this checkout first on
``PYTHONPATH``). The concurrent writers get their packages rendered already and wait on a start file
per round, so that their swaps really overlap (the old two-rename swap without a lock fails within a few
rounds); a killed export kills itself with SIGKILL at a chosen point of the export.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import symderive as sd
from symderive.codegen import export as export_module
from symderive.codegen.export import MARKER, export, write_package
from symderive.codegen.spec import build_spec

from helpers import file_bytes  # tests/helpers.py (tests/ is on sys.path: conftest.py)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

HAS_EXCHANGE = export_module._renameat2() is not None
needs_exchange = pytest.mark.skipif(not HAS_EXCHANGE, reason="needs renameat2 (Linux, glibc >= 2.28)")


def _env():
    return dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))


def _wait_for(predicate, procs, what, timeout=120.0):
    """Wait until ``predicate()``; fail with the children's output if one of them exits with an error."""
    deadline = time.monotonic() + timeout
    while not predicate():
        for proc in procs:
            if proc.poll() not in (None, 0):
                out, err = proc.communicate()
                pytest.fail(f"a writer exited with {proc.returncode} while waiting for {what}:\n{out}\n{err}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    """``{N: {relative path: bytes}}`` of the package "pkg" for N = 3 and N = 4, exported once each."""
    found = {}
    for N in (3, 4):
        out = tmp_path_factory.mktemp(f"reference{N}")
        path, _ = export(sd.warps.exponential(), sd.bases.legendre(N), "1/10", "pkg", out)
        found[N] = file_bytes(path)
    return found


def _assert_one_whole_package(out: Path, references, allowed=(3, 4)):
    found = file_bytes(out / "pkg")
    assert any(found == references[N] for N in allowed), sorted(found)


# ---------------------------------------------------------------------- concurrent exports

WRITER = r"""
import json, os, sys, time
from pathlib import Path
from symderive.codegen import export as ex
out, sync = Path(sys.argv[1]), Path(sys.argv[5])
rounds, switch, me = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
package = json.loads((sync / f"package-{me % 2}.json").read_text())   # half the writers write N = 3, half N = 4
os.fsync = lambda fd: None     # durability is not under test; a real fsync (ms each) would spread the swaps out
exchange = ex._renameat2
for r in range(rounds):
    ex._renameat2 = exchange if r < switch else (lambda: None)        # then the fallback's two renames
    (sync / f"ready-{r}-{me}").touch()
    while not (sync / f"go-{r}").exists():
        time.sleep(0.0002)
    ex.write_files(package["files"], "pkg", package["marker"], out)
    (sync / f"done-{r}-{me}").touch()
"""


def test_concurrent_exports_of_one_name_all_succeed(tmp_path, references):
    """4 writers of one name, their packages rendered already, started together round after round (30
    rounds swapping by renameat2's exchange, then 30 by the fallback's two renames): every export succeeds,
    a whole package is at the name after each round, and nothing else is left in ``out`` (no staging
    folder, no lock file)."""
    out, sync = tmp_path / "out", tmp_path / "sync"
    out.mkdir()
    sync.mkdir()
    for i, N in enumerate((3, 4)):
        spec = build_spec(sd.derive(sd.warps.exponential(), sd.bases.legendre(N)), "1/10", "pkg")
        files = export_module.render_package(spec)
        (sync / f"package-{i}.json").write_text(json.dumps({"files": files, "marker": export_module.marker_text(spec)}))
    writers, rounds, switch = 4, 60, 30
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(out), str(rounds), str(switch), str(me), str(sync)],
                              env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for me in range(writers)]
    try:
        for r in range(rounds):
            _wait_for(lambda: all((sync / f"ready-{r}-{me}").exists() for me in range(writers)), procs, f"ready {r}")
            (sync / f"go-{r}").touch()
            _wait_for(lambda: all((sync / f"done-{r}-{me}").exists() for me in range(writers)), procs, f"round {r}")
            _assert_one_whole_package(out, references)
            assert sorted(p.name for p in out.iterdir()) == ["pkg"], r
        for proc in procs:
            _, err_text = proc.communicate(timeout=60)
            assert proc.returncode == 0, err_text
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_concurrent_cli_exports_all_exit_0(tmp_path):
    """The command line, 4 times at once with one --name: every run exits 0 and lists the whole package."""
    argv = [sys.executable, "-m", "symderive", "export", "--warp", "exponential", "--basis", "legendre", "--N",
            "3", "--delta", "0.1", "--name", "pkg", "--out", str(tmp_path)]
    procs = [subprocess.Popen(argv, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    results = [proc.communicate(timeout=300) + (proc.returncode,) for proc in procs]
    assert [status for _, _, status in results] == [0] * 4, [err for _, err, _ in results]
    reports = [json.loads(out) for out, _, _ in results]
    written = file_bytes(tmp_path / "pkg")
    for report in reports:
        assert sorted(report["files"]) == sorted(written) and report["spec_hash"] == reports[0]["spec_hash"]
    assert f"# spec-sha256: {reports[0]['spec_hash']}" in written[MARKER].decode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg"]


def test_the_lock_serializes_the_swap(tmp_path):
    """An export waits while another holds ``out/.name.lock``, and goes on once it is released."""
    import fcntl
    spec = build_spec(sd.derive(sd.warps.exponential(), sd.bases.legendre(3)), "1/10", "pkg")
    write_package(spec, tmp_path)
    lock = tmp_path / ".pkg.lock"
    fd = os.open(lock, os.O_RDONLY | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    done, errors = threading.Event(), []

    def run():
        try:
            write_package(spec, tmp_path)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert not done.wait(1.0), "the export did not wait for the lock"
        staged = [p.name for p in tmp_path.iterdir() if p.name.startswith(".pkg.tmp-")]
        assert len(staged) == 1                # rendered and written already: only the swap waits
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    thread.join(60)
    assert done.is_set() and not errors, errors
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg"]


# ---------------------------------------------------------------------- readers during a replacement

POLLER = r"""
import os, sys
target, stop = sys.argv[1], sys.argv[2]
marker, init = os.path.join(target, ".symderive-generated"), os.path.join(target, "__init__.py")
checks = misses = 0
print("ready", flush=True)
while not os.path.exists(stop):
    checks += 1
    if not (os.path.isdir(target) and os.path.isfile(marker) and os.path.isfile(init)):
        misses += 1
print(checks, misses, flush=True)
"""


def _poll_during_replacements(tmp_path, count):
    """(checks, misses) of a reader process polling ``out/pkg`` while ``count`` exports replace it."""
    specs = [build_spec(sd.derive(sd.warps.exponential(), sd.bases.legendre(N)), "1/10", "pkg") for N in (3, 4)]
    out = tmp_path / "out"
    out.mkdir()
    write_package(specs[0], out)
    stop = tmp_path / "stop"
    poller = subprocess.Popen([sys.executable, "-c", POLLER, str(out / "pkg"), str(stop)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert poller.stdout.readline().strip() == "ready"
        for i in range(count):
            write_package(specs[(i + 1) % 2], out)
    finally:
        stop.touch()
        text, _ = poller.communicate(timeout=60)
    checks, misses = map(int, text.split())
    return checks, misses


@needs_exchange
def test_a_package_is_at_the_name_at_every_instant_of_a_replacement(tmp_path):
    checks, misses = _poll_during_replacements(tmp_path, 40)
    assert checks > 100 and misses == 0, (checks, misses)


# ---------------------------------------------------------------------- killed exports

KILLED = r"""
import builtins, os, random, shutil, signal, sys
from pathlib import Path
import symderive as sd
from symderive.codegen import export as ex
from symderive.codegen.spec import build_spec
out, point, seed, fallback = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
rng = random.Random(seed)
if fallback:
    ex._renameat2 = lambda: None
spec = build_spec(sd.derive(sd.warps.exponential(), sd.bases.legendre(4)), "1/10", "pkg")

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def after_calls(module, attribute, k):
    real = getattr(module, attribute)
    count = [0]
    def wrapper(*args, **kwargs):
        count[0] += 1
        if count[0] == k:
            die()
        return real(*args, **kwargs)
    setattr(module, attribute, wrapper)

if point == "writing":          # the k-th file of the staging folder, before the lock
    after_calls(os, "fsync", rng.randrange(1, 6))
elif point == "locked":         # holding the lock, before the swap
    after_calls(ex, "_swap", 1)
elif point == "swapped":        # right after the exchange (or, in the fallback, between the two renames)
    real_swap_rename = os.rename
    count = [0]
    def rename(src, dst):
        real_swap_rename(src, dst)
        count[0] += 1
        if count[0] == 1:
            die()
    os.rename = rename
    real_exchange = ex._exchange
    def exchange(a, b):
        if real_exchange(a, b):
            die()
        return False
    ex._exchange = exchange
elif point == "removing":       # in the middle of removing the old package
    real_rmtree = shutil.rmtree
    def rmtree(path, *args, **kwargs):
        after_calls(os, "unlink", rng.randrange(1, 5))
        real_rmtree(path, *args, **kwargs)
    shutil.rmtree = rmtree
ex.write_package(spec, out)
print("not killed", flush=True)
"""

KILL_POINTS = [("writing", False), ("locked", False), ("swapped", False), ("removing", False),
               ("swapped", True), ("removing", True)]


@pytest.mark.parametrize("point, fallback", KILL_POINTS,
                         ids=[f"{p}-{'two-renames' if f else 'exchange'}" for p, f in KILL_POINTS])
def test_an_export_killed_during_the_swap_leaves_a_package_and_the_next_cleans_up(tmp_path, references, point,
                                                                                   fallback):
    if not fallback and not HAS_EXCHANGE:
        pytest.skip("needs renameat2")
    export(sd.warps.exponential(), sd.bases.legendre(3), "1/10", "pkg", tmp_path)
    seed = int.from_bytes(os.urandom(2), "little")
    child = subprocess.Popen([sys.executable, "-c", KILLED, str(tmp_path), point, str(seed), "1" if fallback else "0"],
                             env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = child.communicate(timeout=300)
    assert child.returncode == -signal.SIGKILL, (seed, out, err)
    left = sorted(p.name for p in tmp_path.iterdir())
    if fallback and point == "swapped":
        # the documented gap of the fallback: killed between its two renames, no package is at the name;
        # the old one waits whole in its .pkg.old-<pid>-* folder
        assert "pkg" not in left, left
        (aside,) = [name for name in left if name.startswith(".pkg.old-")]
        assert file_bytes(tmp_path / aside) == references[3]
    else:
        _assert_one_whole_package(tmp_path, references)
    strays = [name for name in left if name.startswith(".pkg.") and name != ".pkg.lock"]
    assert strays and all(name.startswith((f".pkg.tmp-{child.pid}-", f".pkg.old-{child.pid}-")) for name in strays), \
        (seed, left)
    # the next export removes what the dead one left (its pid is gone) and leaves only the package
    export(sd.warps.exponential(), sd.bases.legendre(3), "1/10", "pkg", tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg"], seed
    assert file_bytes(tmp_path / "pkg") == references[3]


def test_strays_of_live_exports_and_foreign_folders_are_kept(tmp_path):
    """Only ``.name.tmp-<pid>-*`` / ``.name.old-<pid>-*`` folders of dead processes (and pid-less ones from
    older symderive versions that carry the marker) are removed."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        folders = {
            f".pkg.tmp-{dead.pid}-0123abcd": False, f".pkg.old-{dead.pid}-89abcdef": False,
            f".pkg.tmp-{alive.pid}-0123abcd": True, f".pkg.old-{os.getpid()}-0123abcd": True,
            ".pkg.tmp-k2j4_x9a": False,                    # an older symderive's mkdtemp folder, with marker
            ".pkg.old-zz9y8x7w": True,                     # same pattern, no marker: not provably ours
            f".other.tmp-{dead.pid}-0123abcd": True,       # another name's
            f".pkg.tmpx-{dead.pid}-0123abcd": True,        # not the pattern
        }
        for name in folders:
            (tmp_path / name).mkdir()
            (tmp_path / name / "x.py").write_text("x")
        (tmp_path / ".pkg.tmp-k2j4_x9a" / MARKER).write_text("# old\n")
        (tmp_path / "keep.txt").write_text("x")
        export(sd.warps.exponential(), sd.bases.legendre(3), "1/10", "pkg", tmp_path)
        left = {p.name for p in tmp_path.iterdir()}
        assert left == {"pkg", "keep.txt"} | {name for name, kept in folders.items() if kept}, left
    finally:
        alive.kill()
        alive.wait()
