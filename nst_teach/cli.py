"""Command line: ``python -m nst_teach stylize --content PATH --style PATH --out PATH``.

Bad input gives a one-line error and exit code 2; Ctrl-C writes the best image so far and exits 130.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import fields
from pathlib import Path

from .images import ImageError, load_image
from .presets import pick_device
from .settings import Settings
from .transfer import stylize
from .vgg import WeightsError, check_layers


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


def add_settings_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per Settings field (``--tv-weight`` for ``tv_weight``), its help and parser from the field."""
    for f in fields(Settings):
        meta = f.metadata
        if meta["flag"] is None:
            continue
        kw = dict(dest=f.name, default=None, help=meta["help"] + (f" (default: {_shown(f.default)})" if f.default is not None else ""))
        if meta["choices"]:
            kw["choices"] = meta["choices"]
        else:
            kw["type"] = _PARSERS[meta["kind"]]
        if meta["kind"] == "weights":
            kw.update(nargs="+", metavar=meta.get("metavar", "W"))
        parser.add_argument("--" + f.name.replace("_", "-"), **kw)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nst_teach", description="Neural style transfer (Gatys et al. 2015) with the original VGG19, offline.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("stylize", help="paint a content image in the style of one or more style images",
                       description="Paint a content image in the style of one or more style images. "
                       "With no images given it uses the bundled ones. Writes the image and a JSON manifest beside it.")
    p.add_argument("--content", type=Path, help="content image (default: the bundled photograph)")
    p.add_argument("--style", type=Path, action="append", help="style image; repeat to blend several (default: a bundled painting)")
    p.add_argument("--out", type=Path, default=Path("out/stylized.png"), help="output image, .png or .jpg; the manifest goes beside it as .json (default: out/stylized.png)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_settings_flags(p)
    return parser


def _check_output(out: Path, inputs: list[Path]) -> None:
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise UsageError(f"--out {out}: use a .png or .jpg file name")
    resolved = out.resolve()
    for source in inputs:
        if source.resolve() == resolved:
            raise UsageError(f"--out {out} is also an input image: choose another output name so the input is not overwritten")
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory: give a file name such as {out / 'result.png'}")
    folder = out.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create the output folder {folder}: {e.strerror}") from None
    # Refuse an unwritable output now, not after minutes of work.
    if not os.access(folder, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise UsageError(f"cannot write {out}: no permission; choose another --out")


def run(args: argparse.Namespace) -> int:
    from . import data

    content = args.content or data.content_path()
    styles = args.style or [data.style_path()]
    if args.style_weights is not None and len(args.style_weights) != len(styles):
        raise UsageError(f"--style-weights has {len(args.style_weights)} values for {len(styles)} --style images: give one per style")
    if args.style_weights is not None and sum(args.style_weights) <= 0:
        raise UsageError("--style-weights must not all be zero")
    if args.style_scale is not None and args.style_scale <= 0:
        raise UsageError("--style-scale must be greater than 0")
    _check_output(args.out, [content, *styles])
    try:
        device = pick_device(args.device)
    except (ValueError, RuntimeError) as e:
        raise UsageError(str(e)) from None
    options = {f.name: getattr(args, f.name) for f in fields(Settings) if getattr(args, f.name, None) is not None}
    options["device"] = device
    Settings(**options)  # every option checked now: a ValueError is a one-line error before any work
    # Load every image up front so a broken file fails in a second, not after the run.
    images = [load_image(p) for p in [content, *styles]]
    result = stylize(images[0], images[1:], progress=not args.quiet, **options)
    result.settings["content"] = {"path": str(content), "sha256": data.sha256(content)}
    result.settings["style"] = [{"path": str(s), "sha256": data.sha256(s)} for s in styles]
    path = result.save(args.out)
    print(f"wrote {path} and {path.with_suffix('.json').name} ({result.evals} evaluations, {result.seconds:.1f} s, {result.stop_reason})")
    return 130 if result.stop_reason == "interrupted" else 0


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (UsageError, ImageError, WeightsError, MemoryError, ValueError) as e:
        print(f"nst_teach: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nst_teach: interrupted before the run started; nothing written", file=sys.stderr)
        return 130
