"""Training throughput: `plait.fit` vs the same math in a hand-written PyTorch loop.

Run: `python bench/fit.py [--threads 1] [--reps 5] [--quick]`. In one process,
for each model of GUIDE.md (the MLP of section 1, the headline model of section
3, the shared-LSTM tweet model of section 4), it times one epoch of:

- `torch`: an `nn.Module` holding the same weights, trained by a loop written
  as a careful PyTorch user would: tensors on the device once, one `randperm`
  per epoch, index slices, `zero_grad(set_to_none=True)`, forward, the same loss
  (cross-entropy on the logits), `backward`, `torch.optim.RMSprop(lr=1e-3,
  alpha=0.9, eps=1e-7)`, loss and accuracy summed on the device, read once;
- `plait v0`: `model.fit(x, y, batch_size=32, epochs=1, verbose=0)`;
- `plait v1`: the same with `verbose=1`, the progress bar drawn on a terminal
  (a pseudo-terminal drained by a thread, so drawing really happens).

Repetitions are interleaved after a warm-up; the table reports median samples
per second and the plait/torch ratios (above 1.0 = plait faster). Before
timing, one batch through both implementations checks that they compute the
same loss from the same weights ("same math").

Denormal floats are flushed to zero (`torch.set_flush_denormal(True)`) unless
`--keep-denormals` is given: RMSprop's squared-gradient averages of weights
whose gradient is zero (dead ReLU units, unused embedding rows) decay into the
denormal range after a few hundred steps, and torch's RMSprop, which takes
`sqrt(avg)` of them, then runs on the CPU's slow denormal path (2x slower per
step on the MLP) while plait's Keras update, `sqrt(avg + eps)`, does not. That
is a numerical accident, not framework overhead, so it is kept out by default.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from rich.console import Console
from rich.table import Table
from torch import nn

import plait
from plait.examples import guide

BATCH = 32


# ---------------------------------------------------------------- torch models


class TorchMLP(nn.Module):
    """784 -> 64 relu -> 64 relu -> 10 (logits; softmax lives in the loss)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2, self.fc3 = (
            nn.Linear(784, 64),
            nn.Linear(64, 64),
            nn.Linear(64, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class TorchHeadline(nn.Module):
    """Embedding -> LSTM(32) -> aux head; concat aux input -> 3 x Dense(64) -> main."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(10000, 512)
        self.lstm = nn.LSTM(512, 32, batch_first=True)
        self.aux_out = nn.Linear(32, 1)
        self.d1, self.d2, self.d3 = (
            nn.Linear(37, 64),
            nn.Linear(64, 64),
            nn.Linear(64, 64),
        )
        self.main_out = nn.Linear(64, 1)

    def forward(self, ids: torch.Tensor, aux: torch.Tensor) -> tuple[torch.Tensor, ...]:
        _, (h, _) = self.lstm(self.embedding(ids))
        code = h[-1]
        x = torch.cat([code, aux], dim=-1)
        x = torch.relu(self.d3(torch.relu(self.d2(torch.relu(self.d1(x))))))
        return self.main_out(x), self.aux_out(code)


class TorchTweets(nn.Module):
    """One LSTM(64) encodes both tweets; concat -> Dense(1) logits."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(256, 64, batch_first=True)
        self.out = nn.Linear(128, 1)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        _, (ha, _) = self.lstm(a)
        _, (hb, _) = self.lstm(b)
        return self.out(torch.cat([ha[-1], hb[-1]], dim=-1))


def _copy_dense(layer: Any, linear: nn.Linear) -> None:
    kernel, bias = layer.get_weights()
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(kernel.T))  # (in, out) -> (out, in)
        linear.bias.copy_(torch.from_numpy(bias))


def _copy_lstm(layer: Any, lstm: nn.LSTM) -> None:
    kernel, recurrent, bias = (
        layer.get_weights()
    )  # Keras gate order i, f, c, o = torch's
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(kernel.T))  # (in, 4u) -> (4u, in)
        lstm.weight_hh_l0.copy_(torch.from_numpy(recurrent.T))
        lstm.bias_ih_l0.copy_(torch.from_numpy(bias))
        lstm.bias_hh_l0.zero_()


def _dense_layers(model: Any) -> list[Any]:
    return [la for la in model.layers if type(la).__name__ == "Dense"]


