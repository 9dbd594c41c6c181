"""The feed-forward network of notebook 11 (Johnson et al. 2016): shapes, normalisation, training,
files, precision.

Oracles: NumPy for instance normalisation, the architecture's arithmetic for the parameter count,
a transposed-convolution twin for the checkerboard, hashlib for the manifest's sha256, and the
network applied image by image for batch independence.
"""

import hashlib
import json
import math

import numpy as np
import pytest
import torch
from torch import nn

import nst_teach as nt
from nst_teach import data
from nst_teach import feedforward as ff
from nst_teach.settings import Settings
from nst_teach.vgg import caffe_weights_path

TINY = dict(size=32, style_size=32, batch_size=1, progress=False, device="cpu")


@pytest.fixture(scope="module")
def photo():
    """A real photograph, 64 x 48 px: the bundled Tübingen (never a training photo by default)."""
    return nt.load_image(data.content_path("tubingen"), max_size=64)


@pytest.fixture(scope="module")
def trained(random_vgg):
    """Three steps of training at 32 px with the random VGG19: a small, quick Trained."""
    return ff.train(
        data.style_path("mosaic"), ["grace_hopper"], model=random_vgg, max_steps=3, **TINY
    )


def one_line_error(error) -> str:
    text = str(error.value)
    assert "\n" not in text and text
    return text


# ------------------------------------------------------------------ the network


@pytest.mark.parametrize("shape", [(1, 3, 8, 8), (2, 3, 37, 53), (1, 3, 9, 15), (3, 3, 64, 30)])
def test_output_has_the_input_shape_and_lies_in_0_1(shape):
    torch.manual_seed(0)
    out = ff.TransformNet()(torch.rand(shape))
    assert out.shape == shape
    assert out.min() >= 0 and out.max() <= 1 and torch.isfinite(out).all()


@pytest.mark.parametrize("shape", [(1, 3, 7, 20), (1, 1, 16, 16), (3, 16, 16)])
def test_too_small_or_not_rgb_is_refused(shape):
    with pytest.raises(ValueError, match="TransformNet needs an RGB batch"):
        ff.TransformNet()(torch.rand(shape))


def test_parameter_count_follows_the_architecture_and_fits_in_2_mb(tmp_path):
    c1, c2, c3 = ff.CHANNELS

    def conv(c_in, c_out, k):  # weights, bias, and the instance norm's scale and shift
        return c_in * c_out * k * k + c_out + 2 * c_out

    expected = (
        conv(3, c1, 9)
        + conv(c1, c2, 3)
        + conv(c2, c3, 3)
        + ff.RES_BLOCKS * 2 * conv(c3, c3, 3)
        + conv(c3, c2, 3)
        + conv(c2, c1, 3)
        + (c1 * 3 * 9 + 3)
    )
    net = ff.TransformNet()
    assert net.parameter_count() == expected == 273_219
    path = ff.save_model(net, tmp_path / "m.pt")
    assert path.stat().st_size <= 2 * 1024 * 1024


def test_every_norm_is_an_affine_instance_norm_and_padding_reflects():
    net = ff.TransformNet()
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._NormBase)]
    assert len(norms) == 5 + 2 * ff.RES_BLOCKS
    assert all(
        isinstance(m, nn.InstanceNorm2d) and m.affine and not m.track_running_stats for m in norms
    )
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert all(m.padding_mode == "reflect" for m in convs)
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in net.modules())


def test_instance_norm_normalises_each_image_and_channel_as_numpy_does():
    torch.manual_seed(1)
    norm = ff.conv_block(3, 4, 3)[1]
    with torch.no_grad():
        norm.weight.copy_(torch.tensor([0.5, 2.0, -1.0, 1.5]))
        norm.bias.copy_(torch.tensor([0.0, 0.3, -0.2, 1.0]))
    x = (
        torch.randn(2, 4, 7, 9) * torch.tensor([1.0, 10.0]).view(2, 1, 1, 1) + 3
    )  # images on different scales
    got = norm(x).detach().numpy()
    a = x.numpy().astype(np.float64)
    mean, var = (
        a.mean(axis=(2, 3), keepdims=True),
        a.var(axis=(2, 3), keepdims=True),
    )  # biased variance
    w, b = (
        norm.weight.detach().numpy().reshape(1, 4, 1, 1),
        norm.bias.detach().numpy().reshape(1, 4, 1, 1),
    )
    np.testing.assert_allclose(
        got, w * (a - mean) / np.sqrt(var + norm.eps) + b, rtol=1e-4, atol=1e-4
    )


