"""Write a generated package safely, and never over a folder symderive did not generate.

``export(warp, basis, delta, name, out)`` derives the model, builds its :class:`~.spec.KernelSpec`,
renders the templates (:mod:`.render`) and writes ``out/name/``; ``export_bank(warps, basis, delta,
name, out)`` does the same for a bank of several warps with one basis (:mod:`.bank`,
:mod:`.render_bank`). Both refuse, before deriving anything (:class:`~symderive.errors.InputError`,
exit status 2 from the CLI): an ``out`` that does not exist, is not a folder or is not writable; a
``name`` that is not an ASCII identifier or is taken by a standard-library, built-in or installed
top-level module, or symderive (:func:`~.spec.check_name`); an ``out/name`` that is a symbolic link, or
that exists without symderive's marker file. Both write through :func:`write_files`:

1. every file is written into a fresh staging folder beside the target, ``out/.name.tmp-<pid>-<random>``
   (folders created with mode ``0o777`` less the umask, files as ``open`` creates them, so other users
   can import the package when the umask lets them), with a marker file, ``.symderive-generated``,
   holding the spec hash (an ``out`` where that folder cannot be created, e.g. ``/proc``, is an
   InputError too). Nothing is locked while rendering and writing;
2. then an exclusive lock on ``out/.name.lock`` (``fcntl.flock``) is taken, for the swap only:
   concurrent exports of one name wait for each other here, and each of them succeeds (the last one to
   take the lock leaves its package). Holding it, the export

   a. removes stray ``.name.tmp-<pid>-*`` and ``.name.old-<pid>-*`` folders whose process ``<pid>`` no
      longer exists (left by killed exports; pid-less ``.name.tmp-*`` / ``.name.old-*`` folders of older
      symderive versions only when they carry the marker);
   b. checks ``out/name`` again: a symbolic link, or anything without the marker, is refused (an error,
      nothing touched);
   c. puts the staging folder in place. A new name is one ``os.rename``. An existing package is
      exchanged with the staging folder in one step by Linux's ``renameat2(RENAME_EXCHANGE)``, so a
      package (the old one, then the new one) is at ``out/name`` at every instant.

      Fallback where ``renameat2`` cannot exchange (not Linux, glibc < 2.28, kernel < 3.15, or a
      filesystem answering EINVAL / ENOSYS / EOPNOTSUPP): the old package is renamed aside to
      ``.name.old-<pid>-<random>`` and the new one renamed into place, both under the lock. Between those
      two renames there is *no* package at ``out/name``: a reader can miss it there, and an export killed
      there leaves none (the old one waits whole in the ``.old`` folder; the next export of that name puts
      its package in place and removes the strays);
   d. deletes the lock file and releases the lock (a waiter that then holds a lock on the deleted file
      opens the current one and waits again), so ``out`` holds only the package afterwards;

3. the old package, now at the staging (or ``.old``) name, is removed.

A killed export therefore leaves the old package or the new one at ``out/name`` (in the fallback, see
2c), never a half-written one, and at worst a stray ``.name.tmp-<pid>-*`` or ``.name.old-<pid>-*``
folder and the lock file beside it, which the next export of that name removes. A stray whose pid has
meanwhile been reused by a live process stays until that process ends. Without ``fcntl`` (not POSIX)
exports of one name are not serialized, and strays that carry a pid are left in place.

Warm-up: with ``warm=True`` (the CLI's default; ``--no-warm`` or ``SYMDERIVE_NO_WARM=1`` turn it off
there) an export then runs the package's ``warm()`` in a child process (:func:`warm_package`): every
Numba CPU kernel is compiled for this machine and cached in the package's ``__pycache__``, so a user's
first calls in a fresh process load kernels instead of compiling them (under a second instead of 10 s or
more). The Python functions default to ``warm=False``: they are what tests and scripts that export many
packages call, and the warm-up costs 10 s or more per package.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import importlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock (module docstring)
    fcntl = None

from .. import progress
from ..derivation.model import derive
from ..errors import InputError
from .bank import BankSpec, build_bank_spec
from .render import render_package
from .render_bank import render_bank
from .spec import KernelSpec, build_spec, check_name

MARKER = ".symderive-generated"
_FOLDER_MODE = 0o777        # less the umask, applied by mkdir itself (no umask() round trip: thread safe)
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_NO_EXCHANGE = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)}


def marker_text(spec: KernelSpec) -> str:
    return (f"# Generated by symderive: package {spec.name} from warp={spec.warp}, basis={spec.basis}, "
            f"N={spec.N}. symderive export may replace this folder.\n# spec-sha256: {spec.hash}\n")


def is_generated(folder: Path) -> bool:
    """True when ``folder`` carries symderive's marker file."""
    return os.path.isfile(os.path.join(folder, MARKER))


