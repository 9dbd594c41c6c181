"""Images by name: bundled (ours, the paper's reduced) and full-size downloads, sha256-checked."""

from __future__ import annotations

import difflib
import hashlib
import http.client
import os
import socket
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import NamedTuple


def _data_dir() -> Path:
    """The bundled images' folder: nst_teach/_data in an installed wheel, else the repo's data/."""
    package = Path(__file__).resolve().parent
    # A wheel carries data/ as nst_teach/_data (pyproject.toml maps it there); a checkout and
    # the editable install of `make setup` keep it beside the package, as the one copy.
    installed = package / "_data"
    return installed if installed.is_dir() else package.parent / "data"


DATA_DIR = _data_dir()

# Bundled with the package (see data/README.md for how each was made and its licence).
CONTENT_IMAGES = {
    "grace_hopper": DATA_DIR / "content" / "grace_hopper.jpg",
    "landscape": DATA_DIR / "content" / "landscape.jpg",
}
STYLE_IMAGES = {
    "swirls": DATA_DIR / "style" / "swirls.jpg",
    "waves": DATA_DIR / "style" / "waves.jpg",
    "mosaic": DATA_DIR / "style" / "mosaic.jpg",
    "circles": DATA_DIR / "style" / "circles.jpg",
}
# The paper's photograph and the paintings of its Figure 2, reduced to 512 px on the longest
# side by scripts/make_data.py (full-size copies of most: fetch()). Bundled too, so offline.
PAPER_CONTENT_IMAGES = {"tubingen": DATA_DIR / "content" / "tubingen.jpg"}
PAPER_STYLE_IMAGES = {
    "starry_night": DATA_DIR / "style" / "starry_night.jpg",
    "the_scream": DATA_DIR / "style" / "the_scream.jpg",
    "shipwreck": DATA_DIR / "style" / "shipwreck.jpg",
    "composition_vii": DATA_DIR / "style" / "composition_vii.jpg",
}
# Photographs from scikit-image's and scikit-learn's wheels (CC0, public domain or CC BY 2.0),
# reduced to at most 512 px by scripts/make_data.py: what notebook 11's feed-forward network
# trains on (all but "china", held out). Not in bundled(), which is the VGG19 normalisation's
# calibration set and the explorer's choice; content_path knows them.
PHOTO_IMAGES = {name: DATA_DIR / "photos" / f"{name}.jpg" for name in (
    "astronaut", "chelsea", "coffee", "rocket", "camera", "coins", "brick", "grass", "gravel",
    "hubble", "retina", "ihc", "flower", "china")}
_BUNDLED_ABOUT = {  # name -> (title, licence) of the bundled images not in REGISTRY
    "grace_hopper": ("Grace Hopper, US Navy photograph", "public domain"),
    "landscape": ("drawn village, hills and trees", "CC0"),
    "swirls": ("drawn swirling brush strokes, after van Gogh", "CC0"),
    "waves": ("drawn blue waves and foam, after Hokusai", "CC0"),
    "mosaic": ("drawn stained-glass rose window", "CC0"),
    "circles": ("drawn circles and lines, after Kandinsky", "CC0"),
    "composition_vii": ("Kandinsky, Composition VII (1913)", "public domain (author died 1944)"),
}


class PaperImage(NamedTuple):
    """One downloadable image: its file name, what it shows, its licence and its sha256."""

    file: str
    title: str
    licence: str
    sha256: str