def test_images_in_a_batch_do_not_change_each_other(photo):
    """Instance norm, unlike batch norm, sees one image at a time: the batch is the images one by
    one."""
    torch.manual_seed(2)
    net = ff.TransformNet()
    batch = torch.cat([photo, photo.flip(-1), torch.rand_like(photo)])
    with torch.no_grad():
        together = net(batch)
        alone = torch.cat([net(batch[i : i + 1]) for i in range(3)])
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-5)
    batch_norm_net = ff.TransformNet()
    for parent in batch_norm_net.modules():  # the same network with batch norm: images now interact
        for name, child in parent.named_children():
            if isinstance(child, nn.InstanceNorm2d):
                setattr(parent, name, nn.BatchNorm2d(child.num_features))
    with torch.no_grad():
        mixed = batch_norm_net.train()(batch)[:1]
        single = batch_norm_net(batch[:1])
    assert (mixed - single).abs().max() > 1e-3


def test_layer_table_shapes_parameters_and_multiply_adds_follow_the_architecture():
    net = ff.TransformNet()
    rows = ff.layer_table(net, torch.rand(1, 3, 64, 48))
    c1, c2, c3 = ff.CHANNELS
    shapes = (
        [(c1, 64, 48), (c2, 32, 24), (c3, 16, 12)]
        + [(c3, 16, 12)] * 2 * ff.RES_BLOCKS
        + [(c2, 32, 24), (c1, 64, 48), (3, 64, 48)]
    )
    assert [r["output"] for r in rows] == shapes
    assert [r["stride"] for r in rows[:3]] == [1, 2, 2] and rows[0]["kernel"] == "9x9"
    assert sum(r["parameters"] for r in rows) == net.parameter_count()
    kernels = [9, 3, 3] + [3] * 2 * ff.RES_BLOCKS + [3, 3, 3]
    inputs = [3, c1, c2] + [c3] * 2 * ff.RES_BLOCKS + [c3, c2, c1]
    macs = sum(
        k * k * c_in * c * h * w for k, c_in, (c, h, w) in zip(kernels, inputs, shapes, strict=True)
    )
    assert sum(r["macs"] for r in rows) == macs


def test_batch_norm_twin_normalises_by_the_training_images_statistics(photo):
    """With one image as its 'training set' the twin equals the network on that image (instance
    norm); on another image it does not, and a dimmed photo changes it but not instance norm."""
    torch.manual_seed(5)
    net = ff.TransformNet().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.2 * torch.randn_like(p))
        twin = ff.with_batch_norm(net, photo)
        assert not any(isinstance(m, nn.InstanceNorm2d) for m in twin.modules())
        assert sum(isinstance(m, nn.BatchNorm2d) for m in twin.modules()) == 5 + 2 * ff.RES_BLOCKS
        torch.testing.assert_close(twin(photo), net(photo), rtol=1e-4, atol=1e-5)
        dimmed = 0.3 + 0.4 * photo  # lower contrast, brighter: an affine change of each pixel
        instance_change = (net(dimmed) - net(photo)).abs().mean()
        batch_change = (twin(dimmed) - twin(photo)).abs().mean()
    assert instance_change < 0.01 < batch_change, (instance_change, batch_change)
    assert isinstance(next(iter(net.modules())), ff.TransformNet)  # the original is untouched
    assert sum(isinstance(m, nn.InstanceNorm2d) for m in net.modules()) == 5 + 2 * ff.RES_BLOCKS


def test_train_settings_default_to_stylizes_everyday_losses():
    ours, theirs = ff.TrainSettings(), Settings()
    for name in (
        "alpha",
        "beta",
        "tv_weight",
        "content_layers",
        "style_layers",
        "style_layer_weights",
        "weights",
        "pooling",
        "normalize",
        "paper",
    ):
        assert getattr(ours, name) == getattr(theirs, name), name


