"""Forward + backward time of plait's recurrent layers vs the same math in torch.nn.

Run: `python bench/layers_rnn.py [--threads 1] [--rounds 9]`. Each row builds the
plait layer inside a `plait.Model` and the torch module with the same weights,
checks they compute the same numbers, then times `loss = (out ** 2).sum();
loss.backward()` for both, interleaved, after warm-up, and prints medians and
the plait / torch ratio (below 1.0 = plait faster; the target is 1.1 or less).
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
from torch.nn.utils.rnn import pack_padded_sequence

import plait
from plait.layers import GRU, LSTM, Bidirectional, Dense, Input, TimeDistributed

BATCH, STEPS, FEATURES, UNITS = 32, 50, 32, 64


def _gru_keras(w: torch.Tensor) -> torch.Tensor:
    r, z, n = w.chunk(3, 0)  # torch's r, z, n -> Keras's z, r, h
    return torch.cat([z, r, n], 0)


def _copy_rnn(module: nn.RNNBase, layer: plait.layers.Layer, suffix: str = "") -> None:
    """Give `layer` (Keras layout) the weights of `module`'s direction `suffix`."""
    w_ih = getattr(module, f"weight_ih_l0{suffix}").detach()
    w_hh = getattr(module, f"weight_hh_l0{suffix}").detach()
    b_ih = getattr(module, f"bias_ih_l0{suffix}").detach()
    b_hh = getattr(module, f"bias_hh_l0{suffix}").detach()
    if isinstance(module, nn.GRU):
        weights = [
            _gru_keras(w_ih).T,
            _gru_keras(w_hh).T,
            torch.stack([_gru_keras(b_ih), _gru_keras(b_hh)]),
        ]
    else:  # Keras's LSTM has one bias: b_ih + b_hh
        weights = [w_ih.T, w_hh.T, b_ih + b_hh]
    layer.set_weights([w.numpy() for w in weights])


class TorchLast(nn.Module):
    """`nn.LSTM` / `nn.GRU` returning the last output, as Keras's default."""

    def __init__(self, rnn: nn.RNNBase) -> None:
        super().__init__()
        self.rnn = rnn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rnn(x)[0][:, -1]


class TorchPacked(nn.Module):
    """`nn.LSTM` on a right-padded batch as a packed sequence; the final `h`."""

    def __init__(self, rnn: nn.LSTM, lengths: torch.Tensor) -> None:
        super().__init__()
        self.rnn, self.lengths = rnn, lengths

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(
            x, self.lengths, batch_first=True, enforce_sorted=False
        )
        return self.rnn(packed)[1][0][0]


class TorchTimeLinear(nn.Module):
    """`nn.Linear` on batch and time merged."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        self.linear = linear

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t = x.shape[:2]
        return self.linear(x.reshape(b * t, -1)).reshape(b, t, -1)


def per_call(fn: Callable[[], object], calls: int) -> float:
    """Seconds per call of `fn`, timed over `calls` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def compare(
    plait_fn: Callable[[], object], torch_fn: Callable[[], object], rounds: int
) -> tuple[float, float]:
    """Median seconds per call of each, measured in alternating rounds."""
    calls = 5
    for _ in range(3):  # warm-up
        per_call(plait_fn, calls)
        per_call(torch_fn, calls)
    a, b = [], []
    for _ in range(rounds):
        a.append(per_call(plait_fn, calls))
        b.append(per_call(torch_fn, calls))
    return statistics.median(a), statistics.median(b)


def _step(
    model: Callable[..., torch.Tensor], *args: torch.Tensor
) -> Callable[[], None]:
    def run() -> None:
        (model(*args) ** 2).sum().backward()

    return run


def workloads() -> list[tuple[str, plait.Model, nn.Module, list[torch.Tensor]]]:
    """(name, plait model, torch module, inputs) with identical weights."""
    x = torch.randn(BATCH, STEPS, FEATURES)
    rows = []
    for name, cls, ref in (("LSTM", LSTM, nn.LSTM), ("GRU", GRU, nn.GRU)):
        inputs = Input(shape=(STEPS, FEATURES))
        layer = cls(UNITS)
        model = plait.Model(inputs, layer(inputs))
        module = ref(FEATURES, UNITS, batch_first=True)
        _copy_rnn(module, layer)
        rows.append((f"{name}({UNITS}) last output", model, TorchLast(module), [x]))
    # A right-padded batch: a mask in plait, a packed sequence in torch.
    lengths = torch.randint(STEPS // 2, STEPS + 1, (BATCH,))
    mask = torch.arange(STEPS)[None] < lengths[:, None]
    inputs, mask_in = (
        Input(shape=(STEPS, FEATURES)),
        Input(shape=(STEPS,), dtype="bool"),
    )
    layer = LSTM(UNITS)
    model = plait.Model([inputs, mask_in], layer(inputs, mask=mask_in))
    module = nn.LSTM(FEATURES, UNITS, batch_first=True)
    _copy_rnn(module, layer)
    rows.append(
        (
            f"LSTM({UNITS}) right-padded mask",
            model,
            TorchPacked(module, lengths),
            [x, mask],
        )
    )
    inputs = Input(shape=(STEPS, FEATURES))
    layer = Bidirectional(LSTM(UNITS, return_sequences=True))
    model = plait.Model(inputs, layer(inputs))
    module = nn.LSTM(FEATURES, UNITS, batch_first=True, bidirectional=True)
    _copy_rnn(module, layer.forward_layer)
    _copy_rnn(module, layer.backward_layer, "_reverse")
    rows.append((f"Bidirectional(LSTM({UNITS})) seq", model, _First(module), [x]))
    wide = torch.randn(BATCH, STEPS, 128)
    inputs = Input(shape=(STEPS, 128))
    dense = Dense(UNITS)
    model = plait.Model(inputs, TimeDistributed(dense)(inputs))
    linear = nn.Linear(128, UNITS)
    with torch.no_grad():
        linear.weight.copy_(dense.kernel.T)
        linear.bias.copy_(dense.bias)
    rows.append(
        (f"TimeDistributed(Dense({UNITS}))", model, TorchTimeLinear(linear), [wide])
    )
    return rows


class _First(nn.Module):
    def __init__(self, rnn: nn.RNNBase) -> None:
        super().__init__()
        self.rnn = rnn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rnn(x)[0]


def main() -> None:
    """Time each workload in plait and in torch, interleaved; print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    plait.utils.set_random_seed(0)
    table = Table(
        title=(
            f"Forward + backward, batch {BATCH}, {STEPS} steps "
            f"(torch {torch.__version__}, {args.threads} thread)"
        )
    )
    for col in ("workload", "plait ms", "torch ms", "plait / torch"):
        table.add_column(col, justify="right" if col != "workload" else "left")
    for name, model, module, inputs in workloads():
        got = model(inputs if len(inputs) > 1 else inputs[0])
        torch.testing.assert_close(got, module(inputs[0]), rtol=1e-5, atol=1e-5)
        tp, tt = compare(
            _step(lambda *a, m=model: m(list(a) if len(a) > 1 else a[0]), *inputs),
            _step(module, inputs[0]),
            args.rounds,
        )
        table.add_row(name, f"{tp * 1e3:.2f}", f"{tt * 1e3:.2f}", f"{tp / tt:.2f}x")
    Console().print(table)


if __name__ == "__main__":
    main()
