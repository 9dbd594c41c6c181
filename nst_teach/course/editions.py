"""Two editions from one source: the lecturer's notebooks/, the students' copies (`make student`).

Usage: python scripts/editions.py student [--force] notebooks student
       python scripts/editions.py merge notebooks/*.ipynb
(scripts/editions.py is a thin entry point to this module, nst_teach.course.editions).

Each exercise is one code cell tagged "exercise": the stub's signature and comments, then the
solution between `### BEGIN SOLUTION` and `### END SOLUTION` lines (nbgrader's markers), followed
directly by its checker cell (`exercises.check_x(x)`). notebooks/ is the lecturer's edition
(solutions in place). The student edition replaces each solution region with
`raise NotImplementedError("Exercise k: ...")`, so its checker says "not solved yet" and the copy
runs top to bottom. `student` never overwrites a copy that exists (a student's work) unless
--force. `merge` turned the former layout (a stub cell, then a "solution" cell) into this one once.
The copies sit one folder below the repository root, like notebooks/, so relative paths still work.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = 'raise NotImplementedError("Exercise {k}: replace this line with your code")'
# nbval's test markers mean nothing to students
NBVAL_COMMENT = re.compile(r"^# NBVAL_\w+[ \t]*(\n|$)", re.MULTILINE)
CHECKER = re.compile(r"\bexercises\.check(_\w+)?\(")


def tags(cell) -> set[str]:
    """The cell's tags (metadata.tags), as a set."""
    return set(cell.get("metadata", {}).get("tags", []))


def split_exercise(
    source: str, where: str = "exercise cell"
) -> tuple[list[str], str, list[str], list[str]]:
    """An exercise's source -> (lines before BEGIN, its indentation, solution, lines after END)."""
    lines = source.split("\n")
    begins = [i for i, line in enumerate(lines) if line.strip() == BEGIN]
    ends = [i for i, line in enumerate(lines) if line.strip() == END]
    if len(begins) != 1 or len(ends) != 1 or begins[0] > ends[0]:
        raise ValueError(
            f"{where}: needs one '{BEGIN}' line, then one '{END}' line around the solution"
        )
    b, e = begins[0], ends[0]
    indent = lines[b][: len(lines[b]) - len(lines[b].lstrip())]
    return lines[:b], indent, lines[b + 1 : e], lines[e + 1 :]


def student_source(source: str, k: int, where: str = "exercise cell") -> str:
    """The student's stub: the solution region and markers -> one `raise NotImplementedError`."""
    head, indent, _, tail = split_exercise(source, where)
    return "\n".join(head + [indent + STUB.format(k=k)] + tail)


def solution_source(source: str, where: str = "exercise cell") -> str:
    """The lecturer's answer: the exercise cell without its two marker lines."""
    head, _, solution, tail = split_exercise(source, where)
    return "\n".join(head + solution + tail)


def solution_lines(source: str, where: str = "exercise cell") -> list[str]:
    """The lines between the markers, as written."""
    return split_exercise(source, where)[2]


def exercise_indices(nb, name: str = "notebook") -> list[int]:
    """Indices of the exercise cells; ValueError unless each has both markers and a checker next."""
    found = [i for i, cell in enumerate(nb.cells) if "exercise" in tags(cell)]
    for k, i in enumerate(found, start=1):
        cell = nb.cells[i]
        where = f"{name} cell {i} (exercise {k})"
        if cell.cell_type != "code":
            raise ValueError(f"{where}: an exercise cell must be a code cell")
        split_exercise(cell.source, where)
        following = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
        if (
            following is None
            or following.cell_type != "code"
            or not CHECKER.search(following.source)
        ):
            raise ValueError(
                f"{where}: the next cell must be its checker, `exercises.check_...(...)`"
            )
    return found


def clean_code_cell(cell):
    """A code cell as a student gets it: no outputs, no execution count, no nbval markers."""
    cell.outputs = []
    cell.execution_count = None
    cell.metadata.pop("execution", None)
    cell.source = NBVAL_COMMENT.sub("", cell.source)
    return cell


