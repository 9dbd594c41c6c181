"""nst_teach: the tested building blocks of neural style transfer, as taught in the notebooks.

Where things live:
- the statistics and the network: stats (covariance, correlation, Gram), images (load, save,
  show), vgg (the network, its layer names and weights), normalization (the paper's normalised
  network: the calibration), losses;
- one style-transfer run: settings (every option of stylize and train), loss_terms (the
  objective), optimize (the loop), lbfgs (its optimiser), precision (mixed precision), transfer
  (``stylize``), result (what a run hands back), color (colour preservation);
- real-time style transfer: feedforward (a package: network, training, crops, model files);
- teaching: tutorial (the PyTorch tutorial's loop, raced in notebook 10), presets (device,
  sizes), plots, data (bundled and paper images), exercises (the checkers, one module per
  notebook), explorer and stats_explorer (the interactive explorers; widgets imports both),
  course (the students' edition, slides and nbgrader course);
- cli (``python -m nst_teach``); models/ holds a trained real-time model.
"""

__version__ = "0.1.0"

from .images import ImageError, load_image, save_image, show_images  # noqa: E402
from .losses import content_loss, style_loss, style_targets, tv_loss  # noqa: E402
from .presets import fast_mode, pick_device, preset  # noqa: E402
from .stats import correlation, covariance, flatten_features, gram_matrix  # noqa: E402
from .transfer import Result, stylize  # noqa: E402
from .vgg import LAYER_INDEX, LAYER_NAMES, WeightsError, load_vgg19  # noqa: E402

__all__ = [
    "ImageError", "LAYER_INDEX", "LAYER_NAMES", "Result", "WeightsError", "content_loss",
    "correlation", "covariance", "fast_mode", "flatten_features", "gram_matrix", "load_image",
    "load_vgg19", "pick_device", "preset", "save_image", "show_images", "style_loss",
    "style_targets", "stylize", "tv_loss",
]
