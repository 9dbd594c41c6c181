"""Benchmark of the feed-forward networks (issues #15, #21): speed, quality, grid, colour.

Run from the repository root on a quiet machine: ``python benchmarks/feedforward_bench.py``
(``--quick``: tiny sizes, seconds, only shows that it runs). For each shipped network
(``--models``, default all) and each photo it never saw (``feedforward.HELD_OUT``: Tübingen,
Grace Hopper, scikit-learn's temple in China, the drawn landscape; ``--photos`` names others,
training photos among them) at 256 px on the CPU:
- the network's time per photo as a user gets it (``stylize_with``, default precision): the
  median of ``--repeats`` passes after a warm-up, at the default thread count;
- ``nt.stylize`` at its defaults (read from nst_teach, never written here) on the same photo:
  its wall time, and the speed-up = stylize's time / the network's;
- style and content losses of both images by ``feedforward.judge`` (stylize's everyday losses),
  and by distances written here on the *unnormalised* VGG19 (Gram matrices F F^T / M over
  relu1_1 ... relu5_1, mean squared feature difference at relu4_2): the ratios network / stylize;
- ``feedforward.grid_strength`` at periods 2 and 4 of both images (a grid stands out as a spike);
- per-channel mean and spread of the network's image, stylize's and the painting's.
Every case is listed, then the medians, against the targets: at most 50 ms, at least 500 times
faster, style loss at most 3 times and content loss at most 2 times stylize's (both measures).
Writes JSON to benchmarks/results/DATE-feedforward[-quick].json (git-ignored) or --json PATH.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

import nst_teach as nt
from nst_teach import data
from nst_teach import feedforward as ff
from nst_teach.precision import cpu_model
from nst_teach.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {"ms": (50.0, "<="), "speedup": (500.0, ">="), "style_ratio": (3.0, "<="),
           "content_ratio": (2.0, "<="), "raw_style_ratio": (3.0, "<="),
           "raw_content_ratio": (2.0, "<=")}  # issues #15, #21
STYLE_LAYERS, CONTENT_LAYER = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"), "relu4_2"


def parse(argv=None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=None,
                   help="shipped networks' names or .pt files (default: every shipped one); a "
                        "file's painting is its manifest's")
    p.add_argument("--photos", nargs="+", default=list(ff.HELD_OUT),
                   help="bundled photos to judge on (default: the held-out ones; a training "
                   "photo such as astronaut shows how much of the gap is generalisation)")
    p.add_argument("--size", type=int, default=256, help="longest side of each photo, px")
    p.add_argument("--repeats", type=int, default=20, help="timed passes of the network")
    p.add_argument("--quick", action="store_true", help="64 px, 5 evaluations, 3 repeats")
    p.add_argument("--json", type=Path, default=None, help="where to write the results")
    args = p.parse_args(argv)
    if nt.fast_mode() and not args.quick:
        p.error("NST_TEACH_FAST is set: it shrinks stylize's defaults; unset it or use --quick")
    return args


def network_ms(net, image: torch.Tensor, repeats: int) -> float:
    """Median wall time in ms of ``stylize_with`` (what the CLI runs) after a warm-up."""
    ff.stylize_with(net, image)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        ff.stylize_with(net, image)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def raw_distances(raw_vgg, image, photo, painting) -> dict[str, float]:
    """Style and content distances on the unnormalised VGG19, written here and not with the
    package's losses: sum over STYLE_LAYERS of mean (G - A)^2, G = F F^T / M (M = H * W), and
    the mean squared difference of the CONTENT_LAYER features."""
    layers = (*STYLE_LAYERS, CONTENT_LAYER)
    with torch.no_grad():
        ours, photo_f, art = (raw_vgg.extract(x, layers) for x in (image, photo, painting))

    def gram(f):
        flat = f.double().flatten(2)  # (1, C, M)
        return flat @ flat.transpose(1, 2) / flat.shape[-1]

    style = sum(((gram(ours[name]) - gram(art[name])) ** 2).mean().item() for name in STYLE_LAYERS)
    content = ((ours[CONTENT_LAYER].double() - photo_f[CONTENT_LAYER].double()) ** 2).mean()
    return {"style": style, "content": content.item()}


def one_case(net, vggs, photo_source, style, args) -> dict:
    """Time and judge the network and stylize on one photo -> a row of the results."""
    vgg, raw_vgg = vggs
    photo = nt.load_image(photo_source, max_size=args.size)
    painting = nt.load_image(style, max_size=2 * args.size)
    ms = network_ms(net, photo, args.repeats)
    painted = ff.stylize_with(net, photo)
    options = dict(max_evals=5, size=args.size) if args.quick else {}
    run = nt.stylize(photo, style, model=vgg, progress=False, **options)
    ours, theirs = (ff.judge(image, photo, style, vgg) for image in (painted, run.image))
    raw_ours, raw_theirs = (raw_distances(raw_vgg, image, photo, painting)
                            for image in (painted, run.image))
    return {"photo": Path(photo_source).stem, "model": Path(str(style)).stem,
            "size": list(photo.shape[-2:]), "ms": ms, "stylize_s": run.seconds,
            "stylize_evals": run.evals, "speedup": 1000 * run.seconds / ms,
            "network": ours, "stylize": theirs, "style_ratio": ours["style"] / theirs["style"],
            "content_ratio": ours["content"] / theirs["content"],
            "raw_style_ratio": raw_ours["style"] / raw_theirs["style"],
            "raw_content_ratio": raw_ours["content"] / raw_theirs["content"],
            "grid": {f"period_{p}": [ff.grid_strength(painted, p), ff.grid_strength(run.image, p)]
                     for p in ff.GRID_PERIODS},
            "colour": {"network": ff.colour_stats(painted), "stylize": ff.colour_stats(run.image),
                       "painting": ff.colour_stats(painting), "photo": ff.colour_stats(photo)}}


def verdicts(cases: list[dict]) -> dict:
    """The medians over cases and, per target, whether the median and every case meet it."""
    out = {}
    for key, (limit, sense) in TARGETS.items():
        values = [c[key] for c in cases]
        ok = [v <= limit if sense == "<=" else v >= limit for v in values]
        out[key] = {"target": f"{sense} {limit:g}", "median": statistics.median(values),
                    "median_met": statistics.median(values) <= limit if sense == "<="
                    else statistics.median(values) >= limit, "every_case_met": all(ok)}
    return out


def machine() -> dict:
    """Where it ran: platform, CPUs, threads, torch, load averages."""
    return {"platform": platform.platform(), "cpu": cpu_model(), "cpus": os.cpu_count(),
            "threads": torch.get_num_threads(), "torch": torch.__version__,
            "python": platform.python_version(), "load_average": list(os.getloadavg()),
            "nst_teach": nt.__version__}


def table(cases: list[dict], summary: dict) -> str:
    """A Markdown table: every case, then the medians and the targets."""
    lines = ["| network | photo | ms | stylize s | speed-up | style | content | raw style | "
             "raw content | grid p4 net / stylize | spread net / painting |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in cases:
        spread = [statistics.fmean(c["colour"][k]["spread"]) for k in ("network", "painting")]
        grid = c["grid"]["period_4"]
        lines.append(f"| {c['model']} | {c['photo']} | {c['ms']:.1f} | {c['stylize_s']:.1f} | "
                     f"{c['speedup']:.0f}x | {c['style_ratio']:.2f} | {c['content_ratio']:.2f} | "
                     f"{c['raw_style_ratio']:.2f} | {c['raw_content_ratio']:.2f} | "
                     f"{grid[0]:.0f} / {grid[1]:.0f} | {spread[0]:.3f} / {spread[1]:.3f} |")
    med = {k: v["median"] for k, v in summary.items()}
    lines.append(f"| **median** | | {med['ms']:.1f} | | {med['speedup']:.0f}x | "
                 f"{med['style_ratio']:.2f} | {med['content_ratio']:.2f} | "
                 f"{med['raw_style_ratio']:.2f} | {med['raw_content_ratio']:.2f} | | |")
    lines.append("\nratios are network / stylize; targets, by the median: " + "; ".join(
        f"{k} {v['target']}: {'met' if v['median_met'] else 'NOT met'}"
        f"{'' if v['every_case_met'] == v['median_met'] else ' (not in every case)'}"
        for k, v in summary.items()))
    return "\n".join(lines)


def main(argv=None) -> int:
    """Run every case, print the table, write the JSON."""
    args = parse(argv)
    if args.quick:
        args.size, args.repeats = 64, 3
    started = machine()
    vggs = (nt.load_vgg19(device="cpu"),  # stylize's everyday network
            nt.load_vgg19(device="cpu", normalize=False))  # the raw one, for raw_distances
    cases, models = [], {}
    for name in args.models or ff.pretrained_names():
        net = ff.pretrained(name, "cpu") if name in ff.pretrained_names() \
            else ff.load_model(name, "cpu")
        style = data.style_path(net.manifest["settings"]["style"]["name"])
        models[name] = net.manifest.get("settings")
        cases += [one_case(net, vggs, data.content_path(p), style, args) for p in args.photos]
    summary = verdicts(cases)
    print(table(cases, summary))
    stamp = datetime.datetime.now().strftime("%Y-%m-%d")
    path = args.json or RESULTS / f"{stamp}-feedforward{'-quick' if args.quick else ''}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"machine": started, "load_average_end": list(os.getloadavg()),
              "options": vars(args) | {"json": str(path)}, "models": models,
              "stylize_defaults": Settings().manifest(), "cases": cases, "summary": summary}
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
