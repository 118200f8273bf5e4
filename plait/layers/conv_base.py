"""What every convolution-shaped layer shares: argument checks, torch layout, padding.

A channels-last tensor `(batch, *spatial, channels)` viewed as
`(batch, channels, *spatial)` (one `movedim`, no copy) is exactly torch's
`channels_last` memory format, so `F.conv2d` runs on it directly and its output,
moved back, is contiguous channels-last again. Kernels are stored in torch's
layout `(filters, in / groups, *kernel_size)`; `get_weights`/`set_weights` speak
Keras's `(*kernel_size, in / groups, filters)`.

`_BaseConv` is the body of the plain, transposed, depthwise and separable
convolutions; the helpers also serve `pooling` and `reshaping_nd`.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from plait import activations
from plait.layers.base import Layer, Layout
from plait.layers.input_spec import InputSpec
from plait.layers.layer_args import set_weight_fns, weight_fn_names, weight_fns_config
from plait.types import ActivationLike, Shape
from plait.utils.settings import image_data_format

Pairs = list[tuple[int, int]]
_DATA_FORMATS = ("channels_last", "channels_first")
_SPATIAL_NAMES = {1: "steps", 2: "rows, cols", 3: "depth, rows, cols"}
_CONV_FNS: dict[int, Callable[..., torch.Tensor]] = {
    3: F.conv1d,
    4: F.conv2d,
    5: F.conv3d,
}


# ---------------------------------------------------------------- argument checks
def _int_tuple(
    layer: Layer, name: str, value: Any, rank: int, *, minimum: int = 1
) -> tuple[int, ...]:
    """`value` (an int or `rank` ints) as a tuple of `rank` ints >= `minimum`."""
    is_int = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if is_int:
        values = (int(value),) * rank
    elif (
        isinstance(value, (list, tuple))
        and len(value) == rank
        and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value
        )
    ):
        values = tuple(int(v) for v in value)
    else:
        raise ValueError(
            f"{layer._where()}: expected `{name}` to be an int or a tuple of {rank} "
            f"ints, got {name}={value!r}."
        )
    if any(v < minimum for v in values):
        kind = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(
            f"{layer._where()}: expected `{name}` values to be {kind}, "
            f"got {name}={value!r}."
        )
    return values


def _choice(layer: Layer, name: str, value: Any, choices: Sequence[str]) -> str:
    """`value` lower-cased if it is one of `choices`, else a ValueError listing them."""
    lowered = value.lower() if isinstance(value, str) else value
    if lowered not in choices:
        raise ValueError(
            f"{layer._where()}: expected {name} in {tuple(choices)}, "
            f"got {name}={value!r}."
        )
    return str(lowered)


def _data_format(layer: Layer, data_format: Any) -> str:
    """None -> the image data format (`plait.backend.image_data_format()`), as in Keras."""
    if data_format is None:
        return image_data_format()
    return _choice(layer, "data_format", data_format, _DATA_FORMATS)


def _positive_int(layer: Layer, name: str, value: Any) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(
            f"{layer._where()}: expected `{name}` to be a positive int, "
            f"got {name}={value!r}."
        )
    return int(value)


def _layout_name(rank: int, data_format: str) -> str:
    """How the dims are named in errors: `(batch, rows, cols, channels)`."""
    spatial = _SPATIAL_NAMES[rank]
    if data_format == "channels_first":
        return f"(batch, channels, {spatial})"
    return f"(batch, {spatial}, channels)"


def _spatial_spec(
    rank: int, data_format: str, channels: int | None = None
) -> InputSpec:
    """Rank `rank + 2`, and the channel axis fixed once it is known."""
    axes = {} if channels is None else {_channel_axis(data_format): channels}
    return InputSpec(ndim=rank + 2, axes=axes, layout=_layout_name(rank, data_format))


def _channel_axis(data_format: str) -> int:
    return -1 if data_format == "channels_last" else 1


def _input_channels(layer: Layer, input_shape: Shape, data_format: str) -> int:
    """The input's channel count, which must be known to build weights."""
    channels = input_shape[_channel_axis(data_format)]
    if channels is None:
        raise ValueError(
            f"{layer._where()}: expected the channel axis of the input to be "
            f"known, got shape {input_shape}."
        )
    return channels


# ---------------------------------------------------------------- torch layout
def _lifted(rank: int, data_format: str) -> bool:
    """Whether a 1D channels-last op runs as a 2D op over a unit rows axis.

    torch has no channels-last 1D kernels: `F.conv1d` on a permuted view copies
    it, while its 2D kernels run on `(batch, channels, 1, steps)` in place,
    about 2x faster on CPU (measured forward+backward, 32x256x64 -> 64 filters).
    """
    return rank == 1 and data_format == "channels_last"