def checkerboard_share(image: torch.Tensor) -> float:
    """Share of an image's varying part that is a 2-pixel pattern: power at the Nyquist rows and
    columns of its FFT."""
    grey = image.mean(1)[0].double()
    power = torch.fft.fft2(grey - grey.mean()).abs() ** 2
    h, w = grey.shape
    nyquist = power[h // 2, :].sum() + power[:, w // 2].sum() - power[h // 2, w // 2]
    return float(nyquist / power.sum())


def test_upsampling_makes_no_checkerboard_where_a_transposed_convolution_does(photo):
    torch.manual_seed(3)
    flat = torch.full((1, 8, 6, 6), 0.7)
    resize_conv = ff.up_block(8, 4)[:2]  # nearest-neighbour, then a 3x3 convolution
    transposed = ff.up_block(8, 4, "transposed")[0]
    with torch.no_grad():
        smooth, patterned = resize_conv(flat), transposed(flat)
    assert smooth.std(dim=(2, 3)).max() < 1e-5  # a flat map stays flat
    assert patterned.std(dim=(2, 3)).min() > 1e-3  # uneven overlap of the strided kernel
    torch.testing.assert_close(
        patterned[..., 1:-3, 1:-3], patterned[..., 3:-1, 3:-1]
    )  # period 2, borders aside
    shares = {}
    for upsampling in ff.UPSAMPLING:  # whole fresh networks, same seed, on a photograph
        torch.manual_seed(4)
        with torch.no_grad():
            shares[upsampling] = checkerboard_share(ff.TransformNet(upsampling=upsampling)(photo))
    assert max(shares["nearest"], shares["bilinear"]) < shares["transposed"] / 3, shares


def test_the_output_kernel_is_an_option_and_older_files_load_with_3x3(tmp_path, photo):
    c1 = ff.CHANNELS[0]
    wide = ff.TransformNet(out_kernel=9)
    assert wide.parameter_count() - ff.TransformNet().parameter_count() == c1 * 3 * (81 - 9)
    with pytest.raises(ValueError, match="out_kernel must be"):
        ff.TransformNet(out_kernel=4)
    net = ff.TransformNet(channels=(4, 8, 12), res_blocks=1)
    path = ff.save_model(net, tmp_path / "old.pt")
    blob = torch.load(path, weights_only=True)
    del blob["architecture"]["out_kernel"]  # as written before the option existed
    torch.save(blob, path)
    loaded = ff.load_model(path)
    assert loaded.out_kernel == 3
    with torch.no_grad():
        assert torch.equal(loaded(photo), net.eval()(photo))


def test_stylize_with_takes_a_net_a_trained_or_a_path_and_resizes(trained, photo, tmp_path):
    path = trained.save(tmp_path / "m.pt")
    by_net = ff.stylize_with(trained.net, photo)
    for model in (trained, path, str(path)):
        torch.testing.assert_close(ff.stylize_with(model, photo), by_net, rtol=0, atol=0)
    assert not by_net.is_inference() and not by_net.requires_grad
    resized = ff.stylize_with(trained, data.content_path("tubingen"), size=40)
    assert resized.shape == (1, 3, 30, 40) and resized.min() >= 0 and resized.max() <= 1


# ------------------------------------------------------------------ training


@pytest.mark.slow
def test_the_training_loss_falls_on_a_tiny_problem(caffe_vgg):
    """40 steps at 32 px with the real VGG19, trained on four crops: their loss falls."""
    settings = ff.TrainSettings(
        size=32,
        style_size=64,
        batch_size=1,
        max_steps=40,
        lr=1e-2,
        lr_schedule="constant",
        precision="fp32",
        jitter=0,  # trained on the four crops' own colours
    ).with_presets(torch.device("cpu"))
    photos = [nt.load_image(data.content_path(n), 256) for n in ff.TRAINING_PHOTOS[:2]]
    fixed = ff.CropSampler(photos, 32, seed=123)(4)  # the same crops before and after training
    style = data.style_path("waves")
    with torch.no_grad():
        A = nt.style_targets(caffe_vgg.extract(nt.load_image(style, 64), settings.style_layers))
        P = caffe_vgg.extract(fixed, settings.content_layers)

    def loss(net):
        with torch.no_grad():
            return float(ff.loss_terms(caffe_vgg, net(fixed), P, A, settings)[3])

    before = loss(ff.new_net(settings))
    result = ff.train(
        style, list(fixed.split(1)), model=caffe_vgg, progress=False, **settings.manifest()
    )  # random sub-crops of the four, resized
    assert result.stop_reason == "completed" and result.steps == 40
    after = loss(result.net)
    # measured 0.972 (fp32, torch's default 2 threads); an untrained network stays at 1.0
    assert after < 0.98 * before, (before, after)


def test_loss_terms_are_the_package_losses_weighted(random_vgg, photo):
    settings = ff.TrainSettings(alpha=2.0, beta=0.5, tv_weight=3.0, precision="fp32")
    out, crops = photo.flip(-1), photo
    with torch.no_grad():
        A = nt.style_targets(random_vgg.extract(photo, settings.style_layers))
        P = random_vgg.extract(crops, settings.content_layers)
        content, style, tv, total = ff.loss_terms(random_vgg, out, P, A, settings).tolist()
        F = random_vgg.extract(out, ["relu4_2", *settings.style_layers])

    def gram(features):  # F F^T / (H W), in NumPy
        f = features.double().numpy().reshape(features.shape[0], features.shape[1], -1)
        return f @ f.transpose(0, 2, 1) / f.shape[-1]

    expect_style = (
        sum(np.mean((gram(F[n]) - A[n].double().numpy()) ** 2) for n in settings.style_layers) / 5
    )
    expect_content = float(torch.mean((F["relu4_2"] - P["relu4_2"]) ** 2))
    o = out.double().numpy()
    expect_tv = np.mean(np.diff(o, axis=2) ** 2) + np.mean(np.diff(o, axis=3) ** 2)
    assert content == pytest.approx(expect_content, rel=1e-5) and style == pytest.approx(
        expect_style, rel=1e-4
    )
    assert tv == pytest.approx(expect_tv, rel=1e-5)
    assert total == pytest.approx(2 * content + 0.5 * style + 3 * tv, rel=1e-5)


def test_grid_weight_adds_the_grid_penalty_of_the_networks_output(random_vgg):
    """A training step's total is stylize's loss plus grid_weight times the output's grid penalty,
    recomputed here on the network's output for the same crops; with 0 the term is absent."""
    totals = {}
    for weight in (0.0, 1e4):
        options = {k: v for k, v in TINY.items() if k != "progress"}
        settings = ff.TrainSettings(grid_weight=weight, precision="fp32", **options)
        settings = settings.with_presets(torch.device("cpu"))
        net = ff.new_net(settings)
        photo = nt.load_image(data.content_path("tubingen"), max_size=64)
        sampler = ff.CropSampler([photo], settings.size, 0, 0)
        batch = ff.CropSampler([photo], settings.size, 0, 0)(settings.batch_size)  # the same
        with torch.no_grad():
            expected_grid = ff.grid_penalty(net(batch)).item()
        A = nt.style_targets(random_vgg.extract(nt.load_image(data.style_path("waves"), 32),
                                                settings.style_layers))
        optimizer = torch.optim.Adam(net.parameters(), lr=settings.lr)
        values = ff.train_step(net, random_vgg, sampler, A, settings, optimizer, 1)
        totals[weight] = values
    plain, gridded = totals[0.0], totals[1e4]
    assert "grid" not in plain and gridded["grid"] == pytest.approx(expected_grid, rel=1e-5)
    assert gridded["content"] == pytest.approx(plain["content"], rel=1e-6)
    assert gridded["total"] == pytest.approx(plain["total"] + 1e4 * expected_grid, rel=1e-5)


def test_same_seed_same_weights_bit_for_bit(random_vgg):
    runs = [
        ff.train(data.style_path("waves"), model=random_vgg, max_steps=2, seed=seed, **TINY)
        for seed in (7, 7, 8)
    ]
    first, again, other = (r.net.state_dict() for r in runs)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert runs[0].history == runs[1].history
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_manifest_says_what_it_was_trained_on(trained):
    m = trained.manifest()
    assert (
        m["steps"] == 3
        and m["images_seen"] == 3 * m["settings"]["batch_size"] == trained.images_seen
    )
    assert m["settings"]["style"]["name"] == "mosaic"
    assert (
        m["settings"]["style"]["sha256"]
        == hashlib.sha256(data.style_path("mosaic").read_bytes()).hexdigest()
    )
    [photo_record] = m["settings"]["training_photos"]
    assert photo_record["name"] == "grace_hopper"
    assert (
        photo_record["sha256"]
        == hashlib.sha256(data.content_path("grace_hopper").read_bytes()).hexdigest()
    )
    assert m["nst_teach_version"] == nt.__version__ and m["torch"] == torch.__version__
    assert m["settings"]["weights"] == "random" and m["stop_reason"] == "completed"
    assert m["parameters"] == trained.net.parameter_count() and len(trained.history) == 3
    assert set(trained.history[0]) == {"content", "style", "tv", "total", "grid"}


def test_default_photos_are_bundled_and_leave_the_held_out_images_out():
    photos = ff.training_photos()
    assert list(photos) == list(ff.TRAINING_PHOTOS) and len(photos) == 13
    assert not set(photos) & set(ff.HELD_OUT)
    assert set(ff.HELD_OUT) == {"tubingen", "landscape", "grace_hopper", "china"}
    for name, path in photos.items():
        assert path.is_file() and path.is_relative_to(data.DATA_DIR), name
        record = ff.describe_image(path)
        assert record["name"] == name and record["source"].startswith("nst_teach data/")
        assert record["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert set(data.PHOTO_IMAGES) == set(photos) | {"china"}
    assert set(ff.HELD_OUT) | set(photos) == set(data.CONTENT_IMAGES) | set(
        data.PAPER_CONTENT_IMAGES
    ) | set(data.PHOTO_IMAGES)  # every bundled photo is one or other
    assert ff.photo_sources(["tubingen", "astronaut"]) == [
        data.content_path("tubingen"),
        data.content_path("astronaut"),
    ]


def test_cosine_schedule_is_torchs_cosine_annealing():
    settings = ff.TrainSettings(max_steps=10, lr=0.02)
    net = nn.Linear(2, 2)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.02)
    oracle = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
    expected = []
    for _ in range(10):
        expected.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        oracle.step()
    got = [ff.learning_rate(settings, step) for step in range(1, 11)]
    assert got == pytest.approx(expected, rel=1e-12) and got[0] == 0.02 and got[-1] < 0.001
    constant = settings.replace(lr_schedule="constant")
    assert [ff.learning_rate(constant, step) for step in (1, 5, 10)] == [0.02] * 3


def test_crops_are_squares_in_0_1_and_reproducible(photo):
    crops = ff.CropSampler([photo], 24, seed=5)(6)
    assert crops.shape == (6, 3, 24, 24) and crops.min() >= 0 and crops.max() <= 1
    torch.testing.assert_close(ff.CropSampler([photo], 24, seed=5)(6), crops, rtol=0, atol=0)
    assert not torch.equal(ff.CropSampler([photo], 24, seed=6)(6), crops)


def test_callback_stops_and_ctrl_c_keeps_the_network_trained_so_far(random_vgg):
    fresh = ff.new_net(ff.TrainSettings(seed=0))
    stopped = ff.train(
        data.style_path("waves"),
        model=random_vgg,
        max_steps=10,
        callback=lambda i, losses: i == 2,
        **TINY,
    )
    assert stopped.stop_reason == "stopped by callback" and stopped.steps == 2

    def interrupt(step, losses):
        if step == 3:
            raise KeyboardInterrupt

    interrupted = ff.train(
        data.style_path("waves"), model=random_vgg, max_steps=10, callback=interrupt, **TINY
    )
    assert interrupted.stop_reason == "interrupted" and interrupted.steps == 3
    weights = interrupted.net.state_dict()
    assert all(torch.isfinite(v).all() for v in weights.values())
    assert not all(
        torch.equal(v, fresh.state_dict()[k]) for k, v in weights.items()
    )  # it did learn
    assert interrupted.manifest()["stop_reason"] == "interrupted"


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(max_steps=0), "max_steps"),
        (dict(lr=0), "lr must be greater"),
        (dict(alpha=0, beta=0), "nothing to optimise"),
        (dict(style_layers=["relu9_1"]), "unknown layer"),
        (dict(channels=(8, 8)), "three whole numbers"),
        (dict(max_step=3), "did you mean 'max_steps'"),
        (dict(size=12), "too small for these layers"),
    ],
)
def test_bad_options_are_refused_before_any_work(options, message):
    with pytest.raises((ValueError, TypeError), match=message):
        ff.train(data.style_path("waves"), **options)


