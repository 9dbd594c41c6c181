"""The stylize loop: convergence, honest evaluation counts, stopping, determinism, manifests."""

import json
import sys
import warnings

import pytest
import torch
from conftest import fp32

import nst_teach as nt
from nst_teach import data, transfer


def small(**kw):
    kw.setdefault("size", 32)
    kw.setdefault("max_evals", 6)
    kw.setdefault("progress", False)
    return kw


@pytest.mark.slow  # 100 evaluations of the real network at 128 px
def test_converges_on_bundled_images_with_defaults(caffe_vgg):
    r = nt.stylize(
        data.content_path(),
        data.style_path(),
        size=128,
        max_evals=100,
        model=caffe_vgg,
        progress=False,
    )
    assert r.evals == 100 and r.stop_reason == "completed"
    first, last = r.history[0], r.history[-1]
    assert last["style"] <= first["style"] / 10, (first["style"], last["style"])
    # Content stays recognisable: the coarse light-and-dark layout (16x16 grey) still matches the
    # photograph's, far better than the style image's does.
    photo = nt.load_image(data.content_path())
    (h, w), (H, W) = r.image.shape[-2:], photo.shape[-2:]
    assert max(h, w) == 128 and abs(h / w - H / W) < 0.02, (r.image.shape, photo.shape)
    content = torch.nn.functional.interpolate(photo, size=(h, w), mode="bilinear", antialias=True)
    style = torch.nn.functional.interpolate(
        nt.load_image(data.style_path()), size=content.shape[-2:]
    )

    def layout_r(img):
        coarse = [
            torch.nn.functional.adaptive_avg_pool2d(x.mean(1), 16).flatten() for x in (img, content)
        ]
        return torch.corrcoef(torch.stack(coarse))[0, 1].item()

    assert layout_r(r.image) > 0.8 and layout_r(r.image) > layout_r(style) + 0.25, (
        layout_r(r.image),
        layout_r(style),
    )
    assert 0 <= r.image.min() and r.image.max() <= 1


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_max_evals_counts_every_forward_pass(random_vgg, optimizer):
    calls = []
    hook = random_vgg.features[0].register_forward_hook(lambda *a: calls.append(1))
    try:
        r = nt.stylize(
            torch.rand(1, 3, 24, 32),
            torch.rand(1, 3, 30, 30),
            model=random_vgg,
            optimizer=optimizer,
            init="noise",
            beta=1e4,
            **small(max_evals=9, **fp32()),  # bf16 adds one float32 pass for the final losses
        )
    finally:
        hook.remove()
    assert r.evals == 9
    # the optimised image, plus one pass each for content and style targets
    assert len(calls) == 9 + 2
    # The history is honest: it holds line-search trial points too, so compare the best one.
    assert min(h["total"] for h in r.history) < r.history[0]["total"]


def test_callback_sees_each_evaluation_and_can_stop(random_vgg):
    seen = []

    def callback(i, image, losses):
        seen.append((i, tuple(image.shape), sorted(losses)))
        return i == 4

    r = nt.stylize(
        torch.rand(1, 3, 20, 20),
        torch.rand(1, 3, 20, 20),
        model=random_vgg,
        callback=callback,
        **small(),
    )
    assert [s[0] for s in seen] == [1, 2, 3, 4]
    assert seen[0][2] == ["content", "style", "total", "tv"]
    assert r.stop_reason == "stopped by callback" and r.evals == 4


def test_keyboard_interrupt_returns_best_image_so_far(random_vgg):
    snapshots = {}

    def callback(i, image, losses):
        snapshots[i] = (losses["total"], image.clone())
        if i == 5:
            raise KeyboardInterrupt

    r = nt.stylize(
        torch.rand(1, 3, 20, 20),
        torch.rand(1, 3, 20, 20),
        model=random_vgg,
        callback=callback,
        **small(max_evals=20),
    )
    assert r.stop_reason == "interrupted" and r.evals == 5
    best_i = min(snapshots, key=lambda i: snapshots[i][0])
    torch.testing.assert_close(r.image, snapshots[best_i][1], atol=1e-6, rtol=0)


