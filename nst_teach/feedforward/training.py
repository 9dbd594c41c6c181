"""Training the real-time network: its options, the loop, and what a run hands back.

Taught in notebook 11. ``train`` minimises stylize's own loss (``loss_terms.LossTerms``: the same
VGG19, layers, alpha, beta and normalisation) over random crops of photographs (``crops``), by
Adam steps on the network's weights. ``TrainSettings`` builds on ``settings.LossOptions``, the
loss options stylize's ``Settings`` has too, so both take them alike. The loop stops by the rules
of stylize's (``optimize.guarded_loop``): the callback, Ctrl-C (the network so far is kept), out
of memory, a non-finite loss. With ``precision`` bf16 or fp16 the transform network and VGG19 run
in that precision; features and losses are float32 and so are the weights Adam updates.
"""

from __future__ import annotations

import inspect
import math
import os
import platform
import time
from dataclasses import dataclass, fields
from pathlib import Path

import torch

from .. import __version__
from ..images import load_image, resize_longest
from ..loss_terms import LossTerms
from ..losses import layer_weights, style_targets
from ..optimize import LOSS_NAMES, Run, StopRun, guarded_loop, show_progress
from ..precision import autocast, cpu_model, native_bf16, resolve
from ..presets import fast_mode, pick_device
from ..settings import LossOptions, option
from ..vgg import load_vgg19, min_side
from .crops import HELD_OUT, JITTER, MAX_SCALE, CropSampler, describe_image, photo_sources
from .models import save_model, stylize_with
from .network import CHANNELS, MIN_SIDE, RES_BLOCKS, TransformNet, check_architecture
from .quality import grid_penalty

# (size, max_steps, batch_size) per device type; the style image is size on its longest side, as
# stylize sizes it for a photo of that size (style_scale 1), so that the network learns the Gram
# matrices stylize's losses and feedforward.judge measure it against. CPU: the shipped
# networks' recipe, 4 crops of 256 px per step (the size the network is applied at); each step is
# a VGG19 forward and backward to relu5_1 per crop, a forward to relu4_2 for the content targets,
# and the network's forward and backward: 1.2 s in bfloat16 on a 2-core AMD EPYC with the default
# 16/32/64 channels (1.7 s with Johnson et al.'s 32/64/128 and 5 blocks), so about 20 min.
PRESETS = {"cuda": (256, 4000, 4), "mps": (256, 2000, 4), "cpu": (256, 1000, 4), "fast": (32, 8, 1)}
LR_SCHEDULES = ("cosine", "constant")
# The grid penalty's weight: after 150 trial steps it cut the period-2 grid 5-14x and the period-4
# one 2-3x at the same style and content losses (benchmarks/README.md); the penalty of a photo,
# about 1e-6, then costs 0.1 of a total loss of about 14.
GRID_WEIGHT = 1e5


@dataclass(frozen=True)
class TrainSettings(LossOptions):
    """The options of one training run, checked when made (a ValueError says what is wrong).

    The loss options and their defaults are stylize's (``LossOptions``), so that the network
    learns what stylize optimises; the rest are the training's own.
    """

    size: int | None = option(None, "side of the square training crops in pixels (default: the "
                              "device's preset)", kind="count")
    style_size: int | None = option(None, "longest side of the style image in pixels (default: "
                                    "size, as stylize sizes it for a photo of that size)",
                                    kind="count")
    max_steps: int | None = option(None, "training steps, each one Adam step on a batch "
                                   "(default: the device's preset)", kind="count",
                                   aliases=("--steps",))
    batch_size: int | None = option(None, "crops per step (default: the device's preset)",
                                    kind="count")
    lr: float = option(5e-3, "Adam learning rate (Johnson et al.: 1e-3 over 40,000 steps; "
                       "higher for a short run)", kind="rate")
    lr_schedule: str = option("cosine", "learning rate over the run: cosine (from lr down to 0) "
                              "or constant", choices=LR_SCHEDULES)
    channels: tuple[int, ...] = option(CHANNELS, "the network's channels at full, half and "
                                       "quarter resolution (Johnson et al.: 32 64 128)",
                                       kind="channels", nargs=3, metavar="C")
    res_blocks: int = option(RES_BLOCKS, "residual blocks at quarter resolution (Johnson et "
                             "al.: 5)", kind="count")
    grid_weight: float = option(GRID_WEIGHT, "weight of a penalty on a regular 4-pixel grid in "
                                "the network's output (quality.grid_penalty; 0: none)",
                                kind="weight")
    jitter: float = option(JITTER, "colour jitter of the training crops: brightness, contrast and "
                           "saturation each scaled by a random factor in 1 +- jitter (0: none)",
                           kind="weight")

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "channels",
                           check_architecture(self.channels, self.res_blocks, "nearest"))
        if not self.jitter < 1:
            raise ValueError(f"jitter must be below 1 (a factor 1 - jitter must stay positive), "
                             f"got {self.jitter!r}")
        needed = max(MIN_SIDE, min_side(self.content_layers + self.style_layers))
        for name in ("size", "style_size"):
            if (getattr(self, name) or needed) < needed:
                raise ValueError(f"{name}={getattr(self, name)} px is too small for these "
                                 f"layers: use at least {needed}, or shallower layers")

    def with_presets(self, device: torch.device) -> TrainSettings:
        """A copy with the device and every unset size, budget and batch taken from PRESETS."""
        key = "fast" if fast_mode() else device.type if device.type in PRESETS else "cpu"
        size, max_steps, batch_size = PRESETS[key]
        size = self.size or size
        return self.replace(device=device, size=size, style_size=self.style_size or size,
                            max_steps=self.max_steps or max_steps,
                            batch_size=self.batch_size or batch_size)


