"""Every option of ``stylize`` in one place: its default, its check, its help text and its flag.

Taught in notebook 07. ``Settings`` is the single list of options: ``stylize`` validates its keyword
arguments by building one, the run's manifest is ``Settings.manifest()``, and the command line's
flags are made from its fields (``nst_teach.cli``). Adding an option is one field here plus its use.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

import torch

from .vgg import WEIGHTS, check_layers

CONTENT_LAYERS = ("relu4_2",)
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
OPTIMIZERS = ("lbfgs", "adam")
INITS = ("content", "noise", "style")
PRESERVE_COLOR = (None, "luminance", "histogram")
POOLING = ("max", "avg")


def option(default, help: str, *, flag: str | None = "auto", kind: str = "", choices=(), **extra):
    """A Settings field: ``help`` is shown by ``--help``; ``kind`` says how the command line parses it.

    kind: "weight" (a finite number >= 0), "count" (a whole number >= 1), "int", "layers" (comma
    separated), "weights" (several numbers), "str"; ``flag=None`` keeps an option off the command line.
    """
    meta = dict(help=help, flag=flag, kind=kind, choices=tuple(choices), **extra)
    factory = (lambda: default) if isinstance(default, (list, dict)) else None
    return field(default_factory=factory, metadata=meta) if factory else field(default=default, metadata=meta)


def _number(name: str, value, minimum: float = 0.0) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(value) or value < minimum:
        raise ValueError(f"{name} must be a finite number >= {minimum:g}, got {value!r}")
    return value


def _whole(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def _choice(name: str, value, choices) -> object:
    if value not in choices:
        names = ", ".join(repr(c) for c in choices) + (" or an image tensor" if name == "init" else "")
        raise ValueError(f"unknown {name} {value!r}: choose one of {names}")
    return value


@dataclass(frozen=True)
class Settings:
    """The options of one style-transfer run, checked when made (a ValueError says what is wrong)."""

    alpha: float = option(None, "content weight α (default: 1; with paper, 1e-3)", kind="weight")
    beta: float = option(None, "style weight β (default: 10; with paper, 1, so that α/β is the paper's ratio)", kind="weight")
    tv_weight: float = option(0.0, "total-variation weight, smooths noise", kind="weight")
    content_layers: tuple[str, ...] = option(CONTENT_LAYERS, "paper layer names for the content loss", kind="layers")
    style_layers: tuple[str, ...] = option(STYLE_LAYERS, "paper layer names for the style loss", kind="layers")
    style_layer_weights: object = option(None, "per-layer style weights (a mapping or a sequence; default equal)", flag=None)
    style_weights: object = option(None, "one blend weight per style image (default: equal)", kind="weights", metavar="W")
    size: int | None = option(None, "longest side of the result in pixels (default: the device's preset)", kind="count")
    style_scale: float = option(1.0, "style image size relative to size", kind="weight")
    max_evals: int | None = option(None, "function evaluations, each a forward and backward pass (default: the device's preset)", kind="count")
    optimizer: str = option("lbfgs", "optimiser", choices=OPTIMIZERS)
    lr: float | None = option(None, "Adam learning rate in pixel units of [0, 1] (default: 0.02)", kind="weight")
    init: object = option(None, "starting image: content, noise, style, or in Python an image tensor (default: content; with paper, noise)", choices=INITS)
    preserve_color: str | None = option(None, "keep the content's colours: transfer luminance only, or recolour the style first", choices=PRESERVE_COLOR[1:])
    levels: int = option(1, "coarse-to-fine: run at size/2^(levels-1) first, then refine up to size", kind="count")
    seed: int = option(0, "random seed for the noise start", kind="int")
    device: object = option(None, "cuda, mps or cpu (default: the best present)", kind="str")
    weights: str = option("caffe", "VGG19 weights: caffe = original, bundled, offline; torchvision = downloaded once; random = seeded", choices=WEIGHTS)
    pooling: str = option(None, "pooling layers (default: max; with paper, avg)", choices=POOLING)
    normalize: bool = option(None, "the network normalised as in the paper, each filter's mean activation 1 (default: on for the caffe weights)", flag=None)
    paper: bool = option(False, "the paper's method as printed: normalised network, average pooling, white-noise start, "
                         "1/2 sum content loss on relu4_2, E_l style loss on relu1_1 ... relu5_1 with w_l = 1/5; "
                         "alpha/beta is the paper's ratio", kind="flag")
    lbfgs_history: int = option(20, "pairs the L-BFGS optimiser remembers", kind="count")
    cuda_graphs: bool = option(False, "on CUDA, record one evaluation as a CUDA graph and replay it", flag=None)

    def __post_init__(self):
        for f in fields(self):
            checked = _check(f, getattr(self, f.name))
            object.__setattr__(self, f.name, checked)
        for name, value in _mode_defaults(self.paper, self.weights).items():  # options left at None: the mode's default
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        if self.alpha == self.beta == self.tv_weight == 0:
            raise ValueError("nothing to optimise: alpha, beta and tv_weight are all 0; give at least one a positive weight")
        from .losses import layer_weights

        layer_weights(self.style_layers, self.style_layer_weights)  # raises for a wrong count or name

    @classmethod
    def from_options(cls, options: Mapping, caller: str = "stylize") -> Settings:
        """Settings(**options), with a TypeError that suggests the nearest name for a misspelt option."""
        names = [f.name for f in fields(cls)]
        for key in options:
            if key not in names:
                near = difflib.get_close_matches(key, names, n=1)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                raise TypeError(f"{caller}() got an unknown option {key!r}{hint}")
        return cls(**options)

    def replace(self, **changes) -> Settings:
        """A copy with some options changed (and checked again)."""
        return dataclasses.replace(self, **changes)

    def manifest(self) -> dict:
        """The options as plain JSON-able values (an image tensor start is recorded as "image")."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, torch.Tensor):
                value = "image"
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, torch.device):
                value = str(value)
            out[f.name] = value
        return out


def _mode_defaults(paper: bool, weights: str) -> dict:
    """The defaults that differ between the everyday settings and the paper's method (Gatys et al. 2015).

    Both use the normalised network (its factors for the caffe weights ship with the package; other
    weights are calibrated on first use, so the everyday default leaves them as they are).
    """
    if paper:
        return dict(alpha=1e-3, beta=1.0, init="noise", pooling="avg", normalize=True)
    return dict(alpha=1.0, beta=10.0, init="content", pooling="max", normalize=weights == "caffe")


def _check(f, value):
    """One field's value, checked and normalised by the kind and choices in its metadata."""
    kind, choices, name = f.metadata["kind"], f.metadata["choices"], f.name
    if value is None and f.default is None:
        return None  # resolved by _mode_defaults, or meaning "the device's preset" (size, max_evals)
    if name == "init" and isinstance(value, torch.Tensor):
        return value
    if choices:
        return _choice(name, value, choices)
    if kind == "weight":
        return _number(name, value, 1e-3 if name == "style_scale" else 0.0)
    if kind == "count":
        if name in ("size", "max_evals") and (isinstance(value, bool) or int(value) != value or value < 1):
            raise ValueError(f"size and max_evals must be positive, got {name}={value!r}")
        return _whole(name, value, 1)
    if kind == "flag" or name == "normalize":
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be True or False, got {value!r}")
        return value
    if kind == "int":
        return _whole(name, value, -(2**63))
    if kind == "layers":
        return tuple(check_layers(value))
    if kind == "weights":
        weights = [_number("style weight", w) for w in value]
        if not weights or sum(weights) <= 0:
            raise ValueError(f"style weights must not all be zero, got {weights}")
        return tuple(weights)
    return value
