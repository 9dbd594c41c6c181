"""Properties of every committed notebook (executed in order, clean, light) and of the student
copies.

One source, two editions: notebooks/ is the lecturer's (each exercise cell holds its solution
between nbgrader's markers); scripts/editions.py writes the students' (stubs instead).

Committed notebooks are executed by scripts/execute_notebooks.py; nbval (``make test``) re-runs
them.
These tests read the files as they are, so they also cover notebooks added later.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MAX_TOTAL_BYTES = 15 * 1024 * 1024
# Slide titles of the lecture deck (the seed text); the first cell of a notebook names some of them.
DECK_SLIDES = (
    "Neural Style Transfer", "Example", "A Neural Algorithm of Artistic Style", "Terminology",
    "Algorithm", "Weights to Update", "Loss function", "Content Loss", "Style Loss", "Gram",
    "Correlation Matrix", "Equations", "Covariance metric", "Correlation metric",
    "Flatten 3D feature maps into a 2D map",
)
SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}
ABSOLUTE_PATH = re.compile(r"(/work/|/tmp/|/root/|/home/|/Users/|\b[A-Za-z]:\\)")
BINARY_MIME = ("image/png", "image/jpeg", "image/gif")  # base64: '/tmp/' can occur by chance
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"  # nbgrader's markers
CHECKER = re.compile(r"\bexercises\.check_\w+\(")
STUB = 'raise NotImplementedError("Exercise {k}: replace this line with your code")'


def ids(paths):
    return [p.name for p in paths]


def read(path: Path):
    return nbformat.read(path, as_version=4)


def tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def bound_names(source: str) -> set[str]:
    """Names a cell binds in the notebook's namespace (def, class, =, for, with, import, except)."""
    names: set[str] = set()
    local_scopes = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(child.name)  # what its body binds is its own
            elif isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                names.add(child.id)
            elif isinstance(child, ast.alias):
                names.add((child.asname or child.name).split(".")[0])
            elif not isinstance(child, local_scopes):
                if isinstance(child, ast.ExceptHandler) and child.name:
                    names.add(child.name)
                visit(child)

    visit(ast.parse(source))
    return names


def output_texts(nb):
    """Every piece of text a reader sees in the outputs, plus the notebook's metadata."""
    yield json.dumps(nb.metadata)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                yield output.text
            elif output.output_type == "error":
                yield "\n".join(output.traceback)
            else:
                for mime, data in output.get("data", {}).items():
                    if mime not in BINARY_MIME:
                        yield data if isinstance(data, str) else json.dumps(data)


def test_notebooks_are_numbered_lecture_steps():
    names = ids(NOTEBOOKS)
    assert {"01_covariance.ipynb", "02_correlation.ipynb", "03_gram_matrix.ipynb"} <= set(names)
    for name in names:
        assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", name), f"{name}: name it NN_topic.ipynb"
    numbers = [name[:2] for name in names]
    assert len(set(numbers)) == len(numbers), f"two notebooks share a number: {names}"