# ---------------------------------------------------------------- workloads


class Workload:
    """A GUIDE model, its data, and the same model and loss written in torch."""

    def __init__(self, name: str, n: int) -> None:
        self.name, self.n = name, n
        rng = np.random.default_rng(0)
        if name == "mlp":
            self.plait = guide.mlp()
            self.plait.compile(
                "rmsprop", "categorical_crossentropy", metrics=["accuracy"]
            )
            labels = rng.integers(0, 10, n)
            self.x = [rng.random((n, 784), dtype=np.float32)]
            self.y = [np.eye(10, dtype=np.float32)[labels]]
            self.torch = TorchMLP()
            for la, lin in zip(
                _dense_layers(self.plait),
                [self.torch.fc1, self.torch.fc2, self.torch.fc3],
            ):
                _copy_dense(la, lin)
        elif name == "headline":
            self.plait = guide.headline_model()
            self.plait.compile(
                "rmsprop", "binary_crossentropy", loss_weights=[1.0, 0.2]
            )
            labels = rng.integers(0, 2, (n, 1)).astype(np.float32)
            self.x = [
                rng.integers(1, 10000, (n, 100)).astype(np.int32),
                rng.random((n, 5), dtype=np.float32),
            ]
            self.y = [labels, labels]
            t = self.torch = TorchHeadline()
            with torch.no_grad():
                t.embedding.weight.copy_(
                    torch.from_numpy(self.plait.get_layer("embedding").get_weights()[0])
                )
            _copy_lstm(self.plait.get_layer("lstm"), t.lstm)
            d = _dense_layers(self.plait)
            for la, lin in zip(d, [t.d1, t.d2, t.d3, t.main_out, t.aux_out]):
                _copy_dense(la, lin)
        else:
            self.plait = guide.tweet_model()
            self.plait.compile("rmsprop", "binary_crossentropy", metrics=["accuracy"])
            self.x = [
                (rng.random((n, 140, 256)) < 0.05).astype(np.float32) for _ in range(2)
            ]
            self.y = [rng.integers(0, 2, (n, 1)).astype(np.float32)]
            self.torch = TorchTweets()
            lstm = next(la for la in self.plait.layers if type(la).__name__ == "LSTM")
            _copy_lstm(lstm, self.torch.lstm)
            _copy_dense(_dense_layers(self.plait)[0], self.torch.out)
        self.opt = torch.optim.RMSprop(
            self.torch.parameters(), lr=1e-3, alpha=0.9, eps=1e-7
        )
        self.tx = [torch.from_numpy(a) for a in self.x]
        if name == "headline":
            self.tx[0] = self.tx[0].long()
        self.ty = [torch.from_numpy(a) for a in self.y]

    def torch_loss(
        self, xs: list[torch.Tensor], ys: list[torch.Tensor]
    ) -> tuple[Any, Any]:
        """The loss and the number of correct predictions (None without accuracy)."""
        if self.name == "mlp":
            logits = self.torch(xs[0])
            correct = (logits.argmax(-1) == ys[0].argmax(-1)).sum()
            return F.cross_entropy(logits, ys[0]), correct
        if self.name == "headline":
            main, aux = self.torch(*xs)
            bce = F.binary_cross_entropy_with_logits
            return bce(main, ys[0]) + 0.2 * bce(aux, ys[1]), None
        logits = self.torch(*xs)
        correct = ((logits > 0).float() == ys[0]).sum()
        return F.binary_cross_entropy_with_logits(logits, ys[0]), correct

    def check_same_math(self) -> float:
        """|plait loss - torch loss| on the first batch, from the same weights."""
        xs = [t[:BATCH] for t in self.tx]
        ys = [t[:BATCH] for t in self.ty]
        with torch.no_grad():
            ours, _ = self.torch_loss(xs, ys)
        theirs = self.plait.test_on_batch(
            [a[:BATCH] for a in self.x], [a[:BATCH] for a in self.y], return_dict=True
        )
        return abs(float(ours) - theirs["loss"])

    def torch_epoch(self) -> None:
        """One epoch of the hand-written loop."""
        model, opt, n = self.torch, self.opt, self.n
        model.train()
        total = torch.zeros(())
        correct_sum = torch.zeros((), dtype=torch.long)
        perm = torch.randperm(n)
        for start in range(0, n, BATCH):
            idx = perm[start : start + BATCH]
            xs = [t[idx] for t in self.tx]
            ys = [t[idx] for t in self.ty]
            opt.zero_grad(set_to_none=True)
            loss, correct = self.torch_loss(xs, ys)
            loss.backward()
            opt.step()
            total += loss.detach() * idx.shape[0]
            if correct is not None:
                correct_sum += correct
        _ = (total / n).item(), (correct_sum.float() / n).item()

    def plait_epoch(self, verbose: int) -> None:
        """One epoch of `plait.fit`."""
        self.plait.fit(self.x, self.y, batch_size=BATCH, epochs=1, verbose=verbose)


