"""Command line: ``python -m nst_teach stylize ...`` and ``python -m nst_teach train ...``.

``stylize --content PATH --style PATH --out PATH`` optimises one image (Gatys et al.);
``train --style PATH --out model.pt`` trains a feed-forward network for one style (Johnson et al.),
and ``stylize --model model.pt --content PATH --out PATH`` applies it in one pass.
Bad input gives a one-line error and exit code 2; Ctrl-C writes the best image (or the network
trained so far) and exits 130. The flags are made from the fields of ``Settings`` and
``TrainSettings`` (``nst_teach.settings``), which also check every value: the parsers here only
convert text to numbers and lists.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import fields
from pathlib import Path

from . import __version__
from .images import ImageError, load_image, save_image
from .presets import pick_device
from .settings import Settings, default_text
from .transfer import stylize
from .vgg import WeightsError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# What still applies to stylize --model: the image's size, the device and the network's precision;
# the rest is optimisation.
MODEL_FLAGS = ("size", "device", "precision")


class UsageError(Exception):
    """Bad input found before the run starts."""


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _layers(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


# Text to values only; the settings classes check them (one rule, one message).
_PARSERS = {"weight": _number, "rate": _number, "count": _whole, "int": _whole,
            "layers": _layers, "weights": _number, "channels": _whole, "str": str}


def add_settings_flags(parser: argparse.ArgumentParser, settings_class=Settings) -> None:
    """One flag per field of Settings (or TrainSettings): ``--tv-weight`` for ``tv_weight``, its
    help, default and parser from the field."""
    for f in fields(settings_class):
        meta = f.metadata
        if meta["flag"] is None:
            continue
        shown = default_text(f)
        kw = dict(dest=f.name, default=None,
                  help=meta["help"] + (f" (default: {shown})" if shown is not None else ""))
        if meta["kind"] == "flag":  # a switch: present means True
            kw.update(action="store_const", const=True)
        elif meta["choices"]:
            kw["choices"] = meta["choices"]
        else:
            kw["type"] = _PARSERS[meta["kind"]]
        if meta["kind"] == "weights":
            kw.update(nargs="+", metavar=meta.get("metavar", "W"))
        elif "nargs" in meta:  # a fixed number of values, e.g. --channels 32 64 128
            kw.update(nargs=meta["nargs"], metavar=meta.get("metavar"))
        parser.add_argument("--" + f.name.replace("_", "-"), *meta.get("aliases", ()), **kw)


def build_parser() -> argparse.ArgumentParser:
    """The parser of both commands, their flags made from the settings' fields."""
    parser = argparse.ArgumentParser(prog="python -m nst_teach", description="Neural style "
                                     "transfer (Gatys et al. 2015) with the original VGG19, "
                                     "offline.")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_stylize(sub)
    _add_train(sub)
    return parser


def _add_stylize(sub) -> None:
    p = sub.add_parser("stylize", help="paint a content image in the style of one or more style "
                       "images", description="Paint a content image in the style of one or more "
                       "style images. With no images given it uses the bundled ones. Writes the "
                       "image and a JSON manifest beside it. With --model, a network made by "
                       "`train` paints it in one pass instead (only --size, --device and "
                       "--precision apply).")
    p.add_argument("--content", type=Path, help="content image (default: the bundled photograph)")
    p.add_argument("--style", type=Path, action="append", help="style image; repeat to blend "
                   "several (default: a bundled painting)")
    p.add_argument("--model", type=Path, help="a network trained by `python -m nst_teach train` "
                   "(a .pt file), or the name of one shipped with the package (starry_night): "
                   "paint in one pass, no optimisation")
    p.add_argument("--out", type=Path, default=Path("out/stylized.png"), help="output image, .png "
                   "or .jpg; the manifest goes beside it as .json (default: out/stylized.png)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_settings_flags(p)


def _add_train(sub) -> None:
    from .feedforward import TrainSettings

    t = sub.add_parser("train", help="train a network that paints any photo in one style in one "
                       "pass (Johnson et al. 2016)", description="Train a feed-forward network "
                       "on random crops of photographs to paint in the style of one image, with "
                       "the same losses as stylize. Writes the network (.pt) and its manifest "
                       "beside it (.json).")
    t.add_argument("--style", type=Path, help="style image (default: a bundled painting)")
    t.add_argument("--content", type=Path, action="append", help="training photograph; repeat "
                   "for several (default: the 13 bundled training photographs; Tübingen, "
                   "grace_hopper, china and landscape are held out)")
    t.add_argument("--out", type=Path, default=Path("out/model.pt"), help="the trained network, "
                   "a .pt file (default: out/model.pt)")
    t.add_argument("--half", action="store_true", help="store the weights in float16: half the "
                   "file (the shipped 32/64/128-channel networks are stored so)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--minutes", type=_number, help="stop after this long, keeping the network "
                   "trained so far (the manifest's stop_reason says so)")
    t.add_argument("--threads", type=_whole, help="torch CPU threads (a run is deterministic for "
                   "a seed, a thread count and a precision; default: torch's)")
    add_settings_flags(t, TrainSettings)


def _check_output(out: Path, inputs: list[Path], suffixes=IMAGE_SUFFIXES) -> None:
    if out.suffix.lower() not in suffixes:
        names = " or ".join(s for s in suffixes if s != ".jpeg")
        raise UsageError(f"--out {out}: use a {names} file name")
    resolved = out.resolve()
    for source in inputs:
        if source.resolve() == resolved:
            raise UsageError(f"--out {out} is also an input file: choose another output name "
                             "so the input is not overwritten")
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory: give a file name such as "
                         f"{out / ('result' + suffixes[0])}")
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
    """The settings given on the command line (unset flags left out), checked now by the
    settings class: a ValueError is a one-line error."""
    options = {f.name: getattr(args, f.name) for f in fields(settings_class)
               if getattr(args, f.name, None) is not None}
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
        raise UsageError(f"--style-weights has {len(args.style_weights)} values for "
                         f"{len(styles)} --style images: give one per style")
    _check_output(args.out, [content, *styles])
    options = _options(args, Settings)
    # Load every image up front so a broken file fails in a second, not after the run.
    images = [load_image(p) for p in [content, *styles]]
    result = stylize(images[0], images[1:], progress=not args.quiet, **options)
    result.details["content"] = {"path": str(content), "sha256": data.sha256(content)}
    result.details["style"] = [{"path": str(s), "sha256": data.sha256(s)} for s in styles]
    path = result.save(args.out)
    print(f"wrote {path} and {path.with_suffix('.json').name} ({result.evals} evaluations, "
          f"{result.seconds:.1f} s, {result.stop_reason})")
    return 130 if result.stop_reason == "interrupted" else 0


