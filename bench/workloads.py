"""The benchmark workloads: each GUIDE.md model built twice, through plait and by hand.

A `Workload` holds one model of the guide (or a deep variant of one) as a plait
`Model`, the same network written as an idiomatic `torch.nn.Module` holding the
same initial weights, synthetic data for both, and the same loss written with
`torch.nn.functional`. The hand-written side is what a careful PyTorch user
writes: data tensors made once, one `randperm` per epoch, index slices,
`zero_grad(set_to_none=True)`, forward, the loss on the logits, `backward`,
`opt.step()`, loss and correct counts summed on the device and read once.

Workloads (`WORKLOADS`, name -> samples per epoch):

- `mlp`: GUIDE section 1, 784 -> 64 -> 64 -> 10 softmax; RMSprop.
- `headline`: section 3, Embedding(10000, 512) -> LSTM(32), two outputs,
  `loss_weights=[1, 0.2]`; RMSprop.
- `tweets`: section 4, one LSTM(64) shared by two (140, 256) inputs; RMSprop.
- `vision`: section 6, a conv model shared by two 27x27 digits; RMSprop.
- `inception`: section 6's three towers on 64x64x3 images, joined on the
  channels, global average pooling, Dense(10); RMSprop.
- `resmlp`: 50 blocks of `x + Dense(64, relu)(x)` (the residual connection of
  section 6 on vectors), Dense(10); Adam.

Each workload makes two hand-written optimizers (`torch_optimizer(kind)`):
`"default"` is what the PyTorch documentation shows (`torch.optim.RMSprop(lr,
alpha=0.9, eps=1e-7)` or `torch.optim.Adam(lr, eps=1e-7)`, which on CPU is the
per-tensor loop), `"plait"` is the same update kernel plait's `fit` runs
(`KerasRMSprop`, Keras's exact RMSprop; `torch.optim.Adam(fused=True)`), so
that a ratio against it measures the framework and nothing else.
"""

from __future__ import annotations

import contextlib
import copy
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from plait.examples import guide
from plait.initializers import VarianceScaling
from plait.layers import (
    Conv2D,
    Dense,
    GlobalAveragePooling2D,
    Input,
    MaxPooling2D,
    add,
    concatenate,
)
from plait.models import Model
from plait.optimizers.keras_rmsprop import KerasRMSprop

BATCH = 32
LR = 1e-3

# name -> samples per epoch of the full run (`--quick` divides by QUICK_DIV).
WORKLOADS = {
    "mlp": 16384,
    "headline": 1024,
    "tweets": 256,
    "vision": 512,
    "inception": 96,
    "resmlp": 4096,
}
QUICK_DIV = {
    "mlp": 8,
    "headline": 4,
    "tweets": 4,
    "vision": 4,
    "inception": 3,
    "resmlp": 4,
}


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


