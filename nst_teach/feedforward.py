"""Real-time style transfer: a network trained once per style paints any photo in one pass.

Taught in notebook 11. Gatys et al. optimise every image anew (hundreds of VGG19 passes each);
Johnson, Alahi & Fei-Fei (2016, "Perceptual Losses for Real-Time Style Transfer") train a
feed-forward ``TransformNet`` instead, with the same content, style and total-variation losses
(``nst_teach.losses``) on random crops of photographs; Ulyanov, Vedaldi & Lempitsky (2016)
showed that instance normalisation (each image and channel on its own) makes it work far better.

Johnson et al.'s shape, shrunk to train on a 2-core CPU in minutes and to apply in tens of ms:
channels 16/32/64 instead of 32/64/128 and 3 residual blocks instead of 5 (about 1/6 of the
parameters, 1/5 of the multiply-adds: 1.9 G for a 256 x 256 photo); the last convolution is 3x3,
not 9x9 (with 3 output channels, a 9x9 one at full resolution took a fifth of the CPU time);
upsampling is nearest-neighbour then a convolution, not a transposed convolution, so no
checkerboard (Odena et al. 2016). 273,219 parameters, 1.1 MB as float32.
Training photos are offline: the bundled ones and, with the ``photos`` extra (scikit-image),
four CC0/public-domain photographs from its wheel; Tübingen is kept out to test on unseen photos.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
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
from .losses import content_loss, layer_weights, style_loss, style_targets, tv_loss
from .optimize import LOSS_NAMES
from .presets import fast_mode, pick_device
from .settings import CONTENT_LAYERS, POOLING, STYLE_LAYERS, Settings, _check, _whole, option
from .transfer import _resize_longest
from .vgg import WEIGHTS, _first_line, load_vgg19, min_side

__all__ = ["ModelFileError", "TrainSettings", "Trained", "TransformNet", "load_model", "save_model",
           "stylize_with", "train", "training_photos"]

CHANNELS = (16, 32, 64)  # Johnson et al.: 32, 64, 128
RES_BLOCKS = 3  # Johnson et al.: 5
UPSAMPLING = ("nearest", "transposed")  # "transposed" only to show the checkerboard it makes
MIN_SIDE = 8  # the 9x9 reflection padding needs 5 px at full and 2 px at quarter resolution

# Training photographs. Bundled: always there. Those of scikit-image's wheel (the ``photos``
# extra) are read as files, without importing scikit-image; each is CC0 or public domain.
BUNDLED_PHOTOS = ("grace_hopper", "landscape")
SKIMAGE_PHOTOS = {"astronaut": "astronaut.png", "chelsea": "chelsea.png", "coffee": "coffee.png",
                  "rocket": "rocket.jpg"}
HELD_OUT = ("tubingen",)  # never trained on by default: photos the network has not seen
MAX_SCALE = 2.0  # a crop covers 1/MAX_SCALE to all of a photo's shorter side

# (size, max_steps, batch_size) per device type; the style image is 2 * size on its longest side.
# CPU: 800 crops of 128 px, each about 18 GMAC (VGG19 forward and backward to relu5_1, forward to
# relu4_2 for the content target, the network forward and backward); one crop per step: instance
# norm needs no batch statistics, and a short run gains more from steps than from larger batches.
PRESETS = {"cuda": (256, 2000, 4), "mps": (256, 1000, 4), "cpu": (128, 800, 1), "fast": (32, 8, 1)}
FILE_FORMAT = "nst_teach feed-forward style network"
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A model file that cannot be loaded; the one-line message says what to do."""


# ------------------------------------------------------------------ the transformation network


