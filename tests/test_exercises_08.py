"""Checkers of notebook 08 (the paper's figures): right answers pass, mistakes are named.

The oracles are independent of the checkers' own code: the paper's loss written out and the
network's real feature maps (N*M).
"""

from __future__ import annotations

import math

import pytest
import torch
from conftest import assert_wrong, stub, verdict
from exercise_checks import assert_crash_is_reported, assert_stub_is_open, assert_value_is_named

import nst_teach as nt
from nst_teach import exercises
from nst_teach.exercises import SOLVED

NUMBERS = ["08.1", "08.2"]


@pytest.mark.parametrize("number", NUMBERS)
def test_stub_is_not_solved_yet_and_does_not_raise(number):
    assert_stub_is_open(number)
    assert not exercises.solved(number, stub)


@pytest.mark.parametrize("number", NUMBERS)
def test_a_crashing_answer_is_reported_not_raised(number):
    assert_crash_is_reported(number)


@pytest.mark.parametrize("number", NUMBERS)
def test_a_value_instead_of_a_function_is_named(number):
    assert_value_is_named(number)


# ---------------------------------------------------------------- 08: the paper's ratio


def gatys_total(alpha, beta, content_sum_half, style_e):
    return alpha * content_sum_half + beta * style_e


def test_08_1_right_answer_matches_the_paper_loss_numerically():
    """Oracle: the paper's loss and ours, written out, are proportional for the right beta/alpha."""
    generator = torch.Generator().manual_seed(0)
    F, P = torch.rand(2, 1, 8, 3, 4, generator=generator, dtype=torch.float64)
    S = torch.rand(1, 8, 3, 4, generator=generator, dtype=torch.float64)
    n_values = F.numel()
    ratio = 1e-3

    def answer(r, n):
        return 1 / (2 * n * r)

    ours_content = nt.content_loss(F, P)
    ours_style = nt.style_loss({"relu1_1": F}, nt.style_targets({"relu1_1": S}))
    M_F, M_S = F.reshape(8, -1), S.reshape(8, -1)
    N, M = 8, M_F.shape[1]
    e_gatys = ((M_F @ M_F.T - M_S @ M_S.T) ** 2).sum() / (4 * N**2 * M**2)  # unnormalised Grams
    assert torch.isclose(ours_style, 4 * e_gatys)
    paper = gatys_total(ratio, 1.0, 0.5 * ((F - P) ** 2).sum(), e_gatys)
    ours = ours_content + answer(ratio, n_values) * ours_style
    assert torch.isclose(paper / ours, torch.tensor(ratio * n_values / 2, dtype=torch.float64))
    assert verdict("08.1", answer).status == SOLVED
    assert verdict("paper_to_ours", lambda r, n: torch.tensor(0.5 / (n * r))).ok
    assert exercises.solved("08.1", answer)


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda r, n: 2 / (n * r), ["4 times too large", "1/4"]),
        (lambda r, n: 8 / (n * r), ["16 times", "wrong way round"]),
        (lambda r, n: 1 / (8 * n * r), ["quarter", "twice"]),
        (lambda r, n: 1 / (4 * n * r), ["half", "1/2"]),
        (lambda r, n: 1 / (n * r), ["both"]),
        (lambda r, n: 1 / (2 * r), ["forgot n*m"]),
        (lambda r, n: 2 * n * r, ["inverted"]),
        (lambda r, n: r / (2 * n), ["multiplied by the paper's ratio"]),
        (lambda r, n: n / (2 * r), ["multiplied by n*m"]),
        (lambda r, n: 3 / (2 * n * r), ["3 times", "scale factor"]),
        (lambda r, n: [1 / (2 * n * r)] * 2, ["return one"]),
        (lambda r, n: None, ["return"]),
    ],
)
def test_08_1_mistakes_are_named(answer, words):
    assert_wrong(verdict("08.1", answer), *words)


def test_08_2_right_answer_matches_the_network(random_vgg):
    for height, width in [(85, 73), (37, 50)]:
        with torch.no_grad():
            features = random_vgg.extract(torch.zeros(1, 3, height, width), ["relu4_2"])
        real = features["relu4_2"].numel()
        assert real == 512 * (height // 8) * (width // 8)
    assert verdict("08.2", lambda h, w: 512 * (h // 8) * (w // 8)).status == SOLVED
    assert verdict(
        "content_values", lambda h, w: torch.tensor(512 * (h // 2 // 2 // 2) * (w // 2 // 2 // 2))
    ).ok


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda h, w: 512 * math.ceil(h / 8) * math.ceil(w / 8), ["rounded up"]),
        (lambda h, w: 512 * (h // 16) * (w // 16), ["four times", "before pool4"]),
        (lambda h, w: 512 * (h // 4) * (w // 4), ["only twice"]),
        (lambda h, w: (h // 8) * (w // 8), ["m alone", "512 channels"]),
        (lambda h, w: 256 * (h // 8) * (w // 8), ["not 256"]),
        (lambda h, w: h * w, ["image's pixels"]),
        (lambda h, w: 512 * h * w / 64, ["without rounding"]),
        (lambda h, w: (512, h // 8, w // 8), ["return one"]),
    ],
)
def test_08_2_mistakes_are_named(answer, words):
    assert_wrong(verdict("08.2", answer), *words)
