"""Checker 07.1 (make_target): the target is the picture itself, pixels in [0, 1], as in stylize.

Replaces the 07.1 tests of tests/test_exercises_nn.py, written for the earlier target in the
network's input space (make_target(content_image, preprocessing)). The oracles: the content image
itself (a right answer returns its pixels unchanged, in a tensor of its own), the network's real
preprocessing (CAFFE_PREPROCESSING) for the input-space mistake, and torch's own leaf and storage
rules for the autograd mistakes.
"""

from __future__ import annotations

import pytest
import torch
from conftest import assert_wrong, stub, verdict

from nst_teach import exercises
from nst_teach.exercises import UNSOLVED
from nst_teach.vgg import CAFFE_PREPROCESSING


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
        (lambda image: CAFFE_PREPROCESSING(image).requires_grad_(True),
         ["network's input", "[0, 1]"]),
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
