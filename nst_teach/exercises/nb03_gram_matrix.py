"""Checkers of notebook 03 (Gram matrix): 03.1 gram_by_hand, 03.2 gram_hw,
03.3 gram_from_statistics."""

from __future__ import annotations

import torch

from .core import call_answer, centred, compare_answer, covariance, exercise, randn

DECK_M = torch.tensor([[19.0, 20.0], [9.0, 8.0]], dtype=torch.float64)  # the deck's Gram example


@exercise("03.1", "gram_by_hand")
def check_gram_by_hand(fn) -> str:
    """Exercise 03.1: fn(F) for F (N, M) -> G = F F^T (N, N), no normalisation."""
    for F in (DECK_M, randn((3, 5), seed=61, mean=1.0)):
        N, M = F.shape
        call = f"gram_by_hand(F) for F of shape ({N}, {M})"
        Fc = centred(F)
        square = N == M  # only then is F @ F (no transpose) a possible answer
        wrong = [
            (f"you computed F^T F ({M} x {M}, positions by positions); the Gram matrix is F F^T "
             f"({N} x {N}), channels by channels: F @ F.T.", F.T @ F),
            ("you multiplied element by element (F * F); use the matrix product F @ F.T.", F * F),
            *([("you multiplied F by itself without transposing: use F @ F.T.", F @ F)]
              if square else []),
            (f"you divided by M = {M}, the number of positions (columns): the deck's Gram is "
             "plain F F^T (normalize='none').", F @ F.T / M),
            ("you centred F first: that gives (M - 1) times the covariance. The Gram matrix uses "
             "the raw values.", Fc @ Fc.T),
        ]
        shapes = {(M, M): f"that is F^T F, positions by positions; the Gram matrix is F @ F.T, "
                          f"({N}, {N}).",
                  (N, M): "the shape of F itself: did you multiply element by element? "
                          "Use F @ F.T."}
        compare_answer(call_answer(fn, F, call=call), F @ F.T, call, wrong, shapes)
    return "gram_by_hand reproduces the deck: [[19, 20], [9, 8]] -> [[761, 331], [331, 145]]."


@exercise("03.2", "gram_hw")
def check_gram_hw(fn) -> str:
    """Exercise 03.2: fn(maps) for maps (N, H, W) -> G = F F^T / M, F = maps as (N, M = H*W)."""
    N, H, W = 3, 4, 5
    maps = torch.relu(randn((N, H, W), seed=71, mean=0.3))
    F = maps.reshape(N, H * W)
    G = F @ F.T
    scrambled = maps.reshape(H * W, N).T  # a reshape that mixes channels and positions
    call = f"gram_hw(maps) for maps of shape ({N}, {H}, {W})"
    wrong = [
        (f"you forgot to normalise: divide by M = H*W = {H * W}, the number of positions.", G),
        (f"you divided by N*H*W = {N * H * W} ('chw'); this exercise asks for 'hw': "
         "divide by H*W only.", G / (N * H * W)),
        (f"you divided by H = {H} only; divide by H*W, the number of positions.", G / H),
        (f"you divided by W = {W} only; divide by H*W, the number of positions.", G / W),
        ("you divided by H*W - 1: that is the covariance's n - 1; the Gram is an average over the "
         "H*W positions.", G / (H * W - 1)),
        (f"you reshaped the maps to (H*W, N) = ({H * W}, {N}) and transposed: that mixes channels "
         "and positions. maps.reshape(N, H*W) keeps each channel in its own row.",
         scrambled @ scrambled.T / (H * W)),
        ("you computed F^T F (positions by positions); the Gram matrix is F @ F.T.",
         F.T @ F / (H * W)),
    ]
    shapes = {
        (H * W, H * W): f"({H * W}, {H * W}) is positions by positions: flatten to F = "
                        "maps.reshape(N, H*W) and use F @ F.T, channels by channels.",
        (N, H, H): "a 3-D result: flatten the maps (N, H, W) into F (N, H*W) first, then F @ F.T.",
        (N, W, W): "a 3-D result: flatten the maps (N, H, W) into F (N, H*W) first, then F @ F.T.",
        (N, H, W): "the shape of the maps themselves: flatten them into F (N, H*W), then "
                   "F @ F.T / (H*W).",
        (1, N, N): "you kept a batch dimension: for maps (N, H, W) return an (N, N) matrix.",
    }
    compare_answer(call_answer(fn, maps, call=call), G / (H * W), call, wrong, shapes)
    return "gram_hw matches nt.gram_matrix(maps[None], normalize='hw')[0]."


@exercise("03.3", "gram_from_statistics")
def check_gram_from_statistics(fn) -> str:
    """Exercise 03.3: fn(mean, covariance, n) -> F F^T = (n - 1) covariance + n mean mean^T."""
    N, n = 3, 10
    F = randn((N, n), seed=81) + torch.tensor([[1.0], [0.2], [2.0]], dtype=torch.float64)
    mean, cov = F.mean(dim=1), covariance(F)
    outer = mean[:, None] * mean[None, :]
    call = f"gram_from_statistics(mean, covariance, n) for N = {N} rows and n = {n} columns"
    wrong = [
        ("you left out the means: F F^T = (n - 1) * covariance + n * mean mean^T. The mean term is "
         "what dominates the Gram matrix of features that are never negative.", (n - 1) * cov),
        ("you used n instead of n - 1 for the covariance part: the centred rows give "
         "Fc Fc^T = (n - 1) * covariance.", n * cov + n * outer),
        ("you forgot the factor n on mean mean^T: each of the n columns adds mean mean^T.",
         (n - 1) * cov + outer),
        ("you forgot the factors: F F^T = (n - 1) * covariance + n * mean mean^T.", cov + outer),
        ("mean * mean multiplies element by element (shape (N,)); you need the outer product "
         "mean mean^T: torch.outer(mean, mean) or mean[:, None] * mean[None, :].",
         (n - 1) * cov + n * mean * mean),
        ("mean @ mean is one number (the inner product); you need the outer product "
         "mean mean^T: torch.outer(mean, mean).", (n - 1) * cov + n * (mean @ mean)),
    ]
    shapes = {(N,): "a vector: mean * mean is element by element; use the outer product "
                    "torch.outer(mean, mean)."}
    compare_answer(call_answer(fn, mean, cov, n, call=call), F @ F.T, call, wrong, shapes)
    return "gram_from_statistics matches nt.gram_matrix: F F^T = (n - 1) cov + n mean mean^T."
