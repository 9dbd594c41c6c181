"""The plotting helpers draw what they are given (checked on the drawn artists, not on pixels)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from nst_teach import plots  # noqa: E402


def test_heatmap_writes_every_entry():
    M = torch.tensor([[761.0, 331.0], [331.0, 145.0]])
    ax = plots.heatmap(M, title="Gram", fmt="{:.0f}")
    assert sorted(t.get_text() for t in ax.texts) == ["145", "331", "331", "761"]
    assert ax.get_title() == "Gram"
    np.testing.assert_array_equal(ax.images[0].get_array(), M.numpy())


def test_loss_curves_plot_each_key_with_weights():
    history = [{"content": 4.0, "style": 100.0 / (i + 1), "tv": 0.0, "total": 5.0} for i in range(10)]
    ax = plots.loss_curves(history, weights={"style": 1e-3})
    lines = {line.get_label(): line for line in ax.lines}
    assert set(lines) == {"content", "0.001 x style", "total"}
    np.testing.assert_allclose(lines["0.001 x style"].get_ydata(), [0.1 / (i + 1) for i in range(10)])
    assert ax.get_yscale() == "log"


def test_feature_grid_shows_the_first_channels():
    F = torch.arange(5 * 4 * 3, dtype=torch.float32).reshape(1, 5, 4, 3)
    fig = plots.feature_grid(F, n=5, ncols=4)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 5
    np.testing.assert_array_equal(shown[2].images[0].get_array(), F[0, 2].numpy())
