"""Execute notebooks top to bottom in place, in the full (not fast) mode on the CPU: `make execute`.

Committed outputs come from this script, so GitHub and nbviewer show real results.
Usage: python scripts/execute_notebooks.py notebooks/01_covariance.ipynb [...]
"""

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    client = NotebookClient(nb, timeout=3600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    nb.metadata.pop("widgets", None)  # widget state is large and stale once the kernel is gone
    nbformat.write(nb, path)
    return time.perf_counter() - started


def main(paths: list[str]) -> int:
    os.environ.pop("NST_TEACH_FAST", None)
    os.environ["CUDA_VISIBLE_DEVICES"] = ""  # committed outputs are CPU runs, the same for every reader
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for p in paths:
        seconds = execute(Path(p))
        print(f"{p}: executed in {seconds:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