@dataclass
class Trained:
    """What ``train`` returns: the network (eval mode), the losses per step, how it was made."""

    net: TransformNet
    history: list[dict[str, float]]
    stop_reason: str
    seconds: float
    settings: dict

    @property
    def steps(self) -> int:
        """Adam steps taken (each: a batch through the network, VGG19 forward and backward)."""
        return len(self.history)

    @property
    def images_seen(self) -> int:
        """Training crops used: steps * batch_size, each one VGG19 forward and backward pass."""
        return self.steps * self.settings["batch_size"]

    def __call__(self, image, size: int | None = None, precision: str = "auto") -> torch.Tensor:
        """Paint one image with the trained network: see ``stylize_with``."""
        return stylize_with(self.net, image, size, precision)

    def manifest(self) -> dict:
        """Everything needed to reproduce and judge the training, as plain JSON-able values."""
        final = next((h for h in reversed(self.history) if math.isfinite(h["total"])), {})
        return {"nst_teach_version": __version__,
                "method": "feed-forward network (Johnson et al. 2016)",
                "architecture": self.net.architecture(), "parameters": self.net.parameter_count(),
                "settings": self.settings, "steps": self.steps, "images_seen": self.images_seen,
                "stop_reason": self.stop_reason, "final_losses": final,
                "seconds": round(self.seconds, 3), "torch": torch.__version__,
                "threads": torch.get_num_threads(), "python": platform.python_version(),
                "machine": {"cpu": cpu_model(), "cpus": os.cpu_count(),
                            "native_bf16": native_bf16("cpu")}}

    def save(self, path, half: bool = False) -> Path:
        """Write the network, its architecture and this manifest to ``path`` (see save_model;
        half: the weights in float16)."""
        return save_model(self.net, path, self.manifest(), half=half)


def train(style, content_images=None, *, net: TransformNet | None = None, model=None,
          callback=None, progress: bool = True, **options) -> Trained:
    """Train a TransformNet to paint like ``style``: minimise stylize's loss, alpha * L_content +
    beta * L_style + tv_weight * L_tv (+ grid_weight * a grid penalty), over random crops of
    photographs.

    style: anything load_image takes. content_images: photographs (names, paths or tensors;
    default: ``training_photos()``), cut into random crops. options: the fields of TrainSettings
    (size, max_steps, batch_size, alpha, beta, lr, seed, precision, ...). net: a network to train
    further (default: a new one, seeded). model: the VGG19 for the losses (default: load_vgg19
    with the settings' weights, pooling and normalize). callback(step, losses) after every step;
    return True to stop. Ctrl-C stops too, keeping the network trained so far. Deterministic on
    the CPU for a seed, a thread count and a precision.
    """
    started = time.perf_counter()
    settings = TrainSettings.from_options(options, caller="train")
    settings = settings.with_presets(pick_device(settings.device if model is None
                                                 else model.device))
    if model is None:
        model = load_vgg19(settings.weights, device=settings.device, pooling=settings.pooling,
                           normalize=settings.normalize)
    sources = photo_sources(content_images)
    photos = [load_image(s, max_size=max(1024, 2 * settings.size)) for s in sources]
    with torch.no_grad():  # the style's Gram matrices, once, in float32
        style_image = resize_longest(load_image(style), settings.style_size)
        A = style_targets(model.extract(style_image.to(settings.device), settings.style_layers))
    net = new_net(settings) if net is None else net
    sampler = CropSampler(photos, settings.size, settings.seed, settings.jitter)
    bar = _progress_bar(settings.max_steps) if progress else None
    history, stop_reason = fit(net.to(settings.device).train(), model, sampler, A, settings,
                               callback, bar)
    net.eval()
    record = {**settings.manifest(), "weights": model.weights, "pooling": model.pooling,
              "normalize": model.normalized, "weights_sha256": model.weights_sha256,
              "precision_used": resolve(settings.precision, settings.device),
              "style_layer_weights": layer_weights(settings.style_layers,
                                                   settings.style_layer_weights),
              "style": describe_image(style),
              "training_photos": [describe_image(s) for s in sources],
              "held_out": list(HELD_OUT) if content_images is None else [],
              "crops": {"max_scale": MAX_SCALE, "flip": "left-right, p = 0.5",
                        "colour_jitter": settings.jitter}}
    trained = Trained(net, history, stop_reason, time.perf_counter() - started, record)
    net.manifest = trained.manifest()
    return trained


