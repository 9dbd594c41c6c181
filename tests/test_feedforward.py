"""The feed-forward network of notebook 11 (Johnson et al. 2016): shapes, normalisation, training, files.

Oracles: NumPy for instance normalisation, the architecture's arithmetic for the parameter count,
a transposed-convolution twin for the checkerboard, hashlib for the manifest's sha256, and the
network applied image by image for batch independence.
"""

import hashlib
import math

import numpy as np
import pytest
import torch
from torch import nn

import nst_teach as nt
from nst_teach import data
from nst_teach import feedforward as ff
from nst_teach.vgg import caffe_weights_path

TINY = dict(size=32, style_size=32, batch_size=1, progress=False, device="cpu")


@pytest.fixture(scope="module")
def photo():
    """A real photograph, 64 x 48 px: the bundled Tübingen (never a training photo by default)."""
    return nt.load_image(data.content_path("tubingen"), max_size=64)


@pytest.fixture(scope="module")
def trained(random_vgg):
    """Three steps of training at 32 px with the random VGG19: a small, quick Trained."""
    return ff.train(data.style_path("mosaic"), ["grace_hopper"], model=random_vgg, max_steps=3, **TINY)


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

    expected = (conv(3, c1, 9) + conv(c1, c2, 3) + conv(c2, c3, 3) + ff.RES_BLOCKS * 2 * conv(c3, c3, 3)
                + conv(c3, c2, 3) + conv(c2, c1, 3) + (c1 * 3 * 9 + 3))
    net = ff.TransformNet()
    assert net.parameter_count() == expected == 273_219
    path = ff.save_model(net, tmp_path / "m.pt")
    assert path.stat().st_size <= 2 * 1024 * 1024


def test_every_norm_is_an_affine_instance_norm_and_padding_reflects():
    net = ff.TransformNet()
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._NormBase)]
    assert len(norms) == 5 + 2 * ff.RES_BLOCKS
    assert all(isinstance(m, nn.InstanceNorm2d) and m.affine and not m.track_running_stats for m in norms)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert all(m.padding_mode == "reflect" for m in convs)
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in net.modules())


def test_instance_norm_normalises_each_image_and_channel_as_numpy_does():
    torch.manual_seed(1)
    norm = ff.conv_block(3, 4, 3)[1]
    with torch.no_grad():
        norm.weight.copy_(torch.tensor([0.5, 2.0, -1.0, 1.5]))
        norm.bias.copy_(torch.tensor([0.0, 0.3, -0.2, 1.0]))
    x = torch.randn(2, 4, 7, 9) * torch.tensor([1.0, 10.0]).view(2, 1, 1, 1) + 3  # images on different scales
    got = norm(x).detach().numpy()
    a = x.numpy().astype(np.float64)
    mean, var = a.mean(axis=(2, 3), keepdims=True), a.var(axis=(2, 3), keepdims=True)  # biased variance
    w, b = norm.weight.detach().numpy().reshape(1, 4, 1, 1), norm.bias.detach().numpy().reshape(1, 4, 1, 1)
    np.testing.assert_allclose(got, w * (a - mean) / np.sqrt(var + norm.eps) + b, rtol=1e-4, atol=1e-4)


def test_images_in_a_batch_do_not_change_each_other(photo):
    """Instance norm, unlike batch norm, sees one image at a time: the batch is the images one by one."""
    torch.manual_seed(2)
    net = ff.TransformNet()
    batch = torch.cat([photo, photo.flip(-1), torch.rand_like(photo)])
    with torch.no_grad():
        together = net(batch)
        alone = torch.cat([net(batch[i:i + 1]) for i in range(3)])
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


def checkerboard_share(image: torch.Tensor) -> float:
    """Share of an image's varying part that is a 2-pixel pattern: power at the Nyquist rows and columns of its FFT."""
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
    torch.testing.assert_close(patterned[..., 1:-3, 1:-3], patterned[..., 3:-1, 3:-1])  # period 2, borders aside
    shares = {}
    for upsampling in ff.UPSAMPLING:  # whole fresh networks, same seed, on a photograph
        torch.manual_seed(4)
        with torch.no_grad():
            shares[upsampling] = checkerboard_share(ff.TransformNet(upsampling=upsampling)(photo))
    assert shares["nearest"] < shares["transposed"] / 3, shares


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
    """20 steps at 32 px with the real VGG19: the loss on crops held fixed drops by over a fifth."""
    settings = ff.TrainSettings(size=32, style_size=64, batch_size=1, max_steps=20, lr=5e-3).with_presets(torch.device("cpu"))
    photos = [nt.load_image(data.content_path(n), 256) for n in ff.BUNDLED_PHOTOS]
    fixed = ff.CropSampler(photos, 32, seed=123)(4)  # the same crops before and after training
    style = data.style_path("waves")
    with torch.no_grad():
        A = nt.style_targets(caffe_vgg.extract(nt.load_image(style, 64), settings.style_layers))
        P = caffe_vgg.extract(fixed, settings.content_layers)

    def loss(net):
        with torch.no_grad():
            return float(ff.loss_terms(caffe_vgg, net(fixed), P, A, settings)[3])

    before = loss(ff._new_net(settings))
    result = ff.train(style, ff.BUNDLED_PHOTOS, model=caffe_vgg, progress=False, **settings.manifest())
    assert result.stop_reason == "completed" and result.steps == 20
    after = loss(result.net)
    assert after < 0.9 * before, (before, after)  # measured: 0.86 with the normalised network, beta 10