class TorchVision(nn.Module):
    """Two 3x3 convs (64) and a 2x2 max-pool shared by two NCHW digits; Dense(1)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, 3)
        self.conv2 = nn.Conv2d(64, 64, 3)
        self.out = nn.Linear(2 * 64 * 11 * 11, 1)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(self.conv2(self.conv1(x)), 2).flatten(1)  # (N, 7744)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.out(torch.cat([self.encode(a), self.encode(b)], dim=-1))


class TorchInception(nn.Module):
    """The guide's three towers on NCHW images, channels joined, pooled, Dense(10)."""

    def __init__(self) -> None:
        super().__init__()
        self.t1a, self.t1b = nn.Conv2d(3, 64, 1), nn.Conv2d(64, 64, 3, padding=1)
        self.t2a, self.t2b = nn.Conv2d(3, 64, 1), nn.Conv2d(64, 64, 5, padding=2)
        self.t3 = nn.Conv2d(3, 64, 1)
        self.out = nn.Linear(192, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t1 = torch.relu(self.t1b(torch.relu(self.t1a(x))))
        t2 = torch.relu(self.t2b(torch.relu(self.t2a(x))))
        t3 = torch.relu(self.t3(F.max_pool2d(x, 3, stride=1, padding=1)))
        y = torch.cat([t1, t2, t3], dim=1)  # (N, 192, H, W)
        return self.out(y.mean(dim=(2, 3)))


class TorchResidualMLP(nn.Module):
    """`depth` blocks of `x = x + relu(Linear(x))`, width 64, then Linear(10)."""

    def __init__(self, depth: int = 50, width: int = 64) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        self.out = nn.Linear(width, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = x + torch.relu(block(x))
        return self.out(x)


# ---------------------------------------------------------------- plait models


def inception_64() -> Model:
    """Section 6's towers on (64, 64, 3), joined on the channels, pooled, Dense(10)."""
    input_img = Input(shape=(64, 64, 3))
    relu = {"padding": "same", "activation": "relu"}
    tower_1 = Conv2D(64, (1, 1), name="t1a", **relu)(input_img)
    tower_1 = Conv2D(64, (3, 3), name="t1b", **relu)(tower_1)
    tower_2 = Conv2D(64, (1, 1), name="t2a", **relu)(input_img)
    tower_2 = Conv2D(64, (5, 5), name="t2b", **relu)(tower_2)
    tower_3 = MaxPooling2D((3, 3), strides=(1, 1), padding="same")(input_img)
    tower_3 = Conv2D(64, (1, 1), name="t3", **relu)(tower_3)
    x = concatenate([tower_1, tower_2, tower_3], axis=-1)
    x = GlobalAveragePooling2D()(x)
    return Model(input_img, Dense(10, activation="softmax")(x))


def residual_mlp(depth: int = 50, width: int = 64) -> Model:
    """`depth` blocks of `add([x, Dense(width, relu)(x)])`, then Dense(10, softmax).

    The blocks start at 1% of Glorot's variance, so that the activations stay
    moderate through the 50 additions and the first loss is ~8 (with Glorot's
    they grow 1.5x in variance per block and the loss starts near 1e7; at 10%,
    near 700, where Keras's probability clipping changes the loss).
    """
    init = VarianceScaling(0.01, mode="fan_avg", distribution="uniform")
    inputs = Input(shape=(width,))
    x = inputs
    for _ in range(depth):
        x = add([x, Dense(width, activation="relu", kernel_initializer=init)(x)])
    return Model(inputs, Dense(10, activation="softmax")(x))


# ---------------------------------------------------------------- weight copies


def _copy(dst: torch.Tensor, array: np.ndarray) -> None:
    with torch.no_grad():
        dst.copy_(torch.from_numpy(np.ascontiguousarray(array)))


def copy_dense(layer: Any, linear: nn.Linear, rows: np.ndarray | None = None) -> None:
    """Dense `(in, out)` kernel -> Linear `(out, in)`; `rows` reorders the inputs."""
    kernel, bias = layer.get_weights()
    if rows is not None:
        kernel = kernel[rows]
    _copy(linear.weight, kernel.T)
    _copy(linear.bias, bias)


def copy_lstm(layer: Any, lstm: nn.LSTM) -> None:
    """Keras gate order i, f, c, o is torch's; one bias goes to `bias_ih`."""
    kernel, recurrent, bias = layer.get_weights()
    _copy(lstm.weight_ih_l0, kernel.T)  # (in, 4u) -> (4u, in)
    _copy(lstm.weight_hh_l0, recurrent.T)
    _copy(lstm.bias_ih_l0, bias)
    with torch.no_grad():
        lstm.bias_hh_l0.zero_()


def copy_conv(layer: Any, conv: nn.Conv2d) -> None:
    """Conv2D `(kh, kw, in, out)` -> Conv2d `(out, in, kh, kw)`."""
    kernel, bias = layer.get_weights()
    _copy(conv.weight, kernel.transpose(3, 2, 0, 1))
    _copy(conv.bias, bias)


def _of_type(model: Any, name: str) -> list[Any]:
    """Layers of one class in graph order, nested models included, each once."""
    out: list[Any] = []
    for layer in model.layers:
        if type(layer).__name__ == name and layer not in out:
            out.append(layer)
        if hasattr(layer, "layers"):
            out += [la for la in _of_type(layer, name) if la not in out]
    return out


# ---------------------------------------------------------------- workloads


def _soft_ce(out: Any, ys: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    return F.cross_entropy(out, ys[0]), (out.argmax(-1) == ys[0].argmax(-1)).sum()


def _bce(out: Any, ys: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    loss = F.binary_cross_entropy_with_logits(out, ys[0])
    return loss, ((out > 0).to(ys[0].dtype) == ys[0]).sum()


def _headline_loss(out: Any, ys: list[torch.Tensor]) -> tuple[torch.Tensor, None]:
    bce = F.binary_cross_entropy_with_logits
    return bce(out[0], ys[0]) + 0.2 * bce(out[1], ys[1]), None


class Workload:
    """A GUIDE model as plait and as hand-written torch, with data and the loss.

    Attributes:
        plait: The compiled plait model.
        torch: The hand-written `nn.Module` with the same initial weights.
        x, y: NumPy inputs and targets for `plait.fit` (lists, one per input/output).
        tx, ty: The same data as torch tensors in the hand-written layout (NCHW).
        optimizer: `"rmsprop"` or `"adam"` (Keras's defaults, lr 1e-3).
    """

    def __init__(self, name: str, n: int) -> None:
        self.name, self.n = name, n
        rng = np.random.default_rng(0)
        build = getattr(self, f"_build_{name}", None)
        if build is None:
            raise ValueError(f"unknown workload {name!r}; expected one of {WORKLOADS}")
        self.optimizer = "rmsprop"
        self.nchw = False  # convert image inputs for the torch side
        self.loss: Callable[[Any, list[torch.Tensor]], tuple[Any, Any]]
        build(rng, n)
        self.tx = [torch.from_numpy(a) for a in self.x]
        self.tx = [t.long() if t.dtype == torch.int32 else t for t in self.tx]
        if self.nchw:  # (N, H, W, C) -> (N, C, H, W), contiguous, as a user loads it
            self.tx = [t.permute(0, 3, 1, 2).contiguous() for t in self.tx]
        self.ty = [torch.from_numpy(a) for a in self.y]

    # -------------------------------------------------------------- builders
    def _build_mlp(self, rng: np.random.Generator, n: int) -> None:
        self.plait = guide.mlp()
        self.plait.compile("rmsprop", "categorical_crossentropy", metrics=["accuracy"])
        self.x = [rng.random((n, 784), dtype=np.float32)]
        self.y = [np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]]
        t = self.torch = TorchMLP()
        for la, lin in zip(_of_type(self.plait, "Dense"), [t.fc1, t.fc2, t.fc3]):
            copy_dense(la, lin)
        self.loss, self.head = _soft_ce, "softmax"

    def _build_headline(self, rng: np.random.Generator, n: int) -> None:
        self.plait = guide.headline_model()
        self.plait.compile("rmsprop", "binary_crossentropy", loss_weights=[1.0, 0.2])
        labels = rng.integers(0, 2, (n, 1)).astype(np.float32)
        self.x = [
            rng.integers(1, 10000, (n, 100)).astype(np.int32),
            rng.random((n, 5), dtype=np.float32),
        ]
        self.y = [labels, labels]
        t = self.torch = TorchHeadline()
        embedding = _of_type(self.plait, "Embedding")[0]
        _copy(t.embedding.weight, embedding.get_weights()[0])
        copy_lstm(_of_type(self.plait, "LSTM")[0], t.lstm)
        aux, main = (self.plait.get_layer(k) for k in ("aux_output", "main_output"))
        hidden = [la for la in _of_type(self.plait, "Dense") if la not in (aux, main)]
        for la, lin in zip(
            [*hidden, aux, main], [t.d1, t.d2, t.d3, t.aux_out, t.main_out]
        ):
            copy_dense(la, lin)
        self.loss, self.head = _headline_loss, "sigmoid"

    def _build_tweets(self, rng: np.random.Generator, n: int) -> None:
        self.plait = guide.tweet_model()
        self.plait.compile("rmsprop", "binary_crossentropy", metrics=["accuracy"])
        self.x = [
            (rng.random((n, 140, 256)) < 0.05).astype(np.float32) for _ in range(2)
        ]
        self.y = [rng.integers(0, 2, (n, 1)).astype(np.float32)]
        t = self.torch = TorchTweets()
        copy_lstm(_of_type(self.plait, "LSTM")[0], t.lstm)
        copy_dense(_of_type(self.plait, "Dense")[0], t.out)
        self.loss, self.head = _bce, "sigmoid"

    def _build_vision(self, rng: np.random.Generator, n: int) -> None:
        self.plait, _ = guide.shared_vision_model()
        self.plait.compile("rmsprop", "binary_crossentropy", metrics=["accuracy"])
        self.x = [rng.random((n, 27, 27, 1), dtype=np.float32) for _ in range(2)]
        self.y = [rng.integers(0, 2, (n, 1)).astype(np.float32)]
        self.nchw = True
        t = self.torch = TorchVision()
        conv = _of_type(self.plait, "Conv2D")
        copy_conv(conv[0], t.conv1)
        copy_conv(conv[1], t.conv2)
        # plait flattens (h, w, c), torch (c, h, w): reorder the Dense kernel's rows.
        half = np.arange(11 * 11 * 64).reshape(11, 11, 64).transpose(2, 0, 1).ravel()
        rows = np.concatenate([half, half + half.size])
        copy_dense(_of_type(self.plait, "Dense")[0], t.out, rows)
        self.loss, self.head = _bce, "sigmoid"

    def _build_inception(self, rng: np.random.Generator, n: int) -> None:
        self.plait = inception_64()
        self.plait.compile("rmsprop", "categorical_crossentropy", metrics=["accuracy"])
        self.x = [rng.random((n, 64, 64, 3), dtype=np.float32)]
        self.y = [np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]]
        self.nchw = True
        t = self.torch = TorchInception()
        for key in ("t1a", "t1b", "t2a", "t2b", "t3"):
            copy_conv(self.plait.get_layer(key), getattr(t, key))
        copy_dense(_of_type(self.plait, "Dense")[0], t.out)
        self.loss, self.head = _soft_ce, "softmax"

    def _build_resmlp(self, rng: np.random.Generator, n: int) -> None:
        self.plait = residual_mlp()
        self.plait.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
        self.optimizer = "adam"
        self.x = [rng.standard_normal((n, 64), dtype=np.float32) * 0.3]
        self.y = [np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]]
        t = self.torch = TorchResidualMLP()
        for la, lin in zip(_of_type(self.plait, "Dense"), [*t.blocks, t.out]):
            copy_dense(la, lin)
        self.loss, self.head = _soft_ce, "softmax"

    # -------------------------------------------------------------- hand-written
    def torch_copy(self) -> nn.Module:
        """An independent copy of the hand-written module (its own weights)."""
        return copy.deepcopy(self.torch)

    def torch_optimizer(self, module: nn.Module, kind: str) -> torch.optim.Optimizer:
        """`"default"`: torch.optim as documented; `"plait"`: the kernel `fit` runs."""
        params = list(module.parameters())
        if self.optimizer == "adam":
            if kind == "default":
                return torch.optim.Adam(params, lr=LR, eps=1e-7)
            return torch.optim.Adam(params, lr=LR, eps=1e-7, fused=True)
        if kind == "default":
            return torch.optim.RMSprop(params, lr=LR, alpha=0.9, eps=1e-7)
        return KerasRMSprop(params, lr=LR, rho=0.9, eps=1e-7)

    def torch_epoch(self, module: nn.Module, opt: torch.optim.Optimizer) -> None:
        """One epoch of the hand-written loop."""
        n = self.n
        module.train()
        total = torch.zeros(())
        correct_sum = torch.zeros((), dtype=torch.long)
        perm = torch.randperm(n)
        for start in range(0, n, BATCH):
            idx = perm[start : start + BATCH]
            xs = [t[idx] for t in self.tx]
            ys = [t[idx] for t in self.ty]
            opt.zero_grad(set_to_none=True)
            loss, correct = self.loss(module(*xs), ys)
            loss.backward()
            opt.step()
            total += loss.detach() * idx.shape[0]
            if correct is not None:
                correct_sum += correct
        _ = (total / n).item(), (correct_sum.float() / n).item()

    def torch_predict(self, module: nn.Module) -> list[np.ndarray]:
        """`predict` by hand: batches of 32 in inference mode, activations, NumPy."""
        module.eval()
        chunks: list[list[torch.Tensor]] = []
        with torch.inference_mode():
            for start in range(0, self.n, BATCH):
                out = module(*[t[start : start + BATCH] for t in self.tx])
                chunks.append(self._activate(out))
        return [torch.cat(c).numpy() for c in zip(*chunks)]

    def _activate(self, out: Any) -> list[torch.Tensor]:
        outs = out if isinstance(out, tuple) else (out,)
        if self.head == "sigmoid":
            return [torch.sigmoid(o) for o in outs]
        return [F.softmax(o, dim=-1) for o in outs]

    def torch_forward1(self, module: nn.Module) -> Callable[[], Any]:
        """A call of the module on one sample (inference mode, activation applied)."""
        module.eval()
        one = [t[:1] for t in self.tx]

        def call() -> Any:
            with torch.inference_mode():
                return self._activate(module(*one))

        return call

    # -------------------------------------------------------------- plait
    def plait_epoch(self, verbose: int = 0) -> None:
        """One epoch of `plait.fit`."""
        self.plait.fit(self.x, self.y, batch_size=BATCH, epochs=1, verbose=verbose)

    def plait_jit(self) -> Model:
        """A copy of the plait model (same weights) compiled with `jit_compile=True`."""
        from plait.models import clone_model

        model = clone_model(self.plait)
        model.set_weights(self.plait.get_weights())
        args = self.plait._compile_args
        model.compile(
            self.optimizer,
            args["loss"],
            metrics=args["metrics"],
            loss_weights=args["loss_weights"],
            jit_compile=True,
        )
        return model

    def plait_predict(self) -> Any:
        """`plait.predict` on the whole input."""
        return self.plait.predict(self.x, batch_size=BATCH, verbose=0)

    def plait_forward1(self) -> Callable[[], Any]:
        """A call of the plait model on one sample (tensors, inference mode)."""
        one = [torch.from_numpy(a[:1]) for a in self.x]
        arg: Any = one[0] if len(one) == 1 else one

        def call() -> Any:
            with torch.inference_mode():
                return self.plait(arg)

        return call

    # -------------------------------------------------------------- checks
    def check_same_math(self, module: nn.Module | None = None) -> float:
        """|plait loss - torch loss| on the first batch, from the same weights."""
        module = self.torch if module is None else module
        xs = [t[:BATCH] for t in self.tx]
        ys = [t[:BATCH] for t in self.ty]
        module.eval()
        with torch.no_grad():
            ours, _ = self.loss(module(*xs), ys)
        theirs = self.plait.test_on_batch(
            [a[:BATCH] for a in self.x], [a[:BATCH] for a in self.y], return_dict=True
        )
        return abs(float(ours) - theirs["loss"])


# ---------------------------------------------------------------- timing helpers


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


def timed(
    fn: Callable[[], Any], clock: Callable[[], float] = time.perf_counter
) -> float:
    """Seconds one call of `fn` takes on `clock`."""
    start = clock()
    fn()
    return clock() - start


def interleaved(
    impls: dict[str, Callable[[], Any]],
    reps: int,
    clock: Callable[[], float] = time.perf_counter,
    warmup: int = 1,
) -> dict[str, list[float]]:
    """Seconds per call of each implementation, in alternating rounds after warm-up."""
    for _ in range(warmup):
        for fn in impls.values():
            fn()
    times: dict[str, list[float]] = {k: [] for k in impls}
    for _ in range(reps):
        for key, fn in impls.items():
            times[key].append(timed(fn, clock))
    return times
