"""Content, style and total-variation losses, with their normalisations stated.

Taught in notebooks 05 (content loss), 06 (style loss) and 07 (the full loss).
Conventions (all means, so the numbers do not grow with image size):
- content:  L_c = 1/n * sum (F_G - F_C)^2 over the n = C*H*W values of a layer (the deck's MSE).
- style:    per layer, E_l = 1/C^2 * sum (G_l - A_l)^2 with G = F F^T / (H*W) (Gram "hw");
            L_s = sum_l w_l * E_l, w_l = 1/L by default. Gatys et al.'s E_l equals E_l / 4 here.
- total variation: mean squared difference of neighbouring pixels, down plus across.
The paper's own conventions (Gatys et al. 2015, eqs. 1, 4, 5), used by ``stylize(paper=True)``:
- content:  L_content = 1/2 * sum (F_l - P_l)^2, a sum, not a mean (``paper_content_loss``);
- style:    E_l = 1/(4 N_l^2 M_l^2) * sum (G_l - A_l)^2 with G = F F^T unnormalised, N_l channels,
            M_l = H*W positions; L_style = sum_l w_l E_l (``paper_style_loss``).
So paper_style_loss = style_loss / 4, and paper_content_loss = (N*M / 2) * content_loss.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from .stats import gram_matrix


def content_loss(target: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Mean squared error between two feature maps: 1/n * sum (F_G - F_C)^2, a 0-D tensor."""
    if target.shape != content.shape:
        raise ValueError(f"content_loss needs feature maps of one shape, got "
                         f"{tuple(target.shape)} and {tuple(content.shape)}")
    return torch.mean((target - content) ** 2)


def style_targets(style_features: Mapping[str, torch.Tensor],
                  normalize: str = "hw") -> dict[str, torch.Tensor]:
    """The Gram matrices A_l of the style image, computed once: {layer: (B, C, C)}."""
    return {name: gram_matrix(F, normalize=normalize).detach()
            for name, F in style_features.items()}


def layer_weights(layers, weights=None) -> dict[str, float]:
    """Per-layer weights: a mapping or a sequence in layer order; equal weights 1/L when None."""
    layers = list(layers)
    if weights is None:
        return {name: 1.0 / len(layers) for name in layers}
    if isinstance(weights, Mapping):
        missing = [name for name in layers if name not in weights]
        if missing:
            raise ValueError(f"layer weights missing for {missing}")
        return {name: float(weights[name]) for name in layers}
    weights = list(weights)
    if len(weights) != len(layers):
        raise ValueError(f"{len(weights)} layer weights given for {len(layers)} layers")
    return {name: float(w) for name, w in zip(layers, weights, strict=True)}


def style_loss(
    target_features: Mapping[str, torch.Tensor],
    style_grams: Mapping[str, torch.Tensor],
    weights=None,
    normalize: str = "hw",
) -> torch.Tensor:
    """Weighted sum over layers of the MSE between Gram matrices: sum_l w_l * mean((G_l - A_l)^2).

    target_features: {layer: (B, C, H, W)}; style_grams: {layer: (B or 1, C, C)} from style_targets.
    """
    w = layer_weights(style_grams.keys(), weights)
    total = None
    for name, A in style_grams.items():
        G = gram_matrix(target_features[name], normalize=normalize)
        term = w[name] * torch.mean((G - A) ** 2)
        total = term if total is None else total + term
    if total is None:
        raise ValueError("style_loss needs at least one style layer")
    return total


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Total variation of (B, C, H, W): mean squared vertical plus horizontal neighbour steps."""
    dy = image[:, :, 1:, :] - image[:, :, :-1, :]
    dx = image[:, :, :, 1:] - image[:, :, :, :-1]
    zero = image.new_zeros(())
    return (dy.pow(2).mean() if dy.numel() else zero) + (dx.pow(2).mean() if dx.numel() else zero)


def paper_content_loss(target: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """The paper's eq. 1: L_content = 1/2 * sum (F - P)^2 over the layer's values, a 0-D tensor."""
    if target.shape != content.shape:
        raise ValueError(f"paper_content_loss needs feature maps of one shape, got "
                         f"{tuple(target.shape)} and {tuple(content.shape)}")
    return 0.5 * torch.sum((target - content) ** 2)


def paper_style_loss(target_features: Mapping[str, torch.Tensor],
                     style_grams: Mapping[str, torch.Tensor], weights=None) -> torch.Tensor:
    """The paper's eqs. 4-5: sum_l w_l / (4 N_l^2 M_l^2) sum (G_l - A_l)^2, G = F F^T unnormalised.

    style_grams: {layer: A_l (B or 1, N, N)}, F F^T of the style image, from
    ``style_targets(..., normalize="none")`` when the style image has the target's size (else
    scaled to the target's M_l positions).
    """
    w = layer_weights(style_grams.keys(), weights)
    total = None
    for name, A in style_grams.items():
        F = target_features[name]
        N, M = F.shape[1], F.shape[2] * F.shape[3]
        E = torch.sum((gram_matrix(F, normalize="none") - A) ** 2) / (4 * N**2 * M**2)
        total = w[name] * E if total is None else total + w[name] * E
    if total is None:
        raise ValueError("paper_style_loss needs at least one style layer")
    return total
