"""Tests for nst_teach.images against pixel values drawn here and read back with PIL and NumPy."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import warnings
import zlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile, features

from nst_teach import images
from nst_teach.images import ImageError, load_image, save_image, show_images, to_pil

STEP = 1 / 255  # one 8-bit level


# ---------------------------------------------------------------- helpers


def assert_image(t: torch.Tensor, height: int, width: int) -> None:
    """The contract of load_image: (1, 3, H, W) float32, contiguous, CPU, in [0, 1]."""
    assert t.shape == (1, 3, height, width)
    assert t.dtype == torch.float32 and t.device.type == "cpu" and t.is_contiguous()
    assert t.min() >= 0 and t.max() <= 1


def hwc(t: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) tensor -> (H, W, 3) array, to compare with arrays drawn in NumPy."""
    return t[0].permute(1, 2, 0).numpy()


def assert_error(error: pytest.ExceptionInfo, path, phrase: str) -> None:
    message = str(error.value)
    assert os.path.basename(path) in message and phrase in message, message
    assert "\n" not in message


def rng_pixels(seed: int, shape) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def png_with_header_size(width: int, height: int) -> bytes:
    """A valid tiny PNG whose IHDR claims width x height (CRC fixed), as a decompression bomb."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


@pytest.fixture
def corner_photo() -> np.ndarray:
    """40 wide x 24 high, black, with a white 8x8 block in the top-left corner."""
    pixels = np.zeros((24, 40, 3), np.uint8)
    pixels[:8, :8] = 255
    return pixels


# ---------------------------------------------------------------- colour modes from files


def test_rgba_is_composited_onto_white(tmp_path):
    pixels = np.array([[[255, 0, 0, 128], [0, 0, 255, 0], [10, 20, 30, 255]]], np.uint8)
    path = tmp_path / "rgba.png"
    Image.fromarray(pixels, "RGBA").save(path)
    loaded = load_image(path)
    assert_image(loaded, 1, 3)
    alpha = pixels[..., 3:] / 255
    expected = (pixels[..., :3] / 255) * alpha + (1 - alpha)
    np.testing.assert_allclose(hwc(loaded), expected, atol=STEP)
    np.testing.assert_allclose(hwc(loaded)[0, 0], [1, 0.5, 0.5], atol=STEP)


def test_la_is_composited_onto_white(tmp_path):
    pixels = np.array([[[0, 128], [200, 255], [50, 0]]], np.uint8)
    path = tmp_path / "la.png"
    Image.fromarray(pixels, "LA").save(path)
    loaded = load_image(path)
    assert_image(loaded, 1, 3)
    alpha = pixels[..., 1] / 255
    grey = pixels[..., 0] / 255 * alpha + (1 - alpha)
    np.testing.assert_allclose(hwc(loaded), np.repeat(grey[..., None], 3, axis=2), atol=STEP)


def test_palette_with_transparency(tmp_path):
    image = Image.new("P", (3, 1))
    image.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255])
    image.putdata([0, 1, 2])
    image.info["transparency"] = 1  # the green entry is see-through
    path = tmp_path / "palette.png"
    image.save(path, transparency=1)
    assert Image.open(path).info.get("transparency") is not None
    loaded = load_image(path)
    np.testing.assert_allclose(hwc(loaded)[0], [[1, 0, 0], [1, 1, 1], [0, 0, 1]], atol=1e-6)


def test_cmyk_tiff_exact_and_jpeg_close(tmp_path):
    cmyk = np.zeros((16, 48, 4), np.uint8)
    cmyk[:, :16] = (255, 0, 0, 0)  # cyan
    cmyk[:, 16:32] = (0, 0, 0, 255)  # black
    cmyk[:, 32:] = (128, 0, 0, 128)
    tiff, jpeg = tmp_path / "cmyk.tif", tmp_path / "cmyk.jpg"
    Image.fromarray(cmyk, "CMYK").save(tiff)
    Image.fromarray(cmyk, "CMYK").save(jpeg, quality=95)
    assert Image.open(jpeg).mode == "CMYK"
    c, m, y, k = (cmyk[..., i].astype(float) for i in range(4))
    expected = np.stack([(255 - c) * (255 - k), (255 - m) * (255 - k), (255 - y) * (255 - k)], -1)
    expected /= 255 * 255
    np.testing.assert_allclose(hwc(load_image(tiff)), expected, atol=1.5 * STEP)
    loaded = hwc(load_image(jpeg))
    for block in (
        slice(0, 16),
        slice(16, 32),
        slice(32, 48),
    ):  # block means, away from JPEG ringing
        mean, want = loaded[4:12, block].mean((0, 1)), expected[4:12, block].mean((0, 1))
        np.testing.assert_allclose(mean, want, atol=0.03)


def test_16_bit_png_scales_by_65535(tmp_path):
    values = np.array([[0, 32768, 65535, 1000], [255, 256, 40000, 7]], np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    assert Image.open(path).mode.startswith("I")
    loaded = load_image(path)
    assert_image(loaded, 2, 4)
    expected = np.repeat((values / 65535)[..., None], 3, axis=2)
    np.testing.assert_allclose(hwc(loaded), expected, atol=1e-6)
    assert loaded[0, 0, 0, 2] == 1.0 and abs(loaded[0, 0, 0, 1] - 0.5) < 1e-4


def test_16_bit_tiff_and_resize_keep_the_depth(tmp_path):
    values = np.full((30, 60), 1000, np.uint16)  # 1000/65535: below one 8-bit level
    path = tmp_path / "deep.tif"
    Image.fromarray(values).save(path)
    loaded = load_image(path, max_size=20)
    assert_image(loaded, 10, 20)
    np.testing.assert_allclose(loaded.numpy(), 1000 / 65535, rtol=1e-4)


def test_grey_and_one_bit(tmp_path):
    grey = rng_pixels(1, (5, 7))
    Image.fromarray(grey, "L").save(tmp_path / "grey.png")
    np.testing.assert_allclose(
        hwc(load_image(tmp_path / "grey.png")), np.repeat(grey[..., None] / 255, 3, 2), atol=1e-6
    )
    bits = np.indices((6, 9)).sum(0) % 2 == 0  # a checkerboard
    Image.fromarray(bits).convert("1").save(tmp_path / "bits.png")
    assert Image.open(tmp_path / "bits.png").mode == "1"
    np.testing.assert_array_equal(
        hwc(load_image(tmp_path / "bits.png")), np.repeat(bits[..., None], 3, 2)
    )


@pytest.mark.parametrize(
    ("orientation", "rotate"),
    [(3, lambda a: np.rot90(a, 2)), (6, lambda a: np.rot90(a, -1)), (8, lambda a: np.rot90(a, 1))],
)
def test_exif_orientation(tmp_path, corner_photo, orientation, rotate):
    exif = Image.Exif()
    exif[274] = orientation
    path = tmp_path / f"turned{orientation}.jpg"
    Image.fromarray(corner_photo).save(path, exif=exif, quality=95)
    assert Image.open(path).getexif()[274] == orientation
    loaded = hwc(load_image(path))
    expected = (
        rotate(corner_photo) / 255
    )  # 3: 180 deg; 6: 90 deg clockwise; 8: 90 deg anticlockwise
    assert loaded.shape == expected.shape
    assert np.abs(loaded - expected).mean() < 0.02
    bright = {"top-left": loaded[:8, :8], "top-right": loaded[:8, -8:]}
    bright |= {"bottom-left": loaded[-8:, :8], "bottom-right": loaded[-8:, -8:]}
    corner = {3: "bottom-right", 6: "top-right", 8: "bottom-left"}[orientation]
    assert max(bright, key=lambda name: bright[name].mean()) == corner


def test_progressive_jpeg(tmp_path, corner_photo):
    path = tmp_path / "progressive.jpg"
    Image.fromarray(corner_photo).save(path, progressive=True, quality=95)
    assert Image.open(path).info.get("progressive") or Image.open(path).info.get("progression")
    loaded = load_image(path)
    assert_image(loaded, 24, 40)
    assert np.abs(hwc(loaded) - corner_photo / 255).mean() < 0.02


def test_animated_gif_gives_the_first_frame(tmp_path):
    frames = [
        Image.new("RGB", (8, 6), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))
    ]
    path = tmp_path / "animated.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(path).n_frames == 3
    loaded = load_image(path)
    assert_image(loaded, 6, 8)
    np.testing.assert_allclose(loaded[0, :, 0, 0].numpy(), [1, 0, 0], atol=1e-6)


@pytest.mark.skipif(not features.check("webp"), reason="this Pillow has no WebP support")
def test_webp_still_and_animated(tmp_path):
    pixels = rng_pixels(2, (5, 7, 3))
    Image.fromarray(pixels).save(tmp_path / "still.webp", lossless=True)
    np.testing.assert_allclose(hwc(load_image(tmp_path / "still.webp")), pixels / 255, atol=1e-6)
    frames = [Image.new("RGB", (8, 6), colour) for colour in ((0, 0, 255), (255, 0, 0))]
    path = tmp_path / "animated.webp"
    frames[0].save(path, save_all=True, append_images=frames[1:], lossless=True, duration=100)
    assert Image.open(path).n_frames == 2
    np.testing.assert_allclose(load_image(path)[0, :, 0, 0].numpy(), [0, 0, 1], atol=STEP)


def test_tiny_images_load_exactly(tmp_path):
    for height, width in ((1, 1), (5, 7)):
        pixels = rng_pixels(height * width, (height, width, 3))
        path = tmp_path / f"tiny{height}x{width}.png"
        Image.fromarray(pixels).save(path)
        loaded = load_image(path)
        assert_image(loaded, height, width)
        np.testing.assert_allclose(hwc(loaded), pixels / 255, atol=1e-6)


# ---------------------------------------------------------------- max_size


def test_extreme_aspect_never_collapses_to_zero(tmp_path):
    path = tmp_path / "strip.png"
    Image.new("RGB", (4000, 8), (0, 128, 255)).save(path)
    loaded = load_image(path, max_size=64)
    assert_image(loaded, 1, 64)
    np.testing.assert_allclose(loaded[0, :, 0, 0].numpy(), [0, 128 / 255, 1], atol=STEP)
    assert_image(load_image(torch.rand(3, 4000, 8), max_size=64), 64, 1)


def test_max_size_never_upscales(tmp_path):
    pixels = rng_pixels(3, (20, 10, 3))
    path = tmp_path / "small.png"
    Image.fromarray(pixels).save(path)
    for max_size in (20, 21, 1000):
        np.testing.assert_allclose(
            hwc(load_image(path, max_size=max_size)), pixels / 255, atol=1e-6
        )
    assert_image(load_image(path, max_size=5), 5, 2)  # 10 * 5 / 20 = 2.5 rounds to 2


def test_max_size_keeps_aspect_and_mean(tmp_path):
    pixels = rng_pixels(4, (300, 400, 3))
    path = tmp_path / "noise.png"
    Image.fromarray(pixels).save(path)
    loaded = load_image(path, max_size=100)
    assert_image(loaded, 75, 100)
    np.testing.assert_allclose(hwc(loaded).mean((0, 1)), pixels.mean((0, 1)) / 255, atol=0.01)


@pytest.mark.parametrize("bad", [0, -3])
def test_max_size_must_be_positive(tmp_path, bad):
    with pytest.raises(ValueError, match="max_size"):
        load_image(torch.rand(3, 4, 4), max_size=bad)


@pytest.mark.parametrize("bad", [True, 2.5, "64"])
def test_max_size_must_be_a_whole_number(bad):
    with pytest.raises(TypeError):
        load_image(torch.rand(3, 4, 4), max_size=bad)


# ---------------------------------------------------------------- broken files


def test_truncated_png_and_jpeg(tmp_path):
    pixels = rng_pixels(5, (64, 64, 3))
    for suffix in ("png", "jpg"):
        whole = io.BytesIO()
        Image.fromarray(pixels).save(whole, format="PNG" if suffix == "png" else "JPEG")
        path = tmp_path / f"half.{suffix}"
        path.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
        with pytest.raises(ImageError) as error:
            load_image(path)
        assert_error(error, path, ": file is truncated or corrupt (")


def test_pil_does_not_load_truncated_images_silently():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.touch()
    with pytest.raises(ImageError) as error:
        load_image(path)
    assert_error(error, path, "file is empty")


def test_text_named_jpg(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a picture\n")
    with pytest.raises(ImageError) as error:
        load_image(str(path))
    assert_error(error, path, "not an image PIL can read")


def test_directory(tmp_path):
    folder = tmp_path / "pictures.jpg"
    folder.mkdir()
    with pytest.raises(ImageError) as error:
        load_image(folder)
    assert_error(error, folder, "is a directory, not an image")


def test_missing_path(tmp_path):
    path = tmp_path / "nowhere.png"
    with pytest.raises(ImageError) as error:
        load_image(path)
    assert_error(error, path, "no such file")


def test_decompression_bomb_header(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_with_header_size(20_000, 20_000))
    with pytest.raises(Image.DecompressionBombError):  # PIL itself refuses 400 MP outright
        Image.open(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may escape as a warning
        with pytest.raises(ImageError) as error:
            load_image(path)
    assert_error(error, path, "too many pixels")


def test_max_pixels_is_checked_before_decoding(tmp_path, monkeypatch):
    path = tmp_path / "moderate.png"
    path.write_bytes(png_with_header_size(12_000, 9_000))  # above MAX_PIXELS, below PIL's error
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImageError) as error:
            load_image(path)
    assert_error(error, path, "too many pixels")
    # A truncated file: the limit must fire before decoding would find the damage.
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    whole = io.BytesIO()
    Image.fromarray(rng_pixels(6, (20, 20, 3))).save(whole, format="PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(whole.getvalue()[:-30])
    with pytest.raises(ImageError) as error:
        load_image(path)
    assert_error(error, path, "too many pixels")


def test_pil_bomb_warning_is_not_a_limit_of_ours(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # PIL warns above 100, refuses above 200
    Image.new("RGB", (12, 12), (9, 9, 9)).save(tmp_path / "warned.png")
    Image.new("RGB", (20, 20)).save(tmp_path / "refused.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_image(load_image(tmp_path / "warned.png"), 12, 12)
        with pytest.raises(ImageError) as error:
            load_image(tmp_path / "refused.png")
    assert_error(error, tmp_path / "refused.png", "too many pixels")


@pytest.mark.parametrize("source", [3.5, [[0.0]], b"raw bytes", None])
def test_unsupported_source_type(source):
    with pytest.raises((TypeError, ImageError)):
        load_image(source)


# ---------------------------------------------------------------- tensors and PIL images


def test_tensor_layouts_and_dtypes():
    image = torch.rand(3, 5, 7)
    for variant in (image, image[None], image.double()):
        loaded = load_image(variant)
        assert_image(loaded, 5, 7)
        torch.testing.assert_close(loaded[0], image)
    bytes_ = torch.randint(0, 256, (3, 5, 7), dtype=torch.uint8)
    torch.testing.assert_close(load_image(bytes_)[0], bytes_.float() / 255)
    grey = torch.rand(1, 5, 7)
    for variant in (grey, grey[None]):
        torch.testing.assert_close(load_image(variant)[0], grey.expand(3, -1, -1))


def test_tensor_input_is_copied_and_detached():
    image = torch.rand(1, 3, 4, 4, requires_grad=True)
    before = image.detach().clone()
    loaded = load_image(image)
    assert not loaded.requires_grad
    loaded.zero_()
    torch.testing.assert_close(image.detach(), before)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (4, 6, 6), (6, 6), (1, 2, 6, 6), (3, 0, 4)])
def test_tensor_bad_shape(shape):
    with pytest.raises(ImageError) as error:
        load_image(torch.rand(shape))
    assert str(tuple(shape)) in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("bad", [1.5, -0.1, float("nan")])
def test_tensor_values_outside_unit_range(bad):
    image = torch.rand(3, 4, 4)
    image[0, 0, 0] = bad
    with pytest.raises(ImageError):
        load_image(image)


def test_tensor_resize_keeps_a_flat_colour_and_aspect():
    image = torch.tensor([0.2, 0.5, 0.9]).view(1, 3, 1, 1).expand(1, 3, 40, 80)
    loaded = load_image(image, max_size=20)
    assert_image(loaded, 10, 20)
    torch.testing.assert_close(loaded, image[..., :10, :20])


def test_pil_inputs_in_several_modes():
    pixels = rng_pixels(7, (6, 4, 3))
    source = Image.fromarray(pixels)
    np.testing.assert_allclose(hwc(load_image(source)), pixels / 255, atol=1e-6)
    assert source.mode == "RGB" and source.size == (4, 6)  # the caller's image is untouched
    deep = Image.fromarray(np.array([[0, 70000, 2**31 - 1]], np.int32))
    assert deep.mode == "I"
    np.testing.assert_allclose(load_image(deep)[0, 0, 0].numpy(), [0, 70000 / (2**31 - 1), 1])
    sixteen_in_i = Image.fromarray(np.array([[0, 32768, 65535]], np.int32))
    np.testing.assert_allclose(load_image(sixteen_in_i)[0, 0, 0].numpy(), [0, 32768 / 65535, 1])
    unit = Image.fromarray(np.array([[0.0, 0.25, 1.0]], np.float32))
    assert unit.mode == "F"
    np.testing.assert_allclose(load_image(unit)[0, 0, 0].numpy(), [0, 0.25, 1])
    scaled = Image.fromarray(np.array([[0.0, 51.0, 255.0]], np.float32))
    np.testing.assert_allclose(load_image(scaled)[0, 0, 0].numpy(), [0, 0.2, 1], atol=1e-6)


@pytest.mark.skipif(not features.check("littlecms2"), reason="this Pillow has no littlecms")
def test_lab_is_converted_not_relabelled():
    lab = Image.new("LAB", (2, 1))
    lab.putpixel((0, 0), (255, 128, 128))  # L* = 100, a* = b* = 0: white
    lab.putpixel((1, 0), (0, 128, 128))  # L* = 0: black
    np.testing.assert_allclose(hwc(load_image(lab))[0], [[1, 1, 1], [0, 0, 0]], atol=0.02)


# ---------------------------------------------------------------- saving


def test_save_round_trip_png(tmp_path):
    image = torch.rand(1, 3, 9, 13)
    path = save_image(image, str(tmp_path / "new" / "deeper" / "out.png"))
    assert path == tmp_path / "new" / "deeper" / "out.png" and isinstance(path, type(tmp_path))
    with Image.open(path) as saved:
        assert saved.format == "PNG"
        stored = np.asarray(saved)
    np.testing.assert_array_equal(stored, np.round(hwc(image) * 255))  # independent of load_image
    torch.testing.assert_close(load_image(path), image, atol=0.5 * STEP, rtol=0)


def test_save_jpeg_clamps_and_accepts_3d(tmp_path):
    image = torch.tensor([-1.0, 0.5, 2.0]).view(3, 1, 1).expand(3, 16, 16)
    path = save_image(image, tmp_path / "out.JPG")
    with Image.open(path) as saved:
        assert saved.format == "JPEG"
    np.testing.assert_allclose(hwc(load_image(path))[8, 8], [0, 0.5, 1], atol=3 * STEP)


def test_save_leaves_no_temp_files_and_unknown_extension(tmp_path):
    for name in ("a.png", "b.jpg", "a.png"):
        save_image(torch.rand(3, 4, 4), tmp_path / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.jpg"]
    with pytest.raises(ImageError) as error:
        save_image(torch.rand(3, 4, 4), tmp_path / "c.unknown")
    assert_error(error, "c.unknown", "unknown extension")


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    path = save_image(torch.zeros(3, 4, 4), tmp_path / "keep.png")
    before = path.read_bytes()

    def crash(self, fp, *args, **kwargs):
        fp.write(b"half a file")
        raise RuntimeError("disk full")

    monkeypatch.setattr(Image.Image, "save", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        save_image(torch.ones(3, 4, 4), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]


def test_to_pil():
    image = torch.rand(1, 3, 5, 7)
    picture = to_pil(image)
    assert picture.mode == "RGB" and picture.size == (7, 5)
    np.testing.assert_array_equal(np.asarray(picture), np.round(hwc(image) * 255))


# ---------------------------------------------------------------- showing


def test_show_images_grid(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    tensors = [torch.rand(3, 6, 8), torch.rand(1, 3, 6, 8)]
    batch = torch.rand(2, 3, 4, 4)
    picture = Image.fromarray(rng_pixels(8, (5, 5, 3)))
    fig = show_images([*tensors, batch, picture], titles=list("abcde"))
    try:
        assert len(fig.axes) == 8  # 5 pictures in rows of 4
        assert all(not ax.axison for ax in fig.axes)
        assert [ax.get_title() for ax in fig.axes[:5]] == list("abcde")
        first = fig.axes[0].get_images()[0].get_array()
        np.testing.assert_allclose(first, tensors[0].permute(1, 2, 0).numpy())
        assert len(fig.axes[5].get_images()) == 0
    finally:
        plt.close(fig)
    fig = show_images(torch.rand(3, 4, 4) * 3, ncols=1)  # a result slightly out of range is clamped
    assert len(fig.axes) == 1 and fig.axes[0].get_images()[0].get_array().max() <= 1
    plt.close(fig)
    with pytest.raises(ValueError):
        show_images([torch.rand(3, 4, 4)], titles=["one", "two"])


def test_importing_the_package_does_not_import_matplotlib():
    code = "import sys, nst_teach.images; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# ---------------------------------------------------------------- properties


def _draw(mode: str, height: int, width: int, seed: int):
    """A random image in `mode`, the file suffix that can hold it, and its RGB value by hand."""
    rng = np.random.default_rng(seed)
    if mode == "I;16":
        values = rng.integers(0, 65536, (height, width), dtype=np.uint16)
        return Image.fromarray(values), "png", np.repeat(values[..., None] / 65535, 3, 2)
    if mode == "1":
        bits = rng.integers(0, 2, (height, width)).astype(bool)
        return Image.fromarray(bits).convert("1"), "png", np.repeat(bits[..., None], 3, 2) * 1.0
    if mode == "P":
        palette = rng.integers(0, 256, (256, 3), dtype=np.uint8)
        index = rng.integers(0, 256, (height, width), dtype=np.uint8)
        image = Image.fromarray(index, "L").convert("P")
        image.putpalette(palette.ravel().tolist())
        image.putdata(index.ravel().tolist())
        return image, "png", palette[index] / 255
    channels = {"RGB": 3, "RGBA": 4, "L": 1, "LA": 2, "CMYK": 4}[mode]
    pixels = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    image = Image.fromarray(pixels[..., 0] if channels == 1 else pixels, mode)
    values = pixels / 255
    if mode == "CMYK":
        ink = 1 - values
        return image, "tif", ink[..., :3] * ink[..., 3:]
    if mode in ("RGBA", "LA"):
        colour, alpha = values[..., :-1], values[..., -1:]
        values = colour * alpha + (1 - alpha)
    return image, "png", np.broadcast_to(values, (height, width, 3)) * 1.0


MODES = ["RGB", "RGBA", "L", "LA", "P", "CMYK", "I;16", "1"]


@settings(max_examples=50, deadline=None)
@given(
    mode=st.sampled_from(MODES),
    height=st.integers(1, 64),
    width=st.integers(1, 64),
    max_size=st.none() | st.integers(1, 80),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_mode_and_size_loads(tmp_path_factory, mode, height, width, max_size, seed):
    image, suffix, expected = _draw(mode, height, width, seed)
    path = tmp_path_factory.getbasetemp() / f"property_{mode.replace(';', '_')}.{suffix}"
    image.save(path)
    loaded = load_image(path, max_size=max_size)
    if max_size is None or max(height, width) <= max_size:
        assert_image(loaded, height, width)
        np.testing.assert_allclose(hwc(loaded), expected, atol=1.5 * STEP)
    else:
        new_height, new_width = loaded.shape[-2:]
        assert_image(loaded, new_height, new_width)
        (long, new_long), (short, new_short) = sorted(
            [(height, new_height), (width, new_width)], key=lambda pair: -pair[0]
        )
        assert new_long == max_size and new_short >= 1
        assert abs(new_short - max(1, short * max_size / long)) <= 0.5
