"""The package works installed from a wheel, away from the repository (issue 14, part 5).

Offline: the wheel and the sdist are built from a copy of the working tree with the .venv's
setuptools (no build isolation, no index), the wheel is installed into a fresh venv that borrows
the .venv's dependencies through a .pth line (which does not run the editable install's finder,
so the wheel's nst_teach is the one imported), and everything then runs from a temporary folder
outside the repository. 45-65 s on two shared cores: builds 8-11 s, the CLI run 17-31 s (VGG19
and a few NST_TEACH_FAST evaluations), the probe 9 s, notebook 01 8 s.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
SITE = "lib/python{}.{}/site-packages".format(*sys.version_info[:2])
# Things a checkout holds that no wheel should: planted in the copy, so the check can fail.
DECOYS = [".venv/lib/decoy.py", "nst_teach/__pycache__/decoy.cpython-311.pyc", "data/.DS_Store"]
# A probe run by the installed package: where it lives, every bundled image loaded, the normalised
# network. Printed as JSON for the test to judge.
PROBE = """
import json, sys
import nst_teach, nst_teach.data as data, nst_teach.normalization as normalization
# the training photos are kept out of bundled()
everything = {**data.bundled(), **data.PHOTO_IMAGES}
images = {name: list(nst_teach.load_image(path, 32).shape) for name, path in everything.items()}
model = nst_teach.load_vgg19(normalize=True, device="cpu")
print(json.dumps(dict(
    package=nst_teach.__file__, data_dir=str(data.DATA_DIR), executable=sys.executable,
    images=images, listed=[row["name"] for row in data.list_images() if row["bundled"]],
    photos=sorted(data.PHOTO_IMAGES),
    calibration=len(normalization.calibration_images(size=16)), normalized=model.normalized,
    normalization_file=str(normalization.NORMALIZATION_FILE),
)))
"""


def sha(path: Path) -> str:
    """Hex sha256 of a file (hashlib, not the package's helper)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(args, cwd, env=None, timeout=300) -> str:
    """Run a command; fail with its output if it fails; return its stdout."""
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{args[:4]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def copy_worktree(dest: Path) -> Path:
    """The working tree as git sees it (tracked and new files, nothing ignored), plus decoys."""
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # skips files deleted in the working tree
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    for name in DECOYS:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        (dest / name).write_text("junk\n")
    return dest


def pip(*args) -> list:
    """The .venv's pip, offline and leaving no cache behind."""
    return [sys.executable, "-m", "pip", *args, "--no-deps", "--no-index", "--no-cache-dir"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The sdist, a wheel built from the tree and a wheel built from the sdist."""
    tmp = tmp_path_factory.mktemp("build")
    src = copy_worktree(tmp / "src")
    sdist = Path(
        run(
            [
                sys.executable,
                "-c",
                "import sys; from setuptools import build_meta; "
                "print(build_meta.build_sdist(sys.argv[1]))",
                tmp / "sdist",
            ],
            src,
        )
        .strip()
        .splitlines()[-1]
    )
    run(pip("wheel", src, "--no-build-isolation", "-w", tmp / "wheel"), tmp)
    run(pip("wheel", tmp / "sdist" / sdist, "--no-build-isolation", "-w", tmp / "from_sdist"), tmp)
    return dict(
        sdist=tmp / "sdist" / sdist,
        wheel=next((tmp / "wheel").glob("*.whl")),
        from_sdist=next((tmp / "from_sdist").glob("*.whl")),
    )


def expected_files() -> set[str]:
    """What the wheel must carry, read from the repository: code, normalisation, trained models
    (nst_teach/models/: each network with its manifest), data/ files."""
    code = {p.relative_to(ROOT).as_posix() for p in (ROOT / "nst_teach").rglob("*.py")}
    code |= {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "nst_teach" / "models").glob("*")
        if p.suffix in (".pt", ".json")
    }
    data = {
        "nst_teach/_data/" + p.relative_to(ROOT / "data").as_posix()
        for p in (ROOT / "data").rglob("*")
        if p.is_file()
    }
    return code | data | {"nst_teach/vgg19_normalization.pt"}


@pytest.mark.parametrize("which", ["wheel", "from_sdist"])
def test_wheel_carries_code_images_and_normalisation_and_nothing_else(built, which):
    with zipfile.ZipFile(built[which]) as wheel:
        names = {n for n in wheel.namelist() if ".dist-info/" not in n}
        assert names == expected_files(), (
            f"missing: {sorted(expected_files() - names)}; "
            f"extra: {sorted(names - expected_files())}"
            " (a new subpackage goes in pyproject.toml's packages)"
        )
        for name in names - {n for n in names if n.endswith(".py")}:  # binary files intact
            source = ROOT / name.replace("nst_teach/_data/", "data/", 1)
            assert hashlib.sha256(wheel.read(name)).hexdigest() == sha(source), name
    assert any(n.endswith("_data/README.md") for n in names), "data/README.md holds the licences"


def test_sdist_carries_data_folder(built):
    with tarfile.open(built["sdist"]) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    data = {p.relative_to(ROOT).as_posix() for p in (ROOT / "data").rglob("*") if p.is_file()}
    assert data <= names, f"the sdist lacks {sorted(data - names)}"
    assert {"pyproject.toml", "README.md", "nst_teach/vgg19_normalization.pt"} <= names
    assert not any(n.startswith(".venv/") or "__pycache__" in n for n in names)


@pytest.fixture(scope="module")
def venv(built, tmp_path_factory):
    """A fresh venv holding the wheel; the .venv's packages (torch, ...) reached by a .pth line."""
    env_dir = tmp_path_factory.mktemp("venv") / "env"
    run([sys.executable, "-m", "venv", "--without-pip", env_dir], env_dir.parent)
    python = env_dir / "bin" / "python"
    # Installed before the .pth exists, so pip sees an empty environment and touches only this one.
    run(pip("--python", python, "install", built["wheel"]), env_dir.parent)
    # A plain path line: .pth files in that folder (the editable finder among them) do not run.
    (env_dir / SITE / "_nst_teach_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return env_dir


@pytest.fixture(scope="module")
def outside(tmp_path_factory):
    """A working folder outside the repository, and an environment without the repository in it."""
    work = tmp_path_factory.mktemp("outside")
    assert ROOT not in work.resolve().parents
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(
        NST_TEACH_FAST="1",
        NST_TEACH_OFFLINE="1",
        MPLBACKEND="Agg",
        NST_TEACH_CACHE=str(work / "cache"),
    )
    return work, env


def test_cli_with_no_arguments_runs_from_the_installed_package(venv, outside):
    work, env = outside
    run([venv / "bin" / "nst-teach", "stylize", "--out", "out.png", "--quiet"], work, env)
    assert (work / "out.png").stat().st_size > 0
    settings = json.loads((work / "out.json").read_text())["settings"]
    content = Path(settings["content"]["path"])
    assert venv in content.parents, f"content image read from {content}, not from the wheel"
    assert settings["content"]["sha256"] == sha(ROOT / "data" / "content" / content.name)


def test_installed_package_finds_loads_every_image_and_normalises(venv, outside):
    work, env = outside
    probe = json.loads(run([venv / "bin" / "python", "-I", "-c", PROBE], work, env))
    site = venv / SITE
    assert Path(probe["package"]).parent == site / "nst_teach", "the wheel's nst_teach is imported"
    assert Path(probe["data_dir"]) == site / "nst_teach" / "_data"
    on_disk = {p.stem for p in (ROOT / "data").rglob("*.jpg")}
    photos = {p.stem for p in (ROOT / "data" / "photos").glob("*.jpg")}
    assert set(probe["images"]) == on_disk and set(probe["photos"]) == photos
    assert set(probe["listed"]) == on_disk - photos, "list_images shows the bundled images"
    assert all(shape[:2] == [1, 3] and max(shape[2:]) == 32 for shape in probe["images"].values())
    assert probe["calibration"] == len(on_disk - photos) and probe["normalized"] is True
    assert Path(probe["normalization_file"]) == site / "nst_teach" / "vgg19_normalization.pt"


def test_notebook_01_runs_on_the_installed_package(venv, outside, monkeypatch):
    work, env = outside
    nb_path = shutil.copy(ROOT / "notebooks" / "01_covariance.ipynb", work)
    notebook = nbformat.read(nb_path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("import nst_teach; print(nst_teach.__file__)"))
    kernels = work / "kernels"
    (kernels / "nst-wheel").mkdir(parents=True)
    spec = dict(
        argv=[
            str(venv / "bin" / "python"),
            "-I",
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
        ],
        display_name="nst_teach wheel",
        language="python",
    )
    (kernels / "nst-wheel" / "kernel.json").write_text(json.dumps(spec))
    for key in ("PYTHONPATH", "VIRTUAL_ENV"):
        monkeypatch.delenv(key, raising=False)
    for key in ("NST_TEACH_FAST", "NST_TEACH_OFFLINE", "MPLBACKEND", "NST_TEACH_CACHE"):
        monkeypatch.setenv(key, env[key])
    manager = KernelManager(
        kernel_name="nst-wheel", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)])
    )
    NotebookClient(
        notebook, km=manager, timeout=300, resources={"metadata": {"path": str(work)}}
    ).execute()
    printed = notebook.cells[-1].outputs[0]["text"].strip()
    assert Path(printed).parent == venv / SITE / "nst_teach", f"the kernel imported {printed}"
