"""Style transfer: optimise the pixels of a target image through a frozen VGG19 (Gatys et al. 2015).

Taught in notebook 07, whose hand-written loop uses the same names. The deck's algorithm:
freeze the CNN -> load content and style -> extract their features (P for the content, the Gram
matrices A for the style) -> make a trainable target image -> loss = alpha * content MSE +
beta * style MSE (+ tv) -> back-propagate into the target image's pixels, repeatedly.
``stylize`` reads in those steps; ``paint`` is the algorithm at one size, ``coarse_to_fine`` runs
it at growing sizes, and the loop itself (budget, safeguards, callback) is ``nst_teach.optimize``.

The target is the image itself, pixels in [0, 1]; the loss passes it through the network's own
preprocessing. L-BFGS keeps every iterate inside [0, 1] (``nst_teach.lbfgs``: bounds, max_move),
so the loss recorded for each evaluation is the loss of a valid image, and the image returned is
the one whose loss is reported.
L-BFGS (nst_teach/lbfgs.py) runs without a line search, as in jcjohnson/neural-style, and keeps
20 pairs (``Settings.lbfgs_history``) with a pyramid-smoothing start that fades out over the run
(``optimize.pyramid_smoothing``, ``PYRAMID_FADE``); benchmarks/README.md has the measurements
behind these choices.
"""

from __future__ import annotations

import inspect
import math
import time
import warnings
from dataclasses import fields
from pathlib import Path

import torch
import torch.nn.functional as nnf

from .color import luminance, match_color, match_luminance, with_colors_of
from .images import load_image, resize_longest
from .loss_terms import LossTerms
from .losses import (
    layer_weights,
    style_targets,
)
from .optimize import Run, make_optimizer, optimize
from .precision import resolve
from .presets import pick_device, preset
from .result import Result
from .settings import CONTENT_LAYERS, INITS, OPTIMIZERS, PRESERVE_COLOR, STYLE_LAYERS, Settings
from .vgg import LAYER_INDEX, VGG19Features, load_vgg19, min_side

__all__ = [
    "CONTENT_LAYERS",
    "INITS",
    "OPTIMIZERS",
    "PRESERVE_COLOR",
    "STYLE_LAYERS",
    "LossTerms",
    "NonFiniteLossWarning",
    "Result",
    "Settings",
    "coarse_to_fine",
    "paint",
    "stylize",
]


class NonFiniteLossWarning(RuntimeWarning):
    """The loss became NaN or infinite; the run stopped and kept its last finite image."""


def stylize(content, style, *, model: VGG19Features | None = None, callback=None,
            progress: bool = True, **options) -> Result:
    """Neural style transfer: minimise alpha*L_content + beta*L_style + tv_weight*L_tv.

    content, style: anything ``load_image`` takes; ``style`` may be a list, blended by
    ``style_weights``. options: the fields of ``Settings`` (alpha, beta, size, max_evals, init,
    levels, precision, ...; each is documented there and in ``python -m nst_teach stylize --help``).
    callback(i, image, losses) is called after each evaluation; return True from it to stop.
    Ctrl-C stops too, keeping the best image. Returns a Result: .image (1, 3, H, W) in [0, 1],
    .losses (the image's own, in float32), .history (one dict per evaluation), .manifest().
    """
    started = time.perf_counter()
    settings = Settings.from_options(options)  # 0. check every option before any work
    device = pick_device(settings.device if model is None else model.device)
    defaults = preset(device)
    settings = settings.replace(device=device, size=settings.size or defaults.size,
                                max_evals=settings.max_evals or defaults.max_evals)
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    style_weights = blend_weights(styles, settings.style_weights)
    # 1. Import and freeze a pretrained CNN
    if model is None:
        model = load_vgg19(settings.weights, device=device, pooling=settings.pooling,
                           normalize=settings.normalize)
    _check_model(model, settings)
    # 2. Import the content and style images (resized for each size in paint)
    content_image, style_images = load_image(content), [load_image(s) for s in styles]
    images = (content_image, style_images, style_weights, settings, model, callback, progress)
    if settings.levels > 1:  # coarse to fine: steps 3-9 at growing sizes
        run, sizes, budgets = coarse_to_fine(*images)
        extra = dict(level_sizes=sizes, level_budgets=budgets)
    else:  # steps 3-9 at one size
        run, extra = paint(*images), {}
    image = run.best
    if settings.preserve_color == "luminance":  # the content's colours on the luminance
        image = with_colors_of(image, resize_longest(content_image, settings.size).to(image.device))
    details = {
        "style_layer_weights": layer_weights(settings.style_layers, settings.style_layer_weights),
        "style_weights": style_weights, "weights": model.weights,
        "weights_sha256": model.weights_sha256, "pooling": model.pooling,
        "normalize": model.normalized, "precision_used": resolve(settings.precision, device),
        "content": _describe(content), "style": [_describe(s) for s in styles], **extra,
    }
    _warn_if_stopped_early(run.stop_reason)
    return Result(image.cpu(), run.history, run.stop_reason, time.perf_counter() - started,
                  settings, run.best_losses, details)


