"""The paper's normalised VGG19 (Gatys et al. 2015) against the facts that define it.

Every filter's mean ReLU output over the calibration images and positions is 1 (measured here
with a plain loop, not the package's helpers), and every feature map is the unnormalised one
times a positive per-channel factor, on an image the calibration never saw.
"""

import pytest
import torch

import nst_teach as nt
from nst_teach import data, vgg
from nst_teach.images import load_image


@pytest.fixture(scope="module")
def plain():
    return nt.load_vgg19("caffe", device="cpu")


@pytest.fixture(scope="module")
def normed():
    return nt.load_vgg19("caffe", device="cpu", normalize=True)


@pytest.fixture(scope="module")
def cache():
    return torch.load(vgg.NORMALIZATION_FILE, map_location="cpu", weights_only=True)


@pytest.fixture(scope="module")
def synthetic():
    """A 48 x 64 picture with edges, gradients and noise: not one of the calibration images."""
    g = torch.Generator().manual_seed(7)
    y, x = torch.meshgrid(torch.linspace(0, 1, 48), torch.linspace(0, 1, 64), indexing="ij")
    img = torch.stack([(x > 0.4).float(), y, (x * 9 + y * 4).sin() * 0.5 + 0.5])
    return (img * 0.7 + 0.3 * torch.rand(3, 48, 64, generator=g))[None].clamp(0, 1)


@torch.no_grad()
def means_over(model, images) -> dict[str, torch.Tensor]:
    """Mean over images of each ReLU channel's mean over that image's positions (float64)."""
    total = {}
    for image in images:
        out = model.extract(image, vgg.RELU_NAMES)
        for name, f in out.items():
            total[name] = total.get(name, 0) + f.double().mean(dim=(0, 2, 3)) / len(images)
    return total


def test_cache_records_what_it_was_made_from(cache):
    assert cache["images"] == list(data.bundled()), "calibrated on every bundled image, in order"
    assert cache["size"] == vgg.CALIBRATION_SIZE and cache["pooling"] == "max"
    assert cache["weights_sha256"] == data.sha256(vgg.caffe_weights_path())
    counts = {name: m.numel() for name, m in cache["means"].items()}
    assert sum(counts.values()) == 2 * 64 + 2 * 128 + 4 * 256 + 8 * 512  # 5504 filters
    assert all(m.dtype == torch.float32 for m in cache["means"].values())


