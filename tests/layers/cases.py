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


# --- Helpers for the channels-last layers (conv, pooling, reshaping_nd). ---


def _cf(x: torch.Tensor) -> torch.Tensor:
    """Channels-last to channels-first."""
    return x.movedim(-1, 1)


def _cl(x: torch.Tensor) -> torch.Tensor:
    """Channels-first to channels-last."""
    return x.movedim(1, -1)


def _torch_kernel(kernel: torch.Tensor) -> torch.Tensor:
    """A Keras conv kernel `(*k, a, b)` as torch's `(b, a, *k)`."""
    n = kernel.ndim - 2
    return kernel.permute(n + 1, n, *range(n))


_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _conv(n: int, stride: int = 1) -> Callable[[Any, list[torch.Tensor]], torch.Tensor]:
    def ref(x: torch.Tensor, w: list[torch.Tensor]) -> torch.Tensor:
        return _cl(_CONV[n](_cf(x), _torch_kernel(w[0]), w[1], stride=stride))

    return ref


def _conv_transpose(n: int, stride: int) -> Callable[..., torch.Tensor]:
    def ref(x: torch.Tensor, w: list[torch.Tensor]) -> torch.Tensor:
        # Keras keeps a transposed kernel as (*k, out, in); torch wants (in, out, *k).
        kernel = _torch_kernel(w[0])
        return _cl(_CONV_T[n](_cf(x), kernel, w[1], stride=stride))

    return ref


