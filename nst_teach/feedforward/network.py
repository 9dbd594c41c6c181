"""The image transformation network of real-time style transfer: its layers and its shape.

Taught in notebook 11. Johnson, Alahi & Fei-Fei (2016, "Perceptual Losses for Real-Time Style
Transfer") train a feed-forward ``TransformNet`` that paints a photo in one pass; Ulyanov,
Vedaldi & Lempitsky (2016) showed that instance normalisation (each image and channel on its own)
makes it work far better (``with_batch_norm`` builds the batch-norm twin to compare).

Johnson et al.'s shape, by default shrunk to train on a 2-core CPU in minutes (notebook 11's live
run): channels 16/32/64 instead of 32/64/128 and 3 residual blocks instead of 5 (about 1/6 of the
parameters, 1/5 of the multiply-adds); the shipped networks have Johnson et al.'s widths and
blocks (``train --channels 32 64 128 --res-blocks 5``). The last convolution is 3x3,
not 9x9 (with 3 output channels, a 9x9 one at full resolution is the slowest layer); upsampling is
nearest-neighbour then a convolution, not a transposed convolution, so no checkerboard (Odena et
al. 2016).
``layer_table`` lists each convolution's output, parameters and multiply-adds.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as nnf
from torch import nn

CHANNELS = (16, 32, 64)  # Johnson et al.: 32, 64, 128
RES_BLOCKS = 3  # Johnson et al.: 5
UPSAMPLING = ("nearest", "bilinear", "transposed")  # "transposed": to show its checkerboard
OUT_KERNEL = 3  # the last convolution's kernel (Johnson et al.: 9)
MIN_SIDE = 8  # the 9x9 reflection padding needs 5 px at full and 2 px at quarter resolution


def conv(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Conv2d:
    """A convolution with reflection padding: borders continue the image instead of going black."""
    return nn.Conv2d(c_in, c_out, kernel, stride, padding=kernel // 2, padding_mode="reflect")


def conv_block(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Sequential:
    """Convolution, instance norm (affine), ReLU: (B, c_in, H, W) -> (B, c_out, H/s, W/s)."""
    return nn.Sequential(conv(c_in, c_out, kernel, stride), nn.InstanceNorm2d(c_out, affine=True),
                         nn.ReLU())


def up_block(c_in: int, c_out: int, upsampling: str = "nearest") -> nn.Sequential:
    """Twice the resolution: nearest-neighbour (or bilinear) upsampling then a 3x3 convolution,
    or a transposed convolution."""
    if upsampling == "transposed":  # uneven overlap of the strided kernel: a checkerboard
        layers = [nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)]
    else:
        layers = [nn.Upsample(scale_factor=2, mode=upsampling), conv(c_in, c_out, 3)]
    return nn.Sequential(*layers, nn.InstanceNorm2d(c_out, affine=True), nn.ReLU())


class ResidualBlock(nn.Module):
    """x + IN(conv(ReLU(IN(conv(x))))): (B, C, H, W) -> (B, C, H, W); "change little" is easy."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(conv_block(channels, channels, 3), conv(channels, channels, 3),
                                  nn.InstanceNorm2d(channels, affine=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class TransformNet(nn.Module):
    """Johnson et al.'s image transformation network: (B, 3, H, W) -> (B, 3, H, W), both in [0, 1].

    Two stride-2 convolutions down, residual blocks, two upsampling blocks, a 3x3 convolution and
    a sigmoid. Any H, W >= 8: the image is reflection-padded to a multiple of 4 and cropped back.
    """

    def __init__(self, channels=CHANNELS, res_blocks: int = RES_BLOCKS,
                 upsampling: str = "nearest", out_kernel: int = OUT_KERNEL):
        super().__init__()
        c1, c2, c3 = check_architecture(channels, res_blocks, upsampling)
        if out_kernel not in (1, 3, 5, 7, 9):
            raise ValueError(f"out_kernel must be 1, 3, 5, 7 or 9, got {out_kernel!r}")
        self.channels, self.res_blocks, self.upsampling = (c1, c2, c3), int(res_blocks), upsampling
        self.out_kernel = out_kernel
        self.down = nn.Sequential(conv_block(3, c1, 9), conv_block(c1, c2, 3, 2),
                                  conv_block(c2, c3, 3, 2))
        self.residual = nn.Sequential(*[ResidualBlock(c3) for _ in range(res_blocks)])
        self.up = nn.Sequential(up_block(c3, c2, upsampling), up_block(c2, c1, upsampling))
        self.out = conv(c1, 3, out_kernel)
        self.manifest: dict = {}  # how it was trained (``train``), kept by save_model, load_model

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        if image.ndim != 4 or image.shape[1] != 3 or min(image.shape[-2:]) < MIN_SIDE:
            raise ValueError(f"TransformNet needs an RGB batch (B, 3, H, W) with H, W >= "
                             f"{MIN_SIDE}, got shape {tuple(image.shape)}: load it with load_image")
        h, w = image.shape[-2:]
        x = nnf.pad(image, (0, -w % 4, 0, -h % 4), mode="reflect")  # two halvings: a multiple of 4
        x = self.out(self.up(self.residual(self.down(x))))
        return torch.sigmoid(x[..., :h, :w])

    def architecture(self) -> dict:
        """The arguments that rebuild this network: channels, res_blocks, upsampling, out_kernel."""
        return {"channels": list(self.channels), "res_blocks": self.res_blocks,
                "upsampling": self.upsampling, "out_kernel": self.out_kernel}

    def parameter_count(self) -> int:
        """Number of trained values (weights, biases, the normalisations' scales and shifts)."""
        return sum(p.numel() for p in self.parameters())


def check_architecture(channels, res_blocks, upsampling) -> tuple[int, int, int]:
    """The channels as a tuple, or a ValueError that says which argument is wrong."""
    channels = tuple(channels)
    if len(channels) != 3 or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 1
                                     for c in channels):
        raise ValueError(f"channels must be three whole numbers >= 1, e.g. {CHANNELS}, "
                         f"got {channels!r}")
    if isinstance(res_blocks, bool) or not isinstance(res_blocks, int) or res_blocks < 0:
        raise ValueError(f"res_blocks must be a whole number >= 0, got {res_blocks!r}")
    if upsampling not in UPSAMPLING:
        raise ValueError(f"unknown upsampling {upsampling!r}: choose one of "
                         f"{', '.join(UPSAMPLING)}")
    return channels


