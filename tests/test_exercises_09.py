"""Checkers of notebook 09 (controls): right answers pass, mistakes are named, stubs never crash.

The oracles are independent of the checkers' own code: nst_teach.color.luminance and the package's
style-weight normalisation.
"""

from __future__ import annotations

import pytest
import torch
from conftest import assert_wrong, stub, verdict
from exercise_checks import assert_crash_is_reported, assert_stub_is_open, assert_value_is_named

import nst_teach as nt
from nst_teach import color, exercises
from nst_teach.exercises import SOLVED

NUMBERS = ["09.1", "09.2"]


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


# ---------------------------------------------------------------- 09: controls


def test_09_1_right_answers_match_the_package():
    assert verdict("09.1", color.luminance).status == SOLVED  # the package is the oracle
    weights = torch.tensor([0.299, 0.587, 0.114], dtype=torch.float64)
    assert verdict("09.1", lambda x: (x * weights.view(1, 3, 1, 1)).sum(dim=1, keepdim=True)).ok
    assert verdict("luminance_of", lambda x: torch.einsum("c,bchw->bhw", weights, x)[:, None]).ok


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (
            lambda x: 0.114 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.299 * x[:, 2:3],
            ["swapped red and blue", "bgr"],
        ),
        (lambda x: x.mean(dim=1, keepdim=True), ["averaged"]),
        (lambda x: 299 * x[:, 0:1] + 587 * x[:, 1:2] + 114 * x[:, 2:3], ["1000", "sum to 1"]),
        (lambda x: 255 * color.luminance(x), ["0-255"]),
        (
            lambda x: 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.144 * x[:, 2:3],
            ["sum to 1.03", "white"],
        ),
        (lambda x: 0.3 * x[:, 0:1] + 0.59 * x[:, 1:2] + 0.11 * x[:, 2:3], ["close", "ntsc"]),
        (lambda x: 0.299 * x[:, 0:1] + 0.114 * x[:, 1:2] + 0.587 * x[:, 2:3], ["green and blue"]),
        (lambda x: color.luminance(x)[:, 0], ["channel dimension"]),
        (lambda x: x * 0.5, ["three channels"]),
    ],
)
def test_09_1_mistakes_are_named(answer, words):
    assert_wrong(verdict("09.1", answer), *words)


def test_09_2_right_answer_and_the_package_normalises_the_same_way(random_vgg):
    def blend(grams, weights):
        total = sum(weights)
        return sum(w / total * g for w, g in zip(weights, grams, strict=True))

    assert verdict("09.2", blend).status == SOLVED
    assert verdict(
        "blend_grams",
        lambda g, w: torch.einsum(
            "k,kij->ij", torch.tensor(w, dtype=torch.float64) / sum(w), torch.stack(g)
        ),
    ).ok
    image = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    result = nt.stylize(
        image,
        [image, image.flip(-1)],
        style_weights=[3, 1],
        size=32,
        max_evals=1,
        model=random_vgg,
        progress=False,
    )
    assert result.details["style_weights"] == [0.75, 0.25]  # the blend the run resolved


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (
            lambda g, w: sum(wi * gi for wi, gi in zip(w, g, strict=True)),
            ["did not normalise", "sum"],
        ),
        (
            lambda g, w: sum(wi * gi for wi, gi in zip(w, g, strict=True)) / len(g),
            ["number of styles"],
        ),
        (lambda g, w: sum(g) / len(g), ["ignored the weights"]),
        (
            lambda g, w: sum(wi * gi for wi, gi in zip(reversed(w), g, strict=True)) / sum(w),
            ["reverse order"],
        ),
        (
            lambda g, w: (
                sum(wi**2 * gi for wi, gi in zip(w, g, strict=True)) / sum(wi**2 for wi in w)
            ),
            ["squared"],
        ),
        (
            lambda g, w: torch.stack([wi / sum(w) * gi for wi, gi in zip(w, g, strict=True)]),
            ["add them up"],
        ),
    ],
)
def test_09_2_mistakes_are_named(answer, words):
    assert_wrong(verdict("09.2", answer), *words)