def _nan_from(monkeypatch, first, last=None):
    """Make the style loss NaN at evaluations first..last (1-based)."""
    where = sys.modules[
        transfer.LossTerms.__module__
    ]  # the module whose style_loss LossTerms calls
    real, count = where.style_loss, {"n": 0}

    def flaky(*args, **kw):
        count["n"] += 1
        value = real(*args, **kw)
        return value * float("nan") if first <= count["n"] <= (last or 10**9) else value

    monkeypatch.setattr(where, "style_loss", flaky)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_a_lasting_non_finite_loss_stops_the_run_and_keeps_the_best_finite_image(
    random_vgg, monkeypatch, optimizer
):
    _nan_from(monkeypatch, 4)
    shown = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = nt.stylize(
            torch.rand(1, 3, 20, 20),
            torch.rand(1, 3, 20, 20),
            model=random_vgg,
            optimizer=optimizer,
            callback=lambda i, image, losses: shown.append(image),
            **small(max_evals=10, **fp32()),
        )
    if optimizer == "lbfgs":  # five shorter steps (evaluations 5 to 9), then it gives up
        assert (
            r.stop_reason == "non-finite loss at evaluation 9 (5 shorter steps did not help)"
            and r.evals == 9
        )
    else:
        assert r.stop_reason == "non-finite loss at evaluation 4" and r.evals == 4
    assert (
        all(h["total"] == h["total"] for h in r.history[:3])
        and r.history[3]["total"] != r.history[3]["total"]
    )
    best = min(range(3), key=lambda i: r.history[i]["total"])  # the best finite evaluation
    assert torch.equal(r.image, shown[best])  # its image, bit for bit, and its losses
    assert r.manifest()["final_losses"] == {
        k: r.history[best][k] for k in ("content", "style", "tv", "total")
    }
    assert any(issubclass(w.category, transfer.NonFiniteLossWarning) for w in caught)


def test_lbfgs_recovers_from_an_overshoot_by_a_shorter_step(caffe_vgg, monkeypatch):
    _nan_from(monkeypatch, 4, 5)  # evaluations 4 and 5 overflow, as a far overshoot does
    r = nt.stylize(data.content_path(), data.style_path(), model=caffe_vgg, **small(max_evals=10))
    assert r.stop_reason == "completed" and r.evals == 10
    totals = [h["total"] for h in r.history]
    assert [t != t for t in totals] == [False] * 3 + [True] * 2 + [False] * 5
    assert min(totals[5:]) < totals[0]


def test_same_seed_same_image_bit_for_bit(random_vgg):
    runs = [
        nt.stylize(
            torch.rand(1, 3, 20, 20, generator=torch.Generator().manual_seed(0)),
            torch.ones(1, 3, 16, 16) * 0.3,
            model=random_vgg,
            init="noise",
            seed=7,
            **small(),
        )
        for _ in range(2)
    ]
    assert torch.equal(runs[0].image, runs[1].image)
    other = nt.stylize(
        torch.rand(1, 3, 20, 20, generator=torch.Generator().manual_seed(0)),
        torch.ones(1, 3, 16, 16) * 0.3,
        model=random_vgg,
        init="noise",
        seed=8,
        **small(),
    )
    assert not torch.equal(runs[0].image, other.image)


@pytest.mark.parametrize("init", ["content", "noise", "style"])
def test_inits_and_sizes(random_vgg, init):
    r = nt.stylize(
        torch.rand(1, 3, 40, 80),
        torch.rand(1, 3, 50, 50),
        model=random_vgg,
        init=init,
        **small(size=48, max_evals=2),
    )
    assert r.image.shape == (1, 3, 24, 48)


def test_several_styles_with_weights(random_vgg):
    r = nt.stylize(
        torch.rand(1, 3, 20, 20),
        [torch.rand(1, 3, 20, 20), torch.rand(1, 3, 30, 20)],
        style_weights=[3, 1],
        model=random_vgg,
        **small(max_evals=2),
    )
    assert r.details["style_weights"] == [0.75, 0.25]
    with pytest.raises(ValueError, match="one positive-sum weight per style"):
        nt.stylize(
            torch.rand(1, 3, 20, 20),
            [torch.rand(1, 3, 20, 20)],
            style_weights=[1, 1],
            model=random_vgg,
            **small(),
        )


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"alpha": float("nan")}, "alpha must be a finite number"),
        ({"beta": -1}, "beta must be a finite number"),
        ({"optimizer": "sgd"}, "unknown optimizer"),
        ({"init": "zeros"}, "unknown init"),
        ({"style_layers": ["relu9_1"]}, "unknown layer"),
        ({"size": -5}, "size must be a whole number >= 1"),
    ],
)
def test_bad_settings_are_refused_up_front(random_vgg, kw, message):
    with pytest.raises(ValueError, match=message):
        nt.stylize(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8), model=random_vgg, **small(**kw))


