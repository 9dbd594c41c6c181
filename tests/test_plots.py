"""The plotting helpers draw what they are given (checked on the drawn artists, not on pixels)."""

import subprocess
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nst_teach import plots  # noqa: E402


def test_heatmap_writes_every_entry():
    M = torch.tensor([[761.0, 331.0], [331.0, 145.0]])
    ax = plots.heatmap(M, title="Gram", fmt="{:.0f}", labels=("row j", "row k"))
    assert sorted(t.get_text() for t in ax.texts) == ["145", "331", "331", "761"]
    assert (ax.get_title(), ax.get_ylabel(), ax.get_xlabel()) == ("Gram", "row j", "row k")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2"]
    np.testing.assert_array_equal(ax.images[0].get_array(), M.numpy())


def test_heatmap_colours_signed_matrices_with_a_diverging_map_centred_on_zero():
    ax = Figure().add_subplot()
    plots.heatmap(np.array([[-0.5, 0.0], [0.0, 2.0]]), ax=ax)
    image = ax.images[0]
    assert image.get_cmap().name == "RdBu_r" and image.get_clim() == (-2.0, 2.0)
    text = {t.get_text(): t.get_color() for t in ax.texts}
    assert text["2.00"] == "white" and text["0.00"] == "black"  # dark red end, white middle

    ax = Figure().add_subplot()
    plots.heatmap(np.array([[1.0, 3.0]]), ax=ax)
    assert ax.images[0].get_cmap().name == "viridis" and ax.images[0].get_clim() == (1.0, 3.0)
    assert [t.get_color() for t in ax.texts] == ["white", "black"]  # viridis: dark purple to yellow

    ax = Figure().add_subplot()
    plots.heatmap(np.eye(2), ax=ax, vmin=-1, vmax=1)  # a correlation matrix: the range is signed
    assert ax.images[0].get_cmap().name == "RdBu_r" and ax.images[0].get_clim() == (-1.0, 1.0)
    ax = Figure().add_subplot()
    plots.heatmap(np.eye(2), ax=ax, cmap="magma")
    assert ax.images[0].get_cmap().name == "magma"


def test_heatmap_refuses_a_batch_of_matrices():
    with pytest.raises(ValueError, match="2-D matrix"):
        plots.heatmap(torch.zeros(1, 3, 3))


def history_of(content, style, total):
    rows = zip(content, style, total, strict=True)
    return [{"content": c, "style": s, "tv": 0.0, "total": t} for c, s, t in rows]


def test_loss_curves_draw_the_weighted_terms_and_the_total():
    content = np.linspace(1.0, 3.0, 10)
    style = 1e4 / np.arange(1, 11) ** 2
    alpha, beta = 2.0, 1e-3
    total = alpha * content + beta * style
    ax = plots.loss_curves(history_of(content, style, total), alpha=alpha, beta=beta, title="run")
    lines = {line.get_label(): line for line in ax.lines}
    assert list(lines) == ["α · content", "β · style", "total"]
    np.testing.assert_allclose(lines["α · content"].get_ydata(), 2.0 * content)
    np.testing.assert_allclose(lines["β · style"].get_ydata(), 10.0 / np.arange(1, 11) ** 2)
    np.testing.assert_allclose(lines["total"].get_ydata(), total)
    np.testing.assert_array_equal(lines["total"].get_xdata(), np.arange(1, 11))
    assert lines["total"].get_color() == "black"
    assert lines["α · content"].get_color() != lines["β · style"].get_color()
    assert ax.get_yscale() == "log" and ax.get_title() == "run"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(lines)


def test_loss_curves_leave_out_zero_and_nan_on_the_log_axis():
    content = [0.0, 1.0, 2.0, 2.0]  # a run from the content image: 0 at the first evaluation
    style = [8.0, float("nan"), 4.0, 2.0]  # a term not computed
    total = [8.0, float("inf"), 6.0, 4.0]  # a rejected step
    ax = Figure().add_subplot()
    plots.loss_curves(history_of(content, style, total), ax)
    y = {line.get_label(): line.get_ydata() for line in ax.lines}
    np.testing.assert_array_equal(y["α · content"], [np.nan, 1.0, 2.0, 2.0])
    np.testing.assert_array_equal(y["β · style"], [8.0, np.nan, 4.0, 2.0])
    np.testing.assert_array_equal(y["total"], [8.0, np.nan, 6.0, 4.0])
    low, high = ax.get_ylim()
    assert 0 < low <= 1.0 and high >= 8.0


def test_loss_curves_start_the_axis_near_the_curves_not_at_the_first_tiny_content():
    content = [0.0, 1e-6, 1e-3, 1.0] + [2.0] * 16  # rises from 0 as the style moves in
    style = [1e3 / (i + 1) for i in range(20)]
    total = [c + s for c, s in zip(content, style, strict=True)]
    ax = Figure().add_subplot()
    plots.loss_curves(history_of(content, style, total), ax)
    low, _ = ax.get_ylim()
    assert 1e-3 < low <= min(min(style[10:]), 2.0), "the late values of every curve stay in view"


def test_loss_curves_of_an_empty_history_draw_an_empty_frame_quietly():
    ax = Figure().add_subplot()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plots.loss_curves([], ax)
    assert ax.get_legend() is None and ax.get_yscale() == "log"


def test_plotting_on_a_figure_in_a_thread_never_imports_pyplot():
    code = """
import sys, threading
from matplotlib.figure import Figure
from nst_teach import plots, widgets
out = {}
def draw():
    history = [{"content": 0.0, "style": 5.0, "total": 5.0},
               {"content": 1.0, "style": 2.0, "total": 3.0}]
    plots.loss_curves(history, Figure().add_subplot(), alpha=1.0, beta=1.0)
    plots.heatmap([[1.0, -1.0], [-1.0, 1.0]], ax=Figure().add_subplot())
    out["png"] = widgets.loss_curves_png(history)
thread = threading.Thread(target=draw)
thread.start(); thread.join()
print(out["png"][:4] == b"\\x89PNG", "matplotlib.pyplot" in sys.modules)
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "False"]


def test_feature_grid_shows_the_first_channels():
    F = torch.arange(5 * 4 * 3, dtype=torch.float32).reshape(1, 5, 4, 3)
    fig = plots.feature_grid(F, n=5, ncols=4)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 5
    np.testing.assert_array_equal(shown[2].images[0].get_array(), F[0, 2].numpy())
