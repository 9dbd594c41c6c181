"""Command line: ``python -m nst_teach stylize ...`` and ``python -m nst_teach train ...``.

``stylize --content PATH --style PATH --out PATH`` optimises one image (Gatys et al.);
``train --style PATH --out model.pt`` trains a feed-forward network for one style (Johnson et al.),
and ``stylize --model model.pt --content PATH --out PATH`` applies it in one pass.
Bad input gives a one-line error and exit code 2; Ctrl-C writes the best image (or the network
trained so far) and exits 130.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from dataclasses import fields
from pathlib import Path

from . import __version__
from .images import ImageError, load_image, save_image
from .presets import pick_device
from .settings import Settings
from .transfer import stylize
from .vgg import WeightsError, check_layers

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# What still applies to stylize --model: the image's size and the device; the rest is optimisation.
MODEL_FLAGS = ("size", "device")


class UsageError(Exception):
    """Bad input found before the run starts."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _weight(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _layers(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    try:
        return check_layers(names)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


_PARSERS = {"weight": _weight, "count": _positive_int, "int": int, "layers": _layers, "weights": _weight, "str": str}


def _shown(value) -> str:
    return ",".join(value) if isinstance(value, tuple) else f"{value:g}" if isinstance(value, float) else str(value)


def add_settings_flags(parser: argparse.ArgumentParser, settings_class=Settings) -> None:
    """One flag per field of Settings (or TrainSettings): ``--tv-weight`` for ``tv_weight``, its help and parser from the field."""
    for f in fields(settings_class):
        meta = f.metadata
        if meta["flag"] is None:
            continue
        kw = dict(dest=f.name, default=None, help=meta["help"] + (f" (default: {_shown(f.default)})" if f.default is not None else ""))
        if meta["kind"] == "flag":  # a switch: present means True
            kw.update(action="store_const", const=True)
        elif meta["choices"]:
            kw["choices"] = meta["choices"]
        else:
            kw["type"] = _PARSERS[meta["kind"]]
        if meta["kind"] == "weights":
            kw.update(nargs="+", metavar=meta.get("metavar", "W"))
        parser.add_argument("--" + f.name.replace("_", "-"), *meta.get("aliases", ()), **kw)


