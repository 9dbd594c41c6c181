"""Images in and out: files, PIL images and tensors as (1, 3, H, W) float32 in [0, 1].

Every notebook loads its content and style pictures with ``load_image`` and draws them with
``show_images``. Loading is strict: a bad file raises ``ImageError`` naming the file and a fix.
"""

from __future__ import annotations

import operator
import os
import secrets
import struct
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch.nn.functional import interpolate

MAX_PIXELS = 10_000 * 10_000  # checked from the header, before any pixel is decoded
JPEG_QUALITY = 95
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error)
_FIX = "re-download or re-export it"


class ImageError(ValueError):
    """A picture that cannot be read or used; the one-line message names the file and a fix."""


def load_image(source, max_size: int | None = None) -> torch.Tensor:
    """Read a picture as a (1, 3, H, W) float32 tensor in [0, 1], longest side at most max_size.

    source: a path, a PIL image, or a tensor (3, H, W) / (1, 3, H, W) (grey and uint8 accepted).
    Used in every notebook: ``content_image = load_image("data/content/landscape.jpg", 512)``.
    """
    max_size = _check_max_size(max_size)
    if isinstance(source, torch.Tensor):
        return _from_tensor(source, max_size)
    if isinstance(source, Image.Image):
        name = getattr(source, "filename", "")
        subject = f"cannot read image {_quote(name)}" if name else "cannot use PIL image"
        return _from_pil(source, max_size, subject)
    if isinstance(source, (str, os.PathLike)):
        return _from_file(source, max_size)
    raise TypeError(
        f"load_image expects a path, a PIL image or a tensor, not {type(source).__name__}"
    )


def to_pil(image) -> Image.Image:
    """(1, 3, H, W) or (3, H, W) tensor in [0, 1] -> RGB PIL image (clamped, rounded to 0..255)."""
    if isinstance(image, Image.Image):
        batch = load_image(image)
    elif isinstance(image, torch.Tensor):
        batch = _tensor_batch(image, "cannot convert tensor to a PIL image")
    else:
        raise TypeError(f"to_pil expects a tensor or a PIL image, not {type(image).__name__}")
    pixels = (batch[0].nan_to_num(0.0).clamp(0, 1) * 255).round().to(torch.uint8)
    return Image.fromarray(pixels.permute(1, 2, 0).contiguous().numpy())


def save_image(image, path) -> Path:
    """Write a (1, 3, H, W) or (3, H, W) tensor in [0, 1] as PNG or JPEG (by extension), atomically.

    Creates the parent folder. Returns the path. Used by the notebooks and the CLI to keep results.
    """
    path = Path(path)
    file_format = Image.registered_extensions().get(path.suffix.lower())
    if file_format is None:
        raise ImageError(
            f"cannot save image {_quote(path)}: unknown extension {path.suffix!r} "
            "(use .png or .jpg)"
        )
    picture = to_pil(image)
    options = {"quality": JPEG_QUALITY} if file_format == "JPEG" else {}
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target, then rename: a crash leaves the old file or the new one, never half.
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        # O_EXCL never reuses a file; mode 0o666 lets the umask apply, as for a plain open().
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        with os.fdopen(os.open(temp, flags, 0o666), "wb") as file:
            picture.save(file, format=file_format, **options)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path


