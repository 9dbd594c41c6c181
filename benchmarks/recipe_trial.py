"""Short training trials of the real-time network's recipe at equal time (issue #21).

Each ``--variant`` is a set of ``key=value`` changes to the shipped Starry Night network's recipe
(read from its manifest, as benchmarks/train_speed.py does; name every option that matters, since
the shipped recipe changes when the network is retrained): e.g. ``"size=256 batch_size=2
max_steps=400"``. Every variant trains a fresh network from the same seed on the default training
photos, with the painting at 256 px, then is judged on the four held-out images at 256 px by
stylize's everyday losses (``feedforward.judge``): content, style and alpha * content + beta *
style per photo, and their medians, with the grid strength at periods 2 and 4 and the training
time. One JSON line per variant. Give each variant a step count that takes about the same time, so
that the comparison is one of recipes at equal cost; run it on a quiet machine. The four trials of
benchmarks/README.md (about 5 min each on a 2-core CPU with bfloat16 units; they trained on the
seven photographs that were the default then, and the default is 13 now):

    python benchmarks/recipe_trial.py --variant "size=256 batch_size=4 max_steps=200" \\
        --variant "size=256 batch_size=2 max_steps=400" \\
        --variant "size=192 batch_size=4 max_steps=350" \\
        --variant "size=192 batch_size=2 max_steps=650"
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from train_speed import shipped_recipe

import nst_teach as nt
from nst_teach import data
from nst_teach import feedforward as ff


def parse_variant(text: str) -> dict:
    """'key=value key=value' -> {key: value}, numbers as numbers, channels as a tuple."""
    changes = {}
    for item in text.split():
        key, _, value = item.partition("=")
        if not value:
            raise SystemExit(f"variant item {item!r} is not key=value, e.g. batch_size=2")
        if key == "channels":
            changes[key] = tuple(int(c) for c in value.split(","))
        else:
            number = float(value)
            changes[key] = int(number) if number.is_integer() and "." not in value else number
    return changes


def trial(model, changes: dict, seed: int) -> dict:
    """Train one variant and judge it on the held-out images."""
    recipe = {**shipped_recipe(), "style_size": 256, **changes}
    style = data.style_path("starry_night")
    started = time.perf_counter()
    trained = ff.train(style, model=model, seed=seed, progress=False, **recipe)
    seconds = time.perf_counter() - started
    rows = []
    for photo in ff.HELD_OUT:
        out = ff.stylize_with(trained.net, data.content_path(photo), 256)
        judged = ff.judge(out, data.content_path(photo), style, model=model)
        total = recipe["alpha"] * judged["content"] + recipe["beta"] * judged["style"]
        rows.append(dict(photo=photo, **judged, total=total, p2=ff.grid_strength(out, 2),
                         p4=ff.grid_strength(out, 4)))
    tail = trained.history[-max(1, len(trained.history) // 10):]
    medians = {k: statistics.median(r[k] for r in rows) for k in ("content", "style", "total")}
    return dict(changes=changes, seed=seed, steps=len(trained.history), seconds=round(seconds),
                train_total_last_tenth=statistics.mean(h["total"] for h in tail),
                medians=medians, rows=rows)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variant", action="append", required=True,
                   help="key=value changes to the shipped recipe, quoted, one flag a variant")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    variants = [parse_variant(v) for v in args.variant]
    model = nt.load_vgg19("caffe", device="cpu")
    for changes in variants:
        print(json.dumps(trial(model, changes, args.seed)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