def _check_replaceable(target: Path) -> None:
    """Refuse ``target`` unless it is absent or a real folder carrying symderive's marker. Outside the lock
    a concurrent export may be swapping ``target`` between two checks (in the fallback it is briefly
    absent): a failed check is looked at again twice, 50 ms apart, before the refusal."""
    for _ in range(2):
        try:
            _check_replaceable_once(target)
            return
        except InputError:
            time.sleep(0.05)
    _check_replaceable_once(target)


def _check_replaceable_once(target: Path) -> None:
    if os.path.islink(target):
        try:
            points_to = os.readlink(target)
        except OSError:
            points_to = "?"
        raise InputError(f"{str(target)!r} is a symbolic link (to {points_to!r}); symderive replaces only folders "
                         "it generated, never a link or what it points to: remove the link or choose another "
                         "--name or --out")
    if os.path.lexists(target) and not (os.path.isdir(target) and is_generated(target)):
        raise InputError(f"{str(target)!r} exists and was not generated by symderive (no {MARKER} file); "
                         "refusing to overwrite it: choose another --name or --out")


def _target(out, name: str) -> Path:
    """``out/name`` after checking that ``out`` is a writable folder and ``out/name`` absent or symderive's
    own folder (not a link)."""
    out = Path(out)
    if not os.path.isdir(out):
        if os.path.lexists(out):
            what = ("a file" if os.path.isfile(out) else "a symbolic link to nothing" if os.path.islink(out)
                    else "neither a file nor a folder")
            raise InputError(f"--out {str(out)!r} is not a folder (it is {what}); give the folder to write the "
                             "package into")
        raise InputError(f"--out folder {str(out)!r} does not exist (create it first)")
    if not os.access(out, os.W_OK | os.X_OK):
        raise InputError(f"--out folder {str(out)!r} is not writable by this user: choose a folder you can "
                         "write to")
    target = out / name
    _check_replaceable(target)
    return target


# ---------------------------------------------------------------------- staging folders, lock, swap


def _staging_name(name: str, kind: str) -> str:
    """``.name.kind-<pid>-<random>``: the pid lets a later export tell a dead export's leftovers."""
    return f".{name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"


def _make_staging(out: Path, name: str) -> Path:
    """A fresh empty staging folder in ``out`` (mode 0o777 less the umask); InputError if ``out`` refuses."""
    while True:
        path = out / _staging_name(name, "tmp")
        try:
            os.mkdir(path, _FOLDER_MODE)
            return path
        except FileExistsError:
            continue
        except OSError as exc:   # e.g. EACCES, EROFS, or ENOENT from /proc
            raise InputError(f"cannot create a folder in --out {str(out)!r} ({exc.strerror or exc}): choose a "
                             "writable folder on a regular filesystem") from None


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (POSIX ``kill(pid, 0)``; elsewhere every process counts as alive)."""
    if os.name != "posix":
        return True           # os.kill would terminate it on Windows
    if pid == os.getpid():
        return True           # this process (another thread may be exporting the same name)
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:           # EPERM: alive, another user's
        return True
    return True


def _remove_strays(out: Path, name: str) -> list[str]:
    """Remove ``out/.name.tmp-<pid>-*`` and ``.name.old-<pid>-*`` folders whose process is dead (and, from
    symderive versions without the pid, ``.name.tmp-*`` / ``.name.old-*`` folders carrying the marker).
    Called under the lock; returns the names removed."""
    with_pid = re.compile(rf"\.{re.escape(name)}\.(?:tmp|old)-(\d+)-[0-9a-f]+")
    legacy = re.compile(rf"\.{re.escape(name)}\.(?:tmp|old)-[A-Za-z0-9_]+")
    removed = []
    try:
        entries = list(os.scandir(out))
    except OSError:
        return removed
    for entry in entries:
        match = with_pid.fullmatch(entry.name)
        if match:
            stray = not _pid_alive(int(match.group(1)))
        else:
            stray = bool(legacy.fullmatch(entry.name)) and is_generated(entry.path)
        try:
            stray = stray and entry.is_dir(follow_symlinks=False)
        except OSError:
            stray = False
        if stray:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.name)
    return removed


@contextlib.contextmanager
def _locked(out: Path, name: str):
    """Hold an exclusive ``flock`` on ``out/.name.lock``; the file is deleted before the lock is released.

    A waiter that wakes up holding a lock on a deleted (or replaced) lock file opens the current one and
    waits again, so two exports never both hold the lock of one name.
    """
    if fcntl is None:  # pragma: no cover
        yield
        return
    path = out / f".{name}.lock"
    while True:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        except OSError as exc:
            raise InputError(f"cannot open the lock file {str(path)!r} ({exc.strerror or exc}): remove it or "
                             "choose another --out") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held = os.fstat(fd)
            try:
                current = os.stat(path)
            except FileNotFoundError:
                current = None
        except BaseException:
            os.close(fd)
            raise
        if current is not None and (current.st_dev, current.st_ino) == (held.st_dev, held.st_ino):
            break
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


@functools.lru_cache(maxsize=1)
def _renameat2():
    """libc's ``renameat2`` through ctypes, or None where there is none (not Linux, glibc < 2.28)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange the folders ``a`` and ``b`` (both exist); False where that is not supported."""
    function = _renameat2()
    if function is None:
        return False
    if function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _NO_EXCHANGE:
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def _swap(staging: Path, target: Path, name: str) -> Path | None:
    """Put ``staging`` at ``target`` (under the lock); returns the folder now holding the old package, to be
    removed, or None."""
    if not os.path.lexists(target):
        os.rename(staging, target)
        return None
    if _exchange(staging, target):
        return staging                  # the old package is now at the staging name
    old = target.parent / _staging_name(name, "old")
    os.rename(target, old)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(old, target)          # put the old package back
        raise
    return old


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def check_destination(out, name: str) -> Path:
    """``out/name`` after every check of the name and the folder that can be made before deriving
    (:func:`~.spec.check_name`, :func:`_target`); the CLI calls it before parsing the warp and basis."""
    return _target(out, check_name(name))