def show_images(images, titles=None, ncols: int | None = None, size: float = 3.0):
    """Draw pictures in a grid, with titles and no axes; returns the matplotlib Figure.

    images: one or a list of (3, H, W) / (B, 3, H, W) tensors or PIL images; size: inches per cell.
    Used in every notebook. As a cell's last line, end it with ';' so the figure shows once.
    """
    import matplotlib.pyplot as plt  # imported here so that `import nst_teach` stays light

    pictures = _picture_list(images)
    titles = [None] * len(pictures) if titles is None else list(titles)
    if len(titles) != len(pictures):
        raise ValueError(f"got {len(pictures)} images but {len(titles)} titles")
    ncols = min(len(pictures), 4) if ncols is None else ncols
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}")
    nrows = -(-len(pictures) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False, layout="constrained"
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, picture, title in zip(axes.flat, pictures, titles, strict=False):
        ax.imshow(picture[0].permute(1, 2, 0).numpy())
        if title is not None:
            ax.set_title(str(title))
    return fig


def _picture_list(images) -> list[torch.Tensor]:
    """Whatever show_images was given -> list of (1, 3, H, W) tensors clamped to [0, 1]."""
    if isinstance(images, (torch.Tensor, Image.Image)):
        images = [images]
    pictures = []
    for image in images:
        if isinstance(image, torch.Tensor) and image.ndim == 4 and image.shape[0] > 1:
            pictures.extend(image.split(1))
        else:
            pictures.append(image)
    if not pictures:
        raise ValueError("show_images needs at least one image")
    return [
        load_image(p) if isinstance(p, Image.Image) else _tensor_batch(p, "cannot show tensor")
        for p in pictures
    ]


def _check_max_size(max_size) -> int | None:
    if max_size is None:
        return None
    if isinstance(max_size, bool):
        raise TypeError("max_size must be a whole number of pixels, not a bool")
    max_size = operator.index(max_size)  # 512 and np.int64(512) pass; 512.0 raises TypeError
    if max_size <= 0:
        raise ValueError(f"max_size must be a positive number of pixels, got {max_size}")
    return max_size


def _fit(size: tuple[int, int], max_size: int | None) -> tuple[int, int]:
    """(w, h) scaled so that the longest side is max_size; never upscaled, never below 1 px."""
    w, h = size
    if max_size is None or max(w, h) <= max_size:
        return w, h
    if w >= h:
        return max_size, max(1, round(h * max_size / w))
    return max(1, round(w * max_size / h)), max_size


def _quote(name) -> str:
    name = os.fsdecode(name)
    return f"'{name}'" if name.isprintable() else repr(name)  # keeps the message on one line


def _from_file(source, max_size: int | None) -> torch.Tensor:
    subject = f"cannot read image {_quote(source)}"
    path = Path(os.fsdecode(source)).expanduser()
    if path.is_dir():
        raise ImageError(f"{subject}: is a directory, not an image (pick a file inside it)")
    if not path.exists():
        raise ImageError(f"{subject}: no such file (relative paths start at {os.getcwd()})")
    if path.stat().st_size == 0:
        raise ImageError(f"{subject}: file is empty ({_FIX})")
    # PIL warns above its own limit, which is lower than MAX_PIXELS: MAX_PIXELS alone decides.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(path)  # reads the header only
        except UnidentifiedImageError:
            raise ImageError(
                f"{subject}: not an image PIL can read (is it really a picture?)"
            ) from None
        except Image.DecompressionBombError as error:
            raise ImageError(
                f"{subject}: too many pixels ({_one_line(error)}; shrink it first)"
            ) from None
        except PermissionError:
            raise ImageError(
                f"{subject}: permission denied (check the file's permissions)"
            ) from None
        except _DECODE_ERRORS as error:
            raise ImageError(
                f"{subject}: file is truncated or corrupt ({_one_line(error)}; {_FIX})"
            ) from error
        with image:
            return _from_pil(image, max_size, subject)


def _from_pil(image: Image.Image, max_size: int | None, subject: str) -> torch.Tensor:
    w, h = image.size
    if w * h > MAX_PIXELS:
        raise ImageError(
            f"{subject}: too many pixels ({w} x {h} = {w * h:,}, over MAX_PIXELS = {MAX_PIXELS:,}; "
            "a decompression bomb? shrink it first, or raise nst_teach.images.MAX_PIXELS)"
        )
    if w == 0 or h == 0:
        raise ImageError(f"{subject}: image has no pixels ({w} x {h})")
    try:
        image.load()  # decodes; for an animated GIF or WebP this is the first frame
    except _DECODE_ERRORS as error:
        raise ImageError(
            f"{subject}: file is truncated or corrupt ({_one_line(error)}; {_FIX})"
        ) from error
    image = _upright(image)
    try:
        pixels = _pixels(image, _fit(image.size, max_size))
    except (ValueError, OSError, ImportError) as error:
        raise ImageError(
            f"{subject}: cannot convert colour mode {image.mode!r} to RGB ({_one_line(error)}; "
            "save it as RGB in an image editor)"
        ) from error
    return torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))[None]


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation tag: cameras store portrait photos sideways and say so there."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # broken EXIF is common and the pixels are still fine, so keep them as stored
        return image


