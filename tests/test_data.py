"""Tests for nst_teach.data: the bundled images, and downloads from a real server on 127.0.0.1."""

import hashlib
import http.server
import io
import re
import socket
import threading

import pytest
from PIL import Image

from nst_teach import data

# ---------------------------------------------------------------- bundled images


def test_bundled_images_exist_load_and_are_small():
    paths = data.bundled()
    own = set(data.CONTENT_IMAGES) | set(data.STYLE_IMAGES)
    paper = set(data.PAPER_CONTENT_IMAGES) | set(data.PAPER_STYLE_IMAGES)
    assert set(paths) == own | paper and not own & paper
    assert len(data.STYLE_IMAGES) >= 3
    for name, path in paths.items():
        assert path.is_file(), name
        with Image.open(path) as image:
            image.load()
            assert image.mode == "RGB", name
            assert max(image.size) <= 512, (name, image.size)
            assert min(image.size) >= 256, (name, image.size)
    assert sum(p.stat().st_size for p in paths.values()) < 1.5e6


def _readme_rows() -> dict[str, str]:
    """data/README.md's tables: file (relative to data/) -> the whole row."""
    readme = (data.DATA_DIR / "README.md").read_text(encoding="utf-8")
    return {m[1]: m[0] for m in re.finditer(r"^\| `([^`]+)` \|.*\|$", readme, re.M)}


def test_bundled_hashes_match_the_readme_table():
    rows = _readme_rows()
    paths = [*data.bundled().values(), *data.PHOTO_IMAGES.values()]
    files = {p.relative_to(data.DATA_DIR).as_posix(): p for p in paths}
    assert set(rows) == set(files)
    for rel, path in files.items():
        digest = re.search(r"\| `([0-9a-f]{64})` \|$", rows[rel])[1]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, rel


# The originals' sizes (data/README.md of the shared originals); each copy keeps the aspect.
PAPER_SIZES = {
    "tubingen": (1024, 768),
    "starry_night": (1024, 640),
    "the_scream": (1200, 1528),
    "shipwreck": (960, 662),
    "composition_vii": (1071, 712),
}
PAINTERS = {
    "tubingen": "Andreas Praefcke",
    "starry_night": "van Gogh",
    "the_scream": "Munch",
    "shipwreck": "Turner",
    "composition_vii": "Kandinsky",
}


def test_the_papers_images_are_bundled_reduced_copies():
    assert data.content_path("tubingen") == data.DATA_DIR / "content" / "tubingen.jpg"
    assert data.bundled("composition_vii") == data.DATA_DIR / "style" / "composition_vii.jpg"
    paths = {"tubingen": data.content_path("tubingen")}
    paths |= {name: data.style_path(name) for name in PAPER_SIZES if name != "tubingen"}
    assert set(paths) == set(data.PAPER_CONTENT_IMAGES) | set(data.PAPER_STYLE_IMAGES)
    for name, path in paths.items():
        assert path == data.bundled(name)
        assert path.stat().st_size < 100_000, name
        with Image.open(path) as image:
            image.load()
            assert image.mode == "RGB" and max(image.size) == 512, (name, image.size)
            (w, h), (ow, oh) = image.size, PAPER_SIZES[name]
            assert abs(w / h - ow / oh) < 0.01, (name, image.size)
            assert image.info.get("exif") is None  # no metadata carried over


def test_readme_credits_each_painter_and_the_photographs_licence():
    rows = _readme_rows()
    for name, painter in PAINTERS.items():
        rel = data.bundled(name).relative_to(data.DATA_DIR).as_posix()
        assert painter in rows[rel], rel
        assert ("CC BY-SA 3.0" if name == "tubingen" else "public domain") in rows[rel], rel
    assert "derivative" in rows["content/tubingen.jpg"]
    readme = (data.DATA_DIR / "README.md").read_text(encoding="utf-8")
    assert "https://creativecommons.org/licenses/by-sa/3.0/" in readme
    assert "https://creativecommons.org/licenses/by/2.0/" in readme  # flower, china