def test_loss_terms_are_the_package_losses_weighted(random_vgg, photo):
    settings = ff.TrainSettings(alpha=2.0, beta=0.5, tv_weight=3.0)
    out, crops = photo.flip(-1), photo
    with torch.no_grad():
        A = nt.style_targets(random_vgg.extract(photo, settings.style_layers))
        P = random_vgg.extract(crops, settings.content_layers)
        content, style, tv, total = ff.loss_terms(random_vgg, out, P, A, settings).tolist()
        F = random_vgg.extract(out, ["relu4_2", *settings.style_layers])

    def gram(features):  # F F^T / (H W), in NumPy
        f = features.double().numpy().reshape(features.shape[0], features.shape[1], -1)
        return f @ f.transpose(0, 2, 1) / f.shape[-1]

    expect_style = sum(np.mean((gram(F[n]) - A[n].double().numpy()) ** 2) for n in settings.style_layers) / 5
    expect_content = float(torch.mean((F["relu4_2"] - P["relu4_2"]) ** 2))
    o = out.double().numpy()
    expect_tv = np.mean(np.diff(o, axis=2) ** 2) + np.mean(np.diff(o, axis=3) ** 2)
    assert content == pytest.approx(expect_content, rel=1e-5) and style == pytest.approx(expect_style, rel=1e-4)
    assert tv == pytest.approx(expect_tv, rel=1e-5)
    assert total == pytest.approx(2 * content + 0.5 * style + 3 * tv, rel=1e-5)


def test_same_seed_same_weights_bit_for_bit(random_vgg):
    runs = [ff.train(data.style_path("waves"), model=random_vgg, max_steps=2, seed=seed, **TINY) for seed in (7, 7, 8)]
    first, again, other = (r.net.state_dict() for r in runs)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert runs[0].history == runs[1].history
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_manifest_says_what_it_was_trained_on(trained):
    m = trained.manifest()
    assert m["steps"] == 3 and m["images_seen"] == 3 * m["settings"]["batch_size"] == trained.images_seen
    assert m["settings"]["style"]["name"] == "mosaic"
    assert m["settings"]["style"]["sha256"] == hashlib.sha256(data.style_path("mosaic").read_bytes()).hexdigest()
    [photo_record] = m["settings"]["training_photos"]
    assert photo_record["name"] == "grace_hopper"
    assert photo_record["sha256"] == hashlib.sha256(data.content_path("grace_hopper").read_bytes()).hexdigest()
    assert m["nst_teach_version"] == nt.__version__ and m["torch"] == torch.__version__
    assert m["settings"]["weights"] == "random" and m["stop_reason"] == "completed"
    assert m["parameters"] == trained.net.parameter_count() and len(trained.history) == 3
    assert set(trained.history[0]) == {"content", "style", "tv", "total"}


def test_default_photos_leave_tubingen_out_and_fall_back_without_scikit_image(monkeypatch):
    photos = ff.training_photos()
    assert "tubingen" not in photos and set(ff.BUNDLED_PHOTOS) <= set(photos)
    if ff.skimage_photos_dir() is not None:
        assert set(ff.SKIMAGE_PHOTOS) <= set(photos)
        assert "scikit-image" in ff.describe_image(photos["astronaut"])["source"]
    monkeypatch.setattr(ff, "skimage_photos_dir", lambda: None)
    assert list(ff.training_photos()) == list(ff.BUNDLED_PHOTOS)
    with pytest.raises(ValueError, match=r"pip install 'nst_teach\[photos\]'"):
        ff.photo_path("astronaut")


def test_crops_are_squares_in_0_1_and_reproducible(photo):
    crops = ff.CropSampler([photo], 24, seed=5)(6)
    assert crops.shape == (6, 3, 24, 24) and crops.min() >= 0 and crops.max() <= 1
    torch.testing.assert_close(ff.CropSampler([photo], 24, seed=5)(6), crops, rtol=0, atol=0)
    assert not torch.equal(ff.CropSampler([photo], 24, seed=6)(6), crops)


