"""Checkers of notebook 06 (style loss): 06.1 layer_style_loss, one layer's Gram MSE, and
06.2 style_loss_by_hand, the weighted sum over layers."""

from __future__ import annotations

import torch

from .core import CheckFailed, call_answer, centred, compare_answer, exercise, gram_hw, randn


@exercise("06.1", "layer_style_loss")
def check_layer_style_loss(fn) -> str:
    """Exercise 06.1: fn(F_G, F_S) for (1, N, H, W) maps -> mean over N^2 entries of (G - A)^2."""
    N, H, W = 3, 4, 5
    F_G = torch.relu(randn((1, N, H, W), seed=121, mean=0.3))
    F_S = torch.relu(randn((1, N, H, W), seed=122, mean=0.6, scale=1.5))
    M = H * W  # positions
    Fg, Fs = F_G.reshape(N, M), F_S.reshape(N, M)  # the paper's F, flattened
    G, A = gram_hw(F_G), gram_hw(F_S)  # normalised by H*W, as nt.style_loss does ("hw")
    Fg_c, Fs_c = centred(Fg), centred(Fs)
    D = F_G - F_S
    call = f"layer_style_loss(F_G, F_S) for feature maps of shape (1, {N}, {H}, {W})"
    wrong = [
        (f"you forgot to normalise the Gram matrices: divide F F^T by M = H*W = {M}.",
         ((Fg @ Fg.T - Fs @ Fs.T) ** 2).mean()),
        (f"you divided the Gram matrices by N*H*W ('chw'); nt.style_loss uses 'hw': "
         f"divide by M = H*W = {M} only.", ((G - A) / N).square().mean()),
        (f"you divided the Gram matrices by H*W - 1: that is the covariance's n - 1; the Gram "
         f"matrix averages over the M = H*W = {M} positions.",
         ((G - A) * M / (M - 1)).square().mean()),
        ("you included Gatys et al.'s factor 1/4; nt.style_loss leaves it out (its ℓ_l is the "
         "paper's E_l times 4).", (G - A).square().mean() / 4),
        (f"you summed over the N x N entries; average them (divide by N^2 = {N * N}).",
         (G - A).square().sum()),
        ("you compared the feature maps themselves: that is the content loss. Compare their Gram "
         "matrices.", D.square().mean()),
        ("you took the Gram matrix of the difference, Gram(F_G - F_S); take the difference of the "
         "Gram matrices, Gram(F_G) - Gram(F_S).", gram_hw(D).square().mean()),
        ("you computed F^T F (positions by positions); the Gram matrix is F F^T, channels by "
         "channels.", ((Fg.T @ Fg - Fs.T @ Fs) / M).square().mean()),
        ("you centred the features (that makes a covariance); the Gram matrix uses them as they "
         "are.", ((Fg_c @ Fg_c.T - Fs_c @ Fs_c.T) / M).square().mean()),
        ("you returned the norm ||G - A||; the loss is the mean of the squared differences.",
         (G - A).norm()),
        ("you returned the root of the mean squared difference: leave out the square root.",
         (G - A).square().mean().sqrt()),
        ("you returned the squared differences of every entry: average them into one number.",
         (G - A).square()),
    ]
    matrix = "that is an N x N matrix: average its squared differences into one number."
    shapes = {(N, N): matrix, (1, N, N): matrix}
    got = call_answer(fn, F_G, F_S, call=call)
    compare_answer(got, (G - A).square().mean(), call, wrong, shapes)
    return "layer_style_loss is the style loss of one layer, as nt.style_loss computes it."


def _style_case() -> tuple[dict, dict]:
    """(target_features, style_grams) for exercise 06.2: three style layers and a content layer."""
    sizes = {"relu1_1": (2, 6, 6), "relu2_1": (4, 3, 3), "relu3_1": (8, 2, 2)}
    target_features, style_grams, seed = {}, {}, 131
    for name, (N, H, W) in sizes.items():
        target_features[name] = torch.relu(randn((1, N, H, W), seed=seed, mean=0.3))
        style = torch.relu(randn((1, N, H, W), seed=seed + 1, mean=0.5))
        style_grams[name] = gram_hw(style)[None]
        seed += 2
    target_features["relu4_2"] = randn((1, 16, 1, 1), seed=seed)  # content layer, not a style one
    return target_features, style_grams


@exercise("06.2", "style_loss_by_hand")
def check_style_loss_by_hand(fn) -> str:
    """Exercise 06.2: fn(target_features, style_grams) -> sum of ℓ_l / K over its K layers."""
    target_features, style_grams = _style_case()
    names, L = list(style_grams), len(style_grams)
    grams = {n: gram_hw(target_features[n])[None] for n in names}
    E = {n: (grams[n] - style_grams[n]).square().mean() for n in names}
    positions = {n: target_features[n].shape[2] * target_features[n].shape[3] for n in names}
    raw = {n: (grams[n] * positions[n] - style_grams[n]).square().mean() for n in names}
    call = "style_loss_by_hand(target_features, style_grams)"
    wrong = [
        (f"you added the layers without their weights w_l = 1/K: with K = {L} layers that is {L} "
         "times too much.", sum(E.values())),
        (f"you used only the last layer, {names[-1]}; the style loss is applied on many layers: "
         "add w_l * ℓ_l for every layer of style_grams.", E[names[-1]]),
        (f"you used only the first layer, {names[0]}; add w_l * ℓ_l for every layer of "
         "style_grams.", E[names[0]]),
        (f"you used only the last layer's share, ℓ_{names[-1]} / K: add up the layers.",
         E[names[-1]] / L),
        ("you compared F F^T of the target with the style Grams, which are divided by M = H*W "
         "('hw'): normalise the target's Gram the same way.", sum(raw.values()) / L),
        (f"you divided the sum by K twice (K^2 = {L * L}): the weights are w_l = 1/K.",
         sum(E.values()) / L**2),
    ]
    try:
        got = call_answer(fn, target_features, style_grams, call=call)
    except CheckFailed as failure:
        if "KeyError" not in str(failure):
            raise
        raise CheckFailed(f"{failure}; loop over the layers of style_grams: target_features may "
                          "hold more layers (here the content layer relu4_2).") from None
    shapes = {(L,): "one value per layer: add them up, weighted by 1/K."}
    compare_answer(got, sum(E.values()) / L, call, wrong, shapes)
    return "style_loss_by_hand matches nt.style_loss: the mean of the layers' Gram MSEs."
