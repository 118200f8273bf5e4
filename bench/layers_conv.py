"""Forward+backward time: plait conv layers on channels-last vs `nn.Conv*d` on NCHW.

Run: `python bench/layers_conv.py [--threads 1] [--rounds 15]`. Each row builds a
plait layer and the torch module computing the same math (weights copied across
layouts, outputs checked equal), times one forward+backward of each in
alternating rounds after warm-up, and prints medians and the plait/torch ratio
(target: plait within 1.1x; below 1.0 = plait faster). plait takes its input
channels-last `(batch, rows, cols, channels)`, torch takes NCHW, as each would
be fed in practice.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from rich.console import Console
from rich.table import Table
from torch import nn

import plait
from plait import layers as L


def step(module: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> None:
    """One forward and backward pass (sum of the outputs as the loss)."""
    module(x).sum().backward()


def per_call(fn: Callable[[], object], calls: int) -> float:
    """Seconds per call of `fn`, timed over `calls` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def compare(
    a_fn: Callable[[], object], b_fn: Callable[[], object], rounds: int, calls: int
) -> tuple[float, float]:
    """Median seconds per call of each, measured in alternating rounds."""
    for _ in range(2):  # warm-up: allocator, oneDNN primitive caches
        per_call(a_fn, calls)
        per_call(b_fn, calls)
    a, b = [], []
    for _ in range(rounds):
        a.append(per_call(a_fn, calls))
        b.append(per_call(b_fn, calls))
    return statistics.median(a), statistics.median(b)


def _pair_2d(
    layer: L.Layer, module: nn.Module, shape: tuple[int, ...]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Build `layer`, copy its weights into `module`; inputs NHWC and NCHW."""
    x = torch.randn(shape, requires_grad=True)
    layer(x)
    with torch.no_grad():
        for src, dst in zip(layer.parameters(), module.parameters()):
            dst.copy_(src.reshape(dst.shape))  # plait stores torch's layout
    x_nchw = x.detach().movedim(-1, 1).contiguous().requires_grad_(True)
    torch.testing.assert_close(
        layer(x).movedim(-1, 1), module(x_nchw), rtol=1e-4, atol=1e-4
    )
    return x, x_nchw


class _Same(nn.Module):
    """`nn.Conv2d` with Keras's asymmetric "same" padding (F.pad, then conv)."""

    def __init__(self, conv: nn.Conv2d, pad: tuple[int, int, int, int]) -> None:
        super().__init__()
        self.conv, self.pad = conv, pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, self.pad))


def rows(batch: int) -> list[tuple[str, L.Layer, nn.Module, tuple[int, ...]]]:
    """(label, plait layer, equivalent torch module, plait input shape)."""
    return [
        (
            "Conv2D 16->32 3x3 same",
            L.Conv2D(32, 3, padding="same"),
            nn.Conv2d(16, 32, 3, padding=1),
            (batch, 32, 32, 16),
        ),
        (
            "Conv2D 16->32 3x3 valid relu",
            L.Conv2D(32, 3, activation="relu"),
            nn.Sequential(nn.Conv2d(16, 32, 3), nn.ReLU()),
            (batch, 32, 32, 16),
        ),
        (
            "Conv2D 16->32 3x3 s2 same",
            L.Conv2D(32, 3, strides=2, padding="same"),
            _Same(nn.Conv2d(16, 32, 3, stride=2), (0, 1, 0, 1)),
            (batch, 32, 32, 16),
        ),
        (
            "Conv2D 64->64 1x1",
            L.Conv2D(64, 1),
            nn.Conv2d(64, 64, 1),
            (batch, 16, 16, 64),
        ),
        (
            "DepthwiseConv2D 32 3x3 same",
            L.DepthwiseConv2D(3, padding="same"),
            nn.Conv2d(32, 32, 3, padding=1, groups=32),
            (batch, 32, 32, 32),
        ),
        (
            "Conv2DTranspose 32->16 4x4 s2",
            L.Conv2DTranspose(16, 4, strides=2, padding="same"),
            nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1),
            (batch, 16, 16, 32),
        ),
    ]


def main() -> None:
    """Time every row and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    plait.utils.set_random_seed(0)
    table = Table(
        title=f"Conv forward+backward, batch {args.batch} (torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads)"
    )
    for col in ("layer", "plait ms (NHWC)", "torch ms (NCHW)", "plait / torch"):
        table.add_column(col, justify="left" if col == "layer" else "right")
    for label, layer, module, shape in rows(args.batch):
        x, x_nchw = _pair_2d(layer, module, shape)
        tp, tt = compare(
            lambda layer=layer, x=x: step(layer, x),
            lambda module=module, x=x_nchw: step(module, x),
            args.rounds,
            args.calls,
        )
        table.add_row(label, f"{tp * 1e3:.2f}", f"{tt * 1e3:.2f}", f"{tp / tt:.2f}x")
    Console().print(table)


if __name__ == "__main__":
    main()
