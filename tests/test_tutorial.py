"""nst_teach.tutorial: the PyTorch tutorial's loop (notebook 10) against hand-made oracles."""

import pytest
import torch

from nst_teach.settings import Settings
from nst_teach.tutorial import TutorialLoss, tutorial_loop


def test_the_loop_finds_a_quadratic_minimiser_inside_the_box():
    """sum w (x - c)^2 with c inside [0, 1]: the loop ends at c; its first loss is the start's."""
    c = torch.tensor([0.1, 0.2, 0.7, 0.9]).view(1, 1, 2, 2)
    w = torch.tensor([1.0, 3.0, 0.5, 2.0]).view(1, 1, 2, 2)
    run = tutorial_loop(lambda x: (w * (x - c) ** 2).sum(), torch.full_like(c, 0.5), evals=60)
    assert torch.allclose(run.image, c, atol=1e-4)
    assert len(run.losses) == len(run.stamps) == 60
    assert run.losses[0] == pytest.approx((w * (0.5 - c) ** 2).sum().item())
    assert all(b >= a for a, b in zip(run.stamps, run.stamps[1:], strict=False))


def test_every_closure_call_counts_and_the_start_is_left_alone():
    calls = []

    def loss(x):
        calls.append(x.detach().clone())
        return (x**2).sum()

    start = torch.full((1, 3, 4, 4), 0.75)
    run = tutorial_loop(loss, start, evals=7)
    assert len(calls) == len(run.losses) == 7 and torch.equal(start, torch.full_like(start, 0.75))
    assert all(0 <= c.min() and c.max() <= 1 for c in calls)  # clamped before each evaluation
    with pytest.raises(ValueError, match="at least one evaluation"):
        tutorial_loop(loss, start, evals=0)


def test_the_loss_is_alpha_content_plus_beta_style_written_by_hand(random_vgg):
    """TutorialLoss against the formula with the paper's definitions, computed here by hand."""
    gen = torch.Generator().manual_seed(5)
    content, style, x = (torch.rand(1, 3, 32, 32, generator=gen) for _ in range(3))
    d = Settings()
    layers = list(dict.fromkeys(d.content_layers + d.style_layers))
    with torch.no_grad():
        F, P = random_vgg.extract(x, layers), random_vgg.extract(content, d.content_layers)
        S = random_vgg.extract(style, d.style_layers)

        def gram(f):
            flat = f.reshape(f.shape[1], -1)
            return flat @ flat.T / flat.shape[1]

        content_term = sum(((F[n] - P[n]) ** 2).mean() for n in d.content_layers)
        content_term = content_term / len(d.content_layers)
        style_term = sum(((gram(F[n]) - gram(S[n])) ** 2).mean() for n in d.style_layers)
        style_term = style_term / len(d.style_layers)
        ours = TutorialLoss(random_vgg, content, style, d)(x)
    expected = d.alpha * content_term + d.beta * style_term
    assert ours.item() == pytest.approx(expected.item(), rel=1e-4)
