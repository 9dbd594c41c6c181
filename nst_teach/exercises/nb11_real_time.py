"""Checkers of notebook 11 (real-time style transfer): 11.1 instance_norm_by_hand, each image and
channel normalised on its own; 11.2 upsample_nearest, each pixel repeated 2 x 2; 11.3
break_even, the number of photos after which training the network has paid off."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as nnf

from .core import CheckFailed, as_number, call_answer, compare_answer, exercise, randn


def _feature_maps() -> torch.Tensor:
    """(2, 3, 5, 4) maps on very different scales per image and channel, one channel nearly
    constant, so that the mistakes below all give different answers."""
    x = randn((2, 3, 5, 4), seed=111)
    scale = torch.tensor([[1.0, 20.0, 0.001], [5.0, 0.5, 3.0]], dtype=torch.float64)
    shift = torch.tensor([[0.0, -4.0, 2.0], [10.0, 1.0, -3.0]], dtype=torch.float64)
    return x * scale[..., None, None] + shift[..., None, None]


def _normalised(x: torch.Tensor, dims, eps: float, unbiased: bool = False) -> torch.Tensor:
    mean = x.mean(dim=dims, keepdim=True)
    var = x.var(dim=dims, keepdim=True, unbiased=unbiased)
    return (x - mean) / torch.sqrt(var + eps)


@exercise("11.1", "instance_norm_by_hand")
def check_instance_norm_by_hand(fn) -> str:
    """Exercise 11.1: fn(x, eps) -> (x - mean) / sqrt(var + eps) per image and channel."""
    x, eps = _feature_maps(), 1e-5
    got = call_answer(fn, x, eps, call="instance_norm_by_hand(x, eps)")
    expected = nnf.instance_norm(x, eps=eps)
    wrong = [
        ("you averaged over the batch as well, dims (0, 2, 3): that is batch normalisation; "
         "instance norm takes each image on its own, dims (2, 3).", _normalised(x, (0, 2, 3), eps)),
        ("you averaged over the channels as well, dims (1, 2, 3): that is layer normalisation; "
         "each channel gets its own mean and variance, dims (2, 3).",
         _normalised(x, (1, 2, 3), eps)),
        ("you used the unbiased variance (divided by n - 1): normalisation layers divide by n, "
         "var(..., unbiased=False).", _normalised(x, (2, 3), eps, unbiased=True)),
        ("you left out eps: a nearly constant channel then blows up; divide by "
         "sqrt(var + eps).", _normalised(x, (2, 3), 0.0)),
        ("you divided by the variance, not by its square root (the standard deviation).",
         (x - x.mean(dim=(2, 3), keepdim=True)) / (x.var(dim=(2, 3), keepdim=True,
                                                        unbiased=False) + eps)),
        ("you subtracted the mean but did not divide by the standard deviation.",
         x - x.mean(dim=(2, 3), keepdim=True)),
    ]
    compare_answer(got, expected, "instance_norm_by_hand(x, eps)", wrong=wrong, rtol=1e-5,
                   atol=1e-6)
    return ("instance_norm_by_hand matches torch's instance_norm: each image and channel has mean "
            "0 and variance 1.")


@exercise("11.2", "upsample_nearest")
def check_upsample_nearest(fn) -> str:
    """Exercise 11.2: fn(x) -> (B, C, 2H, 2W), each pixel repeated in a 2 x 2 block."""
    x = randn((2, 3, 4, 5), seed=112)
    got = call_answer(fn, x, call="upsample_nearest(x)")
    expected = nnf.interpolate(x, scale_factor=2, mode="nearest")
    wrong = [
        ("you tiled the whole picture 2 x 2 (repeat): repeat each PIXEL twice along each axis, "
         "repeat_interleave.", x.repeat(1, 1, 2, 2)),
        ("that is bilinear interpolation: nearest-neighbour copies each pixel, no averaging.",
         nnf.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)),
    ]
    shapes = {(2, 3, 8, 5): "you doubled the height only; double the width too (dim=3).",
              (2, 3, 4, 10): "you doubled the width only; double the height too (dim=2).",
              (4, 6, 4, 5): "you repeated along the batch and channel axes; use dims 2 and 3."}
    compare_answer(got, expected, "upsample_nearest(x)", wrong=wrong, shapes=shapes)
    return ("upsample_nearest matches torch's nearest-neighbour upsampling: every output pixel "
            "comes from one input pixel, so a flat map stays flat.")


def _cases() -> list[tuple[float, float, float]]:
    """(train_seconds, stylize_seconds, apply_seconds) with known answers."""
    return [(600.0, 100.0, 0.05), (900.0, 30.0, 0.02), (100.0, 10.0, 0.0), (12.0, 2.0, 0.5)]


def _answer(train_s: float, stylize_s: float, apply_s: float) -> int:
    """The reference: the smallest whole n with train_s + n * apply_s <= n * stylize_s."""
    n = math.ceil(train_s / (stylize_s - apply_s))
    while train_s + n * apply_s > n * stylize_s:  # guard against rounding in the division
        n += 1
    while n > 1 and train_s + (n - 1) * apply_s <= (n - 1) * stylize_s:
        n -= 1
    return n


def _mistakes(train_s: float, stylize_s: float, apply_s: float) -> dict[str, float]:
    """What the typical mistakes give for one case: {message: value}."""
    exact = train_s / (stylize_s - apply_s)
    return {
        "you returned a fraction of a photo: round UP to a whole number of photos (math.ceil).":
            exact,
        "you left out the time the network takes per photo: each photo still costs apply_s.":
            math.ceil(train_s / stylize_s),
        "you rounded down: with that many photos training has not paid off yet; round up.":
            math.floor(exact),
        "that is the speed-up per photo, not the number of photos to pay for training.":
            stylize_s / apply_s if apply_s else math.inf,
    }


@exercise("11.3", "break_even")
def check_break_even(fn) -> str:
    """Exercise 11.3: fn(train_s, stylize_s, apply_s) -> the photos after which training paid."""
    answers = []
    for case in _cases():
        call = "break_even({:g}, {:g}, {:g})".format(*case)
        answers.append((case, call, as_number(call_answer(fn, *case, call=call), call)))
    wrong = [(case, call, got) for case, call, got in answers if got != _answer(*case)]
    if not wrong:
        return ("break_even finds the smallest number of photos for which training once and "
                "applying the network beats stylize on every photo.")
    for message in _mistakes(*_cases()[0]):  # a mistake is named when it explains every case
        if all(math.isclose(got, _mistakes(*case)[message], rel_tol=1e-9)
               for case, _, got in answers):
            raise CheckFailed(f"{wrong[0][1]} gave {wrong[0][2]:g}: {message}")
    (train_s, stylize_s, apply_s), call, got = wrong[0]
    n = _answer(train_s, stylize_s, apply_s)
    raise CheckFailed(f"{call} gave {got:g}, expected {n}: with {n} photos, {train_s:g} + {n} x "
                      f"{apply_s:g} s <= {n} x {stylize_s:g} s, with {n - 1} not.")
