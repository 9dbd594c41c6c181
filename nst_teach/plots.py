"""Pictures the notebooks draw again and again: matrix heatmaps, loss curves, feature-map grids.

matplotlib is imported inside each function so that ``import nst_teach`` stays light. Given an
``ax``, ``heatmap`` and ``loss_curves`` draw on it without pyplot, so they also work on a
``matplotlib.figure.Figure`` in a background thread (the explorer of notebook 07 does that);
``png_bytes``, ``figure_png`` and ``loss_curves_png`` give the PNG bytes the explorers show.
"""

from __future__ import annotations

import io
import math

import numpy as np
import torch

from .images import to_pil

SIGNED_CMAP = "RdBu_r"  # diverging and colour-blind safe: blue below 0, white at 0, red above
UNSIGNED_CMAP = "viridis"
LOSS_COLORS = ("tab:blue", "tab:orange", "black")  # alpha*content, beta*style, total: CVD-safe


def _colour_range(values: np.ndarray, cmap, vmin, vmax):
    """The colormap and value range of a matrix: diverging and centred on 0 if the range spans 0."""
    low = values.min() if vmin is None else vmin
    high = values.max() if vmax is None else vmax
    if cmap is None:
        signed = low < 0 < high
        cmap = SIGNED_CMAP if signed else UNSIGNED_CMAP
        if signed and vmin is None and vmax is None:
            low, high = -max(-low, high), max(-low, high)  # 0 lands on the white middle
    return cmap, low, high


def heatmap(matrix, title: str = "", ax=None, fmt: str = "{:.2f}",
            labels=("variable j", "variable k"), cmap=None, vmin=None, vmax=None):
    """Draw a (J, K) matrix, each entry written on it, rows and columns from 1. Returns the Axes.

    cmap: default "RdBu_r" centred on 0 when the values (or vmin..vmax) span both signs, else
    "viridis". Entries are written and ticks numbered for matrices of up to 64 entries.
    Used in notebooks 01-03 for covariance, correlation and Gram matrices, and in stats_explorer.
    """
    from matplotlib.colors import to_rgb

    values = matrix.detach().cpu() if isinstance(matrix, torch.Tensor) else matrix
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"heatmap draws one 2-D matrix, got shape {values.shape}: pass e.g. G[0]")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(0.9 * values.shape[1] + 2, 0.9 * values.shape[0] + 1))
    cmap, low, high = _colour_range(values, cmap, vmin, vmax)
    image = ax.imshow(values, cmap=cmap, vmin=low, vmax=high)
    rows, columns = values.shape
    if values.size <= 64:
        for (j, k), value in np.ndenumerate(values):
            if fmt:
                # Light text on a dark cell, dark text on a light one (by the cell's luminance).
                r, g, b = to_rgb(image.cmap(image.norm(value)))
                dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.45
                colour = "white" if dark else "black"
                ax.text(k, j, fmt.format(value), ha="center", va="center", color=colour)
        ax.set_xticks(range(columns), [str(k + 1) for k in range(columns)])
        ax.set_yticks(range(rows), [str(j + 1) for j in range(rows)])
    ax.set(title=title, ylabel=labels[0], xlabel=labels[1])
    return ax


def _loss_terms(history, alpha: float, beta: float) -> dict[str, list[float]]:
    """A run's three curves: alpha*content, beta*style and the total, one value per evaluation."""
    return {
        "α · content": [alpha * h["content"] for h in history],
        "β · style": [beta * h["style"] for h in history],
        "total": [h["total"] for h in history],
    }


def _log_floor(curves: list[list[float]]) -> float:
    """A lower y-limit a decade under each curve's late values (none: nan).

    The content term rises from 0 over the first evaluations: its first tiny values would
    otherwise stretch the log axis over decades that show nothing.
    """
    late = [v for curve in curves for v in curve[len(curve) // 2:] if math.isfinite(v)]
    return min(late) / 10 if late else math.nan


def loss_curves(history, ax=None, *, alpha: float = 1.0, beta: float = 1.0,
                title: str = "Loss curves"):
    """Plot alpha*content, beta*style and the total of a ``stylize`` history per evaluation, log y.

    A value that is zero, negative, NaN or infinite (the content term at the first evaluation
    from the content image, a term that was not computed, a rejected step) is left out. Uses
    pyplot only when no ``ax`` is given. Returns the Axes. Used in notebook 07 and its explorer.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.5, 3.6), layout="constrained")
    evaluations = np.arange(1, len(history) + 1)
    curves = []
    for (label, values), colour in zip(_loss_terms(history, alpha, beta).items(), LOSS_COLORS,
                                       strict=True):
        shown = [v if math.isfinite(v) and v > 0 else math.nan for v in values]
        ax.plot(evaluations, shown, label=label, color=colour, lw=1.2 if label == "total" else 1.5)
        curves.append(shown)
    ax.set(yscale="log", title=title, xlabel="function evaluation", ylabel="loss (log scale)")
    floor = _log_floor(curves)
    if any(v < floor for curve in curves for v in curve):  # NaN compares False
        ax.set_ylim(bottom=floor)
    if history:
        ax.legend(fontsize="small")
    return ax


def feature_grid(features: torch.Tensor, n: int = 16, ncols: int = 8, title: str = "",
                 size: float = 1.3):
    """Show the first ``n`` channels of a feature map (1, C, H, W) in grey. Returns the Figure.

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


# ------------------------------------------------------------------ PNG bytes for widgets


def png_bytes(image) -> bytes:
    """A (1, 3, H, W) tensor in [0, 1] (or a PIL image) as PNG file bytes, for ipywidgets.Image."""
    buffer = io.BytesIO()
    to_pil(image).save(buffer, format="PNG")
    return buffer.getvalue()


def figure_png(fig) -> bytes:
    """Render a matplotlib Figure made without pyplot (safe in a background thread) to PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def loss_curves_png(history, alpha: float = 1.0, beta: float = 1.0, size=(4.2, 3.0)) -> bytes:
    """Loss curves as PNG bytes: ``plots.loss_curves`` on a pyplot-free Figure (thread-safe)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=80, layout="constrained")
    ax = loss_curves(history, fig.add_subplot(), alpha=alpha, beta=beta, title="loss")
    ax.title.set_fontsize("medium")
    return figure_png(fig)