# ------------------------------------------------------------------ files


def test_save_and_load_give_the_same_network(tmp_path, photo):
    torch.manual_seed(9)
    net = ff.TransformNet(channels=(4, 8, 12), res_blocks=1)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(
                0.1 * torch.randn_like(p)
            )  # not the fresh state: the norms' scales and shifts too
    net.manifest = {"settings": {"size": 32}, "note": "hand-made"}
    loaded = ff.load_model(ff.save_model(net, tmp_path / "m.pt"))
    assert loaded.architecture() == {
        "channels": [4, 8, 12],
        "res_blocks": 1,
        "upsampling": "nearest",
        "out_kernel": 3,
    }
    assert loaded.manifest == net.manifest and not loaded.training
    with torch.no_grad():
        assert torch.equal(loaded(photo), net.eval()(photo))
    blob = torch.load(tmp_path / "m.pt", weights_only=True)
    assert (
        blob["nst_teach_version"] == nt.__version__ and blob["format_version"] == ff.FORMAT_VERSION
    )


def test_half_storage_halves_the_file_and_rounds_each_weight_to_float16(tmp_path, photo):
    torch.manual_seed(10)
    net = ff.TransformNet(channels=(8, 16, 24), res_blocks=2)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    full = ff.save_model(net, tmp_path / "full.pt")
    half = ff.save_model(net, tmp_path / "half.pt", half=True)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded = ff.load_model(half)
    for (name, mine), theirs in zip(loaded.state_dict().items(), net.state_dict().values(),
                                    strict=True):
        assert mine.dtype == theirs.dtype, name  # read back into the network's own dtype
        if theirs.is_floating_point():  # the float16 nearest each weight, independently rounded
            expected = torch.from_numpy(theirs.numpy().astype(np.float16).astype(np.float32))
            assert torch.equal(mine, expected), name
    with torch.no_grad():  # and it paints nearly the same picture
        assert (loaded(photo) - net.eval()(photo)).abs().max() < 0.02
    with torch.no_grad():
        next(net.parameters()).view(-1)[0] = 1e6
    with pytest.raises(ValueError, match="beyond float16's range"):
        ff.save_model(net, tmp_path / "big.pt", half=True)


