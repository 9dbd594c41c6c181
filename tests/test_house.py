"""House rules a newcomer relies on (issue 18), read with ast.

- no function over a screen (60 lines, its docstring excluded) in the package, scripts/ or
  benchmarks/;
- no module of the package over 400 lines;
- no private doors between rooms: no module uses an underscore name of another module of the
  package (``from .x import _y``, ``x._y``, ``nst_teach.x._y``);
- no script loaded by its file path: tests and scripts import modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "nst_teach"
LIMIT = 60  # lines of a function's body, its docstring excluded
MODULE_LIMIT = 400  # lines of a module of the package
CODE = [PACKAGE, ROOT / "scripts", ROOT / "benchmarks"]
BY_PATH = "spec_from_" + "file_location"  # split, so that this file does not name it


def python_files(*folders: Path) -> list[Path]:
    return sorted(p for folder in folders for p in folder.rglob("*.py") if ".venv" not in p.parts)


def body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from the first statement after the docstring to the function's end."""
    body = node.body
    first_value = getattr(body[0], "value", None)
    has_doc = isinstance(first_value, ast.Constant) and isinstance(first_value.value, str)
    if has_doc and len(body) == 1:
        return 0
    first = body[1] if has_doc else body[0]
    start = min([first.lineno] + [d.lineno for d in getattr(first, "decorator_list", [])])
    return node.end_lineno - start + 1


def long_functions(source: str, limit: int = LIMIT) -> list[tuple[str, int]]:
    tree = ast.parse(source)
    return [(n.name, body_lines(n)) for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and body_lines(n) > limit]


def is_private(name: str) -> bool:
    """_name is private; __dunder__ names (__version__, __file__) are not."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def package_aliases(tree: ast.Module) -> tuple[set[str], list[str]]:
    """Names bound to the package's modules and objects; and the private names imported."""
    aliases, private = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            ours = node.level > 0 or (node.module or "").split(".")[0] == "nst_teach"
            if not ours:
                continue
            if any(is_private(part) for part in (node.module or "").split(".")):
                private.append(f"from {'.' * node.level}{node.module} import ...")
            for alias in node.names:
                if is_private(alias.name):
                    where = f"{'.' * node.level}{node.module or ''}"
                    private.append(f"from {where} import {alias.name}")
                aliases.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "nst_teach":
                    aliases.add(alias.asname or alias.name.split(".")[0])
    return aliases, private


def private_doors(source: str) -> list[str]:
    """Every use of an underscore name of another module of the package in `source`."""
    tree = ast.parse(source)
    aliases, found = package_aliases(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        chain, base = [node.attr], node.value
        while isinstance(base, ast.Attribute):
            chain.append(base.attr)
            base = base.value
        if isinstance(base, ast.Name) and base.id in aliases and is_private(node.attr):
            found.append(".".join([base.id, *reversed(chain)]))
    return found


def test_the_counter_excludes_the_docstring_and_counts_the_rest():
    source = 'def f():\n    """doc\n    more doc\n    """\n    a = 1\n    return a\n'
    assert body_lines(ast.parse(source).body[0]) == 2
    assert long_functions(source, limit=1) == [("f", 2)] and long_functions(source, limit=2) == []


def test_the_door_finder_on_hand_written_cases():
    source = ("from . import optimize\nfrom .settings import _whole, Settings\n"
              "import nst_teach as nt\nimport torch\n"
              "a = optimize._clip(1)\nb = nt.transfer._resize(2)\nc = torch._C\n"
              "d = Settings.__name__\ne = self._own\nf = Settings.manifest\n")
    assert sorted(private_doors(source)) == sorted([
        "from .settings import _whole", "optimize._clip", "nt.transfer._resize"])
    assert private_doors("from nst_teach._data import x\n") == ["from nst_teach._data import ..."]


def test_no_function_runs_past_a_screen():
    too_long = [f"{path.relative_to(ROOT)}: {name} has {n} lines"
                for path in python_files(*CODE) for name, n in long_functions(path.read_text())]
    assert not too_long, f"functions over {LIMIT} lines: {too_long}"


def test_no_module_of_the_package_is_over_400_lines():
    sizes = {path: len(path.read_text().splitlines()) for path in python_files(PACKAGE)}
    too_big = [f"{path.relative_to(ROOT)}: {n} lines" for path, n in sizes.items()
               if n > MODULE_LIMIT]
    assert not too_big, f"modules over {MODULE_LIMIT} lines (split them by idea): {too_big}"


def test_no_module_uses_another_modules_private_names():
    doors = [f"{path.relative_to(ROOT)}: {door}"
             for path in python_files(*CODE) for door in private_doors(path.read_text())]
    assert not doors, f"underscore names used across modules (make them public or move): {doors}"


def test_tests_and_scripts_import_modules_instead_of_loading_files():
    loaded = [str(path.relative_to(ROOT)) for path in python_files(ROOT / "tests", ROOT / "scripts")
              if BY_PATH in path.read_text()]
    assert not loaded, f"{loaded} load a file by its path: import the module instead"