def test_result_save_writes_image_and_manifest(random_vgg, tmp_path):
    r = nt.stylize(
        torch.rand(1, 3, 20, 24), torch.rand(1, 3, 20, 20), model=random_vgg, **small(max_evals=3)
    )
    path = r.save(tmp_path / "sub" / "x.png")
    manifest = json.loads((tmp_path / "sub" / "x.json").read_text())
    assert path.exists()
    assert manifest["evaluations"] == 3 and manifest["stop_reason"] == "completed"
    assert manifest["settings"]["weights"] == "random" and manifest["settings"]["seed"] == 0
    assert set(manifest["final_losses"]) == {"content", "style", "tv", "total"}
    torch.testing.assert_close(nt.load_image(path), r.image, atol=1 / 255, rtol=0)


def test_presets_follow_fast_mode(monkeypatch):
    monkeypatch.setenv("NST_TEACH_FAST", "1")
    fast = nt.preset("cpu")
    monkeypatch.setenv("NST_TEACH_FAST", "0")
    full = nt.preset("cpu")
    assert fast.size < full.size and fast.max_evals < full.max_evals
    assert nt.pick_device("cpu") == torch.device("cpu")


def test_coarse_to_fine_splits_the_budget_and_ends_at_full_size(random_vgg):
    sizes_seen = []
    r = nt.stylize(
        torch.rand(1, 3, 80, 128),
        torch.rand(1, 3, 32, 32),
        model=random_vgg,
        levels=3,
        callback=lambda i, img, losses: sizes_seen.append((i, img.shape[-1])),
        **small(size=128, max_evals=10),
    )
    assert r.image.shape == (1, 3, 80, 128)
    assert r.evals == 10 and [i for i, _ in sizes_seen] == list(range(1, 11))
    assert [w for _, w in sizes_seen] == [32] * 4 + [64] * 3 + [128] * 3
    assert r.details["level_sizes"] == [32, 64, 128] and r.settings.levels == 3


def test_coarse_to_fine_never_goes_below_what_the_deepest_layer_needs(random_vgg):
    # 80x128 and relu5_1 (16 px on the shorter side): the longest side may not drop below 26 px.
    r = nt.stylize(
        torch.rand(1, 3, 80, 128),
        torch.rand(1, 3, 32, 32),
        model=random_vgg,
        levels=4,
        **small(size=64, max_evals=8),
    )
    assert r.details["level_sizes"] == [26, 26, 32, 64] and r.image.shape == (1, 3, 40, 64)


def test_too_small_an_image_for_the_layers_says_so(random_vgg):
    with pytest.raises(ValueError, match="too small for relu5_1"):
        nt.stylize(
            torch.rand(1, 3, 10, 16), torch.rand(1, 3, 32, 32), model=random_vgg, **small(size=16)
        )


def test_init_from_an_image_tensor(random_vgg):
    start = torch.full((1, 3, 10, 10), 0.25)
    r = nt.stylize(
        torch.rand(1, 3, 20, 20),
        torch.rand(1, 3, 20, 20),
        model=random_vgg,
        init=start,
        alpha=0,
        beta=0,
        tv_weight=1.0,
        **small(size=20, max_evals=1),
    )  # a flat start has no total variation
    torch.testing.assert_close(r.image, torch.full((1, 3, 20, 20), 0.25), atol=1e-5, rtol=0)


