"""Every option of ``stylize`` and ``train`` in one place: default, limits, help text and flag.

Taught in notebooks 07 and 11. ``LossOptions`` holds the options of the loss that ``stylize``
(``Settings``, notebook 07) and the real-time network's ``train`` (``TrainSettings``, notebook 11)
share: both build on it, so a loss option is written once. ``stylize`` validates its keyword
arguments by building a ``Settings``, the run's manifest is ``Settings.manifest()``, and the command
line's flags are made from the fields (``nst_teach.cli``). Adding an option is one field plus its
use: in ``LossOptions`` it reaches ``stylize``, ``train`` and both commands at once.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

import torch

from .optimize import ADAM_LR
from .precision import PRECISIONS
from .vgg import WEIGHTS, check_layers

CONTENT_LAYERS = ("relu4_2",)
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
OPTIMIZERS = ("lbfgs", "adam")
INITS = ("content", "noise", "style")
PRESERVE_COLOR = (None, "luminance", "histogram")
POOLING = ("max", "avg")


def _caffe_only(settings) -> bool:
    """on for the caffe weights"""
    return settings.weights == "caffe"


# The defaults that differ between the everyday settings and the paper's method (Gatys et al.
# 2015), written once: options left at None take their mode's value (a function of the settings
# is called), and the help texts' "default:" are made from this table. Both use the normalised
# network; its factors for the caffe weights ship with the package, other weights are calibrated
# on first use, so the everyday default leaves them as they are.
MODE_DEFAULTS = {  # option: (everyday, with paper=True)
    "alpha": (1.0, 1e-3),
    "beta": (10.0, 1.0),
    "init": ("content", "noise"),
    "pooling": ("max", "avg"),
    "normalize": (_caffe_only, True),
}


def option(default, help: str, *, flag: str | None = "auto", kind: str = "", choices=(), **extra):
    """A settings field: ``help`` is shown by ``--help``; ``kind`` says how it is checked, parsed.

    kind: "weight" (a finite number >= ``minimum``, default 0), "rate" (a finite number > 0),
    "count" (a whole number >= ``minimum``, default 1), "int", "flag" (True or False), "layers"
    (comma separated), "weights" (several numbers), "str"; ``tensor=True`` also accepts an image
    tensor; ``flag=None`` keeps an option off the command line.
    """
    meta = dict(help=help, flag=flag, kind=kind, choices=tuple(choices), **extra)
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)


def default_text(f) -> str | None:
    """What ``--help`` says after "default:" for a field: its mode defaults, or its default."""
    if f.name in MODE_DEFAULTS:
        everyday, paper = (_shown(v) for v in MODE_DEFAULTS[f.name])
        return f"{everyday}; with paper, {paper}"
    return None if f.default is None else _shown(f.default)


def _shown(value) -> str:
    if callable(value):
        return value.__doc__
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def whole_number(name: str, value, minimum: int) -> int:
    """``value`` as an int, or a ValueError: it must be a whole number >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or int(value) != value \
            or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def _number(name: str, value, minimum: float = 0.0, above: bool = False) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if above and math.isfinite(value) and value <= minimum:
        raise ValueError(f"{name} must be greater than {minimum:g}, got {value!r}")
    if not math.isfinite(value) or value < minimum:
        raise ValueError(f"{name} must be a finite number >= {minimum:g}, got {value!r}")
    return value


def _choice(name: str, value, choices, tensor: bool) -> object:
    if value not in choices:
        names = ", ".join(repr(c) for c in choices) + (" or an image tensor" if tensor else "")
        raise ValueError(f"unknown {name} {value!r}: choose one of {names}")
    return value


