"""Mixed precision (nst_teach.precision): detection, the float32 parts, honest float32 losses."""

import pytest
import torch

import nst_teach as nt
from nst_teach import precision as prec
from nst_teach.loss_terms import LossTerms
from nst_teach.settings import Settings

CONTENT, STYLE = "data/content/tubingen.jpg", "data/style/starry_night.jpg"


def _cpu(monkeypatch, avx512_bf16: bool, amx: bool) -> None:
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)


@pytest.mark.parametrize(("avx512_bf16", "amx", "expected"), [
    (False, False, "fp32"), (True, False, "bf16"), (False, True, "bf16"), (True, True, "bf16"),
])
def test_auto_follows_the_cpus_bfloat16_units(monkeypatch, avx512_bf16, amx, expected):
    _cpu(monkeypatch, avx512_bf16, amx)
    assert prec.resolve("auto", "cpu") == expected
    assert prec.resolve("fp32", "cpu") == "fp32" and prec.resolve("bf16", "cpu") == "bf16"


def test_auto_on_cuda_needs_compute_capability_8(monkeypatch):
    for capability, expected in (((7, 5), "fp32"), ((8, 0), "bf16"), ((9, 0), "bf16")):
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda d, c=capability: c)
        assert prec.resolve("auto", "cuda") == expected
    assert prec.resolve("auto", "mps") == "fp32"  # emulated there: never slowed down


def test_bad_precisions_are_refused_with_advice():
    with pytest.raises(ValueError, match="fp16.*emulated on the CPU"):
        prec.resolve("fp16", "cpu")
    with pytest.raises(ValueError, match="unknown precision 'half'"):
        Settings(precision="half")


def _run(**options):
    return nt.stylize(CONTENT, STYLE, size=48, max_evals=6, progress=False, device="cpu", **options)


def test_auto_without_bfloat16_units_is_float32_bit_for_bit(monkeypatch):
    _cpu(monkeypatch, False, False)
    auto, fp32 = _run(), _run(precision="fp32")
    assert torch.equal(auto.image, fp32.image) and auto.losses == fp32.losses
    assert {h["precision"] for h in auto.history} == {"fp32"}
    assert auto.manifest()["settings"]["precision"] == "auto"
    assert auto.manifest()["settings"]["precision_used"] == "fp32"


def _independent_losses(image, settings) -> dict:
    """The returned image's float32 losses, written out here: MSE at relu4_2, E_l over 5 layers."""
    model = nt.load_vgg19("caffe")
    content = nt.images.resize_longest(nt.load_image(CONTENT), 48)
    style = nt.images.resize_longest(nt.load_image(STYLE), 48)
    layers = list(settings.style_layers) + ["relu4_2"]
    f_img, f_con, f_sty = (model.extract(x, layers) for x in (image, content, style))
    c = ((f_img["relu4_2"] - f_con["relu4_2"]) ** 2).mean().item()

    def gram(f):
        f = f[0].flatten(1)
        return f @ f.T / f.shape[1]

    s = sum(((gram(f_img[n]) - gram(f_sty[n])) ** 2).mean().item()
            for n in settings.style_layers) / len(settings.style_layers)
    return {"content": c, "style": s, "total": settings.alpha * c + settings.beta * s}


def test_bf16_run_reports_the_returned_images_float32_losses():
    result = _run(precision="bf16")
    assert {h["precision"] for h in result.history} == {"bf16"}
    truth = _independent_losses(result.image, result.settings)
    for name, value in truth.items():
        assert result.losses[name] == pytest.approx(value, rel=2e-3), name
    # the bf16 evaluations' own numbers differ from float32's: the report is not one of them
    assert result.losses["total"] not in [h["total"] for h in result.history]


def test_only_the_network_runs_in_bfloat16():
    settings = Settings(precision="bf16", device=torch.device("cpu"))
    model = nt.load_vgg19("caffe")
    image = torch.rand(1, 3, 40, 48, generator=torch.Generator().manual_seed(0))
    P = {k: v for k, v in model.extract(image, settings.content_layers).items()}
    A = nt.style_targets(model.extract(torch.rand(1, 3, 40, 48), settings.style_layers))
    terms = LossTerms(model, P, A, settings)
    features = terms.features(image, "bf16")
    assert all(f.dtype == torch.float32 for f in features.values())
    x = image.clone().requires_grad_(True)
    terms(x)[3].backward()
    g_bf16 = x.grad.clone()
    x.grad = None
    terms.precision = "fp32"
    terms(x)[3].backward()
    assert g_bf16.dtype == torch.float32
    cosine = torch.nn.functional.cosine_similarity(g_bf16.flatten(), x.grad.flatten(), dim=0)
    assert cosine > 0.98  # the same descent direction, to bfloat16's three digits
