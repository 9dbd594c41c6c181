"""Checkers of notebook 10 (under the hood): right answers pass, mistakes named, stubs never crash.

The oracles are independent of the checkers' own code: plain loops over a real run's history.
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

NUMBERS = ["10.1", "10.2"]


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


# ---------------------------------------------------------------- 10: under the hood


def first_eval(history, threshold):
    for i, h in enumerate(history):
        if h["total"] <= threshold:
            return i + 1
    return None


def test_10_1_right_answer_on_a_real_history(random_vgg):
    assert verdict("10.1", first_eval).status == SOLVED
    image = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    result = nt.stylize(
        image, image.flip(-1), beta=1e4, size=32, max_evals=6, model=random_vgg, progress=False
    )
    assert result.evals == len(result.history) == 6  # one history entry per function evaluation
    assert first_eval(result.history, math.inf) == 1
    assert first_eval(result.history, -1.0) is None


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (
            lambda h, t: next((i for i, x in enumerate(h) if x["total"] <= t), None),
            ["off by one", "count from 1"],
        ),
        (
            lambda h, t: next((i + 2 for i, x in enumerate(h) if x["total"] <= t), None),
            ["one too many"],
        ),
        (
            lambda h, t: next((len(h) for x in h if x["total"] <= t), None),
            ["whole number of evaluations"],
        ),
        (lambda h, t: next((x["total"] for x in h if x["total"] <= t), None), ["loss itself"]),
        (
            lambda h, t: next((i + 1 for i, x in enumerate(h) if x["content"] <= t), None),
            ["content loss"],
        ),
        (
            lambda h, t: next((i + 1 for i, x in enumerate(h) if x["total"] <= t), len(h)),
            ["never", "none"],
        ),
        (
            lambda h, t: next((i + 1 for i, x in enumerate(h) if x["total"] <= t), -1),
            ["never", "none"],
        ),
        (
            lambda h, t: (
                next((len(h) - j + 1 for j, x in enumerate(reversed(h)) if x["total"] > t), None)
                if h[0]["total"] > t
                else 1
            ),
            ["first", "bounce"],
        ),
        (lambda h, t: None, ["returned none"]),
    ],
)
def test_10_1_mistakes_are_named(answer, words):
    assert_wrong(verdict("10.1", answer), *words)


def seconds_to(history, stamps, started, threshold):
    i = next((i for i, h in enumerate(history) if h["total"] <= threshold), None)
    return None if i is None else stamps[i] - started


def test_10_2_right_answer_with_a_callback_clock(random_vgg):
    assert verdict("10.2", seconds_to).status == SOLVED
    image = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    import time

    stamps = []
    started = time.perf_counter()
    result = nt.stylize(
        image,
        image.flip(-1),
        beta=1e4,
        size=32,
        max_evals=5,
        model=random_vgg,
        progress=False,
        callback=lambda i, img, losses: stamps.append(time.perf_counter()),
    )
    assert len(stamps) == len(result.history) == 5  # one stamp per evaluation, in order
    assert 0 < seconds_to(result.history, stamps, started, math.inf) <= stamps[-1] - started


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (
            lambda h, s, st, t: next((s[i] for i, x in enumerate(h) if x["total"] <= t), None),
            ["raw time stamp"],
        ),
        (
            lambda h, s, st, t: next(
                (s[i - 1] - st for i, x in enumerate(h) if x["total"] <= t), None
            ),
            ["before"],
        ),
        (
            lambda h, s, st, t: next(
                (s[i + 1] - st for i, x in enumerate(h) if x["total"] <= t), None
            ),
            ["stamps[i + 1]"],
        ),
        (lambda h, s, st, t: next((s[-1] - st for x in h if x["total"] <= t), None), ["whole run"]),
        (
            lambda h, s, st, t: next((i + 1 for i, x in enumerate(h) if x["total"] <= t), None),
            ["number of evaluations"],
        ),
        (
            lambda h, s, st, t: next(
                (s[i] - st for i, x in enumerate(h) if x["total"] <= t), s[-1] - st
            ),
            ["never"],
        ),
    ],
)
def test_10_2_mistakes_are_named(answer, words):
    assert_wrong(verdict("10.2", answer), *words)