def damaged_files(tmp_path, trained) -> dict:
    good = trained.save(tmp_path / "good.pt")
    files = {
        "text": tmp_path / "notes.pt",
        "empty": tmp_path / "empty.pt",
        "truncated": tmp_path / "cut.pt",
        "tensor": tmp_path / "tensor.pt",
        "state_dict": tmp_path / "state.pt",
        "nan": tmp_path / "nan.pt",
        "wrong_shape": tmp_path / "shape.pt",
        "newer": tmp_path / "newer.pt",
    }
    files["text"].write_text("not a model\n")
    files["empty"].write_bytes(b"")
    files["truncated"].write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    torch.save(torch.rand(3), files["tensor"])
    torch.save(trained.net.state_dict(), files["state_dict"])  # the weights alone: no architecture
    blob = torch.load(good, weights_only=True)
    key = next(iter(blob["state_dict"]))
    for kind, change in (
        ("nan", lambda b: b["state_dict"][key].fill_(math.nan)),
        ("wrong_shape", lambda b: b["state_dict"].__setitem__(key, torch.zeros(2))),
        ("newer", lambda b: b.__setitem__("format_version", ff.FORMAT_VERSION + 1)),
    ):
        copy = torch.load(good, weights_only=True)
        change(copy)
        torch.save(copy, files[kind])
    return {
        **files,
        "vgg_weights": caffe_weights_path(),
        "missing": tmp_path / "nope.pt",
        "folder": tmp_path,
    }