def test_callback_stops_and_ctrl_c_keeps_the_network_trained_so_far(random_vgg):
    fresh = ff._new_net(ff.TrainSettings(seed=0))
    stopped = ff.train(data.style_path("waves"), model=random_vgg, max_steps=10, callback=lambda i, losses: i == 2, **TINY)
    assert stopped.stop_reason == "stopped by callback" and stopped.steps == 2

    def interrupt(step, losses):
        if step == 3:
            raise KeyboardInterrupt

    interrupted = ff.train(data.style_path("waves"), model=random_vgg, max_steps=10, callback=interrupt, **TINY)
    assert interrupted.stop_reason == "interrupted" and interrupted.steps == 3
    weights = interrupted.net.state_dict()
    assert all(torch.isfinite(v).all() for v in weights.values())
    assert not all(torch.equal(v, fresh.state_dict()[k]) for k, v in weights.items())  # it did learn
    assert interrupted.manifest()["stop_reason"] == "interrupted"


@pytest.mark.parametrize("options, message", [
    (dict(max_steps=0), "max_steps"), (dict(lr=0), "lr must be greater"), (dict(alpha=0, beta=0), "nothing to learn"),
    (dict(style_layers=["relu9_1"]), "unknown layer"), (dict(channels=(8, 8)), "three whole numbers"),
    (dict(max_step=3), "did you mean 'max_steps'"), (dict(size=12), "too small for these layers"),
])
def test_bad_options_are_refused_before_any_work(options, message):
    with pytest.raises((ValueError, TypeError), match=message):
        ff.train(data.style_path("waves"), **options)


# ------------------------------------------------------------------ files


def test_save_and_load_give_the_same_network(tmp_path, photo):
    torch.manual_seed(9)
    net = ff.TransformNet(channels=(4, 8, 12), res_blocks=1)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))  # not the fresh state: the norms' scales and shifts too
    net.manifest = {"settings": {"size": 32}, "note": "hand-made"}
    loaded = ff.load_model(ff.save_model(net, tmp_path / "m.pt"))
    assert loaded.architecture() == {"channels": [4, 8, 12], "res_blocks": 1, "upsampling": "nearest"}
    assert loaded.manifest == net.manifest and not loaded.training
    with torch.no_grad():
        assert torch.equal(loaded(photo), net.eval()(photo))
    blob = torch.load(tmp_path / "m.pt", weights_only=True)
    assert blob["nst_teach_version"] == nt.__version__ and blob["format_version"] == ff.FORMAT_VERSION


def damaged_files(tmp_path, trained) -> dict:
    good = trained.save(tmp_path / "good.pt")
    files = {"text": tmp_path / "notes.pt", "empty": tmp_path / "empty.pt", "truncated": tmp_path / "cut.pt",
             "tensor": tmp_path / "tensor.pt", "state_dict": tmp_path / "state.pt", "nan": tmp_path / "nan.pt",
             "wrong_shape": tmp_path / "shape.pt", "newer": tmp_path / "newer.pt"}
    files["text"].write_text("not a model\n")
    files["empty"].write_bytes(b"")
    files["truncated"].write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    torch.save(torch.rand(3), files["tensor"])
    torch.save(trained.net.state_dict(), files["state_dict"])  # the weights alone: no architecture
    blob = torch.load(good, weights_only=True)
    key = next(iter(blob["state_dict"]))
    for kind, change in (("nan", lambda b: b["state_dict"][key].fill_(math.nan)),
                         ("wrong_shape", lambda b: b["state_dict"].__setitem__(key, torch.zeros(2))),
                         ("newer", lambda b: b.__setitem__("format_version", ff.FORMAT_VERSION + 1))):
        copy = torch.load(good, weights_only=True)
        change(copy)
        torch.save(copy, files[kind])
    return {**files, "vgg_weights": caffe_weights_path(), "missing": tmp_path / "nope.pt", "folder": tmp_path}


@pytest.mark.parametrize("kind", ["text", "empty", "truncated", "tensor", "state_dict", "nan", "wrong_shape", "newer",
                                  "vgg_weights", "missing", "folder"])
def test_damaged_or_foreign_files_give_one_line(tmp_path, trained, kind):
    path = damaged_files(tmp_path, trained)[kind]
    with pytest.raises(ff.ModelFileError) as error:
        ff.load_model(path)
    text = one_line_error(error)
    assert str(path) in text
    assert isinstance(error.value, ValueError)
    assert any(word in text for word in ("train", "update nst_teach"))