def conv(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Conv2d:
    """A convolution with reflection padding: borders continue the image instead of going black."""
    return nn.Conv2d(c_in, c_out, kernel, stride, padding=kernel // 2, padding_mode="reflect")


def conv_block(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Sequential:
    """Convolution, instance normalisation (affine), ReLU: (B, c_in, H, W) -> (B, c_out, H/stride, W/stride)."""
    return nn.Sequential(conv(c_in, c_out, kernel, stride), nn.InstanceNorm2d(c_out, affine=True), nn.ReLU())


def up_block(c_in: int, c_out: int, upsampling: str = "nearest") -> nn.Sequential:
    """Twice the resolution: nearest-neighbour then a 3x3 convolution (or a transposed convolution)."""
    if upsampling == "transposed":  # uneven overlap of the strided kernel: a checkerboard
        layers = [nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)]
    else:
        layers = [nn.Upsample(scale_factor=2, mode="nearest"), conv(c_in, c_out, 3)]
    return nn.Sequential(*layers, nn.InstanceNorm2d(c_out, affine=True), nn.ReLU())


class ResidualBlock(nn.Module):
    """x + IN(conv(ReLU(IN(conv(x))))): (B, C, H, W) -> (B, C, H, W); easy to learn "change little"."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(conv_block(channels, channels, 3), conv(channels, channels, 3),
                                  nn.InstanceNorm2d(channels, affine=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class TransformNet(nn.Module):
    """Johnson et al.'s image transformation network: (B, 3, H, W) in [0, 1] -> (B, 3, H, W) in [0, 1].

    Two stride-2 convolutions down, residual blocks, two upsampling blocks, a 3x3 convolution and
    a sigmoid. Any H, W >= 8: the image is reflection-padded to a multiple of 4 and cropped back.
    """

    def __init__(self, channels=CHANNELS, res_blocks: int = RES_BLOCKS, upsampling: str = "nearest"):
        super().__init__()
        c1, c2, c3 = _check_architecture(channels, res_blocks, upsampling)
        self.channels, self.res_blocks, self.upsampling = (c1, c2, c3), int(res_blocks), upsampling
        self.down = nn.Sequential(conv_block(3, c1, 9), conv_block(c1, c2, 3, 2), conv_block(c2, c3, 3, 2))
        self.residual = nn.Sequential(*[ResidualBlock(c3) for _ in range(res_blocks)])
        self.up = nn.Sequential(up_block(c3, c2, upsampling), up_block(c2, c1, upsampling))
        self.out = conv(c1, 3, 3)
        self.manifest: dict = {}  # how it was trained (``train``), kept by save_model and load_model

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        if image.ndim != 4 or image.shape[1] != 3 or min(image.shape[-2:]) < MIN_SIDE:
            raise ValueError(f"TransformNet needs an RGB batch (B, 3, H, W) with H, W >= {MIN_SIDE}, "
                             f"got shape {tuple(image.shape)}: load it with load_image")
        h, w = image.shape[-2:]
        x = nnf.pad(image, (0, -w % 4, 0, -h % 4), mode="reflect")  # two halvings need a multiple of 4
        x = self.out(self.up(self.residual(self.down(x))))
        return torch.sigmoid(x[..., :h, :w])

    def architecture(self) -> dict:
        """The arguments that rebuild this network: {"channels": [c1, c2, c3], "res_blocks": n, "upsampling": ...}."""
        return {"channels": list(self.channels), "res_blocks": self.res_blocks, "upsampling": self.upsampling}

    def parameter_count(self) -> int:
        """Number of trained values (weights, biases and the normalisations' scales and shifts)."""
        return sum(p.numel() for p in self.parameters())


def _check_architecture(channels, res_blocks, upsampling) -> tuple[int, int, int]:
    channels = tuple(channels)
    if len(channels) != 3 or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in channels):
        raise ValueError(f"channels must be three whole numbers >= 1, e.g. {CHANNELS}, got {channels!r}")
    if isinstance(res_blocks, bool) or not isinstance(res_blocks, int) or res_blocks < 0:
        raise ValueError(f"res_blocks must be a whole number >= 0, got {res_blocks!r}")
    if upsampling not in UPSAMPLING:
        raise ValueError(f"unknown upsampling {upsampling!r}: choose one of {', '.join(UPSAMPLING)}")
    return channels


def stylize_with(model, image, size: int | None = None) -> torch.Tensor:
    """Paint ``image`` with a trained network in one pass: -> (1, 3, H, W) in [0, 1] on the CPU.

    model: a TransformNet, a Trained, or the path of a saved model; image: anything load_image
    takes; size: the longest side to resize to first (default: as it is).
    """
    net = getattr(model, "net", model)
    if not isinstance(net, nn.Module):
        net = load_model(net)
    image = load_image(image)
    if size is not None:
        image = _resize_longest(image, _whole("size", size, MIN_SIDE))
    device = next(net.parameters()).device
    with torch.inference_mode():
        painted = net(image.to(device))
    return painted.cpu().clone()  # a normal tensor again, usable outside inference mode


# ------------------------------------------------------------------ training photographs


def skimage_photos_dir() -> Path | None:
    """The folder of scikit-image's bundled sample photographs, or None when it is not installed."""
    spec = importlib.util.find_spec("skimage")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "data"
    return folder if all((folder / f).is_file() for f in SKIMAGE_PHOTOS.values()) else None


def training_photos() -> dict[str, Path]:
    """The default training photographs by name: the bundled ones, plus scikit-image's when installed."""
    photos = {name: data.content_path(name) for name in BUNDLED_PHOTOS}
    folder = skimage_photos_dir()
    if folder is not None:
        photos.update({name: folder / file for name, file in SKIMAGE_PHOTOS.items()})
    return photos


def photo_path(name: str) -> Path:
    """The path of a photograph by name: a bundled content image or one of scikit-image's."""
    if name in SKIMAGE_PHOTOS:
        folder = skimage_photos_dir()
        if folder is None:
            raise ValueError(f"the photograph {name!r} comes with scikit-image: "
                             "install it with `pip install 'nst_teach[photos]'` (or `pip install scikit-image`)")
        return folder / SKIMAGE_PHOTOS[name]
    return data.content_path(name)


def describe_image(source) -> dict:
    """Where an image came from, for a manifest: {"name", "source", "sha256"} (a tensor: of its bytes)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        bundled = {p.resolve(): n for n, p in data.bundled().items()}
        if path.resolve() in bundled:
            where = f"nst_teach data/{path.parent.name}/{path.name}"
        elif path.parent == skimage_photos_dir():
            where = f"scikit-image {importlib.metadata.version('scikit-image')} skimage/data/{path.name}"
        else:
            where = str(path)
        return {"name": bundled.get(path.resolve(), path.stem), "source": where, "sha256": data.sha256(path)}
    image = load_image(source)
    digest = hashlib.sha256(image.numpy().tobytes()).hexdigest()
    return {"name": f"tensor{tuple(image.shape)}", "source": "float32 tensor in [0, 1]", "sha256": digest}


def _photo_sources(content_images) -> list:
    """The training images as load_image sources: the default photos, or the given names, paths, tensors."""
    if content_images is None:
        return list(training_photos().values())
    if isinstance(content_images, (str, Path, torch.Tensor)):
        content_images = [content_images]
    sources = [photo_path(s) if isinstance(s, str) and not Path(s).exists() and _is_photo_name(s) else s
               for s in content_images]
    if not sources:
        raise ValueError("content_images is empty: give at least one photograph, or None for the default ones")
    return sources


def _is_photo_name(name: str) -> bool:
    return name in SKIMAGE_PHOTOS or name in {**data.CONTENT_IMAGES, **data.PAPER_CONTENT_IMAGES}


class CropSampler:
    """Random training crops of photographs: (B, 3, size, size) in [0, 1], reproducible from a seed.

    Each crop: a photo chosen at random, a square covering 1/MAX_SCALE to all of its shorter side
    (a random scale), at a random place, resized to size x size, flipped left-right half the time.
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
    """The options of one training run, checked when made (a ValueError says what is wrong)."""

    alpha: float = option(1.0, "content weight α", kind="weight")
    beta: float = option(1e-3, "style weight β", kind="weight")
    tv_weight: float = option(0.0, "total-variation weight, smooths noise", kind="weight")
    content_layers: tuple[str, ...] = option(CONTENT_LAYERS, "paper layer names for the content loss", kind="layers")
    style_layers: tuple[str, ...] = option(STYLE_LAYERS, "paper layer names for the style loss", kind="layers")
    style_layer_weights: object = option(None, "per-layer style weights (a mapping or a sequence; default equal)", flag=None)
    size: int | None = option(None, "side of the square training crops in pixels (default: the device's preset)", kind="count")
    style_size: int | None = option(None, "longest side of the style image in pixels (default: 2 * size, the size of photo the network is made for)", kind="count")
    max_steps: int | None = option(None, "training steps, each one Adam step on a batch (default: the device's preset)", kind="count", aliases=("--steps",))
    batch_size: int | None = option(None, "crops per step (default: the device's preset)", kind="count")
    lr: float = option(5e-3, "Adam learning rate (Johnson et al.: 1e-3 over 40,000 steps; higher for a short run)", kind="weight")
    seed: int = option(0, "random seed for the network's start and the crops", kind="int")
    device: object = option(None, "cuda, mps or cpu (default: the best present)", kind="str")
    weights: str = option("caffe", "VGG19 weights for the losses (caffe = original, bundled, offline)", choices=WEIGHTS)
    pooling: str = option("max", "VGG19 pooling layers", choices=POOLING)
    channels: tuple[int, ...] = option(CHANNELS, "the network's channels at full, half and quarter resolution", flag=None)
    res_blocks: int = option(RES_BLOCKS, "residual blocks at quarter resolution", flag=None)

    def __post_init__(self):
        for f in fields(self):
            if f.name not in ("channels", "res_blocks"):
                object.__setattr__(self, f.name, _check(f, getattr(self, f.name)))
        object.__setattr__(self, "channels", _check_architecture(self.channels, self.res_blocks, "nearest"))
        if self.alpha == self.beta == self.tv_weight == 0:
            raise ValueError("nothing to learn: alpha, beta and tv_weight are all 0; give at least one a positive weight")
        if self.lr <= 0:
            raise ValueError(f"lr must be greater than 0, got {self.lr!r}")
        layer_weights(self.style_layers, self.style_layer_weights)  # raises for a wrong count or name
        needed = max(MIN_SIDE, min_side(self.content_layers + self.style_layers))
        for name in ("size", "style_size"):
            if (getattr(self, name) or needed) < needed:
                raise ValueError(f"{name}={getattr(self, name)} px is too small for these layers: "
                                 f"use at least {needed}, or shallower layers")

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
                            max_steps=self.max_steps or max_steps, batch_size=self.batch_size or batch_size)


@dataclass
class Trained:
    """What ``train`` returns: the network (eval mode), the loss history per step and how it was made."""

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
        return {"nst_teach_version": __version__, "method": "feed-forward network (Johnson et al. 2016)",
                "architecture": self.net.architecture(), "parameters": self.net.parameter_count(),
                "settings": self.settings, "steps": self.steps, "images_seen": self.images_seen,
                "stop_reason": self.stop_reason, "final_losses": final, "seconds": round(self.seconds, 3),
                "torch": torch.__version__, "python": platform.python_version()}

    def save(self, path) -> Path:
        """Write the network, its architecture and this manifest to ``path`` (see save_model)."""
        return save_model(self.net, path, self.manifest())


def train(style, content_images=None, *, net: TransformNet | None = None, model=None, callback=None,
          progress: bool = True, **options) -> Trained:
    """Train a TransformNet to paint in the style of ``style``: minimise alpha*L_content + beta*L_style + tv_weight*L_tv.

    style: anything load_image takes. content_images: photographs (names, paths or tensors;
    default: ``training_photos()``), cut into random crops. options: the fields of TrainSettings
    (size, max_steps, batch_size, alpha, beta, lr, seed, ...). net: a network to train further
    (default: a new one, seeded). model: the VGG19 for the losses (default: load_vgg19(weights)).
    callback(step, losses) after every step; return True to stop. Ctrl-C stops too, keeping the
    network trained so far. Deterministic on the CPU for a seed.
    """
    started = time.perf_counter()
    settings = TrainSettings.from_options(options, caller="train")
    settings = settings.with_presets(pick_device(settings.device if model is None else model.device))
    device = settings.device
    model = model if model is not None else load_vgg19(settings.weights, device=device, pooling=settings.pooling)
    sources = _photo_sources(content_images)
    photos = [load_image(s, max_size=max(1024, 2 * settings.size)) for s in sources]
    with torch.no_grad():
        style_image = _resize_longest(load_image(style), settings.style_size).to(device)
        A = style_targets(model.extract(style_image, settings.style_layers))
    net = _new_net(settings) if net is None else net
    history, stop_reason = fit(net.to(device).train(), model, CropSampler(photos, settings.size, settings.seed), A,
                               settings, callback, _progress_bar(settings.max_steps) if progress else None)
    net.eval()
    record = {**settings.manifest(), "style_layer_weights": layer_weights(settings.style_layers, settings.style_layer_weights),
              "weights": model.weights, "weights_sha256": model.weights_sha256, "pooling": model.pooling,
              "style": describe_image(style), "training_photos": [describe_image(s) for s in sources],
              "held_out": list(HELD_OUT) if content_images is None else [], "max_scale": MAX_SCALE}
    trained = Trained(net, history, stop_reason, time.perf_counter() - started, record)
    net.manifest = trained.manifest()
    return trained


def loss_terms(model, output: torch.Tensor, P: dict, A: dict, settings: TrainSettings) -> torch.Tensor:
    """(content, style, tv, total) of a batch of outputs (B, 3, H, W), total = alpha*c + beta*s + tv_weight*tv.

    The terms of ``stylize`` (``nst_teach.losses``): content MSE against P = {layer: (B, C, h, w)} of
    the crops, averaged over content layers; style MSE of Gram matrices against the style's A =
    {layer: (1, C, C)}, averaged over the batch; total variation. A term of weight 0 reads NaN.
    """
    use_content, use_style = settings.alpha > 0, settings.beta > 0
    layers = (settings.content_layers if use_content else ()) + (settings.style_layers if use_style else ())
    F = model.extract(output, list(dict.fromkeys(layers))) if layers else {}
    not_computed = output.new_full((), math.nan)
    content = (sum(content_loss(F[n], P[n]) for n in settings.content_layers) / len(settings.content_layers)
               if use_content else not_computed)
    style = style_loss(F, A, settings.style_layer_weights) if use_style else not_computed
    tv = tv_loss(output) if settings.tv_weight > 0 else output.new_zeros(())
    total = (settings.alpha * content if use_content else 0) + (settings.beta * style if use_style else 0)
    return torch.stack((content, style, tv, total + settings.tv_weight * tv))


def _new_net(settings: TrainSettings) -> TransformNet:
    """A fresh TransformNet whose start depends on settings.seed only (the global generator is left alone)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        return TransformNet(settings.channels, settings.res_blocks)


def fit(net: TransformNet, model, sampler: CropSampler, A: dict, settings: TrainSettings, callback=None, bar=None):
    """The training loop: max_steps Adam steps on sampled batches -> (history, stop_reason).

    Each step: a batch of crops (B, 3, size, size), their content features P (no gradient), the
    network's output through LossTerms, backward, Adam. A step whose loss is NaN or inf is not
    applied and ends the run, as do the callback returning True, Ctrl-C and running out of memory.
    """
    optimizer = torch.optim.Adam(net.parameters(), lr=settings.lr)
    history: list[dict[str, float]] = []
    stop_reason = "completed"
    try:
        for step in range(1, settings.max_steps + 1):
            batch = sampler(settings.batch_size).to(settings.device)
            with torch.no_grad():  # the crops' own features are the content targets
                P = model.extract(batch, settings.content_layers) if settings.alpha > 0 else {}
            losses = loss_terms(model, net(batch), P, A, settings)
            values = dict(zip(LOSS_NAMES, losses.detach().tolist(), strict=True))
            if not math.isfinite(values["total"]):
                stop_reason = f"non-finite loss at step {step}; the network before it is kept"
                break
            optimizer.zero_grad(set_to_none=True)
            losses[3].backward()
            optimizer.step()
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


def _progress_bar(total: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="train", unit="step", leave=True)


# ------------------------------------------------------------------ saving and loading


def save_model(net: TransformNet, path, manifest: dict | None = None) -> Path:
    """Write the network to ``path`` (.pt): its weights, architecture, manifest and the package version."""
    path = Path(path)
    manifest = net.manifest if manifest is None else manifest
    blob = {"format": FILE_FORMAT, "format_version": FORMAT_VERSION, "nst_teach_version": __version__,
            "architecture": net.architecture(),
            "state_dict": {k: v.detach().cpu().clone() for k, v in net.state_dict().items()},
            "manifest": json.loads(json.dumps(manifest, default=str))}  # plain values only: weights_only loads them
    tmp = path.with_name(path.name + ".tmp")
    torch.save(blob, tmp)
    tmp.replace(path)  # a Ctrl-C while writing leaves the old file, not half a new one
    return path


def load_model(path, device=None) -> TransformNet:
    """A network saved by save_model (eval mode, its training manifest in ``.manifest``) on ``device``."""
    path = Path(path)
    retrain = f"make it again with `python -m nst_teach train --style PAINTING --out {path}`"
    blob = _read_model_file(path, retrain)
    if not isinstance(blob, dict) or blob.get("format") != FILE_FORMAT:
        raise ModelFileError(f"{path} is not an nst_teach style network (it holds {_what(blob)}): "
                             f"give a file written by train(...).save() or {retrain.split(' ', 3)[-1]}")
    if blob.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path} was written by nst_teach {blob.get('nst_teach_version')} in a file format this "
                             f"version ({__version__}) does not read: update nst_teach, or {retrain}")
    try:
        net = TransformNet(**blob["architecture"])
        net.load_state_dict(blob["state_dict"])
        bad = [k for k, v in blob["state_dict"].items() if not torch.isfinite(v).all()]
        if bad:
            raise ValueError(f"non-finite values in {bad[0]}")
        net.manifest = dict(blob.get("manifest") or {})
    except Exception as e:  # any mismatch means a damaged file
        raise ModelFileError(f"{path} is damaged ({type(e).__name__}: {_first_line(e)}): {retrain}") from None
    return net.eval().to(pick_device(device))


def _read_model_file(path: Path, retrain: str):
    """torch.load with weights_only=True (plain tensors and values only), every failure as one line."""
    if not path.exists():
        raise ModelFileError(f"model file {path} not found: {retrain}")
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder, not a model file: give the .pt file that train wrote")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ModelFileError(f"cannot read {path} as a model file, it is damaged or of another kind "
                             f"({type(e).__name__}: {_first_line(e, 80)}): {retrain}") from None


def _what(blob) -> str:
    """A few words on what a foreign file holds."""
    if isinstance(blob, dict):
        keys = ", ".join(map(str, list(blob)[:3]))
        return f"a dict with keys {keys}{', ...' if len(blob) > 3 else ''}"
    return f"a {type(blob).__name__}"


def _signature() -> inspect.Signature:
    """train's signature as users see it: style, content_images, every TrainSettings field, then the rest."""
    keyword, positional = inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [inspect.Parameter("style", positional), inspect.Parameter("content_images", positional, default=None)]
    params += [inspect.Parameter(f.name, keyword, default=f.default) for f in fields(TrainSettings)]
    params += [inspect.Parameter(n, keyword, default=d)
               for n, d in (("net", None), ("model", None), ("callback", None), ("progress", True))]
    return inspect.Signature(params, return_annotation=Trained)


train.__signature__ = _signature()
