"""Checkers of notebook 06 (style loss): right answers pass, mistakes are named, stubs never crash.

The oracle is independent of the checkers' own code: nt.style_loss and nt.style_targets.
"""

from __future__ import annotations

import pytest
from conftest import assert_wrong, verdict
from exercise_checks import assert_crash_is_reported, assert_stub_is_open

import nst_teach as nt

NUMBERS = ["06.1", "06.2"]


@pytest.mark.parametrize("number", NUMBERS)
def test_stub_is_not_solved_yet_and_does_not_raise(number):
    assert_stub_is_open(number)


@pytest.mark.parametrize("number", NUMBERS)
def test_a_crashing_answer_is_reported_not_raised(number):
    assert_crash_is_reported(number)


# ---------------------------------------------------------------- 06: style loss


def gram_hw(F):
    _, C, H, W = F.shape
    M = F.reshape(C, H * W)
    return M @ M.T / (H * W)


def test_06_1_layer_style_loss_right_answers():
    assert verdict("06.1", lambda G, S: ((gram_hw(G) - gram_hw(S)) ** 2).mean()).ok
    # the package is the oracle: one layer, weight 1
    package = lambda G, S: nt.style_loss({"x": G}, nt.style_targets({"x": S}))  # noqa: E731
    assert verdict("06.1", package).ok


def covariance_loss(G, S):
    _, C, H, W = G.shape
    Mg, Ms = G.reshape(C, -1), S.reshape(C, -1)
    Mg, Ms = Mg - Mg.mean(1, keepdim=True), Ms - Ms.mean(1, keepdim=True)
    return ((Mg @ Mg.T - Ms @ Ms.T) / (H * W)).square().mean()


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (
            lambda G, S: ((nt.gram_matrix(G) - nt.gram_matrix(S)) ** 2).mean(),
            ["forgot to normalise", "F F^T by M = H*W = 20"],
        ),
        (
            lambda G, S: ((nt.gram_matrix(G, "chw") - nt.gram_matrix(S, "chw")) ** 2).mean(),
            ["'chw'"],
        ),
        (lambda G, S: ((nt.gram_matrix(G) - nt.gram_matrix(S)) / 19).square().mean(), ["H*W - 1"]),
        (lambda G, S: ((gram_hw(G) - gram_hw(S)) ** 2).mean() / 4, ["1/4"]),
        (lambda G, S: ((gram_hw(G) - gram_hw(S)) ** 2).sum(), ["summed over the n x n entries"]),
        (lambda G, S: ((G - S) ** 2).mean(), ["content loss"]),
        (lambda G, S: gram_hw(G - S).square().mean(), ["gram matrix of the difference"]),
        (
            lambda G, S: (
                (
                    (G.reshape(3, 20).T @ G.reshape(3, 20) - S.reshape(3, 20).T @ S.reshape(3, 20))
                    / 20
                )
                .square()
                .mean()
            ),
            ["f^t f"],
        ),
        (covariance_loss, ["centred"]),
        (lambda G, S: (gram_hw(G) - gram_hw(S)).norm(), ["norm"]),
        (lambda G, S: (gram_hw(G) - gram_hw(S)).square().mean().sqrt(), ["square root"]),
        (lambda G, S: (gram_hw(G) - gram_hw(S)).square(), ["average"]),
    ],
)
def test_06_1_layer_style_loss_mistakes_are_named(answer, words):
    assert_wrong(verdict("06.1", answer), *words)


def right_style_loss(target_features, style_grams):
    return sum(
        ((nt.gram_matrix(target_features[n], "hw") - A) ** 2).mean() for n, A in style_grams.items()
    ) / len(style_grams)


def test_06_2_style_loss_by_hand_right_answers():
    assert verdict("06.2", right_style_loss).ok
    assert verdict("06.2", nt.style_loss).ok  # the package is the oracle


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda T, A: right_style_loss(T, A) * len(A), ["without their weights", "3 times"]),
        (
            lambda T, A: right_style_loss(T, {"relu3_1": A["relu3_1"]}),
            ["only the last layer, relu3_1"],
        ),
        (
            lambda T, A: right_style_loss(T, {"relu1_1": A["relu1_1"]}),
            ["only the first layer, relu1_1"],
        ),
        (lambda T, A: right_style_loss(T, A) / len(A), ["twice"]),
        (
            lambda T, A: (
                sum(((nt.gram_matrix(T[n]) - g) ** 2).mean() for n, g in A.items()) / len(A)
            ),
            ["'hw'"],
        ),
        (
            lambda T, A: sum(((gram_hw(T[n]) - A[n][0]) ** 2).mean() for n in T) / len(T),
            ["keyerror", "loop over the layers of style_grams"],
        ),
    ],
)
def test_06_2_style_loss_by_hand_mistakes_are_named(answer, words):
    assert_wrong(verdict("06.2", answer), *words)