def _depthwise(n: int, x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Channels-first depthwise conv of a Keras `(*k, in, multiplier)` kernel."""
    *k, c_in, mult = kernel.shape
    grouped = _torch_kernel(kernel.reshape(*k, 1, c_in * mult))
    return _CONV[n](x, grouped, groups=c_in)


def _depthwise_ref(n: int) -> Callable[..., torch.Tensor]:
    return lambda x, w: _cl(_depthwise(n, _cf(x), w[0])) + w[1]


def _separable_ref(n: int) -> Callable[..., torch.Tensor]:
    def ref(x: torch.Tensor, w: list[torch.Tensor]) -> torch.Tensor:
        depth = _depthwise(n, _cf(x), w[0])
        return _cl(_CONV[n](depth, _torch_kernel(w[1]), w[2]))

    return ref


_POOL = {
    ("max", 1): F.max_pool1d,
    ("max", 2): F.max_pool2d,
    ("max", 3): F.max_pool3d,
    ("avg", 1): F.avg_pool1d,
    ("avg", 2): F.avg_pool2d,
    ("avg", 3): F.avg_pool3d,
}


def _pool(kind: str, cls: type, shape: tuple[int, ...]) -> LayerCase:
    n = len(shape) - 1
    out = (None, *(s // 2 for s in shape[:-1]), shape[-1])
    pool = _POOL[kind, n]
    return LayerCase(
        f"{kind}_pooling_{n}d",
        cls,
        {"pool_size": 2},
        shape,
        out,
        0,
        lambda x, w: _cl(pool(_cf(x), 2)),
    )


def _global_pool(kind: str, cls: type, shape: tuple[int, ...]) -> LayerCase:
    n = len(shape) - 1
    axes = tuple(range(1, n + 1))
    if kind == "max":
        ref = lambda x, w: x.amax(axes)  # noqa: E731
    else:
        ref = lambda x, w: x.mean(axes)  # noqa: E731
    return LayerCase(
        f"global_{kind}_pooling_{n}d", cls, {}, shape, (None, shape[-1]), 0, ref
    )


def _same(name: str, cls: type, kwargs: dict[str, Any], shape: tuple[int, ...], ref):
    """A layer that keeps its input's shape and has no weights."""
    return LayerCase(name, cls, kwargs, shape, (None, *shape), 0, ref)


def _identity(name: str, cls: type, shape: tuple[int, ...], **kwargs: Any):
    """Noise and dropout layers: the identity outside training."""
    return _same(name, cls, kwargs, shape, lambda x, w: x)


def _group_norm(x: torch.Tensor, w: list[torch.Tensor], groups: int) -> torch.Tensor:
    grouped = x.reshape(*x.shape[:-1], groups, x.shape[-1] // groups)
    axes = (*range(1, x.ndim - 1), x.ndim)  # every axis but batch and group
    mean = grouped.mean(axes, keepdim=True)
    var = grouped.var(axes, keepdim=True, unbiased=False)
    normed = ((grouped - mean) / torch.sqrt(var + 1e-3)).reshape(x.shape)
    return normed * w[0] + w[1]


def _simple_rnn(x: torch.Tensor, w: list[torch.Tensor]) -> torch.Tensor:
    h = torch.zeros(x.shape[0], w[1].shape[0])
    for t in range(x.shape[1]):
        h = torch.tanh(x[:, t] @ w[0] + h @ w[1] + w[2])
    return h


def _dot_attention(qv: list[torch.Tensor], w: list[torch.Tensor]) -> torch.Tensor:
    q, v = qv
    return torch.softmax(q @ v.transpose(1, 2), -1) @ v


def _additive_attention(qv: list[torch.Tensor], w: list[torch.Tensor]) -> torch.Tensor:
    q, v = qv
    scores = (w[0] * torch.tanh(q[:, :, None] + v[:, None])).sum(-1)
    return torch.softmax(scores, -1) @ v


@register_serializable(package="layer_cases")
def cube_plus_one(x: torch.Tensor) -> torch.Tensor:
    """The function of the Lambda case (registered: a Lambda saves it by name)."""
    return x**3 + 1


def _unit_norm(x: torch.Tensor, w: list[torch.Tensor]) -> torch.Tensor:
    return x / torch.sqrt((x * x).sum(-1, keepdim=True))


def _relu_capped(x: torch.Tensor, w: list[torch.Tensor]) -> torch.Tensor:
    return torch.where(x >= 1.0, torch.ones_like(x), torch.where(x > 0, x, 0.1 * x))


LAYER_CASES += [
    # Activation layers.
    _same("relu", L.ReLU, {}, (3, 4), lambda x, w: torch.clamp(x, min=0)),
    _same(
        "relu_capped_leaky",
        L.ReLU,
        {"max_value": 1.0, "negative_slope": 0.1},
        (3, 4),
        _relu_capped,
    ),
    _same(
        "leaky_relu",
        L.LeakyReLU,
        {"negative_slope": 0.2},
        (4,),
        lambda x, w: torch.where(x > 0, x, 0.2 * x),
    ),
    _same(
        "elu",
        L.ELU,
        {"alpha": 0.5},
        (4,),
        lambda x, w: torch.where(x > 0, x, 0.5 * (torch.exp(x) - 1)),
    ),
    _same("softmax_layer", L.Softmax, {}, (3, 4), lambda x, w: torch.softmax(x, -1)),
    _same(
        "thresholded_relu",
        L.ThresholdedReLU,
        {"theta": 0.5},
        (4,),
        lambda x, w: torch.where(x > 0.5, x, torch.zeros_like(x)),
    ),
    LayerCase(
        "prelu_shared",
        L.PReLU,
        {"shared_axes": [1], "alpha_initializer": "ones"},
        (3, 4),
        (None, 3, 4),
        1,
        lambda x, w: torch.clamp(x, min=0) + w[0] * torch.clamp(x, max=0),
        ((1, 4),),
    ),
    # Lambda of a registered function.
    _same(
        "lambda",
        L.Lambda,
        {"function": cube_plus_one},
        (4,),
        lambda x, w: x**3 + 1,
    ),
    # Convolutions (Keras kernel layouts, valid padding).
    LayerCase(
        "conv1d",
        L.Conv1D,
        {"filters": 3, "kernel_size": 3},
        (6, 2),
        (None, 4, 3),
        2,
        _conv(1),
        ((3, 2, 3), (3,)),
    ),
    LayerCase(
        "conv2d",
        L.Conv2D,
        {"filters": 3, "kernel_size": 3},
        (5, 5, 2),
        (None, 3, 3, 3),
        2,
        _conv(2),
        ((3, 3, 2, 3), (3,)),
    ),
    LayerCase(
        "conv2d_strided",
        L.Conv2D,
        {"filters": 2, "kernel_size": 2, "strides": 2},
        (4, 6, 1),
        (None, 2, 3, 2),
        2,
        _conv(2, stride=2),
        ((2, 2, 1, 2), (2,)),
    ),
    LayerCase(
        "conv3d",
        L.Conv3D,
        {"filters": 2, "kernel_size": 2},
        (3, 3, 3, 2),
        (None, 2, 2, 2, 2),
        2,
        _conv(3),
        ((2, 2, 2, 2, 2), (2,)),
    ),
    LayerCase(
        "conv1d_transpose",
        L.Conv1DTranspose,
        {"filters": 3, "kernel_size": 3, "strides": 2},
        (4, 2),
        (None, 9, 3),
        2,
        _conv_transpose(1, 2),
        ((3, 3, 2), (3,)),
    ),
    LayerCase(
        "conv2d_transpose",
        L.Conv2DTranspose,
        {"filters": 2, "kernel_size": 3, "strides": 2},
        (3, 2, 2),
        (None, 7, 5, 2),
        2,
        _conv_transpose(2, 2),
        ((3, 3, 2, 2), (2,)),
    ),
    LayerCase(
        "conv3d_transpose",
        L.Conv3DTranspose,
        {"filters": 2, "kernel_size": 2},
        (2, 2, 2, 1),
        (None, 3, 3, 3, 2),
        2,
        _conv_transpose(3, 1),
        ((2, 2, 2, 2, 1), (2,)),
    ),
    LayerCase(
        "depthwise_conv1d",
        L.DepthwiseConv1D,
        {"kernel_size": 3, "depth_multiplier": 2},
        (6, 2),
        (None, 4, 4),
        2,
        _depthwise_ref(1),
        ((3, 2, 2), (4,)),
    ),
    LayerCase(
        "depthwise_conv2d",
        L.DepthwiseConv2D,
        {"kernel_size": 3, "depth_multiplier": 2},
        (5, 4, 2),
        (None, 3, 2, 4),
        2,
        _depthwise_ref(2),
        ((3, 3, 2, 2), (4,)),
    ),
    LayerCase(
        "separable_conv1d",
        L.SeparableConv1D,
        {"filters": 3, "kernel_size": 3},
        (6, 2),
        (None, 4, 3),
        3,
        _separable_ref(1),
        ((3, 2, 1), (1, 2, 3), (3,)),
    ),
    LayerCase(
        "separable_conv2d",
        L.SeparableConv2D,
        {"filters": 3, "kernel_size": 3, "depth_multiplier": 2},
        (5, 5, 2),
        (None, 3, 3, 3),
        3,
        _separable_ref(2),
        ((3, 3, 2, 2), (1, 1, 4, 3), (3,)),
    ),
    # Pooling.
    _pool("max", L.MaxPooling1D, (6, 2)),
    _pool("max", L.MaxPooling2D, (4, 6, 2)),
    _pool("max", L.MaxPooling3D, (4, 2, 4, 1)),
    _pool("avg", L.AveragePooling1D, (6, 2)),
    _pool("avg", L.AveragePooling2D, (4, 6, 2)),
    _pool("avg", L.AveragePooling3D, (4, 2, 4, 1)),
    _global_pool("max", L.GlobalMaxPooling1D, (5, 2)),
    _global_pool("max", L.GlobalMaxPooling2D, (3, 4, 2)),
    _global_pool("max", L.GlobalMaxPooling3D, (2, 3, 2, 2)),
    _global_pool("avg", L.GlobalAveragePooling1D, (5, 2)),
    _global_pool("avg", L.GlobalAveragePooling2D, (3, 4, 2)),
    _global_pool("avg", L.GlobalAveragePooling3D, (2, 3, 2, 2)),
    # Cropping, padding, upsampling.
    LayerCase(
        "cropping1d",
        L.Cropping1D,
        {"cropping": 1},
        (5, 2),
        (None, 3, 2),
        0,
        lambda x, w: x[:, 1:-1],
    ),
    LayerCase(
        "cropping2d",
        L.Cropping2D,
        {"cropping": ((1, 0), (0, 2))},
        (4, 5, 2),
        (None, 3, 3, 2),
        0,
        lambda x, w: x[:, 1:, :-2],
    ),
    LayerCase(
        "cropping3d",
        L.Cropping3D,
        {"cropping": 1},
        (4, 3, 4, 1),
        (None, 2, 1, 2, 1),
        0,
        lambda x, w: x[:, 1:-1, 1:-1, 1:-1],
    ),
    LayerCase(
        "zero_padding1d",
        L.ZeroPadding1D,
        {"padding": 1},
        (3, 2),
        (None, 5, 2),
        0,
        lambda x, w: F.pad(x, (0, 0, 1, 1)),
    ),
    LayerCase(
        "zero_padding2d",
        L.ZeroPadding2D,
        {"padding": ((1, 0), (0, 2))},
        (3, 3, 2),
        (None, 4, 5, 2),
        0,
        lambda x, w: F.pad(x, (0, 0, 0, 2, 1, 0)),
    ),
    LayerCase(
        "zero_padding3d",
        L.ZeroPadding3D,
        {"padding": 1},
        (2, 1, 2, 1),
        (None, 4, 3, 4, 1),
        0,
        lambda x, w: F.pad(x, (0, 0, 1, 1, 1, 1, 1, 1)),
    ),
    LayerCase(
        "upsampling1d",
        L.UpSampling1D,
        {"size": 2},
        (3, 2),
        (None, 6, 2),
        0,
        lambda x, w: x.repeat_interleave(2, 1),
    ),
    LayerCase(
        "upsampling2d",
        L.UpSampling2D,
        {"size": (2, 3)},
        (2, 3, 1),
        (None, 4, 9, 1),
        0,
        lambda x, w: x.repeat_interleave(2, 1).repeat_interleave(3, 2),
    ),
    LayerCase(
        "upsampling3d",
        L.UpSampling3D,
        {"size": 2},
        (2, 1, 2, 1),
        (None, 4, 2, 4, 1),
        0,
        lambda x, w: (
            x.repeat_interleave(2, 1).repeat_interleave(2, 2).repeat_interleave(2, 3)
        ),
    ),
    # Normalization (inference: BatchNormalization uses its moving statistics).
    LayerCase(
        "batch_normalization",
        L.BatchNormalization,
        {},
        (3, 4),
        (None, 3, 4),
        4,
        lambda x, w: (x - w[2]) / torch.sqrt(w[3] + 1e-3) * w[0] + w[1],
        ((4,), (4,), (4,), (4,)),
    ),
    LayerCase(
        "layer_normalization",
        L.LayerNormalization,
        {},
        (3, 4),
        (None, 3, 4),
        2,
        lambda x, w: F.layer_norm(x, (4,), w[0], w[1], eps=1e-3),
        ((4,), (4,)),
    ),
    LayerCase(
        "group_normalization",
        L.GroupNormalization,
        {"groups": 2},
        (3, 4),
        (None, 3, 4),
        2,
        lambda x, w: _group_norm(x, w, 2),
        ((4,), (4,)),
    ),
    _same("unit_normalization", L.UnitNormalization, {}, (3, 4), _unit_norm),
    # Noise, dropout and activity regularization: the identity at inference.
    _identity("gaussian_noise", L.GaussianNoise, (4,), stddev=0.5),
    _identity("gaussian_dropout", L.GaussianDropout, (4,), rate=0.3),
    _identity("alpha_dropout", L.AlphaDropout, (4,), rate=0.3),
    _identity("spatial_dropout1d", L.SpatialDropout1D, (3, 2), rate=0.3),
    _identity("spatial_dropout2d", L.SpatialDropout2D, (2, 3, 2), rate=0.3),
    _identity("spatial_dropout3d", L.SpatialDropout3D, (2, 2, 2, 2), rate=0.3),
    _identity("activity_regularization", L.ActivityRegularization, (4,), l1=0.01),
    # Attention: [query, value] lists; MultiHeadAttention takes (query, value).
    LayerCase(
        "attention",
        L.Attention,
        {},
        [(2, 3), (4, 3)],
        (None, 2, 3),
        0,
        _dot_attention,
    ),
    LayerCase(
        "additive_attention",
        L.AdditiveAttention,
        {},
        [(2, 3), (4, 3)],
        (None, 2, 3),
        1,
        _additive_attention,
        ((3,),),
    ),
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
