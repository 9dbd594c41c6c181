"""Losses against hand-written formulas and finite-difference gradients (float64 gradcheck)."""

import numpy as np
import pytest
import torch

import nst_teach as nt
from nst_teach.losses import layer_weights, paper_content_loss, paper_style_loss


def test_content_loss_is_the_decks_mse():
    a, b = np.random.default_rng(0).normal(size=(2, 1, 3, 4, 5))
    expected = ((a - b) ** 2).sum() / a.size
    assert nt.content_loss(torch.tensor(a), torch.tensor(b)).item() == pytest.approx(
        expected, rel=1e-12
    )
    with pytest.raises(ValueError, match="one shape"):
        nt.content_loss(torch.zeros(1, 2, 3, 3), torch.zeros(1, 2, 3, 4))


def test_style_loss_is_four_times_gatys_per_layer():
    rng = np.random.default_rng(1)
    feats = {"relu1_1": rng.random((1, 4, 6, 5)), "relu2_1": rng.random((1, 8, 3, 2))}
    style = {"relu1_1": rng.random((1, 4, 6, 5)), "relu2_1": rng.random((1, 8, 3, 2))}
    total_gatys = 0.0
    for name in feats:
        _, N, h, w = feats[name].shape
        M = h * w
        F, S = feats[name].reshape(N, M), style[name].reshape(N, M)
        E = ((F @ F.T - S @ S.T) ** 2).sum() / (4 * N**2 * M**2)  # Gatys et al. eq. 4
        total_gatys += 0.5 * E  # equal weights w_l = 1/2
    grams = nt.style_targets({k: torch.tensor(v) for k, v in style.items()})
    ours = nt.style_loss({k: torch.tensor(v) for k, v in feats.items()}, grams)
    assert ours.item() == pytest.approx(4 * total_gatys, rel=1e-10)


def test_paper_losses_are_the_papers_equations_and_relate_to_ours():
    rng = np.random.default_rng(2)
    feats = {"relu1_1": rng.random((1, 4, 6, 5)), "relu2_1": rng.random((1, 8, 3, 2))}
    style = {"relu1_1": rng.random((1, 4, 6, 5)), "relu2_1": rng.random((1, 8, 3, 2))}
    expected = 0.0
    for name in feats:  # eqs. 4-5 with w_l = 1/2, written out in NumPy
        _, N, h, w = feats[name].shape
        F, S = feats[name].reshape(N, h * w), style[name].reshape(N, h * w)
        expected += 0.5 * ((F @ F.T - S @ S.T) ** 2).sum() / (4 * N**2 * (h * w) ** 2)
    t = {k: torch.tensor(v) for k, v in feats.items()}
    grams = nt.style_targets({k: torch.tensor(v) for k, v in style.items()}, normalize="none")
    paper = paper_style_loss(t, grams)
    assert paper.item() == pytest.approx(expected, rel=1e-10)
    ours = nt.style_loss(t, nt.style_targets({k: torch.tensor(v) for k, v in style.items()}))
    assert paper.item() == pytest.approx(ours.item() / 4, rel=1e-10)  # a second formulation
    a, b = torch.tensor(rng.normal(size=(1, 3, 4, 5))), torch.tensor(rng.normal(size=(1, 3, 4, 5)))
    assert paper_content_loss(a, b).item() == pytest.approx(
        0.5 * ((a - b) ** 2).sum().item(), rel=1e-12
    )
    assert paper_content_loss(a, b).item() == pytest.approx(
        a.numel() / 2 * nt.content_loss(a, b).item(), rel=1e-12
    )


def test_style_loss_layer_weights():
    f = {
        "a": torch.rand(1, 2, 3, 3, dtype=torch.float64),
        "b": torch.rand(1, 3, 2, 2, dtype=torch.float64),
    }
    grams = nt.style_targets({k: torch.rand_like(v) for k, v in f.items()})
    only_a = nt.style_loss(f, grams, weights={"a": 1.0, "b": 0.0})
    torch.testing.assert_close(
        only_a, nt.style_loss({"a": f["a"]}, {"a": grams["a"]}, weights=[1.0])
    )
    with pytest.raises(ValueError, match="2 layer weights given for 1"):
        layer_weights(["a"], [1.0, 2.0])
    with pytest.raises(ValueError, match="missing"):
        layer_weights(["a", "b"], {"a": 1.0})


def test_tv_loss_by_loops():
    x = np.random.default_rng(2).random((1, 2, 4, 5))
    dy = [
        (x[0, c, i + 1, j] - x[0, c, i, j]) ** 2
        for c in range(2)
        for i in range(3)
        for j in range(5)
    ]
    dx = [
        (x[0, c, i, j + 1] - x[0, c, i, j]) ** 2
        for c in range(2)
        for i in range(4)
        for j in range(4)
    ]
    assert nt.tv_loss(torch.tensor(x)).item() == pytest.approx(np.mean(dy) + np.mean(dx), rel=1e-12)
    assert nt.tv_loss(torch.ones(1, 3, 1, 1)).item() == 0.0


@pytest.mark.parametrize("which", ["content", "style", "tv"])
def test_gradients_match_finite_differences(which):
    g = torch.Generator().manual_seed(3)
    x = torch.rand(1, 3, 4, 5, dtype=torch.float64, generator=g, requires_grad=True)
    target = torch.rand(1, 3, 4, 5, dtype=torch.float64, generator=g)
    if which == "content":
        fn = lambda x: nt.content_loss(x, target)  # noqa: E731
    elif which == "style":
        grams = nt.style_targets({"l": target})
        fn = lambda x: nt.style_loss({"l": x}, grams)  # noqa: E731
    else:
        fn = nt.tv_loss
    assert torch.autograd.gradcheck(fn, (x,), eps=1e-6, atol=1e-6)


def test_blended_gram_targets_give_the_same_gradient_as_weighted_per_style_losses():
    g = torch.Generator().manual_seed(4)
    feats = torch.rand(1, 5, 6, 6, dtype=torch.float64, generator=g, requires_grad=True)
    styles = [torch.rand(1, 5, 6, 6, dtype=torch.float64, generator=g) for _ in range(3)]
    w = [0.5, 0.3, 0.2]
    grams = [nt.style_targets({"l": s}) for s in styles]
    blended = {"l": sum(wk * gk["l"] for wk, gk in zip(w, grams, strict=True))}
    (grad_blend,) = torch.autograd.grad(nt.style_loss({"l": feats}, blended), feats)
    separate = sum(wk * nt.style_loss({"l": feats}, gk) for wk, gk in zip(w, grams, strict=True))
    (grad_sep,) = torch.autograd.grad(separate, feats)
    torch.testing.assert_close(grad_blend, grad_sep)
