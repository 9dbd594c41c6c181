"""The paper's normalised VGG19 (Gatys et al. 2015) against the facts that define it.

For each pooling, in the network with that pooling: every filter's mean ReLU output over the
calibration set (each bundled image at each calibration size, measured here with a plain loop,
not the package's helpers) is 1, except the floored filters (mean m_c below
q = normalization.FLOOR times its layer's median), whose mean is m_c / (q * median) < 1; every
feature map is the unnormalised one times a positive per-channel factor, on an image the
calibration never saw. "Median" is the
lower middle value of the layer's means (as torch.median; every layer has an even count).
"""

import numpy as np
import pytest
import torch

import nst_teach as nt
from nst_teach import data, normalization, vgg
from nst_teach.images import load_image

POOLINGS = ["max", "avg"]


@pytest.fixture(scope="module")
def cache():
    return torch.load(normalization.NORMALIZATION_FILE, map_location="cpu", weights_only=True)


@pytest.fixture(scope="module")
def calibration_set(cache):
    """Every bundled image at every calibration size, loaded here: [(1, 3, H, W)]."""
    names, sizes = cache["images"], cache["sizes"]
    return [load_image(data.bundled(name), size) for name in names for size in sizes]


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


def floor_of(m: torch.Tensor, q: float = normalization.FLOOR) -> float:
    """q times the lower median of a layer's means, with NumPy."""
    values = np.sort(m.double().numpy())
    return q * float(values[(len(values) - 1) // 2])


def divisors(means, q: float = normalization.FLOOR) -> dict[str, torch.Tensor]:
    """What each ReLU map is divided by: max(m_c, q * median), or 1 where that is 0 (float64)."""
    out = {}
    for name, m in means.items():
        f = m.double().clamp(min=floor_of(m, q))
        out[name] = torch.where(f > 0, f, torch.ones_like(f))
    return out


def test_cache_records_what_it_was_made_from(cache):
    assert cache["images"] == list(data.bundled()), "calibrated on every bundled image, in order"
    assert cache["sizes"] == list(normalization.CALIBRATION_SIZES) == [64, 128, 256]
    assert cache["weights_sha256"] == data.sha256(vgg.caffe_weights_path())
    assert sorted(cache["means"]) == sorted(POOLINGS)
    for pooling in POOLINGS:
        counts = {name: m.numel() for name, m in cache["means"][pooling].items()}
        assert sum(counts.values()) == 2 * 64 + 2 * 128 + 4 * 256 + 8 * 512  # 5504 filters
        assert all(m.dtype == torch.float32 for m in cache["means"][pooling].values())
    assert not torch.equal(cache["means"]["max"]["relu5_1"], cache["means"]["avg"]["relu5_1"])


def test_calibration_set_is_every_image_at_every_size():
    names = list(data.bundled())[:2]
    images = normalization.calibration_images(names, size=(16, 32))
    assert [max(i.shape[-2:]) for i in images] == [16, 32, 16, 32]
    torch.testing.assert_close(images[2], load_image(data.bundled(names[1]), 16))
    assert len(normalization.calibration_images(names, size=16)) == 2


@pytest.mark.slow
@pytest.mark.parametrize("pooling", POOLINGS)
def test_cache_matches_a_fresh_computation(cache, calibration_set, pooling):
    plain = nt.load_vgg19("caffe", device="cpu", pooling=pooling, normalize=False)
    fresh = means_over(plain, calibration_set)
    for name in vgg.RELU_NAMES:
        torch.testing.assert_close(cache["means"][pooling][name].double(), fresh[name],
                                   rtol=1e-4, atol=1e-6, msg=name)


@pytest.mark.slow
@pytest.mark.parametrize("pooling", POOLINGS)
def test_every_filter_has_mean_one_on_the_calibration_set(cache, calibration_set, pooling):
    normed = nt.load_vgg19("caffe", device="cpu", pooling=pooling, normalize=True)
    assert normed.normalized and normed.pooling == pooling
    measured = means_over(normed, calibration_set)
    floored = {}
    for name in vgg.RELU_NAMES:
        m = cache["means"][pooling][name].double()
        low = m < floor_of(m)
        floored[name] = int(low.sum())
        ones = torch.ones(int((~low).sum()), dtype=torch.float64)
        torch.testing.assert_close(measured[name][~low], ones, rtol=2e-4, atol=0, msg=name)
        # a floored filter is divided by q * median, not by its own mean: its mean stays below 1
        torch.testing.assert_close(measured[name][low], m[low] / floor_of(m), rtol=2e-4, atol=1e-6)
    total = sum(floored.values())
    print(f"{pooling} pooling: {total} of 5504 filters floored: {floored}")  # shown with -s
    hits = normalization.floored(cache["means"][pooling])
    assert {n: int(v.sum()) for n, v in hits.items()} == floored
    assert 0 < total < 0.02 * 5504, f"a few near-dead filters, not {total}: {floored}"


@pytest.mark.parametrize("pooling", POOLINGS)
def test_features_are_the_plain_ones_times_a_positive_factor_per_channel(cache, synthetic, pooling):
    plain = nt.load_vgg19("caffe", device="cpu", pooling=pooling, normalize=False)
    normed = nt.load_vgg19("caffe", device="cpu", pooling=pooling, normalize=True)
    assert not plain.normalized and normed.normalized and normed.pooling == pooling
    with torch.no_grad():
        p, n = plain.extract(synthetic, vgg.RELU_NAMES), normed.extract(synthetic, vgg.RELU_NAMES)
    expected_divisors = divisors(cache["means"][pooling])
    for name in vgg.RELU_NAMES:
        a, b = p[name][0].flatten(1).double(), n[name][0].flatten(1).double()  # (C, H*W)
        seen = (a > 0).any(1)
        # the least-squares factor of each channel that fires here: b ~ k * a
        k = (a * b).sum(1) / (a * a).sum(1).clamp(min=1e-300)
        assert (k[seen] > 0).all(), name
        expected = 1 / expected_divisors[name]
        # a channel barely firing here (peak < 1e-3 of the layer's) is mostly float32 rounding
        strong = a.amax(1) > 1e-3 * a.max()
        torch.testing.assert_close(k[strong], expected[strong], rtol=2e-4, atol=0, msg=name)
        torch.testing.assert_close(b, expected[:, None] * a, rtol=1e-3, atol=1e-5 * b.max())
        assert (b[~seen] == 0).all(), name


@pytest.mark.parametrize("pooling", POOLINGS)
def test_no_filter_is_scaled_up_more_than_one_over_q_relative_to_its_layer(cache, pooling):
    for name, f in normalization.normalization_factors(cache["means"][pooling]).items():
        assert torch.isfinite(f).all() and (f > 0).all(), name
        assert float(f.min()) >= floor_of(cache["means"][pooling][name]) * (1 - 1e-6), name


def test_dead_and_near_dead_filters_get_the_floor_and_nothing_is_infinite(synthetic):
    plain = nt.load_vgg19("random", device="cpu", seed=4)
    model = nt.load_vgg19("random", device="cpu", seed=4)
    g = torch.Generator().manual_seed(1)
    means = {name: torch.rand(m.shape[1], generator=g) + 0.5
             for name, m in plain.extract(synthetic, vgg.RELU_NAMES).items()}
    for name in ("relu1_1", "relu3_2", "relu5_4"):
        means[name][::5] = 0.0  # dead on the calibration set
        means[name][1::5] = 1e-4  # nearly so
    normalization.normalize_features(model.features, means)
    assert all(torch.isfinite(q).all() for q in model.parameters())
    with torch.no_grad():
        p, n = plain.extract(synthetic, vgg.RELU_NAMES), model.extract(synthetic, vgg.RELU_NAMES)
    for name, f in divisors(means).items():
        expected = p[name] / f.float().view(1, -1, 1, 1)
        # float32 rounding near zero, up to 10x amplified in a floored channel: atol by the peak
        torch.testing.assert_close(n[name], expected, rtol=1e-4, atol=2e-6 * float(expected.max()),
                                   msg=name)
    dead_one = normalization.normalization_factors(means)["relu1_1"][0]
    assert float(dead_one) == pytest.approx(floor_of(means["relu1_1"]), rel=1e-6)


def test_a_layer_dead_at_its_median_keeps_factor_one():
    means = {name: torch.zeros(4) for name in ("relu1_1",)}
    means["relu1_1"][3] = 2.0
    assert normalization.normalization_factors(means)["relu1_1"].tolist() == [1.0, 1.0, 1.0, 2.0]


def _one_line_error(match: str):
    return pytest.raises(nt.WeightsError, match=match)


def test_cache_for_another_weights_file_is_refused(tmp_path, monkeypatch, cache):
    other = dict(cache, weights_sha256="0" * 64)
    torch.save(other, tmp_path / "other.pt")
    monkeypatch.setattr(normalization, "NORMALIZATION_FILE", tmp_path / "other.pt")
    with _one_line_error(r"made for weights sha256 000000000000\.\.\., not for this") as info:
        nt.load_vgg19("caffe", device="cpu", normalize=True)
    assert "\n" not in str(info.value) and "make_normalization.py" in str(info.value)
    nt.load_vgg19("caffe", device="cpu", normalize=False)  # the plain network needs no cache


def _damaged(cache, damage: str) -> dict:
    """A copy of the cache with one defect."""
    means = {p: {name: m.clone() for name, m in per.items()} for p, per in cache["means"].items()}
    if damage in ("nan", "short"):
        m = means["avg"]["relu3_1"]
        means["avg"]["relu3_1"] = m[:10] if damage == "short" else m * 0 / 0
    elif damage == "no avg":
        del means["avg"]
    elif damage == "old format":  # one set of means, measured at one size (before two poolings)
        old = {k: v for k, v in cache.items() if k != "sizes"}
        return old | {"size": 256, "means": means["max"]}
    elif damage == "other sizes":
        return dict(cache, sizes=[256])
    return dict(cache, means=means)


@pytest.mark.parametrize("damage", ["garbage", "missing", "nan", "short", "no avg", "old format",
                                    "other sizes"])
def test_damaged_cache_is_refused(tmp_path, monkeypatch, cache, damage):
    path = tmp_path / "cache.pt"
    if damage == "garbage":
        path.write_bytes(b"not a torch file")
    elif damage != "missing":
        torch.save(_damaged(cache, damage), path)
    monkeypatch.setattr(normalization, "NORMALIZATION_FILE", path)
    match = {"nan": "relu3_1", "short": "relu3_1", "no avg": "no means for avg pooling",
             "other sizes": r"measured at \[256\] px"}.get(damage, "missing or damaged")
    with _one_line_error(match) as info:
        nt.load_vgg19("caffe", device="cpu", normalize=True, pooling="avg")
    assert "\n" not in str(info.value) and "make_normalization.py" in str(info.value)


@pytest.mark.slow
def test_random_weights_are_calibrated_per_pooling_on_first_use_and_kept(monkeypatch):
    monkeypatch.setattr(normalization, "CALIBRATION_SIZES", (32, 40))  # small (>= 16 px short side)
    normalization._computed_means.cache_clear()
    images = [load_image(path, s) for path in data.bundled().values() for s in (32, 40)]
    try:
        for pooling in POOLINGS:
            plain = nt.load_vgg19("random", device="cpu", seed=5, pooling=pooling)
            normed = nt.load_vgg19("random", device="cpu", seed=5, normalize=True, pooling=pooling)
            before, after = means_over(plain, images), means_over(normed, images)
            for name in vgg.RELU_NAMES:
                alive = before[name] >= floor_of(before[name])
                torch.testing.assert_close(after[name][alive], torch.ones_like(after[name][alive]),
                                           rtol=2e-4, atol=0, msg=f"{pooling} {name}")
        normalization.normalization_means("random", seed=5, device="cpu", pooling="avg")
        info = normalization._computed_means.cache_info()
        assert (info.misses, info.hits) == (2, 1), "one calibration per pooling, then reused"
    finally:
        normalization._computed_means.cache_clear()  # other tests must not see 32/40 px means


def test_normalize_must_be_a_bool():
    with pytest.raises(ValueError, match="normalize must be True, False or None"):
        nt.load_vgg19("random", normalize="yes")
