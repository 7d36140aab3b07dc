"""The README's two set-up commands are the ones CI runs."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_first_lines_give_the_commands_ci_runs():
    readme = ROOT.joinpath("README.md").read_text().splitlines()
    ci = ROOT.joinpath(".ci", "run").read_text()
    install, test = readme[3], readme[4]
    assert install.startswith("python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]'")
    assert test == "python -m pytest -q"
    for part in install.split(" && ")[2:]:
        assert part in ci, part
    assert test in ci


def test_readme_python_example_runs():
    """The README's Python block is executed as written (our own documentation, not user input)."""
    import re

    text = ROOT.joinpath("README.md").read_text()
    block = re.search(r"## Python\n\n```python\n(.*?)```", text, re.S).group(1)
    namespace = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["pair"].route == "exact-linear-algebra"
    assert namespace["A_t"].shape == (8, 8)


def test_readme_verify_and_export_commands_run(tmp_path, monkeypatch, capsys):
    """Every ``symderive`` / ``python -c`` line of the README's verification and export sections runs."""
    import re
    import shlex
    import subprocess
    import sys

    from symderive.cli import main

    text = ROOT.joinpath("README.md").read_text()
    section = text[text.index("## Verification"):text.index("## Layout")]
    lines = [line for block in re.findall(r"```bash\n(.*?)```", section, re.S) for line in block.splitlines()]
    assert sum(line.startswith("symderive ") for line in lines) >= 4
    monkeypatch.chdir(tmp_path)
    for line in lines:
        if line.startswith("symderive "):
            assert main(shlex.split(line)[1:]) == 0, line
            capsys.readouterr()
        elif line.startswith("python -c "):
            code = shlex.split(line)[2]
            result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                                    timeout=300)
            assert result.returncode == 0, result.stderr
    assert (tmp_path / "legt_lmu.json").is_file() and (tmp_path / "legs64" / "__init__.py").is_file()
