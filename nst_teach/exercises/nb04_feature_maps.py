"""Checkers of notebook 04 (feature maps): 04.1 flatten_by_hand, (C, H, W) -> (C, H*W), and
04.2 feature_shape, the layer table's shapes."""

from __future__ import annotations

import torch

from .core import CheckFailed, _call, _compare, _randn, _shape, _tensor, exercise


@exercise("04.1", "flatten_by_hand")
def check_flatten_by_hand(fn) -> str:
    """Exercise 04.1: fn(F) for a feature map F (C, H, W) -> M (C, H*W), channel by channel."""
    for seed, (C, H, W) in ((91, (3, 4, 5)), (92, (2, 3, 7))):
        F = _randn((C, H, W), seed=seed)
        call = f"flatten_by_hand(F) for F of shape ({C}, {H}, {W})"
        wrong = [
            (f"you reshaped F to (H*W, C) = ({H * W}, {C}) and transposed: that mixes channels and "
             "positions. F.reshape(C, H*W) keeps each channel in its own row.",
             F.reshape(H * W, C).T),
            ("you read each channel column by column (position x*H + y); read it line by line, "
             "position y*W + x, as F.reshape(C, H*W) and nt.flatten_features do.",
             F.transpose(1, 2).reshape(C, H * W)),
            (f"you returned (H*W, C) = ({H * W}, {C}), one row per position: transposed. "
             "The deck's 2-D map has one row per channel, (C, H*W).", F.reshape(C, H * W).T),
            (f"you reshaped F straight to (H*W, C) = ({H * W}, {C}): one row per position, with "
             "channels and positions mixed. Use F.reshape(C, H*W).", F.reshape(H * W, C)),
            ("you flattened everything into one vector; keep one row per channel: "
             "F.reshape(C, H*W).", F.reshape(-1)),
            ("you kept a batch dimension: for F of shape (C, H, W) return (C, H*W).",
             F.reshape(1, C, H * W)),
            (f"you merged the channels with the rows: (C*H, W) = ({C * H}, {W}). Keep the channels "
             "apart and merge H and W: F.reshape(C, H*W).", F.reshape(C * H, W)),
        ]
        _compare(_call(fn, F, call=call), F.reshape(C, H * W), call, wrong)
    return "flatten_by_hand matches nt.flatten_features: (C, H, W) -> (C, H*W), channel by channel."


def _vgg_shape(name: str, height: int, width: int, *, own_pool: bool = False,
               pool_before: bool = False, cap: bool = True, ceil: bool = False,
               swap: bool = False) -> tuple[int, int, int]:
    """(C, h, w) of a VGG19 layer for a height x width image; the keywords make typical mistakes."""
    block = int(name[4])
    channels = 64 * 2 ** (block - 1)
    channels = min(channels, 512) if cap else channels
    pools = block - 1
    if name.startswith("pool"):
        pools = block - 1 if pool_before else block
    elif own_pool:
        pools = block
    h, w = height, width
    for _ in range(pools):
        h, w = (-(-h // 2), -(-w // 2)) if ceil else (h // 2, w // 2)
    return (channels, w, h) if swap else (channels, h, w)


@exercise("04.2", "feature_shape")
def check_feature_shape(fn) -> str:
    """Exercise 04.2: fn(name, height, width) -> (C, h, w) of that VGG19 layer, from the rules."""
    from ..vgg import LAYER_NAMES

    height, width = 100, 75  # odd sizes: pooling rounds down
    rows = []
    for name in LAYER_NAMES:
        call = f"feature_shape({name!r}, {height}, {width})"
        got = _tensor(_call(fn, name, height, width, call=call), call)
        if got.shape != (3,):
            hints = {(4,): " without the batch dimension",
                     (2,): ": the channels C first, then h and w"}
            hint = hints.get(tuple(got.shape), "")
            raise CheckFailed(f"{call} returned {_shape(got)}; "
                              f"return three numbers (C, h, w){hint}.")
        rows.append(got)
    got = torch.stack(rows)

    def table(**mistake) -> torch.Tensor:
        shapes = [_vgg_shape(n, height, width, **mistake) for n in LAYER_NAMES]
        return torch.tensor(shapes, dtype=torch.float64)

    wrong = [
        ("you counted the pooling of the layer's own block: conv3_1 comes before pool3, so only "
         "pool1 and pool2 have halved the image (224 -> 56, not 28).", table(own_pool=True)),
        ("poolB is the output of block B's pooling: it has been halved B times, pool1 already "
         "once.", table(pool_before=True)),
        ("the channels double per block only up to 512: block 5 has 512 channels, like block 4.",
         table(cap=False)),
        ("MaxPool2d(2, 2) drops an odd last row or column: round down (height // 2), not up.",
         table(ceil=True)),
        ("you swapped height and width: return (C, h, w), the height first, as PyTorch does.",
         table(swap=True)),
    ]
    expected = table()

    def explain(got):
        for name, mine, right in zip(LAYER_NAMES, got.tolist(), expected.tolist(), strict=True):
            if mine != right:
                return (f"for {name} on a {height} x {width} image you gave "
                        f"{tuple(int(v) for v in mine)}, expected {tuple(int(v) for v in right)}.")
        return None

    _compare(got, expected, "your shapes", wrong, explain=explain)
    return "feature_shape gives the shape of every one of the 37 layers, conv1_1 to pool5."
