"""Real-time style transfer: a network trained once per style paints any photo in one pass.

Taught in notebook 11. Gatys et al. optimise every image anew (hundreds of VGG19 passes each);
Johnson, Alahi & Fei-Fei (2016, "Perceptual Losses for Real-Time Style Transfer") train a
feed-forward ``TransformNet`` instead, on random crops of photographs, with the losses of
``stylize`` (``transfer.LossTerms``: the same VGG19, layers, alpha, beta and normalisation);
Ulyanov, Vedaldi & Lempitsky (2016) showed that instance normalisation (each image and channel
on its own) makes it work far better.

Johnson et al.'s shape, shrunk to train on a 2-core CPU in minutes and to apply in tens of ms:
channels 16/32/64 instead of 32/64/128 and 3 residual blocks instead of 5 (about 1/6 of the
parameters, 1/5 of the multiply-adds: 1.9 G for a 256 x 256 photo); the last convolution is 3x3,
not 9x9 (with 3 output channels, a 9x9 one at full resolution took a fifth of the CPU time);
upsampling is nearest-neighbour then a convolution, not a transposed convolution, so no
checkerboard (Odena et al. 2016). 273,219 parameters, 1.1 MB as float32.
Training photos are offline and bundled: scikit-image's four CC0/public-domain photographs
(``data.PHOTO_IMAGES``); the paper's Tübingen, the drawn landscape and Grace Hopper's portrait
are kept out, to test on images the network has never seen. ``pretrained("starry_night")`` is a network
made by scripts/train_model.py and shipped in nst_teach/models/.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
import math
import platform
import time
from dataclasses import dataclass, fields
from pathlib import Path

import torch
import torch.nn.functional as nnf
from torch import nn

from . import __version__, data
from .images import load_image
from .losses import layer_weights, style_targets
from .optimize import LOSS_NAMES
from .presets import fast_mode, pick_device
from .settings import CONTENT_LAYERS, POOLING, STYLE_LAYERS, Settings, _check, _whole, option
from .transfer import LossTerms, _resize_longest
from .vgg import WEIGHTS, _first_line, load_vgg19, min_side

__all__ = ["ModelFileError", "TrainSettings", "Trained", "TransformNet", "judge", "layer_table",
           "load_model", "pretrained", "save_model", "stylize_with", "train", "training_photos",
           "with_batch_norm"]

CHANNELS = (16, 32, 64)  # Johnson et al.: 32, 64, 128
RES_BLOCKS = 3  # Johnson et al.: 5
UPSAMPLING = ("nearest", "transposed")  # "transposed" only to show the checkerboard it makes
MIN_SIDE = 8  # the 9x9 reflection padding needs 5 px at full and 2 px at quarter resolution

# The default training photographs, all bundled (data/README.md): scikit-image's four. The other
# bundled content images are never trained on by default, so that notebook 11 and
# benchmarks/feedforward_bench.py judge the network on three images it has not seen.
TRAINING_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")
HELD_OUT = ("tubingen", "landscape", "grace_hopper")
MAX_SCALE = 2.0  # a crop covers 1/MAX_SCALE to all of a photo's shorter side

# (size, max_steps, batch_size) per device type; the style image is 2 * size on its longest side,
# the size of photo the network is made for (stylize's CPU preset: 256 px). CPU: crops of 128 px,
# one per step: instance norm needs no batch statistics, and a short run gains more from steps
# than from larger batches; each step is about 25 GMAC (VGG19 forward and backward to relu5_1,
# forward to relu4_2 for the content target, the network forward and backward).
PRESETS = {"cuda": (256, 4000, 4), "mps": (256, 2000, 4), "cpu": (128, 1200, 1), "fast": (32, 8, 1)}
LR_SCHEDULES = ("cosine", "constant")
MODELS_DIR = Path(__file__).resolve().parent / "models"  # networks made by scripts/train_model.py
FILE_FORMAT = "nst_teach feed-forward style network"
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A model file that cannot be loaded; the one-line message says what to do."""


# ------------------------------------------------------------------ the transformation network


