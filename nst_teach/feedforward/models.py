"""Applying a trained network, saving and loading it, the shipped ones, and judging a painting.

Taught in notebook 11. ``stylize_with`` paints a photo in one pass; ``save_model`` and
``load_model`` write and read a network with its training manifest (``ModelFileError`` says in
one line what is wrong with a file); ``pretrained("starry_night")`` is a network made by
``python -m nst_teach train`` and shipped in nst_teach/models/; ``judge`` puts a painting on
stylize's scale.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from .. import __version__
from ..images import load_image, resize_longest
from ..precision import autocast, resolve
from ..presets import pick_device
from ..settings import Settings, whole_number
from ..vgg import first_line, load_vgg19
from .network import MIN_SIDE, TransformNet

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"  # shipped networks
FILE_FORMAT = "nst_teach feed-forward style network"
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A model file that cannot be loaded; the one-line message says what to do."""


def stylize_with(model, image, size: int | None = None, precision: str = "auto") -> torch.Tensor:
    """Paint ``image`` with a trained network in one pass: -> (1, 3, H, W) in [0, 1] on the CPU.

    model: a TransformNet, a Trained, the path of a saved model or the name of a shipped one
    (``pretrained``); image: anything load_image takes; size: longest side to resize to first;
    precision: the network's arithmetic (``nst_teach.precision``; the result is float32).
    """
    net = getattr(model, "net", model)
    if not isinstance(net, nn.Module):
        net = pretrained(net) if _is_model_name(net) else load_model(net)
    image = load_image(image)
    if size is not None:
        image = resize_longest(image, whole_number("size", size, MIN_SIDE))
    device = next(net.parameters()).device
    used = resolve(precision, device)
    with torch.inference_mode(), autocast(used, device):
        painted = net(image.to(device))
    return painted.float().cpu().clone()  # a normal tensor again, usable outside inference mode


def judge(image, photo, style, model=None) -> dict[str, float]:
    """stylize's content and style losses of ``image`` (1, 3, H, W) as a painting of ``photo`` in
    ``style``: its everyday settings at the image's size, targets made as stylize makes them.

    Used in notebook 11 and benchmarks/feedforward_bench.py to put the network and stylize on one
    scale: {"content": L_content, "style": L_style}.
    """
    from ..loss_terms import LossTerms
    from ..transfer import extract_targets, prepare_images

    image = load_image(image)
    settings = Settings(size=max(image.shape[-2:]), device=torch.device("cpu"), precision="fp32")
    if model is None:
        model = load_vgg19(settings.weights, device="cpu", pooling=settings.pooling,
                           normalize=settings.normalize)
    content_image, styles = prepare_images(load_image(photo), [load_image(style)], settings)
    if content_image.shape != image.shape:
        raise ValueError(f"image {tuple(image.shape)} and photo {tuple(content_image.shape)} at "
                         "its size differ: paint the photo at the image's size")
    P, A = extract_targets(model, content_image, styles, [1.0], settings)
    with torch.no_grad():
        content, style, _, _ = LossTerms(model, P, A, settings)(image.to(model.device)).tolist()
    return {"content": content, "style": style}


def pretrained_names() -> list[str]:
    """Names of the networks shipped in nst_teach/models/ (e.g. "starry_night")."""
    return sorted(p.stem for p in MODELS_DIR.glob("*.pt"))


def _is_model_name(name) -> bool:
    return isinstance(name, str) and name in pretrained_names() and not Path(name).exists()


def pretrained(name: str = "starry_night", device=None) -> TransformNet:
    """A network shipped with the package, by the name of its painting (made by ``python -m
    nst_teach train``; how, its manifest ``.manifest`` says)."""
    names = pretrained_names()
    if name not in names:
        raise ValueError(f"no shipped network {name!r}: choose one of {', '.join(names) or 'none'}"
                         ", or train one with `python -m nst_teach train --style PAINTING`")
    return load_model(MODELS_DIR / f"{name}.pt", device=device)


def save_model(net: TransformNet, path, manifest: dict | None = None, half: bool = False) -> Path:
    """Write the network to ``path`` (.pt): weights, architecture, manifest, package version.

    half: store the weights in float16, half the file (load_model reads them back into float32).
    """
    path = Path(path)
    manifest = net.manifest if manifest is None else manifest
    state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
        too_large = [k for k, v in state.items() if not torch.isfinite(v).all()]
        if too_large:
            raise ValueError(f"{too_large[0]} has values beyond float16's range (65504): "
                             "save without half=True")
    blob = {"format": FILE_FORMAT, "format_version": FORMAT_VERSION,
            "nst_teach_version": __version__, "architecture": net.architecture(),
            "state_dict": state,
            # plain values only, so that torch.load(weights_only=True) reads them
            "manifest": json.loads(json.dumps(manifest, default=str))}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(blob, tmp)
    tmp.replace(path)  # a Ctrl-C while writing leaves the old file, not half a new one
    return path


def load_model(path, device=None) -> TransformNet:
    """A network saved by save_model (eval mode, its training manifest in ``.manifest``)."""
    path = Path(path)
    retrain = f"make it again with `python -m nst_teach train --style PAINTING --out {path}`"
    blob = _read_model_file(path, retrain)
    if not isinstance(blob, dict) or blob.get("format") != FILE_FORMAT:
        raise ModelFileError(f"{path} is not an nst_teach style network (it holds {_what(blob)}):"
                             f" give a file written by train(...).save() or "
                             f"{retrain.split(' ', 3)[-1]}")
    if blob.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path} was written by nst_teach {blob.get('nst_teach_version')} "
                             f"in a file format this version ({__version__}) does not read: "
                             f"update nst_teach, or {retrain}")
    try:
        # files written before out_kernel was an option have the 3x3 output convolution
        net = TransformNet(**{"out_kernel": 3, **blob["architecture"]})
        net.load_state_dict(blob["state_dict"])
        bad = [k for k, v in blob["state_dict"].items() if not torch.isfinite(v).all()]
        if bad:
            raise ValueError(f"non-finite values in {bad[0]}")
        net.manifest = dict(blob.get("manifest") or {})
    except Exception as e:  # any mismatch means a damaged file
        raise ModelFileError(f"{path} is damaged ({type(e).__name__}: {first_line(e)}): "
                             f"{retrain}") from None
    return net.eval().to(pick_device(device))


def _read_model_file(path: Path, retrain: str):
    """torch.load with weights_only=True (plain tensors and values only), failures as one line."""
    if not path.exists():
        raise ModelFileError(f"model file {path} not found: {retrain}")
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder, not a model file: give the .pt file that "
                             "train wrote")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ModelFileError(f"cannot read {path} as a model file, it is damaged or of another "
                             f"kind ({type(e).__name__}: {first_line(e, 80)}): "
                             f"{retrain}") from None


def _what(blob) -> str:
    """A few words on what a foreign file holds."""
    if isinstance(blob, dict):
        keys = ", ".join(map(str, list(blob)[:3]))
        return f"a dict with keys {keys}{', ...' if len(blob) > 3 else ''}"
    return f"a {type(blob).__name__}"
