"""Is a painting clean and in colour? The measures behind notebook 11's verdicts on the network.

Taught in notebook 11. ``grid_strength`` measures a regular grid (the checkerboard of strided and
upsampling layers) as a spike in the image's spectrum; ``grid_penalty`` is a grid's energy as a
differentiable loss term, for training (``TrainSettings.grid_weight``); ``colour_stats`` gives each
channel's mean and spread, to compare an output with the painting it imitates and the photo it
paints (a washed-out output has a spread well below both). ``judge`` in ``models`` gives the losses.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as nnf

from ..images import load_image

GRID_PERIODS = (2, 4)  # the network halves twice and doubles twice: pixel periods 2 and 4
LUMA = (0.299, 0.587, 0.114)


def grid_strength(image, period: int = 4) -> float:
    """How far a grid of ``period`` pixels stands out of the image's spectrum.

    The grey image's power spectrum |FFT|^2 (mean removed, cropped to a multiple of ``period``) at
    each frequency a ``period``-pixel grid puts energy in, (H/period * i, W/period * j) for
    0 <= i, j < period, leaving out those of a shorter period (gcd(i, j, period) > 1: for 4,
    the period-2 ones), divided by the median power of the frequencies 2 to 3 bins around it; the
    largest such ratio. A photo or a painting without a grid gives about 5-50; a visible grid
    gives hundreds.
    """
    image = load_image(image)
    h, w = (s - s % period for s in image.shape[-2:])
    if min(h, w) < 4 * period:
        raise ValueError(f"grid_strength needs an image of at least {4 * period} px a side for "
                         f"period {period}, got {tuple(image.shape[-2:])}")
    grey = (image[0, :, :h, :w] * torch.tensor(LUMA).view(3, 1, 1)).sum(0).double()
    power = torch.fft.fft2(grey - grey.mean()).abs() ** 2
    around = torch.tensor([-3, -2, 2, 3])
    ratios = []
    for i in range(period):
        for j in range(period):
            if math.gcd(i, j, period) > 1:  # (0, 0), or a shorter period's frequency
                continue
            fy, fx = h // period * i, w // period * j
            ring = power[(fy + around) % h][:, (fx + around) % w]
            ratios.append((power[fy, fx] / ring.median().clamp_min(1e-30)).item())
    return max(ratios)


def grid_penalty(images: torch.Tensor, period: int = 4) -> torch.Tensor:
    """The mean square of a ``period``-pixel grid in images (B, C, H, W): a differentiable 0-D.

    A grid that repeats every ``period`` pixels is what the average of the pixels at each of the
    period x period offsets (y mod period, x mod period) sees: equal averages for an image without
    one. The averages are taken of the image's detail (the image minus its period x period box
    blur, which removes the grid's frequencies from the blur, so that slow changes of brightness
    across the picture do not count), and the penalty is their variance over the offsets, averaged
    over images and channels. Photographs give about 1e-6 (rms 0.001 of the pixel range); the
    networks shipped before the penalty, whose grid was visible, gave 2e-6 to 6e-5.
    """
    h, w = (s - s % period for s in images.shape[-2:])
    x = images[..., :h, :w]
    box = torch.ones(x.shape[1], 1, period, period, dtype=x.dtype, device=x.device) / period**2
    before, after = (period - 1) // 2, period // 2
    blur = nnf.conv2d(nnf.pad(x, (before, after, before, after), mode="reflect"), box,
                      groups=x.shape[1])
    detail = (x - blur).reshape(*x.shape[:2], h // period, period, w // period, period)
    offsets = detail.mean(dim=(2, 4))  # (B, C, period, period): the average at each offset
    return (offsets - offsets.mean(dim=(2, 3), keepdim=True)).pow(2).mean()


def colour_stats(image) -> dict[str, list[float]]:
    """Per channel (R, G, B) of an image in [0, 1]: {"mean": [...], "spread": [...]} (the spread
    is the standard deviation over the pixels)."""
    image = load_image(image)
    return {"mean": image.mean((0, 2, 3)).tolist(), "spread": image.std((0, 2, 3)).tolist()}