# The photographs: the file in its package's data folder (skimage/data, sklearn/datasets/images),
# original size, sha256 (scikit-image's _registry.py; the file in scikit-learn's wheel), licence.
PHOTOS = {
    "astronaut": ("skimage/data/astronaut.png", (512, 512), "88431cd9653c", "public domain"),
    "chelsea": ("skimage/data/chelsea.png", (451, 300), "596aa1e7cb87", "CC0"),
    "coffee": ("skimage/data/coffee.png", (600, 400), "cc02f8ca188b", "CC0"),
    "rocket": ("skimage/data/rocket.jpg", (640, 427), "c2dd0de7c538", "public domain"),
    "camera": ("skimage/data/camera.png", (512, 512), "b0793d2adda0", "CC0"),
    "coins": ("skimage/data/coins.png", (384, 303), "f8d773fc9cfa", "public domain"),
    "brick": ("skimage/data/brick.png", (512, 512), "7966caf324f6", "CC0"),
    "grass": ("skimage/data/grass.png", (512, 512), "b6b6022426b3", "CC0"),
    "gravel": ("skimage/data/gravel.png", (512, 512), "c48615b451bf", "CC0"),
    "hubble": ("skimage/data/hubble_deep_field.jpg", (1000, 872), "3a19c5dd8a92", "public domain"),
    "retina": ("skimage/data/retina.jpg", (1411, 1411), "38a07f36f27f", "CC0"),
    "ihc": ("skimage/data/ihc.png", (512, 512), "f8dd1aa387dd", "public domain"),
    "flower": ("sklearn/datasets/images/flower.jpg", (640, 427), "a77f6ec41e35", "CC BY 2.0"),
    "china": ("sklearn/datasets/images/china.jpg", (640, 427), "8378025ad251", "CC BY 2.0"),
}


def test_the_photographs_are_bundled_credited_and_kept_out_of_the_calibration_set():
    assert set(data.PHOTO_IMAGES) == set(PHOTOS)
    assert not set(data.PHOTO_IMAGES) & set(data.bundled())  # bundled() calibrates VGG19
    rows = _readme_rows()
    for name, (file, (ow, oh), source_sha, licence) in PHOTOS.items():
        path = data.content_path(name)
        assert path == data.PHOTO_IMAGES[name] == data.DATA_DIR / "photos" / f"{name}.jpg"
        with Image.open(path) as image:
            image.load()
            (w, h) = image.size
            assert image.mode == "RGB" and image.format == "JPEG", name
            assert max(w, h) == min(512, max(ow, oh)) and min(w, h) >= 256, (name, image.size)
            assert abs(w / h - ow / oh) < 0.01, (name, image.size)
        assert path.stat().st_size < 150_000, name  # grass and gravel: texture compresses badly
        row = rows[f"photos/{name}.jpg"]
        assert licence in row and f"`{file}`" in row and source_sha in row, row


def _original(file: str):
    """The original in an installed package: file is "skimage/data/..." or "sklearn/..."."""
    import importlib.util
    from pathlib import Path

    package, rest = file.split("/", 1)
    spec = importlib.util.find_spec(package)
    if spec is None:
        pytest.fail(f"{package} is not installed: run `make setup` (it is in the dev extra)")
    return Path(list(spec.submodule_search_locations)[0]) / rest


@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_each_photograph_is_its_original_reduced(name):
    """The copy against the original in its package's wheel, resized here by PIL alone."""
    import numpy as np

    file, size, source_sha, _ = PHOTOS[name]
    original = _original(file)
    assert hashlib.sha256(original.read_bytes()).hexdigest().startswith(source_sha)
    with Image.open(original) as full, Image.open(data.content_path(name)) as copy:
        assert full.size == size
        expected = full.convert("RGB").resize(copy.size, Image.LANCZOS)
        diff = np.abs(np.asarray(copy, float) - np.asarray(expected, float))  # JPEG q89: 2-3
    assert diff.mean() < 5 and np.percentile(diff, 99) < 40, (diff.mean(), np.percentile(diff, 99))


def test_sha256_streams_any_file(tmp_path):
    big = bytes(range(256)) * 9000 + b"tail"  # 2.2 MiB: more than one 1 MiB block
    for name, body in [("empty", b""), ("small", b"abc"), ("big", big)]:
        path = tmp_path / name
        path.write_bytes(body)
        assert data.sha256(path) == data.sha256(str(path)) == hashlib.sha256(body).hexdigest()
    assert data.sha256(tmp_path / "small") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # FIPS 180-2 "abc"
    )