def _pixels(image: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """A decoded PIL image in any mode -> (H, W, 3) float32 in [0, 1], resized to size = (w, h)."""
    if image.mode.startswith(("I", "F")):  # 16/32-bit integers and floats: keep every bit
        grey = _high_bit_grey(image)
        if size != image.size:
            grey = np.array(Image.fromarray(grey).resize(size, Image.LANCZOS, reducing_gap=3.0))
        return np.repeat(np.clip(grey, 0, 1)[..., None], 3, axis=2)
    rgb = _to_rgb(image)
    if size != rgb.size:
        rgb = rgb.resize(size, Image.LANCZOS, reducing_gap=3.0)
    return np.asarray(rgb, dtype=np.float32) / 255


def _high_bit_grey(image: Image.Image) -> np.ndarray:
    """I;16*, I and F modes -> (H, W) float32 in [0, 1]. PIL's convert('RGB') clips them at 255."""
    values = np.nan_to_num(np.array(image, dtype=np.float64))
    if image.mode == "F":
        scale = 1.0 if values.max() <= 1 else 255.0  # PIL's own convention for F is 0..255
    elif image.mode == "I" and values.max() > 65535:
        scale = 2.0**31 - 1  # genuinely 32-bit data
    else:
        scale = 65535.0  # I;16 modes, and I as older Pillows open 16-bit PNGs
    return (values / scale).astype(np.float32)


def _to_rgb(image: Image.Image) -> Image.Image:
    """An 8-bit PIL image in any mode -> RGB, transparent parts composited onto white."""
    if image.mode == "LAB":
        return _lab_to_rgb(image)
    if image.mode == "La":
        image = image.convert("LA")  # PIL has no direct La -> RGBA
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def _lab_to_rgb(image: Image.Image) -> Image.Image:
    """CIE L*a*b* -> sRGB through littlecms: PIL's convert('RGB') only relabels the channels."""
    from PIL import ImageCms

    lab, srgb = ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB")
    try:
        return ImageCms.applyTransform(image, ImageCms.buildTransform(lab, srgb, "LAB", "RGB"))
    except ImageCms.PyCMSError as error:
        raise ValueError(str(error)) from error


def _from_tensor(image: torch.Tensor, max_size: int | None) -> torch.Tensor:
    subject = "cannot use tensor as an image"
    batch = _tensor_batch(image, subject)
    if not torch.isfinite(batch).all():
        raise ImageError(f"{subject}: it contains NaN or infinite values")
    low, high = batch.min().item(), batch.max().item()
    if low < 0 or high > 1:
        raise ImageError(
            f"{subject}: values span [{low:.3g}, {high:.3g}], not [0, 1] "
            "(clamp with image.clamp(0, 1), or undo the ImageNet normalisation first)"
        )
    height, width = batch.shape[-2:]
    w, h = _fit((width, height), max_size)
    if (w, h) != (width, height):
        batch = interpolate(batch, size=(h, w), mode="bilinear", antialias=True).clamp(0, 1)
    return batch.clone(memory_format=torch.contiguous_format)  # never an alias of the input


def _tensor_batch(image: torch.Tensor, subject: str) -> torch.Tensor:
    """(3, H, W), (1, 3, H, W) or grey (1, H, W), (1, 1, H, W) -> (1, 3, H, W) float32 on CPU."""
    batch = image.detach().cpu()
    batch = batch[None] if batch.ndim == 3 else batch
    if batch.ndim != 4 or batch.shape[:2] not in ((1, 1), (1, 3)) or 0 in batch.shape:
        raise ImageError(
            f"{subject}: shape {tuple(image.shape)} is not (3, H, W) or (1, 3, H, W) "
            "(grey (1, H, W) also works; pick one image of a batch with images[i])"
        )
    if batch.dtype == torch.uint8:
        batch = batch.float() / 255
    elif batch.dtype == torch.bool or batch.is_floating_point():
        batch = batch.float()
    else:
        raise ImageError(
            f"{subject}: dtype {image.dtype} is not float or uint8 (use image.float())"
        )
    return batch.expand(1, 3, -1, -1)


def _one_line(error) -> str:
    return " ".join(str(error).split())


def resize_longest(image: torch.Tensor, size: int) -> torch.Tensor:
    """(B, C, H, W) -> the image with its longer side ``size`` px (antialiased when shrinking)."""
    h, w = image.shape[-2:]
    scale = size / max(h, w)
    if scale == 1:
        return image
    new = (max(1, round(h * scale)), max(1, round(w * scale)))
    out = torch.nn.functional.interpolate(image, size=new, mode="bilinear", antialias=scale < 1,
                                          align_corners=False)
    return out.clamp(0, 1)