def paint(content_image, style_images, style_weights, settings: Settings, model, callback=None,
          progress=False, start: torch.Tensor | None = None) -> Run:
    """The deck's algorithm at one size (settings.size), from ``start`` or settings.init: steps 3-9.

    content_image (1, 3, H, W) and style_images [(1, 3, h, w)] in [0, 1], as loaded; they are
    resized here (the content to settings.size, each style to style_scale * size). Returns the
    optimiser's Run: .best (the returned image), .best_losses (its float32 losses), .history.
    """
    content_image, style_images = prepare_images(content_image, style_images, settings)
    # 3. Compute the feature maps; 4. extract the targets: P (content), A (blended style Grams)
    P, A = extract_targets(model, content_image, style_images, style_weights, settings)
    # 5. Make a trainable target image: its pixels, in [0, 1], are what the optimiser changes
    target = initial_target(content_image, style_images, settings, start)
    # 6.-8. The loss: alpha * contentMSE + beta * styleMSE (+ tv_weight * total variation)
    loss_terms = LossTerms(model, P, A, settings)
    # 9. Back-propagate into the target image, evaluation after evaluation
    optimizer = make_optimizer(target, settings.optimizer, settings.lr, settings.lbfgs_history,
                               settings.max_evals)
    bar = _progress_bar(settings.max_evals) if progress else None
    # the returned image's losses are its float32 ones, computed again if the network ran in bf16
    exact = None if loss_terms.precision == "fp32" else loss_terms.exact
    run = optimize(loss_terms, target, optimizer, max_evals=settings.max_evals, callback=callback,
                   bar=bar, report=exact)
    # each evaluation's record says in which precision the network ran
    run.history = [dict(record, precision=loss_terms.precision) for record in run.history]
    return run


