"""Checkers of notebook 03 (Gram matrix): 03.1 gram_by_hand, 03.2 gram_hw,
03.3 gram_from_statistics."""

from __future__ import annotations

import torch

from .core import _call, _centred, _compare, _covariance, _randn, exercise

DECK_M = torch.tensor([[19.0, 20.0], [9.0, 8.0]], dtype=torch.float64)  # the deck's Gram example


@exercise("03.1", "gram_by_hand")
def check_gram_by_hand(fn) -> str:
    """Exercise 03.1: fn(M) for M (C, n) -> G = M M^T (C, C), no normalisation."""
    for M in (DECK_M, _randn((3, 5), seed=61, mean=1.0)):
        C, n = M.shape
        call = f"gram_by_hand(M) for M of shape ({C}, {n})"
        Mc = _centred(M)
        square = C == n  # only then is M @ M (no transpose) a possible answer
        wrong = [
            (f"you computed M^T M ({n} x {n}, positions by positions); the Gram matrix is M M^T "
             f"({C} x {C}), channels by channels: M @ M.T.", M.T @ M),
            ("you multiplied element by element (M * M); use the matrix product M @ M.T.", M * M),
            *([("you multiplied M by itself without transposing: use M @ M.T.", M @ M)]
              if square else []),
            (f"you divided by n = {n}: the deck's Gram is plain M M^T (normalize='none').",
             M @ M.T / n),
            ("you centred M first: that gives (n - 1) times the covariance. The Gram matrix uses "
             "the raw values.", Mc @ Mc.T),
        ]
        shapes = {(n, n): f"that is M^T M, positions by positions; the Gram matrix is M @ M.T, "
                          f"({C}, {C}).",
                  (C, n): "the shape of M itself: did you multiply element by element? "
                          "Use M @ M.T."}
        _compare(_call(fn, M, call=call), M @ M.T, call, wrong, shapes)
    return "gram_by_hand reproduces the deck: [[19, 20], [9, 8]] -> [[761, 331], [331, 145]]."


@exercise("03.2", "gram_hw")
def check_gram_hw(fn) -> str:
    """Exercise 03.2: fn(F) for feature maps F (C, H, W) -> G = M M^T / (H*W), M = F as (C, H*W)."""
    C, H, W = 3, 4, 5
    F = torch.relu(_randn((C, H, W), seed=71, mean=0.3))
    M = F.reshape(C, H * W)
    G = M @ M.T
    scrambled = F.reshape(H * W, C).T  # a reshape that mixes channels and positions
    call = f"gram_hw(F) for F of shape ({C}, {H}, {W})"
    wrong = [
        (f"you forgot to normalise: divide by H*W = {H * W}, the number of positions.", G),
        (f"you divided by C*H*W = {C * H * W} ('chw'); this exercise asks for 'hw': "
         "divide by H*W only.", G / (C * H * W)),
        (f"you divided by H = {H} only; divide by H*W, the number of positions.", G / H),
        (f"you divided by W = {W} only; divide by H*W, the number of positions.", G / W),
        ("you divided by H*W - 1: that is the covariance's n - 1; the Gram is an average over the "
         "H*W positions.", G / (H * W - 1)),
        (f"you reshaped F to (H*W, C) = ({H * W}, {C}) and transposed: that mixes channels and "
         "positions. F.reshape(C, H*W) keeps each channel in its own row.",
         scrambled @ scrambled.T / (H * W)),
        ("you computed M^T M (positions by positions); the Gram matrix is M @ M.T.",
         M.T @ M / (H * W)),
    ]
    shapes = {
        (H * W, H * W): f"({H * W}, {H * W}) is positions by positions: flatten to M = "
                        "F.reshape(C, H*W) and use M @ M.T, channels by channels.",
        (C, H, H): "a 3-D result: flatten F (C, H, W) into M (C, H*W) first, then M @ M.T.",
        (C, W, W): "a 3-D result: flatten F (C, H, W) into M (C, H*W) first, then M @ M.T.",
        (C, H, W): "the shape of F itself: flatten it into M (C, H*W), then M @ M.T / (H*W).",
        (1, C, C): "you kept a batch dimension: for F (C, H, W) return a (C, C) matrix.",
    }
    _compare(_call(fn, F, call=call), G / (H * W), call, wrong, shapes)
    return "gram_hw matches nt.gram_matrix(F[None], normalize='hw')[0]."


@exercise("03.3", "gram_from_statistics")
def check_gram_from_statistics(fn) -> str:
    """Exercise 03.3: fn(mean, covariance, n) -> M M^T = (n - 1) covariance + n mean mean^T."""
    C, n = 3, 10
    M = _randn((C, n), seed=81) + torch.tensor([[1.0], [0.2], [2.0]], dtype=torch.float64)
    mean, cov = M.mean(dim=1), _covariance(M)
    outer = mean[:, None] * mean[None, :]
    call = f"gram_from_statistics(mean, covariance, n) for C = {C} rows and n = {n}"
    wrong = [
        ("you left out the means: M M^T = (n - 1) * covariance + n * mean mean^T. The mean term is "
         "what dominates the Gram matrix of features that are never negative.", (n - 1) * cov),
        ("you used n instead of n - 1 for the covariance part: the centred rows give "
         "Mc Mc^T = (n - 1) * covariance.", n * cov + n * outer),
        ("you forgot the factor n on mean mean^T: each of the n columns adds mean mean^T.",
         (n - 1) * cov + outer),
        ("you forgot the factors: M M^T = (n - 1) * covariance + n * mean mean^T.", cov + outer),
        ("mean * mean multiplies element by element (shape (C,)); you need the outer product "
         "mean mean^T: torch.outer(mean, mean) or mean[:, None] * mean[None, :].",
         (n - 1) * cov + n * mean * mean),
        ("mean @ mean is one number (the inner product); you need the outer product "
         "mean mean^T: torch.outer(mean, mean).", (n - 1) * cov + n * (mean @ mean)),
    ]
    shapes = {(C,): "a vector: mean * mean is element by element; use the outer product "
                    "torch.outer(mean, mean)."}
    _compare(_call(fn, mean, cov, n, call=call), M @ M.T, call, wrong, shapes)
    return "gram_from_statistics matches nt.gram_matrix: M M^T = (n - 1) C + n mean mean^T."
