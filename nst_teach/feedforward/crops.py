"""The training photographs of real-time style transfer and the random crops cut from them.

Taught in notebook 11. The photos are offline and bundled: scikit-image's four CC0/public-domain
photographs (``data.PHOTO_IMAGES``); the paper's Tübingen, the drawn landscape and Grace Hopper's
portrait are kept out (``HELD_OUT``), to judge the network on images it has never seen.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
import torch.nn.functional as nnf

from .. import data
from ..images import load_image

# The default training photographs, all bundled (data/README.md): scikit-image's four. The other
# bundled content images are never trained on by default, so that notebook 11 and
# benchmarks/feedforward_bench.py judge the network on three images it has not seen.
TRAINING_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")
HELD_OUT = ("tubingen", "landscape", "grace_hopper")
MAX_SCALE = 2.0  # a crop covers 1/MAX_SCALE to all of a photo's shorter side


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
    (bilinear, antialiased), flipped left-right half the time.
    """

    def __init__(self, photos: list[torch.Tensor], size: int, seed: int):
        self.photos, self.size = photos, size
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, batch_size: int) -> torch.Tensor:
        return torch.cat([self.crop() for _ in range(batch_size)])

    def crop(self) -> torch.Tensor:
        """One random crop: (1, 3, size, size)."""
        pick, scale, top, left, flip = torch.rand(5, generator=self.generator).tolist()
        photo = self.photos[min(int(pick * len(self.photos)), len(self.photos) - 1)]
        h, w = photo.shape[-2:]
        side = max(1, round(min(h, w) / (1 + scale * (MAX_SCALE - 1))))
        y, x = round(top * (h - side)), round(left * (w - side))
        square = photo[..., y:y + side, x:x + side]
        square = nnf.interpolate(square, size=(self.size, self.size), mode="bilinear",
                                 antialias=side > self.size, align_corners=False).clamp(0, 1)
        return square.flip(-1) if flip < 0.5 else square
