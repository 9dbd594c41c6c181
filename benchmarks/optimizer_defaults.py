"""Which starting curvature should stylize's L-BFGS use? (issue #20: many kinds of painting)

Runs ``nt.stylize`` at its defaults (the preset of the device, the default precision and thread
count) on photograph/painting pairs of every kind the project has (colourful, expressionist,
geometric, high-contrast, black and white, a photograph as the "painting"), once per strength of
the pyramid-smoothing preconditioner (``optimize.pyramid_smoothing``'s weight; 0 is no
preconditioner), and the tutorial loop once per pair. Every loss is the float32 loss of the
returned image (``result.losses``; the tutorial's is its own float32 loss). Prints one row per pair
and the medians, and writes JSON to benchmarks/results/DATE-optimizer-defaults.json.

    python benchmarks/optimizer_defaults.py [--weights 2 1 0.5 0] [--pairs tubingen/waves ...]

Run it on a quiet machine: it takes about 25 s per run with bfloat16 units, 35 s without.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the benchmark's pairs, images and tutorial loop)

import nst_teach as nt  # noqa: E402
from nst_teach import optimize  # noqa: E402
from nst_teach.precision import cpu_model  # noqa: E402
from nst_teach.presets import preset  # noqa: E402

# bench.PRECISION_PAIRS plus a photograph as the "painting" (kinds: see bench.py)
PAIRS = bench.PRECISION_PAIRS + ("landscape:data/photos/coffee.jpg",)


@contextlib.contextmanager
def pyramid_weight(weight: float, levels: int | None = None):
    """stylize's L-BFGS with the preconditioner's weight (0: none) and levels set for a while."""
    before = optimize.pyramid_smoothing
    levels = levels or before.__defaults__[0]
    optimize.pyramid_smoothing = (
        (lambda shape: None) if weight == 0
        else (lambda shape: before(shape, levels=levels, weight=weight)))
    try:
        yield
    finally:
        optimize.pyramid_smoothing = before


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=float, nargs="+",
                        default=[optimize.PYRAMID_WEIGHT, 1.0, 0.0])
    parser.add_argument("--pairs", nargs="+", default=list(PAIRS))
    parser.add_argument("--levels", type=int, default=None,
                        help="the preconditioner's levels (default: optimize.PYRAMID_LEVELS)")
    parser.add_argument("--history", type=int, default=None,
                        help="L-BFGS pairs remembered (default: stylize's)")
    parser.add_argument("--no-tutorial", action="store_true")
    args = parser.parse_args(argv)
    model = nt.load_vgg19("caffe", device="cpu")
    rows = []
    for name in args.pairs:
        pair = bench.parse_pair(name)
        row = {"pair": pair["name"], "runs": {}}
        for weight in args.weights:
            with pyramid_weight(weight, args.levels):
                t0 = time.perf_counter()
                options = {} if args.history is None else {"lbfgs_history": args.history}
                r = nt.stylize(pair["content"], pair["style"], model=model, progress=False,
                               **options)
                row["runs"][str(weight)] = {"loss": r.losses["total"],
                                            "seconds": time.perf_counter() - t0}
        if not args.no_tutorial:
            p = preset(model.device)
            run = bench.tutorial_run(model, pair, p.size, p.max_evals)
            row["tutorial"] = {"loss": run["losses"][-1], "seconds": run["seconds"]}
        rows.append(row)
        print(pair["name"], json.dumps(row, default=float), flush=True)
    report(rows, args.weights)
    out = bench.RESULTS / f"{datetime.datetime.now():%Y-%m-%d-%H%M}-optimizer-defaults.json"
    out.write_text(json.dumps({"cpu": cpu_model(), "threads": torch.get_num_threads(),
                               "history": args.history, "levels": args.levels, "rows": rows},
                              indent=1))
    print(f"wrote {out}")
    return 0


def report(rows: list[dict], weights: list[float]) -> None:
    """Markdown: each pair's final losses per weight (and against the tutorial), then medians."""
    head = " | ".join(f"weight {w:g}" for w in weights)
    print(f"\n| pair | {head} | tutorial | best weight |\n|---" + "|---" * (len(weights) + 2) + "|")
    ratios = {w: [] for w in weights}
    for row in rows:
        losses = [row["runs"][str(w)]["loss"] for w in weights]
        best = min(range(len(weights)), key=losses.__getitem__)
        tut = row.get("tutorial", {}).get("loss")
        for w, loss in zip(weights, losses, strict=True):
            ratios[w].append(loss / tut if tut else loss / min(losses))
        cells = " | ".join(f"{v:.4g}" for v in losses)
        print(f"| {row['pair']} | {cells} | {tut if tut is None else f'{tut:.4g}'} | "
              f"{weights[best]:g} |")
    against = "the tutorial's" if all("tutorial" in r for r in rows) else "the best weight's"
    for w in weights:
        print(f"weight {w:g}: final loss / {against}: median {statistics.median(ratios[w]):.3f}, "
              f"worst {max(ratios[w]):.3f}")


if __name__ == "__main__":
    raise SystemExit(main())
