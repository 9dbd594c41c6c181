"""Checkers of notebook 05 (content loss): right answers pass, mistakes named, stubs never crash.

The oracle is independent of the checkers' own code: nt.content_loss on the network's features.
Also ``exercises.solved`` on these checkers: it judges the answer, not the latest verdict.
"""

from __future__ import annotations

import sys

import pytest
import torch
from conftest import assert_wrong, verdict
from exercise_checks import assert_crash_is_reported, assert_stub_is_open

import nst_teach as nt
from nst_teach import exercises

NUMBERS = ["05.1", "05.2"]


def model_for(number: str, model) -> dict:
    """05.2's checker takes the notebook's network: the tests hand it the small random one."""
    return {"model": model} if number == "05.2" else {}


@pytest.mark.parametrize("number", NUMBERS)
def test_stub_is_not_solved_yet_and_does_not_raise(number, random_vgg):
    assert_stub_is_open(number, **model_for(number, random_vgg))


@pytest.mark.parametrize("number", NUMBERS)
def test_a_crashing_answer_is_reported_not_raised(number, random_vgg):
    assert_crash_is_reported(number, **model_for(number, random_vgg))


# ---------------------------------------------------------------- 05: content loss


def test_05_1_content_mse_right_answers():
    assert verdict("05.1", lambda G, C: ((G - C) ** 2).mean()).ok
    assert verdict("05.1", nt.content_loss).ok  # the package is the oracle
    assert verdict(
        "05.1", lambda G, C: torch.nn.functional.mse_loss(G, C).item()
    ).ok  # a float is fine
    assert verdict("05.1", lambda G, C: ((C - G) ** 2).sum() / C.numel()).ok


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda G, C: ((G - C) ** 2).sum(), ["sum of squared errors", "n = N*H*W = 60"]),
        (lambda G, C: ((G - C) ** 2).sum() / (G.shape[2] * G.shape[3]), ["M = H*W = 20"]),
        (lambda G, C: ((G - C) ** 2).sum() / G.shape[1], ["divided by N = 3"]),
        (lambda G, C: 0.5 * ((G - C) ** 2).sum(), ["1/2 * sum", "gatys"]),
        (lambda G, C: ((G - C) ** 2).sum() / (G.numel() - 1), ["n - 1"]),
        (lambda G, C: (G - C).mean() ** 2, ["squared the mean difference"]),
        (lambda G, C: (G - C).mean(), ["without squaring"]),
        (lambda G, C: (G - C).abs().mean(), ["mean absolute error"]),
        (lambda G, C: ((G - C) ** 2).mean().sqrt(), ["square root"]),
        (lambda G, C: (G - C) ** 2, ["one squared error per value"]),
        (lambda G, C: ((G - C) ** 2).mean(dim=(0, 2, 3)), ["one value per channel"]),
        (lambda G, C: 42.0, ["got 42"]),
    ],
)
def test_05_1_content_mse_mistakes_are_named(answer, words):
    assert_wrong(verdict("05.1", answer), *words)


def content_loss_at(model, generated, content, layer):
    return nt.content_loss(
        model.extract(generated, [layer])[layer], model.extract(content, [layer])[layer]
    )


def test_05_2_content_loss_at_right_answer(random_vgg):
    assert verdict("05.2", content_loss_at, model=random_vgg).ok


def test_05_2_content_loss_at_with_its_default_model():
    assert exercises.check_content_loss_at(content_loss_at).ok


def at(fixed_layer=None, twin=False, pixels=False, summed=False):
    def answer(model, generated, content, layer):
        if pixels:
            return ((generated - content) ** 2).mean()
        name = fixed_layer or layer
        if twin:
            name = (
                name.replace("conv", "relu")
                if name.startswith("conv")
                else name.replace("relu", "conv")
            )
        F_G, F_C = model.extract(generated, [name])[name], model.extract(content, [name])[name]
        return ((F_G - F_C) ** 2).sum() if summed else nt.content_loss(F_G, F_C)

    return answer


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (at(twin=True), ["relu4_2, not conv4_2", "max(0, convb_k)"]),
        (at(fixed_layer="conv5_2"), ["conv5_2, not conv4_2"]),
        (at(fixed_layer="conv4_2"), ["conv4_2, not relu2_1"]),  # right for the first layer only
        (at(fixed_layer="pool4"), ["pool4, not conv4_2"]),
        (at(pixels=True), ["pixels"]),
        (at(summed=True), ["summed", "mean"]),
    ],
)
def test_05_2_content_loss_at_mistakes_are_named(answer, words, random_vgg):
    assert_wrong(verdict("05.2", answer, model=random_vgg), *words)


def test_solved_checks_the_answer_not_the_latest_verdict():
    assert exercises.solved("05.1", nt.content_loss)
    assert exercises.solved("content_mse", nt.content_loss)
    assert not verdict("05.1", lambda G, C: 0.0).ok
    assert exercises.solved("05.1", nt.content_loss)
    assert not exercises.solved("05.1", lambda G, C: 0.0)


def test_solved_runs_a_checker_with_extra_arguments_on_its_defaults(monkeypatch):
    """05.2's checker takes the notebook's network; solved() runs it on its default network."""
    assert exercises.solved("05.2", content_loss_at)
    assert not exercises.solved("05.2", at(twin=True))
    monkeypatch.setattr(sys.modules["__main__"], "content_loss_at", content_loss_at, raising=False)
    assert exercises.solved("05.2")
