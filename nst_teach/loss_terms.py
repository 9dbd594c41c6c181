"""The objective of one run: alpha * content + beta * style + tv_weight * tv, as a callable.

Taught in notebook 07 (the full loss) and notebook 10 (precision). ``LossTerms`` holds the targets
(P, A) and the weights, runs the network only as deep as the terms in use need, and in the precision
the run asked for (``nst_teach.precision``): the network in bfloat16 where that is fast, the Gram
matrices and the losses always in float32. ``exact`` gives an image's float32 losses.
"""

from __future__ import annotations

import math

import torch

from .losses import (
    content_loss,
    layer_weights,
    paper_content_loss,
    paper_style_loss,
    style_loss,
    tv_loss,
)
from .optimize import LOSS_NAMES
from .precision import autocast, resolve
from .settings import LossOptions


class LossTerms:
    """loss_terms(target) -> (content, style, tv, total), total = alpha*c + beta*s + tv_weight*tv.

    The content and style terms are the package's means (``content_loss``, ``style_loss``), or with
    settings.paper the paper's sums (``paper_content_loss``, ``paper_style_loss``).
    A term whose weight is 0 is not computed (it reads NaN), and the network runs only as deep as
    the terms in use need.
    """

    def __init__(self, model, P: dict, A: dict, settings: LossOptions):
        self.model, self.P, self.A = model, P, A
        self.alpha, self.beta, self.tv_weight = settings.alpha, settings.beta, settings.tv_weight
        self.paper = settings.paper  # the paper's own loss conventions (nst_teach.losses)
        self.content_layers, self.style_layers = (
            list(settings.content_layers),
            list(settings.style_layers),
        )
        self.layer_weights = layer_weights(settings.style_layers, settings.style_layer_weights)
        in_use = (self.content_layers if self.alpha > 0 else []) + (
            self.style_layers if self.beta > 0 else []
        )
        self.layers = list(dict.fromkeys(in_use))
        # Only the network runs in reduced precision (nst_teach.precision); losses are float32.
        self.precision = resolve(settings.precision, model.device)

    def features(self, target: torch.Tensor, precision: str) -> dict[str, torch.Tensor]:
        """The target's feature maps, computed in ``precision`` and returned in float32."""
        if not self.layers:
            return {}
        # the network sees the image through its own preprocessing (Caffe: BGR, 0-255, minus mean)
        with autocast(precision, target.device):
            F = self.model.forward_net(self.model.preprocessing(target), self.layers)
        return {name: f.float() for name, f in F.items()}

    @torch.no_grad()
    def exact(self, image: torch.Tensor) -> dict[str, float]:
        """The float32 losses of ``image``: what a run reports for the image it returns."""
        return dict(zip(LOSS_NAMES, self.evaluate(image, "fp32").tolist(), strict=True))

    def __call__(self, target: torch.Tensor) -> torch.Tensor:
        return self.evaluate(target, self.precision)

    def evaluate(self, target: torch.Tensor, precision: str) -> torch.Tensor:
        """(content, style, tv, total) of ``target`` with the network in ``precision``."""
        F = self.features(target, precision)
        not_computed = target.new_full((), math.nan)
        content_term, style_term = (
            (paper_content_loss, paper_style_loss) if self.paper else (content_loss, style_loss)
        )
        content = (
            sum(content_term(F[n], self.P[n]) for n in self.content_layers)
            / len(self.content_layers)
            if self.alpha > 0
            else not_computed
        )
        style = style_term(F, self.A, self.layer_weights) if self.beta > 0 else not_computed
        tv = tv_loss(target) if self.tv_weight else target.new_zeros(())
        total = (
            (self.alpha * content if self.alpha > 0 else 0)
            + (self.beta * style if self.beta > 0 else 0)
            + self.tv_weight * tv
        )
        return torch.stack((content, style, tv, total))
