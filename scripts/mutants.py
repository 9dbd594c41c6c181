"""Mutation check of the package's core: does the fast tier notice each committed bug?

`make mutants` runs it. Each mutant in tests/mutants.toml replaces one exact snippet of one file
in a COPY of the checkout (tracked files and untracked ones git does not ignore, as they are now;
the checkout itself is never touched), then runs the fast tier on the mutant's test files
(pytest -x -q -m "not slow") in that copy. A failing run kills the mutant; a passing run means
no test noticed the bug. Prints one line per mutant and the kill rate; exits 1 unless every
mutant was killed.

    python scripts/mutants.py                  # every mutant, each on its own test files
    python scripts/mutants.py --only covariance --only "L-BFGS"   # names containing these words
    python scripts/mutants.py --whole          # each mutant against the whole fast tier (slower)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {"NST_TEACH_FAST": "1", "NST_TEACH_OFFLINE": "1", "MPLBACKEND": "Agg"}


def load(path: Path, only: list[str]) -> list[dict]:
    """The mutants listed in path, those whose name contains one of `only` (any case) if given."""
    mutants = tomllib.loads(path.read_text(encoding="utf-8"))["mutant"]
    for m in mutants:
        missing = {"name", "file", "original", "replacement", "tests"} - set(m)
        if missing:
            raise SystemExit(f"{path}: mutant {m.get('name', '?')!r} lacks {sorted(missing)}")
    if only:
        mutants = [m for m in mutants if any(w.lower() in m["name"].lower() for w in only)]
        if not mutants:
            raise SystemExit(f"no mutant's name contains any of {only}: see {path}")
    return mutants


def copy_checkout(dest: Path) -> None:
    """The working tree as it is now (tracked + untracked, not ignored) copied into dest."""
    listed = subprocess.run(["git", "ls-files", "-z", "-c", "-o", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        source = ROOT / rel
        if source.is_file():  # a tracked file deleted in the working tree is left out
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)


def pytest(copy: Path, tests: list[str], timeout: float) -> tuple[int, str]:
    """Run the fast tier on tests inside the copy: (exit code, last line of the output)."""
    env = {**os.environ, **ENV, "PYTHONPATH": str(copy)}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-m", "not slow",
               "-p", "no:cacheprovider", *tests]
    try:
        done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {timeout:.0f} s"
    lines = (done.stdout + done.stderr).strip().splitlines()
    failed = [line for line in lines if line.startswith(("FAILED", "ERROR"))]
    return done.returncode, "; ".join(failed[:1] + lines[-1:])


def check_copy_imports_itself(copy: Path) -> None:
    """The copy's tests must import the copy's nst_teach, not the installed (editable) checkout."""
    env = {**os.environ, **ENV, "PYTHONPATH": str(copy)}
    where = subprocess.run([sys.executable, "-c", "import nst_teach; print(nst_teach.__file__)"],
                           cwd=copy, env=env, capture_output=True, text=True)
    if not where.stdout.strip().startswith(str(copy)):
        raise SystemExit(f"the copy imports nst_teach from {where.stdout.strip() or where.stderr}")


def run_one(copy: Path, mutant: dict, tests: list[str], timeout: float) -> tuple[str, str]:
    """Apply one mutant in the copy, run the tests, undo it: (verdict, detail)."""
    path = copy / mutant["file"]
    if not path.is_file():
        return "stale", f"{mutant['file']} does not exist"
    text = path.read_text(encoding="utf-8")
    count = text.count(mutant["original"])
    if count != 1:
        return "stale", f"snippet found {count} times in {mutant['file']}"
    path.write_text(text.replace(mutant["original"], mutant["replacement"]), encoding="utf-8")
    try:
        code, last = pytest(copy, tests, timeout)
    finally:
        path.write_text(text, encoding="utf-8")
    if code == 1:
        return "killed", last
    if code == 0:
        return "SURVIVED", last
    return ("killed" if code == 2 else "error"), f"pytest exit {code}: {last}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", type=Path, default=ROOT / "tests" / "mutants.toml")
    parser.add_argument("--only", action="append", default=[], help="mutants whose name has this")
    parser.add_argument("--whole", action="store_true", help="the whole fast tier for each mutant")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per pytest run")
    args = parser.parse_args(argv)
    mutants = load(args.list, args.only)
    with tempfile.TemporaryDirectory(prefix="nst-mutants-") as tmp:
        copy = Path(tmp) / "checkout"
        copy_checkout(copy)
        check_copy_imports_itself(copy)
        every = sorted({t for m in mutants for t in m["tests"]})
        code, last = pytest(copy, ["tests"] if args.whole else every, args.timeout)
        if code != 0:  # a failing baseline would make every mutant look killed
            raise SystemExit(f"the unmutated copy fails its tests ({last}): fix that first")
        results = []
        for m in mutants:
            started = time.perf_counter()
            tests = ["tests"] if args.whole else m["tests"]
            verdict, detail = run_one(copy, m, tests, args.timeout)
            results.append(verdict)
            print(f"{verdict:8} {time.perf_counter() - started:6.1f} s  {m['name']}  ({detail})",
                  flush=True)
    killed = results.count("killed")
    print(f"kill rate: {killed}/{len(results)} ({100 * killed / len(results):.0f}%)")
    return 0 if killed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