def student_copy(nb, name: str = "notebook"):
    """The lecturer's notebook -> the student's: solutions replaced by stubs, outputs cleared."""
    exercises = exercise_indices(nb, name)
    student = copy.deepcopy(nb)
    student.metadata.pop("widgets", None)
    for i, cell in enumerate(student.cells):
        if cell.cell_type != "code":
            continue
        clean_code_cell(cell)
        if i in exercises:
            k = exercises.index(i) + 1
            cell.source = student_source(cell.source, k, f"{name} cell {i}")
    return student


def write_students(source: Path, target: Path, force: bool = False) -> int:
    """Write target/NN_topic.ipynb for each notebook in source; keep existing ones unless force."""
    paths = sorted(source.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        print(f"no notebooks named NN_topic.ipynb in {source}", file=sys.stderr)
        return 1
    target.mkdir(parents=True, exist_ok=True)
    kept = []
    for path in paths:
        out = target / path.name
        if out.exists() and not force:
            kept.append(out)
            continue
        lecturer = nbformat.read(path, as_version=4)
        student = student_copy(lecturer, path.name)
        nbformat.validate(student)
        nbformat.write(student, out)
        print(f"{out}: written, {len(exercise_indices(lecturer, path.name))} exercises to solve")
    if kept:
        names = ", ".join(out.name for out in kept)
        print(
            f"{target}: {names} exist, left as they are (your work); "
            "`make student FORCE=1` rewrites them, and your answers in them are lost"
        )
    return 0


# ------------------------------------------------------------------ the one-off merge


def merge_sources(stub: str, solution: str, where: str) -> str:
    """A stub (lines + one `raise NotImplementedError`) and its solution -> one marked source."""
    stub_lines, solution_lines_ = stub.split("\n"), solution.split("\n")
    raises = [
        i
        for i, line in enumerate(stub_lines)
        if line.lstrip().startswith("raise NotImplementedError")
    ]
    if len(raises) != 1:
        raise ValueError(f"{where}: the stub needs exactly one `raise NotImplementedError` line")
    r = raises[0]
    head, tail = stub_lines[:r], stub_lines[r + 1 :]
    body_end = len(solution_lines_) - len(tail)
    if solution_lines_[: len(head)] != head or solution_lines_[body_end:] != tail:
        raise ValueError(
            f"{where}: the solution does not start and end with the stub's other lines"
        )
    indent = stub_lines[r][: len(stub_lines[r]) - len(stub_lines[r].lstrip())]
    body = solution_lines_[len(head) : body_end]
    return "\n".join(head + [indent + BEGIN] + body + [indent + END] + tail)


def merge(nb, name: str = "notebook") -> int:
    """Merge each stub cell with the "solution" cell after it, in place; return how many merged."""
    merged, cells, i = 0, [], 0
    while i < len(nb.cells):
        cell = nb.cells[i]
        following = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
        if "exercise" in tags(cell) and following is not None and "solution" in tags(following):
            cell.source = merge_sources(cell.source, following.source, f"{name} cell {i}")
            cell.outputs, cell.execution_count = following.outputs, following.execution_count
            if "execution" in following.metadata:
                cell.metadata["execution"] = following.metadata["execution"]
            merged, i = merged + 1, i + 1
        elif "solution" in tags(cell):
            raise ValueError(
                f"{name}: cell {i} is tagged 'solution' but does not follow an 'exercise' cell"
            )
        cells.append(cell)
        i += 1
    nb.cells = cells
    renumber(nb)
    return merged


def renumber(nb) -> None:
    """Execution counts 1, 2, ... in cell order (a merge leaves a gap), outputs' counts too."""
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.execution_count is None:
            continue
        count += 1
        cell.execution_count = count
        for output in cell.outputs:
            if "execution_count" in output:
                output.execution_count = count


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    student = commands.add_parser("student", help="write the student edition")
    student.add_argument("source", type=Path)
    student.add_argument("target", type=Path)
    student.add_argument(
        "--force", action="store_true", help="overwrite existing copies (a student's work)"
    )
    merging = commands.add_parser(
        "merge", help="merge stub + solution cells into one exercise cell, in place"
    )
    merging.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args(argv)
    if args.command == "student":
        return write_students(args.source, args.target, args.force)
    for path in args.paths:
        nb = nbformat.read(path, as_version=4)
        print(f"{path}: {merge(nb, path.name)} exercise cells merged")
        exercise_indices(nb, path.name)
        nbformat.validate(nb)
        nbformat.write(nb, path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
