"""Train the network shipped in nst_teach/models/ (notebook 11): one painting, the bundled photos.

    python scripts/train_model.py                      # starry_night, the CPU preset's settings
    python scripts/train_model.py --steps 20 --out /tmp/m.pt   # a quick try

Runs the package's own ``feedforward.train`` (stylize's losses, VGG19 normalised, max pooling)
on random crops of ``feedforward.TRAINING_PHOTOS`` (scikit-image's astronaut, chelsea, coffee and
rocket, all bundled); Tübingen, the landscape and Grace Hopper are held out. Writes the model
(.pt, at most 2 MB) and its manifest (.json, the same manifest the .pt holds) beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from nst_teach import data, feedforward

MAX_BYTES = 2 * 1024 * 1024  # issue 15: a committed model is at most 2 MB
DEFAULTS = dict(size=128, max_steps=600, batch_size=1, seed=0)  # modest: 2 shared CPU cores


def parse(argv=None) -> argparse.Namespace:
    """The command line: painting, steps, size, seed, output path."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--style", default="starry_night", help="a bundled painting's name")
    p.add_argument("--steps", type=int, default=DEFAULTS["max_steps"], help="Adam steps")
    p.add_argument("--size", type=int, default=DEFAULTS["size"], help="training crop side, px")
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"], help="random seed")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (runs are "
                   "deterministic for a seed and a thread count)")
    p.add_argument("--minutes", type=float, default=None, help="stop after this long, keeping "
                   "the network trained so far (the manifest's stop_reason says so)")
    p.add_argument("--out", type=Path, default=None,
                   help="model file (default: nst_teach/models/STYLE.pt)")
    return p.parse_args(argv)


def time_limit(minutes: float | None):
    """A train callback that stops the run after ``minutes`` (None: never)."""
    deadline = time.monotonic() + 60 * minutes if minutes else None
    return None if deadline is None else (lambda step, losses: time.monotonic() > deadline)


def main(argv=None) -> int:
    """Train, save the model and its manifest, check the file's size and that it loads."""
    args = parse(argv)
    torch.set_num_threads(args.threads)
    out = args.out or feedforward.MODELS_DIR / f"{args.style}.pt"
    out.parent.mkdir(parents=True, exist_ok=True)
    trained = feedforward.train(data.style_path(args.style), None, device="cpu", size=args.size,
                                max_steps=args.steps, batch_size=DEFAULTS["batch_size"],
                                seed=args.seed, callback=time_limit(args.minutes))
    manifest = {**trained.manifest(), "made_by": "scripts/train_model.py " + " ".join(
        sys.argv[1:] if argv is None else argv),
        # the losses of every step, for notebook 11's curves (4 significant digits suffice)
        "history": [{k: float(f"{v:.4g}") for k, v in h.items()} for h in trained.history]}
    path = feedforward.save_model(trained.net, out, manifest)
    path.with_suffix(".json").write_text(json.dumps(manifest, indent=2) + "\n")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"{path} is {size} bytes, over the 2 MB a committed model may have")
    feedforward.load_model(path)  # it reads back
    print(f"wrote {path} ({size / 1e6:.2f} MB) and {path.with_suffix('.json').name}: "
          f"{trained.steps} steps in {trained.seconds:.0f} s, {trained.stop_reason}, "
          f"final losses {trained.manifest()['final_losses']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
