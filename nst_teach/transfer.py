"""The style-transfer loop: optimise the pixels of a target image through a frozen VGG19.

Taught in notebook 07. The deck's algorithm, line by line:
freeze the CNN -> load content and style -> make a trainable target -> extract features ->
content MSE and style MSE of Gram matrices -> loss = alpha * content + beta * style (+ tv) ->
back-propagate into the target image's pixels.

The image is optimised in the network's own input space (for the Caffe weights: BGR, 0-255, mean
subtracted), where the optimiser's steps are in the units the network sees. Measured
(benchmarks/README.md): the PyTorch tutorial's way, L-BFGS on pixels in [0, 1] clamped after each
evaluation, reaches the same loss but 3.4 times later at 256 px on the paper's images; without the
clamp it stalled or returned NaN in our first tests.
L-BFGS (nst_teach/lbfgs.py) runs without a line search, as in jcjohnson/neural-style: measured
at 96 px on three image pairs, the strong-Wolfe search needed 12-17 evaluations to cut the loss
tenfold against 8-15 without, and reached the same loss after 150. Its history holds 100 pairs:
at 128 px, 300 evaluations, 20 pairs ended 1-2% higher and 50 pairs 0.3-0.5% higher.
"""

from __future__ import annotations

import json
import math
import platform
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as nnf

from . import __version__
from .color import luminance, match_color, match_luminance, with_colors_of
from .images import load_image, save_image
from .lbfgs import LBFGS
from .losses import content_loss, layer_weights, style_loss, style_targets, tv_loss
from .presets import pick_device, preset
from .vgg import LAYER_INDEX, VGG19Features, check_layers, load_vgg19, min_side

CONTENT_LAYERS = ("relu4_2",)
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
OPTIMIZERS = ("lbfgs", "adam")
INITS = ("content", "noise", "style")
PRESERVE_COLOR = (None, "luminance", "histogram")
LBFGS_HISTORY = 100
# On CUDA, record one evaluation as a CUDA graph and replay it: the CPU then launches one graph
# instead of some 300 kernels per evaluation. A profile on an H200 showed the GPU idle about 40% of
# each evaluation at 512 px while the CPU launched kernels. Off until benchmarks/bench.py (its
# "CUDA graphs" run) and tests/test_gpu.py have run on a GPU: no GPU has run this code yet.
CUDA_GRAPHS = False
# An L-BFGS evaluation whose loss is NaN, inf or over BLOWUP times the last accepted one is answered
# by a shorter step, up to MAX_BACKTRACKS times in a row (healthy runs' bumps are under 10x).
MAX_BACKTRACKS = 5
BLOWUP = 100.0


class NonFiniteLossWarning(RuntimeWarning):
    """The loss became NaN or infinite; the run stopped and kept its last finite image."""


@dataclass
class Result:
    """What ``stylize`` returns: the image (1, 3, H, W) in [0, 1] on the CPU, and the loss history."""

    image: torch.Tensor
    history: list[dict[str, float]]
    stop_reason: str
    seconds: float
    settings: dict = field(default_factory=dict)

    @property
    def evals(self) -> int:
        """Function evaluations made (each is one forward and one backward pass)."""
        return len(self.history)

    def manifest(self) -> dict:
        """Everything needed to reproduce and judge the run, as plain JSON-able values."""
        final = next((h for h in reversed(self.history) if math.isfinite(h["total"])), {})
        return {
            "nst_teach_version": __version__,
            "settings": self.settings,
            "evaluations": self.evals,
            "stop_reason": self.stop_reason,
            "final_losses": final,
            "seconds": round(self.seconds, 3),
            "image_size": list(self.image.shape[-2:]),
            "torch": torch.__version__,
            "python": platform.python_version(),
        }

    def save(self, path) -> Path:
        """Write the image to ``path`` and the manifest beside it (same name, .json)."""
        path = save_image(self.image, path)
        manifest_path = path.with_suffix(".json")
        tmp = manifest_path.with_name(manifest_path.name + ".tmp")
        tmp.write_text(json.dumps(self.manifest(), indent=2, default=str) + "\n")
        tmp.replace(manifest_path)
        return path


