"""Make nst_teach/vgg19_normalization.pt: the paper's per-filter means for the Caffe VGG19.

Run from the repository: `python scripts/make_normalization.py [--report]`. Offline and
deterministic. Gatys et al. (2015) scaled each filter so that its mean activation over images and
positions is 1; without ImageNet we calibrate on every bundled image (nst_teach.data.bundled(), 11
pictures), each at every size in normalization.CALIBRATION_SIZES px on the longest side, once in
the network with max pooling and once with average pooling (each network is normalised with its own
means). Each (image, size) weighs the same: a filter's mean is the mean over them of its mean over
positions. The file holds those raw means (float32, {pooling: {reluX_Y: (C,)}}), the sha256 of the
weights file they were measured on and how they were measured; the floor for near-dead filters
(normalization.FLOOR) is applied when the network is loaded, not stored.
--report also prints what chose the floor and what the normalisation does to the losses: the
floored filters and the largest normalised activation per layer for several floors, including
at 512 px (not calibrated on); leave one image out; the paper's E_l per layer (tubingen vs
starry_night); the paper-mode first evaluation from noise.
"""

from __future__ import annotations

import argparse
import time

import torch

import nst_teach as nt
from nst_teach import data, normalization, vgg
from nst_teach.images import load_image
from nst_teach.stats import gram_matrix

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")  # the paper's
FLOORS = (0.0, 0.02, 0.05, 0.1, 0.2)  # the floors --report compares
REPORT_SIZES = (*normalization.CALIBRATION_SIZES, 512)  # 512: the package's largest everyday size


@torch.no_grad()
def image_stats(model, image) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Per ReLU channel: (mean over positions, as normalization.image_channel_means; max over
    positions)."""
    out = model.extract(image, vgg.RELU_NAMES)
    return {name: (f.double().mean(dim=(0, 2, 3)), f.double().amax(dim=(0, 2, 3)))
            for name, f in out.items()}


def measure(pooling: str, names, sizes) -> dict[tuple[str, int], dict]:
    """The unnormalised network's image_stats for every (image, size): {(name, size): stats}."""
    model = vgg.load_vgg19("caffe", device="cpu", pooling=pooling)
    stats = {}
    for name in names:
        for size in sizes:
            stats[name, size] = image_stats(model, load_image(data.bundled(name), size))
    return stats


def average(stats, names, sizes=normalization.CALIBRATION_SIZES) -> dict[str, torch.Tensor]:
    """Mean over the (image, size) pairs, each weighing the same: {reluX_Y: (C,) float64}."""
    return {layer: torch.stack([stats[n, s][layer][0] for n in names for s in sizes]).mean(0)
            for layer in vgg.RELU_NAMES}


def save_cache(means, names, weights_sha256: str) -> None:
    """Write NORMALIZATION_FILE: float32 means per pooling, the weights' sha256, how measured."""
    cache = {
        "weights_sha256": weights_sha256,
        "weights_file": vgg.CAFFE_FILE,
        "images": list(names),
        "sizes": list(normalization.CALIBRATION_SIZES),
        "poolings": list(means),
        "average": "mean over (image, size) pairs, each weighing the same, of each one's mean over "
                   "positions; measured in the unnormalised network with that pooling",
        "means": {pooling: {name: m.float().contiguous() for name, m in per_layer.items()}
                  for pooling, per_layer in means.items()},
    }
    torch.save(cache, normalization.NORMALIZATION_FILE)


def largest(stats, factors, names, sizes) -> dict[str, float]:
    """Largest normalised activation per layer over the given images and sizes."""
    return {layer: max(float((stats[n, s][layer][1] / factors[layer].double()).max())
                       for n in names for s in sizes) for layer in vgg.RELU_NAMES}


