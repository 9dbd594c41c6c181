"""Pictures the notebooks draw again and again: matrices as heatmaps, loss curves, feature-map grids.

matplotlib is imported inside each function so that ``import nst_teach`` stays light.
"""

from __future__ import annotations

import numpy as np
import torch


def heatmap(matrix, title: str = "", ax=None, fmt: str = "{:.2f}", labels=("variable j", "variable k"), cmap="viridis", vmin=None, vmax=None):
    """Draw a matrix with every entry written on it; rows and columns count from 1. Returns the Axes.

    Used in notebooks 01-04 for covariance, correlation and Gram matrices.
    """
    import matplotlib.pyplot as plt

    values = np.asarray(matrix.detach().cpu() if isinstance(matrix, torch.Tensor) else matrix, dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(0.9 * values.shape[1] + 2, 0.9 * values.shape[0] + 1))
    low = values.min() if vmin is None else vmin
    high = values.max() if vmax is None else vmax
    ax.imshow(values, cmap=cmap, vmin=low, vmax=high)
    if values.size <= 64 and fmt:
        for (j, k), value in np.ndenumerate(values):
            dark = value - low < 0.6 * (high - low)  # light text on viridis' dark end
            ax.text(k, j, fmt.format(value), ha="center", va="center", color="white" if dark else "black")
    rows, columns = values.shape
    if values.size <= 64:
        ax.set_xticks(range(columns), [str(k + 1) for k in range(columns)])
        ax.set_yticks(range(rows), [str(j + 1) for j in range(rows)])
    ax.set(title=title, ylabel=labels[0], xlabel=labels[1])
    return ax


def loss_curves(history, ax=None, title: str = "Losses per evaluation", keys=("content", "style", "total"), weights=None):
    """Plot each loss of a ``stylize`` history against the evaluation number, log scale. Returns the Axes.

    weights: optional {key: factor}, e.g. {"content": alpha, "style": beta} to plot the weighted terms.
    Used in notebooks 07 and 10.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    steps = np.arange(1, len(history) + 1)
    for key in keys:
        factor = (weights or {}).get(key, 1.0)
        values = np.array([h[key] * factor for h in history])
        if np.any(values > 0):
            ax.plot(steps, values, label=key if factor == 1.0 else f"{factor:g} x {key}")
    ax.set(yscale="log", xlabel="function evaluation", ylabel="loss", title=title)
    ax.legend()
    return ax


def feature_grid(features: torch.Tensor, n: int = 16, ncols: int = 8, title: str = "", size: float = 1.3):
    """Show the first ``n`` channels of one feature map (1, C, H, W) as grey images. Returns the Figure.

    Used in notebook 04.
    """
    import matplotlib.pyplot as plt

    maps = features[0, :n].detach().float().cpu()
    nrows = -(-len(maps) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(maps):
            ax.imshow(maps[i].numpy(), cmap="gray")
            ax.set_title(f"ch {i}", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
