"""Write student copies of the notebooks, without solution cells or outputs: `make student`.

Usage: python scripts/make_student.py notebooks student
Each exercise cell (tagged "exercise") keeps its stub, whose body raises NotImplementedError; the
checker cell after it then reports "not solved yet", so a copy runs top to bottom without a crash.
The copies sit one folder below the repository root, like notebooks/, so relative paths still work.
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

import nbformat

NBVAL_COMMENT = re.compile(r"^# NBVAL_\w+[ \t]*(\n|$)", re.MULTILINE)  # test markers mean nothing to students


def tags(cell) -> set[str]:
    """The cell's tags (metadata.tags), as a set."""
    return set(cell.get("metadata", {}).get("tags", []))


def check_exercises(nb, name: str = "notebook") -> None:
    """Raise ValueError unless every solution cell directly follows an exercise cell."""
    for i, cell in enumerate(nb.cells):
        if "solution" in tags(cell) and (i == 0 or "exercise" not in tags(nb.cells[i - 1])):
            raise ValueError(f"{name}: cell {i} is tagged 'solution' but does not follow an 'exercise' cell")


def student_copy(nb, name: str = "notebook"):
    """An instructor notebook -> a student copy: solution cells dropped, outputs and counts cleared."""
    check_exercises(nb, name)
    student = copy.deepcopy(nb)
    student.metadata.pop("widgets", None)
    student.cells = []
    for cell in nb.cells:
        if "solution" in tags(cell):
            continue
        cell = copy.deepcopy(cell)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.source = NBVAL_COMMENT.sub("", cell.source)
        student.cells.append(cell)
    return student


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    source, target = Path(argv[0]), Path(argv[1])
    paths = sorted(source.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        print(f"no notebooks named NN_topic.ipynb in {source}", file=sys.stderr)
        return 1
    target.mkdir(parents=True, exist_ok=True)
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        student = student_copy(nb, path.name)
        nbformat.validate(student)
        nbformat.write(student, target / path.name)
        dropped = len(nb.cells) - len(student.cells)
        print(f"{target / path.name}: {dropped} solution cells removed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
