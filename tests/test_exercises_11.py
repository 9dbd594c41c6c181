"""Checkers of notebook 11: right answers pass, typical mistakes are named, stubs never crash.

The oracles are independent of the checkers' own code: NumPy for the instance normalisation,
the package's TransformNet (its upsampling block) and NumPy's repeat for the upsampling, and a
plain count over photos for the break-even number.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import assert_wrong, stub, verdict
from exercise_checks import assert_crash_is_reported, assert_stub_is_open, assert_value_is_named

from nst_teach import exercises
from nst_teach import feedforward as ff
from nst_teach.exercises import SOLVED

NUMBERS = ["11.1", "11.2", "11.3"]


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


def test_progress_lists_the_three_exercises_of_notebook_11():
    assert [f.number for f in exercises.core.progress("11").feedback] == NUMBERS


# ---------------------------------------------------------------- 11.1 instance norm by hand


def numpy_instance_norm(x, eps):
    a = np.asarray(x, dtype=np.float64)
    mean, var = a.mean(axis=(2, 3), keepdims=True), a.var(axis=(2, 3), keepdims=True)
    return (a - mean) / np.sqrt(var + eps)


def test_11_1_right_answer_is_numpys_and_the_networks_norm():
    def answer(x, eps):
        return torch.as_tensor(numpy_instance_norm(x.numpy(), eps))

    assert verdict("11.1", answer).status == SOLVED
    norm = ff.conv_block(3, 3, 3)[1]  # the network's own InstanceNorm2d, fresh: scale 1, shift 0
    x = torch.randn(2, 3, 6, 5) * 7 + 2
    np.testing.assert_allclose(norm(x).detach().numpy(), answer(x, norm.eps).numpy(), atol=1e-5)


@pytest.mark.parametrize(
    "answer, words",
    [
        (
            lambda x, eps: (
                (x - x.mean((0, 2, 3), keepdim=True))
                / (x.var((0, 2, 3), keepdim=True, unbiased=False) + eps).sqrt()
            ),
            ["batch normalisation"],
        ),
        (
            lambda x, eps: (
                (x - x.mean((1, 2, 3), keepdim=True))
                / (x.var((1, 2, 3), keepdim=True, unbiased=False) + eps).sqrt()
            ),
            ["layer normalisation"],
        ),
        (
            lambda x, eps: (
                (x - x.mean((2, 3), keepdim=True)) / (x.var((2, 3), keepdim=True) + eps).sqrt()
            ),
            ["unbiased"],
        ),
        (
            lambda x, eps: (
                (x - x.mean((2, 3), keepdim=True))
                / x.var((2, 3), keepdim=True, unbiased=False).sqrt()
            ),
            ["eps"],
        ),
        (lambda x, eps: x - x.mean((2, 3), keepdim=True), ["did not divide"]),
        (lambda x, eps: x.reshape(x.shape[0], -1), ["shape"]),
    ],
)
def test_11_1_typical_mistakes_are_named(answer, words):
    assert_wrong(verdict("11.1", answer), *words)


# ---------------------------------------------------------------- 11.2 nearest upsampling


def test_11_2_right_answer_is_the_networks_upsampling_and_numpys_repeat():
    def answer(x):
        return x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)

    assert verdict("11.2", answer).status == SOLVED
    x = torch.randn(1, 2, 3, 4)
    expected = np.repeat(np.repeat(x.numpy(), 2, axis=2), 2, axis=3)
    np.testing.assert_array_equal(answer(x).numpy(), expected)
    upsample = ff.up_block(2, 2)[0]  # the TransformNet's own upsampling, before its convolution
    np.testing.assert_array_equal(upsample(x).numpy(), expected)


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda x: x.repeat(1, 1, 2, 2), ["tiled"]),
        (
            lambda x: torch.nn.functional.interpolate(x, scale_factor=2, mode="bilinear"),
            ["bilinear"],
        ),
        (lambda x: x.repeat_interleave(2, dim=2), ["height only"]),
        (lambda x: x.repeat_interleave(2, dim=3), ["width only"]),
        (
            lambda x: x.repeat_interleave(2, dim=0).repeat_interleave(2, dim=1),
            ["batch and channel"],
        ),
    ],
)
def test_11_2_typical_mistakes_are_named(answer, words):
    assert_wrong(verdict("11.2", answer), *words)


# ---------------------------------------------------------------- 11.3 break even


def counted(train_s, stylize_s, apply_s):
    """The oracle: count photos until training plus applying costs no more than stylize."""
    n = 1
    while train_s + n * apply_s > n * stylize_s:
        n += 1
    return n


def test_11_3_right_answer_is_a_plain_count():
    def answer(train_s, stylize_s, apply_s):
        return math.ceil(train_s / (stylize_s - apply_s))

    assert verdict("11.3", answer).status == SOLVED
    assert verdict("11.3", counted).status == SOLVED
    for case in exercises.nb11_real_time._cases():
        assert exercises.nb11_real_time._answer(*case) == counted(*case)


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda t, s, a: t / (s - a), ["round up"]),
        (lambda t, s, a: math.ceil(t / s), ["apply_s"]),
        (lambda t, s, a: math.floor(t / (s - a)), ["rounded down"]),
        (lambda t, s, a: s / a if a else math.inf, ["speed-up"]),
        (lambda t, s, a: 7, ["expected 7"]),
    ],
)
def test_11_3_typical_mistakes_are_named(answer, words):
    feedback = verdict("11.3", answer)
    if words == ["expected 7"]:  # right for the first case only: the next one is named
        assert_wrong(feedback, "expected 31")
    else:
        assert_wrong(feedback, *words)
