"""The statistics explorer of notebooks 01-03, driven headlessly: set sliders, look."""

from __future__ import annotations

import base64

import numpy as np
import pytest
import torch

from nst_teach.stats_explorer import stats_data, stats_explorer


def test_stats_data_has_exactly_the_asked_statistics():
    X = stats_data(rho=-0.3, scale=2.5, mean=1.5, n=40).numpy()
    assert np.allclose(np.corrcoef(X)[0, 1], -0.3)
    assert np.allclose(np.cov(X)[1, 1], 2.5**2) and np.allclose(np.cov(X)[0, 0], 1.0)
    assert np.allclose(X.mean(1), [0, 0, 1.5])
    assert np.allclose(np.cov(X)[2, :2], 0)
    with pytest.raises(ValueError, match="rho"):
        stats_data(rho=1.0)


def test_stats_explorer_sliders_change_the_matrices_as_the_lecture_says():
    ex = stats_explorer()
    picture = ex.image.value
    ex.rho.value = -0.5
    assert np.allclose(ex.corr[0, 1], -0.5) and ex.image.value != picture
    assert np.allclose(ex.corr.numpy(), np.corrcoef(ex.data.numpy()))
    assert np.allclose(ex.cov.numpy(), np.cov(ex.data.numpy()))
    assert np.allclose(ex.gram.numpy(), ex.data.numpy() @ ex.data.numpy().T / ex.n)

    cov, corr, gram = ex.cov.clone(), ex.corr.clone(), ex.gram.clone()
    ex.mean.value = -3.0  # shifting row 3: only the Gram matrix notices
    assert torch.allclose(ex.cov, cov) and torch.allclose(ex.corr, corr)
    assert not torch.allclose(ex.gram, gram)
    assert np.isclose(ex.gram[2, 2], (ex.n - 1) / ex.n + 9.0)

    ex.scale.value = 10.0  # spreading row 2: covariance and Gram change, correlation does not
    assert np.isclose(ex.cov[1, 1], 100.0) and torch.allclose(ex.corr, corr)
    assert "r₁₂ = -0.50" in ex.caption.value


def test_stats_explorer_has_a_static_picture_for_slides_and_viewers():
    bundle = stats_explorer()._repr_mimebundle_()
    assert {"application/vnd.jupyter.widget-view+json", "image/png", "text/plain"} <= set(bundle)
    assert base64.b64decode(bundle["image/png"])[:4] == b"\x89PNG"
