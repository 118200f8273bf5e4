"""Convolutional LSTMs: ConvLSTM1D, ConvLSTM2D, ConvLSTM3D (Shi et al., 2015).

An LSTM whose matmuls are convolutions: the input convolution runs once over
all time steps (batch and time merged), then a step loop runs the recurrent
convolution (stride 1, `"same"` padding). Kernels are stored in torch's
`(4 * filters, in, *kernel_size)` layout for `F.conv*d`; `get_weights` gives
Keras's `(*kernel_size, in, 4 * filters)`. Channels-last tensors are viewed as
channels-first for the convolutions (a permuted view, no copy).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F

from plait import activations
from plait.layers.base import Layout
from plait.layers.input_spec import InputSpec
from plait.layers.recurrent import _CellRNN
from plait.layers.recurrent_cells import (
    _cell_fns_config,
    _forget_bias,
    _set_gated_args,
)
from plait.layers.rnn_cell_base import BaseRNNCell
from plait.types import ActivationLike, InitializerLike, Shape
from plait.utils.settings import image_data_format

__all__ = ["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"]

Tensor = torch.Tensor
_CONV: dict[int, Callable[..., Tensor]] = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def _tuple(value: Any, rank: int, name: str, where: str) -> tuple[int, ...]:
    values = (value,) * rank if isinstance(value, int) else tuple(value)
    if len(values) != rank or not all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values
    ):
        raise ValueError(
            f"{where}: expected `{name}` to be a positive int or {rank} positive "
            f"ints, got {name}={value!r}."
        )
    return values


def _kernel_layout(rank: int) -> Layout:
    """Keras `(*kernel_size, in, out)` <-> torch `(out, in, *kernel_size)`."""
    to_torch = (rank + 1, rank, *range(rank))
    to_keras = (*range(2, rank + 2), 1, 0)
    return (
        lambda w: w.permute(to_keras),
        lambda w: w.permute(to_torch).contiguous(),
    )


def _same_pads(size: int, k: int, s: int, d: int) -> tuple[int, int]:
    """Keras's (TensorFlow's) `"same"` padding: the extra one goes after."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def _out_size(size: int, k: int, s: int, d: int, padding: str) -> int:
    if padding == "same":
        return math.ceil(size / s)
    return (size - (k - 1) * d - 1) // s + 1


