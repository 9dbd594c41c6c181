"""Checkers of notebook 08 (the paper's figures): 08.1 paper_to_ours, Figure 3's alpha/beta ratio
in this package's units, and 08.2 content_values, the content layer's size N*M."""

from __future__ import annotations

import torch

from .core import CheckFailed, as_tensor, call_answer, compare_answer, exercise


def _numbers(fn, cases: list[tuple], name: str, one: str) -> torch.Tensor:
    """fn(*case) for each case, one number each -> (len(cases),) float64; `one` names it."""
    got = []
    for case in cases:
        call = f"{name}({', '.join(f'{v:g}' for v in case)})"
        value = as_tensor(call_answer(fn, *case, call=call), call).reshape(-1)
        if value.numel() != 1:
            raise CheckFailed(f"{call} returned {value.numel()} numbers; return one: {one}.")
        got.append(value)
    return torch.cat(got)


@exercise("08.1", "paper_to_ours")
def check_paper_to_ours(fn) -> str:
    """Exercise 08.1: fn(paper's alpha/beta ratio, n_values) -> our beta/alpha, 1 / (2 n ratio)."""
    ratios = torch.tensor([1e-3, 1e-4, 1e-2], dtype=torch.float64)  # the paper's alpha/beta
    n = torch.tensor([46_080.0, 442_368.0, 1_000.0], dtype=torch.float64)  # a content layer's N*M
    cases = list(zip(ratios.tolist(), n.tolist(), strict=True))
    got = _numbers(fn, cases, "paper_to_ours", "our beta / alpha")
    wrong = [
        ("your answer is 4 times too large: you forgot that the paper's E_l carries 1/4 and ours "
         "does not (ours = 4 E_l), so the paper's style loss is ours / 4.", 2 / (n * ratios)),
        ("your answer is 16 times too large: you used the factor 4 the wrong way round. "
         "Ours = 4 E_l, so the paper's style loss is ours / 4, not 4 x ours.", 8 / (n * ratios)),
        ("your answer is a quarter of the right one: you applied the paper's 1/4 twice; "
         "ours = 4 E_l already, so divide our style loss by 4 once.", 1 / (8 * n * ratios)),
        ("your answer is half the right one: you forgot the 1/2 in the paper's content loss, "
         "1/2 * sum (F - P)^2 = (N*M / 2) x our mean.", 1 / (4 * n * ratios)),
        ("your answer is twice the right one: you forgot both the 1/2 of the paper's content loss "
         "and the 1/4 of its style loss.", 1 / (n * ratios)),
        ("you forgot N*M: the paper's content loss is a sum over the N*M values of the content "
         "layer, ours is their mean, so the paper's is N*M/2 times ours.", 1 / (2 * ratios)),
        ("you forgot N*M and the factor 4 of the style loss.", 2 / ratios),
        ("you inverted the ratio: that is alpha/beta; return our beta/alpha (large when the "
         "paper's alpha/beta is small).", 2 * n * ratios),
        ("you multiplied by the paper's ratio instead of dividing by it: the paper gives "
         "alpha/beta, we want beta/alpha.", ratios / (2 * n)),
        ("you multiplied by N*M instead of dividing by it: the content term grows with N*M in the "
         "paper, so its style weight shrinks in our units.", n / (2 * ratios)),
    ]
    compare_answer(got, 1 / (2 * n * ratios), "your beta/alpha values", wrong, rtol=1e-6, atol=0)
    return "paper_to_ours translates the paper's alpha/beta into our beta/alpha: 1 / (2 N M ratio)."


def _content_values(sizes: list[tuple[int, int]], channels: int = 512, pools: int = 3,
                    ceil: bool = False) -> torch.Tensor:
    """N*M of relu4_2 for each (height, width) in sizes; the keywords make the typical mistakes."""
    values = []
    for h, w in sizes:
        for _ in range(pools):
            h, w = (-(-h // 2), -(-w // 2)) if ceil else (h // 2, w // 2)
        values.append(float(channels * h * w))
    return torch.tensor(values, dtype=torch.float64)


@exercise("08.2", "content_values")
def check_content_values(fn) -> str:
    """Exercise 08.2: fn(height, width) -> N*M of relu4_2 for that image: 512 (h // 8) (w // 8)."""
    sizes = [(85, 73), (128, 109), (100, 75), (512, 436)]
    got = _numbers(fn, sizes, "content_values", "N * M")
    pixels = torch.tensor([float(h * w) for h, w in sizes], dtype=torch.float64)
    wrong = [
        ("you rounded up: MaxPool2d(2, 2) drops an odd last row or column, so each pooling rounds "
         "down (85 -> 42 -> 21 -> 10).", _content_values(sizes, ceil=True)),
        ("you halved the image four times: relu4_2 comes after pool1, pool2 and pool3 but before "
         "pool4, so M = (h // 8) * (w // 8).", _content_values(sizes, pools=4)),
        ("you halved the image only twice: pool3 comes before block 4, so relu4_2 is 1/8 of the "
         "image on each side.", _content_values(sizes, pools=2)),
        ("you returned M alone, the positions: N*M also counts the N = 512 channels of relu4_2.",
         _content_values(sizes, channels=1)),
        ("block 4 has 512 channels, not 256 (256 is block 3).",
         _content_values(sizes, channels=256)),
        ("you counted the image's pixels: the content loss is taken at relu4_2, 512 channels at "
         "1/8 of the image's height and width.", pixels),
        ("you divided height * width by 64 without rounding: each pooling rounds down on its own, "
         "M = (h // 8) * (w // 8).", 512.0 * pixels / 64),
    ]
    compare_answer(got, _content_values(sizes), "your N*M values", wrong, rtol=1e-9, atol=0)
    return ("content_values counts relu4_2's values: N = 512 channels times "
            "M = (h // 8) * (w // 8) positions.")