def build_parser() -> argparse.ArgumentParser:
    from .feedforward import TrainSettings

    parser = argparse.ArgumentParser(prog="python -m nst_teach", description="Neural style transfer (Gatys et al. 2015) with the original VGG19, offline.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("stylize", help="paint a content image in the style of one or more style images",
                       description="Paint a content image in the style of one or more style images. "
                       "With no images given it uses the bundled ones. Writes the image and a JSON manifest beside it. "
                       "With --model, a network made by `train` paints it in one pass instead (only --size and --device apply).")
    p.add_argument("--content", type=Path, help="content image (default: the bundled photograph)")
    p.add_argument("--style", type=Path, action="append", help="style image; repeat to blend several (default: a bundled painting)")
    p.add_argument("--model", type=Path, help="a network trained by `python -m nst_teach train` (a .pt file), or the name of "
                   "one shipped with the package (starry_night): paint in one pass, no optimisation")
    p.add_argument("--out", type=Path, default=Path("out/stylized.png"), help="output image, .png or .jpg; the manifest goes beside it as .json (default: out/stylized.png)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_settings_flags(p)
    t = sub.add_parser("train", help="train a network that paints any photo in one style in one pass (Johnson et al. 2016)",
                       description="Train a feed-forward network on random crops of photographs to paint in the style of one "
                       "image, with the same losses as stylize. Writes the network (.pt) and its manifest beside it (.json).")
    t.add_argument("--style", type=Path, help="style image (default: a bundled painting)")
    t.add_argument("--content", type=Path, action="append", help="training photograph; repeat for several (default: the four "
                   "bundled scikit-image photographs; Tübingen, landscape and grace_hopper are held out)")
    t.add_argument("--out", type=Path, default=Path("out/model.pt"), help="the trained network, a .pt file (default: out/model.pt)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    add_settings_flags(t, TrainSettings)
    return parser


def _check_output(out: Path, inputs: list[Path], suffixes=IMAGE_SUFFIXES) -> None:
    if out.suffix.lower() not in suffixes:
        raise UsageError(f"--out {out}: use a {' or '.join(s for s in suffixes if s != '.jpeg')} file name")
    resolved = out.resolve()
    for source in inputs:
        if source.resolve() == resolved:
            raise UsageError(f"--out {out} is also an input file: choose another output name so the input is not overwritten")
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory: give a file name such as {out / ('result' + suffixes[0])}")
    folder = out.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create the output folder {folder}: {e.strerror}") from None
    # Refuse an unwritable output now, not after minutes of work.
    if not os.access(folder, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise UsageError(f"cannot write {out}: no permission; choose another --out")


def _device(name):
    try:
        return pick_device(name)
    except (ValueError, RuntimeError) as e:
        raise UsageError(str(e)) from None


def _options(args: argparse.Namespace, settings_class) -> dict:
    """The settings given on the command line (unset flags left out), checked now: a ValueError is a one-line error."""
    options = {f.name: getattr(args, f.name) for f in fields(settings_class) if getattr(args, f.name, None) is not None}
    options["device"] = _device(args.device)
    settings_class(**options)
    return options


def _write_json(path: Path, record: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=2, default=str) + "\n")
    tmp.replace(path)


def run(args: argparse.Namespace) -> int:
    """``stylize``: optimise the image, or with --model apply a trained network."""
    from . import data

    if args.model is not None:
        return run_model(args)
    content = args.content or data.content_path()
    styles = args.style or [data.style_path()]
    if args.style_weights is not None and len(args.style_weights) != len(styles):
        raise UsageError(f"--style-weights has {len(args.style_weights)} values for {len(styles)} --style images: give one per style")
    if args.style_weights is not None and sum(args.style_weights) <= 0:
        raise UsageError("--style-weights must not all be zero")
    if args.style_scale is not None and args.style_scale <= 0:
        raise UsageError("--style-scale must be greater than 0")
    _check_output(args.out, [content, *styles])
    options = _options(args, Settings)
    # Load every image up front so a broken file fails in a second, not after the run.
    images = [load_image(p) for p in [content, *styles]]
    result = stylize(images[0], images[1:], progress=not args.quiet, **options)
    result.settings["content"] = {"path": str(content), "sha256": data.sha256(content)}
    result.settings["style"] = [{"path": str(s), "sha256": data.sha256(s)} for s in styles]
    path = result.save(args.out)
    print(f"wrote {path} and {path.with_suffix('.json').name} ({result.evals} evaluations, {result.seconds:.1f} s, {result.stop_reason})")
    return 130 if result.stop_reason == "interrupted" else 0


def run_model(args: argparse.Namespace) -> int:
    """``stylize --model``: the trained network paints the content image in one pass."""
    from . import data
    from .feedforward import load_model, stylize_with

    # Refused rather than ignored: a flag that silently did nothing would mislead.
    given = [f.name for f in fields(Settings) if f.name not in MODEL_FLAGS and getattr(args, f.name, None) is not None]
    if args.style:
        given.insert(0, "style")
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        verb = "does" if len(given) == 1 else "do"
        raise UsageError(f"{flags} {verb} not apply with --model: the network was trained for its style and paints in one pass; "
                         "leave them out (only --content, --out, --size and --device apply)")
    content = args.content or data.content_path()
    model_path = _model_path(args.model)
    _check_output(args.out, [content, model_path])
    net = load_model(model_path, device=_device(args.device))
    image = load_image(content)
    started = time.perf_counter()
    painted = stylize_with(net, image, size=args.size)
    seconds = time.perf_counter() - started
    path = save_image(painted, args.out)
    _write_json(path.with_suffix(".json"), {
        "nst_teach_version": __version__, "method": "feed-forward network (Johnson et al. 2016)",
        "model": {"path": str(model_path), "sha256": data.sha256(model_path)},
        "content": {"path": str(content), "sha256": data.sha256(content)}, "image_size": list(painted.shape[-2:]),
        "seconds": round(seconds, 4), "device": str(next(net.parameters()).device), "torch": _torch_version(),
        "python": platform.python_version(), "training": net.manifest})
    print(f"wrote {path} and {path.with_suffix('.json').name} (one pass, {seconds * 1000:.0f} ms)")
    return 0


def _model_path(model: Path) -> Path:
    """--model: a file, or the name of a network shipped in nst_teach/models/ when no such file exists."""
    from .feedforward import MODELS_DIR, pretrained_names

    shipped = MODELS_DIR / f"{model}.pt"
    return shipped if not model.exists() and str(model) in pretrained_names() else model


def run_train(args: argparse.Namespace) -> int:
    """``train``: fit a feed-forward network to one style and write it (Ctrl-C writes what was trained so far)."""
    from . import data
    from .feedforward import TrainSettings, train

    style = args.style or data.style_path()
    photos = args.content or None
    _check_output(args.out, [style, *(photos or [])], suffixes=(".pt",))
    options = _options(args, TrainSettings)
    for source in [style, *(photos or [])]:  # a broken file fails now, not after the run
        load_image(source)
    trained = train(style, photos, progress=not args.quiet, **options)
    path = trained.save(args.out)
    _write_json(path.with_suffix(".json"), trained.manifest())
    print(f"wrote {path} and {path.with_suffix('.json').name} ({trained.steps} steps, {trained.images_seen} crops, "
          f"{trained.seconds:.1f} s, {trained.stop_reason})")
    return 130 if trained.stop_reason == "interrupted" else 0


def _torch_version() -> str:
    import torch

    return torch.__version__


def main(argv=None) -> int:
    from .feedforward import ModelFileError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run_train(args) if args.command == "train" else run(args)
    except (UsageError, ImageError, WeightsError, ModelFileError, MemoryError, ValueError) as e:
        print(f"nst_teach: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nst_teach: interrupted before the run started; nothing written", file=sys.stderr)
        return 130