def test_named_paths_and_clear_errors_for_bad_names():
    assert data.content_path() == data.CONTENT_IMAGES["grace_hopper"]
    assert data.style_path() == data.STYLE_IMAGES["swirls"]
    assert data.bundled("waves") == data.style_path("waves")
    with pytest.raises(ValueError, match="swirls, waves.*did you mean 'waves'"):
        data.style_path("wave")
    with pytest.raises(ValueError, match="grace_hopper"):
        data.content_path("hopper_grace")
    with pytest.raises(ValueError, match="did you mean 'starry_night'"):
        data.fetch("stary_night")
    with pytest.raises(ValueError, match="grace_hopper, landscape, tubingen, astronaut, chelsea"):
        data.content_path("starry_night")  # a painting is a style image
    with pytest.raises(ValueError, match="did you mean 'composition_vii'"):
        data.style_or_paper("composition_v11")


def test_registry_is_the_papers_images():
    assert set(data.REGISTRY) == {
        "tubingen",
        "starry_night",
        "the_scream",
        "shipwreck",
        "woman-with-hat-matisse",
    }
    for name, entry in data.REGISTRY.items():
        assert entry.file == name + ".jpg"
        assert re.fullmatch("[0-9a-f]{64}", entry.sha256)
    assert data.REGISTRY["starry_night"].sha256.startswith("0592ab0f7b51")


# ---------------------------------------------------------------- a local server


