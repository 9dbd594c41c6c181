"""Checkers of notebook 09 (controls, Gatys et al. 2017): 09.1 luminance_of, for colour
preservation, and 09.2 blend_grams, a style target blended from several paintings."""

from __future__ import annotations

import math

import torch

from .core import (
    CheckFailed,
    as_tensor,
    call_answer,
    compare_answer,
    describe_shape,
    exercise,
    gram_hw,
    randn,
)

LUMINANCE = "Y = 0.299 R + 0.587 G + 0.114 B"  # NTSC weights, as in nst_teach.color.luminance


@exercise("09.1", "luminance_of")
def check_luminance_of(fn) -> str:
    """Exercise 09.1: fn(image) for RGB (1, 3, H, W) in [0, 1] -> Y (1, 1, H, W), NTSC weights."""
    generator = torch.Generator().manual_seed(161)
    image = torch.rand(1, 3, 5, 4, generator=generator, dtype=torch.float64)
    R, G, B = image[:, 0:1], image[:, 1:2], image[:, 2:3]
    expected = 0.299 * R + 0.587 * G + 0.114 * B
    call = "luminance_of(image) for an image of shape (1, 3, 5, 4)"
    got = as_tensor(call_answer(fn, image, call=call), call)
    if got.shape == (1, 5, 4) or got.shape == (5, 4):
        raise CheckFailed(f"{call} has {describe_shape(got)}: keep the channel dimension, "
                          "(1, 1, H, W) (image[:, 0:1] keeps it, image[:, 0] drops it).")
    if got.shape == (1, 3, 5, 4):
        raise CheckFailed(f"{call} has three channels: return one, {LUMINANCE}, "
                          "of shape (1, 1, H, W).")
    wrong = [
        ("you swapped red and blue (0.114 R + 0.587 G + 0.299 B): the image is RGB, channel 0 is "
         "red. BGR is only the Caffe network's input order, not the picture's.",
         0.114 * R + 0.587 * G + 0.299 * B),
        ("you averaged the three channels: the eye is most sensitive to green and least to blue, "
         f"so {LUMINANCE}.", image.mean(dim=1, keepdim=True)),
        ("you used the weights 299, 587, 114 without dividing by 1000: they must sum to 1, "
         "so that white (1, 1, 1) keeps luminance 1.", 1000 * expected),
        ("you scaled Y to 0-255: keep the picture's units, [0, 1].", 255 * expected),
        ("you mixed up the weights of green and blue (0.299 R + 0.114 G + 0.587 B).",
         0.299 * R + 0.114 * G + 0.587 * B),
    ]

    def explain(got):
        white = torch.ones(1, 3, 2, 2, dtype=torch.float64)
        call = "luminance_of(white)"
        total = as_tensor(call_answer(fn, white, call=call), call).reshape(-1)[0].item()
        if not math.isclose(total, 1.0, rel_tol=1e-6):
            return (f"white (1, 1, 1) should have luminance 1, yours gives {total:.4g}: your "
                    f"weights sum to {total:.4g}, not 1. Use 0.299, 0.587 and 0.114.")
        if (got - expected).abs().max() < 0.02:
            return f"close, but not the NTSC weights: use exactly {LUMINANCE}."
        return None

    compare_answer(got, expected, call, wrong, explain=explain, rtol=1e-6, atol=1e-9)
    return f"luminance_of is {LUMINANCE}, the same as nst_teach.color.luminance."


@exercise("09.2", "blend_grams")
def check_blend_grams(fn) -> str:
    """Exercise 09.2: fn(grams, weights) -> sum_i (w_i / sum w) G_i, one blended (C, C) target."""
    for weights, seed in [([3.0, 1.0], 171), ([0.2, 0.5, 0.8], 172)]:
        k = len(weights)
        grams = [gram_hw(torch.relu(randn((1, 4, 3, 3), seed=seed + 10 * i, mean=0.4)))
                 for i in range(k)]
        w = torch.tensor(weights, dtype=torch.float64)
        total = w.sum().item()
        stack = torch.stack(grams)
        weighted = (w[:, None, None] * stack).sum(0)
        call = f"blend_grams(grams, weights={weights})"
        wrong = [
            (f"you did not normalise the weights: they sum to {total:g}, so your target is "
             f"{total:g} times too large. Divide each weight by their sum.", weighted),
            (f"you divided by the number of styles ({k}) instead of the sum of the weights "
             f"({total:g}): normalise with w_i / sum(w).", weighted / k),
            ("you ignored the weights and averaged the Gram matrices.", stack.mean(0)),
            ("you paired the weights with the Gram matrices in reverse order: weights[i] belongs "
             "to grams[i].", (w.flip(0)[:, None, None] * stack).sum(0) / total),
            ("you squared the weights: use w_i / sum(w).",
             (w[:, None, None] ** 2 * stack).sum(0) / (w**2).sum()),
        ]
        shapes = {(k, 4, 4): "one Gram matrix per style: add them up into one target of shape "
                             "(C, C)."}
        got = call_answer(fn, grams, weights, call=call)
        compare_answer(got, weighted / total, call, wrong, shapes)
    return ("blend_grams makes one target, sum_i (w_i / sum w) G_i, as nt.stylize does with "
            "style_weights.")
