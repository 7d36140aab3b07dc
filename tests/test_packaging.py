"""The packaging metadata ships every module and template (a non-editable install must export).

``scripts/check_wheel_install.sh`` (run by ``.ci/run``) builds the wheel and exports from a second
environment; these tests catch the usual cause of a broken wheel early: a new subpackage or template
folder that pyproject.toml does not list.
"""

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def setuptools_config():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_subpackage_is_listed(setuptools_config):
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "symderive").rglob("__init__.py")}
    listed = set(setuptools_config["packages"])
    assert found | {"symderive._templates"} == listed


def test_templates_map_to_the_top_level_folder(setuptools_config):
    assert setuptools_config["package-dir"]["symderive._templates"] == "templates"
    from symderive.codegen import render
    assert render.TEMPLATE_DIR.resolve() == (ROOT / "templates").resolve()


def test_package_data_globs_cover_every_template(setuptools_config):
    globs = setuptools_config["package-data"]["symderive._templates"]
    templates = ROOT / "templates"
    shipped = {p for pattern in globs for p in templates.glob(pattern)}
    files = {p for p in templates.rglob("*") if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts}
    assert files, "no template files found"
    assert files - shipped == set(), f"template files the wheel would not ship: {sorted(files - shipped)}"