def test_all_notebooks_together_are_small():
    total = sum(p.stat().st_size for p in NOTEBOOKS)
    assert total < MAX_TOTAL_BYTES, (
        f"notebooks/ holds {total / 1e6:.1f} MB; use smaller figures or dpi"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
class TestCommittedNotebook:
    def test_valid_nbformat_and_python3_kernel(self, path):
        nb = read(path)
        nbformat.validate(nb)
        assert nb.metadata.kernelspec.name == "python3"

    def test_executed_top_to_bottom(self, path):
        counts = [
            c.execution_count for c in read(path).cells
            if c.cell_type == "code" and c.source.strip()
        ]
        assert counts == list(range(1, len(counts) + 1)), (
            f"{path.name}: execution counts {counts}; run scripts/execute_notebooks.py {path.name}"
        )

    def test_no_error_outputs(self, path):
        for i, cell in enumerate(read(path).cells):
            errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
            assert not errors, f"{path.name} cell {i}: {errors[0].ename}: {errors[0].evalue}"

    def test_no_absolute_paths_of_the_machine(self, path):
        for text in output_texts(read(path)):
            match = ABSOLUTE_PATH.search(text)
            assert match is None, (
                f"{path.name}: output shows a path: "
                f"...{text[max(0, match.start() - 60):match.end() + 60]}..."
            )

    def test_starts_with_the_deck_slides_it_accompanies(self, path):
        first = read(path).cells[0]
        assert first.cell_type == "markdown", f"{path.name}: the first cell should be markdown"
        text = first.source.lower()
        assert "slide" in text, f"{path.name}: the first cell should name the deck's slides"
        assert any(title.lower() in text for title in DECK_SLIDES), (
            f"{path.name}: the first cell names none of the deck's slide titles {DECK_SLIDES}"
        )

    def test_every_exercise_is_one_cell_with_both_markers_then_its_checker(self, path):
        cells = read(path).cells
        exercises = [i for i, c in enumerate(cells) if "exercise" in tags(c)]
        assert len(exercises) >= 2, f"{path.name}: needs at least two cells tagged 'exercise'"
        assert not [c for c in cells if "solution" in tags(c)], f"{path.name}: a solution cell"
        for i in exercises:
            lines = [line.strip() for line in cells[i].source.splitlines()]
            assert lines.count(BEGIN) == 1 and lines.count(END) == 1, (
                f"{path.name} cell {i}: needs one '{BEGIN}' and one '{END}' line")
            assert lines.index(BEGIN) + 1 < lines.index(END), f"{path.name} cell {i}: no solution"
            checker = cells[i + 1] if i + 1 < len(cells) else None
            follows = checker is not None and checker.cell_type == "code"
            assert follows and CHECKER.search(checker.source), (
                f"{path.name}: exercise cell {i} is not followed by its checker cell"
            )
        markers = sum(BEGIN in c.source for c in cells)
        assert markers == len(exercises), f"{path.name}: markers outside the exercise cells"

    def test_no_other_cell_rebinds_an_exercise_answer(self, path):
        """Run All cannot overwrite a student's answer: only the exercise cell binds its name."""
        cells = read(path).cells
        code = [(i, c) for i, c in enumerate(cells) if c.cell_type == "code"]
        for i in (i for i, c in code if "exercise" in tags(c)):
            (name,) = bound_names(cells[i].source)  # the exercise cell defines one function
            rebinding = [j for j, c in code if j != i and name in bound_names(c.source)]
            assert not rebinding, f"{path.name}: cells {rebinding} rebind {name!r}"

    def test_last_code_cell_says_which_exercises_are_open(self, path):
        code = [c for c in read(path).cells if c.cell_type == "code"]
        assert re.search(rf'exercises\.core\.progress\("{path.name[:2]}"\)', code[-1].source), (
            f"{path.name}: the last code cell should be exercises.core.progress({path.name[:2]!r})")

    def test_every_cell_has_slide_metadata(self, path):
        cells = read(path).cells
        for i, cell in enumerate(cells):
            slide_type = cell.metadata.get("slideshow", {}).get("slide_type")
            assert slide_type in SLIDE_TYPES, (
                f"{path.name} cell {i}: slideshow.slide_type is {slide_type!r}"
            )
        assert cells[0].metadata.slideshow.slide_type == "slide", (
            f"{path.name}: the title cell opens a slide"
        )


# ---------------------------------------------------------------- student copies


def load_editions():
    from nst_teach.course import editions as module
    return module


editions = load_editions()


def student_by_hand(source: str, k: int) -> str:
    """The stub a student should see, written out here: the marked region -> one raise line."""
    lines = source.split("\n")
    begin = next(i for i, line in enumerate(lines) if line.strip() == BEGIN)
    end = next(i for i, line in enumerate(lines) if line.strip() == END)
    indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
    return "\n".join(lines[:begin] + [indent + STUB.format(k=k)] + lines[end + 1:])


def solution_region(source: str) -> list[str]:
    lines = [line.strip() for line in source.splitlines()]
    return [line for line in lines[lines.index(BEGIN) + 1:lines.index(END)] if line]


def without_nbval(source: str) -> str:
    lines = source.splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith("# NBVAL_"))


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    target = tmp_path_factory.mktemp("student")
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "editions.py"), "student",
         str(ROOT / "notebooks"), str(target)],
        check=True, capture_output=True, text=True,
    )
    return target


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_student_copy_has_stubs_no_solution_and_no_outputs(student_dir, path):
    teacher, student = read(path), read(student_dir / path.name)
    nbformat.validate(student)
    assert [c.get("id") for c in student.cells] == [c.get("id") for c in teacher.cells]
    k = 0
    for mine, theirs in zip(teacher.cells, student.cells, strict=True):
        assert theirs.metadata.get("slideshow") == mine.metadata.get("slideshow")
        if "exercise" in tags(mine):
            k += 1
            assert theirs.source == student_by_hand(mine.source, k)
            shown = {line.strip() for line in theirs.source.splitlines()}
            assert not set(solution_region(mine.source)) & shown
        elif mine.cell_type == "code":
            assert theirs.source == without_nbval(mine.source)
        else:
            assert theirs.source == mine.source
    # and no solution line survives anywhere, unless the lesson itself has it outside the solutions
    exercises = [c for c in teacher.cells if "exercise" in tags(c)]
    others = [c for c in teacher.cells if "exercise" not in tags(c)]
    regions = {line for c in exercises for line in solution_region(c.source)}
    lesson = {line.strip() for c in others for line in c.source.splitlines()}
    shown = {line.strip() for c in student.cells for line in c.source.splitlines()}
    left = shown & (regions - lesson)
    assert not left, f"{path.name}: solution lines in the student copy: {sorted(left)}"
    code = [c for c in student.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert not any("NBVAL" in c.source or "SOLUTION" in c.source for c in code)


def outputs_text(cell) -> str:
    return "".join(o.get("data", {}).get("text/plain", "") + o.get("text", "") + o.get("evalue", "")
                   for o in cell.outputs)


def test_run_all_on_a_student_copy_keeps_the_students_answers(student_dir, monkeypatch):
    """Run All in fast mode: no error; a wrong answer is checked as written, stubs stay stubs."""
    from nbclient import NotebookClient

    monkeypatch.setenv("NST_TEACH_FAST", "1")
    monkeypatch.setenv("NST_TEACH_OFFLINE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = read(student_dir / NOTEBOOKS[0].name)
    exercises = [i for i, c in enumerate(nb.cells) if "exercise" in tags(c)]
    first = nb.cells[exercises[0]]
    first.source = first.source.replace(  # a student's answer with the classic mistake
        STUB.format(k=1), "return ((x - x.mean()) * (y - y.mean())).sum() / len(x)")
    sources = [c.source for c in nb.cells]
    nb.cells.append(nbformat.v4.new_code_cell(  # after Run All: which functions are defined now?
        "import torch\n"
        "x = torch.tensor([1., 2., 3.])\n"
        "print('first:', float(covariance_by_hand(x, x)))\n"
        "for stub in (covariance_matrix, data_with_covariance):\n"
        "    try:\n"
        "        stub(torch.ones(2, 3), torch.eye(2))\n"
        "    except TypeError:\n"
        "        stub(torch.ones(2, 3))\n"))
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(student_dir)}})
    client.execute()
    cells = nb.cells
    errors = [(i, o.ename) for i, c in enumerate(cells[:-1]) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert not errors, f"Run All stopped with errors: {errors}"
    assert [c.source for c in cells[:-1]] == sources
    verdicts = [outputs_text(cells[i + 1]) for i in exercises]
    assert "not yet" in verdicts[0] and "divided by n instead of n - 1" in verdicts[0]
    assert all("not solved yet" in v for v in verdicts[1:])
    progress = outputs_text([c for c in cells[:-1] if c.cell_type == "code"][-1])
    assert progress.startswith("📝 Notebook 01: 0 of 3 exercises solved, still open: 01.1, 01.2,")
    # the student's function, not a solution: 2/3 (divided by n), not 1.0; the stubs still raise
    last = cells[-1].outputs
    assert "first: 0.666" in outputs_text(cells[-1]) and last[-1].ename == "NotImplementedError"
    assert "Exercise 2: replace this line" in last[-1].evalue


def test_write_students_keeps_a_students_copy_unless_forced(tmp_path, capsys):
    target = tmp_path / "student"
    assert editions.write_students(ROOT / "notebooks", target) == 0
    mine = target / NOTEBOOKS[0].name
    nb = read(mine)
    nb.cells[0].source = "my notes"
    nbformat.write(nb, mine)
    assert editions.write_students(ROOT / "notebooks", target) == 0
    assert read(mine).cells[0].source == "my notes"
    assert "left as they are" in capsys.readouterr().out
    assert editions.write_students(ROOT / "notebooks", target, force=True) == 0
    assert read(mine).cells[0].source == read(NOTEBOOKS[0]).cells[0].source


def test_an_exercise_without_its_markers_or_checker_is_refused():
    nb = nbformat.v4.new_notebook()
    stub = nbformat.v4.new_code_cell("def f(x):\n    return x", metadata={"tags": ["exercise"]})
    checker = nbformat.v4.new_code_cell("exercises.check_f(f)")
    nb.cells = [nbformat.v4.new_markdown_cell("# 99"), stub, checker]
    with pytest.raises(ValueError, match="one '### BEGIN SOLUTION' line"):
        editions.student_copy(nb, "99_test.ipynb")
    stub.source = f"def f(x):\n    {BEGIN}\n    return x\n    {END}"
    checker.source = "print(f(1))"
    with pytest.raises(ValueError, match="the next cell must be its checker"):
        editions.student_copy(nb, "99_test.ipynb")


def test_student_copy_strips_nbval_markers_only():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(1)  # NBVAL_ is a word here")
    ]
    assert editions.student_copy(nb).cells[0].source == "print(1)  # NBVAL_ is a word here"