def _to_torch(x: torch.Tensor, rank: int, data_format: str) -> torch.Tensor:
    """`(batch, *spatial, channels)` as a `(batch, channels, *spatial)` view.

    The view has torch's channels_last memory format, so no data moves. 1D
    channels-last inputs gain a unit rows axis (see `_lifted`).
    """
    if data_format == "channels_first":
        return x
    if rank == 1:
        x = x.unsqueeze(1)  # (batch, 1, steps, channels)
    return x.movedim(-1, 1)  # (batch, channels, *spatial)


def _from_torch(y: torch.Tensor, rank: int, data_format: str) -> torch.Tensor:
    """Inverse of `_to_torch`: `(batch, channels, *spatial)` -> channels-last."""
    if data_format == "channels_first":
        return y
    y = y.movedim(1, -1)  # (batch, *spatial, channels)
    return y.squeeze(1) if rank == 1 else y  # (batch, steps, channels) for 1D


def _lift(values: tuple[int, ...], fill: int, lifted: bool) -> tuple[int, ...]:
    """Per-axis op arguments, with the unit rows axis of a lifted 1D op first."""
    return (fill, *values) if lifted else values


def _same_pair(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """Keras's (TF's) "same" padding of one axis: the odd element goes at the end.

    The output has `ceil(size / stride)` elements; with stride > 1 the padding
    depends on the input size, so it is computed per call.
    """
    effective = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max(0, (out - 1) * stride + effective - size)
    return total // 2, total - total // 2


def _padding_pairs(
    padding: str,
    sizes: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilation: Sequence[int],
) -> Pairs:
    """(before, after) padding of each spatial axis for `"valid"/"same"/"causal"`."""
    if padding == "valid":
        return [(0, 0)] * len(sizes)
    if padding == "causal":  # pad the (last, time) axis at the start only
        left = dilation[-1] * (kernel[-1] - 1)
        return [(0, 0)] * (len(sizes) - 1) + [(left, 0)]
    return [
        _same_pair(n, k, s, d) for n, k, s, d in zip(sizes, kernel, strides, dilation)
    ]


def _apply_pairs(
    x: torch.Tensor, pairs: Pairs, value: float = 0.0
) -> tuple[torch.Tensor, tuple[int, ...]]:
    """Symmetric padding goes to the torch op; any other is applied with F.pad.

    Returns the (maybe padded) input in torch layout and the op's `padding`.
    """
    if all(lo == hi for lo, hi in pairs):
        return x, tuple(lo for lo, _ in pairs)
    flat = [v for lo, hi in reversed(pairs) for v in (lo, hi)]  # F.pad: last axis first
    return F.pad(x, flat, value=value), (0,) * len(pairs)


def _conv_torch(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    padding: str,
    kernel: Sequence[int],
    strides: Sequence[int],
    dilation: Sequence[int],
    groups: int,
) -> torch.Tensor:
    """`F.conv{1,2,3}d` of `x` in torch layout with Keras's `padding` semantics."""
    key = (padding, x.shape[2:], kernel, strides, dilation)
    plan = _PAD_PLANS.get(key)
    if plan is None:
        # The padding depends only on these; worked out once per input size.
        pairs = _padding_pairs(padding, x.shape[2:], kernel, strides, dilation)
        if all(lo == hi for lo, hi in pairs):
            plan = (None, tuple(lo for lo, _ in pairs))
        else:
            flat = [
                v for lo, hi in reversed(pairs) for v in (lo, hi)
            ]  # last axis first
            plan = (flat, (0,) * len(pairs))
        if len(_PAD_PLANS) > 4096:
            _PAD_PLANS.clear()
        _PAD_PLANS[key] = plan
    flat_pad, pad = plan
    if flat_pad is not None:
        x = F.pad(x, flat_pad)
    return _CONV_FNS[x.dim()](x, weight, bias, strides, pad, dilation, groups)


_PAD_PLANS: dict[tuple[Any, ...], tuple[list[int] | None, tuple[int, ...]]] = {}


def _conv_length(
    size: int | None, kernel: int, stride: int, dilation: int, padding: str
) -> int | None:
    """Output length of one spatial axis; None stays None."""
    if size is None:
        return None
    if padding == "valid":
        return (size - dilation * (kernel - 1) - 1) // stride + 1
    return (size + stride - 1) // stride


def _spatial_output_shape(
    layer: Layer,
    input_shape: Shape,
    rank: int,
    data_format: str,
    channels: int | None,
    lengths: Callable[[int, int | None], int | None],
) -> Shape:
    """`(batch, *lengths, channels)` (or channels-first), checked to be positive."""
    spatial = input_shape[1:-1] if data_format == "channels_last" else input_shape[2:]
    out = tuple(lengths(i, n) for i, n in enumerate(spatial))
    if any(n is not None and n <= 0 for n in out):
        raise ValueError(
            f"{layer._where()}: expected an input large enough for the window, got "
            f"shape {input_shape}, which would give an output of spatial shape {out}."
        )
    if data_format == "channels_last":
        return (input_shape[0], *out, channels)
    return (input_shape[0], channels, *out)


def _kernel_layout(rank: int) -> Layout:
    """(to_keras, from_keras) between torch `(a, b, *k)` and Keras `(*k, b, a)`.

    Serves conv kernels (`(filters, in, *k)` <-> `(*k, in, filters)`) and
    transposed ones (`(in, filters, *k)` <-> `(*k, filters, in)`).
    """
    to_keras = (*range(2, rank + 2), 1, 0)
    from_keras = (rank + 1, rank, *range(rank))

    def keras(w: torch.Tensor) -> torch.Tensor:
        return w.permute(to_keras)  # (*kernel_size, b, a)

    def torch_(w: torch.Tensor) -> torch.Tensor:
        return w.permute(from_keras)  # (a, b, *kernel_size)

    return keras, torch_


# ---------------------------------------------------------------- the shared body
class _BaseConv(Layer):
    """Arguments, weights and shapes of the plain, transposed, depthwise and
    separable convolutions; `rank` is the number of spatial axes.

    The per-rank classes keep Keras's signatures and pass their arguments on
    as keywords. A subclass names the weights whose functions it takes
    (`_weights`: `kernel_initializer`, ...), the arguments its config lists
    before `activation` (`_config_args`), and defines `_build_weights` and
    `_pre_activation`.
    """

    rank: ClassVar[int] = 2
    _weights: ClassVar[tuple[str, ...]] = ("kernel", "bias")
    _config_args: ClassVar[tuple[str, ...]] = ()
    _has_filters: ClassVar[bool] = True
    _causal: ClassVar[bool] = False  # whether 1D takes padding="causal"

    def __init__(
        self,
        *,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int],
        padding: str,
        data_format: str | None,
        dilation_rate: int | Sequence[int],
        activation: ActivationLike,
        use_bias: bool,
        filters: int | None = None,
        **kwargs: Any,
    ) -> None:
        fns = {key: kwargs.pop(key) for key in weight_fn_names(self._weights)}
        super().__init__(**kwargs)
        rank = self.rank
        if self._has_filters:
            self.filters = _positive_int(self, "filters", filters)
        self.kernel_size = _int_tuple(self, "kernel_size", kernel_size, rank)
        self.strides = _int_tuple(self, "strides", strides, rank)
        causal = self._causal and rank == 1
        choices = ("valid", "same", "causal") if causal else ("valid", "same")
        self.padding = _choice(self, "padding", padding, choices)
        self.data_format = _data_format(self, data_format)
        self.dilation_rate = _int_tuple(self, "dilation_rate", dilation_rate, rank)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        set_weight_fns(self, self._weights, fns)
        self.input_spec = _spatial_spec(rank, self.data_format)
        lifted = _lifted(rank, self.data_format)
        self._lifted = lifted  # torch op arguments, with the unit axis of a 1D lift
        self._op_kernel = _lift(self.kernel_size, 1, lifted)
        self._op_strides = _lift(self.strides, 1, lifted)
        self._op_dilation = _lift(self.dilation_rate, 1, lifted)

    def build(self, input_shape: Shape) -> None:
        """Create the weights (see `_build_weights`) for the input's channels."""
        channels = _input_channels(self, input_shape, self.data_format)
        self._build_weights(channels, input_shape)
        self.input_spec = _spatial_spec(self.rank, self.data_format, channels)
        self.built = True

    def _build_weights(self, channels: int, input_shape: Shape) -> None:
        raise NotImplementedError

    def _torch_input(self, inputs: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """`inputs` in the weight's dtype, viewed as `(batch, in, *spatial)`."""
        if inputs.dtype != weight.dtype:
            inputs = inputs.to(weight.dtype)
        return _to_torch(inputs, self.rank, self.data_format)

    def _pre_activation(self, inputs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """`activation(convolution(inputs) + bias)`."""
        return self.activation(self._pre_activation(inputs))

    def _length(self, i: int, n: int | None) -> int | None:
        """Output length of spatial axis `i` for input length `n`."""
        k, s = self.kernel_size[i], self.strides[i]
        return _conv_length(n, k, s, self.dilation_rate[i], self.padding)

    def _out_channels(self, input_shape: Shape) -> int | None:
        return self.filters

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Spatial axes shrink with "valid", become `ceil(n / stride)` otherwise."""
        channels = self._out_channels(input_shape)
        return _spatial_output_shape(
            self, input_shape, self.rank, self.data_format, channels, self._length
        )

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        for key in self._config_args:
            value = getattr(self, key)
            config[key] = list(value) if isinstance(value, tuple) else value
        return {
            **config,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_fns_config(self, self._weights),
        }