@pytest.mark.slow
def test_cache_matches_a_fresh_computation(plain, cache):
    images = [load_image(data.bundled(name), cache["size"]) for name in cache["images"]]
    fresh = means_over(plain, images)
    for name in vgg.RELU_NAMES:
        torch.testing.assert_close(cache["means"][name].double(), fresh[name], rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_every_filter_has_mean_one_on_the_calibration_set(normed, cache):
    assert normed.normalized
    images = [load_image(data.bundled(name), cache["size"]) for name in cache["images"]]
    measured = means_over(normed, images)
    dead = 0
    for name in vgg.RELU_NAMES:
        alive = cache["means"][name] > 0
        dead += int((~alive).sum())
        ones = torch.ones(int(alive.sum()), dtype=torch.float64)
        torch.testing.assert_close(measured[name][alive], ones, rtol=2e-4, atol=0, msg=name)
        assert (measured[name][~alive] == 0).all(), f"{name}: a dead filter must stay dead"
    assert dead < 10, "a handful of dead filters at most (relu5_4 has one on these images)"


@pytest.mark.parametrize("pooling", ["max", "avg"])
def test_features_are_the_plain_ones_times_a_positive_factor_per_channel(cache, synthetic, pooling):
    plain = nt.load_vgg19("caffe", device="cpu", pooling=pooling)
    normed = nt.load_vgg19("caffe", device="cpu", pooling=pooling, normalize=True)
    assert not plain.normalized and normed.normalized and normed.pooling == pooling
    with torch.no_grad():
        p, n = plain.extract(synthetic, vgg.RELU_NAMES), normed.extract(synthetic, vgg.RELU_NAMES)
    for name in vgg.RELU_NAMES:
        a, b = p[name][0].flatten(1).double(), n[name][0].flatten(1).double()  # (C, H*W)
        seen = (a > 0).any(1)
        # the least-squares factor of each channel that fires here: b ~ k * a
        k = (a * b).sum(1) / (a * a).sum(1).clamp(min=1e-300)
        assert (k[seen] > 0).all(), name
        m = cache["means"][name].double()
        expected = 1 / torch.where(m > 0, m, torch.ones_like(m))
        # a channel barely firing here (peak < 1e-3 of the layer's) is mostly float32 rounding
        strong = a.amax(1) > 1e-3 * a.max()
        torch.testing.assert_close(k[strong], expected[strong], rtol=2e-4, atol=0, msg=name)
        torch.testing.assert_close(b, expected[:, None] * a, rtol=1e-3, atol=1e-5 * b.max())
        assert (b[~seen] == 0).all(), name


def test_dead_filter_keeps_factor_one_and_nothing_is_infinite(synthetic):
    plain = nt.load_vgg19("random", device="cpu", seed=4)
    model = nt.load_vgg19("random", device="cpu", seed=4)
    g = torch.Generator().manual_seed(1)
    means = {name: torch.rand(m.shape[1], generator=g) + 0.5
             for name, m in plain.extract(synthetic, vgg.RELU_NAMES).items()}
    for name in ("relu1_1", "relu3_2", "relu5_4"):
        means[name][::3] = 0.0  # "dead" on the calibration set
    vgg.normalize_features(model.features, means)
    assert all(torch.isfinite(q).all() for q in model.parameters())
    with torch.no_grad():
        p, n = plain.extract(synthetic, vgg.RELU_NAMES), model.extract(synthetic, vgg.RELU_NAMES)
    for name, m in means.items():
        factor = torch.where(m == 0, torch.ones_like(m), m).view(1, -1, 1, 1)
        torch.testing.assert_close(n[name], p[name] / factor, rtol=1e-4, atol=1e-6, msg=name)


def _one_line_error(match: str):
    return pytest.raises(nt.WeightsError, match=match)


def test_cache_for_another_weights_file_is_refused(tmp_path, monkeypatch, cache):
    other = dict(cache, weights_sha256="0" * 64)
    torch.save(other, tmp_path / "other.pt")
    monkeypatch.setattr(vgg, "NORMALIZATION_FILE", tmp_path / "other.pt")
    with _one_line_error(r"made for weights sha256 000000000000\.\.\., not for this") as info:
        nt.load_vgg19("caffe", device="cpu", normalize=True)
    assert "\n" not in str(info.value) and "make_normalization.py" in str(info.value)
    nt.load_vgg19("caffe", device="cpu")  # the plain network does not need the cache


@pytest.mark.parametrize("damage", ["garbage", "missing", "nan", "short"])
def test_damaged_cache_is_refused(tmp_path, monkeypatch, cache, damage):
    path = tmp_path / "cache.pt"
    if damage == "garbage":
        path.write_bytes(b"not a torch file")
    elif damage in ("nan", "short"):
        means = {name: m.clone() for name, m in cache["means"].items()}
        means["relu3_1"] = means["relu3_1"][:10] if damage == "short" else means["relu3_1"] * 0 / 0
        torch.save(dict(cache, means=means), path)
    monkeypatch.setattr(vgg, "NORMALIZATION_FILE", path)
    match = "relu3_1" if damage in ("nan", "short") else "missing or damaged"
    with _one_line_error(match) as info:
        nt.load_vgg19("caffe", device="cpu", normalize=True)
    assert "\n" not in str(info.value)


@pytest.mark.slow
def test_random_weights_are_calibrated_on_first_use_and_kept(monkeypatch):
    monkeypatch.setattr(vgg, "CALIBRATION_SIZE", 32)  # small, so the test is quick
    vgg._computed_means.cache_clear()
    try:
        plain = nt.load_vgg19("random", device="cpu", seed=5)
        normed = nt.load_vgg19("random", device="cpu", seed=5, normalize=True)
        nt.load_vgg19("random", device="cpu", seed=5, normalize=True, pooling="avg")
        assert vgg._computed_means.cache_info().hits == 1, "the second load reuses the means"
        images = [load_image(path, 32) for path in data.bundled().values()]
        before, after = means_over(plain, images), means_over(normed, images)
    finally:
        vgg._computed_means.cache_clear()  # other tests must not see 32 px means
    for name in vgg.RELU_NAMES:
        alive = before[name] > 0
        torch.testing.assert_close(after[name][alive], torch.ones_like(after[name][alive]),
                                   rtol=2e-4, atol=0, msg=name)


def test_normalize_must_be_a_bool():
    with pytest.raises(ValueError, match="normalize must be True or False"):
        nt.load_vgg19("random", normalize="yes")
