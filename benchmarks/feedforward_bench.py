"""Benchmark of the feed-forward network (issue #15): speed and quality against ``nt.stylize``.

Run from the repository root on a quiet machine: ``python benchmarks/feedforward_bench.py``
(``--quick``: tiny sizes, seconds, only shows that it runs). For each photo the network never
saw (``feedforward.HELD_OUT``: Tübingen, the landscape, Grace Hopper) at 256 px on the CPU:
- the network's time per photo: the median of ``--repeats`` passes after a warm-up, at the
  default thread count;
- ``nt.stylize`` at its defaults (read from nst_teach, never written here) on the same photo:
  its wall time, and the speed-up = stylize's time / the network's;
- the style and content losses of both images by ``feedforward.judge`` (stylize's everyday
  losses at the photo's size), and the ratios network / stylize.
Every case is listed, then the medians, against the issue's targets: at most 50 ms, at least
500 times faster, style loss at most 3 times and content loss at most 2 times stylize's.
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
from nst_teach.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {"ms": (50.0, "<="), "speedup": (500.0, ">="), "style_ratio": (3.0, "<="),
           "content_ratio": (2.0, "<=")}  # issue #15


def parse(argv=None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="starry_night", help="a shipped network's name or a .pt")
    p.add_argument("--style", default=None, help="the painting (default: the model's, by name)")
    p.add_argument("--photos", nargs="+", default=list(ff.HELD_OUT), help="photo names or paths")
    p.add_argument("--size", type=int, default=256, help="longest side of each photo, px")
    p.add_argument("--repeats", type=int, default=20, help="timed passes of the network")
    p.add_argument("--quick", action="store_true", help="64 px, 5 evaluations, 3 repeats")
    p.add_argument("--json", type=Path, default=None, help="where to write the results")
    args = p.parse_args(argv)
    if nt.fast_mode() and not args.quick:
        p.error("NST_TEACH_FAST is set: it shrinks stylize's defaults; unset it or use --quick")
    return args


def network_ms(net, image: torch.Tensor, repeats: int) -> float:
    """Median wall time in ms of one pass of ``net`` on ``image`` (1, 3, H, W), after a warm-up."""
    times = []
    with torch.inference_mode():
        net(image)
        for _ in range(repeats):
            start = time.perf_counter()
            net(image)
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def one_case(net, vgg, photo_source, style, args) -> dict:
    """Time and judge the network and stylize on one photo -> a row of the results."""
    photo = nt.load_image(photo_source, max_size=args.size)
    ms = network_ms(net, photo, args.repeats)
    with torch.inference_mode():
        painted = net(photo).clone()
    options = dict(max_evals=5) if args.quick else {}
    run = nt.stylize(photo, style, model=vgg, progress=False, **options)
    ours, theirs = (ff.judge(image, photo, style, vgg) for image in (painted, run.image))
    return {"photo": Path(photo_source).stem,
            "size": list(photo.shape[-2:]), "ms": ms, "stylize_s": run.seconds,
            "stylize_evals": run.evals, "speedup": 1000 * run.seconds / ms,
            "network": ours, "stylize": theirs, "style_ratio": ours["style"] / theirs["style"],
            "content_ratio": ours["content"] / theirs["content"]}


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
    return {"platform": platform.platform(), "cpus": os.cpu_count(),
            "threads": torch.get_num_threads(), "torch": torch.__version__,
            "python": platform.python_version(), "load_average": list(os.getloadavg()),
            "nst_teach": nt.__version__}


def table(cases: list[dict], summary: dict) -> str:
    """A Markdown table: every case, then the medians and the targets."""
    lines = ["| photo | network ms | stylize s | speed-up | style net/stylize | "
             "content net/stylize |", "|---|---|---|---|---|---|"]
    lines += [f"| {c['photo']} | {c['ms']:.1f} | {c['stylize_s']:.1f} | {c['speedup']:.0f}x | "
              f"{c['style_ratio']:.2f} | {c['content_ratio']:.2f} |" for c in cases]
    med = {k: v["median"] for k, v in summary.items()}
    lines.append(f"| **median** | {med['ms']:.1f} | | {med['speedup']:.0f}x | "
                 f"{med['style_ratio']:.2f} | {med['content_ratio']:.2f} |")
    lines.append("\ntargets (issue #15), by the median: " + "; ".join(
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
    net = ff.pretrained(args.model, "cpu") if args.model in ff.pretrained_names() \
        else ff.load_model(args.model, "cpu")
    style = args.style or data.style_path(args.model)
    vgg = nt.load_vgg19(device="cpu")  # stylize's everyday network
    photos = [data.content_path(p) if p in ff.HELD_OUT else Path(p) for p in args.photos]
    cases = [one_case(net, vgg, photo, style, args) for photo in photos]
    summary = verdicts(cases)
    print(table(cases, summary))
    stamp = datetime.datetime.now().strftime("%Y-%m-%d")
    path = args.json or RESULTS / f"{stamp}-feedforward{'-quick' if args.quick else ''}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"machine": started, "load_average_end": list(os.getloadavg()),
              "options": vars(args) | {"json": str(path)}, "model": net.manifest.get("settings"),
              "stylize_defaults": Settings().manifest(), "cases": cases, "summary": summary}
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
