"""Checkers of notebook 04 (feature maps): right answers pass, mistakes named, stubs never crash.

The oracles are independent of the checkers' own code: nt.flatten_features and the network's real
output shapes.
"""

from __future__ import annotations

import pytest
import torch
from conftest import assert_wrong, verdict
from exercise_checks import assert_crash_is_reported, assert_stub_is_open

import nst_teach as nt
from nst_teach.exercises import SOLVED

NUMBERS = ["04.1", "04.2"]


@pytest.mark.parametrize("number", NUMBERS)
def test_stub_is_not_solved_yet_and_does_not_raise(number):
    assert_stub_is_open(number)


@pytest.mark.parametrize("number", NUMBERS)
def test_a_crashing_answer_is_reported_not_raised(number):
    assert_crash_is_reported(number)


# ---------------------------------------------------------------- 04: feature maps


def test_04_1_flatten_right_answers():
    assert verdict("04.1", lambda F: F.reshape(F.shape[0], -1)).status == SOLVED
    assert verdict("04.1", nt.flatten_features).ok  # the package is the oracle
    assert verdict(
        "04.1", lambda F: F.permute(1, 2, 0).reshape(-1, F.shape[0]).T
    ).ok  # another right way
    assert verdict(
        "flatten_by_hand", lambda F: F.numpy().reshape(F.shape[0], -1)
    ).ok  # NumPy is fine


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda F: F.reshape(-1, F.shape[0]).T, ["mixes channels and positions", "transposed"]),
        (lambda F: F.transpose(1, 2).reshape(F.shape[0], -1), ["column by column", "y*W + x"]),
        (lambda F: F.reshape(F.shape[0], -1).T, ["transposed", "one row per channel"]),
        (lambda F: F.reshape(-1, F.shape[0]), ["one row per position"]),
        (lambda F: F.flatten(), ["one vector"]),
        (lambda F: F.reshape(1, F.shape[0], -1), ["batch dimension"]),
        (lambda F: F.reshape(F.shape[0] * F.shape[1], -1), ["(N*H, W)"]),
        (lambda F: F.reshape(3, 20), ["raised"]),  # hard-coded for the first test map only
        (lambda F: None, ["return"]),
    ],
)
def test_04_1_flatten_mistakes_are_named(answer, words):
    assert_wrong(verdict("04.1", answer), *words)


def right_feature_shape(name, height, width):
    block = int(name[4])
    pools = block if name.startswith("pool") else block - 1
    return min(64 * 2 ** (block - 1), 512), height // 2**pools, width // 2**pools


def test_04_2_feature_shape_reference_matches_the_real_network(random_vgg):
    with torch.no_grad():
        features = random_vgg.extract(torch.rand(1, 3, 100, 75), nt.LAYER_NAMES)
    for name, F in features.items():
        assert right_feature_shape(name, 100, 75) == tuple(F.shape[1:]), name
    assert verdict("04.2", right_feature_shape).ok


def test_04_2_running_the_network_is_a_right_answer_too(random_vgg):
    def by_network(name, height, width):
        with torch.no_grad():
            return random_vgg.extract(torch.zeros(1, 3, height, width), [name])[name].shape[1:]

    assert verdict("feature_shape", by_network).ok  # a torch.Size is accepted


def shape_with(own_pool=False, pool_before=False, cap=True, ceil=False, swap=False, batch=False):
    def answer(name, height, width):
        block = int(name[4])
        pools = block - 1
        if name.startswith("pool"):
            pools = block - 1 if pool_before else block
        elif own_pool:
            pools = block
        h, w = height, width
        for _ in range(pools):
            h, w = (-(-h // 2), -(-w // 2)) if ceil else (h // 2, w // 2)
        C = min(64 * 2 ** (block - 1), 512) if cap else 64 * 2 ** (block - 1)
        shape = (C, w, h) if swap else (C, h, w)
        return (1, *shape) if batch else shape

    return answer


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (shape_with(own_pool=True), ["own block"]),
        (shape_with(pool_before=True), ["pool1 already once"]),
        (shape_with(cap=False), ["up to 512"]),
        (shape_with(ceil=True), ["round down"]),
        (shape_with(swap=True), ["swapped height and width"]),
        (shape_with(batch=True), ["without the batch dimension"]),
        (lambda name, h, w: (h, w), ["channels"]),
        (
            shape_with(own_pool=True, cap=False),
            ["for conv1_1 on a 100 x 75 image", "expected (64, 100, 75)"],
        ),
    ],
)
def test_04_2_feature_shape_mistakes_are_named(answer, words):
    assert_wrong(verdict("04.2", answer), *words)