def loss_terms(model, output: torch.Tensor, P: dict, A: dict, settings) -> torch.Tensor:
    """(content, style, tv, total) of a batch of outputs (B, 3, H, W): stylize's own LossTerms.

    P = {layer: (B, C, h, w)}, the crops' content features; A = {layer: (1, C, C)}, the style's
    Gram matrices. Content and style are means over the batch too; a term of weight 0 reads NaN.
    VGG19 runs in settings.precision; its features and the losses are float32.
    """
    return LossTerms(model, P, A, settings)(output)


def new_net(settings: TrainSettings) -> TransformNet:
    """A fresh TransformNet whose start depends on settings.seed only (global RNG left alone)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        return TransformNet(settings.channels, settings.res_blocks)


def learning_rate(settings: TrainSettings, step: int) -> float:
    """The learning rate of step 1 ... max_steps: cosine from lr down towards 0, or constant."""
    if settings.lr_schedule == "constant":
        return settings.lr
    return settings.lr * 0.5 * (1 + math.cos(math.pi * (step - 1) / settings.max_steps))


def fit(net: TransformNet, model, sampler: CropSampler, A: dict, settings: TrainSettings,
        callback=None, bar=None) -> tuple[list[dict[str, float]], str]:
    """The training loop: max_steps Adam steps on sampled batches -> (history, stop_reason).

    Each step: a batch of crops (B, 3, size, size), their content features P (no gradient), the
    network's output through loss_terms, backward, Adam. A step whose loss is NaN or inf is not
    applied and ends the run, as do the callback returning True, Ctrl-C and running out of memory
    (``optimize.guarded_loop``, the rules of stylize's loop).
    """
    optimizer = torch.optim.Adam(net.parameters(), lr=settings.lr)
    precision = resolve(settings.precision, settings.device)
    run = Run()
    advice = f"out of memory on {settings.device}: try a smaller size or batch_size"
    with guarded_loop(run, bar, advice, "step"):
        for step in range(1, settings.max_steps + 1):
            values = train_step(net, model, sampler, A, settings, optimizer, step, precision)
            if values is None:
                raise StopRun(f"non-finite loss at step {step}; the network before it is kept")
            run.history.append(values)
            show_progress(bar, values)
            if callback is not None and callback(step, values):
                raise StopRun("stopped by callback")
    return run.history, run.stop_reason


def train_step(net, model, sampler, A, settings, optimizer, step: int,
               precision: str = "fp32") -> dict[str, float] | None:
    """One training step; its losses, or None (and no update) when the loss is not finite.

    precision (resolved: fp32, bf16, fp16): the arithmetic of the transform network and of the
    crops' content features; LossTerms runs VGG19 in settings.precision.
    """
    batch = sampler(settings.batch_size).to(settings.device)
    with autocast(precision, batch.device):
        with torch.no_grad():  # the crops' own features are the content targets
            P = model.extract(batch, settings.content_layers) if settings.alpha > 0 else {}
        output = net(batch)
    P = {name: f.float() for name, f in P.items()}
    losses = loss_terms(model, output.float(), P, A, settings)
    total = losses[3]
    if settings.grid_weight:  # the network's own artefact, penalised where it is made
        grid = grid_penalty(output.float())
        total = total + settings.grid_weight * grid
    values = dict(zip(LOSS_NAMES, [*losses[:3].detach().tolist(), total.item()], strict=True))
    if settings.grid_weight:
        values["grid"] = grid.item()
    if not math.isfinite(values["total"]):
        return None
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(settings, step)
    optimizer.zero_grad(set_to_none=True)
    total.backward()
    optimizer.step()
    return values


def _progress_bar(total: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="train", unit="step", leave=True)


def _signature() -> inspect.Signature:
    """train's signature as users see it: style, content_images, TrainSettings' fields, the rest."""
    keyword, positional = inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [inspect.Parameter("style", positional),
              inspect.Parameter("content_images", positional, default=None)]
    params += [inspect.Parameter(f.name, keyword, default=f.default) for f in fields(TrainSettings)]
    params += [inspect.Parameter(n, keyword, default=d)
               for n, d in (("net", None), ("model", None), ("callback", None), ("progress", True))]
    return inspect.Signature(params, return_annotation=Trained)


train.__signature__ = _signature()
