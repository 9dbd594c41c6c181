"""Checkers of notebook 05 (content loss): 05.1 content_mse, the deck's MSE, and
05.2 content_loss_at, the feature maps of the asked-for layer."""

from __future__ import annotations

import torch

from .core import call_answer, compare_answer, exercise, randn


@exercise("05.1", "content_mse")
def check_content_mse(fn) -> str:
    """Exercise 05.1: fn(F_G, F_C) for maps (1, N, H, W) -> 1/n sum (F_C - F_G)^2, n = N*H*W."""
    B, N, H, W = 1, 3, 4, 5
    F_G = torch.relu(randn((B, N, H, W), seed=101, mean=0.5))
    F_C = torch.relu(randn((B, N, H, W), seed=102, mean=0.5))
    d = F_G - F_C
    n = d.numel()
    sse = d.square().sum()
    call = f"content_mse(F_G, F_C) for feature maps of shape ({B}, {N}, {H}, {W})"
    wrong = [
        (f"you returned the sum of squared errors: divide it by n = N*H*W = {n} "
         "(or use .mean()).", sse),
        (f"you divided by M = H*W = {H * W}, the positions; n counts every value, n = N*H*W = {n}.",
         sse / (H * W)),
        (f"you divided by N = {N}, the channels; n counts every value, n = N*H*W = {n}.", sse / N),
        ("that is Gatys et al.'s 1/2 * sum; the deck's content loss (and nt.content_loss) is the "
         "mean 1/n * sum (F_C - F_G)^2.", sse / 2),
        (f"you divided by n - 1 = {n - 1}: that is the covariance's correction; a mean squared "
         "error divides by n.", sse / (n - 1)),
        ("you squared the mean difference; square each difference first, then average.",
         d.mean().square()),
        ("you averaged the differences without squaring them: positive and negative errors "
         "cancel.", d.mean()),
        ("you returned the mean absolute error; square the differences instead.", d.abs().mean()),
        ("you returned the root mean squared error: leave out the square root.",
         d.square().mean().sqrt()),
        ("you returned one squared error per value: average them into one number.", d.square()),
        ("you averaged over positions only, one value per channel: average over all n = N*H*W "
         "values.", d.square().mean(dim=(2, 3))),
    ]
    shapes = {(N,): "one value per channel: average over every value, n = N*H*W.",
              (H, W): "one value per position: average over every value, n = N*H*W."}
    compare_answer(call_answer(fn, F_G, F_C, call=call), d.square().mean(), call, wrong, shapes)
    return "content_mse is the deck's 1/n * sum (F_C - F_G)^2, the same as nt.content_loss."


@exercise("05.2", "content_loss_at")
def check_content_loss_at(fn, model=None) -> str:
    """Exercise 05.2: fn(model, generated, content, layer) -> content loss of two images at a layer.

    model: the notebook's VGG19 (default: a random-weight VGG19 on the CPU, for speed; the
    default is what solved("05.2") uses).
    """
    from ..losses import content_loss
    from ..vgg import LAYER_NAMES, load_vgg19

    if model is None:
        model = load_vgg19(weights="random", device="cpu")
    generator = torch.Generator().manual_seed(111)
    generated, content = torch.rand(2, 1, 3, 32, 32, generator=generator)
    with torch.no_grad():
        F_G, F_C = (model.extract(image, LAYER_NAMES) for image in (generated, content))
        losses = {name: content_loss(F_G[name], F_C[name]).double().cpu() for name in LAYER_NAMES}
    for layer in ("conv4_2", "relu2_1"):
        call = f"content_loss_at(model, generated, content, {layer!r})"
        twin = {"conv": "relu", "relu": "conv"}[layer[:4]] + layer[4:]  # before or after its ReLU
        others = [other for other in LAYER_NAMES if other not in (layer, twin)]
        wrong = [
            (f"you compared the feature maps of {twin}, not {layer}: pre- and post-ReLU maps "
             "differ, reluB_K = max(0, convB_K). Extract exactly the layer you are given.",
             losses[twin]),
            *[(f"you compared the feature maps of {other}, not {layer}: extract the layer you are "
               "given, model.extract(image, [layer])[layer].", losses[other]) for other in others],
            ("you compared the images' pixels: run both images through the network first, "
             "model.extract(image, [layer])[layer].",
             (generated - content).square().mean().double()),
            ("you summed the squared errors: the content loss is their mean (divide by n = N*H*W).",
             (F_G[layer] - F_C[layer]).square().sum().double().cpu()),
        ]
        got = call_answer(fn, model, generated, content, layer, call=call)
        compare_answer(got, losses[layer], call, wrong, rtol=1e-4, atol=1e-12)
    return "content_loss_at extracts the asked-for layer and compares it like nt.content_loss."