def floor_report(pooling: str, stats, names) -> None:
    """Print per layer: filters floored, and the largest normalised activation for each floor."""
    means = average(stats, names)
    cal, total = normalization.CALIBRATION_SIZES, sum(m.numel() for m in means.values())
    print(f"\n{pooling} pooling: filters floored (of C) and largest normalised activation over "
          f"the {len(names)} images at {'/'.join(map(str, cal))} px, then at 512 px, per floor q")
    head = " ".join(f"{q:>6}" for q in FLOORS)
    print(f"{'':22}| {'calibration sizes':^34} | {'512 px':^34}")
    print(f"{'layer':8} {'C':>4} {'floored':>7} | {head} | {head}")
    tables = {q: normalization.normalization_factors(means, q) for q in FLOORS}
    at_cal = {q: largest(stats, tables[q], names, cal) for q in FLOORS}
    at_512 = {q: largest(stats, tables[q], names, (512,)) for q in FLOORS}
    for layer in vgg.RELU_NAMES:
        hit = int(normalization.floored(means)[layer].sum())
        row = " ".join(f"{at_cal[q][layer]:6.0f}" for q in FLOORS)
        row512 = " ".join(f"{at_512[q][layer]:6.0f}" for q in FLOORS)
        print(f"{layer:8} {means[layer].numel():4d} {hit:7d} | {row} | {row512}")
    for q in FLOORS:
        hit = sum(int(v.sum()) for v in normalization.floored(means, q).values())
        print(f"  q = {q}: {hit} of {total} filters floored ({100 * hit / total:.1f} %)")


def leave_one_out(stats, names) -> None:
    """Print per layer: a left-out image's channel means under the others' factors (q = FLOOR)."""
    print("\nleave one image out (all its sizes): its channel means, the others' factors")
    print(f"{'layer':8} {'median':>7} {'99th pct':>8} {'max':>8}")
    held = {layer: [] for layer in vgg.RELU_NAMES}
    for name in names:
        others = [n for n in names if n != name]
        factors = normalization.normalization_factors(average(stats, others))
        own = average(stats, [name])
        for layer in vgg.RELU_NAMES:
            held[layer].append(own[layer] / factors[layer].double())
    for layer, values in held.items():
        v = torch.cat(values)
        print(f"{layer:8} {v.median():7.2f} {v.quantile(0.99):8.2f} {v.max():8.1f}")


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


def gram_report(sizes=(128, 256)) -> None:
    """Print E_l per style layer for tubingen vs starry_night, unnormalised and normalised."""
    print("\npaper's E_l, tubingen vs starry_night (unnormalised Grams): plain -> normalised")
    layers = " ".join(f"{n:>19}" for n in STYLE_LAYERS)
    print(f"{'size':>4} {'pool':4} {layers}  E5/E1 plain, normalised")
    for size in sizes:
        content = load_image(data.content_path("tubingen"), size)
        style = load_image(data.style_path("starry_night"), size)
        for pooling in vgg.POOLINGS:
            with torch.no_grad():
                models = [vgg.load_vgg19("caffe", device="cpu", pooling=pooling, normalize=on)
                          for on in (False, True)]
                e = [style_scale(model, content, style) for model in models]
            cells = " ".join(f"{e[0][n]:8.2e}->{e[1][n]:8.2e}" for n in STYLE_LAYERS)
            ratios = ", ".join(f"{x['relu5_1'] / x['relu1_1']:.2g}" for x in e)
            print(f"{size:4d} {pooling:4} {cells}  {ratios}")


def paper_start_report(size: int = 128) -> None:
    """Print alpha * content and beta * style at the paper-mode first evaluation (from noise)."""
    content, style = data.content_path("tubingen"), data.style_path("starry_night")
    run = nt.stylize(content, style, paper=True, size=size, max_evals=1, progress=False)
    first = run.history[0]
    a, b = 1e-3 * first["content"], 1.0 * first["style"]
    print(f"\npaper mode, {size} px, first evaluation from noise: alpha*content = {a:.3e}, "
          f"beta*style = {b:.3e}, ratio {b / a:.3g}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="print the measurements")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    names = list(data.bundled())
    sizes = REPORT_SIZES if args.report else normalization.CALIBRATION_SIZES
    stats = {pooling: measure(pooling, names, sizes) for pooling in vgg.POOLINGS}
    means = {pooling: average(stats[pooling], names) for pooling in vgg.POOLINGS}
    save_cache(means, names, vgg.file_sha256(str(vgg.caffe_weights_path())))
    hit = {p: sum(int(v.sum()) for v in normalization.floored(m).values())
           for p, m in means.items()}
    elapsed = time.perf_counter() - start
    sizes = len(normalization.CALIBRATION_SIZES)
    print(f"wrote {normalization.NORMALIZATION_FILE} ({len(names)} images x {sizes} "
          f"sizes; filters below the floor: {hit}) in {elapsed:.0f} s")
    if args.report:
        for pooling in vgg.POOLINGS:
            floor_report(pooling, stats[pooling], names)
            leave_one_out(stats[pooling], names)
        gram_report()
        paper_start_report()


if __name__ == "__main__":
    main()
