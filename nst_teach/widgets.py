"""The notebooks' interactive explorers, under one import (each lives in its own module).

``explore`` (``explorer.py``, notebook 07): a live, interruptible style-transfer run.
``stats_explorer`` and ``stats_data`` (``stats_explorer.py``, notebooks 01-03): sliders over a
3-variable data set and its Gram, covariance and correlation matrices. ``png_bytes`` and
``loss_curves_png`` (``plots.py``): the PNG bytes both show.
"""

from __future__ import annotations

from .explorer import Explorer, explore
from .plots import loss_curves_png, png_bytes
from .stats_explorer import StatsExplorer, stats_data, stats_explorer

__all__ = ["Explorer", "StatsExplorer", "explore", "loss_curves_png", "png_bytes", "stats_data",
           "stats_explorer"]
