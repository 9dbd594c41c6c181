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
    """Sample covariance of the rows of X: c_jk = 1/(n-1) sum_i (x_ji - mean x_j)(x_ki - mean x_k).

    X: (V, n) with V variables observed n times -> (V, V). A 1-D X is one variable -> 0-D.
    """
    X = _as_float_tensor(X)
    if X.ndim not in (1, 2):
        raise ValueError("covariance expects a 1-D or 2-D array (variables x observations), "
                         f"got shape {tuple(X.shape)}")
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
    """Flatten 3-D feature maps into a 2-D map per image: (B, N, H, W) -> (B, N, M = H*W).

    Row i holds channel i's activations at every position; the spatial layout is thrown away.
    A single (N, H, W) map gives (N, H*W): the paper's F_l.
    """
    if F.ndim == 3:
        return F.reshape(F.shape[0], -1)
    if F.ndim != 4:
        raise ValueError("flatten_features expects (B, C, H, W) or (C, H, W), "
                         f"got shape {tuple(F.shape)}")
    return F.reshape(F.shape[0], F.shape[1], -1)


class _Gram(torch.autograd.Function):
    """G = F F^T / k for a batch of flattened feature maps F (B, N, M); a backward of one product.

    Autograd's own backward of ``bmm(F, F^T)`` makes two (N, N) x (N, M) products, dG F and
    dG^T F. G is the same product twice, so dL/dF = (dG + dG^T) F / k: one product. This saves a
    third of the Gram's work in every style-transfer evaluation (benchmarks/README.md). The 1/k is
    applied to the small (N, N) factor, not to the (N, M) result: one division per Gram entry
    instead of one per feature value.
    """

    @staticmethod
    def forward(ctx, F, k):
        ctx.save_for_backward(F)
        ctx.k = k
        return torch.bmm(F, F.transpose(1, 2)) / k

    @staticmethod
    def backward(ctx, dG):
        (F,) = ctx.saved_tensors
        return torch.bmm((dG + dG.transpose(1, 2)) / ctx.k, F), None


def gram_matrix(F, normalize: str = "none") -> torch.Tensor:
    """Gram matrix G = F F^T: G_jk = sum_i F_ji F_ki, how strongly channels j and k fire together.

    F: a 2-D matrix (N, M) -> (N, N) (the deck writes it M: "Gram = M M^T"); or feature maps
    (B, N, H, W) -> (B, N, N), flattened to (N, M = H*W) per image, the paper's notation.
    ``normalize``: "none" (plain F F^T, the deck's example), "hw" (divide by M = H*W: the mean
    over positions, independent of image size) or "chw" (divide by N*M, as the PyTorch tutorial
    does). For 2-D input "hw" divides by M and "chw" by N*M.
    """
    if normalize not in GRAM_NORMALIZATIONS:
        raise ValueError(f"normalize must be one of {GRAM_NORMALIZATIONS}, got {normalize!r}")
    F = _as_float_tensor(F)
    if F.ndim == 4:
        flat = flatten_features(F)
    elif F.ndim == 2:
        flat = F
    else:
        raise ValueError("gram_matrix expects a matrix (N, M) or feature maps (B, N, H, W), "
                         f"got shape {tuple(F.shape)}")
    N, M = flat.shape[-2], flat.shape[-1]
    k = {"none": 1, "hw": M, "chw": N * M}[normalize]
    if F.ndim == 2:
        return flat @ flat.T / k
    return _Gram.apply(flat, k)
