"""``generated/`` must be exactly what ``scripts/derive_and_export.py`` writes today."""

import difflib
import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_IGNORED_SUFFIXES = (".pyc", ".nbi", ".nbc")
REGENERATE = "python scripts/derive_and_export.py"   # run from the repository root: rewrites generated/


def _load_script():
    spec = importlib.util.spec_from_file_location("derive_and_export", REPO / "scripts" / "derive_and_export.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tree(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(_IGNORED_SUFFIXES)}


def test_generated_packages_have_not_drifted(tmp_path):
    script = _load_script()
    assert script.main(["--out", str(tmp_path)]) == 0
    problems, drifted = [], []
    for name, *_ in script.PACKAGES:
        fresh, checked_in = _tree(tmp_path / name), _tree(REPO / "generated" / name)
        before = len(problems)
        for path in sorted(set(fresh) | set(checked_in)):
            if path not in checked_in:
                problems.append(f"{name}/{path}: missing from generated/")
            elif path not in fresh:
                problems.append(f"{name}/{path}: in generated/ but no longer generated")
            elif fresh[path] != checked_in[path]:
                diff = difflib.unified_diff(checked_in[path].splitlines(), fresh[path].splitlines(),
                                            f"generated/{name}/{path}", f"regenerated/{name}/{path}", lineterm="",
                                            n=1)
                problems.append("\n".join(list(diff)[:40]))
        if len(problems) > before:
            drifted.append(name)
    assert not problems, (
        f"generated/ has drifted from what the code writes today (packages: {', '.join(drifted)}). "
        f"Regenerate it from the repository root with\n\n    {REGENERATE}\n\n"
        f"(or only the drifted packages: {REGENERATE} --only {' '.join(drifted)}), "
        "then review and commit the diff of generated/. The differences:\n" + "\n".join(problems))