class _ConvLSTMCell(BaseRNNCell):
    """One ConvLSTM step; see `ConvLSTM2D` for the arguments."""

    dropout_gates = 4

    def __init__(
        self,
        rank: int,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        activation: ActivationLike = "tanh",
        recurrent_activation: ActivationLike = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: InitializerLike = "glorot_uniform",
        recurrent_initializer: InitializerLike = "orthogonal",
        bias_initializer: InitializerLike = "zeros",
        unit_forget_bias: bool = True,
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(filters, dropout, recurrent_dropout, seed, **kwargs)
        where = self._where()
        self.rank = rank
        self.filters = filters
        self.kernel_size = _tuple(kernel_size, rank, "kernel_size", where)
        self.strides = _tuple(strides, rank, "strides", where)
        self.dilation_rate = _tuple(dilation_rate, rank, "dilation_rate", where)
        padding = padding.lower() if isinstance(padding, str) else padding
        if padding not in ("valid", "same"):
            raise ValueError(
                f"{where}: expected `padding` in ['valid', 'same'], got "
                f"padding={padding!r}."
            )
        data_format = data_format or image_data_format()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                f"{where}: expected `data_format` in ['channels_last', "
                f"'channels_first'], got data_format={data_format!r}."
            )
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{where}: expected `strides` or `dilation_rate` to be 1, got "
                f"strides={self.strides} and dilation_rate={self.dilation_rate}."
            )
        self.padding, self.data_format = padding, data_format
        self.channels_last = data_format == "channels_last"
        _set_gated_args(self, locals())
        self.unit_forget_bias = bool(unit_forget_bias)
        self.bias: torch.nn.Parameter | None = None

    def _mask_count(self) -> int:
        return 4  # Keras compat: one input (and state) mask per gate, always

    def build(self, input_shape: Shape) -> None:
        """Create `kernel`, `recurrent_kernel`, `bias`; the state shape."""
        rank, f = self.rank, self.filters
        channels = input_shape[-1] if self.channels_last else input_shape[1]
        dims = input_shape[1:-1] if self.channels_last else input_shape[2:]
        spatial = [d for d in dims if d is not None]
        if channels is None or len(spatial) != len(dims):
            raise ValueError(
                f"{self._where()}: expected known spatial and channel dims, got "
                f"step shape {tuple(input_shape)}."
            )
        out = [
            _out_size(n, k, s, d, self.padding)
            for n, k, s, d in zip(
                spatial, self.kernel_size, self.strides, self.dilation_rate
            )
        ]
        state = (*out, f) if self.channels_last else (f, *out)
        self.state_size = [state, state]
        self.output_size: Any = state
        self._in_spatial = tuple(spatial)
        layout = _kernel_layout(rank)
        self.kernel = self.add_weight(
            "kernel",
            (*self.kernel_size, channels, 4 * f),
            self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            layout=layout,
        )
        self.recurrent_kernel = self.add_weight(
            "recurrent_kernel",
            (*self.kernel_size, f, 4 * f),
            self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
            layout=layout,
        )
        if self.use_bias:
            init = self.bias_initializer
            self.bias = self.add_weight(
                "bias",
                (4 * f,),
                _forget_bias(init, f) if self.unit_forget_bias else init,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.built = True

    # ------------------------------------------------------------------ convs
    def _conv(
        self, x: Tensor, w: Tensor, strides: tuple[int, ...], padding: str,
        dilation: tuple[int, ...],
    ) -> Tensor:  # fmt: skip
        """`x` `(n, *spatial, c)` (or channels-first) convolved with torch's `w`."""
        if self.channels_last:
            x = x.movedim(-1, 1)  # (n, c, *spatial), a view
        pad: Any = 0
        if padding == "same":
            pads = [
                _same_pads(n, k, s, d)
                for n, k, s, d in zip(x.shape[2:], self.kernel_size, strides, dilation)
            ]
            if all(a == b for a, b in pads):
                pad = tuple(a for a, _ in pads)
            else:  # F.pad takes the last dim first
                x = F.pad(x, [p for pair in reversed(pads) for p in pair])
        out = _CONV[self.rank](x, w, None, strides, pad, dilation)
        return out.movedim(1, -1) if self.channels_last else out

    def _gate_axis(self, ndim: int) -> int:
        return -1 if self.channels_last else ndim - self.rank - 1

    def _masked_conv(
        self, x: Tensor, w: Tensor, masks: list[Tensor] | None, **conv: Any
    ) -> Tensor:
        if masks is None:
            return self._conv(x, w, **conv)
        blocks = w.chunk(4, dim=0)
        outs = [self._conv(x * m, b, **conv) for m, b in zip(masks, blocks)]
        return torch.cat(outs, dim=self._gate_axis(x.dim()))

    def _input_masks(self, x: Tensor, training: bool) -> list[Tensor] | None:
        if not training or self.dropout == 0:
            return None
        sequence = x.dim() == self.rank + 3
        masks = self.get_dropout_mask(x[:, 0] if sequence else x)
        return [m.unsqueeze(1) for m in masks] if sequence else list(masks)

    def _project(self, x: Tensor, training: bool) -> Tensor:
        """Input convolution (+ bias) of a step or a whole sequence."""
        masks = self._input_masks(x, training)
        lead = x.shape[:2] if x.dim() == self.rank + 3 else None
        if lead is not None:  # (batch, time, ...) -> (batch * time, ...)
            x = x.reshape(-1, *x.shape[2:])
            if masks is not None:
                masks = [
                    m.expand(*lead, *m.shape[2:]).reshape(-1, *m.shape[2:])
                    for m in masks
                ]
        conv = {
            "strides": self.strides,
            "padding": self.padding,
            "dilation": self.dilation_rate,
        }
        out = self._masked_conv(x, self.kernel, masks, **conv)
        if self.bias is not None:
            shape = (-1,) if self.channels_last else (-1, *([1] * self.rank))
            out = out + self.bias.view(shape)
        if lead is not None:  # (batch * time, ...) -> (batch, time, ...)
            out = out.reshape(*lead, *out.shape[1:])
        return out

    def _recur(
        self, projected: Tensor, states: list[Tensor], training: bool
    ) -> tuple[Tensor, list[Tensor]]:
        h, c = states[0], states[1]
        ones = (1,) * self.rank
        rec = self._masked_conv(
            h,
            self.recurrent_kernel,
            self._recurrent_masks(h, training),
            strides=ones,
            padding="same",
            dilation=ones,
        )
        z = projected + rec
        i, f, g, o = z.chunk(4, dim=self._gate_axis(z.dim()))
        act, gate = self.activation, self.recurrent_activation
        c = gate(f) * c + gate(i) * act(g)
        h = gate(o) * act(c)
        return h, [h, c]

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (`rank` aside)."""
        inits, fns = _cell_fns_config(self)
        config = {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            **inits,
            "unit_forget_bias": self.unit_forget_bias,
            **fns,
        }
        config.pop("units")
        return config


class _ConvLSTM(_CellRNN):
    """`_ConvLSTMCell` over time; the public classes fix `rank`."""

    rank = 2
    _cell_name = "conv_lstm_cell"
    _takes_cudnn = False

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        activation: ActivationLike = "tanh",
        recurrent_activation: ActivationLike = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: InitializerLike = "glorot_uniform",
        recurrent_initializer: InitializerLike = "orthogonal",
        bias_initializer: InitializerLike = "zeros",
        unit_forget_bias: bool = True,
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(partial(_ConvLSTMCell, rank=self.rank), dict(locals()))
        self.input_spec = InputSpec(ndim=self.rank + 3)

    def build(self, input_shape: Shape) -> None:
        """Build the cell on one step's shape."""
        super().build(input_shape)
        self.input_spec = InputSpec(
            ndim=self.rank + 3, shape=(None, None, *input_shape[2:])
        )

    @property
    def filters(self) -> int:
        """Number of output channels."""
        return int(self.cell.filters)


class ConvLSTM2D(_ConvLSTM):
    """2D convolutional LSTM: an LSTM whose matmuls are 2D convolutions.

    Gates as in `LSTMCell` (i, f, c, o), with `x * kernel` the input convolution
    (given `strides`, `padding`, `dilation_rate`) and `h * recurrent_kernel` a
    stride-1 `"same"` convolution.

    Args:
        filters: Output channels of each gate and of the states.
        kernel_size: Int or 2 ints.
        strides: Int or 2 ints, for the input convolution.
        padding: `"valid"` or `"same"` (Keras's: the extra padding goes after).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: Int or 2 ints, for the input convolution.
        activation: Default `"tanh"`.
        recurrent_activation: Default `"sigmoid"`.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
            unit_forget_bias, kernel_regularizer, recurrent_regularizer,
            bias_regularizer, kernel_constraint, recurrent_constraint,
            bias_constraint, dropout, recurrent_dropout, seed: As in `LSTMCell`
            (dropout draws one mask per gate, as Keras's ConvLSTM).
        activity_regularizer: Function of the output added to the losses.
        return_sequences, return_state, go_backwards, stateful: As in `RNN`.

    Call arguments:
        sequences: `(batch, time, rows, cols, channels)` (channels last).
        initial_state: `[h, c]`, each `(batch, new_rows, new_cols, filters)`.
        mask: `(batch, time)` bools.
        training: Enables dropout.

    Input shape:  `(batch, time, rows, cols, channels)` (channels last).
    Output shape: `(batch, new_rows, new_cols, filters)`, with `return_sequences`
        `(batch, time, new_rows, new_cols, filters)`; with `return_state` a list
        `[output, h, c]`.
    Weights:      `kernel (kh, kw, channels, 4 * filters)`,
        `recurrent_kernel (kh, kw, filters, 4 * filters)`, `bias (4 * filters,)`
        in `get_weights` (stored as torch's `(4 * filters, in, kh, kw)`).

    Example:
        >>> import plait
        >>> x = plait.Input(shape=(10, 16, 16, 3))
        >>> ConvLSTM2D(8, 3, padding="same", return_sequences=True)(x).shape
        (None, 10, 16, 16, 8)
    """

    rank = 2


class ConvLSTM1D(_ConvLSTM):
    """1D convolutional LSTM; as `ConvLSTM2D` with one spatial axis.

    Input shape:  `(batch, time, steps, channels)` (channels last).
    Output shape: `(batch, new_steps, filters)` (or with time, see ConvLSTM2D).
    Weights:      `kernel (k, channels, 4 * filters)`,
        `recurrent_kernel (k, filters, 4 * filters)`, `bias (4 * filters,)`.

    Example:
        >>> import plait
        >>> ConvLSTM1D(4, 3)(plait.Input(shape=(5, 12, 2))).shape
        (None, 10, 4)
    """

    rank = 1


class ConvLSTM3D(_ConvLSTM):
    """3D convolutional LSTM; as `ConvLSTM2D` with three spatial axes.

    Input shape:  `(batch, time, d1, d2, d3, channels)` (channels last).
    Output shape: `(batch, new_d1, new_d2, new_d3, filters)` (or with time).
    Weights:      `kernel (k1, k2, k3, channels, 4 * filters)`,
        `recurrent_kernel (k1, k2, k3, filters, 4 * filters)`, `bias (4 * filters,)`.

    Example:
        >>> import plait
        >>> ConvLSTM3D(2, 3, padding="same")(plait.Input(shape=(3, 4, 4, 4, 1))).shape
        (None, 4, 4, 4, 2)
    """

    rank = 3