def test_luminance_transfer_keeps_the_content_colours(random_vgg):
    from nst_teach.color import rgb_to_yiq

    content = torch.rand(1, 3, 24, 24) * 0.5 + torch.tensor([0.4, 0.1, 0.0]).view(
        1, 3, 1, 1
    )  # reddish
    style = torch.rand(1, 3, 24, 24) * 0.5 + torch.tensor([0.0, 0.1, 0.4]).view(
        1, 3, 1, 1
    )  # bluish
    r = nt.stylize(
        content, style, model=random_vgg, preserve_color="luminance", beta=1e4, **small(size=24)
    )
    # The colour channels (I, Q) are the content's; only the luminance changed.
    torch.testing.assert_close(
        rgb_to_yiq(r.image)[:, 1:], rgb_to_yiq(content)[:, 1:], atol=0.02, rtol=0
    )


def test_histogram_matching_gives_the_content_colour_statistics():
    from nst_teach.color import match_color

    g = torch.Generator().manual_seed(0)
    mix = torch.tensor([[0.5, 0.2, 0.0], [0.1, 0.3, 0.1], [0.0, 0.1, 0.2]])
    source = (
        torch.einsum("ij,bjhw->bihw", mix, torch.rand(1, 3, 30, 30, generator=g)) + 0.1
    ).clamp(0, 1)
    reference = torch.rand(1, 3, 20, 20, generator=g) * 0.6 + 0.2
    out = match_color(source, reference)
    flat = lambda x: x[0].reshape(3, -1).double()  # noqa: E731
    torch.testing.assert_close(flat(out).mean(1), flat(reference).mean(1), atol=1e-3, rtol=0)
    torch.testing.assert_close(torch.cov(flat(out)), torch.cov(flat(reference)), atol=1e-3, rtol=0)


def test_style_scale_resizes_only_the_style(random_vgg, monkeypatch):
    seen = []
    real = transfer.style_targets
    monkeypatch.setattr(
        transfer,
        "style_targets",
        lambda feats, **k: seen.append(feats["relu1_1"].shape) or real(feats, **k),
    )
    nt.stylize(
        torch.rand(1, 3, 32, 32),
        torch.rand(1, 3, 64, 64),
        model=random_vgg,
        style_scale=0.5,
        **small(size=32, max_evals=1),
    )
    assert seen[0][-2:] == (16, 16)


@pytest.mark.parametrize("at", [1, 4])
def test_out_of_memory_suggests_a_smaller_size_and_keeps_the_image(random_vgg, monkeypatch, at):
    real, count = random_vgg.forward_net, {"n": 0}

    def forward_then_oom(x, layers):
        if x.requires_grad:  # the optimised image, not the targets
            count["n"] += 1
            if count["n"] == at:
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(x, layers)

    monkeypatch.setattr(random_vgg, "forward_net", forward_then_oom)
    if at == 1:
        with pytest.raises(MemoryError, match=r"try a smaller size, e.g. size=32"):
            nt.stylize(
                torch.rand(1, 3, 48, 48),
                torch.rand(1, 3, 48, 48),
                model=random_vgg,
                **small(size=48),
            )
    else:
        with pytest.warns(ResourceWarning, match="smaller size"):
            r = nt.stylize(
                torch.rand(1, 3, 48, 48),
                torch.rand(1, 3, 48, 48),
                model=random_vgg,
                **small(size=48),
            )
        assert (
            r.evals == 3
            and r.stop_reason.startswith("out of memory")
            and torch.isfinite(r.image).all()
        )


@pytest.mark.parametrize("zero", ["alpha", "beta"])
def test_a_term_with_zero_weight_is_not_computed_and_the_net_stops_early(random_vgg, zero):
    deepest = []
    hooks = [
        m.register_forward_hook(lambda m, i, o, k=k: deepest.append(k))
        for k, m in enumerate(random_vgg.features)
    ]
    try:
        kw = {zero: 0.0}
        r = nt.stylize(
            torch.rand(1, 3, 32, 32),
            torch.rand(1, 3, 32, 32),
            model=random_vgg,
            content_layers=["relu1_1"],
            style_layers=["relu1_1", "relu5_1"] if zero == "beta" else ["relu2_1"],
            **kw,
            **small(max_evals=3),
        )
    finally:
        for h in hooks:
            h.remove()
    # The optimisation passes (after the targets) run only as deep as the term in use needs.
    used = "relu1_1" if zero == "beta" else "relu2_1"
    assert max(deepest[-5:]) == nt.vgg.LAYER_INDEX[used]
    skipped = "style" if zero == "beta" else "content"
    assert all(h[skipped] != h[skipped] for h in r.history)  # NaN: not computed
    assert all(h["total"] == h["total"] for h in r.history)


