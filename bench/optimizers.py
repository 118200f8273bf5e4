"""Optimizer step cost: plait's RMSprop (Keras's exact rule) vs `torch.optim.RMSprop`.

Run: `python bench/optimizers.py [--device cpu] [--threads 1] [--rounds 10]`.
Each row times `--steps` steps of plait's `RMSprop` (the `Optimizer` wrapper
around `KerasRMSprop`, as `fit` drives it) and of
`torch.optim.RMSprop(foreach=True)` on copies of the same parameters and
gradients (setting `.grad` is timed on both sides), in
alternating rounds after warm-up, and prints the median time per step and the
plait/torch ratios of the medians and of the best rounds (below 1.0 = plait
faster).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from rich.console import Console
from rich.table import Table

from plait.optimizers.optimizers import RMSprop


def guide_mlp_shapes() -> list[tuple[int, ...]]:
    """The guide's MLP, 784 -> 64 -> 64 -> 10: kernels and biases."""
    return [(784, 64), (64,), (64, 64), (64,), (64, 10), (10,)]


def deep_shapes(depth: int = 50, width: int = 64) -> list[tuple[int, ...]]:
    """`depth` Dense layers of `width` x `width`: kernels and biases."""
    return [shape for _ in range(depth) for shape in ((width, width), (width,))]


def make_params(
    shapes: list[tuple[int, ...]], device: str
) -> tuple[list[torch.nn.Parameter], Callable[[], None]]:
    """Parameters, and a function that sets their next gradients.

    Gradients alternate between two fixed random sets, of sizes 1e-5 to 1 by
    tensor; constant gradients would drive the centered variance to zero and
    time float32 subnormals rather than the optimizer.
    """
    gen = torch.Generator().manual_seed(0)
    params = [
        torch.nn.Parameter(torch.randn(shape, generator=gen).to(device))
        for shape in shapes
    ]
    sets = [
        [
            (torch.randn(p.shape, generator=gen) * 10.0 ** -(i % 6)).to(device)
            for i, p in enumerate(params)
        ]
        for _ in range(2)
    ]
    turn = [0]

    def next_grads() -> None:
        turn[0] ^= 1
        for p, g in zip(params, sets[turn[0]], strict=True):
            p.grad = g

    return params, next_grads


def timed(step: Callable[[], object], steps: int, device: str) -> float:
    """Seconds per step over `steps` steps.

    On CPU, the process's CPU time (robust to other processes sharing the
    cores); on CUDA, wall time between synchronisations.
    """
    clock = time.perf_counter if device == "cuda" else time.process_time
    if device == "cuda":
        torch.cuda.synchronize()
    start = clock()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return (clock() - start) / steps


def compare(
    shapes: list[tuple[int, ...]],
    options: dict[str, float | bool],
    device: str,
    steps: int,
    rounds: int,
) -> tuple[list[float], list[float]]:
    """Seconds per step of plait's RMSprop and torch's, per round, interleaved."""
    ours = RMSprop(**options)  # type: ignore[arg-type]
    params, ours_grads = make_params(shapes, device)
    ours.build(params)
    params, theirs_grads = make_params(shapes, device)
    theirs = torch.optim.RMSprop(
        params,
        lr=1e-3,
        alpha=0.9,
        eps=1e-7,
        momentum=float(options.get("momentum", 0.0)),
        centered=bool(options.get("centered", False)),
        foreach=True,
    )

    def ours_step() -> None:
        ours_grads()
        ours.step()

    def theirs_step() -> None:
        theirs_grads()
        theirs.step()

    for _ in range(2):  # warm-up: state, allocator, caches
        timed(ours_step, steps // 4, device)
        timed(theirs_step, steps // 4, device)
    a, b = [], []
    for _ in range(rounds):
        a.append(timed(ours_step, steps, device))
        b.append(timed(theirs_step, steps, device))
    return a, b


def main() -> None:
    """Times each workload and variant; prints one rich table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    workloads = [
        ("guide MLP 784-64-64-10", guide_mlp_shapes()),
        ("50 x Dense 64x64", deep_shapes()),
    ]
    variants: list[tuple[str, dict[str, float | bool]]] = [
        ("plain", {}),
        ("momentum 0.9", {"momentum": 0.9}),
        ("centered", {"centered": True}),
    ]
    title = (
        f"RMSprop step, {args.steps} steps x {args.rounds} rounds "
        f"(torch {torch.__version__}, {args.device}, {args.threads} thread)"
    )
    table = Table(title=title)
    table.add_column("parameters")
    table.add_column("variant")
    for col in ("plait µs", "torch µs", "ratio (median)", "ratio (best)"):
        table.add_column(col, justify="right")
    for name, shapes in workloads:
        for variant, options in variants:
            a, b = compare(shapes, options, args.device, args.steps, args.rounds)
            tp, tt = statistics.median(a), statistics.median(b)
            table.add_row(
                f"{name} ({len(shapes)} tensors)",
                variant,
                f"{tp * 1e6:.1f}",
                f"{tt * 1e6:.1f}",
                f"{tp / tt:.2f}x",
                f"{min(a) / min(b):.2f}x",
            )
    Console().print(table)


if __name__ == "__main__":
    main()