BASE_URL = "https://raw.githubusercontent.com/jcjohnson/neural-style/master/examples/inputs/"
# The images of Gatys et al. (2015), as published with jcjohnson/neural-style.
REGISTRY = {
    "tubingen": PaperImage(
        "tubingen.jpg",
        "Neckarfront, Tübingen (Andreas Praefcke)",
        "CC BY-SA 3.0",
        "e67d1869f01fd805385c681a80d9ebcf0f70ea4a5fe6127f0606bb1c7f4bf506",
    ),
    "starry_night": PaperImage(
        "starry_night.jpg",
        "van Gogh, The Starry Night (1889)",
        "public domain",
        "0592ab0f7b51b3ce72608a95e53880bd93971e5b48f93a0ce8dfd3cbccf3d098",
    ),
    "the_scream": PaperImage(
        "the_scream.jpg",
        "Munch, The Scream (1893)",
        "public domain",
        "f3075cddeb974a9ee1d6418f7f33fd05185a7ac7dcb4288bd2805d499a9dcaee",
    ),
    "shipwreck": PaperImage(
        "shipwreck.jpg",
        "Turner, The Shipwreck of the Minotaur",
        "public domain",
        "4f7cf34e3cd4a5daaf3f421f059ca9a01aaa2a3afd7243d6670c9c8bc001a213",
    ),
    "woman-with-hat-matisse": PaperImage(
        "woman-with-hat-matisse.jpg",
        "Matisse, Woman with a Hat (1905)",
        "public domain (author died 1954)",
        "6a8b2383d9c110354a97a42c74bdcc5341be879cbb842ddb7ab5843dbdf56d53",
    ),
}


class DownloadError(RuntimeError):
    """A paper image could not be downloaded or did not match its sha256; `why` says why."""

    def __init__(self, message: str, why: str = ""):
        super().__init__(message)
        self.why = why or message


