"""The training photographs of real-time style transfer and the random crops cut from them.

Taught in notebook 11. The photos are offline and bundled (``data.PHOTO_IMAGES``): twelve from
scikit-image's wheel (greyscale textures, a galaxy field, a retina and a microscope slide among
them) and one from scikit-learn's; the paper's Tübingen, Grace Hopper's portrait,
scikit-learn's temple in China and the drawn landscape are kept out (``HELD_OUT``), to judge the
network on images it has never seen.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
import torch.nn.functional as nnf

from .. import data
from ..images import load_image

# The default training photographs, all bundled (data/README.md). The other bundled content
# images are never trained on by default, so that notebook 11 and benchmarks/feedforward_bench.py
# judge the network on three photographs and a drawing it has not seen.
TRAINING_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "camera", "coins", "brick", "grass",
                   "gravel", "hubble", "retina", "ihc", "flower")
HELD_OUT = ("tubingen", "grace_hopper", "china", "landscape")
MAX_SCALE = 2.0  # a crop covers 1/MAX_SCALE to all of a photo's shorter side
JITTER = 0.15  # brightness, contrast and saturation each scaled by 1 +- up to JITTER
LUMA = (0.299, 0.587, 0.114)  # Rec. 601 weights: the grey a saturation of 0 leaves


def training_photos() -> dict[str, Path]:
    """The default training photographs by name: TRAINING_PHOTOS, all bundled."""
    return {name: data.content_path(name) for name in TRAINING_PHOTOS}


def describe_image(source) -> dict:
    """Where an image came from, for a manifest: {"name", "source", "sha256"} (a tensor: its
    bytes' sha256)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        bundled = {p.resolve(): n for n, p in {**data.bundled(), **data.PHOTO_IMAGES}.items()}
        known = path.resolve() in bundled
        where = f"nst_teach data/{path.parent.name}/{path.name}" if known else str(path)
        return {"name": bundled.get(path.resolve(), path.stem), "source": where,
                "sha256": data.sha256(path)}
    image = load_image(source)
    digest = hashlib.sha256(image.numpy().tobytes()).hexdigest()
    return {"name": f"tensor{tuple(image.shape)}", "source": "float32 tensor in [0, 1]",
            "sha256": digest}


def photo_sources(content_images) -> list:
    """The training images as load_image sources: the default photos, or names, paths, tensors."""
    if content_images is None:
        return list(training_photos().values())
    if isinstance(content_images, (str, Path, torch.Tensor)):
        content_images = [content_images]
    sources = [data.content_path(s) if _is_photo_name(s) else s for s in content_images]
    if not sources:
        raise ValueError("content_images is empty: give at least one photograph, "
                         "or None for the default ones")
    return sources


def _is_photo_name(name) -> bool:
    """A bundled content image's name (not a file of that name in the working folder)."""
    names = {**data.CONTENT_IMAGES, **data.PAPER_CONTENT_IMAGES, **data.PHOTO_IMAGES}
    return isinstance(name, str) and name in names and not Path(name).exists()


class CropSampler:
    """Random training crops of photographs: (B, 3, size, size) in [0, 1], reproducible by seed.

    Each crop: a photo chosen at random (each equally likely), a square covering 1/MAX_SCALE to
    all of its shorter side (a random scale), at a random place, resized to size x size
    (bilinear, antialiased), flipped left-right half the time, and its colours jittered
    (``jitter_colours``; jitter=0 leaves them): a few photos look like many more.
    """

    def __init__(self, photos: list[torch.Tensor], size: int, seed: int, jitter: float = JITTER):
        if not 0 <= jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), got {jitter!r}")
        self.photos, self.size, self.jitter = photos, size, jitter
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, batch_size: int) -> torch.Tensor:
        return torch.cat([self.crop() for _ in range(batch_size)])

    def crop(self) -> torch.Tensor:
        """One random crop: (1, 3, size, size)."""
        draws = torch.rand(8, generator=self.generator)  # 8 whatever jitter is: the same places
        pick, scale, top, left, flip = draws[:5].tolist()
        photo = self.photos[min(int(pick * len(self.photos)), len(self.photos) - 1)]
        h, w = photo.shape[-2:]
        side = max(1, round(min(h, w) / (1 + scale * (MAX_SCALE - 1))))
        y, x = round(top * (h - side)), round(left * (w - side))
        square = photo[..., y:y + side, x:x + side]
        square = nnf.interpolate(square, size=(self.size, self.size), mode="bilinear",
                                 antialias=side > self.size, align_corners=False).clamp(0, 1)
        square = square.flip(-1) if flip < 0.5 else square
        if self.jitter == 0:
            return square
        factors = 1 + self.jitter * (2 * draws[5:] - 1)
        return jitter_colours(square, *factors.tolist())


def jitter_colours(image: torch.Tensor, brightness: float, contrast: float,
                   saturation: float) -> torch.Tensor:
    """(B, 3, H, W) in [0, 1] with its saturation (distance from its grey), contrast (distance
    from its mean grey) and brightness scaled by the factors, in that order, clamped to [0, 1]."""
    grey = (image * torch.tensor(LUMA).view(1, 3, 1, 1)).sum(1, keepdim=True)
    image = grey + saturation * (image - grey)
    mean = grey.mean((1, 2, 3), keepdim=True)
    return (brightness * (mean + contrast * (image - mean))).clamp(0, 1)
