"""Eager forward latency: plait models vs equivalent hand-written `nn.Module`s.

Run: `python bench/forward.py [--threads 1] [--rounds 15]`. Prints one table; each
row times both implementations interleaved, in the same process, after warm-up,
and reports medians and the plait/torch time ratio (below 1.0 = plait faster).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from rich.console import Console
from rich.table import Table
from torch import nn

import plait
from plait.layers import Dense, Input, add


class TorchMLP(nn.Module):
    """The guide's MLP written by hand: 784 -> 64 -> 64 -> 10 softmax."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2, self.fc3 = (
            nn.Linear(784, 64),
            nn.Linear(64, 64),
            nn.Linear(64, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return torch.softmax(self.fc3(x), dim=-1)


class TorchResidualMLP(nn.Module):
    """`depth` blocks of `x = x + relu(Linear(x))`, width 64."""

    def __init__(self, depth: int, width: int) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = x + torch.relu(block(x))
        return x


def plait_mlp() -> plait.Model:
    """The same MLP through plait's functional API."""
    inputs = Input(shape=(784,))
    x = Dense(64, activation="relu")(inputs)
    x = Dense(64, activation="relu")(x)
    return plait.Model(inputs, Dense(10, activation="softmax")(x))


def plait_residual_mlp(depth: int, width: int) -> plait.Model:
    """The residual MLP through plait: `add([x, Dense(width, relu)(x)])` per block."""
    inputs = Input(shape=(width,))
    x = inputs
    for _ in range(depth):
        x = add([x, Dense(width, activation="relu")(x)])
    return plait.Model(inputs, x)


def per_call(fn: Callable[[], object], calls: int) -> float:
    """Seconds per call of `fn`, timed over `calls` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def compare(
    plait_fn: Callable[[], object],
    torch_fn: Callable[[], object],
    rounds: int,
    calls: int,
) -> tuple[float, float]:
    """Median seconds per call of each, measured in alternating rounds."""
    for _ in range(3):  # warm-up: allocator, caches, generated code
        per_call(plait_fn, calls)
        per_call(torch_fn, calls)
    a, b = [], []
    for _ in range(rounds):
        a.append(per_call(plait_fn, calls))
        b.append(per_call(torch_fn, calls))
    return statistics.median(a), statistics.median(b)


def main() -> None:
    """Build each workload twice (plait and torch, same weights) and time the forward."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    plait.utils.set_random_seed(0)

    mlp_p, mlp_t = plait_mlp(), TorchMLP()
    res_p, res_t = plait_residual_mlp(50, 64), TorchResidualMLP(50, 64)
    # Same weights in both, so both compute the same numbers.
    for model_p, model_t in ((mlp_p, mlp_t), (res_p, res_t)):
        dense = [layer for layer in model_p.layers if isinstance(layer, Dense)]
        linear = [m for m in model_t.modules() if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for d, lin in zip(dense, linear):
                lin.weight.copy_(d.kernel.T)
                lin.bias.copy_(d.bias)

    rows = [
        ("guide MLP", mlp_p, mlp_t, 1, 784),
        ("guide MLP", mlp_p, mlp_t, 32, 784),
        ("50-layer residual MLP", res_p, res_t, 1, 64),
        ("50-layer residual MLP", res_p, res_t, 32, 64),
    ]
    table = Table(
        title=f"Eager forward latency (torch {torch.__version__}, {args.threads} thread)"
    )
    for col in ("workload", "batch", "plait µs", "torch µs", "plait / torch"):
        table.add_column(col, justify="right" if col != "workload" else "left")
    with torch.no_grad():
        for name, model_p, model_t, batch, width in rows:
            x = torch.randn(batch, width)
            torch.testing.assert_close(model_p(x), model_t(x), rtol=1e-5, atol=1e-5)
            calls = 2000 if width == 784 else 200
            tp, tt = compare(
                lambda m=model_p, x=x: m(x),
                lambda m=model_t, x=x: m(x),
                args.rounds,
                calls,
            )
            table.add_row(
                name,
                str(batch),
                f"{tp * 1e6:.1f}",
                f"{tt * 1e6:.1f}",
                f"{tp / tt:.2f}x",
            )
    Console().print(table)


if __name__ == "__main__":
    main()