@pytest.mark.parametrize(
    "kind",
    [
        "text",
        "empty",
        "truncated",
        "tensor",
        "state_dict",
        "nan",
        "wrong_shape",
        "newer",
        "vgg_weights",
        "missing",
        "folder",
    ],
)
def test_damaged_or_foreign_files_give_one_line(tmp_path, trained, kind):
    path = damaged_files(tmp_path, trained)[kind]
    with pytest.raises(ff.ModelFileError) as error:
        ff.load_model(path)
    text = one_line_error(error)
    assert str(path) in text
    assert isinstance(error.value, ValueError)
    assert any(word in text for word in ("train", "update nst_teach"))


# ------------------------------------------------------------------ the shipped network


def numpy_gram(features: torch.Tensor) -> np.ndarray:
    """G = F F^T / M for (1, N, H, W) features, M = H * W, in float64 NumPy (the oracle)."""
    f = features.double().numpy().reshape(features.shape[1], -1)
    return f @ f.T / f.shape[1]


SHIPPED = ("starry_night", "the_scream")  # issue 21: The Starry Night and a second painting


def test_the_shipped_networks_are_the_two_paintings():
    assert set(SHIPPED) <= set(ff.pretrained_names())


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_network_is_small_and_says_how_it_was_made(name):
    path = ff.MODELS_DIR / f"{name}.pt"
    assert path.stat().st_size <= 4 * 1024 * 1024  # issue 21: at most 4 MB (float16 storage)
    net = ff.pretrained(name, device="cpu")
    assert net.manifest == json.loads(path.with_suffix(".json").read_text())
    settings = net.manifest["settings"]
    style = data.style_path(name)
    assert settings["style"]["sha256"] == hashlib.sha256(style.read_bytes()).hexdigest()
    photos = {p["name"]: p["sha256"] for p in settings["training_photos"]}
    assert list(photos) == list(ff.TRAINING_PHOTOS) and not set(photos) & set(ff.HELD_OUT)
    for photo, digest in photos.items():
        assert digest == hashlib.sha256(data.content_path(photo).read_bytes()).hexdigest(), photo
    # made by one committed command, in at most an hour, on a machine it names
    assert net.manifest["made_by"].startswith("python -m nst_teach train --style ")
    assert net.manifest["seconds"] <= 3600 and net.manifest["machine"]["cpu"]
    assert net.manifest["steps"] >= 1000 and math.isfinite(net.manifest["final_losses"]["total"])
    assert net.manifest["stop_reason"] == "completed"


