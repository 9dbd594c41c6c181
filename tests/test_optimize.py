"""The loop's promises (README, notebook 07), each checked against something the loop did not make.

- the image returned is the best one evaluated, not the last (a loss that falls, then rises);
- the losses reported are the returned image's, recomputed by a Gram matrix and MSEs of our own;
- each init starts where it says (the image of evaluation 1, before any step);
- the L-BFGS pair records the move actually made, after the box projection and the step limit;
- the real-time model's judge gives the same numbers as the losses written here.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import fp32

import nst_teach as nt
from nst_teach import optimize as loop
from nst_teach import transfer
from nst_teach.lbfgs import LBFGS

STYLE = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")  # the README's default layers
CONTENT = "relu4_2"
LOSSES = ("content", "style", "tv", "total")
# A loss that falls for three evaluations and then rises: the last image is not the best one.
SCRIPT = [1.0, 0.6, 0.3, 0.8, 2.0, 3.0, 4.0, 5.0]


def _scripted(factor_at):
    """loss_terms for optimize: total = factor(evaluation) * (|x - 0.3|^2 + 1), true gradient."""
    calls = {"n": 0}

    def loss_terms(x):
        factor = factor_at(calls["n"])
        calls["n"] += 1
        total = factor * ((x - 0.3) ** 2).sum() + factor
        zero = total.new_zeros(())
        return torch.stack((zero, zero, zero, total))

    return loss_terms


@pytest.mark.parametrize("name", ["lbfgs", "adam"])
def test_the_image_returned_is_the_one_with_the_lowest_loss_not_the_last(name):
    target = torch.rand(1, 3, 6, 6).requires_grad_(True)
    optimizer = loop.make_optimizer(target, name, None, 5)
    snapshots = []
    run = loop.optimize(_scripted(lambda i: SCRIPT[i]), target, optimizer, max_evals=len(SCRIPT),
                        callback=lambda i, image, ls: snapshots.append((ls["total"], image)))
    totals = [h["total"] for h in run.history]
    assert len(totals) == len(SCRIPT) and run.stop_reason == "completed"
    best = int(np.argmin(totals))
    assert best != len(totals) - 1  # the script did its job: the last evaluation is not the best
    assert snapshots[best][0] == min(totals)
    assert torch.equal(run.best, snapshots[best][1])  # bit for bit the image at the minimum
    assert run.best_loss == min(totals) and run.best_losses == run.history[best]


def _rising_loss_terms(monkeypatch):
    """Make stylize's loss rise after evaluation 3 (every term times a growing factor)."""
    real, calls = transfer.LossTerms, {"n": 0}

    class Rising(real):
        def __call__(self, target):
            calls["n"] += 1
            factor = 1.0 if calls["n"] <= 3 else 10.0 ** (calls["n"] - 3)
            return real.__call__(self, target) * factor

    monkeypatch.setattr(transfer, "LossTerms", Rising)


def test_stylize_returns_the_best_image_and_its_losses_not_the_final_iterate(random_vgg,
                                                                              monkeypatch):
    _rising_loss_terms(monkeypatch)
    seen = []
    r = nt.stylize(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32), model=random_vgg, size=32,
                   max_evals=6, progress=False,
                   callback=lambda i, image, losses: seen.append((losses, image)), **fp32())
    totals = [h["total"] for h in r.history]
    best = int(np.argmin(totals))
    assert best < len(totals) - 1, totals
    assert torch.equal(r.image, seen[best][1]) and not torch.equal(r.image, seen[-1][1])
    record = {k: r.history[best][k] for k in LOSSES}  # a record may also say its precision
    assert r.losses == record == r.manifest()["final_losses"]


# ------------------------------------------------------------------ the losses, written here


def _features(model, image, layers):
    """{layer: (C, H*W) float64 NumPy} from the model's own layers."""
    with torch.no_grad():
        feats = model.extract(image, list(layers))
    return {k: v[0].flatten(1).double().numpy() for k, v in feats.items()}


def _gram(F):
    """G = F F^T / M, M = number of positions (the README's Gram "hw")."""
    return F @ F.T / F.shape[1]


def our_losses(model, image, content, style, alpha=1.0, beta=10.0):
    """(content, style, total): relu4_2's MSE; the mean of five layers' mean squared Gram errors."""
    F = _features(model, image, (CONTENT, *STYLE))
    P = _features(model, content, (CONTENT,))[CONTENT]
    S = _features(model, style, STYLE)
    c = np.mean((F[CONTENT] - P) ** 2)
    s = sum(np.mean((_gram(F[n]) - _gram(S[n])) ** 2) for n in STYLE) / len(STYLE)
    return c, s, alpha * c + beta * s


def test_the_reported_losses_are_the_returned_images_recomputed_independently(caffe_vgg):
    # content and style already at size 32: stylize resizes nothing, so the oracle sees its images
    content, style = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    seen = []
    r = nt.stylize(content, style, model=caffe_vgg, size=32, max_evals=5, progress=False,
                   callback=lambda i, image, losses: seen.append((losses, image)), **fp32())
    c, s, total = our_losses(caffe_vgg, r.image, content, style)
    final = r.manifest()["final_losses"]
    assert final == r.losses
    assert final["content"] == pytest.approx(c, rel=1e-4)
    assert final["style"] == pytest.approx(s, rel=1e-4)
    assert final["total"] == pytest.approx(total, rel=1e-4)
    for losses, image in seen:  # every record in the history is the loss of the image evaluated
        ours = our_losses(caffe_vgg, image, content, style)[2]
        assert losses["total"] == pytest.approx(ours, rel=1e-4)


