"""House rules a newcomer relies on: short functions in the package, read with ast."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "nst_teach"
LIMIT = 60  # lines of a function's body, its docstring excluded


def body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from the first statement after the docstring to the function's end."""
    body = node.body
    has_doc = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)
    if has_doc and len(body) == 1:
        return 0
    first = body[1] if has_doc else body[0]
    start = min([first.lineno] + [d.lineno for d in getattr(first, "decorator_list", [])])
    return node.end_lineno - start + 1


def long_functions(source: str, limit: int = LIMIT) -> list[tuple[str, int]]:
    tree = ast.parse(source)
    return [(n.name, body_lines(n)) for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and body_lines(n) > limit]


def test_the_counter_excludes_the_docstring_and_counts_the_rest():
    source = 'def f():\n    """doc\n    more doc\n    """\n    a = 1\n    return a\n'
    assert body_lines(ast.parse(source).body[0]) == 2
    assert long_functions(source, limit=1) == [("f", 2)] and long_functions(source, limit=2) == []


def test_no_function_in_the_package_runs_past_a_screen():
    too_long = [f"{path.relative_to(PACKAGE.parent)}: {name} has {n} lines"
                for path in sorted(PACKAGE.rglob("*.py")) for name, n in long_functions(path.read_text())]
    assert not too_long, f"functions over {LIMIT} lines: {too_long}"