class _Handler(http.server.BaseHTTPRequestHandler):
    """GET /<mode>/<file>: ok serves the file, truncated cuts it short, slow never answers."""

    def do_GET(self):
        server = self.server
        server.requests.append(self.path)
        mode, _, name = self.path.strip("/").partition("/")
        body = server.files.get(name)
        if body is None or mode not in ("ok", "truncated", "slow"):
            self.send_error(404)
        elif mode == "slow":
            server.stop.wait(5)
        else:
            self.send_response(200)
            extra = 1000 if mode == "truncated" else 0
            self.send_header("Content-Length", str(len(body) + extra))
            self.end_headers()
            self.wfile.write(body if mode == "ok" else body[: len(body) // 2])

    def log_message(self, *args):
        pass


def _jpeg_bytes(colour) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """A fresh cache per test, and nothing ever goes to the real address."""
    monkeypatch.setenv("NST_TEACH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("NST_TEACH_DATA_MIRROR", raising=False)
    monkeypatch.delenv("NST_TEACH_OFFLINE", raising=False)
    monkeypatch.setattr(data, "BASE_URL", f"http://127.0.0.1:{_closed_port()}/")
    return tmp_path / "cache"


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.requests, httpd.stop = [], threading.Event()
    httpd.files = {}
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield httpd
    httpd.stop.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def tubingen(monkeypatch, server):
    """The server holds our own tubingen.jpg, and the registry expects its sha256."""
    body = _jpeg_bytes("orange")
    server.files["tubingen.jpg"] = body
    entry = data.REGISTRY["tubingen"]._replace(sha256=hashlib.sha256(body).hexdigest())
    monkeypatch.setitem(data.REGISTRY, "tubingen", entry)
    return body


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _files(folder):
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


# ---------------------------------------------------------------- fetch


@pytest.mark.parametrize("slash", ["", "/"])
def test_fetch_downloads_once_then_uses_the_cache(monkeypatch, server, tubingen, isolated, slash):
    monkeypatch.setenv("NST_TEACH_DATA_MIRROR", server.url + "/ok" + slash)
    path = data.fetch("tubingen")
    assert path == isolated / "tubingen.jpg"
    assert path.read_bytes() == tubingen
    assert server.requests == ["/ok/tubingen.jpg"]
    assert data.fetch("tubingen") == path
    assert len(server.requests) == 1
    assert _files(isolated) == ["tubingen.jpg"]


def test_wrong_hash_leaves_no_file(monkeypatch, server, tubingen, isolated):
    server.files["tubingen.jpg"] = _jpeg_bytes("blue")
    monkeypatch.setenv("NST_TEACH_DATA_MIRROR", server.url + "/ok")
    expected = data.REGISTRY["tubingen"].sha256[:12]
    with pytest.raises(data.DownloadError, match=f"expected {expected}"):
        data.fetch("tubingen")
    assert _files(isolated) == []


def test_truncated_download_leaves_no_file(monkeypatch, server, tubingen, isolated):
    monkeypatch.setenv("NST_TEACH_DATA_MIRROR", server.url + "/truncated")
    with pytest.raises(data.DownloadError, match="closed after"):
        data.fetch("tubingen")
    assert _files(isolated) == []


def test_http_404_names_the_url(monkeypatch, server, tubingen, isolated):
    monkeypatch.setenv("NST_TEACH_DATA_MIRROR", server.url + "/nothing-here")
    with pytest.raises(data.DownloadError, match="404") as info:
        data.fetch("tubingen")
    assert server.url + "/nothing-here/tubingen.jpg" in str(info.value)
    assert _files(isolated) == []


def test_slow_server_times_out(monkeypatch, server, tubingen, isolated):
    monkeypatch.setenv("NST_TEACH_DATA_MIRROR", server.url + "/slow")
    # The slow handler never answers: only the timeout gives this message (a fetch without it
    # fails after 5 s with another). No wall-clock assert: it would depend on the machine's load.
    with pytest.raises(data.DownloadError, match="timed out after 0.3 s"):
        data.fetch("tubingen", timeout=0.3)
    assert _files(isolated) == []


def test_offline_gives_one_line_that_says_what_to_do(monkeypatch, tubingen, isolated):
    url = f"http://127.0.0.1:{_closed_port()}/"
    monkeypatch.setenv("NST_TEACH_DATA_MIRROR", url)
    with pytest.raises(data.DownloadError) as info:
        data.fetch("tubingen")
    message = str(info.value)
    assert "\n" not in message
    assert url + "tubingen.jpg" in message
    assert "you seem to be offline" in message
    assert "NST_TEACH_DATA_MIRROR" in message and "content_path()" in message
    assert _files(isolated) == []


def test_corrupted_cache_is_replaced(monkeypatch, server, tubingen, isolated):
    isolated.mkdir(parents=True)
    (isolated / "tubingen.jpg").write_bytes(tubingen[:-10] + b"0123456789")
    monkeypatch.setenv("NST_TEACH_DATA_MIRROR", server.url + "/ok")
    assert data.fetch("tubingen").read_bytes() == tubingen
    assert server.requests == ["/ok/tubingen.jpg"]


def test_corrupted_cache_is_removed_even_when_offline(monkeypatch, tubingen, isolated):
    isolated.mkdir(parents=True)
    (isolated / "tubingen.jpg").write_bytes(b"not a picture")
    monkeypatch.setenv("NST_TEACH_DATA_MIRROR", f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(data.DownloadError):
        data.fetch("tubingen")
    assert _files(isolated) == []


@pytest.mark.parametrize("as_uri", [False, True])
def test_a_folder_or_file_url_works_as_mirror(monkeypatch, tmp_path, tubingen, isolated, as_uri):
    folder = tmp_path / "mirror"
    folder.mkdir()
    (folder / "tubingen.jpg").write_bytes(tubingen)
    monkeypatch.setenv("NST_TEACH_DATA_MIRROR", folder.as_uri() if as_uri else str(folder))
    assert data.fetch("tubingen").read_bytes() == tubingen
    (folder / "tubingen.jpg").unlink()
    with pytest.raises(data.DownloadError, match="no such file"):
        data.fetch("the_scream")


def test_interrupted_download_leaves_no_temp_file(monkeypatch, tubingen, isolated):
    def interrupted(url, out, timeout):
        out.write(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(data, "_download", interrupted)
    with pytest.raises(KeyboardInterrupt):
        data.fetch("tubingen")
    assert _files(isolated) == []


def test_offline_switch_makes_no_request(monkeypatch, server, tubingen):
    monkeypatch.setenv("NST_TEACH_DATA_MIRROR", server.url + "/ok")
    monkeypatch.setenv("NST_TEACH_OFFLINE", "1")
    with pytest.raises(data.DownloadError, match="NST_TEACH_OFFLINE"):
        data.fetch("tubingen")
    assert server.requests == []


def test_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("NST_TEACH_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.cache_dir() == tmp_path / "xdg" / "nst_teach"


# ---------------------------------------------------------------- notebook helpers


def test_list_images_reports_what_is_bundled_and_cached(monkeypatch, server, tubingen):
    monkeypatch.setenv("NST_TEACH_DATA_MIRROR", server.url + "/ok")
    table = data.list_images()
    rows = {row["name"]: row for row in table}
    assert set(rows) == set(data.bundled()) | set(data.REGISTRY) and len(rows) == len(table)
    assert set(table[0]) == {"name", "title", "licence", "bundled", "full_size"}
    assert rows["tubingen"]["bundled"] and rows["tubingen"]["full_size"] == "fetch() downloads it"
    assert rows["composition_vii"]["bundled"] and rows["composition_vii"]["full_size"] == "-"
    assert not rows["woman-with-hat-matisse"]["bundled"]
    assert rows["grace_hopper"]["bundled"] and rows["grace_hopper"]["full_size"] == "-"
    data.fetch("tubingen")
    rows = {row["name"]: row for row in data.list_images()}
    assert rows["tubingen"]["full_size"] == "cached"
    for words in ["Starry Night", "CC BY-SA 3.0", "Composition VII", "Praefcke"]:
        assert words in repr(table), words


@pytest.mark.parametrize("offline", [False, True])
def test_paper_images_come_bundled_at_once_without_the_network(
    monkeypatch, server, tubingen, capsys, offline
):
    server.files["starry_night.jpg"] = _jpeg_bytes("navy")
    monkeypatch.setenv("NST_TEACH_DATA_MIRROR", server.url + "/slow")  # would hang for 5 s
    if offline:
        monkeypatch.setenv("NST_TEACH_OFFLINE", "1")
    assert data.content_or_paper() == data.content_path("tubingen")
    assert data.style_or_paper() == data.style_path("starry_night")
    assert data.style_or_paper("composition_vii", "waves") == data.style_path("composition_vii")
    assert data.style_or_paper("the_scream", fallback="mosaic") == data.style_path("the_scream")
    assert server.requests == []  # not a single request, so no wait (the work done, not the clock)
    assert capsys.readouterr().out == ""


def test_a_cached_full_size_download_comes_first(monkeypatch, server, tubingen, isolated):
    monkeypatch.setenv("NST_TEACH_DATA_MIRROR", server.url + "/ok")
    full = data.fetch("tubingen")
    monkeypatch.setenv("NST_TEACH_DATA_MIRROR", server.url + "/slow")
    assert data.content_or_paper() == full == isolated / "tubingen.jpg"
    full.write_bytes(b"damaged")  # a damaged download is never handed out
    assert data.content_or_paper() == data.content_path("tubingen")
    assert server.requests == ["/ok/tubingen.jpg"]


@pytest.fixture
def matisse(monkeypatch, server):
    """The server holds our own woman-with-hat-matisse.jpg (the one paper image not bundled)."""
    body = _jpeg_bytes("green")
    server.files["woman-with-hat-matisse.jpg"] = body
    name = "woman-with-hat-matisse"
    entry = data.REGISTRY[name]._replace(sha256=hashlib.sha256(body).hexdigest())
    monkeypatch.setitem(data.REGISTRY, name, entry)
    return body


def test_an_image_not_bundled_is_downloaded_or_falls_back_with_a_note(
    monkeypatch, server, matisse, capsys
):
    name = "woman-with-hat-matisse"
    assert name not in data.bundled()
    monkeypatch.setenv("NST_TEACH_DATA_MIRROR", f"http://127.0.0.1:{_closed_port()}")
    assert data.style_or_paper(name) == data.style_path("swirls")
    assert f"Using the bundled image 'swirls' because '{name}'" in capsys.readouterr().out
    assert data.style_or_paper(name, "waves") == data.style_path("waves")
    assert "Using the bundled image 'waves'" in capsys.readouterr().out
    monkeypatch.setenv("NST_TEACH_DATA_MIRROR", server.url + "/ok")
    assert data.style_or_paper(name).read_bytes() == matisse
    assert capsys.readouterr().out == ""
    assert server.requests == [f"/ok/{name}.jpg"]