class _Rejected(Exception):
    """Raised inside the closure when an evaluation cannot be used: a NaN or inf, or a blow-up.

    ratio: its loss / the last accepted loss (NaN or inf for a non-finite loss)."""

    def __init__(self, ratio: float):
        super().__init__(f"loss ratio {ratio:g}")
        self.ratio = ratio


class _Stop(Exception):
    """Raised inside the closure to end the optimiser's step early, with a reason."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _resize_longest(image: torch.Tensor, size: int) -> torch.Tensor:
    h, w = image.shape[-2:]
    scale = size / max(h, w)
    if scale == 1:
        return image
    new = (max(1, round(h * scale)), max(1, round(w * scale)))
    return nnf.interpolate(image, size=new, mode="bilinear", antialias=scale < 1, align_corners=False).clamp(0, 1)


def _check_number(name: str, value, minimum: float = 0.0) -> float:
    value = float(value)
    if not math.isfinite(value) or value < minimum:
        raise ValueError(f"{name} must be a finite number >= {minimum:g}, got {value!r}")
    return value


def stylize(
    content,
    style,
    *,
    alpha: float = 1.0,
    beta: float = 1e-3,
    tv_weight: float = 0.0,
    content_layers=CONTENT_LAYERS,
    style_layers=STYLE_LAYERS,
    style_layer_weights=None,
    style_weights=None,
    size: int | None = None,
    style_scale: float = 1.0,
    max_evals: int | None = None,
    optimizer: str = "lbfgs",
    lr: float | None = None,
    init="content",
    preserve_color: str | None = None,
    levels: int = 1,
    seed: int = 0,
    device=None,
    weights: str = "caffe",
    pooling: str = "max",
    model: VGG19Features | None = None,
    callback=None,
    progress: bool = True,
) -> Result:
    """Neural style transfer (Gatys et al. 2015): minimise alpha*L_content + beta*L_style + tv_weight*L_tv.

    content, style: anything ``load_image`` takes; ``style`` may be a list, blended by
    ``style_weights`` (default equal). size: the content's longest side (default from the
    device's preset); the style is resized to ``style_scale * size``. max_evals counts every
    forward+backward pass (L-BFGS makes several per step). init: "content", "noise", "style" or an
    image tensor. preserve_color: None, "luminance" (transfer luminance only, keep the content's
    colours) or "histogram" (recolour the style to the content's colour statistics first).
    levels > 1 runs coarse-to-fine: sizes size/2^(levels-1) ... size, the budget split evenly,
    each level starting from the previous result. callback(i, image, losses) is called after each
    evaluation (for one rejected as NaN/inf or a blow-up, with the best image so far); to stop,
    return True from it. Ctrl-C stops too, keeping the best image.
    Returns a Result with .image (1, 3, H, W) in [0, 1] and .history (one dict per evaluation).
    """
    started = time.perf_counter()
    content_layers, style_layers = check_layers(content_layers), check_layers(style_layers)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}: choose one of {', '.join(OPTIMIZERS)}")
    if not isinstance(init, torch.Tensor) and init not in INITS:
        raise ValueError(f"unknown init {init!r}: choose one of {', '.join(INITS)} or an image tensor")
    if preserve_color not in PRESERVE_COLOR:
        raise ValueError(f"unknown preserve_color {preserve_color!r}: choose None, 'luminance' or 'histogram'")
    if int(levels) != levels or levels < 1:
        raise ValueError(f"levels must be a whole number >= 1, got {levels!r}")
    alpha, beta, tv_weight = (_check_number(n, v) for n, v in (("alpha", alpha), ("beta", beta), ("tv_weight", tv_weight)))
    if alpha == beta == tv_weight == 0:
        raise ValueError("nothing to optimise: alpha, beta and tv_weight are all 0; give at least one a positive weight")
    _check_number("style_scale", style_scale, 1e-3)
    dev = pick_device(device if model is None else model.device)
    defaults = preset(dev)
    size = int(size or defaults.size)
    max_evals = int(max_evals or defaults.max_evals)
    if size < 1 or max_evals < 1:
        raise ValueError(f"size and max_evals must be positive, got size={size}, max_evals={max_evals}")
    if levels > 1:
        return _coarse_to_fine(
            content, style, int(levels), size, max_evals, started, callback,
            dict(alpha=alpha, beta=beta, tv_weight=tv_weight, content_layers=content_layers,
                 style_layers=style_layers, style_layer_weights=style_layer_weights,
                 style_weights=style_weights, style_scale=style_scale, optimizer=optimizer, lr=lr,
                 init=init, preserve_color=preserve_color, seed=seed, device=dev, weights=weights,
                 pooling=pooling, model=model, progress=progress),
        )

    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if not styles:
        raise ValueError("give at least one style image")
    if style_weights is None:
        style_weights = [1.0 / len(styles)] * len(styles)
    style_weights = [_check_number("style weight", w) for w in style_weights]
    if len(style_weights) != len(styles) or sum(style_weights) <= 0:
        raise ValueError(f"need one positive-sum weight per style image: {len(styles)} styles, weights {style_weights}")
    style_weights = [w / sum(style_weights) for w in style_weights]
    layer_w = layer_weights(style_layers, style_layer_weights)

    if model is None:
        model = load_vgg19(weights, device=dev, pooling=pooling)
    prep = model.preprocessing
    content_image = _resize_longest(load_image(content), size).to(dev)
    needed = min_side(content_layers + style_layers)
    if min(content_image.shape[-2:]) < needed:
        deepest = max(content_layers + style_layers, key=LAYER_INDEX.get)
        raise ValueError(
            f"a {content_image.shape[-2]}x{content_image.shape[-1]} px image is too small for {deepest} "
            f"(needs at least {needed} px on each side): use a larger size, fewer levels, or shallower layers"
        )
    style_size = max(needed, round(size * style_scale))
    style_images = [_resize_longest(load_image(s), style_size).to(dev) for s in styles]
    original_content = content_image
    if preserve_color == "histogram":
        style_images = [match_color(s, content_image) for s in style_images]
    elif preserve_color == "luminance":
        # Transfer on grey images: the content's luminance, and each style's luminance shifted
        # to the content's mean and spread; the content's colours go back on at the end.
        content_y = luminance(content_image)
        style_images = [match_luminance(luminance(s), content_y).expand(-1, 3, -1, -1) for s in style_images]
        content_image = content_y.expand(-1, 3, -1, -1)

    with torch.no_grad():
        content_targets = {k: v.detach() for k, v in model.extract(content_image, content_layers).items()}
        # Blending Gram targets with weights that sum to one has the same gradient as summing the
        # weighted per-style losses, at the cost of one target per layer.
        grams = [style_targets(model.extract(s, style_layers)) for s in style_images]
        style_grams = {name: sum(w * g[name] for w, g in zip(style_weights, grams, strict=True)) for name in style_layers}

    gen = torch.Generator().manual_seed(seed)
    if isinstance(init, torch.Tensor):
        start = nnf.interpolate(load_image(init), size=content_image.shape[-2:], mode="bilinear", align_corners=False).to(dev)
        if preserve_color == "luminance":
            start = luminance(start).expand(-1, 3, -1, -1)
    elif init == "content":
        start = content_image
    elif init == "style":
        start = nnf.interpolate(style_images[0], size=content_image.shape[-2:], mode="bilinear", align_corners=False)
    else:
        start = torch.rand(content_image.shape, generator=gen).to(dev)
    z = prep(start).detach().contiguous().requires_grad_(True)

    # A term whose weight is 0 is not computed, and the network runs only as deep as the terms
    # in use need; such a term reads NaN in the history.
    use_content, use_style = alpha > 0, beta > 0
    net_layers = list(dict.fromkeys((content_layers if use_content else []) + (style_layers if use_style else [])))
    if optimizer == "lbfgs":
        opt = LBFGS([z], lr=1.0, history_size=LBFGS_HISTORY)
    else:
        # lr is in image units ([0, 1] pixels); Adam's steps are in the network's input units.
        opt = torch.optim.Adam([z], lr=(lr or 0.02) * prep.scale / min(prep.std))

    history: list[dict[str, float]] = []
    best = {"total": math.inf, "z": z.detach().clone()}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=max_evals, desc="stylize", unit="eval", leave=True)
    not_computed = z.new_full((), math.nan)

    def evaluate() -> torch.Tensor:
        """Forward, losses, backward into z.grad; returns (content, style, tv, total) as one tensor."""
        features = model.forward_net(z, net_layers) if net_layers else {}
        lc = sum(content_loss(features[n], content_targets[n]) for n in content_layers) / len(content_layers) if use_content else not_computed
        ls = style_loss(features, style_grams, layer_w) if use_style else not_computed
        lt = tv_loss(prep.inverse(z)) if tv_weight else z.new_zeros(())
        total = (alpha * lc if use_content else 0) + (beta * ls if use_style else 0) + tv_weight * lt
        total.backward()
        return torch.stack((lc.detach(), ls.detach(), lt.detach(), total.detach()))

    use_lbfgs = optimizer == "lbfgs"
    state = {"backtracks": 0, "last": math.inf}  # shorter steps tried in a row; the last accepted loss
    graphed = []  # on CUDA: the evaluation recorded once as a CUDA graph, replayed after (see _cuda_graph)

    def closure():
        if len(history) >= max_evals:
            raise _Stop("completed")
        if dev.type == "cuda" and CUDA_GRAPHS:
            if not graphed:
                graphed.append(_cuda_graph(evaluate, z))
            out = graphed[0]()
        else:
            opt.zero_grad(set_to_none=True)
            out = evaluate()
        # One read of the four numbers, after the backward pass is queued: on a GPU the CPU waits
        # once per evaluation.
        *values, grad_finite = torch.cat((out, z.grad.isfinite().all().reshape(1))).tolist()
        losses = dict(zip(("content", "style", "tv", "total"), values, strict=True))
        history.append(losses)  # every evaluation counts, a rejected one too
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{losses['total']:.3g}", refresh=False)
        total, last = losses["total"], state["last"]
        ratio = total / last if last > 0 else (math.nan if math.isnan(total) else 1.0)
        rejected = not (math.isfinite(total) and grad_finite) or (
            use_lbfgs and state["backtracks"] < MAX_BACKTRACKS and ratio > BLOWUP)
        if not rejected:
            state["last"] = total
            if total < best["total"]:
                best["total"], best["z"] = total, z.detach().clone()
        # The callback sees every evaluation; for a rejected one, the best image so far.
        shown = best["z"] if rejected else z.detach()
        if callback is not None and callback(len(history), prep.inverse(shown).clamp(0, 1), losses):
            raise _Stop("stopped by callback")
        if rejected:
            raise _Rejected(ratio)
        return out[3]

    stop_reason = "completed"
    try:
        while True:  # until the closure raises _Stop: budget spent, callback, or no way forward
            try:
                opt.step(closure)
                state["backtracks"] = 0
            except _Rejected as rejection:
                # An L-BFGS step without a line search can overshoot far, from noise at a large beta
                # up to a loss 10^19 times the last, or inf. Far out the style loss grows with the
                # fourth power of the step (squared Gram entries), so a loss r times too large asks
                # for the step times r^(-1/4); between 1e-4 and 0.5, 1e-3 when it is NaN or inf.
                if not use_lbfgs or opt.s is None or state["backtracks"] == MAX_BACKTRACKS:
                    tried = f" ({state['backtracks']} shorter steps did not help)" if state["backtracks"] else ""
                    raise _Stop(f"non-finite loss at evaluation {len(history)}{tried}") from None
                ratio = rejection.ratio
                opt.backtrack(min(0.5, max(1e-4, ratio ** -0.25)) if math.isfinite(ratio) and ratio > 0 else 1e-3)
                state["backtracks"] += 1
    except _Stop as stop:
        stop_reason = stop.reason
    except KeyboardInterrupt:
        stop_reason = "interrupted"
    except torch.OutOfMemoryError as e:
        advice = f"out of memory on {dev} at size {size}: try a smaller size, e.g. size={max(32, size * 2 // 3)}"
        if not history:
            raise MemoryError(advice) from e
        stop_reason = f"{advice} (stopped at evaluation {len(history) + 1})"
    finally:
        if bar is not None:
            bar.close()
    if stop_reason.startswith("non-finite"):
        warnings.warn(
            f"stylize stopped: {stop_reason}; returning the last finite image. Try a smaller beta or lr.",
            NonFiniteLossWarning, stacklevel=2,
        )
    elif stop_reason.startswith("out of memory"):
        warnings.warn(f"stylize stopped: {stop_reason}; returning the best image so far.", ResourceWarning, stacklevel=2)

    image = prep.inverse(best["z"]).clamp(0, 1)
    if preserve_color == "luminance":
        image = with_colors_of(image, original_content)
    image = image.cpu()
    settings = {
        "alpha": alpha, "beta": beta, "tv_weight": tv_weight,
        "content_layers": content_layers, "style_layers": style_layers,
        "style_layer_weights": layer_w, "style_weights": style_weights,
        "size": size, "style_scale": style_scale, "max_evals": max_evals,
        "optimizer": optimizer, "lr": lr, "init": init if isinstance(init, str) else "image",
        "preserve_color": preserve_color, "levels": 1, "seed": seed, "device": str(dev),
        "weights": model.weights, "weights_sha256": model.weights_sha256, "pooling": model.pooling,
        "content": _describe(content), "style": [_describe(s) for s in styles],
    }
    return Result(image, history, stop_reason, time.perf_counter() - started, settings)


def _cuda_graph(evaluate, z: torch.Tensor):
    """Record ``evaluate`` (forward, losses, backward into z.grad) as a CUDA graph; return a replayer.

    The graph reads z from its fixed memory (optimisers update z in place) and writes the gradient
    and the four losses into memory of its own. Two warm-up evaluations on a side stream first let
    cuDNN choose its algorithms, as torch.cuda.graph requires; they do not count as evaluations.
    """
    stream = torch.cuda.Stream(z.device)
    stream.wait_stream(torch.cuda.current_stream(z.device))
    with torch.cuda.stream(stream):
        for _ in range(2):
            z.grad = None
            evaluate()
    torch.cuda.current_stream(z.device).wait_stream(stream)
    z.grad = None
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = evaluate()
    grad = z.grad

    def replay() -> torch.Tensor:
        graph.replay()
        z.grad = grad
        return out

    return replay


def _coarse_to_fine(content, style, levels, size, max_evals, started, callback, kw) -> Result:
    """Run at size/2^(levels-1), upsample the result, refine at twice the size, ... up to ``size``."""
    # No level smaller than the deepest layer allows (its shorter side must keep a pixel there).
    h, w = load_image(content).shape[-2:]
    smallest = math.ceil(min_side(kw["content_layers"] + kw["style_layers"]) * max(h, w) / min(h, w))
    sizes = [min(size, max(smallest, round(size / 2 ** (levels - 1 - k)))) for k in range(levels)]
    budgets = [max_evals // levels + (1 if k < max_evals % levels else 0) for k in range(levels)]
    history: list[dict[str, float]] = []
    first_init, result = kw["init"], None
    for k, (level_size, budget) in enumerate(zip(sizes, budgets, strict=True)):
        offset = len(history)
        level_callback = None if callback is None else (lambda i, img, losses, o=offset: callback(o + i, img, losses))
        if k:
            kw["init"] = result.image
        result = stylize(content, style, size=level_size, max_evals=budget, callback=level_callback, **kw)
        history += [dict(h, size=level_size) for h in result.history]
        if result.stop_reason != "completed":
            break
    result.settings.update(levels=levels, size=size, max_evals=max_evals, level_sizes=sizes, level_budgets=budgets,
                           init=first_init if isinstance(first_init, str) else "image")
    return Result(result.image, history, result.stop_reason, time.perf_counter() - started, result.settings)


def _describe(source) -> str:
    """A short, path-free-of-surprises description of an image source for the manifest."""
    if isinstance(source, (str, Path)):
        return str(source)
    if isinstance(source, torch.Tensor):
        return f"tensor{tuple(source.shape)}"
    return type(source).__name__