@contextlib.contextmanager
def terminal_stdout() -> Iterator[None]:
    """Point stdout at a pseudo-terminal (drained by a thread) so rich draws live."""
    master, slave = os.openpty()
    out = os.fdopen(slave, "w", buffering=1, encoding="utf-8")
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set():
            try:
                if not os.read(master, 65536):
                    break
            except OSError:
                break

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()
    saved = sys.stdout
    sys.stdout = out
    try:
        yield
    finally:
        sys.stdout = saved
        out.flush()
        stop.set()
        out.close()
        os.close(master)
        thread.join(timeout=1)


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def timed(fn: Callable[[], None], clock: Callable[[], float]) -> float:
    """Seconds one call of `fn` takes on `clock`."""
    start = clock()
    fn()
    return clock() - start


def run(
    work: Workload, reps: int, clock: str = "wall", stat: str = "median"
) -> dict[str, Any]:
    """Interleaved timings of the three implementations, after one warm-up each."""
    impls: dict[str, Callable[[], None]] = {
        "torch": work.torch_epoch,
        "v0": lambda: work.plait_epoch(0),
    }

    def v1() -> None:
        with terminal_stdout():
            work.plait_epoch(1)

    impls["v1"] = v1
    times: dict[str, list[float]] = {k: [] for k in impls}
    for fn in impls.values():
        fn()  # warm-up: allocations, generated programs, optimizer state
    for _ in range(reps):
        for key, fn in impls.items():
            times[key].append(timed(fn, CLOCKS[clock]))
    pick = statistics.median if stat == "median" else min
    return {k: work.n / pick(v) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--reps", type=int, default=5, help="timed epochs per impl")
    parser.add_argument(
        "--quick", action="store_true", help="fewer samples (smoke run)"
    )
    parser.add_argument("--models", default="mlp,headline,tweets")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall time, or process CPU time (steadier on a shared machine)",
    )
    parser.add_argument("--stat", choices=["median", "min"], default="median")
    parser.add_argument(
        "--keep-denormals",
        action="store_true",
        help="do not flush denormal floats to zero (see the module docstring)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(not args.keep_denormals)
    plait.utils.set_random_seed(0)
    sizes = {"mlp": 16384, "headline": 1024, "tweets": 256}
    if args.quick:
        sizes = {k: v // 8 for k, v in sizes.items()}
    table = Table(
        title=f"fit throughput, samples/s (batch {BATCH}, {args.threads} thread(s), "
        f"torch {torch.__version__}, {args.stat} of {args.reps}, {args.clock} clock, "
        f"denormals {'kept' if args.keep_denormals else 'flushed'})"
    )
    for col in (
        "model",
        "same math",
        "torch loop",
        "plait verbose=0",
        "ratio",
        "plait verbose=1",
        "ratio",
    ):
        table.add_column(col, justify="left" if col == "model" else "right")
    console = Console()
    for name in args.models.split(","):
        try:
            work = Workload(name, sizes[name])
        except ImportError as err:  # e.g. no plait.layers.LSTM yet
            table.add_row(name, "-", f"skipped: {err}", "", "", "", "")
            continue
        diff = work.check_same_math()
        with contextlib.redirect_stdout(io.StringIO()):
            speed = run(work, args.reps, args.clock, args.stat)
        table.add_row(
            name,
            "yes" if diff < 1e-4 else f"no ({diff:.1e})",
            f"{speed['torch']:,.0f}",
            f"{speed['v0']:,.0f}",
            f"{speed['v0'] / speed['torch']:.2f}x",
            f"{speed['v1']:,.0f}",
            f"{speed['v1'] / speed['torch']:.2f}x",
        )
    console.print(table)


if __name__ == "__main__":
    main()
