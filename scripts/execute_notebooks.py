"""Execute notebooks top to bottom in place, in the full (not fast) mode on the CPU: `make execute`.

Committed outputs come from this script, so GitHub and nbviewer show real results.
Usage: python scripts/execute_notebooks.py [--device-any] [--fast] [--out DIR] [--kernel NAME]
       [--timings FILE] notebooks/01_covariance.ipynb [...]
--device-any leaves GPUs visible; --fast runs the fast mode (NST_TEACH_FAST=1: a check, never
for committing); --out DIR writes executed copies into DIR instead of in place.

Each run is measured and recorded (for the instructors' page and tests/test_notebook_outputs.py):
- ``metadata["nst_teach"]["run"]`` of the notebook says how its outputs were made: the mode
  (full or fast), the device, the precision the package picks there by default
  (``nst_teach.precision.resolve("auto", device)``), the CPU model and cores, the torch and
  nst_teach versions, ``source_sha256`` (a hash of the package's source, see source_sha256),
  the date, the run time and the kernel's peak memory;
- in full mode, the wall time from starting the kernel to the end of the last cell and the
  machine are written into the notebook's first cell, replacing the rest of the line that starts
  with RUN_TIME_LABEL, e.g. ``**Run time (full mode):** 84 s on a 2-core Xeon 8480+ CPU, network
  in bf16 (torch 2.5.1, 2026-11-30)``; a first cell without that line is left alone (with a
  warning): tests/test_notebook_style.py asks for it;
- the kernel's peak memory, VmHWM (peak resident set size) of the kernel process read from
  /proc/<pid>/status once the last cell has run, before the kernel is shut down;
- in full mode both go into timings.json beside the executed notebooks (or --timings FILE): one
  entry per notebook, {"seconds", "peak_mib", "date", "cpus", "torch", "device", "precision",
  "cpu"}; other entries are kept. notebooks/README.md's table is copied from that file.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import importlib.metadata
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from nst_teach.precision import cpu_model

PACKAGE = Path(__file__).resolve().parents[1] / "nst_teach"
RUN_TIME_LABEL = "**Run time (full mode):**"
# What format_run_time writes; tests/test_notebook_style.py checks first cells against it.
RUN_TIME = re.compile(r"(\d+ min )?\d+ s on .+ \(torch [^,()]+, \d{4}-\d{2}-\d{2}\)")


def cpu_count() -> int:
    """CPUs this process may use (a container's share, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def torch_version() -> str:
    """The installed torch's version, without importing it."""
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def package_version() -> str:
    """The installed nst_teach's version."""
    try:
        return importlib.metadata.version("nst_teach")
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def source_sha256(package: Path = PACKAGE) -> str:
    """sha256 over every package/**/*.py in sorted path order, file contents only.

    Two checkouts with the same source give the same hash whatever their dates or folders; a
    notebook whose recorded hash differs from today's ran on a package that has changed since.
    """
    digest = hashlib.sha256()
    for file in sorted(package.rglob("*.py"), key=lambda f: f.relative_to(package).as_posix()):
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def default_precision(device: str) -> str:
    """The precision nst_teach uses by default on device ("fp32" where it cannot tell)."""
    try:
        from nst_teach.precision import resolve
    except ImportError:  # a package without the precision module runs in float32
        return "fp32"
    return resolve("auto", device)


def format_run_time(seconds: float, cpus: int, torch: str, date: str, device: str = "cpu",
                    cpu: str | None = None, precision: str | None = None) -> str:
    """'84 s on a 2-core CPU (torch 2.5.1, 2026-11-30)'; minutes from 120 s on.

    With cpu and precision: '84 s on a 2-core Xeon 8480+ CPU, network in bf16 (torch ...)'.
    """
    whole = round(seconds)
    duration = f"{whole // 60} min {whole % 60} s" if whole >= 120 else f"{whole} s"
    model = f" {cpu}" if cpu else ""
    where = (f"a {cpus}-core{model} CPU" if device == "cpu"
             else f"a GPU ({device}) with {cpus} CPU cores")
    if precision:
        where += f", network in {precision}"
    return f"{duration} on {where} (torch {torch}, {date})"


def write_run_time(nb, text: str) -> bool:
    """Put text after RUN_TIME_LABEL in the first cell's line that starts with it; False if none."""
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        return False
    pattern = re.compile(rf"^([ \t]*{re.escape(RUN_TIME_LABEL)})[^\n]*$", re.MULTILINE)
    source, count = pattern.subn(lambda m: f"{m.group(1)} {text}", nb.cells[0].source, count=1)
    nb.cells[0].source = source
    return count == 1


def peak_mib(pid: int) -> float | None:
    """A live process's peak resident set size (VmHWM) in MiB; None where /proc has no such line."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return round(int(match.group(1)) / 1024, 1) if match else None


def kernel_pid(client: NotebookClient) -> int | None:
    """The process id of the client's kernel (jupyter_client's local provisioner), or None."""
    process = getattr(getattr(client.km, "provisioner", None), "process", None)
    return getattr(process, "pid", None)


@contextlib.contextmanager
def mode_environment(mode: str):
    """NST_TEACH_FAST=1 for the kernel in fast mode, unset in full mode; restored afterwards."""
    before = os.environ.pop("NST_TEACH_FAST", None)
    if mode == "fast":
        os.environ["NST_TEACH_FAST"] = "1"
    try:
        yield
    finally:
        os.environ.pop("NST_TEACH_FAST", None)
        if before is not None:
            os.environ["NST_TEACH_FAST"] = before


def execute(
    path: Path, kernel: str = "python3", mode: str = "full"
) -> tuple[nbformat.NotebookNode, float, float | None]:
    """Run a notebook; return it executed, its seconds and its kernel's peak memory in MiB."""
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    client = NotebookClient(nb, timeout=3600, kernel_name=kernel,
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        with mode_environment(mode):
            client.execute(cleanup_kc=False)  # the kernel stays up until its memory has been read
        seconds = time.perf_counter() - started
        pid = kernel_pid(client)
        memory = peak_mib(pid) if pid else None
    finally:
        if client.km is not None:
            client._cleanup_kernel()
    nb.metadata.pop("widgets", None)  # widget state is large and stale once the kernel is gone
    return nb, seconds, memory


def torch_device(device: str) -> str:
    """The device the notebooks pick (nt.pick_device): cpu, or cuda where GPUs are visible."""
    if device == "cpu":
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def run_metadata(mode: str, device: str, seconds: float, memory: float | None) -> dict:
    """How a notebook's outputs were made: its metadata["nst_teach"]["run"]."""
    where = torch_device(device)
    return {"mode": mode, "device": where, "precision": default_precision(where),
            "cpu": cpu_model(), "cpus": cpu_count(), "torch": torch_version(),
            "nst_teach": package_version(), "source_sha256": source_sha256(),
            "date": datetime.date.today().isoformat(), "seconds": round(seconds, 1),
            "peak_mib": memory}


def record(nb, name: str, run: dict) -> dict:
    """Store run in the notebook's metadata; in full mode write the first cell's run-time line.

    Returns the notebook's timings.json entry.
    """
    nb.metadata.setdefault("nst_teach", {})["run"] = run
    entry = {k: run[k] for k in ("seconds", "peak_mib", "date", "cpus", "torch", "device",
                                 "precision", "cpu")}
    if run["mode"] != "full":
        return entry  # the first cell describes the full run; a fast run leaves it alone
    text = format_run_time(run["seconds"], run["cpus"], run["torch"], run["date"],
                           run["device"], run["cpu"], run["precision"])
    if not write_run_time(nb, text):
        print(f"{name}: the first cell has no line starting {RUN_TIME_LABEL!r}; "
              f"add one and run again to record '{text}'", file=sys.stderr)
    return entry


def update_timings(file: Path, entries: dict[str, dict]) -> None:
    """Merge entries (notebook name -> timings) into the JSON file, sorted by notebook."""
    timings = json.loads(file.read_text()) if file.exists() else {}
    timings.update(entries)
    file.write_text(json.dumps(dict(sorted(timings.items())), indent=1) + "\n")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--device-any", action="store_true", help="do not hide GPUs from the kernel")
    p.add_argument("--fast", action="store_true",
                   help="fast mode (a check; its outputs fail tests/test_notebook_outputs.py)")
    p.add_argument("--out", type=Path,
                   help="write executed copies into this folder instead of in place")
    p.add_argument("--kernel", default="python3", help="kernel name (default python3)")
    p.add_argument("--timings", type=Path,
                   help="timings file (default: timings.json beside the executed notebooks)")
    args = p.parse_args(argv)
    mode = "fast" if args.fast else "full"
    if not args.device_any:
        # committed outputs are CPU runs, the same for every reader
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
    device = "gpus-visible" if args.device_any else "cpu"
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    timings = args.timings or (args.out or args.paths[0].parent) / "timings.json"
    for path in args.paths:
        nb, seconds, memory = execute(path, args.kernel, mode)
        entry = record(nb, path.name, run_metadata(mode, device, seconds, memory))
        nbformat.write(nb, args.out / path.name if args.out else path)
        if mode == "full":  # after each: a run cut short keeps its timings
            update_timings(timings, {path.name: entry})
        print(f"{path}: executed ({mode} mode) in {seconds:.0f} s, kernel peak {memory} MiB",
              flush=True)
    if mode == "full":
        print(f"timings: {timings}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
