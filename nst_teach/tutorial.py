"""The reference loop of the official PyTorch tutorial, which ``stylize`` is raced against.

Taught in notebook 10 (and measured by benchmarks/bench.py). The PyTorch tutorial on neural style
transfer runs ``torch.optim.LBFGS`` with its defaults on the pixels, in float32, and clamps them
into [0, 1] inside the closure; every closure call is one evaluation of the loss. Here the loss is
the package's own (``TutorialLoss``: alpha * content + beta * style (+ tv), from the public
losses), so that a race against ``stylize`` compares the optimisers, not the objectives.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

import torch

from .losses import content_loss, style_loss, style_targets, tv_loss
from .settings import Settings


class TutorialLoss:
    """alpha * content + beta * style (+ tv_weight * tv) of stylize's settings: x -> 0-D tensor.

    Built from the public losses and ``model.extract`` in float32 (no reduced precision), with
    the targets of ``content_image`` and ``style_image`` (each (1, 3, H, W) in [0, 1]).
    """

    def __init__(self, model, content_image, style_image, settings: Settings | None = None):
        d = settings if settings is not None else Settings()
        if d.paper:
            raise ValueError("TutorialLoss has the everyday losses only: give it settings with "
                             "paper=False")
        self.model, self.d = model, d
        self.layers = list(dict.fromkeys(d.content_layers + d.style_layers))
        with torch.no_grad():
            self.P = model.extract(content_image, d.content_layers)
            self.A = style_targets(model.extract(style_image, d.style_layers))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        d, F = self.d, self.model.extract(x, self.layers)
        content = sum(content_loss(F[n], self.P[n]) for n in d.content_layers)
        content = content / len(d.content_layers)
        total = d.alpha * content + d.beta * style_loss(F, self.A, d.style_layer_weights)
        return total + d.tv_weight * tv_loss(x) if d.tv_weight else total


@dataclass
class TutorialRun:
    """The tutorial loop's image (clamped to [0, 1]), each evaluation's loss and time stamp.

    ``stamps[k]`` is the seconds from ``started`` (the call, unless given) to the end of
    evaluation k + 1.
    """

    image: torch.Tensor
    losses: list[float] = field(default_factory=list)
    stamps: list[float] = field(default_factory=list)


class _Spent(Exception):
    """Raised inside the closure once the budget of evaluations is spent."""


def tutorial_loop(loss, start: torch.Tensor, evals: int, started: float | None = None):
    """The PyTorch tutorial's loop: torch.optim.LBFGS defaults, pixels clamped in the closure.

    loss(image) -> 0-D tensor; ``evals`` closure calls from ``start``; time stamps count from
    ``started`` (a perf_counter value; default now). -> TutorialRun
    """
    if evals < 1:
        raise ValueError(f"evals={evals}: give the tutorial loop at least one evaluation")
    started = time.perf_counter() if started is None else started
    x = start.detach().clone().float().requires_grad_(True)
    optimizer = torch.optim.LBFGS([x])
    run = TutorialRun(image=x)

    def closure():
        if len(run.losses) == evals:
            raise _Spent
        with torch.no_grad():
            x.clamp_(0, 1)
        optimizer.zero_grad()
        value = loss(x)
        value.backward()
        run.losses.append(value.item())
        run.stamps.append(time.perf_counter() - started)
        return value

    with contextlib.suppress(_Spent):
        while True:
            optimizer.step(closure)
    run.image = x.detach().clamp(0, 1)  # the tutorial's image, clamped at the end
    return run
