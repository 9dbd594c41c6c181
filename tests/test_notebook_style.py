"""Static checks of the committed notebooks (#14 parts 3, 4, 6): fast, nothing is executed.

THE CONTRACT, for whoever writes a notebook (each rule is one test below, run per notebook):

1. Code lines. No line of a code cell is longer than 100 characters (MAX_CODE_LINE); on a
   1280 x 720 slide about 108 characters of code fit.

2. The first cell (markdown) has these labelled sections, each label in bold at the start of
   its own line; a section runs to the next label (or the end of the cell):
       **What you will learn**
       - ...
       **Prerequisites**
       - notebook 01 (covariance); matrix products
       **Time:** 30 min teaching, 20 min exercises
       **Run time (full mode):** 84 s on a 2-core CPU (torch 2.5.1, 2026-11-30)
   - the colon may sit inside or outside the bold (`**Time:**` or `**Time**:`);
   - "What you will learn" and "Prerequisites" must not be empty ("none" is a fine answer);
   - Time gives minutes for both: "<N> min teaching" and "<M> min exercises";
   - the run-time line is written by `make execute` (scripts/execute_notebooks.py) after it runs
     the notebook in full mode: a new notebook may start with `**Run time (full mode):** TBD`,
     which fails here until the notebook has been executed once.

3. The last markdown cell has
       **Key points**
       - ...
       **References**
       - Gatys et al. (2015), [A Neural Algorithm ...](https://arxiv.org/abs/1508.06576)
   - Key points must not be empty; References holds at least one link (a markdown link or a URL);
   - every arXiv reference is a link to its abstract page, https://arxiv.org/abs/NNNN.NNNNN: an
     arXiv identifier or the word "arXiv" outside such a link fails (so do arxiv.org/pdf links).

4. Alt text. Every picture a code cell outputs (image/png, image/jpeg) has alt text, by the rule
   at the top of scripts/export_slides.py, which writes it into the <img> of the slides and HTML:
   the cell's metadata "alt" (a string, or a list with one text per picture), else a comment line
   `# alt: <text>` in the cell per picture, else the output's own metadata "alt" or "title".
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import nbformat
import pytest

from nst_teach.course import slides

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [p.name for p in NOTEBOOKS]
MAX_CODE_LINE = 100
FIRST_CELL_SECTIONS = ("What you will learn", "Prerequisites", "Time", "Run time (full mode)")
LAST_CELL_SECTIONS = ("Key points", "References")
LABEL = re.compile(r"^\*\*(?P<name>[^*\n]+?):?\*\*:?[ \t]*(?P<rest>.*)$")
TEACHING = re.compile(r"\b\d+\s*min(ute)?s?\s+(of\s+)?teaching\b", re.IGNORECASE)
EXERCISES = re.compile(r"\b\d+\s*min(ute)?s?\s+(of\s+)?exercises?\b", re.IGNORECASE)
LINK = re.compile(r"\]\(\s*<?https?://[^)\s]+|<https?://[^>\s]+>|(?<![(<])\bhttps?://\S+")
ARXIV_LINK = re.compile(r"\[[^\]]*\]\(\s*<?https://arxiv\.org/abs/\d{4}\.\d{4,5}(v\d+)?>?\s*\)"
                        r"|<?https://arxiv\.org/abs/\d{4}\.\d{4,5}(v\d+)?>?")
ARXIV_MENTION = re.compile(r"arxiv|\b\d{4}\.\d{4,5}(v\d+)?\b", re.IGNORECASE)


def load_script(name: str):
    """scripts/<name>.py as a module (imported from scripts/, put on the path)."""
    if str(ROOT / "scripts") not in sys.path:
        sys.path.insert(0, str(ROOT / "scripts"))
    return importlib.import_module(name)


export_slides = slides
execute_notebooks = load_script("execute_notebooks")


def read(notebook: Path):
    return nbformat.read(notebook, as_version=4)


# ------------------------------------------------------------------ the checks (pure functions)


def long_code_lines(cells, limit: int = MAX_CODE_LINE) -> list[str]:
    """'cell i line j: n characters' for each code line over the limit."""
    return [f"cell {i} (id {cell.get('id')}) line {j}: {len(line)} characters: "
            f"{line.strip()[:40]!r}"
            for i, cell in enumerate(cells) if cell.cell_type == "code"
            for j, line in enumerate(cell.source.splitlines(), start=1) if len(line) > limit]


def sections(markdown: str) -> dict[str, str]:
    """The bold-labelled sections of a markdown cell: {label: its text up to the next label}."""
    found, current = {}, None
    for line in markdown.splitlines():
        label = LABEL.match(line.strip())
        if label:
            current = label["name"].strip()
            found[current] = label["rest"].strip()
        elif line.lstrip().startswith("#"):
            current = None
        elif current is not None:
            found[current] = (found[current] + "\n" + line).strip()
    return found


def first_cell_problems(cell) -> list[str]:
    """What the first cell lacks, by rule 2 of the contract."""
    if cell.cell_type != "markdown":
        return ["the first cell is not a markdown cell"]
    found = sections(cell.source)
    problems = [f"no **{name}** section" for name in FIRST_CELL_SECTIONS if name not in found]
    problems += [f"**{name}** is empty" for name in FIRST_CELL_SECTIONS[:2]
                 if name in found and not found[name]]
    time = found.get("Time")
    if time is not None and not (TEACHING.search(time) and EXERCISES.search(time)):
        problems.append(f"**Time** needs '<N> min teaching' and '<M> min exercises', has {time!r}")
    run_time = found.get("Run time (full mode)")
    if run_time is not None and not execute_notebooks.RUN_TIME.fullmatch(run_time):
        problems.append(f"**Run time (full mode):** is {run_time!r}, not a measured time: "
                        "run `make execute` on this notebook")
    return problems


def arxiv_problems(markdown: str) -> list[str]:
    """Lines with an arXiv reference that is not a link to https://arxiv.org/abs/NNNN.NNNNN."""
    return [f"arXiv reference not linked to its abstract page: {line.strip()[:80]!r}"
            for line in markdown.splitlines() if ARXIV_MENTION.search(ARXIV_LINK.sub(" ", line))]


