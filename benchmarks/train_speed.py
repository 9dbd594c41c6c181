"""Training the real-time network in float32 and in bfloat16: steps per second and loss (issue #20).

Trains a network on The Starry Night with the shipped one's architecture and recipe, read from its
manifest (32/64/128 channels, 5 residual blocks, 4 crops of 256 px, the painting at 256 px, lr
0.005 cosine over the run, total variation 50, grid penalty 1e5) from the same seed, once per
precision, for the same number of steps. Reports the median seconds per step (the first three
steps left out: warm-up) and two losses: the mean training loss of the last tenth of the steps
(each in its own precision), and the float32 loss alpha * L_content + beta * L_style of each
network's picture of three held-out photographs (``feedforward.judge``, stylize's everyday losses
at the training size). Run it on a quiet machine: about 9 min for 100 steps, 25 min for 300, on a
2-core CPU with bfloat16 units.

    python benchmarks/train_speed.py [--steps 100] [--precisions fp32 bf16] [--seeds 0 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

import nst_teach as nt
from nst_teach import data
from nst_teach import feedforward as ff
from nst_teach.precision import cpu_model, native_bf16

PHOTOS = ("tubingen", "grace_hopper", "landscape")  # held out of the training photographs
# what is read from the shipped network's manifest, so that the runs follow its recipe
RECIPE = ("size", "style_size", "batch_size", "lr", "lr_schedule", "tv_weight", "grid_weight",
          "jitter", "channels", "res_blocks", "alpha", "beta")


def shipped_recipe(name: str = "starry_night") -> dict:
    """The training options the shipped network ``name`` was made with (its manifest)."""
    settings = ff.pretrained(name, "cpu").manifest["settings"]
    return {key: tuple(v) if isinstance(v := settings[key], list) else v for key in RECIPE}


def run(model, precision: str, steps: int, seed: int = 0) -> dict:
    """One training run; its step times and losses."""
    stamps = [time.perf_counter()]

    def tick(step, losses):
        stamps.append(time.perf_counter())

    recipe = shipped_recipe()
    trained = ff.train(data.style_path("starry_night"), model=model, max_steps=steps,
                       precision=precision, seed=seed, callback=tick, progress=False, **recipe)
    gaps = [b - a for a, b in zip(stamps[1:], stamps[2:], strict=False)]
    tail = trained.history[-max(1, steps // 10):]
    alpha, beta = recipe["alpha"], recipe["beta"]
    judged = {}
    for photo in PHOTOS:
        out = ff.stylize_with(trained.net, data.content_path(photo), recipe["size"],
                              precision="fp32")
        j = ff.judge(out, data.content_path(photo), data.style_path("starry_night"), model=model)
        judged[photo] = alpha * j["content"] + beta * j["style"]
    return {"precision": precision, "seed": seed, "steps": len(trained.history),
            "seconds_per_step": statistics.median(gaps[3:] or gaps),
            "train_loss_last_tenth": statistics.fmean(h["total"] for h in tail),
            "held_out_fp32_loss": judged}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="the network's start and the crops (one run per seed and precision)")
    args = parser.parse_args(argv)
    model = nt.load_vgg19("caffe", device="cpu")
    print(f"{cpu_model()}, native bfloat16: {native_bf16('cpu')}, "
          f"{torch.get_num_threads()} threads", flush=True)
    rows = []
    for seed in args.seeds:
        for precision in args.precisions:
            rows.append(run(model, precision, args.steps, seed))
            print(json.dumps(rows[-1]), flush=True)
    for seed in args.seeds:
        base, *others = [r for r in rows if r["seed"] == seed]
        for row in others:
            held = [row["held_out_fp32_loss"][p] / base["held_out_fp32_loss"][p] for p in PHOTOS]
            train = row["train_loss_last_tenth"] / base["train_loss_last_tenth"]
            print(f"seed {seed}, {row['precision']} / {base['precision']}: "
                  f"{base['seconds_per_step'] / row['seconds_per_step']:.2f}x the steps per "
                  f"second; training loss {train:.3f}; held-out float32 loss "
                  f"{', '.join(f'{h:.3f}' for h in held)} (median {statistics.median(held):.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
