"""What a style-transfer run hands back: the image, its losses, the history, and a manifest.

Taught in notebook 07. ``stylize`` returns a ``Result``; ``Result.save`` writes the image and,
beside it, the manifest: everything needed to reproduce and judge the run, as JSON.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import __version__
from .images import save_image
from .settings import Settings


@dataclass
class Result:
    """The image (1, 3, H, W) in [0, 1] on the CPU, its losses and the run's history.

    settings: the checked options of the run (``Settings``, with the device, size and budget used);
    details: what the run resolved beyond them (the network's weights and pooling, the blend
    weights, the inputs, the precision used, coarse-to-fine sizes); losses: the returned image's own
    losses, computed in float32 (its best evaluation).
    """

    image: torch.Tensor
    history: list[dict[str, float]]
    stop_reason: str
    seconds: float
    settings: Settings | None = None
    losses: dict[str, float] = field(default_factory=dict)
    details: dict = field(default_factory=dict)

    @property
    def evals(self) -> int:
        """Function evaluations made (each is one forward and one backward pass)."""
        return len(self.history)

    def manifest(self) -> dict:
        """Everything needed to reproduce and judge the run, as plain JSON-able values."""
        settings = self.settings.manifest() if self.settings is not None else {}
        return {
            "nst_teach_version": __version__,
            "settings": {**settings, **self.details},
            "evaluations": self.evals,
            "stop_reason": self.stop_reason,
            # of the image returned (with preserve_color="luminance": of its luminance)
            "final_losses": self.losses,
            "seconds": round(self.seconds, 3),
            "image_size": list(self.image.shape[-2:]),
            "torch": torch.__version__,
            "python": platform.python_version(),
        }

    def save(self, path) -> Path:
        """Write the image to ``path`` and the manifest beside it (same name, .json)."""
        path = save_image(self.image, path)
        manifest_path = path.with_suffix(".json")
        tmp = manifest_path.with_name(manifest_path.name + ".tmp")
        tmp.write_text(json.dumps(self.manifest(), indent=2, default=str) + "\n")
        tmp.replace(manifest_path)
        return path
