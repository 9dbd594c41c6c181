"""The statistics explorer of notebooks 01-03: sliders over a 3-variable data set.

``stats_explorer()`` returns sliders over a small data set (``stats_data``) and shows its Gram,
covariance and correlation matrices change. It displays itself in a notebook (with a picture of
its state where widgets cannot run) and can be driven from code by setting the sliders' values.
ipywidgets and matplotlib are imported inside the functions, so ``import nst_teach`` stays light.
Also importable as ``nst_teach.widgets.stats_explorer``.
"""

from __future__ import annotations

import base64

import torch

from .plots import figure_png
from .stats import correlation, covariance, gram_matrix


def stats_data(rho: float = 0.6, scale: float = 1.0, mean: float = 2.0, n: int = 50,
               seed: int = 0) -> torch.Tensor:
    """A (3, n) data set, rows = variables (or channels), with exactly these sample statistics:

    rows 1 and 2 have correlation ``rho``; row 2 has standard deviation ``scale``, the others 1;
    row 3 is uncorrelated with both and has mean ``mean``, rows 1 and 2 have mean 0.
    Made as in notebook 01: whiten random samples exactly, then colour them with a Cholesky factor.
    """
    if not -1 < rho < 1:
        raise ValueError(f"rho must be strictly between -1 and 1, got {rho}")
    gen = torch.Generator().manual_seed(seed)
    Z = torch.randn(3, n, generator=gen, dtype=torch.float64)
    Z = Z - Z.mean(dim=1, keepdim=True)
    W = torch.linalg.solve_triangular(torch.linalg.cholesky(covariance(Z)), Z, upper=False)
    target = torch.tensor([[1.0, rho, 0.0], [rho, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    X = torch.linalg.cholesky(target) @ W
    X[1] *= scale
    X[2] += mean
    return X


class StatsExplorer:
    """Sliders over ``stats_data`` and the Gram (/n), covariance and correlation heatmaps they give.

    Attributes: rho, scale, mean (sliders), image (PNG of the heatmaps), and after every change
    data (3, n), gram, cov, corr (3, 3 tensors).
    """

    def __init__(self, n: int = 50):
        import ipywidgets as w

        self.n = n
        slider = dict(continuous_update=False, style={"description_width": "initial"},
                      layout=w.Layout(width="360px"))
        self.rho = w.FloatSlider(value=0.6, min=-0.95, max=0.95, step=0.05,
                                 description="correlation of rows 1 and 2", **slider)
        self.scale = w.FloatLogSlider(value=1.0, base=10, min=-1, max=1, step=0.1,
                                      description="spread of row 2 (std)", **slider)
        self.mean = w.FloatSlider(value=2.0, min=-3.0, max=3.0, step=0.5,
                                  description="mean of row 3", **slider)
        self.image = w.Image(format="png", layout=w.Layout(max_width="900px"))
        self.caption = w.HTML()
        for s in (self.rho, self.scale, self.mean):
            s.observe(lambda _: self.update(), "value")
        sliders = w.HBox([self.rho, self.scale, self.mean], layout=w.Layout(flex_flow="row wrap"))
        self.widget = w.VBox([sliders, self.image, self.caption])
        self.widget.add_class("nst-stats-explorer")
        self.update()

    def update(self) -> None:
        """Rebuild the data from the sliders, recompute the three matrices and redraw them."""
        from matplotlib.figure import Figure

        from .plots import heatmap

        self.data = stats_data(self.rho.value, self.scale.value, self.mean.value, self.n)
        self.gram = gram_matrix(self.data, normalize="hw")
        self.cov = covariance(self.data)
        self.corr = correlation(self.data)
        fig = Figure(figsize=(11, 3.1), dpi=80, layout="constrained")
        axes = fig.subplots(1, 4, width_ratios=[1.15, 1, 1, 1])
        ax, X = axes[0], self.data.numpy()
        ax.scatter(X[0], X[1], s=12, alpha=0.7, label="row 1 vs row 2")
        ax.scatter(X[0], X[2], s=12, alpha=0.7, marker="x", label="row 1 vs row 3")
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_xlabel("row 1")
        ax.legend(fontsize="x-small", loc="upper left")
        ax.set_title("the data (columns = observations)", fontsize="medium")
        labels = ("row j", "row k")
        tidy = lambda m: m.round(decimals=2) + 0.0  # noqa: E731 - no "-0.00" for a rounding error
        heatmap(tidy(self.gram), "Gram / M  (F Fᵀ / M)", ax=axes[1], labels=labels)
        heatmap(tidy(self.cov), "covariance", ax=axes[2], labels=labels)
        heatmap(tidy(self.corr), "correlation", ax=axes[3], labels=labels, vmin=-1, vmax=1)
        self.image.value = figure_png(fig)
        self.caption.value = (
            f"r₁₂ = {self.corr[0, 1]:.2f}, c₁₂ = {self.cov[0, 1]:.2f}, "
            f"var₂ = {self.cov[1, 1]:.2f}; "
            f"G₃₃ / n = {self.gram[2, 2]:.2f} = var₃ · (n−1)/n + mean₃² — the Gram matrix sees the "
            "mean, covariance and correlation do not; correlation does not see the spread either."
        )

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        # A picture of the current state, shown where widgets cannot run (static views, slides).
        bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        values = f"rho={self.rho.value}, scale={self.scale.value}, mean={self.mean.value}"
        return f"<StatsExplorer {values}>"


def stats_explorer(n: int = 50) -> StatsExplorer:
    """Sliders over a 3-variable data set: its Gram, covariance, correlation (notebooks 01-03)."""
    return StatsExplorer(n)