# ------------------------------------------------------------------ where each init starts


def _first_image(model, content, style, **kw):
    seen = []
    nt.stylize(content, style, model=model, size=32, max_evals=1, progress=False,
               callback=lambda i, image, losses: seen.append(image), **kw)
    return seen[0]


def test_each_init_starts_where_it_says(random_vgg):
    content = torch.rand(1, 3, 32, 32)
    stripes = 0.1 * (torch.arange(32) % 2).view(1, 1, 1, 32)
    style = torch.full((1, 3, 32, 32), 0.2) + stripes
    torch.testing.assert_close(_first_image(random_vgg, content, style, init="content"), content,
                               atol=1e-6, rtol=0)
    torch.testing.assert_close(_first_image(random_vgg, content, style, init="style"), style,
                               atol=1e-6, rtol=0)
    noise = _first_image(random_vgg, content, style, init="noise", seed=3)
    flat = noise.flatten()
    assert 0 <= flat.min() and flat.max() <= 1 and abs(flat.mean() - 0.5) < 0.05  # uniform
    assert abs(np.corrcoef(flat.numpy(), content.flatten().numpy())[0, 1]) < 0.1
    assert torch.equal(noise, _first_image(random_vgg, content, style, init="noise", seed=3))
    assert not torch.equal(noise, _first_image(random_vgg, content, style, init="noise", seed=4))


def test_init_style_is_the_style_resized_to_the_content(random_vgg):
    content = torch.rand(1, 3, 32, 64)
    style = torch.linspace(0, 1, 16).view(1, 1, 1, 16).expand(1, 3, 16, 16).contiguous()  # a ramp
    image = _first_image(random_vgg, content, style, init="style")
    assert image.shape == (1, 3, 16, 32)
    # bilinear resizing of a horizontal ramp keeps it a ramp from left to right, and flat downwards
    assert (image[..., 1:] - image[..., :-1] >= -1e-6).all()
    torch.testing.assert_close(image, image[..., :1, :].expand_as(image), atol=1e-6, rtol=0)
    assert image[..., 0].mean() < 0.1 and image[..., -1].mean() > 0.9


# ------------------------------------------------------------------ the L-BFGS pair


def test_the_lbfgs_pair_records_the_move_made_after_projection_and_step_limit():
    g = torch.Generator().manual_seed(0)
    goal = torch.rand(50, generator=g, dtype=torch.float64) * 3 - 1  # much of it outside [0, 1]
    x = torch.rand(50, generator=g, dtype=torch.float64).requires_grad_(True)
    opt = LBFGS([x], history_size=4, bounds=(0.0, 1.0), max_move=0.3)
    landed = 0  # values that a step put exactly on a bound: the projection did that
    for _ in range(12):
        before = x.detach().clone()

        def closure():
            opt.zero_grad()
            loss = ((x - goal) ** 4).sum()
            loss.backward()
            return loss

        opt.step(closure)
        made = x.detach() - before
        assert torch.equal(opt.s, made.reshape(-1))  # the remembered move is the move made, exactly
        assert made.abs().max() <= 0.3 + 1e-12 and 0 <= x.min() and x.max() <= 1
        on_bound = (x.detach() == 0) | (x.detach() == 1)
        landed += int((on_bound & (before != x.detach())).sum())
    assert landed > 5


def test_the_stored_pairs_are_the_moves_made():
    goal = torch.linspace(-1, 2, 40, dtype=torch.float64)
    x = torch.full((40,), 0.5, dtype=torch.float64, requires_grad=True)
    opt = LBFGS([x], history_size=3, bounds=(0.0, 1.0), max_move=0.2)
    moves = []
    for _ in range(8):
        before = x.detach().clone()

        def closure():
            opt.zero_grad()
            loss = ((x - goal) ** 2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        moves.append(x.detach() - before)
    # step k stores the pair of move k-1: the three stored s are moves 4, 5, 6 (of 0..7)
    stored = {tuple(opt.pairs[j, 0].tolist()) for j in range(opt.used)}
    assert stored == {tuple(m.tolist()) for m in moves[-4:-1]}


# ------------------------------------------------------------------ the real-time model's judge


def test_judge_gives_the_losses_written_here(caffe_vgg):
    from nst_teach.feedforward import judge

    image, photo, style = (torch.rand(1, 3, 32, 32) for _ in range(3))
    got = judge(image, photo, style, model=caffe_vgg)
    c, s, _ = our_losses(caffe_vgg, image, photo, style)
    assert got["content"] == pytest.approx(c, rel=1e-4)
    assert got["style"] == pytest.approx(s, rel=1e-4)
    assert judge(photo, photo, style, model=caffe_vgg)["content"] == 0  # its own content