def conv(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Conv2d:
    """A convolution with reflection padding: borders continue the image instead of going black."""
    return nn.Conv2d(c_in, c_out, kernel, stride, padding=kernel // 2, padding_mode="reflect")


def conv_block(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Sequential:
    """Convolution, instance norm (affine), ReLU: (B, c_in, H, W) -> (B, c_out, H/s, W/s)."""
    return nn.Sequential(conv(c_in, c_out, kernel, stride), nn.InstanceNorm2d(c_out, affine=True),
                         nn.ReLU())


def up_block(c_in: int, c_out: int, upsampling: str = "nearest") -> nn.Sequential:
    """Twice the resolution: nearest-neighbour then a 3x3 convolution (or a transposed one)."""
    if upsampling == "transposed":  # uneven overlap of the strided kernel: a checkerboard
        layers = [nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)]
    else:
        layers = [nn.Upsample(scale_factor=2, mode="nearest"), conv(c_in, c_out, 3)]
    return nn.Sequential(*layers, nn.InstanceNorm2d(c_out, affine=True), nn.ReLU())


class ResidualBlock(nn.Module):
    """x + IN(conv(ReLU(IN(conv(x))))): (B, C, H, W) -> (B, C, H, W); "change little" is easy."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(conv_block(channels, channels, 3), conv(channels, channels, 3),
                                  nn.InstanceNorm2d(channels, affine=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class TransformNet(nn.Module):
    """Johnson et al.'s image transformation network: (B, 3, H, W) -> (B, 3, H, W), both in [0, 1].

    Two stride-2 convolutions down, residual blocks, two upsampling blocks, a 3x3 convolution and
    a sigmoid. Any H, W >= 8: the image is reflection-padded to a multiple of 4 and cropped back.
    """

    def __init__(self, channels=CHANNELS, res_blocks: int = RES_BLOCKS,
                 upsampling: str = "nearest"):
        super().__init__()
        c1, c2, c3 = _check_architecture(channels, res_blocks, upsampling)
        self.channels, self.res_blocks, self.upsampling = (c1, c2, c3), int(res_blocks), upsampling
        self.down = nn.Sequential(conv_block(3, c1, 9), conv_block(c1, c2, 3, 2),
                                  conv_block(c2, c3, 3, 2))
        self.residual = nn.Sequential(*[ResidualBlock(c3) for _ in range(res_blocks)])
        self.up = nn.Sequential(up_block(c3, c2, upsampling), up_block(c2, c1, upsampling))
        self.out = conv(c1, 3, 3)
        self.manifest: dict = {}  # how it was trained (``train``), kept by save_model, load_model

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        if image.ndim != 4 or image.shape[1] != 3 or min(image.shape[-2:]) < MIN_SIDE:
            raise ValueError(f"TransformNet needs an RGB batch (B, 3, H, W) with H, W >= "
                             f"{MIN_SIDE}, got shape {tuple(image.shape)}: load it with load_image")
        h, w = image.shape[-2:]
        x = nnf.pad(image, (0, -w % 4, 0, -h % 4), mode="reflect")  # two halvings: a multiple of 4
        x = self.out(self.up(self.residual(self.down(x))))
        return torch.sigmoid(x[..., :h, :w])

    def architecture(self) -> dict:
        """The arguments that rebuild this network: channels, res_blocks, upsampling."""
        return {"channels": list(self.channels), "res_blocks": self.res_blocks,
                "upsampling": self.upsampling}

    def parameter_count(self) -> int:
        """Number of trained values (weights, biases, the normalisations' scales and shifts)."""
        return sum(p.numel() for p in self.parameters())


def _check_architecture(channels, res_blocks, upsampling) -> tuple[int, int, int]:
    channels = tuple(channels)
    if len(channels) != 3 or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 1
                                     for c in channels):
        raise ValueError(f"channels must be three whole numbers >= 1, e.g. {CHANNELS}, "
                         f"got {channels!r}")
    if isinstance(res_blocks, bool) or not isinstance(res_blocks, int) or res_blocks < 0:
        raise ValueError(f"res_blocks must be a whole number >= 0, got {res_blocks!r}")
    if upsampling not in UPSAMPLING:
        raise ValueError(f"unknown upsampling {upsampling!r}: choose one of "
                         f"{', '.join(UPSAMPLING)}")
    return channels


def layer_table(net: TransformNet, image: torch.Tensor) -> list[dict]:
    """One row per convolution of ``net`` run on ``image`` (1, 3, H, W): name, kernel, stride,
    output shape (C, H, W), parameters (with the norm after it) and multiply-adds."""
    rows, hooks = [], []

    def record(name, module, _, output):
        c, h, w = output.shape[1:]
        norm = 2 * c  # the instance norm's scale and shift that follow every conv but the last
        rows.append(dict(layer=name, kernel=f"{module.kernel_size[0]}x{module.kernel_size[1]}",
                         stride=module.stride[0], output=(c, h, w),
                         parameters=sum(p.numel() for p in module.parameters()) + norm,
                         macs=module.weight[0].numel() * c * h * w))

    for name, module in net.named_modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            hooks.append(module.register_forward_hook(lambda m, i, o, n=name: record(n, m, i, o)))
    try:
        with torch.no_grad():
            net(image)
    finally:
        for hook in hooks:
            hook.remove()
    rows[-1]["parameters"] -= 2 * rows[-1]["output"][0]  # the output conv has no norm after it
    return rows


def with_batch_norm(net: TransformNet, images: torch.Tensor) -> TransformNet:
    """A copy of ``net`` with batch norm where it has instance norm: the same scales and shifts,
    but each channel normalised by its mean and variance over all of ``images`` (B, 3, H, W), a
    training set, fixed as at test time (eval mode), instead of over the image being painted."""
    twin = copy.deepcopy(net)
    for parent in twin.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.InstanceNorm2d):
                bn = nn.BatchNorm2d(child.num_features, eps=child.eps, momentum=None)
                bn.load_state_dict({"weight": child.weight, "bias": child.bias}, strict=False)
                setattr(parent, name, bn)
    values = {}  # per batch norm: values per channel, n = B * H * W

    def count(module, inputs):
        values[module] = inputs[0].numel() // inputs[0].shape[1]

    norms = [m for m in twin.modules() if isinstance(m, nn.BatchNorm2d)]
    hooks = [bn.register_forward_pre_hook(count) for bn in norms]
    with torch.no_grad():
        twin.train()(images)  # one batch, momentum None: the running statistics are its own
        for bn in norms:  # batch norm keeps the unbiased variance, but normalises by the biased
            bn.running_var.mul_((values[bn] - 1) / values[bn])
    for hook in hooks:
        hook.remove()
    return twin.eval()


# ------------------------------------------------------------------ applying a network


def stylize_with(model, image, size: int | None = None) -> torch.Tensor:
    """Paint ``image`` with a trained network in one pass: -> (1, 3, H, W) in [0, 1] on the CPU.

    model: a TransformNet, a Trained, the path of a saved model or the name of a shipped one
    (``pretrained``); image: anything load_image takes; size: longest side to resize to first.
    """
    net = getattr(model, "net", model)
    if not isinstance(net, nn.Module):
        net = pretrained(net) if _is_model_name(net) else load_model(net)
    image = load_image(image)
    if size is not None:
        image = _resize_longest(image, _whole("size", size, MIN_SIDE))
    device = next(net.parameters()).device
    with torch.inference_mode():
        painted = net(image.to(device))
    return painted.cpu().clone()  # a normal tensor again, usable outside inference mode


def judge(image, photo, style, model=None) -> dict[str, float]:
    """stylize's content and style losses of ``image`` (1, 3, H, W) as a painting of ``photo`` in
    ``style``: its everyday settings at the image's size, targets made as stylize makes them.

    Used in notebook 11 and benchmarks/feedforward_bench.py to put the network and stylize on one
    scale: {"content": L_content, "style": L_style}.
    """
    from .transfer import extract_targets, prepare_images

    image = load_image(image)
    settings = Settings().replace(size=max(image.shape[-2:]), device=torch.device("cpu"))
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
    """A network shipped with the package, by the name of its painting (see scripts/train_model.py
    and its manifest, ``.manifest``)."""
    names = pretrained_names()
    if name not in names:
        raise ValueError(f"no shipped network {name!r}: choose one of {', '.join(names) or 'none'}"
                         ", or train one with `python -m nst_teach train --style PAINTING`")
    return load_model(MODELS_DIR / f"{name}.pt", device=device)


# ------------------------------------------------------------------ training photographs


def training_photos() -> dict[str, Path]:
    """The default training photographs by name: TRAINING_PHOTOS, all bundled."""
    return {name: data.content_path(name) for name in TRAINING_PHOTOS}


def describe_image(source) -> dict:
    """Where an image came from, for a manifest: {"name", "source", "sha256"} (a tensor: its
    bytes' sha256)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        bundled = {p.resolve(): n for n, p in {**data.bundled(), **data.PHOTO_IMAGES}.items()}
        known = path.resolve() in bundled
        where = f"nst_teach data/{path.parent.name}/{path.name}" if known else str(path)
        return {"name": bundled.get(path.resolve(), path.stem), "source": where,
                "sha256": data.sha256(path)}
    image = load_image(source)
    digest = hashlib.sha256(image.numpy().tobytes()).hexdigest()
    return {"name": f"tensor{tuple(image.shape)}", "source": "float32 tensor in [0, 1]",
            "sha256": digest}


def _photo_sources(content_images) -> list:
    """The training images as load_image sources: the default photos, or names, paths, tensors."""
    if content_images is None:
        return list(training_photos().values())
    if isinstance(content_images, (str, Path, torch.Tensor)):
        content_images = [content_images]
    sources = [data.content_path(s) if _is_photo_name(s) else s for s in content_images]
    if not sources:
        raise ValueError("content_images is empty: give at least one photograph, "
                         "or None for the default ones")
    return sources


def _is_photo_name(name) -> bool:
    """A bundled content image's name (not a file of that name in the working folder)."""
    names = {**data.CONTENT_IMAGES, **data.PAPER_CONTENT_IMAGES, **data.PHOTO_IMAGES}
    return isinstance(name, str) and name in names and not Path(name).exists()


class CropSampler:
    """Random training crops of photographs: (B, 3, size, size) in [0, 1], reproducible by seed.

    Each crop: a photo chosen at random (each equally likely), a square covering 1/MAX_SCALE to
    all of its shorter side (a random scale), at a random place, resized to size x size
    (bilinear, antialiased), flipped left-right half the time.
    """

    def __init__(self, photos: list[torch.Tensor], size: int, seed: int):
        self.photos, self.size = photos, size
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, batch_size: int) -> torch.Tensor:
        return torch.cat([self.crop() for _ in range(batch_size)])

    def crop(self) -> torch.Tensor:
        """One random crop: (1, 3, size, size)."""
        pick, scale, top, left, flip = torch.rand(5, generator=self.generator).tolist()
        photo = self.photos[min(int(pick * len(self.photos)), len(self.photos) - 1)]
        h, w = photo.shape[-2:]
        side = max(1, round(min(h, w) / (1 + scale * (MAX_SCALE - 1))))
        y, x = round(top * (h - side)), round(left * (w - side))
        square = photo[..., y:y + side, x:x + side]
        square = nnf.interpolate(square, size=(self.size, self.size), mode="bilinear",
                                 antialias=side > self.size, align_corners=False).clamp(0, 1)
        return square.flip(-1) if flip < 0.5 else square


