"""Mixed precision: run the network in bfloat16 where the chip multiplies it natively.

Taught in notebook 10. bfloat16 keeps float32's 8 exponent bits (the same range) and 8 of its 24
significand bits (about 3 decimal digits). Convolutions tolerate that: each output sums a few
thousand products and is followed by a ReLU. Long sums do not: a Gram matrix adds up one product per
position, and L-BFGS's dot products run over every pixel. So only the network runs in reduced
precision; its features are cast back to float32 before the Gram matrices and the losses, and the
image and the optimiser's state stay float32.

``resolve("auto", device)`` picks bfloat16 only where it is fast: a CPU with AMX or AVX512-BF16
instructions, or a CUDA device of compute capability 8.0 or more. Elsewhere (most laptops, Apple
silicon) bfloat16 would be emulated, so "auto" keeps float32 and nothing changes.
"""

from __future__ import annotations

import contextlib
import platform
import re
from pathlib import Path

import torch

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def native_bf16(device) -> bool:
    """True where ``device`` multiplies bfloat16 in hardware (detected, never assumed)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_capability(device) >= (8, 0)
    if device.type == "cpu":
        cpu = torch.cpu
        return bool(cpu._is_amx_tile_supported() or cpu._is_avx512_bf16_supported())
    return False


def resolve(precision: str, device) -> str:
    """The precision a run uses on ``device``: "fp32", "bf16" or "fp16" ("auto" decided here)."""
    device = torch.device(device)
    if precision not in PRECISIONS:
        names = ", ".join(repr(p) for p in PRECISIONS)
        raise ValueError(f"unknown precision {precision!r}: choose one of {names}")
    if precision == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    if precision == "fp16" and device.type == "cpu":
        raise ValueError("precision='fp16' is emulated on the CPU (hundreds of times slower): "
                         "use 'bf16', 'fp32' or 'auto'")
    return precision


def autocast(precision: str, device):
    """A context in which the network runs in ``precision`` (resolved); float32 is a no-op."""
    device = torch.device(device)
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=DTYPES[precision])


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo, else platform), without (R), (TM) and 'CPU @ ...':
    what manifests, benchmarks and notebooks say a number was measured on."""
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(),
                          re.MULTILINE)
    except OSError:
        found = None
    name = found.group(1) if found else (platform.processor() or platform.machine())
    name = re.sub(r"\((R|TM)\)|\s+CPU\b.*$|\bProcessor\b", "", name or "", flags=re.IGNORECASE)
    return " ".join(name.split()) or "unknown"
