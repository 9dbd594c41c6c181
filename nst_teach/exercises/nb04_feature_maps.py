"""Checkers of notebook 04 (feature maps): 04.1 flatten_by_hand, (N, H, W) -> F (N, H*W), and
04.2 feature_shape, the layer table's shapes."""

from __future__ import annotations

import torch

from .core import (
    CheckFailed,
    as_tensor,
    call_answer,
    compare_answer,
    describe_shape,
    exercise,
    randn,
)


@exercise("04.1", "flatten_by_hand")
def check_flatten_by_hand(fn) -> str:
    """Exercise 04.1: fn(maps) for feature maps (N, H, W) -> F (N, H*W), channel by channel."""
    for seed, (N, H, W) in ((91, (3, 4, 5)), (92, (2, 3, 7))):
        maps = randn((N, H, W), seed=seed)
        call = f"flatten_by_hand(maps) for maps of shape ({N}, {H}, {W})"
        wrong = [
            (f"you reshaped the maps to (H*W, N) = ({H * W}, {N}) and transposed: that mixes "
             "channels and positions. maps.reshape(N, H*W) keeps each channel in its own row.",
             maps.reshape(H * W, N).T),
            ("you read each channel column by column (position x*H + y); read it line by line, "
             "position y*W + x, as maps.reshape(N, H*W) and nt.flatten_features do.",
             maps.transpose(1, 2).reshape(N, H * W)),
            (f"you returned (H*W, N) = ({H * W}, {N}), one row per position: transposed. "
             "The deck's 2-D map F has one row per channel, (N, H*W).",
             maps.reshape(N, H * W).T),
            (f"you reshaped the maps straight to (H*W, N) = ({H * W}, {N}): one row per position, "
             "with channels and positions mixed. Use maps.reshape(N, H*W).",
             maps.reshape(H * W, N)),
            ("you flattened everything into one vector; keep one row per channel: "
             "maps.reshape(N, H*W).", maps.reshape(-1)),
            ("you kept a batch dimension: for maps of shape (N, H, W) return (N, H*W).",
             maps.reshape(1, N, H * W)),
            (f"you merged the channels with the rows: (N*H, W) = ({N * H}, {W}). Keep the channels "
             "apart and merge H and W: maps.reshape(N, H*W).", maps.reshape(N * H, W)),
        ]
        compare_answer(call_answer(fn, maps, call=call), maps.reshape(N, H * W), call, wrong)
    return ("flatten_by_hand matches nt.flatten_features: (N, H, W) -> F (N, H*W), "
            "channel by channel.")


def _vgg_shape(name: str, height: int, width: int, *, own_pool: bool = False,
               pool_before: bool = False, cap: bool = True, ceil: bool = False,
               swap: bool = False) -> tuple[int, int, int]:
    """(N, h, w) of a VGG19 layer for a height x width image; the keywords make typical mistakes."""
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
    """Exercise 04.2: fn(name, height, width) -> (N, h, w) of that VGG19 layer, from the rules."""
    from ..vgg import LAYER_NAMES

    height, width = 100, 75  # odd sizes: pooling rounds down
    rows = []
    for name in LAYER_NAMES:
        call = f"feature_shape({name!r}, {height}, {width})"
        got = as_tensor(call_answer(fn, name, height, width, call=call), call)
        if got.shape != (3,):
            hints = {(4,): " without the batch dimension",
                     (2,): ": the channels N first, then h and w"}
            hint = hints.get(tuple(got.shape), "")
            raise CheckFailed(f"{call} returned {describe_shape(got)}; "
                              f"return three numbers (N, h, w){hint}.")
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
        ("you swapped height and width: return (N, h, w), the height first, as PyTorch does.",
         table(swap=True)),
    ]
    expected = table()

    def explain(got):
        for name, mine, right in zip(LAYER_NAMES, got.tolist(), expected.tolist(), strict=True):
            if mine != right:
                return (f"for {name} on a {height} x {width} image you gave "
                        f"{tuple(int(v) for v in mine)}, expected {tuple(int(v) for v in right)}.")
        return None

    compare_answer(got, expected, "your shapes", wrong, explain=explain)
    return "feature_shape gives the shape of every one of the 37 layers, conv1_1 to pool5."