def layer_table(net: TransformNet, image: torch.Tensor) -> list[dict]:
    """One row per convolution of ``net`` run on ``image`` (1, 3, H, W): name, kernel, stride,
    output shape (C, H, W), parameters (with the norm after it) and multiply-adds."""
    rows, hooks = [], []

    def record(name, module, _, output):
        c, h, w = output.shape[1:]
        norm = 2 * c  # the instance norm's scale and shift that follow every conv but the last
        rows.append(dict(layer=name, kernel=f"{module.kernel_size[0]}x{module.kernel_size[1]}",
                         stride=module.stride[0], output=(c, h, w),
                         parameters=sum(p.numel() for p in module.parameters()) + norm,
                         macs=module.weight[0].numel() * c * h * w))

    for name, module in net.named_modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            hooks.append(module.register_forward_hook(lambda m, i, o, n=name: record(n, m, i, o)))
    try:
        with torch.no_grad():
            net(image)
    finally:
        for hook in hooks:
            hook.remove()
    rows[-1]["parameters"] -= 2 * rows[-1]["output"][0]  # the output conv has no norm after it
    return rows


def with_batch_norm(net: TransformNet, images: torch.Tensor) -> TransformNet:
    """A copy of ``net`` with batch norm where it has instance norm: the same scales and shifts,
    but each channel normalised by its mean and variance over all of ``images`` (B, 3, H, W), a
    training set, fixed as at test time (eval mode), instead of over the image being painted."""
    twin = copy.deepcopy(net)
    for parent in twin.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.InstanceNorm2d):
                bn = nn.BatchNorm2d(child.num_features, eps=child.eps, momentum=None)
                bn.load_state_dict({"weight": child.weight, "bias": child.bias}, strict=False)
                setattr(parent, name, bn)
    values = {}  # per batch norm: values per channel, n = B * H * W

    def count(module, inputs):
        values[module] = inputs[0].numel() // inputs[0].shape[1]

    norms = [m for m in twin.modules() if isinstance(m, nn.BatchNorm2d)]
    hooks = [bn.register_forward_pre_hook(count) for bn in norms]
    with torch.no_grad():
        twin.train()(images)  # one batch, momentum None: the running statistics are its own
        for bn in norms:  # batch norm keeps the unbiased variance, but normalises by the biased
            bn.running_var.mul_((values[bn] - 1) / values[bn])
    for hook in hooks:
        hook.remove()
    return twin.eval()
