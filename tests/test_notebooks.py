"""Properties of every committed notebook (executed in order, clean, light) and of the student copies.

Committed notebooks are executed by scripts/execute_notebooks.py; nbval (``make test``) re-runs them.
These tests read the files as they are, so they also cover notebooks added later.
"""

from __future__ import annotations

import importlib.util
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


def ids(paths):
    return [p.name for p in paths]


def read(path: Path):
    return nbformat.read(path, as_version=4)


def tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


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
    assert total < MAX_TOTAL_BYTES, f"notebooks/ holds {total / 1e6:.1f} MB; use smaller figures or dpi"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
class TestCommittedNotebook:
    def test_valid_nbformat_and_python3_kernel(self, path):
        nb = read(path)
        nbformat.validate(nb)
        assert nb.metadata.kernelspec.name == "python3"

    def test_executed_top_to_bottom(self, path):
        counts = [c.execution_count for c in read(path).cells if c.cell_type == "code" and c.source.strip()]
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
            assert match is None, f"{path.name}: output shows a path: ...{text[max(0, match.start() - 60):match.end() + 60]}..."

    def test_starts_with_the_deck_slides_it_accompanies(self, path):
        first = read(path).cells[0]
        assert first.cell_type == "markdown", f"{path.name}: the first cell should be markdown"
        text = first.source.lower()
        assert "slide" in text, f"{path.name}: the first cell should name the deck's slides"
        assert any(title.lower() in text for title in DECK_SLIDES), (
            f"{path.name}: the first cell names none of the deck's slide titles {DECK_SLIDES}"
        )

    def test_every_exercise_is_followed_by_its_solution(self, path):
        cells = read(path).cells
        exercises = [i for i, c in enumerate(cells) if "exercise" in tags(c)]
        assert len(exercises) >= 2, f"{path.name}: needs at least two cells tagged 'exercise'"
        for i in exercises:
            assert i + 1 < len(cells) and "solution" in tags(cells[i + 1]), (
                f"{path.name}: exercise cell {i} is not followed by a cell tagged 'solution'"
            )
        solutions = [i for i, c in enumerate(cells) if "solution" in tags(c)]
        assert solutions == [i + 1 for i in exercises], f"{path.name}: a 'solution' cell without its exercise"

    def test_every_cell_has_slide_metadata(self, path):
        cells = read(path).cells
        for i, cell in enumerate(cells):
            slide_type = cell.metadata.get("slideshow", {}).get("slide_type")
            assert slide_type in SLIDE_TYPES, f"{path.name} cell {i}: slideshow.slide_type is {slide_type!r}"
        assert cells[0].metadata.slideshow.slide_type == "slide", f"{path.name}: the title cell opens a slide"


# ---------------------------------------------------------------- student copies


def load_make_student():
    spec = importlib.util.spec_from_file_location("make_student", ROOT / "scripts" / "make_student.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    target = tmp_path_factory.mktemp("student")
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_student.py"), str(ROOT / "notebooks"), str(target)],
        check=True, capture_output=True, text=True,
    )
    return target


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_student_copy_has_no_solutions_and_no_outputs(student_dir, path):
    teacher, student = read(path), read(student_dir / path.name)
    nbformat.validate(student)
    assert not [c for c in student.cells if "solution" in tags(c)]
    solutions = [c for c in teacher.cells if "solution" in tags(c)]
    assert len(student.cells) == len(teacher.cells) - len(solutions)
    for cell in solutions:  # not even a copy of the solution under another tag
        assert all(c.source != cell.source for c in student.cells)
    code = [c for c in student.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert not any("NBVAL" in c.source for c in code)
    assert [c.source for c in student.cells if "exercise" in tags(c)] == [
        c.source for c in teacher.cells if "exercise" in tags(c)
    ]


def test_student_copy_runs_to_the_end_with_friendly_messages(student_dir, monkeypatch):
    """The first student notebook runs in the fast mode; each checker says 'not solved yet'."""
    from nbclient import NotebookClient

    monkeypatch.setenv("NST_TEACH_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = read(student_dir / NOTEBOOKS[0].name)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(student_dir)}}).execute()
    cells = nb.cells
    first = next(i for i, c in enumerate(cells) if "exercise" in tags(c))
    after = [c for c in cells[first + 1:] if c.cell_type == "code"][0]
    shown = "".join(o.get("data", {}).get("text/plain", "") + o.get("text", "") for o in after.outputs)
    assert "not solved yet" in shown and "NotImplementedError" in shown
    assert not [o for c in cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]


def test_make_student_refuses_a_solution_without_its_exercise():
    make_student = load_make_student()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 99"), nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["solution"]})]
    with pytest.raises(ValueError, match="does not follow an 'exercise' cell"):
        make_student.student_copy(nb, "99_test.ipynb")


def test_make_student_strips_nbval_markers_only():
    make_student = load_make_student()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(1)  # NBVAL_ is a word here")]
    assert make_student.student_copy(nb).cells[0].source == "print(1)  # NBVAL_ is a word here"
