"""A short training trial of the real-time network (issue #21): which grid weight?

Trains a fresh network on The Starry Night for 150 steps of the shipped recipe (4 crops of 256 px,
the painting at 256 px, total variation 50, lr 0.005 cosine) once per grid weight given, then
judges it on three held-out images (package losses by ``feedforward.judge``, grid strength at
periods 4 and 2, per-channel spread). One JSON line per weight. About 3.5 min a weight on a 2-core
CPU with bfloat16 units; run it on a quiet machine.

    python benchmarks/train_trial.py 0 1e5
"""

import json
import sys
import time

import nst_teach as nt
from nst_teach import data
from nst_teach import feedforward as ff


def main(argv: list[str]) -> int:
    weights = [float(w) for w in argv] or [0.0, ff.TrainSettings().grid_weight]
    model = nt.load_vgg19("caffe", device="cpu")
    style = data.style_path("starry_night")
    for weight in weights:
        started = time.perf_counter()
        trained = ff.train(style, model=model, size=256, style_size=256, batch_size=4,
                           max_steps=150, lr=0.005, tv_weight=50, grid_weight=weight,
                           progress=False)
        seconds = time.perf_counter() - started
        rows = []
        for photo in ("tubingen", "grace_hopper", "landscape"):
            out = ff.stylize_with(trained.net, data.content_path(photo), 256)
            judged = ff.judge(out, data.content_path(photo), style, model=model)
            rows.append(dict(photo=photo, **judged, p4=ff.grid_strength(out, 4),
                             p2=ff.grid_strength(out, 2),
                             spread=ff.colour_stats(out)["spread"]))
        last = trained.history[-15:]
        print(json.dumps(dict(grid_weight=weight, seconds=round(seconds),
                              last_total=sum(h["total"] for h in last) / len(last),
                              last_grid=sum(h.get("grid", 0) for h in last) / len(last),
                              rows=rows)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