def test_all_weights_zero_is_refused_up_front(random_vgg):
    with pytest.raises(ValueError, match="nothing to optimise"):
        nt.stylize(
            torch.rand(1, 3, 32, 32),
            torch.rand(1, 3, 32, 32),
            model=random_vgg,
            alpha=0,
            beta=0,
            **small(),
        )


def test_no_spike_from_noise_at_a_large_beta(caffe_vgg):
    # Figure 3's top-left cell (notebook 08): from noise, beta ~1, layers up to relu5_1. Before the
    # step limit (max_move) the second L-BFGS step overshot to a loss ~10^19 times the first.
    seen = []
    r = nt.stylize(
        data.content_path(),
        data.style_path(),
        model=caffe_vgg,
        beta=1.0,
        init="noise",
        seed=0,
        callback=lambda i, image, losses: seen.append((i, image.min().item(), image.max().item())),
        **small(size=85, max_evals=20),
    )
    assert [i for i, *_ in seen] == list(range(1, 21)) and all(
        0 <= lo and hi <= 1 for _, lo, hi in seen
    )
    totals = [h["total"] for h in r.history]
    assert max(totals) <= totals[0] and totals[-1] < 0.5 * totals[0]


@pytest.mark.slow  # four image pairs, 30 evaluations each of the real network
@pytest.mark.parametrize(
    "content, style",
    [
        ("grace_hopper", "swirls"),
        ("tubingen", "starry_night"),
        ("landscape", "waves"),
        ("tubingen", "composition_vii"),
    ],
)
def test_default_runs_never_spike_and_report_the_loss_of_the_image_returned(
    caffe_vgg, content, style
):
    r = nt.stylize(
        data.bundled(content),
        data.bundled(style),
        model=caffe_vgg,
        size=64,
        max_evals=30,
        progress=False,
        **fp32(),
    )  # float32: the recomputation below is compared at 1e-4
    totals = [h["total"] for h in r.history]
    assert max(totals) <= 10 * totals[0] and min(totals) < 0.5 * totals[0]
    # the reported final loss is the loss of the image the user gets, recomputed independently
    settings = nt.transfer.Settings(size=64, max_evals=1, device=torch.device("cpu"))
    beta = settings.beta
    c, s = nt.transfer.prepare_images(
        nt.load_image(data.bundled(content)), [nt.load_image(data.bundled(style))], settings
    )
    P = {k: v for k, v in caffe_vgg.extract(c, ["relu4_2"]).items()}
    A = nt.style_targets(caffe_vgg.extract(s[0], list(nt.transfer.STYLE_LAYERS)))
    with torch.no_grad():
        F = caffe_vgg.extract(r.image, ["relu4_2", *nt.transfer.STYLE_LAYERS])
        recomputed = nt.content_loss(F["relu4_2"], P["relu4_2"]) + beta * nt.style_loss(F, A)
    best = min(totals)
    assert (
        recomputed.item() == pytest.approx(best, rel=1e-4)
        and r.manifest()["final_losses"]["total"] == best
    )


def test_a_tiny_loss_still_makes_progress(random_vgg):
    # random weights on a small image give a total loss of ~1e-9: L-BFGS must not depend on scale
    g = torch.Generator().manual_seed(1)
    r = nt.stylize(
        torch.rand(1, 3, 32, 32, generator=g),
        torch.rand(1, 3, 32, 32, generator=g),
        model=random_vgg,
        init="noise",
        beta=1e-6,
        alpha=1e-6,
        **small(max_evals=25),
    )
    totals = [h["total"] for h in r.history]
    assert totals[0] < 1e-6 and min(totals) < 0.5 * totals[0]


def test_a_wide_style_image_is_never_too_small_for_the_deepest_layer(random_vgg):
    # a 10:3 painting at a 24 px level: its shorter side must still reach relu5_1 (16 px)
    r = nt.stylize(
        torch.rand(1, 3, 18, 24),
        torch.rand(1, 3, 30, 100),
        model=random_vgg,
        **small(size=24, max_evals=2),
    )
    assert r.evals == 2