def coarse_to_fine(content_image, style_images, style_weights, settings: Settings, model,
                   callback=None, progress=False):
    """``paint`` at size/2^(levels-1), then at twice that from the upsampled result, ... to size.

    The budget is split evenly; no level is smaller than the deepest layer allows. Returns
    (the last level's Run with the whole history, each record tagged with its level's size,
    sizes, budgets).
    """
    levels, size, max_evals = settings.levels, settings.size, settings.max_evals
    h, w = content_image.shape[-2:]
    # No level smaller than the deepest layer allows (its shorter side must keep a pixel there).
    deepest = min_side(settings.content_layers + settings.style_layers)
    smallest = math.ceil(deepest * max(h, w) / min(h, w))
    sizes = [min(size, max(smallest, round(size / 2 ** (levels - 1 - k)))) for k in range(levels)]
    budgets = [max_evals // levels + (1 if k < max_evals % levels else 0) for k in range(levels)]
    history: list[dict[str, float]] = []
    run = None
    for level_size, budget in zip(sizes, budgets, strict=True):
        offset = len(history)
        level_callback = None if callback is None else (
            lambda i, img, losses, o=offset: callback(o + i, img, losses))
        level = settings.replace(size=level_size, max_evals=budget)
        run = paint(content_image, style_images, style_weights, level, model, level_callback,
                    progress, start=None if run is None else run.best)
        history += [dict(h, size=level_size) for h in run.history]
        if run.stop_reason != "completed":
            break
    run.history = history
    return run, sizes, budgets


def blend_weights(styles: list, weights) -> list[float]:
    """One weight per style image, summing to one (equal when None)."""
    if not styles:
        raise ValueError("give at least one style image")
    weights = [1.0] * len(styles) if weights is None else list(weights)
    if len(weights) != len(styles):
        raise ValueError(
            f"need one positive-sum weight per style image: {len(styles)} styles, weights {weights}"
        )
    return [w / sum(weights) for w in weights]


def prepare_images(content_image, style_images, settings: Settings):
    """Resize to settings.size (style: style_scale * size), check the size, preserve colour."""
    device = settings.device
    content_image = resize_longest(content_image, settings.size).to(device)
    needed = min_side(settings.content_layers + settings.style_layers)
    if min(content_image.shape[-2:]) < needed:
        deepest = max(settings.content_layers + settings.style_layers, key=LAYER_INDEX.get)
        raise ValueError(
            f"a {content_image.shape[-2]}x{content_image.shape[-1]} px image is too small for "
            f"{deepest} (needs at least {needed} px on each side): use a larger size, fewer "
            "levels, or shallower layers"
        )
    style_size = round(settings.size * settings.style_scale)
    # each style image keeps at least `needed` px on its shorter side, whatever its shape
    style_images = [
        resize_longest(
            s, max(style_size, math.ceil(needed * max(s.shape[-2:]) / min(s.shape[-2:])))
        ).to(device)
        for s in style_images
    ]
    if settings.preserve_color == "histogram":
        style_images = [match_color(s, content_image) for s in style_images]
    elif settings.preserve_color == "luminance":
        # Transfer on grey images: the content's luminance, and each style's luminance shifted
        # to the content's mean and spread; the content's colours go back on at the end.
        content_y = luminance(content_image)
        style_images = [
            match_luminance(luminance(s), content_y).expand(-1, 3, -1, -1) for s in style_images
        ]
        content_image = content_y.expand(-1, 3, -1, -1)
    return content_image, style_images


@torch.no_grad()
def extract_targets(model, content_image, style_images, style_weights, settings: Settings):
    """P = {layer: content feature map}, A = {layer: blended style Gram matrix}, computed once."""
    P = {k: v.detach() for k, v in model.extract(content_image, settings.content_layers).items()}
    # Blending Gram targets with weights that sum to one has the same gradient as summing the
    # weighted per-style losses, at the cost of one target per layer.
    grams = [
        style_targets(model.extract(s, settings.style_layers)) for s in style_images
    ]  # F F^T / M_style
    A = {
        name: sum(w * g[name] for w, g in zip(style_weights, grams, strict=True))
        for name in settings.style_layers
    }
    if settings.paper:
        # The paper's A_l = F F^T sums over positions, and its images had one size: here the style's
        # Gram is scaled to the target's number of positions M_l, whatever the style image's size.
        positions = {
            k: v.shape[-2] * v.shape[-1]
            for k, v in model.extract(content_image, settings.style_layers).items()
        }
        A = {name: a * positions[name] for name, a in A.items()}
    return P, A


def initial_target(content_image, style_images, settings: Settings, start=None) -> torch.Tensor:
    """The trainable target image (1, 3, H, W) in [0, 1]: start, the content, the style or noise.

    "noise" (the paper's white-noise start, notebooks 05 and 08) is mid-grey plus Gaussian white
    noise of standard deviation 0.05, clamped to [0, 1] and drawn from settings.seed. The authors'
    own code starts from Gaussian noise of one grey level around the mean colour, not from noise
    over the whole range: a uniform [0, 1] start leaves its pixel-level speckle in the result (a
    192 px paper-mode run ends about three times as rough, at the same loss within 1%).
    """
    init = settings.init if start is None else start
    shape = content_image.shape[-2:]
    if isinstance(init, torch.Tensor):
        image = nnf.interpolate(
            load_image(init), size=shape, mode="bilinear", align_corners=False
        ).to(content_image.device)
        if settings.preserve_color == "luminance":
            image = luminance(image).expand(-1, 3, -1, -1)
    elif init == "content":
        image = content_image
    elif init == "style":
        image = nnf.interpolate(style_images[0], size=shape, mode="bilinear", align_corners=False)
    else:
        generator = torch.Generator().manual_seed(settings.seed)
        noise = torch.randn(content_image.shape, generator=generator)
        image = (0.5 + 0.05 * noise).clamp(0, 1).to(content_image.device)  # white noise, see above
    return image.detach().clone().contiguous().requires_grad_(True)


def _check_model(model: VGG19Features, settings: Settings) -> None:
    """paper=True needs the paper's network: normalised, with average pooling."""
    if settings.paper and not (model.normalized and model.pooling == "avg"):
        raise ValueError(
            "paper=True needs the paper's network: pass "
            "model=load_vgg19(normalize=True, pooling='avg'), "
            "or no model"
        )


def _progress_bar(total: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="stylize", unit="eval", leave=True)


def _warn_if_stopped_early(stop_reason: str) -> None:
    if stop_reason.startswith("non-finite"):
        warnings.warn(
            f"stylize stopped: {stop_reason}; returning the last finite image. "
            "Try a smaller beta or lr.",
            NonFiniteLossWarning,
            stacklevel=3,
        )
    elif stop_reason.startswith("out of memory"):
        warnings.warn(
            f"stylize stopped: {stop_reason}; returning the best image so far.",
            ResourceWarning,
            stacklevel=3,
        )


def _describe(source) -> str:
    """A short description of an image source for the manifest."""
    if isinstance(source, (str, Path)):
        return str(source)
    if isinstance(source, torch.Tensor):
        return f"tensor{tuple(source.shape)}"
    return type(source).__name__


def _signature() -> inspect.Signature:
    """stylize's signature as users see it: content, style, every Settings field, then model,
    callback, progress."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [
        inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in ("content", "style")
    ]
    params += [inspect.Parameter(f.name, keyword, default=f.default) for f in fields(Settings)]
    params += [
        inspect.Parameter(n, keyword, default=d)
        for n, d in (("model", None), ("callback", None), ("progress", True))
    ]
    return inspect.Signature(params, return_annotation=Result)


stylize.__signature__ = _signature()
