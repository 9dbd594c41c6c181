"""Make nst_teach/vgg19_normalization.pt: the paper's per-filter means for the Caffe VGG19.

Run from the repository: `python scripts/make_normalization.py [--report]`. Offline and
deterministic. Gatys et al. (2015) scaled each filter so that its mean activation over images
and positions is 1; without ImageNet we calibrate on every bundled image (nst_teach.data.bundled(),
11 pictures) at vgg.CALIBRATION_SIZE px on the longest side, with max pooling (the network as
trained). Each image weighs the same: a filter's mean is the mean over images of its mean over
that image's positions. The file holds those means (float32, one (C,) tensor per ReLU layer),
the sha256 of the weights file they were measured on and the calibration settings.
--report also prints how stable the means are (leave one image out) and the paper's style-loss
scale E_l per layer, tubingen vs starry_night, before and after normalisation.
"""

from __future__ import annotations

import argparse
import time

import torch

from nst_teach import data, vgg
from nst_teach.stats import gram_matrix

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")  # the paper's


def per_image_means(model, names) -> list[dict[str, torch.Tensor]]:
    """Each calibration image's mean of each ReLU channel over positions: [{reluX_Y: (C,)}]."""
    return [vgg.image_channel_means(model, image) for image in vgg.calibration_images(names)]


def average(per_image) -> dict[str, torch.Tensor]:
    """Mean over images, each weighing the same: {reluX_Y: (C,) float64}."""
    return {name: torch.stack([m[name] for m in per_image]).mean(0) for name in vgg.RELU_NAMES}


def save_cache(means, names, weights_sha256: str) -> None:
    """Write NORMALIZATION_FILE: float32 means, the weights' sha256, how they were measured."""
    cache = {
        "weights_sha256": weights_sha256,
        "weights_file": vgg.CAFFE_FILE,
        "images": list(names),
        "size": vgg.CALIBRATION_SIZE,
        "pooling": "max",
        "average": "mean over images of each image's mean over positions",
        "means": {name: m.float().contiguous() for name, m in means.items()},
    }
    torch.save(cache, vgg.NORMALIZATION_FILE)


def leave_one_out(per_image) -> None:
    """Print per layer: left-out image's channel means under the others' factors, and the factors' drift."""
    print("leave one image out (medians over the 11 images x channels; dead channels skipped):")
    print(f"{'layer':8} {'|m_out/m_rest - 1|':>18} {'|m_rest/m_all - 1|':>18} {'dead':>5}")
    full = average(per_image)
    for name in vgg.RELU_NAMES:
        stack = torch.stack([m[name] for m in per_image])
        out, drift = [], []
        for i in range(len(per_image)):
            rest = torch.cat([stack[:i], stack[i + 1 :]]).mean(0)
            alive = (rest > 0) & (full[name] > 0)
            out.append(stack[i][alive] / rest[alive])
            drift.append(rest[alive] / full[name][alive])
        out, drift = (torch.cat(out) - 1).abs(), (torch.cat(drift) - 1).abs()
        dead = int((full[name] == 0).sum())
        print(f"{name:8} {out.median():18.3f} {drift.median():18.3f} {dead:5d}")


def style_scale(model, content, style) -> dict[str, float]:
    """The paper's E_l = 1/(4 N^2 M^2) sum (G - A)^2 per style layer, G = F F^T (each / its M)."""
    fc, fs = model.extract(content, STYLE_LAYERS), model.extract(style, STYLE_LAYERS)
    scale = {}
    for name in STYLE_LAYERS:
        n = fc[name].shape[1]
        # Grams divided by each image's own M: the paper's formula when both sizes are equal.
        g, a = gram_matrix(fc[name], "hw"), gram_matrix(fs[name], "hw")
        scale[name] = float(((g - a) ** 2).sum() / (4 * n**2))
    return scale


def gram_report(size: int) -> None:
    """Print E_l per style layer for tubingen vs starry_night, unnormalised and normalised."""
    from nst_teach.images import load_image

    content = load_image(data.bundled("tubingen"), size)
    style = load_image(data.bundled("starry_night"), size)
    with torch.no_grad():
        before = style_scale(vgg.load_vgg19("caffe", device="cpu"), content, style)
        after = style_scale(vgg.load_vgg19("caffe", device="cpu", normalize=True), content, style)
    print(f"\npaper's E_l, tubingen vs starry_night at {size} px (max pooling):")
    print(f"{'layer':8} {'unnormalised':>13} {'/ relu1_1':>10} {'normalised':>11} {'/ relu1_1':>10}")
    for name in STYLE_LAYERS:
        b, a = before[name], after[name]
        r0, r1 = b / before["relu1_1"], a / after["relu1_1"]
        print(f"{name:8} {b:13.3e} {r0:10.3g} {a:11.3e} {r1:10.3g}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="print stability and loss scales")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    names = list(data.bundled())
    model = vgg.load_vgg19("caffe", device="cpu", pooling="max")
    per_image = per_image_means(model, names)
    means = average(per_image)
    save_cache(means, names, model.weights_sha256)
    dead = sum(int((m == 0).sum()) for m in means.values())
    elapsed = time.perf_counter() - start
    print(f"wrote {vgg.NORMALIZATION_FILE} ({len(names)} images, {dead} dead filters) in {elapsed:.0f} s")
    if args.report:
        leave_one_out(per_image)
        gram_report(vgg.CALIBRATION_SIZE)


if __name__ == "__main__":
    main()
