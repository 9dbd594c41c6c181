"""Execute notebooks top to bottom in place, in the full (not fast) mode on the CPU: `make execute`.

Committed outputs come from this script, so GitHub and nbviewer show real results.
Usage: python scripts/execute_notebooks.py [--device-any] [--out DIR] [--kernel NAME] notebooks/01_covariance.ipynb [...]
--device-any leaves GPUs visible; --out DIR writes executed copies into DIR instead of in place.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path, out: Path, kernel: str = "python3") -> float:
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    client = NotebookClient(nb, timeout=3600, kernel_name=kernel, resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    nb.metadata.pop("widgets", None)  # widget state is large and stale once the kernel is gone
    nbformat.write(nb, out)
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--device-any", action="store_true", help="do not hide GPUs from the kernel")
    p.add_argument("--out", type=Path, help="write executed copies into this folder instead of in place")
    p.add_argument("--kernel", default="python3", help="kernel name (default python3)")
    args = p.parse_args(argv)
    os.environ.pop("NST_TEACH_FAST", None)
    if not args.device_any:
        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # committed outputs are CPU runs, the same for every reader
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    for path in args.paths:
        seconds = execute(path, args.out / path.name if args.out else path, args.kernel)
        print(f"{path}: executed in {seconds:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
