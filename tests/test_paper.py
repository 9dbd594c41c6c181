"""Paper mode (Gatys et al. 2015 as printed): its settings, its loss terms, what alpha/beta does."""

import pytest
import torch
from conftest import fp32

import nst_teach as nt
from nst_teach import data
from nst_teach.losses import paper_content_loss, paper_style_loss
from nst_teach.settings import STYLE_LAYERS, Settings
from nst_teach.transfer import LossTerms, extract_targets, prepare_images


@pytest.fixture(scope="module")
def paper_vgg():
    return nt.load_vgg19(normalize=True, pooling="avg")


def test_paper_mode_resolves_the_papers_setup_and_keeps_what_is_given():
    s = Settings(paper=True)
    assert (s.alpha, s.beta, s.init, s.pooling, s.normalize) == (1e-3, 1.0, "noise", "avg", True)
    assert s.content_layers == ("relu4_2",) and s.style_layers == STYLE_LAYERS
    given = Settings(paper=True, alpha=1e-4, init="content")
    assert (given.alpha, given.beta, given.init) == (1e-4, 1.0, "content")
    everyday = Settings()
    assert (everyday.init, everyday.pooling) == ("content", "max")


def test_paper_loss_terms_are_the_papers_equations(paper_vgg):
    # float32 pinned: the oracle below is float32 and compared at rtol 1e-4
    settings = Settings(paper=True, size=64, max_evals=1, device=torch.device("cpu"), **fp32())
    content, styles = prepare_images(
        nt.load_image(data.bundled("tubingen")),
        [nt.load_image(data.bundled("the_scream"))],
        settings,
    )
    P, A = extract_targets(paper_vgg, content, styles, [1.0], settings)
    image = torch.rand(content.shape, generator=torch.Generator().manual_seed(0))
    got = LossTerms(paper_vgg, P, A, settings)(image)
    F = paper_vgg.extract(image, ["relu4_2", *STYLE_LAYERS])
    S = paper_vgg.extract(styles[0], list(STYLE_LAYERS))
    content_term = 0.5 * ((F["relu4_2"] - P["relu4_2"]) ** 2).sum()
    style_term = 0.0
    for name in STYLE_LAYERS:  # eq. 4 with w_l = 1/5, Grams written out
        _, N, h, w = F[name].shape
        Fl, Sl = F[name].reshape(N, h * w), S[name].reshape(N, -1)
        A = (
            Sl @ Sl.T * (h * w) / Sl.shape[1]
        )  # the style's F F^T, scaled to the target's M positions
        style_term += ((Fl @ Fl.T - A) ** 2).sum() / (4 * N**2 * (h * w) ** 2) / 5
    torch.testing.assert_close(got[0], content_term, rtol=1e-4, atol=0)
    torch.testing.assert_close(got[1], style_term, rtol=1e-3, atol=0)
    torch.testing.assert_close(got[3], 1e-3 * got[0] + got[1], rtol=1e-6, atol=0)
    assert paper_content_loss is not None and paper_style_loss is not None


def test_paper_mode_refuses_a_network_that_is_not_the_papers():
    with pytest.raises(ValueError, match="paper=True needs the paper's network"):
        nt.stylize(
            torch.rand(1, 3, 32, 32),
            torch.rand(1, 3, 32, 32),
            paper=True,
            model=nt.load_vgg19("random"),
            size=32,
            max_evals=1,
            progress=False,
        )


@pytest.mark.slow
def test_alpha_over_beta_trades_content_for_style_as_in_figure_3(paper_vgg, caffe_vgg):
    # From noise, two ratios a thousandfold apart; distances measured with the unnormalised network
    # and Grams written out here, not the package's losses.
    content, style = (
        nt.load_image(data.bundled("landscape"), 64),
        nt.load_image(data.bundled("shipwreck"), 64),
    )
    # The printed ratios weight content ~1000x more than the paper's figures show (notebook 08): at
    # 64-96 px the photograph and the painting share the picture around 1e-6: test either side of
    # it (at 64 px and 100 evaluations, measured: content 0.67 vs 6.5, style 0.93 vs 0.14).
    images = {
        r: nt.stylize(
            content,
            style,
            paper=True,
            alpha=r,
            model=paper_vgg,
            size=64,
            max_evals=100,
            progress=False,
        ).image
        for r in (1e-4, 1e-7)
    }

    def distances(image):
        F = caffe_vgg.extract(image, ["relu4_2", "relu1_1", "relu3_1"])
        C = caffe_vgg.extract(content, ["relu4_2"])["relu4_2"]
        S = caffe_vgg.extract(
            torch.nn.functional.interpolate(style, size=image.shape[-2:]), ["relu1_1", "relu3_1"]
        )
        gram = lambda x: (lambda m: m @ m.T / m.shape[1])(x[0].flatten(1))  # noqa: E731
        return ((F["relu4_2"] - C) ** 2).mean().item(), sum(
            ((gram(F[k]) - gram(S[k])) ** 2).mean().item() for k in S
        )

    (c_big, s_big), (c_small, s_small) = distances(images[1e-4]), distances(images[1e-7])
    assert c_big < c_small, (c_big, c_small)  # more content at the larger alpha/beta
    assert s_small < s_big, (s_small, s_big)  # more style at the smaller