def _check_name(name: str, names) -> str:
    if name in names:
        return name
    close = difflib.get_close_matches(str(name), list(names), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown image {name!r}: choose one of {', '.join(names)}{hint}")


def bundled(name: str | None = None):
    """The path of one bundled image by name, or with no name the dict of all of them."""
    images = {**CONTENT_IMAGES, **PAPER_CONTENT_IMAGES, **STYLE_IMAGES, **PAPER_STYLE_IMAGES}
    return images if name is None else images[_check_name(name, images)]


def content_path(name: str = "grace_hopper") -> Path:
    """Path of a bundled content image: 'grace_hopper', 'landscape', the paper's 'tubingen', or a
    photo of PHOTO_IMAGES ('astronaut', 'chelsea', ..., 'china')."""
    images = {**CONTENT_IMAGES, **PAPER_CONTENT_IMAGES, **PHOTO_IMAGES}
    return images[_check_name(name, images)]


def style_path(name: str = "swirls") -> Path:
    """Path of a bundled style image: 'swirls', 'waves', ... or the paper's 'starry_night', ..."""
    images = {**STYLE_IMAGES, **PAPER_STYLE_IMAGES}
    return images[_check_name(name, images)]


def cache_dir() -> Path:
    """Where downloads go: $NST_TEACH_CACHE, else $XDG_CACHE_HOME/nst_teach, ~/.cache/nst_teach."""
    if os.environ.get("NST_TEACH_CACHE"):
        return Path(os.environ["NST_TEACH_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(xdg).expanduser() / "nst_teach"


def _base_url() -> str:
    """BASE_URL, or $NST_TEACH_DATA_MIRROR: a URL or a plain folder, with or without a final '/'."""
    mirror = os.environ.get("NST_TEACH_DATA_MIRROR")
    if not mirror:
        return BASE_URL
    if "://" not in mirror:
        mirror = Path(mirror).expanduser().resolve().as_uri()
    return mirror.rstrip("/") + "/"


def sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (the one helper: data, cli and vgg use it)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _cached(name: str) -> Path | None:
    """The full-size download of a REGISTRY image if it is in the cache and intact, else None."""
    entry = REGISTRY.get(name)
    if entry is None:
        return None
    path = cache_dir() / entry.file
    return path if path.is_file() and sha256(path) == entry.sha256 else None


def _download(url: str, out, timeout: float) -> None:
    """Copy `url` into the open file `out`; a DownloadError names the URL, the reason and a fix."""
    offline = "you seem to be offline: connect, or"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            expected = response.headers.get("Content-Length")
            received = 0
            while chunk := response.read(1 << 16):
                out.write(chunk)
                received += len(chunk)
        if expected is None or received == int(expected):
            return
        # http.client returns short reads silently, so a cut connection is caught here
        why, advice = f"the connection closed after {received} of {expected} bytes", "try again, or"
    except urllib.error.HTTPError as err:
        why, advice = f"HTTP {err.code} {err.reason}", "the file is not there:"
    except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
        reason = getattr(err, "reason", err)
        why = str(reason) or type(reason).__name__
        advice = "try again, or"
        if isinstance(reason, TimeoutError) or "timed out" in why:
            why, advice = f"timed out after {timeout:g} s", offline
        elif isinstance(reason, (ConnectionError, socket.gaierror)):
            advice = offline
        elif isinstance(reason, FileNotFoundError):
            why, advice = "no such file", "the file is not there:"
    file = url.rsplit("/", 1)[-1]
    raise DownloadError(
        f"could not download {url} ({why}); {advice} set NST_TEACH_DATA_MIRROR to a folder/URL "
        f"holding {file}, or use the bundled images via nst_teach.data.content_path()",
        why,
    )


def fetch(name: str, *, timeout: float = 30) -> Path:
    """Local path of a paper image (REGISTRY), downloaded once, sha256 checked every call."""
    entry = REGISTRY[_check_name(name, REGISTRY)]
    path = cache_dir() / entry.file
    if path.is_file():
        if sha256(path) == entry.sha256:
            return path
        path.unlink()  # damaged or outdated: never hand it out, never leave it behind
    url = _base_url() + entry.file
    if os.environ.get("NST_TEACH_OFFLINE"):  # lets CI skip the network without waiting for it
        why = "NST_TEACH_OFFLINE is set"
        raise DownloadError(f"not downloading {url}: {why}; unset it to download", why)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Download beside the target and rename only once the hash matches, so that an
    # interrupted or wrong download never leaves a file that looks finished.
    fd, tmp = tempfile.mkstemp(prefix=f".{entry.file}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            _download(url, out, timeout)
        got = sha256(tmp)
        if got != entry.sha256:
            why = f"sha256 {got[:12]}... but expected {entry.sha256[:12]}..."
            raise DownloadError(
                f"downloaded {url} but it is the wrong file ({why}); nothing was saved: "
                "check NST_TEACH_DATA_MIRROR",
                why,
            )
        os.replace(tmp, path)
    except BaseException:  # KeyboardInterrupt included: no temp file left behind
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


class _Table(list):
    """A list of dicts that prints as an aligned table (`list_images()`, in a notebook)."""

    def __repr__(self) -> str:
        if not self:
            return "(no images)"
        keys = list(self[0])
        rows = [keys] + [[str(row[k]) for k in keys] for row in self]
        widths = [max(len(r[i]) for r in rows) for i in range(len(keys))]
        return "\n".join(
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
        )


def list_images() -> list[dict]:
    """Every image by name: is a copy bundled (offline), is a full-size download cached."""
    table = _Table()
    local = bundled()
    for name in {**local, **REGISTRY}:
        entry = REGISTRY.get(name)
        title, licence = (entry.title, entry.licence) if entry else _BUNDLED_ABOUT[name]
        full = "-" if entry is None else "cached" if _cached(name) else "fetch() downloads it"
        table.append(
            dict(name=name, title=title, licence=licence, bundled=name in local, full_size=full)
        )
    return table


def _paper_or_bundled(name_paper: str, fallback: str, timeout: float) -> Path:
    """A cached full-size download, else the bundled copy, else a download, else `fallback`."""
    # Sizes above 512 px want the full-size file: fetch(name_paper) downloads it.
    fallback_path = bundled(fallback)  # check both names before anything else
    local = bundled()
    _check_name(name_paper, {**local, **REGISTRY})
    cached = _cached(name_paper)
    if cached or name_paper in local:  # no network, no wait
        return cached or local[name_paper]
    try:
        return fetch(name_paper, timeout=timeout)
    except DownloadError as err:
        print(
            f"Using the bundled image {fallback!r} because {name_paper!r} is not available "
            f"({err.why})."
        )
        return fallback_path


def content_or_paper(
    name_paper: str = "tubingen", fallback: str = "grace_hopper", *, timeout: float = 10
) -> Path:
    """The paper's photograph: full size if cached, else the bundled 512 px copy (no wait)."""
    return _paper_or_bundled(name_paper, fallback, timeout)


def style_or_paper(
    name_paper: str = "starry_night", fallback: str = "swirls", *, timeout: float = 10
) -> Path:
    """The paper's painting: full size if cached, else the bundled 512 px copy (no wait)."""
    return _paper_or_bundled(name_paper, fallback, timeout)
