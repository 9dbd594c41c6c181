"""Checkers of notebook 07: 07.1 (make_target) and 07.2 (optimise); stubs never crash.

07.1: the target is the picture itself, pixels in [0, 1], as in stylize. The oracles: the content
image itself (a right answer returns its pixels unchanged, in a tensor of its own), the network's
real preprocessing (CAFFE_PREPROCESSING) for the input-space mistake, and torch's own leaf and
storage rules for the autograd mistakes. 07.2: torch.optim.Adam, run by hand.
"""

from __future__ import annotations

import pytest
import torch
from conftest import assert_wrong, stub, verdict
from exercise_checks import assert_crash_is_reported, assert_stub_is_open

from nst_teach import exercises
from nst_teach.exercises import UNSOLVED
from nst_teach.vgg import CAFFE_PREPROCESSING

NUMBERS = ["07.1", "07.2"]


@pytest.mark.parametrize("number", NUMBERS)
def test_stub_is_not_solved_yet_and_does_not_raise(number):
    assert_stub_is_open(number)


@pytest.mark.parametrize("number", NUMBERS)
def test_a_crashing_answer_is_reported_not_raised(number):
    assert_crash_is_reported(number)


def test_07_1_right_answers_pass():
    assert verdict("07.1", lambda image: image.detach().clone().requires_grad_(True)).ok
    assert verdict("make_target", lambda image: image.clone().requires_grad_()).ok
    assert verdict("07.1", lambda image: torch.tensor(image.tolist(), requires_grad=True)).ok
    assert exercises.solved("07.1", lambda image: image.detach().clone().requires_grad_(True))


def test_07_1_a_right_answer_leaves_the_content_image_alone():
    """The checker hands the answer the content image uncopied: a copy must not share its pixels."""
    seen = []

    def answer(image):
        seen.append(image)
        return image.detach().clone().requires_grad_(True)

    assert verdict("07.1", answer).ok
    (content_image,) = seen
    assert not content_image.requires_grad
    assert 0 <= content_image.min() and content_image.max() <= 1  # a picture, pixels in [0, 1]


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (
            lambda image: CAFFE_PREPROCESSING(image).requires_grad_(True),
            ["network's input", "[0, 1]"],
        ),
        (lambda image: (255 * image).requires_grad_(True), ["0 to 255"]),
        (lambda image: image.requires_grad_(True), ["shares its pixels", "clone"]),
        (lambda image: image.detach().requires_grad_(True), ["shares its pixels"]),
        (lambda image: image[0].clone().requires_grad_(True), ["batch dimension"]),
        (lambda image: image.clone(), ["does not require gradients"]),
        (lambda image: image.requires_grad_(True).clone(), ["not a leaf"]),
        (lambda image: torch.rand_like(image).requires_grad_(True), ["wrong at entry"]),
        (lambda image: image.tolist(), ["torch tensor"]),
    ],
)
def test_07_1_mistakes_are_named(answer, words):
    assert_wrong(verdict("07.1", answer), *words)


def test_07_1_the_stub_is_open_not_wrong():
    assert verdict("07.1", stub).status == UNSOLVED


# ---------------------------------------------------------------- 07.2: the loop


def optimise(
    target, loss_fn, steps, lr, *, zero=True, inside=False, sgd=False, after=False, copy=False
):
    if copy:
        target = target.detach().clone().requires_grad_(True)
    make = (
        (lambda: torch.optim.SGD([target], lr=lr))
        if sgd
        else (lambda: torch.optim.Adam([target], lr=lr))
    )
    optimizer, losses = make(), []
    for _ in range(steps):
        if inside:
            optimizer = make()
        if zero:
            optimizer.zero_grad()
        loss = loss_fn(target)
        loss.backward()
        optimizer.step()
        losses.append(loss_fn(target).item() if after else loss.item())
    return losses


def test_07_2_optimise_right_answers():
    assert verdict("07.2", optimise).ok
    assert verdict("07.2", lambda *a: torch.tensor(optimise(*a))).ok  # a tensor of losses is fine

    def closure_style(target, loss_fn, steps, lr):  # the closure form used with L-BFGS
        optimizer, losses = torch.optim.Adam([target], lr=lr), []

        def closure():
            optimizer.zero_grad()
            loss = loss_fn(target)
            loss.backward()
            losses.append(loss.item())
            return loss

        for _ in range(steps):
            optimizer.step(closure)
        return losses

    assert verdict("07.2", closure_style).ok


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda *a: optimise(*a, zero=False), ["zero_grad"]),
        (lambda *a: optimise(*a, inside=True), ["inside the loop", "once"]),
        (lambda *a: optimise(*a, inside=True, zero=False), ["inside the loop", "never zeroed"]),
        (lambda *a: optimise(*a, sgd=True), ["sgd", "adam"]),
        (lambda *a: optimise(*a, after=True), ["after its update"]),
        (lambda *a: optimise(*a, copy=True), ["not a copy"]),
        (lambda *a: optimise(*a)[:-1], ["5 losses", "6 in all"]),
        (lambda *a: "loss", ["list of 6 numbers"]),
        (lambda *a: None, ["return losses"]),
    ],
)
def test_07_2_optimise_mistakes_are_named(answer, words):
    assert_wrong(verdict("07.2", answer), *words)


def test_solved_on_the_exercise_that_updates_its_argument():
    """07.2 hands the answer its own target uncopied (it must be updated in place)."""
    assert exercises.solved("07.2", optimise) and exercises.solved("optimise", optimise)
    assert not exercises.solved("07.2", lambda *a: optimise(*a, copy=True))