def run_model(args: argparse.Namespace) -> int:
    """``stylize --model``: the trained network paints the content image in one pass."""
    from . import data
    from .feedforward import load_model, stylize_with

    # Refused rather than ignored: a flag that silently did nothing would mislead.
    given = [f.name for f in fields(Settings)
             if f.name not in MODEL_FLAGS and getattr(args, f.name, None) is not None]
    if args.style:
        given.insert(0, "style")
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        verb = "does" if len(given) == 1 else "do"
        raise UsageError(f"{flags} {verb} not apply with --model: the network was trained for "
                         "its style and paints in one pass; leave them out (only --content, "
                         "--out, --size, --device and --precision apply)")
    content = args.content or data.content_path()
    model_path = _model_path(args.model)
    _check_output(args.out, [content, model_path])
    net = load_model(model_path, device=_device(args.device))
    image = load_image(content)
    started = time.perf_counter()
    precision = args.precision or "auto"
    painted = stylize_with(net, image, size=args.size, precision=precision)
    seconds = time.perf_counter() - started
    path = save_image(painted, args.out)
    _write_json(path.with_suffix(".json"), {
        "nst_teach_version": __version__, "method": "feed-forward network (Johnson et al. 2016)",
        "model": {"path": str(model_path), "sha256": data.sha256(model_path)},
        "content": {"path": str(content), "sha256": data.sha256(content)},
        "image_size": list(painted.shape[-2:]), "seconds": round(seconds, 4),
        "precision": precision, "device": str(next(net.parameters()).device),
        "torch": _torch_version(),
        "python": platform.python_version(), "training": net.manifest})
    print(f"wrote {path} and {path.with_suffix('.json').name} (one pass, {seconds * 1000:.0f} ms)")
    return 0


def _model_path(model: Path) -> Path:
    """--model: a file, or the name of a network shipped in nst_teach/models/ when no such file
    exists."""
    from .feedforward import MODELS_DIR, pretrained_names

    shipped = MODELS_DIR / f"{model}.pt"
    return shipped if not model.exists() and str(model) in pretrained_names() else model


def run_train(args: argparse.Namespace) -> int:
    """``train``: fit a feed-forward network to one style and write it with its manifest, the
    losses of every step included (Ctrl-C writes what was trained so far)."""
    from . import data
    from .feedforward import TrainSettings, load_model, save_model, train

    style = args.style or data.style_path()
    photos = args.content or None
    _check_output(args.out, [style, *(photos or [])], suffixes=(".pt",))
    options = _options(args, TrainSettings)
    callback = _time_limit(args.minutes)
    if args.threads is not None:
        if args.threads < 1:
            raise UsageError(f"--threads must be at least 1, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)
    for source in [style, *(photos or [])]:  # a broken file fails now, not after the run
        load_image(source)
    trained = train(style, photos, progress=not args.quiet, callback=callback, **options)
    manifest = {**trained.manifest(), "made_by": "python -m nst_teach " + " ".join(args.argv),
                # the losses of every step, for notebook 11's curves (4 significant digits)
                "history": [{k: float(f"{v:.4g}") for k, v in h.items()} for h in trained.history]}
    path = save_model(trained.net, args.out, manifest, half=args.half)
    _write_json(path.with_suffix(".json"), manifest)
    load_model(path)  # it reads back
    print(f"wrote {path} and {path.with_suffix('.json').name} ({trained.steps} steps, "
          f"{trained.images_seen} crops, {trained.seconds:.1f} s, {trained.stop_reason})")
    return 130 if trained.stop_reason == "interrupted" else 0


def _time_limit(minutes: float | None):
    """A train callback that stops the run after ``minutes`` (None: no limit)."""
    if minutes is None:
        return None
    if not minutes > 0:
        raise UsageError(f"--minutes must be greater than 0, got {minutes:g}")
    deadline = time.monotonic() + 60 * minutes
    return lambda step, losses: time.monotonic() > deadline


def _torch_version() -> str:
    import torch

    return torch.__version__


def main(argv=None) -> int:
    from .feedforward import ModelFileError

    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return run_train(args) if args.command == "train" else run(args)
    except (UsageError, ImageError, WeightsError, ModelFileError, MemoryError, ValueError) as e:
        print(f"nst_teach: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nst_teach: interrupted before the run started; nothing written", file=sys.stderr)
        return 130