def test_an_unknown_shipped_name_gives_one_line():
    with pytest.raises(ValueError) as error:
        ff.pretrained("mona_lisa")
    assert "starry_night" in one_line_error(error) and "train" in str(error.value)


@pytest.mark.slow
def test_the_shipped_network_moves_an_unseen_photo_towards_the_painting(caffe_vgg):
    """On Tübingen (held out), the Gram matrices of the painted photo are closer to Starry Night's
    than the photo's own are, by the squared distance computed in NumPy, on every style layer."""
    layers = list(Settings().style_layers)
    photo = nt.load_image(data.content_path("tubingen"), max_size=128)
    painted = ff.stylize_with("starry_night", photo)
    assert painted.shape == photo.shape and (painted - photo).abs().mean() > 0.02
    with torch.no_grad():
        style = nt.load_image(data.style_path("starry_night"), max_size=256)
        target, before, after = (caffe_vgg.extract(x, layers) for x in (style, photo, painted))
    for layer in layers:
        a = numpy_gram(target[layer])
        far, near = (np.mean((numpy_gram(f[layer]) - a) ** 2) for f in (before, after))
        assert near < far, (layer, near, far)


def test_cli_stylizes_with_the_shipped_network_by_name(tmp_path, capsys):
    from nst_teach import cli

    out = tmp_path / "painted.png"
    code = cli.main(
        [
            "stylize",
            "--model",
            "starry_night",
            "--content",
            str(data.content_path("tubingen")),
            "--out",
            str(out),
            "--size",
            "64",
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert max(nt.load_image(out).shape[-2:]) == 64
    record = json.loads(out.with_suffix(".json").read_text())
    shipped = ff.MODELS_DIR / "starry_night.pt"
    assert record["model"]["sha256"] == hashlib.sha256(shipped.read_bytes()).hexdigest()
    code = cli.main(["stylize", "--model", "no_such_model", "--out", str(tmp_path / "o.png")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "no_such_model" in err


def test_judge_gives_stylizes_losses_and_numpys(caffe_vgg, photo):
    """judge(stylize's image) = the losses stylize reports for it; content also by NumPy."""
    style = data.style_path("starry_night")
    result = nt.stylize(photo, style, model=caffe_vgg, size=48, max_evals=4, progress=False)
    got = ff.judge(result.image, photo, style, caffe_vgg)
    assert got["content"] == pytest.approx(result.losses["content"], rel=1e-4)
    assert got["style"] == pytest.approx(result.losses["style"], rel=1e-4)
    small = nt.load_image(photo, max_size=48)
    with torch.no_grad():
        F, P = (
            caffe_vgg.extract(x, ["relu4_2"])["relu4_2"].double().numpy()
            for x in (result.image, small)
        )
    assert got["content"] == pytest.approx(np.mean((F - P) ** 2), rel=1e-4)
    with pytest.raises(ValueError, match="paint the photo at the image's size"):
        ff.judge(result.image[..., :40], photo, style, caffe_vgg)


# ------------------------------------------------------------------ precision


def test_bf16_runs_the_transform_network_in_bf16_and_keeps_losses_and_weights_float32(random_vgg):
    dtypes = []
    net = ff.new_net(ff.TrainSettings())
    net.down[0][0].register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
    trained = ff.train(
        data.style_path("mosaic"),
        ["grace_hopper"],
        model=random_vgg,
        net=net,
        max_steps=2,
        precision="bf16",
        **TINY,
    )
    assert dtypes == [torch.bfloat16] * 2  # the first convolution's output, at each step
    assert all(p.dtype == torch.float32 for p in trained.net.parameters())
    assert all(math.isfinite(h["total"]) for h in trained.history)
    settings = trained.manifest()["settings"]
    assert (settings["precision"], settings["precision_used"]) == ("bf16", "bf16")


def test_auto_on_a_cpu_without_native_bf16_is_fp32_bit_for_bit(random_vgg, monkeypatch):
    from nst_teach import precision

    monkeypatch.setattr(precision, "native_bf16", lambda device: False)  # a laptop's CPU
    runs = {
        p: ff.train(
            data.style_path("mosaic"),
            ["grace_hopper"],
            model=random_vgg,
            max_steps=3,
            precision=p,
            **TINY,
        )
        for p in ("auto", "fp32")
    }
    assert runs["auto"].settings["precision_used"] == "fp32"
    assert runs["auto"].history == runs["fp32"].history
    for k, v in runs["auto"].net.state_dict().items():
        assert torch.equal(v, runs["fp32"].net.state_dict()[k]), k


def test_stylize_with_takes_the_precision_and_returns_float32(photo):
    net = ff.new_net(ff.TrainSettings(seed=3))
    exact = ff.stylize_with(net, photo, precision="fp32")
    with torch.inference_mode():
        assert torch.equal(exact, net(photo))  # fp32: the network itself
    low = ff.stylize_with(net, photo, precision="bf16")
    assert low.dtype == torch.float32 and low.shape == exact.shape
    assert 0 < (low - exact).abs().max() < 0.05  # bf16 keeps about 3 significant digits
    with pytest.raises(ValueError, match="unknown precision"):
        ff.stylize_with(net, photo, precision="fp8")
