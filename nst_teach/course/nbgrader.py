"""Write an nbgrader course directory from the notebooks: `make nbgrader` (writes nbgrader/).

Usage: python scripts/make_nbgrader.py [--out nbgrader] [notebooks/01_covariance.ipynb ...]
(a thin entry point to this module, nst_teach.course.nbgrader).

One assignment per notebook, source/NN_topic/NN_topic.ipynb, outputs cleared. Each exercise cell
is an nbgrader solution cell (`nbgrader generate_assignment` replaces its `### BEGIN SOLUTION` /
`### END SOLUTION` region with a stub); its checker is an autograded test cell worth one point,
`exercises.check_x(x).require()`, which fails with the checker's own one-line feedback; every other
cell is locked (read-only). nbgrader_config.py is written once and then left to the course. Then,
inside the course directory, with the environment's bin/ on PATH (nbgrader runs `alembic`):

    nbgrader generate_assignment 01_covariance   # release/01_covariance/: the students' copy
    nbgrader autograde 01_covariance   # submitted/<student>/01_covariance/ -> gradebook.db

nbgrader is in the `grading` extra: `pip install -e '.[grading]'`.
"""

from __future__ import annotations

import argparse
import ast
import copy
import sys
from pathlib import Path

import nbformat

from . import editions

ROOT = Path(__file__).resolve().parents[2]  # the checkout's root
POINTS = 1  # per exercise
CONFIG = '''"""nbgrader settings of the nst-teach course (nst_teach.course.nbgrader)."""

import os

c = get_config()  # noqa: F821 (nbgrader defines it)
c.CourseDirectory.course_id = "nst-teach"
# What replaces a solution region: the checker then says "not solved yet", as in student/.
c.ClearSolutions.code_stub = {
    "python": 'raise NotImplementedError("replace this line with your code")',
}
c.Execute.timeout = 600  # seconds per cell
# The checkers use their own data, so grading runs the notebooks in the fast mode (small images,
# few evaluations) and offline (bundled images at once); the kernels inherit these variables.
os.environ.setdefault("NST_TEACH_FAST", "1")
os.environ.setdefault("NST_TEACH_OFFLINE", "1")
'''



def nbgrader_metadata(grade_id: str, solution=False, grade=False, locked=False) -> dict:
    """A cell's metadata.nbgrader, schema version 3; a graded cell is worth POINTS."""
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = POINTS
    return meta


def autograded_source(checker: str, where: str) -> str:
    """A checker cell's source (one call) -> the autograded test: the same call, then .require()."""
    call = editions.NBVAL_COMMENT.sub("", checker).strip()
    tree = ast.parse(call)
    if (
        len(tree.body) != 1
        or not isinstance(tree.body[0], ast.Expr)
        or not isinstance(tree.body[0].value, ast.Call)
    ):
        raise ValueError(
            f"{where}: a checker cell must be one call, `exercises.check_x(x)`, got {call!r}"
        )
    return f"# Autograded: fails with the checker's feedback unless solved.\n{call}.require()"


def course_notebook(nb, name: str):
    """A lecturer's notebook -> an nbgrader source notebook: solution, test and locked cells."""
    exercises = editions.exercise_indices(nb, name)
    number = name[:2]
    course = copy.deepcopy(nb)
    course.metadata.pop("widgets", None)
    for i, cell in enumerate(course.cells):
        if cell.cell_type == "code":
            editions.clean_code_cell(cell)
        if i in exercises:
            grade_id = f"exercise_{number}_{exercises.index(i) + 1}"
            cell.metadata["nbgrader"] = nbgrader_metadata(grade_id, solution=True)
        elif i - 1 in exercises:
            cell.source = autograded_source(cell.source, f"{name} cell {i}")
            grade_id = f"check_{number}_{exercises.index(i - 1) + 1}"
            cell.metadata["nbgrader"] = nbgrader_metadata(grade_id, grade=True, locked=True)
        else:
            cell.metadata["nbgrader"] = nbgrader_metadata(f"cell_{cell.id}", locked=True)
    return course


def validate(nb, name: str) -> None:
    """nbformat's and nbgrader's own validators (schema version 3); nbgrader must be installed."""
    try:
        from nbgrader.nbgraderformat import MetadataValidator
    except ImportError:
        raise SystemExit(
            "make_nbgrader: nbgrader is not installed: run `pip install -e '.[grading]'`"
        ) from None
    nbformat.validate(nb)
    try:
        MetadataValidator().validate_nb(nb)
    except Exception as error:  # nbgrader's ValidationError
        raise ValueError(f"{name}: {error}") from None


def write_course(notebooks, out: Path) -> list[Path]:
    """Write out/source/<NN_topic>/<NN_topic>.ipynb per notebook (and nbgrader_config.py once)."""
    out.mkdir(parents=True, exist_ok=True)
    config = out / "nbgrader_config.py"
    if not config.exists():
        config.write_text(CONFIG, encoding="utf-8")
    written = []
    for path in map(Path, notebooks):
        course = course_notebook(nbformat.read(path, as_version=4), path.name)
        validate(course, path.name)
        target = out / "source" / path.stem / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(course, target)
        written.append(target)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="default: every notebook in notebooks/")
    parser.add_argument(
        "--out", default=str(ROOT / "nbgrader"), help="course directory (default: nbgrader/)"
    )
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for target in write_course(notebooks, Path(args.out)):
        print(target)
    print(f"in {args.out}: `nbgrader generate_assignment NN_topic`, then `nbgrader autograde ...`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
