"""LAYER_CASES: one row per layer configuration, checked by `check_layer()`.

Each case names the layer class and its arguments, the input shape (batch left
out, as `Input(shape=...)` takes it; a list for multi-input layers), the output
shape the graph must infer, the number of weights, and a reference function
written with plain torch ops: `reference_fn(inputs, weights)` where `weights` are
the layer's weights in Keras layout (a Dense kernel is `(in, out)`). A layer
whose math has no short torch spelling (recurrent, attention) gives no reference
here: its numbers are checked against Keras's goldens in tests/parity.

`build` makes the layer when its arguments hold other layers (wrappers, RNN of
cells); `call` calls it when it takes more than one positional input (query,
value); `covers` names the other public classes a case exercises (the cells of
an RNN, the layer in a wrapper), for the every-public-layer check.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from plait import layers as L
from plait.saving import register_serializable

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@dataclass(frozen=True)
class LayerCase:
    id: str
    cls: type
    init_kwargs: dict[str, Any]
    input_shape: Any
    expected_output_shape: Any
    n_weights: int
    reference_fn: Callable[[Any, list[torch.Tensor]], torch.Tensor] | None
    weight_shapes: tuple[tuple[int, ...], ...] = ()
    input_dtype: str = "float32"
    int_high: int = 10  # int inputs are drawn from [0, int_high)
    make_input: Callable[[tuple[int, ...]], torch.Tensor] | None = field(
        default=None, compare=False
    )
    build: Callable[[], Any] | None = field(default=None, compare=False)
    call: Callable[[Any, Any], Any] | None = field(default=None, compare=False)
    covers: tuple[type, ...] = ()

    def make_layer(self) -> Any:
        """A fresh layer of this case."""
        return self.build() if self.build is not None else self.cls(**self.init_kwargs)

    def apply(self, layer: Any, inputs: Any) -> Any:
        """The layer called on `inputs` (symbolic or eager)."""
        return self.call(layer, inputs) if self.call is not None else layer(inputs)


def _dense(x, w):
    out = F.linear(x, w[0].T)  # torch's Linear weight is (out, in)
    return out + w[1] if len(w) > 1 else out


def _act(name: str, ref: Callable[[torch.Tensor], torch.Tensor]) -> LayerCase:
    return LayerCase(
        f"activation_{name}",
        L.Activation,
        {"activation": name},
        (3, 4),
        (None, 3, 4),
        0,
        lambda x, w: ref(x),
    )


def _with_zero_steps(shape: tuple[int, ...]) -> torch.Tensor:
    x = torch.randn(shape)
    x[0, 1] = 0.0  # a fully padded step in each sample
    x[1, 0] = 0.0
    return x


def _merge(name, cls, ref, shapes=((4,), (4,)), out=(None, 4), **kwargs):
    return LayerCase(
        name,
        cls,
        kwargs,
        [tuple(s) for s in shapes],
        out,
        0,
        lambda xs, w: ref(*xs),
    )


LAYER_CASES: list[LayerCase] = [
    # Dense: 2-D, 3-D (applied on the last axis), no bias, with activation.
    LayerCase(
        "dense", L.Dense, {"units": 3}, (4,), (None, 3), 2, _dense, ((4, 3), (3,))
    ),
    LayerCase(
        "dense_3d",
        L.Dense,
        {"units": 5},
        (3, 4),
        (None, 3, 5),
        2,
        _dense,
        ((4, 5), (5,)),
    ),
    LayerCase(
        "dense_no_bias",
        L.Dense,
        {"units": 2, "use_bias": False},
        (4,),
        (None, 2),
        1,
        _dense,
        ((4, 2),),
    ),
    LayerCase(
        "dense_tanh",
        L.Dense,
        {"units": 3, "activation": "tanh"},
        (4,),
        (None, 3),
        2,
        lambda x, w: torch.tanh(_dense(x, w)),
        ((4, 3), (3,)),
    ),
    # Activation, each name against its formula.
    _act("relu", lambda x: torch.clamp(x, min=0)),
    _act("sigmoid", lambda x: 1 / (1 + torch.exp(-x))),
    _act("softmax", lambda x: torch.exp(x) / torch.exp(x).sum(-1, keepdim=True)),
    _act("log_softmax", lambda x: x - torch.logsumexp(x, -1, keepdim=True)),
    _act("tanh", torch.tanh),
    _act("linear", lambda x: x),
    _act("elu", lambda x: torch.where(x > 0, x, torch.exp(x) - 1)),
    _act(
        "selu",
        lambda x: _SELU_SCALE * torch.where(x > 0, x, _SELU_ALPHA * (torch.exp(x) - 1)),
    ),
    _act("softplus", lambda x: torch.log1p(torch.exp(x))),
    _act("softsign", lambda x: x / (1 + x.abs())),
    _act("gelu", lambda x: 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))),
    _act("swish", lambda x: x / (1 + torch.exp(-x))),
    _act("silu", lambda x: x / (1 + torch.exp(-x))),
    _act("hard_sigmoid", lambda x: torch.clamp(x / 6 + 0.5, 0, 1)),
    _act("hard_silu", lambda x: x * torch.clamp(x / 6 + 0.5, 0, 1)),
    _act("exponential", torch.exp),
    _act("leaky_relu", lambda x: torch.where(x > 0, x, 0.2 * x)),
    _act("relu6", lambda x: torch.clamp(x, 0, 6)),
    _act("mish", lambda x: x * torch.tanh(torch.log1p(torch.exp(x)))),
    # Embedding and masking.
    LayerCase(
        "embedding",
        L.Embedding,
        {"input_dim": 10, "output_dim": 3},
        (5,),
        (None, 5, 3),
        1,
        lambda x, w: w[0][x.long()],
        ((10, 3),),
        input_dtype="int32",
    ),
    LayerCase(
        "embedding_mask_zero_3d",
        L.Embedding,
        {"input_dim": 6, "output_dim": 2, "mask_zero": True},
        (2, 3),
        (None, 2, 3, 2),
        1,
        lambda x, w: w[0][x.long()],
        ((6, 2),),
        input_dtype="int64",
        int_high=6,
    ),
    LayerCase(
        "masking",
        L.Masking,
        {},
        (3, 2),
        (None, 3, 2),
        0,
        lambda x, w: x * (x != 0).any(-1, keepdim=True),
        make_input=_with_zero_steps,
    ),
    LayerCase("identity", L.Identity, {}, (3, 2), (None, 3, 2), 0, lambda x, w: x),
    # Dropout is the identity outside training.
    LayerCase("dropout", L.Dropout, {"rate": 0.5}, (6,), (None, 6), 0, lambda x, w: x),
    # Reshaping.
    LayerCase(
        "flatten",
        L.Flatten,
        {},
        (2, 3, 2),
        (None, 12),
        0,
        lambda x, w: x.reshape(x.shape[0], -1),
    ),
    LayerCase(
        "flatten_channels_first",
        L.Flatten,
        {"data_format": "channels_first"},
        (2, 3, 4),
        (None, 24),
        0,
        lambda x, w: x.permute(0, 2, 3, 1).reshape(x.shape[0], -1),
    ),
    LayerCase(
        "reshape",
        L.Reshape,
        {"target_shape": (3, 4)},
        (12,),
        (None, 3, 4),
        0,
        lambda x, w: x.reshape(-1, 3, 4),
    ),
    LayerCase(
        "reshape_minus_one",
        L.Reshape,
        {"target_shape": (-1, 2)},
        (3, 4),
        (None, 6, 2),
        0,
        lambda x, w: x.reshape(x.shape[0], 6, 2),
    ),
    LayerCase(
        "permute",
        L.Permute,
        {"dims": (2, 1)},
        (3, 4),
        (None, 4, 3),
        0,
        lambda x, w: x.transpose(1, 2),
    ),
    LayerCase(
        "permute_3",
        L.Permute,
        {"dims": (3, 1, 2)},
        (2, 3, 4),
        (None, 4, 2, 3),
        0,
        lambda x, w: x.permute(0, 3, 1, 2),
    ),
    LayerCase(
        "repeat_vector",
        L.RepeatVector,
        {"n": 3},
        (4,),
        (None, 3, 4),
        0,
        lambda x, w: x[:, None, :].repeat(1, 3, 1),
    ),
    # Merges.
    _merge("add", L.Add, lambda a, b: a + b),
    _merge("add_three", L.Add, lambda a, b, c: a + b + c, shapes=((4,), (4,), (4,))),
    _merge(
        "add_broadcast",
        L.Add,
        lambda a, b: a + b,
        shapes=((3, 4), (1, 4)),
        out=(None, 3, 4),
    ),
    _merge("subtract", L.Subtract, lambda a, b: a - b),
    _merge("multiply", L.Multiply, lambda a, b: a * b),
    _merge("average", L.Average, lambda a, b: (a + b) / 2),
    _merge("maximum", L.Maximum, torch.maximum),
    _merge("minimum", L.Minimum, torch.minimum),
    _merge(
        "concatenate",
        L.Concatenate,
        lambda a, b: torch.cat([a, b], -1),
        shapes=((4,), (2,)),
        out=(None, 6),
    ),
    _merge(
        "concatenate_axis1",
        L.Concatenate,
        lambda a, b: torch.cat([a, b], 1),
        shapes=((2, 3), (4, 3)),
        out=(None, 6, 3),
        axis=1,
    ),
    _merge(
        "dot_axes1",
        L.Dot,
        lambda a, b: (a * b).sum(-1, keepdim=True),
        out=(None, 1),
        axes=1,
    ),
    _merge(
        "dot_axes2_3d",
        L.Dot,
        lambda a, b: torch.bmm(a, b.transpose(1, 2)),
        shapes=((3, 4), (5, 4)),
        out=(None, 3, 5),
        axes=2,
    ),
    _merge(
        "dot_axes_pair",
        L.Dot,
        lambda a, b: torch.bmm(a.transpose(1, 2), b),
        shapes=((3, 4), (3, 2)),
        out=(None, 4, 2),
        axes=(1, 1),
    ),
    _merge(
        "dot_normalize",
        L.Dot,
        lambda a, b: (F.normalize(a, dim=1) * F.normalize(b, dim=1)).sum(
            1, keepdim=True
        ),
        out=(None, 1),
        axes=1,
        normalize=True,
    ),
]


def _simple_rnn(x: torch.Tensor, w: list[torch.Tensor]) -> torch.Tensor:
    h = torch.zeros(x.shape[0], w[1].shape[0])
    for t in range(x.shape[1]):
        h = torch.tanh(x[:, t] @ w[0] + h @ w[1] + w[2])
    return h


@register_serializable(package="layer_cases")
def cube_plus_one(x: torch.Tensor) -> torch.Tensor:
    """The function of the Lambda case (registered: a Lambda saves it by name)."""
    return x**3 + 1


# The layers with no case in a module's own list (tests/layers/test_<module>.py
# holds the conv, pooling, normalization, attention, activation, regularization
# and reshaping_nd ones).
LAYER_CASES += [
    LayerCase(
        "lambda",
        L.Lambda,
        {"function": cube_plus_one},
        (4,),
        (None, 4),
        0,
        lambda x, w: x**3 + 1,
    ),
    # MultiHeadAttention takes (query, value); Keras goldens in tests/parity.
    LayerCase(
        "multi_head_attention",
        L.MultiHeadAttention,
        {"num_heads": 2, "key_dim": 3},
        [(2, 4), (3, 4)],
        (None, 2, 4),
        8,
        None,
        ((4, 2, 3), (2, 3), (4, 2, 3), (2, 3), (4, 2, 3), (2, 3), (2, 3, 4), (4,)),
        call=lambda layer, qv: layer(*qv),
    ),
    # Recurrent: the fused layers, the RNN of cells, convolutional LSTMs.
    LayerCase(
        "simple_rnn",
        L.SimpleRNN,
        {"units": 3},
        (4, 2),
        (None, 3),
        3,
        _simple_rnn,
        ((2, 3), (3, 3), (3,)),
    ),
    LayerCase(
        "gru_sequences",
        L.GRU,
        {"units": 3, "return_sequences": True},
        (4, 2),
        (None, 4, 3),
        3,
        None,
        ((2, 9), (3, 9), (2, 9)),
    ),
    LayerCase(
        "lstm",
        L.LSTM,
        {"units": 3},
        (4, 2),
        (None, 3),
        3,
        None,
        ((2, 12), (3, 12), (12,)),
    ),
    # Keras 2's cuDNN layers (numbers in test_cudnn_recurrent.py).
    LayerCase(
        "cudnn_lstm",
        L.CuDNNLSTM,
        {"units": 3},
        (4, 2),
        (None, 3),
        3,
        None,
        ((2, 12), (3, 12), (24,)),
    ),
    LayerCase(
        "cudnn_gru_sequences",
        L.CuDNNGRU,
        {"units": 3, "return_sequences": True},
        (4, 2),
        (None, 4, 3),
        3,
        None,
        ((2, 9), (3, 9), (18,)),
    ),
    LayerCase(
        "rnn_lstm_cell",
        L.RNN,
        {},
        (4, 2),
        (None, 3),
        3,
        None,
        ((2, 12), (3, 12), (12,)),
        build=lambda: L.RNN(L.LSTMCell(3)),
        covers=(L.LSTMCell,),
    ),
    LayerCase(
        "rnn_stacked_cells",
        L.RNN,
        {},
        (4, 2),
        (None, 2),
        6,
        None,
        ((2, 9), (3, 9), (2, 9), (3, 2), (2, 2), (2,)),
        build=lambda: L.RNN(L.StackedRNNCells([L.GRUCell(3), L.SimpleRNNCell(2)])),
        covers=(L.StackedRNNCells, L.GRUCell, L.SimpleRNNCell),
    ),
    LayerCase(
        "conv_lstm1d",
        L.ConvLSTM1D,
        {"filters": 2, "kernel_size": 3, "padding": "same"},
        (3, 5, 2),
        (None, 5, 2),
        3,
        None,
        ((3, 2, 8), (3, 2, 8), (8,)),
    ),
    LayerCase(
        "conv_lstm2d",
        L.ConvLSTM2D,
        {"filters": 2, "kernel_size": 2},
        (2, 3, 3, 1),
        (None, 2, 2, 2),
        3,
        None,
        ((2, 2, 1, 8), (2, 2, 2, 8), (8,)),
    ),
    LayerCase(
        "conv_lstm3d",
        L.ConvLSTM3D,
        {"filters": 1, "kernel_size": 2, "return_sequences": True},
        (2, 2, 3, 2, 1),
        (None, 2, 1, 2, 1, 1),
        3,
        None,
        ((2, 2, 2, 1, 4), (2, 2, 2, 1, 4), (4,)),
    ),
    # Wrappers.
    LayerCase(
        "bidirectional_lstm",
        L.Bidirectional,
        {},
        (4, 2),
        (None, 6),
        6,
        None,
        ((2, 12), (3, 12), (12,)) * 2,
        build=lambda: L.Bidirectional(L.LSTM(3)),
    ),
    LayerCase(
        "time_distributed_dense",
        L.TimeDistributed,
        {},
        (5, 4),
        (None, 5, 3),
        2,
        _dense,
        ((4, 3), (3,)),
        build=lambda: L.TimeDistributed(L.Dense(3)),
    ),
]

# Preprocessing layers with numeric inputs (the string ones, and the values of
# these non-differentiable maps: tests/layers/preprocessing).
LAYER_CASES += [
    LayerCase(
        "category_encoding_multi_hot",
        L.CategoryEncoding,
        {"num_tokens": 4},
        (3,),
        (None, 4),
        0,
        None,  # not differentiable; values: tests/layers/preprocessing
        input_dtype="int32",
        int_high=4,
    ),
    LayerCase(
        "discretization",
        L.Discretization,
        {"bin_boundaries": [-0.5, 0.0, 0.5]},
        (3,),
        (None, 3),
        0,
        None,
    ),
    LayerCase(
        "normalization_given",
        L.Normalization,
        {"mean": [1.0, 2.0], "variance": [4.0, 0.25]},
        (2,),
        (None, 2),
        0,
        lambda x, w: (x - torch.tensor([1.0, 2.0])) / torch.tensor([2.0, 0.5]),
    ),
    LayerCase(
        "rescaling",
        L.Rescaling,
        {"scale": 0.5, "offset": 1.0},
        (4, 4, 3),
        (None, 4, 4, 3),
        0,
        lambda x, w: x * 0.5 + 1.0,
    ),
    LayerCase(
        "resizing",
        L.Resizing,
        {"height": 2, "width": 3},
        (4, 6, 3),
        (None, 2, 3, 3),
        0,
        None,  # values: tests/layers/preprocessing/test_image.py
    ),
    LayerCase(
        "center_crop",
        L.CenterCrop,
        {"height": 2, "width": 2},
        (4, 4, 3),
        (None, 2, 2, 3),
        0,
        lambda x, w: x[:, 1:3, 1:3, :],
    ),
    LayerCase(
        "random_crop",
        L.RandomCrop,
        {"height": 2, "width": 3, "seed": 0},
        (4, 6, 3),
        (None, 2, 3, 3),
        0,
        None,
    ),
    LayerCase(
        "random_flip", L.RandomFlip, {"seed": 0}, (4, 4, 3), (None, 4, 4, 3), 0, None
    ),
    LayerCase(
        "random_contrast",
        L.RandomContrast,
        {"factor": 0.2, "seed": 0},
        (4, 4, 3),
        (None, 4, 4, 3),
        0,
        None,
    ),
    LayerCase(
        "random_brightness",
        L.RandomBrightness,
        {"factor": 0.2, "seed": 0},
        (4, 4, 3),
        (None, 4, 4, 3),
        0,
        None,
    ),
    LayerCase(
        "random_rotation",
        L.RandomRotation,
        {"factor": 0.1, "seed": 0},
        (5, 5, 3),
        (None, 5, 5, 3),
        0,
        None,
    ),
    LayerCase(
        "random_translation",
        L.RandomTranslation,
        {"height_factor": 0.1, "width_factor": 0.1, "seed": 0},
        (5, 5, 3),
        (None, 5, 5, 3),
        0,
        None,
    ),
    LayerCase(
        "random_zoom",
        L.RandomZoom,
        {"height_factor": 0.1, "seed": 0},
        (5, 5, 3),
        (None, 5, 5, 3),
        0,
        None,
    ),
    LayerCase(
        "integer_lookup",
        L.IntegerLookup,
        {"vocabulary": [1, 2, 3]},
        (4,),
        (None, 4),
        0,
        None,
        input_dtype="int64",
        int_high=5,
    ),
    LayerCase(
        "hashing_ints",
        L.Hashing,
        {"num_bins": 4},
        (2,),
        (None, 2),
        0,
        None,
        input_dtype="int64",
    ),
    LayerCase(
        "hashed_crossing_ints",
        L.HashedCrossing,
        {"num_bins": 4},
        [(1,), (1,)],
        (None, 1),
        0,
        None,
        input_dtype="int64",
    ),
]
