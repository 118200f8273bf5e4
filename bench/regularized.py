"""Training with weight regularizers: plait's `fit` against a hand-written loop.

Run: `python bench/regularized.py [--samples 8192] [--reps 5]`. The guide's MLP
(784 -> 64 -> 64 -> 10, logits) with an L2 penalty on every kernel, RMSprop,
batch 32, one thread, denormals flushed (as `bench/fit.py`). Each variant trains one epoch per repetition, the
variants alternating (`workloads.interleaved`) after a first (compiling) epoch:

- `torch loop`: the hand-written `nn.Module` loop, the penalty added to the
  loss by hand, `torch.optim.RMSprop`;
- `plait`: `fit` as compiled by default (eager);
- `plait jit, update only`: `compile(jit_compile=True)` with the forward and
  backward eager and the optimizer update compiled (what a regularized model
  got before the penalties were traced into the graph);
- `plait jit`: `compile(jit_compile=True)` as it is: forward, loss, penalties,
  backward and update in one compiled graph.

Same math, checked before timing: from the same weights, the first batch's
loss (cross-entropy plus penalties) of plait's `train_on_batch` equals the
torch loop's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/regularized.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch
import torch.nn.functional as F
from rich.console import Console
from rich.table import Table

import plait
from bench import workloads as wl
from plait.training import jit as jit_mod

L2 = 1e-4
BATCH = 32


def _model() -> Any:
    inputs = plait.Input(shape=(784,))
    x = inputs
    for units, act in ((64, "relu"), (64, "relu"), (10, None)):
        x = plait.layers.Dense(
            units, act, kernel_regularizer=plait.regularizers.L2(L2)
        )(x)
    return plait.Model(inputs, x)


def _compiled(jit: bool) -> Any:
    model = _model()
    model.compile(
        plait.optimizers.RMSprop(wl.LR),
        plait.losses.CategoricalCrossentropy(from_logits=True),
        jit_compile=jit,
    )
    return model


def _torch_loop(x: torch.Tensor, y: torch.Tensor) -> tuple[Any, Callable[[], Any]]:
    net = wl.TorchMLP()
    opt = torch.optim.RMSprop(net.parameters(), lr=wl.LR, alpha=0.9, eps=1e-7)
    kernels = [net.fc1.weight, net.fc2.weight, net.fc3.weight]

    def loss_of(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        penalty = sum(L2 * k.square().sum() for k in kernels)
        return F.cross_entropy(net(xb), yb) + penalty

    def epoch() -> None:
        for i in range(0, len(x), BATCH):
            opt.zero_grad(set_to_none=True)
            loss_of(x[i : i + BATCH], y[i : i + BATCH]).backward()
            opt.step()

    return (net, loss_of), epoch


def _same_math(x: np.ndarray, y: np.ndarray) -> float:
    """|plait - torch| / torch of the first batch's regularized loss."""
    model = _compiled(False)
    (net, loss_of), _ = _torch_loop(torch.from_numpy(x), torch.from_numpy(y))
    for dense, linear in zip(model.layers[1:], (net.fc1, net.fc2, net.fc3)):
        wl.copy_dense(dense, linear)
    with torch.no_grad():
        ref = float(loss_of(torch.from_numpy(x[:BATCH]), torch.from_numpy(y[:BATCH])))
    got = float(model.train_on_batch(x[:BATCH], y[:BATCH]))
    return abs(got - ref) / abs(ref)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=8192)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)  # as bench/fit.py: keep denormal stalls out
    rng = np.random.default_rng(0)
    x = rng.random((args.samples, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, args.samples)]
    error = _same_math(x, y)
    if error > 1e-5:
        raise SystemExit(f"not the same math: relative loss difference {error:.2e}")

    def fit(model: Any) -> Callable[[], Any]:
        return lambda: model.fit(x, y, batch_size=BATCH, shuffle=False, verbose=0)

    kept = jit_mod._unrolled_steps
    jit_mod._unrolled_steps = lambda model: float("inf")  # the update-only mode
    try:
        update_only = _compiled(True)
        update_only.fit(x[:BATCH], y[:BATCH], batch_size=BATCH, verbose=0)  # plan it
    finally:
        jit_mod._unrolled_steps = kept
    graph = _compiled(True)
    _, torch_epoch = _torch_loop(torch.from_numpy(x), torch.from_numpy(y).argmax(-1))
    impls = {
        "torch loop": torch_epoch,
        "plait": fit(_compiled(False)),
        "plait jit, update only": fit(update_only),
        "plait jit": fit(graph),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # inductor's own warnings
        times = wl.interleaved(impls, args.reps)
    modes = {
        "plait jit, update only": update_only._plan.train_fn.mode,
        "plait jit": graph._plan.train_fn.mode,
    }
    base = statistics.median(times["torch loop"])
    table = Table(title=f"MLP + L2 kernel penalties, {args.samples} samples/epoch")
    for col in ("variant", "jit mode", "samples/s", "vs torch loop"):
        table.add_column(col, justify="left" if col == "variant" else "right")
    for name, ts in times.items():
        t = statistics.median(ts)
        table.add_row(
            name, modes.get(name, "-"), f"{args.samples / t:,.0f}", f"{base / t:.2f}x"
        )
    Console().print(table)
    print(f"same math: first-batch loss relative difference {error:.1e}")


if __name__ == "__main__":
    main()
