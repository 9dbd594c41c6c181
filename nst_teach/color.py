"""Colour preservation (Gatys et al. 2017, "Controlling Perceptual Factors"): keep colours.

Taught in notebook 09. Two ways: match the style image's colour statistics to the content's before
the transfer ("histogram"), or transfer luminance only and put the content's colours back
("luminance"). Images are (1, 3, H, W) RGB in [0, 1].
"""

from __future__ import annotations

import torch

# RGB -> YIQ (NTSC): Y is luminance, I and Q carry the colour.
_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


def rgb_to_yiq(image: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB -> YIQ, channel 0 the luminance Y."""
    return torch.einsum("ij,bjhw->bihw", _RGB_TO_YIQ.to(image), image)


def yiq_to_rgb(image: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) YIQ -> RGB (unclamped)."""
    return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(_RGB_TO_YIQ).to(image), image)


def luminance(image: torch.Tensor) -> torch.Tensor:
    """Y = 0.299 R + 0.587 G + 0.114 B, as a (B, 1, H, W) map."""
    return rgb_to_yiq(image)[:, :1]


def _sqrtm(cov: torch.Tensor, inverse: bool = False) -> torch.Tensor:
    values, vectors = torch.linalg.eigh(cov)
    values = values.clamp(min=1e-8)
    power = -0.5 if inverse else 0.5
    return vectors @ torch.diag(values**power) @ vectors.T


def match_color(source: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Recolour ``source`` so its pixels' RGB mean and covariance equal ``reference``'s.

    x' = C_r^(1/2) C_s^(-1/2) (x - mu_s) + mu_r, the linear colour transfer of Gatys et al. 2017.
    """
    s = source[0].reshape(3, -1).double()
    r = reference[0].reshape(3, -1).double()
    mu_s, mu_r = s.mean(1, keepdim=True), r.mean(1, keepdim=True)
    cov_s, cov_r = torch.cov(s), torch.cov(r)
    # a flat image has a singular covariance
    eye = torch.eye(3, dtype=s.dtype, device=s.device) * 1e-6
    transform = _sqrtm(cov_r + eye) @ _sqrtm(cov_s + eye, inverse=True)
    out = transform @ (s - mu_s) + mu_r
    return out.reshape_as(source[0])[None].to(source.dtype).clamp(0, 1)


def match_luminance(source_y: torch.Tensor, reference_y: torch.Tensor) -> torch.Tensor:
    """Shift and scale a luminance map so its mean and standard deviation equal the reference's."""
    std_s = source_y.std().clamp(min=1e-6)
    matched = (source_y - source_y.mean()) * (reference_y.std() / std_s) + reference_y.mean()
    return matched.clamp(0, 1)


def with_colors_of(luma_image: torch.Tensor, color_image: torch.Tensor) -> torch.Tensor:
    """The luminance of ``luma_image`` with the I and Q (colour) channels of ``color_image``."""
    yiq = rgb_to_yiq(color_image)
    yiq = torch.cat([luminance(luma_image), yiq[:, 1:]], dim=1)
    return yiq_to_rgb(yiq).clamp(0, 1)
