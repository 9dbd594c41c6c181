"""Checkers of notebook 07 (style transfer): 07.1 make_target, a trainable target image (pixels
in [0, 1]), and 07.2 optimise, the optimiser's steps."""

from __future__ import annotations

import torch

from .core import CheckFailed, call_answer, compare_answer, exercise, randn


@exercise("07.1", "make_target")
def check_make_target(fn) -> str:
    """Exercise 07.1: fn(content_image) -> a copy of it in [0, 1], a leaf that requires grad."""
    from ..vgg import CAFFE_PREPROCESSING as prep

    content_image = torch.rand(1, 3, 6, 5, generator=torch.Generator().manual_seed(141))
    original = content_image.clone()
    call = "make_target(content_image)"
    # no copy: a target that shares its pixels with the content image is the mistake to find
    got = call_answer(fn, content_image, call=call, copy=False)
    if not isinstance(got, torch.Tensor):
        raise CheckFailed(f"{call} returned {type(got).__name__}; "
                          "return a torch tensor the optimiser can update.")
    if got.untyped_storage().data_ptr() == content_image.untyped_storage().data_ptr():
        raise CheckFailed("your target shares its pixels with the content image (it is the image "
                          "itself or a view of it), so the optimiser would change the content "
                          "image too: return a copy, content_image.detach().clone().")
    wrong = [
        ("you converted the picture into the network's input (BGR, 0-255, minus the mean pixel); "
         "the target stays a picture with pixels in [0, 1]: the loss applies "
         "vgg.preprocessing(target) itself.", prep(original).double()),
        ("your pixels run from 0 to 255; the target is a picture with pixels in [0, 1], like "
         "the content image.", 255 * original.double()),
    ]
    shapes = {(3, 6, 5): "you dropped the batch dimension: keep (1, 3, H, W), the shape the "
                         "network takes."}
    compare_answer(got.detach(), original.double(), call, wrong, shapes, rtol=1e-6, atol=1e-6)
    if not got.requires_grad:
        raise CheckFailed("your target does not require gradients, so back-propagation cannot "
                          "reach it: call .requires_grad_(True) on it.")
    if not got.is_leaf:
        raise CheckFailed("your target is not a leaf tensor (it is computed from another tensor "
                          "that requires grad), and torch.optim only updates leaves: .detach() it, "
                          "then .requires_grad_(True).")
    return "make_target makes a trainable copy of the content image, pixels in [0, 1]."


def _adam_run(loss_fn, x0: torch.Tensor, steps: int, lr: float, *, zero_grad: bool = True,
              new_optimizer: bool = False, sgd: bool = False,
              after: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(losses (steps,), final x) of the reference loop of 07.2; keywords make typical mistakes."""
    x = x0.clone().requires_grad_(True)
    optimizer_class = torch.optim.SGD if sgd else torch.optim.Adam
    optimizer, losses = optimizer_class([x], lr=lr), []
    for _ in range(steps):
        if new_optimizer:
            optimizer = optimizer_class([x], lr=lr)
        if zero_grad:
            optimizer.zero_grad()
        loss = loss_fn(x)
        loss.backward()
        optimizer.step()
        losses.append(loss_fn(x).item() if after else loss.item())
    return torch.tensor(losses, dtype=torch.float64), x.detach()


@exercise("07.2", "optimise")
def check_optimise(fn) -> str:
    """Exercise 07.2: fn(target, loss_fn, steps, lr) -> list of losses; Adam updates target."""
    A, b = randn((5, 3), seed=151), randn((5,), seed=152)

    def loss_fn(x):
        return ((A @ x - b) ** 2).sum()

    x0 = randn((3,), seed=153)
    steps, lr = 6, 0.3
    call = f"optimise(target, loss_fn, steps={steps}, lr={lr})"
    target = x0.clone().requires_grad_(True)
    # no copy: the exercise is to update this very tensor, as style transfer updates the image
    got = call_answer(fn, target, loss_fn, steps, lr, call=call, copy=False,
                      returns="return losses")
    try:
        got = [float(v) for v in got]
    except (TypeError, ValueError):
        raise CheckFailed(f"{call} should return a list of {steps} numbers, "
                          "one loss per step.") from None
    if len(got) != steps:
        raise CheckFailed(f"{call} returned {len(got)} losses; "
                          f"return one per step, {steps} in all.")

    def run(**mistake):
        return _adam_run(loss_fn, x0, steps, lr, **mistake)[0]

    wrong = [
        ("you forgot optimizer.zero_grad(): PyTorch adds each new gradient to the old ones, so "
         "every step follows the sum of all gradients so far.", run(zero_grad=False)),
        ("you created the optimiser inside the loop: Adam's running averages restart at every "
         "step. Create it once, before the loop.", run(new_optimizer=True)),
        ("you created the optimiser inside the loop and never zeroed the gradients.",
         run(new_optimizer=True, zero_grad=False)),
        ("that is plain gradient descent (torch.optim.SGD); this exercise asks for "
         "torch.optim.Adam.", run(sgd=True)),
        ("you recorded each loss after its update; record the loss you back-propagate, before "
         "optimizer.step().", run(after=True)),
    ]
    losses, x = _adam_run(loss_fn, x0, steps, lr)
    compare_answer(torch.tensor(got, dtype=torch.float64), losses, "your losses", wrong,
             rtol=1e-6, atol=1e-9)
    if not torch.allclose(target.detach(), x, rtol=1e-6, atol=1e-9):
        raise CheckFailed("your losses are right, but the tensor passed in as target did not end "
                          "where Adam takes it: update target itself "
                          "(torch.optim.Adam([target], lr=lr)), not a copy, "
                          "as style transfer updates the pixels of the target image.")
    return ("optimise is the deck's last step: back-propagate into the target and let Adam "
            "update it.")
