"""Statistics against independent oracles: numpy.cov, torch.cov, torch.corrcoef, explicit loops."""

import numpy as np
import pytest
import torch

import nst_teach as nt

DECK_COV = np.array([[3.16, 4.13, 2.79], [4.13, 11.79, 4.32], [2.79, 4.32, 9.31]])
DECK_CORR = np.array([[1, 0.67, 0.51], [0.67, 1, 0.41], [0.51, 0.41, 1]])


def data_with_covariance(target: np.ndarray, n: int = 50, seed: int = 0) -> np.ndarray:
    """Samples (V, n) whose sample covariance is exactly ``target``: whiten, then colour."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(target.shape[0], n))
    Z -= Z.mean(axis=1, keepdims=True)
    L_z = np.linalg.cholesky(np.cov(Z))
    white = np.linalg.solve(L_z, Z)  # sample covariance exactly I
    return np.linalg.cholesky(target) @ white + 5.0


@pytest.mark.parametrize("shape", [(2, 5), (3, 50), (7, 3)])
def test_covariance_matches_numpy_and_torch(shape):
    X = np.random.default_rng(1).normal(size=shape)
    ours = nt.covariance(torch.tensor(X))
    np.testing.assert_allclose(ours.numpy(), np.cov(X), rtol=1e-12)
    np.testing.assert_allclose(ours.numpy(), torch.cov(torch.tensor(X)).numpy(), rtol=1e-12)


def test_covariance_by_the_deck_formula_with_loops():
    X = np.random.default_rng(2).integers(0, 10, size=(3, 6)).astype(float)
    n = X.shape[1]
    expected = np.zeros((3, 3))
    for j in range(3):
        for k in range(3):
            expected[j, k] = sum(
                (X[j, i] - X[j].mean()) * (X[k, i] - X[k].mean()) for i in range(n)
            ) / (n - 1)
    np.testing.assert_allclose(nt.covariance(X).numpy(), expected, rtol=1e-12)


def test_covariance_accepts_lists_and_ints_and_rejects_bad_shapes():
    assert nt.covariance([[1, 2, 3], [2, 4, 6]]).dtype.is_floating_point
    assert float(nt.covariance([1.0, 2.0, 3.0])) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least 2 observations"):
        nt.covariance([[1.0], [2.0]])
    with pytest.raises(ValueError, match="1-D or 2-D"):
        nt.covariance(torch.zeros(2, 2, 2))


def test_correlation_matches_corrcoef():
    X = np.random.default_rng(3).normal(size=(4, 30))
    np.testing.assert_allclose(nt.correlation(X).numpy(), np.corrcoef(X), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        nt.correlation(torch.tensor(X)).numpy(),
        torch.corrcoef(torch.tensor(X)).numpy(),
        rtol=1e-10,
        atol=1e-12,
    )


def test_correlation_is_scale_invariant():
    X = np.random.default_rng(4).normal(size=(3, 20))
    scaled = X * np.array([[100.0], [0.01], [7.0]]) + 3.0
    np.testing.assert_allclose(
        nt.correlation(scaled).numpy(), nt.correlation(X).numpy(), atol=1e-12
    )


def test_deck_covariance_and_correlation_tables():
    X = data_with_covariance(DECK_COV)
    cov = nt.covariance(X).numpy()
    np.testing.assert_allclose(cov, DECK_COV, atol=1e-10)
    corr = nt.correlation(X).numpy()
    # The deck's table is cut, not rounded, to two decimals: 4.13 / sqrt(3.16 * 11.79) = 0.6766.
    assert np.array_equal(np.trunc(corr * 100 + 1e-9) / 100, DECK_CORR)
    assert corr[0, 1] == pytest.approx(0.6766, abs=1e-4)


def test_deck_gram_example():
    M = torch.tensor([[19.0, 20.0], [9.0, 8.0]])
    assert nt.gram_matrix(M).tolist() == [[761.0, 331.0], [331.0, 145.0]]


def test_gram_of_feature_maps_matches_einsum_and_normalisations():
    F = torch.randn(2, 5, 4, 3, dtype=torch.float64)
    expected = torch.einsum("bchw,bdhw->bcd", F, F)
    torch.testing.assert_close(nt.gram_matrix(F), expected)
    torch.testing.assert_close(nt.gram_matrix(F, normalize="hw"), expected / 12)
    torch.testing.assert_close(nt.gram_matrix(F, normalize="chw"), expected / 60)
    with pytest.raises(ValueError, match="normalize"):
        nt.gram_matrix(F, normalize="n")


def test_gram_hw_does_not_grow_with_image_size():
    tile = torch.rand(1, 3, 4, 4, dtype=torch.float64)
    big = tile.repeat(1, 1, 3, 3)  # the same texture, nine times the area
    torch.testing.assert_close(nt.gram_matrix(big, "hw"), nt.gram_matrix(tile, "hw"))
    torch.testing.assert_close(nt.gram_matrix(big, "none"), 9 * nt.gram_matrix(tile, "none"))


def test_gram_of_centred_features_is_covariance_times_n_minus_1():
    F = torch.randn(1, 4, 5, 6, dtype=torch.float64)
    M = nt.flatten_features(F)[0]
    centred = M - M.mean(dim=1, keepdim=True)
    torch.testing.assert_close(nt.gram_matrix(centred) / (M.shape[1] - 1), torch.cov(M))


def test_flatten_features_layout():
    F = torch.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    flat = nt.flatten_features(F)
    assert flat.shape == (2, 3, 20)
    assert flat[1, 2, 4 * 5 - 1] == F[1, 2, 3, 4]  # row c is channel c, positions in reading order
    assert nt.flatten_features(F[0]).shape == (3, 20)
    with pytest.raises(ValueError, match="B, C, H, W"):
        nt.flatten_features(torch.zeros(3, 4))


@pytest.mark.parametrize("normalize", ["none", "hw", "chw"])
def test_gram_backward_matches_finite_differences_and_autograd_of_einsum(normalize):
    # gram_matrix has a hand-written backward (dM = (dG + dG^T) M / k); check it two ways.
    F = torch.randn(2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: nt.gram_matrix(x, normalize), (F,))
    assert torch.autograd.gradgradcheck(lambda x: nt.gram_matrix(x, normalize), (F,))
    k = {"none": 1, "hw": 20, "chw": 60}[normalize]
    W = torch.randn(2, 3, 3, dtype=torch.float64)  # a non-symmetric upstream gradient
    (mine,) = torch.autograd.grad((nt.gram_matrix(F, normalize) * W).sum(), F)
    (plain,) = torch.autograd.grad((torch.einsum("bchw,bdhw->bcd", F, F) / k * W).sum(), F)
    torch.testing.assert_close(mine, plain)
