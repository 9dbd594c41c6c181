"""The committed notebooks carry full-mode outputs, and say how they were made (issue 22).

`make execute` (scripts/execute_notebooks.py) writes ``metadata["nst_teach"]["run"]`` into each
notebook: the mode, device, precision, CPU, versions, a hash of the package's source, the run time
and peak memory. Here:
- a committed notebook fails if it has no outputs, no such record, or fast-mode outputs;
- a notebook whose record names another package source than today's is reported, without failing
  (a warning in pytest's summary, and a line with ``-rA``): its outputs may be stale and it is
  due for ``make execute``;
- the script's own functions, on a tiny notebook executed once in each mode, write a record that
  passes (full) or fails (fast) these checks, so the lead's full run will pass them.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
RUN_KEYS = ("mode", "device", "precision", "cpu", "cpus", "torch", "nst_teach", "source_sha256",
            "date", "seconds", "peak_mib")


def load_script(name: str):
    """scripts/<name>.py as a module."""
    if str(ROOT / "scripts") not in sys.path:
        sys.path.insert(0, str(ROOT / "scripts"))
    return importlib.import_module(name)


execute_notebooks = load_script("execute_notebooks")


def output_problems(nb) -> list[str]:
    """Why a notebook's outputs are not a full run's: unexecuted, no outputs, no record, fast."""
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    problems = []
    if any(cell.get("execution_count") is None for cell in code):
        problems.append("some code cells were never executed")
    if code and not any(cell.get("outputs") for cell in code):
        problems.append("no outputs")
    run = nb.metadata.get("nst_teach", {}).get("run")
    if run is None:
        return problems + ["no run record (metadata nst_teach.run): run `make execute` on it"]
    missing = [key for key in RUN_KEYS if key not in run]
    if missing:
        problems.append(f"the run record lacks {', '.join(missing)}")
    if run.get("mode") != "full":
        problems.append(f"outputs from the {run.get('mode')} mode: run `make execute` on it")
    return problems


def stale_source(nb, today: str) -> str | None:
    """'ran on package source abc123 (date), today's is def456' if the hash differs, else None."""
    run = nb.metadata.get("nst_teach", {}).get("run") or {}
    recorded = run.get("source_sha256")
    if recorded is None or recorded == today:
        return None
    return (f"ran on package source {recorded[:12]} ({run.get('date')}), today's is {today[:12]}:"
            " its outputs may be stale; run `make execute` on it")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_a_committed_notebook_carries_a_full_run(notebook):
    problems = output_problems(nbformat.read(notebook, as_version=4))
    assert not problems, f"{notebook.name}: " + "; ".join(problems)


def test_notebooks_that_ran_on_an_older_package_source_are_reported():
    today = execute_notebooks.source_sha256()
    stale = {nb.name: stale_source(nbformat.read(nb, as_version=4), today) for nb in NOTEBOOKS}
    stale = {name: why for name, why in stale.items() if why}
    for name, why in stale.items():
        print(f"STALE {name}: {why}")
        warnings.warn(f"{name} {why}", UserWarning, stacklevel=1)
    # reported, never failed: a stale notebook is visible the day it goes stale


# ------------------------------------------------------------------ the checks themselves

TINY_FIRST = """# 99 · a tiny notebook

**Run time (full mode):** TBD
"""


def tiny_notebook(folder: Path) -> Path:
    """A notebook whose one code cell prints whether the fast mode is on."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(TINY_FIRST),
        nbformat.v4.new_code_cell("import os\nprint('fast' if os.environ.get('NST_TEACH_FAST') "
                                  "else 'full')"),
    ])
    path = folder / "99_tiny.ipynb"
    nbformat.write(nb, path)
    return path


def run_through_the_script(path: Path, mode: str):
    """What `make execute` (or --fast) does to one notebook, without the timings file."""
    nb, seconds, memory = execute_notebooks.execute(path, mode=mode)
    execute_notebooks.record(nb, path.name, execute_notebooks.run_metadata(mode, "cpu", seconds,
                                                                           memory))
    nbformat.write(nb, path)
    return nbformat.read(path, as_version=4)


def test_the_scripts_record_passes_in_full_mode_and_fails_in_fast_mode(tmp_path):
    path = tiny_notebook(tmp_path)
    assert output_problems(nbformat.read(path, as_version=4))  # never executed: fails
    full = run_through_the_script(path, "full")
    assert full.cells[1].outputs[0]["text"] == "full\n"
    assert output_problems(full) == []
    run = full.metadata["nst_teach"]["run"]
    assert run["mode"] == "full" and run["device"] == "cpu" and run["seconds"] > 0
    assert run["precision"] in ("fp32", "bf16", "fp16") and run["cpus"] >= 1
    assert stale_source(full, execute_notebooks.source_sha256()) is None
    first = full.cells[0].source.splitlines()[-1]
    assert first.startswith(execute_notebooks.RUN_TIME_LABEL)
    assert execute_notebooks.RUN_TIME.fullmatch(first.split(":**", 1)[1].strip())
    fast = run_through_the_script(tiny_notebook(tmp_path), "fast")
    assert fast.cells[1].outputs[0]["text"] == "fast\n"
    assert output_problems(fast) == ["outputs from the fast mode: run `make execute` on it"]
    assert fast.cells[0].source == TINY_FIRST  # a fast run does not claim a full-mode run time


def test_a_changed_package_source_is_reported_as_stale(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n")
    (package / "sub" / "b.py").write_text("y = 2\n")
    (package / "notes.txt").write_text("not source")
    before = execute_notebooks.source_sha256(package)
    assert len(before) == 64 and execute_notebooks.source_sha256(package) == before
    (package / "notes.txt").write_text("still not source")
    assert execute_notebooks.source_sha256(package) == before
    nb = nbformat.v4.new_notebook(metadata={"nst_teach": {"run": {"source_sha256": before}}})
    assert stale_source(nb, execute_notebooks.source_sha256(package)) is None
    (package / "sub" / "b.py").write_text("y = 3\n")
    assert "may be stale" in stale_source(nb, execute_notebooks.source_sha256(package))
