"""Device choice and the size/budget presets that let one notebook run on a laptop, a GPU or in CI.

Set ``NST_TEACH_FAST=1`` (``make test`` does) for tiny images and budgets: the notebooks' code
stays the same, only these numbers shrink.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


def fast_mode() -> bool:
    """True when NST_TEACH_FAST is set to anything but '', '0', 'false' or 'no'."""
    return os.environ.get("NST_TEACH_FAST", "").strip().lower() not in ("", "0", "false", "no")


def pick_device(device=None) -> torch.device:
    """The given device, else the best present: CUDA, then Apple MPS, then CPU."""
    if device is not None and str(device) != "auto":
        device = torch.device(device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("device 'cuda' was asked for but no CUDA GPU is available: "
                             "use device='cpu' or leave it out")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError("device 'mps' was asked for but Apple MPS is not available: "
                             "use device='cpu' or leave it out")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@dataclass(frozen=True)
class Preset:
    """How big and how long: ``size`` is the content's longest side, ``max_evals`` the budget."""

    size: int
    max_evals: int
    device: str


# (size, max_evals) per device type; "fast" is for CI and quick checks on any device.
PRESETS = {
    "cuda": (512, 500),
    "mps": (384, 300),
    "cpu": (256, 150),
    "fast": (64, 15),
}


def preset(device=None) -> Preset:
    """The image size and evaluation budget for this device (tiny when NST_TEACH_FAST=1)."""
    dev = pick_device(device)
    key = "fast" if fast_mode() else dev.type if dev.type in PRESETS else "cpu"
    size, max_evals = PRESETS[key]
    return Preset(size, max_evals, str(dev))