def write_files(files: dict, name: str, marker: str, out) -> Path:
    """Write ``{relative path: text}`` and the marker file (text ``marker``) to ``out/name``: staged, then
    swapped in under a per-name lock, so that a package is at ``out/name`` at every instant (module
    docstring, with the fallback where the swap takes two renames)."""
    target = _target(out, name)
    out = target.parent
    files = dict(files)
    files[MARKER] = marker
    staging = _make_staging(out, name)
    old = None
    try:
        for relative in sorted(files):
            path = staging / relative
            path.parent.mkdir(mode=_FOLDER_MODE, parents=True, exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(files[relative])
                fh.flush()
                os.fsync(fh.fileno())
        with _locked(out, name):
            _remove_strays(out, name)
            _check_replaceable(target)
            try:
                old = _swap(staging, target, name)
            except PermissionError as exc:
                raise InputError(f"cannot replace {str(target)!r} ({exc.strerror}): it belongs to a user whose "
                                 "folders this user may not move; choose another --name or --out") from None
            staging = None
            _fsync_folder(out)
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)   # a leftover (another user's files) goes with a later export
    return target


def write_package(spec: KernelSpec, out) -> Path:
    """Render ``spec`` and write it to ``out/spec.name`` (:func:`write_files`)."""
    _target(out, spec.name)             # refuse before rendering
    return write_files(render_package(spec), spec.name, marker_text(spec), out)


def bank_marker_text(spec: BankSpec) -> str:
    warps = ", ".join(m.warp for m in spec.members)
    return (f"# Generated by symderive: bank package {spec.name} from warps=[{warps}], basis={spec.members[0].basis}, "
            f"N={spec.R}x{spec.members[0].N}. symderive export may replace this folder.\n"
            f"# spec-sha256: {spec.hash}\n")


def write_bank(spec: BankSpec, out) -> Path:
    """Render the bank ``spec`` and write it to ``out/spec.name`` (:func:`write_files`)."""
    _target(out, spec.name)
    return write_files(render_bank(spec), spec.name, bank_marker_text(spec), out)


def export(warp, basis, delta, name: str, out, warm: bool = False) -> tuple[Path, KernelSpec]:
    """Derive ``warp x basis``, build the spec at step ``delta`` and write the package ``out/name``.

    ``warm=True`` then compiles the package's CPU kernels into Numba's cache (:func:`warm_package`, 10 s
    or more), so that a fresh process's first calls load them instead; the CLI does it by default.
    """
    check_destination(out, name)          # refuse a bad name or folder before deriving
    spec = _derived_spec(warp, basis, delta, name)
    path = write_package(spec, out)
    if warm:
        warm_package(path)
    return path, spec


def _derived_spec(warp, basis, delta, name: str) -> KernelSpec:
    """Derive ``warp x basis`` (refusing work over budget up front) and build the spec at step ``delta``."""
    model = derive(warp, basis)
    model.check_cost(["generator"] + ([] if warp.time_varying else ["lag"]), delta)
    return build_spec(model, delta, name)


