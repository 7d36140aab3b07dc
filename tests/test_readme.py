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
