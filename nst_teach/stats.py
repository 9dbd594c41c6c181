"""Covariance, correlation and Gram matrices: the statistics behind the style loss.

Taught in notebooks 01 (covariance), 02 (correlation), 03 (Gram matrix) and 04 (flattening).
Convention, as in ``numpy.cov`` and ``torch.cov``: variables in rows, observations in columns.
"""

from __future__ import annotations

import torch

GRAM_NORMALIZATIONS = ("none", "hw", "chw")


def _as_float_tensor(x) -> torch.Tensor:
    t = torch.as_tensor(x)
    return t if t.is_floating_point() else t.to(torch.get_default_dtype())


def covariance(X) -> torch.Tensor:
    """Sample covariance of the rows of X: c_jk = 1/(n-1) * sum_i (x_ji - mean x_j)(x_ki - mean x_k).

    X: (V, n) with V variables observed n times -> (V, V). A 1-D X is one variable -> 0-D.
    """
    X = _as_float_tensor(X)
    if X.ndim not in (1, 2):
        raise ValueError(f"covariance expects a 1-D or 2-D array (variables x observations), got shape {tuple(X.shape)}")
    n = X.shape[-1]
    if n < 2:
        raise ValueError(f"covariance needs at least 2 observations (columns), got {n}")
    centred = X - X.mean(dim=-1, keepdim=True)
    if X.ndim == 1:
        return (centred @ centred) / (n - 1)
    return centred @ centred.T / (n - 1)


def correlation(X) -> torch.Tensor:
    """Pearson correlation of the rows of X: r_jk = c_jk / sqrt(c_jj * c_kk), each in [-1, 1].

    X: (V, n) -> (V, V). The 1/(n-1) of the covariance cancels, so this is the deck's r formula.
    """
    c = covariance(X)
    if c.ndim == 0:
        return torch.ones_like(c)
    std = c.diagonal().sqrt()
    r = c / (std[:, None] * std[None, :])
    # Rounding can push |r| a hair above 1; the true value never is.
    return r.clamp(-1.0, 1.0)


def flatten_features(F: torch.Tensor) -> torch.Tensor:
    """Flatten 3-D feature maps into a 2-D map per image: (B, C, H, W) -> (B, C, H*W).

    Row c holds channel c's activations at every position; the spatial layout is thrown away.
    A single (C, H, W) map gives (C, H*W).
    """
    if F.ndim == 3:
        return F.reshape(F.shape[0], -1)
    if F.ndim != 4:
        raise ValueError(f"flatten_features expects (B, C, H, W) or (C, H, W), got shape {tuple(F.shape)}")
    return F.reshape(F.shape[0], F.shape[1], -1)


class _Gram(torch.autograd.Function):
    """G = M M^T / k for a batch of matrices M (B, C, n), with a backward of one product.

    Autograd's own backward of ``bmm(M, M^T)`` makes two (C, C) x (C, n) products, dG M and
    dG^T M. G is the same product twice, so dL/dM = (dG + dG^T) M / k: one product. This saves a
    third of the Gram's work in every style-transfer evaluation (benchmarks/README.md).
    """

    @staticmethod
    def forward(ctx, M, k):
        ctx.save_for_backward(M)
        ctx.k = k
        return torch.bmm(M, M.transpose(1, 2)) / k

    @staticmethod
    def backward(ctx, dG):
        (M,) = ctx.saved_tensors
        return torch.bmm(dG + dG.transpose(1, 2), M) / ctx.k, None


def gram_matrix(F, normalize: str = "none") -> torch.Tensor:
    """Gram matrix G = M M^T: G_jk = sum_i M_ji M_ki, how strongly channels j and k fire together.

    F: a 2-D matrix M (C, n) -> (C, C); or feature maps (B, C, H, W) -> (B, C, C), where M is the
    flattened (C, H*W) map of each image. ``normalize``: "none" (plain M M^T, the deck's example),
    "hw" (divide by H*W: the mean over positions, independent of image size) or "chw" (divide by
    C*H*W, as the PyTorch tutorial does). For 2-D input "hw" divides by n and "chw" by C*n.
    """
    if normalize not in GRAM_NORMALIZATIONS:
        raise ValueError(f"normalize must be one of {GRAM_NORMALIZATIONS}, got {normalize!r}")
    F = _as_float_tensor(F)
    if F.ndim == 2:
        M = F
    elif F.ndim == 4:
        M = flatten_features(F)
    else:
        raise ValueError(f"gram_matrix expects a matrix (C, n) or feature maps (B, C, H, W), got shape {tuple(F.shape)}")
    C, n = M.shape[-2], M.shape[-1]
    k = {"none": 1, "hw": n, "chw": C * n}[normalize]
    if F.ndim == 2:
        return M @ M.T / k
    return _Gram.apply(M, k)
