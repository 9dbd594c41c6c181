"""`make nbgrader`: the course directory goes through nbgrader itself, offline, in a tmp folder.

nbgrader generate_assignment releases notebook 01; two students submit (one right everywhere, one
with n instead of n - 1 in exercise 1 and exercise 3 left alone); nbgrader autograde grades them;
the gradebook and the autograded notebooks are read back. About 40 s on two cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytest.importorskip(
    "nbgrader", reason="nbgrader is in the grading extra: pip install -e '.[grading]'"
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ASSIGNMENT = "01_covariance"
WRONG_N = ("/ (n - 1)", "/ n")  # the typical mistake the checker of 01.1 names


from nst_teach.course import editions  # noqa: E402
from nst_teach.course import nbgrader as make_nbgrader  # noqa: E402

# Chromium or nbgrader end to end: make test runs it, make unit leaves it out
pytestmark = pytest.mark.slow


def nbgrader(course: Path, *args: str) -> str:
    """Run the nbgrader command line in the course directory; its bin/ (alembic) on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "NST_TEACH_FAST": "1",
        "NST_TEACH_OFFLINE": "1",
        "MPLBACKEND": "Agg",
    }
    done = subprocess.run(
        [os.path.join(bin_dir, "nbgrader"), *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def lecturer_exercises() -> dict[str, str]:
    """grade_id of each exercise cell -> the lecturer's cell, markers and solution included."""
    nb = nbformat.read(ROOT / "notebooks" / f"{ASSIGNMENT}.ipynb", as_version=4)
    cells = [c for c in nb.cells if "exercise" in c.metadata.get("tags", [])]
    return {f"exercise_01_{k}": c.source for k, c in enumerate(cells, start=1)}


def submit(course: Path, student: str, answers: dict[str, str]) -> None:
    """Copy the released notebook to submitted/<student>/, with answers for some solution cells."""
    nb = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    for cell in nb.cells:
        if meta(cell).get("solution") and meta(cell)["grade_id"] in answers:
            cell.source = answers[meta(cell)["grade_id"]]
    target = course / "submitted" / student / ASSIGNMENT
    target.mkdir(parents=True)
    nbformat.write(nb, target / f"{ASSIGNMENT}.ipynb")


def test_write_course_gives_valid_nbgrader_cells(tmp_path):
    from nbgrader.nbgraderformat import MetadataValidator

    written = make_nbgrader.write_course(NOTEBOOKS, tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        f"source/{p.stem}/{p.name}" for p in NOTEBOOKS
    ]
    assert "ClearSolutions.code_stub" in (tmp_path / "nbgrader_config.py").read_text()
    for path in written:
        nb = nbformat.read(path, as_version=4)
        MetadataValidator().validate_nb(nb)
        cells = nb.cells
        assert all(meta(c).get("schema_version") == 3 for c in cells), path.name
        solutions = [i for i, c in enumerate(cells) if meta(c)["solution"]]
        tests = [i for i, c in enumerate(cells) if meta(c)["grade"]]
        assert solutions and tests == [i + 1 for i in solutions], path.name
        for i in solutions:
            assert "### BEGIN SOLUTION" in cells[i].source and not meta(cells[i])["locked"]
            assert "exercise" in cells[i].metadata["tags"]
        for i in tests:
            test = cells[i]
            assert meta(test)["locked"] and meta(test)["points"] == 1
            assert test.source.splitlines()[-1].startswith("exercises.check_")
            assert test.source.rstrip().endswith(").require()") and "NBVAL" not in test.source
        others = [c for i, c in enumerate(cells) if i not in solutions + tests]
        assert all(meta(c)["locked"] and not meta(c)["grade"] for c in others), path.name
        assert all(not c.outputs for c in cells if c.cell_type == "code"), path.name


def test_a_checker_cell_of_more_than_one_call_is_refused():
    with pytest.raises(ValueError, match="must be one call"):
        make_nbgrader.autograded_source("x = 1\nexercises.check_f(f)", "99 cell 3")


def test_generate_and_autograde_a_right_and_a_wrong_submission(tmp_path):
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    make_nbgrader.write_course([ROOT / "notebooks" / f"{ASSIGNMENT}.ipynb"], course)
    nbgrader(course, "generate_assignment", ASSIGNMENT)
    released = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    exercises = lecturer_exercises()
    solutions = {
        grade_id: editions.solution_source(source) for grade_id, source in exercises.items()
    }
    for cell in released.cells:
        assert "BEGIN SOLUTION" not in cell.source
        if meta(cell).get("solution"):  # nbgrader removed every line of the solution region
            region = editions.solution_lines(exercises[meta(cell)["grade_id"]])
            assert "raise NotImplementedError" in cell.source
            assert not set(region) & set(cell.source.splitlines())

    wrong = solutions["exercise_01_1"].replace(*WRONG_N)
    assert wrong != solutions["exercise_01_1"]
    submit(course, "alice", solutions)
    submit(course, "bob", {"exercise_01_1": wrong, "exercise_01_2": solutions["exercise_01_2"]})
    nbgrader(course, "autograde", ASSIGNMENT)

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        alice = gradebook.find_submission(ASSIGNMENT, "alice")
        bob = gradebook.find_submission(ASSIGNMENT, "bob")
        assert (alice.score, alice.max_score) == (3, 3)
        assert (bob.score, bob.max_score) == (1, 3)
        scores = {
            k: gradebook.find_grade(f"check_01_{k}", ASSIGNMENT, ASSIGNMENT, "bob").score
            for k in (1, 2, 3)
        }
        assert scores == {1: 0, 2: 1, 3: 0}

    graded = nbformat.read(
        course / "autograded" / "bob" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4
    )
    feedback = {
        meta(c)["grade_id"]: "\n".join(o.get("evalue", "") for o in c.outputs)
        for c in graded.cells
        if meta(c).get("grade")
    }
    assert "divided by n instead of n - 1" in feedback["check_01_1"]
    assert "Exercise 01.1 (covariance_by_hand) not yet" in feedback["check_01_1"]
    assert feedback["check_01_2"] == ""
    assert "Exercise 01.3 (data_with_covariance) not solved yet" in feedback["check_01_3"]