def last_markdown_problems(cells) -> list[str]:
    """What the last markdown cell lacks, by rule 3 of the contract."""
    markdown = [cell for cell in cells if cell.cell_type == "markdown"]
    if not markdown:
        return ["no markdown cell"]
    found = sections(markdown[-1].source)
    problems = [f"no **{name}** section" for name in LAST_CELL_SECTIONS if name not in found]
    if "Key points" in found and not found["Key points"]:
        problems.append("**Key points** is empty")
    if "References" in found and not LINK.search(found["References"]):
        problems.append("**References** has no link")
    return problems + arxiv_problems(markdown[-1].source)


def pictures_without_alt(cells) -> list[str]:
    """'cell i, picture k' for each image output that gets no alt text by the exporter's rule."""
    return [f"cell {i} (id {cell.get('id')}, {cell.source.strip().splitlines()[0][:40]!r}), "
            f"picture {k}" for i, cell in enumerate(cells)
            for k, text in enumerate(export_slides.alt_texts(cell), start=1) if not text]


# ------------------------------------------------------------------ the notebooks


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_no_code_line_over_100_characters(notebook):
    long = long_code_lines(read(notebook).cells)
    assert not long, (f"{notebook.name}: {len(long)} code lines over {MAX_CODE_LINE}:\n"
                      + "\n".join(long))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_first_cell_states_goals_prerequisites_and_times(notebook):
    problems = first_cell_problems(read(notebook).cells[0])
    assert not problems, f"{notebook.name}, first cell: " + "; ".join(problems)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_last_markdown_cell_has_key_points_and_linked_references(notebook):
    problems = last_markdown_problems(read(notebook).cells)
    assert not problems, f"{notebook.name}, last markdown cell: " + "; ".join(problems)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_every_picture_has_alt_text(notebook):
    missing = pictures_without_alt(read(notebook).cells)
    assert not missing, (f"{notebook.name}: {len(missing)} pictures without alt text (give the "
                         'cell metadata "alt" or a "# alt: ..." line):\n' + "\n".join(missing))


# ------------------------------------------------------------------ the checks themselves

GOOD_FIRST = """\
# 01 · Covariance

**What you will learn**
- covariance by hand

**Prerequisites**
- none beyond Python

**Time:** 30 min teaching, 15 min exercises

**Run time (full mode):** 84 s on a 2-core CPU (torch 2.5.1, 2026-11-30)
"""
GOOD_LAST = """\
## Summary

**Key points**
- a covariance says whether two quantities move together

**References**
- Gatys et al. (2015), [A Neural Algorithm of Artistic Style](https://arxiv.org/abs/1508.06576)
- <https://pytorch.org/docs/stable/generated/torch.cov.html>
"""


def test_a_first_cell_written_to_the_contract_passes_and_each_omission_fails():
    markdown = nbformat.v4.new_markdown_cell
    assert first_cell_problems(markdown(GOOD_FIRST)) == []
    assert first_cell_problems(markdown(GOOD_FIRST.replace("**Time:**", "**Time**:"))) == []
    for name in FIRST_CELL_SECTIONS:
        label = "**Time:**" if name == "Time" else f"**{name}" + (":**" if "Run" in name else "**")
        problems = first_cell_problems(markdown(GOOD_FIRST.replace(label, "")))
        assert any(name in p for p in problems), name
    no_exercise_time = GOOD_FIRST.replace(", 15 min exercises", "")
    assert "min exercises" in " ".join(first_cell_problems(markdown(no_exercise_time)))
    unmeasured = GOOD_FIRST.replace("84 s on a 2-core CPU (torch 2.5.1, 2026-11-30)", "TBD")
    assert "make execute" in " ".join(first_cell_problems(markdown(unmeasured)))
    empty = GOOD_FIRST.replace("- none beyond Python", "")
    assert first_cell_problems(markdown(empty)) == ["**Prerequisites** is empty"]


