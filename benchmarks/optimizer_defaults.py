"""Which starting curvature should stylize's L-BFGS use? (issue #20: many kinds of painting)

Runs ``nt.stylize`` at its defaults (the preset of the device, the default precision and thread
count) on photograph/painting pairs of every kind the project has (colourful, expressionist,
geometric, high-contrast, black and white, a photograph as the "painting"), once per strength of
the pyramid-smoothing preconditioner (``optimize.pyramid_smoothing``'s weight; 0 is no
preconditioner), and the tutorial loop once per pair. Every loss is the float32 loss of the
returned image (``result.losses``; the tutorial's is its own float32 loss). Prints one row per pair
and the medians, and writes JSON to benchmarks/results/DATE-optimizer-defaults.json.

    python benchmarks/optimizer_defaults.py [--weights 2 1 0.5 0] [--fades 1 0.5]
        [--pairs tubingen/waves ...] [--tutorial-from benchmarks/results/EARLIER.json]

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
def pyramid_weight(weight: float, levels: int | None = None, fade: float | None = -1.0):
    """stylize's L-BFGS with the preconditioner's weight (0: none), levels and fade (the fraction
    of the evaluations over which it fades out; None: never; -1: stylize's) set for a while."""
    before, fade_before = optimize.pyramid_smoothing, optimize.PYRAMID_FADE
    levels = levels or before.__defaults__[0]
    optimize.pyramid_smoothing = (
        (lambda shape: None) if weight == 0
        else (lambda shape: before(shape, levels=levels, weight=weight)))
    if fade != -1.0:
        optimize.PYRAMID_FADE = fade
    try:
        yield
    finally:
        optimize.pyramid_smoothing, optimize.PYRAMID_FADE = before, fade_before


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=float, nargs="+",
                        default=[optimize.PYRAMID_WEIGHT, 1.0, 0.0])
    parser.add_argument("--pairs", nargs="+", default=list(PAIRS))
    parser.add_argument("--levels", type=int, default=None,
                        help="the preconditioner's levels (default: optimize.PYRAMID_LEVELS)")
    parser.add_argument("--fades", type=float, nargs="+", default=None,
                        help="also run the default weight fading out over these fractions of the "
                        "evaluations (0: never fades)")
    parser.add_argument("--history", type=int, default=None,
                        help="L-BFGS pairs remembered (default: stylize's)")
    parser.add_argument("--no-tutorial", action="store_true")
    parser.add_argument("--tutorial-from", type=Path, default=None,
                        help="take the tutorial loop's losses from an earlier results file of "
                        "this benchmark (same machine and preset) instead of running it again")
    args = parser.parse_args(argv)
    model = nt.load_vgg19("caffe", device="cpu")
    earlier = {} if args.tutorial_from is None else {
        r["pair"]: r["tutorial"] for r in json.loads(args.tutorial_from.read_text())["rows"]
        if "tutorial" in r}
    variants = [(w, -1.0, str(w)) for w in args.weights] + [
        (optimize.PYRAMID_WEIGHT, f or None, f"fade {f:g}") for f in args.fades or []]
    rows = []
    for name in args.pairs:
        pair = bench.parse_pair(name)
        row = {"pair": pair["name"], "runs": run_variants(model, pair, variants, args)}
        if pair["name"] in earlier:
            row["tutorial"] = {**earlier[pair["name"]], "from": str(args.tutorial_from)}
        elif not args.no_tutorial:
            p = preset(model.device)
            run = bench.tutorial_run(model, pair, p.size, p.max_evals)
            row["tutorial"] = {"loss": run["losses"][-1], "seconds": run["seconds"]}
        rows.append(row)
        print(pair["name"], json.dumps(row, default=float), flush=True)
    report(rows, [*map(str, args.weights), *(f"fade {f:g}" for f in args.fades or [])])
    out = bench.RESULTS / f"{datetime.datetime.now():%Y-%m-%d-%H%M}-optimizer-defaults.json"
    out.write_text(json.dumps({"cpu": cpu_model(), "threads": torch.get_num_threads(),
                               "history": args.history, "levels": args.levels, "rows": rows},
                              indent=1))
    print(f"wrote {out}")
    return 0


def run_variants(model, pair: dict, variants: list[tuple], args) -> dict:
    """stylize at its defaults on one pair, once per (weight, fade, key): {key: loss, seconds}."""
    runs = {}
    for weight, fade, key in variants:
        with pyramid_weight(weight, args.levels, fade):
            t0 = time.perf_counter()
            options = {} if args.history is None else {"lbfgs_history": args.history}
            r = nt.stylize(pair["content"], pair["style"], model=model, progress=False, **options)
            runs[key] = {"loss": r.losses["total"], "seconds": time.perf_counter() - t0}
    return runs


def report(rows: list[dict], weights: list[str]) -> None:
    """Markdown: each pair's final losses per variant (and against the tutorial), then medians."""
    label = lambda key: key if key.startswith("fade") else f"weight {float(key):g}"  # noqa: E731
    head = " | ".join(label(w) for w in weights)
    print(f"\n| pair | {head} | tutorial | best weight |\n|---" + "|---" * (len(weights) + 2) + "|")
    ratios = {w: [] for w in weights}
    for row in rows:
        losses = [row["runs"][w]["loss"] for w in weights]
        best = min(range(len(weights)), key=losses.__getitem__)
        tut = row.get("tutorial", {}).get("loss")
        for w, loss in zip(weights, losses, strict=True):
            ratios[w].append(loss / tut if tut else loss / min(losses))
        cells = " | ".join(f"{v:.4g}" for v in losses)
        print(f"| {row['pair']} | {cells} | {tut if tut is None else f'{tut:.4g}'} | "
              f"{label(weights[best])} |")
    against = "the tutorial's" if all("tutorial" in r for r in rows) else "the best weight's"
    for w in weights:
        print(f"{label(w)}: final loss / {against}: median {statistics.median(ratios[w]):.3f}, "
              f"worst {max(ratios[w]):.3f}")


if __name__ == "__main__":
    raise SystemExit(main())