def test_merge_joins_stub_and_solution_and_both_editions_come_back():
    """The one-off merge: the former stub and solution cells are recovered from the merged cell."""
    stub = "def f(x):\n    # doubles x\n    " + STUB.format(k=1)
    solution = "def f(x):\n    # doubles x\n    y = 2 * x\n    return y"
    nb = nbformat.v4.new_notebook()
    new = nbformat.v4.new_code_cell
    nb.cells = [new(stub, metadata={"tags": ["exercise"]}, execution_count=1),
                new(solution, metadata={"tags": ["solution"]}, execution_count=2),
                new("exercises.check_f(f)", execution_count=3)]
    assert editions.merge(nb) == 1
    merged = nb.cells[0].source
    assert merged.split("\n") == ["def f(x):", "    # doubles x", f"    {BEGIN}", "    y = 2 * x",
                                  "    return y", f"    {END}"]
    assert editions.student_source(merged, 1) == stub == student_by_hand(merged, 1)
    assert editions.solution_source(merged) == solution
    assert [c.execution_count for c in nb.cells] == [1, 2]


def test_makefile_targets_for_students_lecturers_and_graders():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lab: .*student", makefile, flags=re.M) and "jupyter lab student" in makefile
    assert re.search(r"^lab-lecturer:", makefile, flags=re.M) and "lab notebooks" in makefile
    assert "scripts/editions.py student" in makefile and "FORCE" in makefile
    assert "scripts/make_nbgrader.py" in makefile
    assert "--nbval-sanitize-with" in makefile  # nbval's old name is deprecated
    assert not re.search(r"(?<!nbval)-sanitize-with", makefile)