@dataclass(frozen=True)
class LossOptions:
    """The options of the loss, shared by ``Settings`` (stylize) and ``TrainSettings`` (train).

    ``loss_terms.LossTerms`` reads them: alpha * L_content + beta * L_style + tv_weight * L_tv
    on the VGG19 that weights, pooling and normalize make, run in ``precision``. Checked when made
    (a ValueError says what is wrong); options left at None take their mode's default
    (MODE_DEFAULTS).
    """

    alpha: float = option(None, "content weight α", kind="weight")
    beta: float = option(None, "style weight β (with paper, α/β is the paper's ratio)",
                         kind="weight")
    tv_weight: float = option(0.0, "total-variation weight, smooths noise", kind="weight")
    content_layers: tuple[str, ...] = option(CONTENT_LAYERS, "paper layer names for the content "
                                             "loss", kind="layers")
    style_layers: tuple[str, ...] = option(STYLE_LAYERS, "paper layer names for the style loss",
                                           kind="layers")
    style_layer_weights: object = option(None, "per-layer style weights (a mapping or a "
                                         "sequence; default equal)", flag=None)
    seed: int = option(0, "random seed (stylize: the noise start; train: the network's start "
                       "and the crops)", kind="int")
    device: object = option(None, "cuda, mps or cpu (default: the best present)", kind="str")
    weights: str = option("caffe", "VGG19 weights: caffe = original, bundled, offline; "
                          "torchvision = downloaded once; random = seeded", choices=WEIGHTS)
    pooling: str = option(None, "VGG19 pooling layers", choices=POOLING)
    normalize: bool = option(None, "the network normalised as in the paper, each filter's mean "
                             "activation 1", kind="flag", flag=None)
    paper: bool = option(False, "the paper's method as printed: normalised network, average "
                         "pooling, white-noise start, 1/2 sum content loss on relu4_2, E_l style "
                         "loss on relu1_1 ... relu5_1 with w_l = 1/5; alpha/beta is the paper's "
                         "ratio", kind="flag")
    precision: str = option("auto", "arithmetic of the network: auto = bf16 where the chip "
                            "multiplies bfloat16 natively (CPU with AMX/AVX512-BF16, CUDA compute "
                            "capability >= 8.0), else fp32", choices=PRECISIONS)

    def __post_init__(self):
        for f in fields(self):
            object.__setattr__(self, f.name, _check(f, getattr(self, f.name)))
        names = {f.name for f in fields(self)}
        for name, modes in MODE_DEFAULTS.items():  # options left at None: the mode's default
            value = modes[self.paper]
            if name in names and getattr(self, name) is None:
                object.__setattr__(self, name, value(self) if callable(value) else value)
        if self.alpha == self.beta == self.tv_weight == 0:
            raise ValueError("nothing to optimise: alpha, beta and tv_weight are all 0; give at "
                             "least one a positive weight")
        from .losses import layer_weights

        layer_weights(self.style_layers, self.style_layer_weights)  # a wrong count or name

    @classmethod
    def from_options(cls, options: Mapping, caller: str = "stylize"):
        """cls(**options), with a TypeError that suggests the nearest name for a misspelt option."""
        names = [f.name for f in fields(cls)]
        for key in options:
            if key not in names:
                near = difflib.get_close_matches(key, names, n=1)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                raise TypeError(f"{caller}() got an unknown option {key!r}{hint}")
        return cls(**options)

    def replace(self, **changes):
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


@dataclass(frozen=True)
class Settings(LossOptions):
    """The options of one style-transfer run: the loss's (LossOptions) and the optimisation's."""

    style_weights: object = option(None, "one blend weight per style image (default: equal)",
                                   kind="weights", metavar="W")
    size: int | None = option(None, "longest side of the result in pixels (default: the "
                              "device's preset)", kind="count")
    style_scale: float = option(1.0, "style image size relative to size", kind="weight",
                                minimum=1e-3)
    max_evals: int | None = option(None, "function evaluations, each a forward and backward pass "
                                   "(default: the device's preset)", kind="count")
    optimizer: str = option("lbfgs", "optimiser", choices=OPTIMIZERS)
    lr: float | None = option(None, f"Adam learning rate in pixel units of [0, 1] (default: "
                              f"{ADAM_LR:g})", kind="rate")
    init: object = option(None, "starting image: content, noise, style, or in Python an image "
                          "tensor", choices=INITS, tensor=True)
    preserve_color: str | None = option(None, "keep the content's colours: transfer luminance "
                                        "only, or recolour the style first",
                                        choices=PRESERVE_COLOR[1:])
    levels: int = option(1, "coarse-to-fine: run at size/2^(levels-1) first, then refine up to "
                         "size", kind="count")
    lbfgs_history: int = option(20, "pairs the L-BFGS optimiser remembers", kind="count")


def _check(f, value):
    """One field's value, checked and normalised by the kind, choices and limits in its metadata."""
    meta, name = f.metadata, f.name
    kind, choices = meta["kind"], meta["choices"]
    if value is None and f.default is None:
        return None  # a mode's default (MODE_DEFAULTS), or "the device's preset" (size, ...)
    if meta.get("tensor") and isinstance(value, torch.Tensor):
        return value
    if choices:
        return _choice(name, value, choices, meta.get("tensor", False))
    if kind in ("weight", "rate"):
        return _number(name, value, meta.get("minimum", 0.0), above=kind == "rate")
    if kind == "count":
        return whole_number(name, value, meta.get("minimum", 1))
    if kind == "int":
        return whole_number(name, value, -(2**63))
    if kind == "flag":
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be True or False, got {value!r}")
        return value
    if kind == "layers":
        return tuple(check_layers(value))
    if kind == "weights":
        weights = [_number("style weight", w) for w in value]
        if not weights or sum(weights) <= 0:
            raise ValueError(f"style weights must not all be zero, got {weights}")
        return tuple(weights)
    return value
