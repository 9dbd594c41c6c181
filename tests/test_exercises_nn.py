"""Checkers of notebooks 04-07: right answers pass, typical mistakes are named, stubs never crash.

The oracles are independent of the checkers' own code: nt.flatten_features, the network's real
output shapes, nt.content_loss, nt.style_loss and torch.optim.Adam.
"""

from __future__ import annotations

import sys

import pytest
import torch
from conftest import assert_wrong, stub, verdict

import nst_teach as nt
from nst_teach import exercises
from nst_teach.exercises import SOLVED, UNSOLVED, WRONG

NUMBERS = ["04.1", "04.2", "05.1", "05.2", "06.1", "06.2", "07.1", "07.2"]


@pytest.mark.parametrize("number", NUMBERS)
def test_stub_is_not_solved_yet_and_does_not_raise(number, random_vgg):
    kwargs = {"model": random_vgg} if number == "05.2" else {}
    feedback = verdict(number, stub, **kwargs)
    assert feedback.status == UNSOLVED
    assert "not solved yet" in str(feedback)
    assert verdict(number, ..., **kwargs).status == UNSOLVED


@pytest.mark.parametrize("number", NUMBERS)
def test_a_crashing_answer_is_reported_not_raised(number, random_vgg):
    def crash(*args, **kwargs):
        raise ZeroDivisionError("oops")

    kwargs = {"model": random_vgg} if number == "05.2" else {}
    feedback = verdict(number, crash, **kwargs)
    assert feedback.status == WRONG and "ZeroDivisionError" in feedback.message


# ---------------------------------------------------------------- 04: feature maps


def test_04_1_flatten_right_answers():
    assert verdict("04.1", lambda F: F.reshape(F.shape[0], -1)).status == SOLVED
    assert verdict("04.1", nt.flatten_features).ok  # the package is the oracle
    assert verdict("04.1", lambda F: F.permute(1, 2, 0).reshape(-1, F.shape[0]).T).ok  # another right way
    assert verdict("flatten_by_hand", lambda F: F.numpy().reshape(F.shape[0], -1)).ok  # NumPy is fine


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
        (shape_with(own_pool=True, cap=False), ["for conv1_1 on a 100 x 75 image", "expected (64, 100, 75)"]),
    ],
)
def test_04_2_feature_shape_mistakes_are_named(answer, words):
    assert_wrong(verdict("04.2", answer), *words)


# ---------------------------------------------------------------- 05: content loss


def test_05_1_content_mse_right_answers():
    assert verdict("05.1", lambda G, C: ((G - C) ** 2).mean()).ok
    assert verdict("05.1", nt.content_loss).ok  # the package is the oracle
    assert verdict("05.1", lambda G, C: torch.nn.functional.mse_loss(G, C).item()).ok  # a float is fine
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
    return nt.content_loss(model.extract(generated, [layer])[layer], model.extract(content, [layer])[layer])


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
            name = name.replace("conv", "relu") if name.startswith("conv") else name.replace("relu", "conv")
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
        (lambda G, S: ((nt.gram_matrix(G) - nt.gram_matrix(S)) ** 2).mean(), ["forgot to normalise", "F F^T by M = H*W = 20"]),
        (lambda G, S: ((nt.gram_matrix(G, "chw") - nt.gram_matrix(S, "chw")) ** 2).mean(), ["'chw'"]),
        (lambda G, S: ((nt.gram_matrix(G) - nt.gram_matrix(S)) / 19).square().mean(), ["H*W - 1"]),
        (lambda G, S: ((gram_hw(G) - gram_hw(S)) ** 2).mean() / 4, ["1/4"]),
        (lambda G, S: ((gram_hw(G) - gram_hw(S)) ** 2).sum(), ["summed over the n x n entries"]),
        (lambda G, S: ((G - S) ** 2).mean(), ["content loss"]),
        (lambda G, S: gram_hw(G - S).square().mean(), ["gram matrix of the difference"]),
        (lambda G, S: ((G.reshape(3, 20).T @ G.reshape(3, 20) - S.reshape(3, 20).T @ S.reshape(3, 20)) / 20).square().mean(),
         ["f^t f"]),
        (covariance_loss, ["centred"]),
        (lambda G, S: (gram_hw(G) - gram_hw(S)).norm(), ["norm"]),
        (lambda G, S: (gram_hw(G) - gram_hw(S)).square().mean().sqrt(), ["square root"]),
        (lambda G, S: (gram_hw(G) - gram_hw(S)).square(), ["average"]),
    ],
)
def test_06_1_layer_style_loss_mistakes_are_named(answer, words):
    assert_wrong(verdict("06.1", answer), *words)


def right_style_loss(target_features, style_grams):
    return sum(((nt.gram_matrix(target_features[n], "hw") - A) ** 2).mean() for n, A in style_grams.items()) / len(style_grams)


def test_06_2_style_loss_by_hand_right_answers():
    assert verdict("06.2", right_style_loss).ok
    assert verdict("06.2", nt.style_loss).ok  # the package is the oracle


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda T, A: right_style_loss(T, A) * len(A), ["without their weights", "3 times"]),
        (lambda T, A: right_style_loss(T, {"relu3_1": A["relu3_1"]}), ["only the last layer, relu3_1"]),
        (lambda T, A: right_style_loss(T, {"relu1_1": A["relu1_1"]}), ["only the first layer, relu1_1"]),
        (lambda T, A: right_style_loss(T, A) / len(A), ["twice"]),
        (lambda T, A: sum(((nt.gram_matrix(T[n]) - g) ** 2).mean() for n, g in A.items()) / len(A), ["'hw'"]),
        (lambda T, A: sum(((gram_hw(T[n]) - A[n][0]) ** 2).mean() for n in T) / len(T), ["keyerror", "loop over the layers of style_grams"]),
    ],
)
def test_06_2_style_loss_by_hand_mistakes_are_named(answer, words):
    assert_wrong(verdict("06.2", answer), *words)


# ---------------------------------------------------------------- 07: the loop


# 07.1 (make_target) is tested in tests/test_exercises_07.py.


def optimise(target, loss_fn, steps, lr, *, zero=True, inside=False, sgd=False, after=False, copy=False):
    if copy:
        target = target.detach().clone().requires_grad_(True)
    make = (lambda: torch.optim.SGD([target], lr=lr)) if sgd else (lambda: torch.optim.Adam([target], lr=lr))
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


def test_solved_on_the_exercise_that_updates_its_argument():
    """07.2 hands the answer its own target uncopied (it must be updated in place)."""
    assert exercises.solved("07.2", optimise) and exercises.solved("optimise", optimise)
    assert not exercises.solved("07.2", lambda *a: optimise(*a, copy=True))
