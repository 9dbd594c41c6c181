"""Checkers of notebooks 08-10: right answers pass, typical mistakes are named, stubs never crash.

The oracles are independent of the checkers' own code: the network's real feature maps (N*M),
nst_teach.color.luminance, the package's style-weight normalisation, and plain loops over a history.
"""

from __future__ import annotations

import math

import pytest
import torch
from conftest import assert_wrong, stub, verdict

import nst_teach as nt
from nst_teach import color, exercises
from nst_teach.exercises import SOLVED, UNSOLVED, WRONG

NUMBERS = ["08.1", "08.2", "09.1", "09.2", "10.1", "10.2", "11.1", "11.2", "11.3"]


@pytest.mark.parametrize("number", NUMBERS)
def test_stub_is_not_solved_yet_and_does_not_raise(number):
    feedback = verdict(number, stub)
    assert feedback.status == UNSOLVED and "not solved yet" in str(feedback)
    assert verdict(number, ...).status == UNSOLVED
    assert not exercises.solved(number, stub)


@pytest.mark.parametrize("number", NUMBERS)
def test_a_crashing_answer_is_reported_not_raised(number):
    def crash(*args, **kwargs):
        raise ZeroDivisionError("oops")

    feedback = verdict(number, crash)
    assert feedback.status == WRONG and "ZeroDivisionError" in feedback.message


@pytest.mark.parametrize("number", NUMBERS)
def test_a_value_instead_of_a_function_is_named(number):
    assert_wrong(verdict(number, 3.0), "expected a function")


# ---------------------------------------------------------------- 08: the paper's ratio


def gatys_total(alpha, beta, content_sum_half, style_e):
    return alpha * content_sum_half + beta * style_e


def test_08_1_right_answer_matches_the_paper_loss_numerically():
    """Oracle: the paper's loss and ours, written out, are proportional when beta/alpha is the answer."""
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
    assert verdict("content_values", lambda h, w: torch.tensor(512 * (h // 2 // 2 // 2) * (w // 2 // 2 // 2))).ok


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


# ---------------------------------------------------------------- 09: controls


def test_09_1_right_answers_match_the_package():
    assert verdict("09.1", color.luminance).status == SOLVED  # the package is the oracle
    weights = torch.tensor([0.299, 0.587, 0.114], dtype=torch.float64)
    assert verdict("09.1", lambda x: (x * weights.view(1, 3, 1, 1)).sum(dim=1, keepdim=True)).ok
    assert verdict("luminance_of", lambda x: torch.einsum("c,bchw->bhw", weights, x)[:, None]).ok


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda x: 0.114 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.299 * x[:, 2:3], ["swapped red and blue", "bgr"]),
        (lambda x: x.mean(dim=1, keepdim=True), ["averaged"]),
        (lambda x: 299 * x[:, 0:1] + 587 * x[:, 1:2] + 114 * x[:, 2:3], ["1000", "sum to 1"]),
        (lambda x: 255 * color.luminance(x), ["0-255"]),
        (lambda x: 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.144 * x[:, 2:3], ["sum to 1.03", "white"]),
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
    assert verdict("blend_grams", lambda g, w: torch.einsum("k,kij->ij", torch.tensor(w, dtype=torch.float64) / sum(w), torch.stack(g))).ok
    image = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    result = nt.stylize(image, [image, image.flip(-1)], style_weights=[3, 1], size=32, max_evals=1,
                        model=random_vgg, progress=False)
    assert result.settings["style_weights"] == [0.75, 0.25]


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda g, w: sum(wi * gi for wi, gi in zip(w, g, strict=True)), ["did not normalise", "sum"]),
        (lambda g, w: sum(wi * gi for wi, gi in zip(w, g, strict=True)) / len(g), ["number of styles"]),
        (lambda g, w: sum(g) / len(g), ["ignored the weights"]),
        (lambda g, w: sum(wi * gi for wi, gi in zip(reversed(w), g, strict=True)) / sum(w), ["reverse order"]),
        (lambda g, w: sum(wi**2 * gi for wi, gi in zip(w, g, strict=True)) / sum(wi**2 for wi in w), ["squared"]),
        (lambda g, w: torch.stack([wi / sum(w) * gi for wi, gi in zip(w, g, strict=True)]), ["add them up"]),
    ],
)
def test_09_2_mistakes_are_named(answer, words):
    assert_wrong(verdict("09.2", answer), *words)


# ---------------------------------------------------------------- 10: under the hood


def first_eval(history, threshold):
    for i, h in enumerate(history):
        if h["total"] <= threshold:
            return i + 1
    return None


def test_10_1_right_answer_on_a_real_history(random_vgg):
    assert verdict("10.1", first_eval).status == SOLVED
    image = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    result = nt.stylize(image, image.flip(-1), beta=1e4, size=32, max_evals=6, model=random_vgg,
                        progress=False)
    assert result.evals == len(result.history) == 6  # one history entry per function evaluation
    assert first_eval(result.history, math.inf) == 1
    assert first_eval(result.history, -1.0) is None


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda h, t: next((i for i, x in enumerate(h) if x["total"] <= t), None), ["off by one", "count from 1"]),
        (lambda h, t: next((i + 2 for i, x in enumerate(h) if x["total"] <= t), None), ["one too many"]),
        (lambda h, t: next((len(h) for x in h if x["total"] <= t), None), ["whole number of evaluations"]),
        (lambda h, t: next((x["total"] for x in h if x["total"] <= t), None), ["loss itself"]),
        (lambda h, t: next((i + 1 for i, x in enumerate(h) if x["content"] <= t), None), ["content loss"]),
        (lambda h, t: next((i + 1 for i, x in enumerate(h) if x["total"] <= t), len(h)), ["never", "none"]),
        (lambda h, t: next((i + 1 for i, x in enumerate(h) if x["total"] <= t), -1), ["never", "none"]),
        (lambda h, t: next((len(h) - j + 1 for j, x in enumerate(reversed(h)) if x["total"] > t), None)
         if h[0]["total"] > t else 1, ["first", "bounce"]),
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
    result = nt.stylize(image, image.flip(-1), beta=1e4, size=32, max_evals=5, model=random_vgg,
                        progress=False,
                        callback=lambda i, img, losses: stamps.append(time.perf_counter()))
    assert len(stamps) == len(result.history) == 5  # one stamp per evaluation, in order
    assert 0 < seconds_to(result.history, stamps, started, math.inf) <= stamps[-1] - started


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda h, s, st, t: next((s[i] for i, x in enumerate(h) if x["total"] <= t), None), ["raw time stamp"]),
        (lambda h, s, st, t: next((s[i - 1] - st for i, x in enumerate(h) if x["total"] <= t), None), ["before"]),
        (lambda h, s, st, t: next((s[i + 1] - st for i, x in enumerate(h) if x["total"] <= t), None), ["stamps[i + 1]"]),
        (lambda h, s, st, t: next((s[-1] - st for x in h if x["total"] <= t), None), ["whole run"]),
        (lambda h, s, st, t: next((i + 1 for i, x in enumerate(h) if x["total"] <= t), None), ["number of evaluations"]),
        (lambda h, s, st, t: next((s[i] - st for i, x in enumerate(h) if x["total"] <= t), s[-1] - st), ["never"]),
    ],
)
def test_10_2_mistakes_are_named(answer, words):
    assert_wrong(verdict("10.2", answer), *words)