def export_or_reuse(warp, basis, delta, name: str, out) -> tuple[Path, KernelSpec, bool]:
    """:func:`export`, except that a package ``out/name`` already generated from the identical spec (its
    marker file names the same spec hash) is left as it is: its files keep their times, so the kernels
    Numba compiled into its ``__pycache__`` stay valid and load instead of compiling again.

    Returns ``(path, spec, reused)``. The derivation itself comes from symderive's disk cache when it was
    done before (:mod:`symderive.cache`), so a reused package costs a fraction of a second.
    """
    target = check_destination(out, name)
    spec = _derived_spec(warp, basis, delta, name)
    marker = target / MARKER
    try:
        reused = marker.read_text(encoding="utf-8") == marker_text(spec) and (target / "__init__.py").is_file()
    except OSError:
        reused = False
    if not reused:
        target = write_package(spec, out)
    return target, spec, reused


def export_bank(warps, basis, delta, name: str, out, warm: bool = False) -> tuple[Path, BankSpec]:
    """Derive ``warp x basis`` for every warp in ``warps``, build the bank spec at the fixed step ``delta``
    (:func:`~.bank.build_bank_spec`) and write the bank package ``out/name``.

    ``basis`` is one Basis, used by every member. ``warps``: a list of at least 2 stationary warps with a
    dilation (exponential) or window-translation (linear) lag map. ``warm``: as in :func:`export`.
    """
    check_destination(out, name)          # refuse a bad name or folder before deriving
    if not isinstance(warps, (list, tuple)):
        raise InputError("export_bank needs a list of warps (one per member), got a "
                         f"{type(warps).__name__}; for one warp use export()")
    if isinstance(basis, (list, tuple)):
        raise InputError("export_bank takes one basis for every member (the bank shares its basis), got a "
                         f"{type(basis).__name__}")
    models = [derive(warp, basis) for warp in warps]
    for model in models:
        model.check_cost(["generator", "lag"], delta)     # refuse up front, member by member
    spec = build_bank_spec(models, delta, name)
    path = write_bank(spec, out)
    if warm:
        warm_package(path)
    return path, spec


# Run in a fresh interpreter: import the package from its folder by file location (nothing else of that
# folder, or of the working directory, goes on sys.path) and call its warm().
_WARM_SCRIPT = """\
import sys
del sys.path[0]
import importlib.util, os
folder = sys.argv[1]
name = os.path.basename(folder)
spec = importlib.util.spec_from_file_location(name, os.path.join(folder, "__init__.py"),
                                              submodule_search_locations=[folder])
module = importlib.util.module_from_spec(spec)
sys.modules[name] = module
spec.loader.exec_module(module)
print(" ".join(module.warm(*([sys.argv[2].split(",")] if len(sys.argv) > 2 else []))))
"""


def warm_package(path, dtypes=None) -> float | None:
    """Compile every CPU kernel of the generated package at ``path`` into Numba's cache, for this machine.

    Runs the package's ``warm()`` (every CPU entry point once, tiny inputs, float64 and float32 or the
    ``dtypes`` given, one and many channels, both per-step Delta forms) in a child Python process, so
    this process loads neither Numba nor the package; Numba writes the compiled kernels to
    ``__pycache__`` beside the package's files (or to ``NUMBA_CACHE_DIR`` if set), and a later process
    loads them at first use instead of compiling.
    Prints one progress line on stderr (unless quiet). Returns the seconds it took, or None when the child
    failed: the package is written and usable either way (it then compiles at first use), so a failure is
    a warning on stderr, not an error.
    """
    path = Path(path).resolve()
    if not progress.is_quiet():
        print(f"symderive: compiling the CPU kernels of {path.name} for this machine (Numba cache; "
              "10 s or more; --no-warm skips it) ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    argv = [sys.executable, "-c", _WARM_SCRIPT, str(path)] + ([",".join(dtypes)] if dtypes else [])
    proc = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        print(f"symderive: warning: compiling {path.name}'s kernels in advance failed (exit {proc.returncode}: "
              f"{lines[-1] if lines else 'no output'}); the package is written and compiles at first use",
              file=sys.stderr, flush=True)
        return None
    if not progress.is_quiet():
        print(f"symderive: compiled the CPU kernels of {path.name} in {seconds:.1f} s", file=sys.stderr, flush=True)
    return seconds


def import_package(folder, name: str, spec_hash: str | None = None):
    """Import the generated package ``folder/name``.

    A module of that name already imported is reused only if it was loaded from ``folder`` and its
    ``METADATA["spec_hash"]`` equals ``spec_hash``; otherwise it (and its submodules) is dropped from
    ``sys.modules`` first, so a caller never gets a stale package of the same name.
    """
    folder = str(Path(folder).resolve())
    loaded = sys.modules.get(name)
    if loaded is not None:
        same = spec_hash is not None and getattr(loaded, "METADATA", {}).get("spec_hash") == spec_hash
        if same and str(Path(loaded.__file__).resolve().parent.parent) == folder:
            return loaded
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]
    sys.path.insert(0, folder)
    try:
        importlib.invalidate_caches()
        return importlib.import_module(name)
    finally:
        sys.path.remove(folder)
