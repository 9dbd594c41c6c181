"""The measures behind notebook 11's verdicts on the real-time network, and its training crops'
colour jitter.

Oracles: PIL's own greyscale conversion (Rec. 601) for a saturation of 0, NumPy for the means and
spreads, a grid drawn into a photograph for grid_strength, and the photograph itself for "no grid".
"""

import numpy as np
import pytest
import torch
from PIL import Image

import nst_teach as nt
from nst_teach import data
from nst_teach import feedforward as ff


@pytest.fixture(scope="module")
def photo():
    """A real photograph, 256 px on its longest side: the bundled temple in China (held out)."""
    return nt.load_image(data.content_path("china"), max_size=256)


def test_a_saturation_of_zero_gives_pils_greyscale(photo):
    grey = ff.jitter_colours(photo, 1.0, 1.0, 0.0)
    as_pil = Image.fromarray((photo[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))
    expected = np.asarray(as_pil.convert("L"), dtype=float) / 255  # PIL: L = (299R+587G+114B)/1000
    for channel in grey[0]:
        assert np.abs(channel.numpy() - expected).max() < 1.5 / 255


def test_jitter_factors_do_what_they_say(photo):
    torch.testing.assert_close(ff.jitter_colours(photo, 1.0, 1.0, 1.0), photo)
    flat = ff.jitter_colours(photo, 1.0, 0.0, 1.0)  # no contrast: one value, the mean grey
    assert flat.std() < 1e-6
    darker = ff.jitter_colours(photo, 0.5, 1.0, 1.0)
    torch.testing.assert_close(darker, photo * 0.5)
    gains = ff.jitter_colours(photo, 1.0, 1.1, 1.0).std() / photo.std()
    assert 1.05 < gains <= 1.1 + 1e-4  # a little clamping at the ends


def test_crops_are_jittered_within_the_stated_factors(photo):
    plain = ff.CropSampler([photo], 64, seed=3, jitter=0)(8)
    jittered = ff.CropSampler([photo], 64, seed=3)(8)
    assert not torch.equal(plain, jittered) and jittered.min() >= 0 and jittered.max() <= 1
    ratio = jittered.mean((1, 2, 3)) / plain.mean((1, 2, 3))  # brightness mostly, some clamping
    assert ((ratio > 1 - 2 * ff.JITTER) & (ratio < 1 + 2 * ff.JITTER)).all(), ratio
    with pytest.raises(ValueError, match="jitter must be in"):
        ff.CropSampler([photo], 64, seed=3, jitter=1.5)


def test_colour_stats_are_numpys_mean_and_spread(photo):
    stats = ff.colour_stats(photo)
    pixels = photo[0].reshape(3, -1).double().numpy()
    np.testing.assert_allclose(stats["mean"], pixels.mean(1), rtol=1e-5)
    np.testing.assert_allclose(stats["spread"], pixels.std(1, ddof=1), rtol=1e-4)


@pytest.mark.parametrize("period", ff.GRID_PERIODS)
def test_a_drawn_grid_stands_out_and_a_photograph_has_none(photo, period):
    clean = ff.grid_strength(photo, period)
    assert clean < 60, clean  # a photograph: no grid at the network's periods
    h, w = photo.shape[-2:]
    y, x = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    grid = 0.03 * ((y % period == 0) | (x % period == 0)).float()  # faint lines every period px
    gridded = (photo + grid).clamp(0, 1)
    assert ff.grid_strength(gridded, period) > max(5 * clean, 200)
    assert ff.grid_strength(gridded, 3) < 3 * ff.grid_strength(photo, 3)  # only at its period


def test_grid_strength_refuses_an_image_too_small_to_measure():
    with pytest.raises(ValueError, match="at least 16 px"):
        ff.grid_strength(torch.rand(1, 3, 12, 40), 4)


def numpy_grid_penalty(images: np.ndarray, period: int = 4) -> float:
    """grid_penalty by another route: the detail image's Fourier power at the grid's frequencies.

    A period-p pattern's offset averages m (p x p) have the detail image's DFT at (H/p * k, W/p * l)
    as their own DFT, scaled by H W / p^2; by Parseval, their variance over the p^2 offsets is the
    sum of |DFT|^2 over those frequencies but (0, 0), divided by (H W)^2.
    """
    b, c, h, w = images.shape
    h, w = h - h % period, w - w % period
    x = images[..., :h, :w].astype(float)
    before, after = (period - 1) // 2, period // 2
    padded = np.pad(x, ((0, 0), (0, 0), (before, after), (before, after)), mode="reflect")
    blur = sum(padded[..., i:i + h, j:j + w] for i in range(period) for j in range(period))
    power = np.abs(np.fft.fft2(x - blur / period**2)) ** 2
    grid = [(h // period * k, w // period * m) for k in range(period) for m in range(period)][1:]
    return float(np.mean(sum(power[..., fy, fx] for fy, fx in grid)) / (h * w) ** 2)


def test_grid_penalty_is_the_grid_frequencies_power_computed_with_numpy(photo):
    g = torch.Generator().manual_seed(1)
    batch = torch.cat([photo[..., :168, :248], torch.rand(1, 3, 168, 248, generator=g)])
    pattern = (torch.rand(3, 4, 4, generator=g) - 0.5) * 0.04  # a faint 4 px grid, +- 0.02
    gridded = (batch + pattern.repeat(1, 42, 62)).clamp(0, 1)
    for images in (batch, gridded, photo):
        expected = numpy_grid_penalty(images.double().numpy())
        assert ff.grid_penalty(images.double()).item() == pytest.approx(expected, rel=1e-9)


def test_grid_penalty_sees_a_drawn_grid_and_hardly_a_photograph(photo):
    pattern = torch.tensor([[1.0, -1.0, 0.5, -0.5]] * 2 + [[-1.0, 1.0, -0.5, 0.5]] * 2) * 0.01
    x = photo[..., :168, :248] * 0.96 + 0.02  # room for the grid's +-0.01 inside [0, 1]
    gridded = x + pattern.repeat(42, 62)
    drawn = (pattern - pattern.mean()).pow(2).mean().item()  # its variance over the offsets
    assert ff.grid_penalty(x) < 0.05 * drawn
    assert ff.grid_penalty(gridded) == pytest.approx(drawn, rel=0.15)
    grad = torch.autograd.grad(ff.grid_penalty(gridded.requires_grad_()), gridded)[0]
    assert grad.abs().sum() > 0  # a loss term: training can push the grid away
