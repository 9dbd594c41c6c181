"""The paper's normalised VGG19: each filter rescaled to mean activation 1 on a calibration set.

Taught in notebooks 04 and 06. ``load_vgg19(normalize=True)`` (vgg.py) calls
``normalization_means`` and ``normalize_features`` here. The calibration: every bundled image at
CALIBRATION_SIZES px (``calibration_images``), the mean ReLU output m_c of each filter over images
and positions (``channel_means``), a floor for (near-)dead filters (``floored``,
``normalization_factors``), the convolutions rescaled in place (``normalize_features``). The
"caffe" weights read m_c from NORMALIZATION_FILE (scripts/make_normalization.py); the others
measure it on first use and keep it for the session.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from .vgg import (
    LAYER_INDEX,
    POOLINGS,
    RELU_NAMES,
    VGG19Features,
    WeightsError,
    first_line,
    load_vgg19,
)

NORMALIZATION_FILE = Path(__file__).with_name("vgg19_normalization.pt")
# px on the longest side: the package runs from 64 px (fast mode, tests) up to 512 px.
CALIBRATION_SIZES: tuple[int, ...] = (64, 128, 256)
# q: a filter whose mean is below q times its layer's median is divided by q * median instead, so
# that no filter is scaled up more than 1/q relative to its layer. scripts/make_normalization.py
# --report compares q = 0 ... 0.2 (its figures: benchmarks/README.md, "The normalisation floor").
FLOOR = 0.1
_REMAKE = "run `python scripts/make_normalization.py` in the repository, or use normalize=False"


def calibration_images(names=None, size=None) -> list[torch.Tensor]:
    """The calibration set: each bundled image (data.bundled(), all 11 by default) at each size in
    ``size`` (an int or ints; default CALIBRATION_SIZES) px on its longest side, image by image:
    [(1, 3, H, W)] in [0, 1]."""
    from . import data
    from .images import load_image

    names = list(data.bundled()) if names is None else list(names)
    size = CALIBRATION_SIZES if size is None else size
    sizes = [size] if isinstance(size, int) else list(size)
    images = []
    for name in names:
        path = data.bundled(name)
        if not path.is_file():
            raise WeightsError(
                f"calibration image {path} is missing: normalize=True needs the repository's "
                "data/ folder for these weights (or use weights='caffe')"
            )
        images += [load_image(path, s) for s in sizes]
    return images


@torch.no_grad()
def image_channel_means(model: VGG19Features, image: torch.Tensor) -> dict[str, torch.Tensor]:
    """Mean of each ReLU output channel over positions: (1, 3, H, W) -> {reluX_Y: (C,) float64}."""
    out = model.extract(image, RELU_NAMES)
    return {name: f.double().mean(dim=(0, 2, 3)).cpu() for name, f in out.items()}


def channel_means(model: VGG19Features, images) -> dict[str, torch.Tensor]:
    """Mean ReLU output of each filter over images and positions, each image weighing the same.

    images: [(1, 3, H, W)] (sizes may differ; one image at two sizes counts twice) ->
    {reluX_Y: (C,) float64}.
    """
    per_image = [image_channel_means(model, image) for image in images]
    if not per_image:
        raise ValueError("channel_means needs at least one image")
    return {name: torch.stack([m[name] for m in per_image]).mean(0) for name in RELU_NAMES}


def floored(means, floor: float | None = None) -> dict[str, torch.Tensor]:
    """Which filters are (near-)dead: m_c < floor (default FLOOR) * median of the layer's means.

    {reluX_Y: (C,)} -> {reluX_Y: (C,) bool}.
    """
    floor = FLOOR if floor is None else floor
    return {name: m < floor * m.median() for name, m in means.items()}


def normalization_factors(means, floor: float | None = None) -> dict[str, torch.Tensor]:
    """Divisor of each filter: max(m_c, floor * median of its layer's m), or 1 where that is 0.

    floor: default FLOOR. A near-dead filter would otherwise be scaled up by 1/m_c and
    dominate a loss wherever it fires; a dead one (m_c = 0) gets the floor too.
    {reluX_Y: (C,)} -> {reluX_Y: (C,) float32}.
    """
    floor = FLOOR if floor is None else floor
    factors = {}
    for name, m in means.items():
        f = torch.maximum(m, floor * m.median())
        factors[name] = torch.where(f > 0, f, torch.ones_like(f)).float()  # a dead layer: never 1/0
    return factors


def normalize_features(features: nn.Sequential, means, floor: float | None = None) -> None:
    """Rescale the convs in place so that ReLU map c is divided by f_c (normalization_factors).

    Conv k: W[o, i] *= f_in[i] / f[o] (input channel i arrives divided by f_in[i]), b[o] /= f[o].
    """
    factors = normalization_factors(means, floor)
    f_in = torch.ones(3)  # the image itself is not rescaled
    with torch.no_grad():
        for name in RELU_NAMES:
            conv = features[LAYER_INDEX[name] - 1]
            f = factors[name].to(conv.weight.device)
            conv.weight.mul_(f_in.to(f.device).view(1, -1, 1, 1) / f.view(-1, 1, 1, 1))
            conv.bias.div_(f)
            f_in = f


def _check_means(means, where: str) -> None:
    """One (C,) entry per ReLU layer, finite and >= 0, else a one-line WeightsError."""
    for name in RELU_NAMES:
        m = means.get(name)
        channels = min(64 * 2 ** (int(name[4]) - 1), 512)  # as in _vgg19_features
        valid = isinstance(m, torch.Tensor) and tuple(m.shape) == (channels,)
        if not (valid and torch.isfinite(m).all() and (m >= 0).all()):
            want = f"{channels} finite values >= 0"
            raise WeightsError(f"{where} has no valid means for {name} (want {want}): {_REMAKE}")


def normalization_means(
    weights: str,
    seed: int = 0,
    weights_sha256: str | None = None,
    device=None,
    pooling: str = "max",
) -> dict[str, torch.Tensor]:
    """The calibration means m_c for load_vgg19(normalize=True) with this pooling: {reluX_Y: (C,)}.

    "caffe": read from NORMALIZATION_FILE (made for the weights file with this sha256); the
    others: computed on first use on ``device`` and kept for the session.
    """
    if pooling not in POOLINGS:
        raise ValueError(f"unknown pooling {pooling!r}: choose 'max' or 'avg'")
    if weights == "caffe":
        return _cached_means(weights_sha256, pooling)
    from .presets import pick_device

    seed = seed if weights == "random" else 0
    return _computed_means(weights, seed, str(pick_device(device)), pooling, CALIBRATION_SIZES)


def _load_cache() -> dict:
    """NORMALIZATION_FILE as saved, or a one-line WeightsError if it cannot be read."""
    try:
        cache = torch.load(NORMALIZATION_FILE, map_location="cpu", weights_only=True)
        # the keys read below, so that a file without them fails here, with this message
        cache = dict(cache, weights_sha256=str(cache["weights_sha256"]),
                     means=dict(cache["means"]), sizes=list(cache["sizes"]))
    except Exception as e:  # a missing, truncated, foreign or old-format file
        why = f"{type(e).__name__}: {first_line(e)}"
        raise WeightsError(
            f"the normalisation cache {NORMALIZATION_FILE} is missing or damaged ({why}): {_REMAKE}"
        ) from e
    return cache


def _cached_means(weights_sha256: str | None, pooling: str) -> dict[str, torch.Tensor]:
    """NORMALIZATION_FILE's means for pooling, refused unless made for these weights and sizes."""
    name, cache = NORMALIZATION_FILE.name, _load_cache()
    made_for = str(cache["weights_sha256"])
    if made_for != weights_sha256:
        raise WeightsError(
            f"the normalisation cache {name} was made for weights sha256 {made_for[:12]}..., "
            f"not for this weights file ({str(weights_sha256)[:12]}...): {_REMAKE}"
        )
    if list(cache["sizes"]) != list(CALIBRATION_SIZES):
        raise WeightsError(
            f"the normalisation cache {name} was measured at {list(cache['sizes'])} px, not at "
            f"CALIBRATION_SIZES {list(CALIBRATION_SIZES)}: {_REMAKE}"
        )
    means = cache["means"].get(pooling)
    if not isinstance(means, dict):
        why = f"the normalisation cache {name} has no means for {pooling} pooling"
        raise WeightsError(f"{why}: {_REMAKE}")
    _check_means(means, f"{name} ({pooling} pooling)")
    return means


@lru_cache(maxsize=8)
def _computed_means(weights: str, seed: int, device: str, pooling: str, sizes: tuple[int, ...]):
    """Calibration means of "torchvision"/"random" weights, measured with ``pooling``, once."""
    model = load_vgg19(weights, device=device, pooling=pooling, seed=seed)
    return channel_means(model, calibration_images(size=sizes))