# ------------------------------------------------------------------ training


@dataclass(frozen=True)
class TrainSettings:
    """The options of one training run, checked when made (a ValueError says what is wrong).

    The losses are stylize's (alpha, beta, layers, VGG19 weights, pooling and normalisation have
    stylize's everyday defaults), so that the network learns what stylize optimises.
    """

    alpha: float = option(1.0, "content weight α (as stylize's)", kind="weight")
    beta: float = option(10.0, "style weight β (as stylize's everyday default)", kind="weight")
    tv_weight: float = option(0.0, "total-variation weight, smooths noise", kind="weight")
    content_layers: tuple[str, ...] = option(CONTENT_LAYERS, "paper layer names for the content "
                                             "loss", kind="layers")
    style_layers: tuple[str, ...] = option(STYLE_LAYERS, "paper layer names for the style loss",
                                           kind="layers")
    style_layer_weights: object = option(None, "per-layer style weights (a mapping or a "
                                         "sequence; default equal)", flag=None)
    size: int | None = option(None, "side of the square training crops in pixels (default: the "
                              "device's preset)", kind="count")
    style_size: int | None = option(None, "longest side of the style image in pixels (default: "
                                    "2 * size, the size of photo the network is made for)",
                                    kind="count")
    max_steps: int | None = option(None, "training steps, each one Adam step on a batch "
                                   "(default: the device's preset)", kind="count",
                                   aliases=("--steps",))
    batch_size: int | None = option(None, "crops per step (default: the device's preset)",
                                    kind="count")
    lr: float = option(5e-3, "Adam learning rate (Johnson et al.: 1e-3 over 40,000 steps; "
                       "higher for a short run)", kind="weight")
    lr_schedule: str = option("cosine", "learning rate over the run: cosine (from lr down to 0) "
                              "or constant", choices=LR_SCHEDULES)
    seed: int = option(0, "random seed for the network's start and the crops", kind="int")
    device: object = option(None, "cuda, mps or cpu (default: the best present)", kind="str")
    weights: str = option("caffe", "VGG19 weights for the losses (caffe = original, bundled, "
                          "offline)", choices=WEIGHTS)
    pooling: str = option("max", "VGG19 pooling layers (as stylize's)", choices=POOLING)
    normalize: bool = option(None, "the normalised VGG19, as stylize's (default: on for the "
                             "caffe weights)", flag=None)
    channels: tuple[int, ...] = option(CHANNELS, "the network's channels at full, half and "
                                       "quarter resolution", flag=None)
    res_blocks: int = option(RES_BLOCKS, "residual blocks at quarter resolution", flag=None)

    paper = False  # not a field: LossTerms asks; the network learns the everyday losses

    def __post_init__(self):
        for f in fields(self):
            if f.name not in ("channels", "res_blocks"):
                object.__setattr__(self, f.name, _check(f, getattr(self, f.name)))
        object.__setattr__(self, "channels",
                           _check_architecture(self.channels, self.res_blocks, "nearest"))
        if self.normalize is None:  # stylize's everyday network: normalised for the caffe weights
            object.__setattr__(self, "normalize", self.weights == "caffe")
        if self.alpha == self.beta == self.tv_weight == 0:
            raise ValueError("nothing to learn: alpha, beta and tv_weight are all 0; "
                             "give at least one a positive weight")
        if self.lr <= 0:
            raise ValueError(f"lr must be greater than 0, got {self.lr!r}")
        layer_weights(self.style_layers, self.style_layer_weights)  # a wrong count or name
        needed = max(MIN_SIDE, min_side(self.content_layers + self.style_layers))
        for name in ("size", "style_size"):
            if (getattr(self, name) or needed) < needed:
                raise ValueError(f"{name}={getattr(self, name)} px is too small for these "
                                 f"layers: use at least {needed}, or shallower layers")

    # The same checks, misspelling hints and JSON record as stylize's Settings.
    from_options = classmethod(Settings.from_options.__func__)
    replace = Settings.replace
    manifest = Settings.manifest

    def with_presets(self, device: torch.device) -> TrainSettings:
        """A copy with the device and every unset size, budget and batch taken from PRESETS."""
        key = "fast" if fast_mode() else device.type if device.type in PRESETS else "cpu"
        size, max_steps, batch_size = PRESETS[key]
        size = self.size or size
        return self.replace(device=device, size=size, style_size=self.style_size or 2 * size,
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

    def __call__(self, image, size: int | None = None) -> torch.Tensor:
        """Paint one image with the trained network: see ``stylize_with``."""
        return stylize_with(self.net, image, size)

    def manifest(self) -> dict:
        """Everything needed to reproduce and judge the training, as plain JSON-able values."""
        final = next((h for h in reversed(self.history) if math.isfinite(h["total"])), {})
        return {"nst_teach_version": __version__,
                "method": "feed-forward network (Johnson et al. 2016)",
                "architecture": self.net.architecture(), "parameters": self.net.parameter_count(),
                "settings": self.settings, "steps": self.steps, "images_seen": self.images_seen,
                "stop_reason": self.stop_reason, "final_losses": final,
                "seconds": round(self.seconds, 3), "torch": torch.__version__,
                "threads": torch.get_num_threads(), "python": platform.python_version()}

    def save(self, path) -> Path:
        """Write the network, its architecture and this manifest to ``path`` (see save_model)."""
        return save_model(self.net, path, self.manifest())


def train(style, content_images=None, *, net: TransformNet | None = None, model=None,
          callback=None, progress: bool = True, **options) -> Trained:
    """Train a TransformNet to paint like ``style``: minimise stylize's loss, alpha * L_content +
    beta * L_style + tv_weight * L_tv, over random crops of photographs.

    style: anything load_image takes. content_images: photographs (names, paths or tensors;
    default: ``training_photos()``), cut into random crops. options: the fields of TrainSettings
    (size, max_steps, batch_size, alpha, beta, lr, seed, ...). net: a network to train further
    (default: a new one, seeded). model: the VGG19 for the losses (default: load_vgg19 with the
    settings' weights, pooling and normalize). callback(step, losses) after every step; return
    True to stop. Ctrl-C stops too, keeping the network trained so far. Deterministic on the CPU
    for a seed (and a thread count).
    """
    started = time.perf_counter()
    settings = TrainSettings.from_options(options, caller="train")
    settings = settings.with_presets(pick_device(settings.device if model is None
                                                 else model.device))
    if model is None:
        model = load_vgg19(settings.weights, device=settings.device, pooling=settings.pooling,
                           normalize=settings.normalize)
    sources = _photo_sources(content_images)
    photos = [load_image(s, max_size=max(1024, 2 * settings.size)) for s in sources]
    with torch.no_grad():
        style_image = _resize_longest(load_image(style), settings.style_size)
        A = style_targets(model.extract(style_image.to(settings.device), settings.style_layers))
    net = _new_net(settings) if net is None else net
    sampler = CropSampler(photos, settings.size, settings.seed)
    bar = _progress_bar(settings.max_steps) if progress else None
    history, stop_reason = fit(net.to(settings.device).train(), model, sampler, A, settings,
                               callback, bar)
    net.eval()
    record = {**settings.manifest(), "weights": model.weights, "pooling": model.pooling,
              "normalize": model.normalized, "weights_sha256": model.weights_sha256,
              "style_layer_weights": layer_weights(settings.style_layers,
                                                   settings.style_layer_weights),
              "style": describe_image(style), "training_photos": [describe_image(s)
                                                                  for s in sources],
              "held_out": list(HELD_OUT) if content_images is None else [],
              "crops": {"max_scale": MAX_SCALE, "flip": "left-right, p = 0.5"}}
    trained = Trained(net, history, stop_reason, time.perf_counter() - started, record)
    net.manifest = trained.manifest()
    return trained


def loss_terms(model, output: torch.Tensor, P: dict, A: dict, settings) -> torch.Tensor:
    """(content, style, tv, total) of a batch of outputs (B, 3, H, W): stylize's own LossTerms.

    P = {layer: (B, C, h, w)}, the crops' content features; A = {layer: (1, C, C)}, the style's
    Gram matrices. Content and style are means over the batch too; a term of weight 0 reads NaN.
    """
    return LossTerms(model, P, A, settings)(output)


def _new_net(settings: TrainSettings) -> TransformNet:
    """A fresh TransformNet whose start depends on settings.seed only (global RNG left alone)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        return TransformNet(settings.channels, settings.res_blocks)


def _learning_rate(settings: TrainSettings, step: int) -> float:
    """The learning rate of step 1 ... max_steps: cosine from lr down towards 0, or constant."""
    if settings.lr_schedule == "constant":
        return settings.lr
    return settings.lr * 0.5 * (1 + math.cos(math.pi * (step - 1) / settings.max_steps))


def fit(net: TransformNet, model, sampler: CropSampler, A: dict, settings: TrainSettings,
        callback=None, bar=None):
    """The training loop: max_steps Adam steps on sampled batches -> (history, stop_reason).

    Each step: a batch of crops (B, 3, size, size), their content features P (no gradient), the
    network's output through loss_terms, backward, Adam. A step whose loss is NaN or inf is not
    applied and ends the run, as do the callback returning True, Ctrl-C and running out of memory.
    """
    optimizer = torch.optim.Adam(net.parameters(), lr=settings.lr)
    history: list[dict[str, float]] = []
    stop_reason = "completed"
    try:
        for step in range(1, settings.max_steps + 1):
            values = _step(net, model, sampler, A, settings, optimizer, step)
            if values is None:
                stop_reason = f"non-finite loss at step {step}; the network before it is kept"
                break
            history.append(values)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{values['total']:.3g}", refresh=False)
            if callback is not None and callback(step, values):
                stop_reason = "stopped by callback"
                break
    except KeyboardInterrupt:
        stop_reason = "interrupted"
    except torch.OutOfMemoryError as e:
        advice = f"out of memory on {settings.device}: try a smaller size or batch_size"
        if not history:
            raise MemoryError(advice) from e
        stop_reason = f"{advice} (stopped at step {len(history) + 1})"
    finally:
        if bar is not None:
            bar.close()
    return history, stop_reason


def _step(net, model, sampler, A, settings, optimizer, step) -> dict[str, float] | None:
    """One training step; its losses, or None (and no update) when the loss is not finite."""
    batch = sampler(settings.batch_size).to(settings.device)
    with torch.no_grad():  # the crops' own features are the content targets
        P = model.extract(batch, settings.content_layers) if settings.alpha > 0 else {}
    losses = loss_terms(model, net(batch), P, A, settings)
    values = dict(zip(LOSS_NAMES, losses.detach().tolist(), strict=True))
    if not math.isfinite(values["total"]):
        return None
    for group in optimizer.param_groups:
        group["lr"] = _learning_rate(settings, step)
    optimizer.zero_grad(set_to_none=True)
    losses[3].backward()
    optimizer.step()
    return values


def _progress_bar(total: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="train", unit="step", leave=True)


# ------------------------------------------------------------------ saving and loading


def save_model(net: TransformNet, path, manifest: dict | None = None) -> Path:
    """Write the network to ``path`` (.pt): weights, architecture, manifest, package version."""
    path = Path(path)
    manifest = net.manifest if manifest is None else manifest
    blob = {"format": FILE_FORMAT, "format_version": FORMAT_VERSION,
            "nst_teach_version": __version__, "architecture": net.architecture(),
            "state_dict": {k: v.detach().cpu().clone() for k, v in net.state_dict().items()},
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
        net = TransformNet(**blob["architecture"])
        net.load_state_dict(blob["state_dict"])
        bad = [k for k, v in blob["state_dict"].items() if not torch.isfinite(v).all()]
        if bad:
            raise ValueError(f"non-finite values in {bad[0]}")
        net.manifest = dict(blob.get("manifest") or {})
    except Exception as e:  # any mismatch means a damaged file
        raise ModelFileError(f"{path} is damaged ({type(e).__name__}: {_first_line(e)}): "
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
                             f"kind ({type(e).__name__}: {_first_line(e, 80)}): "
                             f"{retrain}") from None


def _what(blob) -> str:
    """A few words on what a foreign file holds."""
    if isinstance(blob, dict):
        keys = ", ".join(map(str, list(blob)[:3]))
        return f"a dict with keys {keys}{', ...' if len(blob) > 3 else ''}"
    return f"a {type(blob).__name__}"


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