def test_a_last_cell_written_to_the_contract_passes_and_each_omission_fails():
    markdown, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    assert last_markdown_problems([markdown(GOOD_LAST), code("progress()")]) == []
    assert last_markdown_problems([markdown(GOOD_LAST), markdown("### Exercise 2")]) != []
    no_links = re.sub(r"\(https://[^)]*\)|<https://[^>]*>", "", GOOD_LAST)
    assert last_markdown_problems([markdown(no_links)]) == ["**References** has no link"]
    bare = GOOD_LAST + "- Simonyan, Zisserman (2014), arXiv:1409.1556\n"
    assert len(last_markdown_problems([markdown(bare)])) == 1
    pdf = GOOD_LAST + "- [VGG](https://arxiv.org/pdf/1409.1556)\n"
    assert len(last_markdown_problems([markdown(pdf)])) == 1
    linked = GOOD_LAST + "- [arXiv:1409.1556](https://arxiv.org/abs/1409.1556v6)\n"
    assert last_markdown_problems([markdown(linked)]) == []


def test_long_code_lines_are_found_in_code_cells_only():
    line = "x = " + "1 + " * 30 + "1"  # 125 characters
    cells = [nbformat.v4.new_markdown_cell(line), nbformat.v4.new_code_cell(f"a = 1\n{line}")]
    (found,) = long_code_lines(cells)
    assert found.startswith("cell 1 (id ") and "line 2: 125 characters" in found
    assert long_code_lines([nbformat.v4.new_code_cell("y = " + "1" * 96)]) == []  # exactly 100


def test_pictures_without_alt_text_are_found_and_each_way_of_giving_one_counts():
    def figure_cell(source="plt.plot(x)", metadata=None, output_metadata=None):
        cell = nbformat.v4.new_code_cell(source, metadata=metadata or {})
        cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=",
                        "text/plain": "<Figure>"}, metadata=output_metadata or {})]
        return cell

    assert len(pictures_without_alt([figure_cell()])) == 1
    assert pictures_without_alt([figure_cell(metadata={"alt": "A line rising to the right"})]) == []
    assert pictures_without_alt([figure_cell("# alt: A line rising\nplt.plot(x)")]) == []
    assert pictures_without_alt([figure_cell(output_metadata={"image/png": {"title": "x"}})]) == []
    assert len(pictures_without_alt([figure_cell(metadata={"alt": "  "})])) == 1


# ------------------------------------------------------------------ make execute's measurements


def test_the_run_time_written_by_make_execute_meets_the_contract():
    line = execute_notebooks.format_run_time(84.4, 2, "2.5.1", "2026-11-30")
    assert line == "84 s on a 2-core CPU (torch 2.5.1, 2026-11-30)"
    long_run = execute_notebooks.format_run_time(612.0, 16, "2.5.1", "2026-11-30")
    assert long_run.startswith("10 min 12 s on")
    unmeasured = GOOD_FIRST.replace("84 s on a 2-core CPU", "TBD on nothing")
    cell = nbformat.v4.new_markdown_cell(unmeasured)
    nb = nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_code_cell("x = 1")])
    assert first_cell_problems(nb.cells[0])  # not a measured time yet
    assert execute_notebooks.write_run_time(nb, line)
    assert first_cell_problems(nb.cells[0]) == []
    assert nb.cells[0].source == GOOD_FIRST  # that line's text replaced, nothing else touched


def test_the_run_time_is_not_invented_where_the_first_cell_has_no_line_for_it():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 99 · Title\n\nText.")])
    assert not execute_notebooks.write_run_time(nb, "1 s on a 1-core CPU (torch 2, 2026-01-01)")
    assert nb.cells[0].source == "# 99 · Title\n\nText."


def test_peak_memory_is_the_processes_peak_resident_size():
    import os
    import resource

    measured = execute_notebooks.peak_mib(os.getpid())
    if measured is None:
        pytest.skip("no /proc/<pid>/status VmHWM here (not Linux)")
    oracle = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    assert abs(measured - oracle) < 0.05 * oracle + 2, (measured, oracle)
    assert execute_notebooks.peak_mib(2**22 + 12345) is None  # no such process


def test_timings_are_merged_into_the_json_file(tmp_path):
    import json

    file = tmp_path / "timings.json"
    execute_notebooks.update_timings(file, {"02_b.ipynb": {"seconds": 2.0}})
    both = {"01_a.ipynb": {"seconds": 1.0}, "02_b.ipynb": {"seconds": 3.0}}
    execute_notebooks.update_timings(file, both)
    assert json.loads(file.read_text()) == both
    assert list(json.loads(file.read_text())) == ["01_a.ipynb", "02_b.ipynb"]
