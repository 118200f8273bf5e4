"""Recurrent cells: SimpleRNNCell, LSTMCell, GRUCell (one time step each).

Weights are stored in torch's layout so that the fused kernels (`torch.lstm`,
`torch.gru`, `torch.rnn_tanh`) take them as they are, with no copy per call:
a kernel Keras keeps as `(input_dim, gates * units)` is stored as torch's
`weight_ih` `(gates * units, input_dim)`, and GRU's gates are reordered from
Keras's z, r, h to torch's r, z, n. `get_weights`/`set_weights` speak Keras's
layout (through `add_weight(layout=...)`). Measured on CPU, passing a
transposed view of Keras-layout weights to `torch.lstm` costs the same, but a
GRU would need a reordering copy per call; storing torch's layout needs none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from plait import activations, initializers
from plait.layers.base import Layer, Layout
from plait.layers.input_spec import known_last_axis
from plait.layers.layer_args import add_fn_weight, forwarded
from plait.layers.rnn import deserialize_layer, serialize_layer
from plait.layers.rnn_cell_base import BaseRNNCell
from plait.layers.rnn_kernels import _RELU, _SIGMOID, _TANH
from plait.types import ActivationLike, InitializerLike, Shape

__all__ = ["GRUCell", "LSTMCell", "SimpleRNNCell", "StackedRNNCells"]

Tensor = torch.Tensor
_GRU_ORDER = (1, 0, 2)  # torch's r, z, n are Keras's blocks 1, 0, 2 (z, r, h)


def _gate_layout(gates: int, order: tuple[int, ...] | None = None) -> Layout:
    """Keras `(rows, gates * units)` <-> torch `(gates * units, rows)`."""

    def reorder(w: Tensor) -> Tensor:  # w: (gates * units, rows)
        if order is None:
            return w
        rows = w.shape[-1]
        return w.reshape(gates, -1, rows)[list(order)].reshape(-1, rows)

    def from_keras(w: Tensor) -> Tensor:
        return reorder(w.T).contiguous()

    def to_keras(w: Tensor) -> Tensor:
        return reorder(w).T  # the reorderings used here are their own inverse

    return to_keras, from_keras


def _bias_layout(gates: int, order: tuple[int, ...]) -> Layout:
    """Reorder the gate blocks of the last axis (GRU bias `(2, 3 * units)`)."""

    def reorder(b: Tensor) -> Tensor:
        blocks = b.reshape(*b.shape[:-1], gates, -1)  # (..., gates, units)
        return blocks[..., list(order), :].reshape(b.shape).contiguous()

    return reorder, reorder


_CELL_WEIGHTS = ("kernel", "recurrent", "bias")
_CELL_INITS = tuple(f"{w}_initializer" for w in _CELL_WEIGHTS)
_CELL_FNS = tuple(
    f"{w}_{k}" for k in ("regularizer", "constraint") for w in _CELL_WEIGHTS
)


def _set_cell_fns(cell: Layer, args: dict[str, Any]) -> None:
    """The cell's initializers (resolved) and regularizers/constraints from `args`.

    Keras compat: regularizers and constraints are kept as given, and their
    config lists them only when set.
    """
    for key in _CELL_INITS:
        setattr(cell, key, initializers.get(args[key]))
    for key in _CELL_FNS:
        setattr(cell, key, args[key])


# A gated cell's own arguments beyond `BaseRNNCell`'s.
_GATED_KEYS = (
    "activation",
    "recurrent_activation",
    "use_bias",
    *_CELL_INITS,
    *_CELL_FNS,
)


def _set_gated_args(cell: Layer, args: dict[str, Any]) -> None:
    """Set a cell's activations, `use_bias` and weight functions from `args`
    (a cell's `forwarded(locals())`; `recurrent_activation` may be missing)."""
    cell.activation = activations.get(args["activation"])
    cell.recurrent_activation = activations.get(args.get("recurrent_activation"))
    cell.use_bias = bool(args["use_bias"])
    _set_cell_fns(cell, args)


def _forget_bias(init: Callable[..., Tensor], units: int) -> Callable[..., Tensor]:
    """`init` for an LSTM bias with the forget gate's block set to ones."""

    def forget_one(shape: Any, dtype: torch.dtype | None = None) -> Tensor:
        ones = torch.ones(units, dtype=dtype)
        return torch.cat([init((units,), dtype), ones, init((2 * units,), dtype)])

    return forget_one


def _cell_fns_config(cell: Layer) -> tuple[dict[str, Any], dict[str, Any]]:
    """`(initializers, the regularizers/constraints that are set)` as config."""
    inits = {k: initializers.serialize(getattr(cell, k)) for k in _CELL_INITS}
    fns = {k: getattr(cell, k) for k in _CELL_FNS if getattr(cell, k) is not None}
    return inits, fns


def _linear_gates(x: Tensor, weight: Tensor, masks: list[Tensor] | None) -> Tensor:
    """`x @ weight.T`, `(..., gates * units)`; one dropout mask per gate if given."""
    if masks is None:
        return F.linear(x, weight)
    if len(masks) == 1:
        return F.linear(x * masks[0], weight)
    blocks = weight.chunk(len(masks), dim=0)
    return torch.cat([F.linear(x * m, w) for m, w in zip(masks, blocks)], dim=-1)


class _GatedCell(BaseRNNCell):
    """Shared construction, weights and config of the three built-in cells."""

    gates = 1
    has_recurrent_activation = True
    _flags: tuple[str, ...] = ()  # the cell's own bool arguments, last in its config

    def __init__(self, args: dict[str, Any]) -> None:
        """`args`: the cell's `forwarded(locals())` (its whole signature)."""
        own = (*_GATED_KEYS, *self._flags)
        super().__init__(**{k: v for k, v in args.items() if k not in own})
        _set_gated_args(self, args)
        for key in self._flags:
            setattr(self, key, bool(args[key]))
        self.dropout_gates = self.gates
        self.bias: torch.nn.Parameter | None = None

    def _weight_layout(self) -> Layout:
        return _gate_layout(self.gates)

    def _bias_shape_init(self) -> tuple[tuple[int, ...], Any, Layout | None]:
        return (self.gates * self.units,), self.bias_initializer, None

    def build(self, input_shape: Shape) -> None:
        """Create `kernel`, `recurrent_kernel` and `bias` (Keras shapes)."""
        in_dim = known_last_axis(self._where(), input_shape)
        size = self.gates * self.units
        kernels = self._weight_layout()
        self.kernel = add_fn_weight(self, "kernel", (in_dim, size), layout=kernels)
        self.recurrent_kernel = add_fn_weight(
            self, "recurrent_kernel", (self.units, size), "recurrent", kernels
        )
        if self.use_bias:
            shape, init, layout = self._bias_shape_init()
            self.bias = self.add_weight(
                "bias",
                shape,
                init,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                layout=layout,
            )
        self.built = True

    def _input_bias(self) -> Tensor | None:
        return self.bias

    def _project(self, x: Tensor, training: bool) -> Tensor:
        """`x @ kernel + bias`, `(..., gates * units)`, for a step or a sequence."""
        out = _linear_gates(x, self.kernel, self._input_masks(x, training))
        bias = self._input_bias()
        return out if bias is None else out + bias

    def _fused_params(self) -> list[Tensor]:
        if self.bias is None:
            return [self.kernel, self.recurrent_kernel]
        # Keras has one bias where torch has two (input and recurrent): b_hh = 0.
        return [
            self.kernel,
            self.recurrent_kernel,
            self.bias,
            torch.zeros_like(self.bias),
        ]

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config: dict[str, Any] = {
            **super().get_config(),
            "activation": activations.serialize(self.activation),
        }
        if self.has_recurrent_activation:
            config["recurrent_activation"] = activations.serialize(
                self.recurrent_activation
            )
        inits, fns = _cell_fns_config(self)
        config.update(use_bias=self.use_bias, **inits, **fns)
        return {**config, **{key: getattr(self, key) for key in self._flags}}


class SimpleRNNCell(_GatedCell):
    """One step of a fully connected RNN: `h = activation(x @ W + h_prev @ U + b)`.

    Args:
        units: Size of the output and state.
        activation: Default `"tanh"`; `"tanh"` and `"relu"` run in torch's kernel.
        use_bias: Whether to learn a bias.
        kernel_initializer: For `kernel`; default `"glorot_uniform"`.
        recurrent_initializer: For `recurrent_kernel`; default `"orthogonal"`.
        bias_initializer: Default `"zeros"`.
        kernel_regularizer: Function of the kernel added to the losses (likewise
            `recurrent_regularizer`, `bias_regularizer`).
        kernel_constraint: Applied after each optimizer step (likewise
            `recurrent_constraint`, `bias_constraint`).
        dropout: Fraction of the inputs dropped in training, in `[0, 1)`.
        recurrent_dropout: Fraction of the state dropped in training.
        seed: Accepted for Keras compatibility.

    Call arguments:
        inputs: `(batch, features)`, one step.
        states: `[h]`, `(batch, units)`.
        training: Enables dropout.

    Output shape: `(h, [h])`, each `(batch, units)`.
    Weights:      `kernel (features, units)`, `recurrent_kernel (units, units)`,
        `bias (units,)`; Keras layout in `get_weights`.

    Example:
        >>> import torch
        >>> out, states = SimpleRNNCell(4)(torch.ones(2, 3), [torch.zeros(2, 4)])
        >>> out.shape
        torch.Size([2, 4])
    """

    gates = 1
    has_recurrent_activation = False

    def __init__(
        self,
        units: int,
        activation: ActivationLike = "tanh",
        use_bias: bool = True,
        kernel_initializer: InitializerLike = "glorot_uniform",
        recurrent_initializer: InitializerLike = "orthogonal",
        bias_initializer: InitializerLike = "zeros",
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
        super().__init__(forwarded(locals()))
        self.dropout_gates = 1

    def _recur(
        self, projected: Tensor, states: list[Tensor], training: bool
    ) -> tuple[Tensor, list[Tensor]]:
        h = states[0]
        rec = _linear_gates(
            h, self.recurrent_kernel, self._recurrent_masks(h, training)
        )
        out = self.activation(projected + rec)
        return out, [out]

    def _fused_kernel(self, training: bool) -> Callable[..., Any] | None:
        if self.activation in _TANH:
            return torch.rnn_tanh
        if self.activation in _RELU:
            return torch.rnn_relu
        return None


class LSTMCell(_GatedCell):
    """One step of a long short-term memory (Hochreiter & Schmidhuber, 1997).

    With `z = x @ kernel + h_prev @ recurrent_kernel + bias` split into the
    gates i, f, c, o (Keras's and torch's order):
    `c = sigmoid(f) * c_prev + sigmoid(i) * tanh(c)`, `h = sigmoid(o) * tanh(c)`
    (`recurrent_activation` and `activation` in place of sigmoid and tanh).

    Args:
        units: Size of the output and of each state.
        activation: For the candidate and the output; default `"tanh"`.
        recurrent_activation: For the gates; default `"sigmoid"`.
        use_bias: Whether to learn a bias.
        kernel_initializer: Default `"glorot_uniform"`.
        recurrent_initializer: Default `"orthogonal"`.
        bias_initializer: Default `"zeros"`.
        unit_forget_bias: Add 1 to the forget gate's bias at initialization
            (Jozefowicz et al., 2015).
        kernel_regularizer: Function of the kernel added to the losses (likewise
            `recurrent_regularizer`, `bias_regularizer`).
        kernel_constraint: Applied after each optimizer step (likewise
            `recurrent_constraint`, `bias_constraint`).
        dropout: Fraction of the inputs dropped in training, in `[0, 1)`.
        recurrent_dropout: Fraction of the state `h` dropped in training.
        seed: Accepted for Keras compatibility.

    Call arguments:
        inputs: `(batch, features)`, one step.
        states: `[h, c]`, each `(batch, units)`.
        training: Enables dropout.

    Output shape: `(h, [h, c])`, each `(batch, units)`.
    Weights:      `kernel (features, 4 * units)`,
        `recurrent_kernel (units, 4 * units)`, `bias (4 * units,)`, gates i, f, c,
        o; Keras layout in `get_weights` (stored as torch's `weight_ih`, ...).

    Example:
        >>> import torch
        >>> cell = LSTMCell(4)
        >>> out, (h, c) = cell(torch.ones(2, 3), [torch.zeros(2, 4)] * 2)
        >>> [w.shape for w in cell.get_weights()]
        [(3, 16), (4, 16), (16,)]
    """

    gates = 4
    _flags = ("unit_forget_bias",)

    def __init__(
        self,
        units: int,
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
        super().__init__(forwarded(locals()))
        self.state_size = [units, units]

    def _bias_shape_init(self) -> tuple[tuple[int, ...], Any, Layout | None]:
        init = self.bias_initializer
        if self.unit_forget_bias:
            init = _forget_bias(init, self.units)
        return (4 * self.units,), init, None

    def _recur(
        self, projected: Tensor, states: list[Tensor], training: bool
    ) -> tuple[Tensor, list[Tensor]]:
        h, c = states[0], states[1]
        z = projected + _linear_gates(
            h, self.recurrent_kernel, self._recurrent_masks(h, training)
        )
        i, f, g, o = z.chunk(4, dim=-1)
        act, gate = self.activation, self.recurrent_activation
        c = gate(f) * c + gate(i) * act(g)
        h = gate(o) * act(c)
        return h, [h, c]

    def _fused_kernel(self, training: bool) -> Callable[..., Any] | None:
        ok = self.activation in _TANH and self.recurrent_activation in _SIGMOID
        return torch.lstm if ok else None


class GRUCell(_GatedCell):
    """One step of a gated recurrent unit (Cho et al., 2014).

    Gates z (update), r (reset) and the candidate h:
    `z = sigmoid(x W_z + h_prev U_z + b_z)`, `r = sigmoid(...)`,
    `hh = tanh(x W_h + r * (h_prev U_h + b'_h))` with `reset_after=True` (torch's
    and cuDNN's formula, Keras 3's default) or `tanh(x W_h + (r * h_prev) U_h)`
    with `reset_after=False`; then `h = z * h_prev + (1 - z) * hh`.

    Args:
        units: Size of the output and state.
        activation: For the candidate; default `"tanh"`.
        recurrent_activation: For the gates; default `"sigmoid"`.
        use_bias: Whether to learn biases.
        kernel_initializer: Default `"glorot_uniform"`.
        recurrent_initializer: Default `"orthogonal"`.
        bias_initializer: Default `"zeros"`.
        kernel_regularizer: Function of the kernel added to the losses (likewise
            `recurrent_regularizer`, `bias_regularizer`).
        kernel_constraint: Applied after each optimizer step (likewise
            `recurrent_constraint`, `bias_constraint`).
        dropout: Fraction of the inputs dropped in training, in `[0, 1)`.
        recurrent_dropout: Fraction of the state dropped in training.
        reset_after: Apply the reset gate after the recurrent matmul; True runs
            in torch's fused kernel, False needs the step loop.
        seed: Accepted for Keras compatibility.

    Call arguments:
        inputs: `(batch, features)`, one step.
        states: `[h]`, `(batch, units)`.
        training: Enables dropout.

    Output shape: `(h, [h])`, each `(batch, units)`.
    Weights:      `kernel (features, 3 * units)`,
        `recurrent_kernel (units, 3 * units)`, gates z, r, h; `bias (2, 3 * units)`
        (input and recurrent biases) with `reset_after`, else `(3 * units,)`.
        Keras layout in `get_weights`; stored in torch's order r, z, n.

    Example:
        >>> import torch
        >>> cell = GRUCell(4)
        >>> out, (h,) = cell(torch.ones(2, 3), [torch.zeros(2, 4)])
        >>> [w.shape for w in cell.get_weights()]
        [(3, 12), (4, 12), (2, 12)]
    """

    gates = 3
    _flags = ("reset_after",)

    def __init__(
        self,
        units: int,
        activation: ActivationLike = "tanh",
        recurrent_activation: ActivationLike = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: InitializerLike = "glorot_uniform",
        recurrent_initializer: InitializerLike = "orthogonal",
        bias_initializer: InitializerLike = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        reset_after: bool = True,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(forwarded(locals()))

    def _weight_layout(self) -> Layout:
        return _gate_layout(3, _GRU_ORDER)

    def _bias_shape_init(self) -> tuple[tuple[int, ...], Any, Layout | None]:
        shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        return shape, self.bias_initializer, _bias_layout(3, _GRU_ORDER)

    def _input_bias(self) -> Tensor | None:
        if self.bias is None or not self.reset_after:
            return self.bias
        return self.bias[0]

    def _recur(
        self, projected: Tensor, states: list[Tensor], training: bool
    ) -> tuple[Tensor, list[Tensor]]:
        h = states[0]
        masks = self._recurrent_masks(h, training)
        x_r, x_z, x_n = projected.chunk(3, dim=-1)  # torch's gate order
        gate = self.recurrent_activation
        if self.reset_after:
            rec = _linear_gates(h, self.recurrent_kernel, masks)
            if self.bias is not None:
                rec = rec + self.bias[1]
            h_r, h_z, h_n = rec.chunk(3, dim=-1)
            r, z = gate(x_r + h_r), gate(x_z + h_z)
            n = self.activation(x_n + r * h_n)
        else:
            u_r, u_z, u_n = self.recurrent_kernel.chunk(3, dim=0)
            m_r, m_z, m_n = (masks[0], masks[1], masks[2]) if masks else (1, 1, 1)
            r = gate(x_r + F.linear(h * m_r, u_r))
            z = gate(x_z + F.linear(h * m_z, u_z))
            n = self.activation(x_n + F.linear(r * (h * m_n), u_n))
        h = z * h + (1 - z) * n
        return h, [h]

    def _fused_kernel(self, training: bool) -> Callable[..., Any] | None:
        ok = (
            self.reset_after
            and self.activation in _TANH
            and self.recurrent_activation in _SIGMOID
        )
        return torch.gru if ok else None

    def _fused_params(self) -> list[Tensor]:
        if self.bias is None:
            return [self.kernel, self.recurrent_kernel]
        return [self.kernel, self.recurrent_kernel, self.bias[0], self.bias[1]]


def _as_list(sizes: Any) -> list[Any]:
    return list(sizes) if isinstance(sizes, list) else [sizes]


class StackedRNNCells(Layer):
    """Several cells run as one: at each step each cell feeds the next.

    `RNN([LSTMCell(8), LSTMCell(4)])` wraps its list of cells in this class.
    The states are the cells' states one after the other, as a flat list
    (Keras nests them per cell).

    Args:
        cells: A list of cells (each with `call(inputs, states)` and `state_size`).

    Call arguments:
        inputs: `(batch, features)`, one step.
        states: The cells' states, in order, flat.
        training: Passed to the cells that take it.

    Output shape: `(output of the last cell, new states)`.
    Weights:      The cells' weights, in order.

    Example:
        >>> import torch
        >>> from plait.layers import RNN
        >>> layer = RNN(StackedRNNCells([LSTMCell(8), GRUCell(4)]), return_state=True)
        >>> [tuple(t.shape) for t in layer(torch.ones(2, 5, 3))]
        [(2, 4), (2, 8), (2, 8), (2, 4)]
    """

    def __init__(self, cells: list[Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(cells, (list, tuple)) or not cells:
            raise TypeError(
                f"{self._where()}: expected a non-empty list of cells, got {cells!r}."
            )
        self.cells = [deserialize_layer(c, f"{self._where()}: cells") for c in cells]

    @property
    def state_size(self) -> list[Any]:
        """The cells' state sizes, flat."""
        return [s for cell in self.cells for s in _as_list(cell.state_size)]

    @property
    def output_size(self) -> Any:
        """The last cell's output size."""
        last = self.cells[-1]
        return getattr(last, "output_size", None) or _as_list(last.state_size)[0]

    def build(self, input_shape: Shape) -> None:
        """Build each cell on the previous cell's output."""
        shape = tuple(input_shape)
        for cell in self.cells:
            if not cell.built:
                cell._build_for(shape)
            size = getattr(cell, "output_size", None) or _as_list(cell.state_size)[0]
            size = tuple(size) if isinstance(size, (list, tuple)) else (size,)
            shape = (shape[0], *size)
        self.built = True

    def call(
        self, inputs: Tensor, states: Any, training: bool | None = None
    ) -> tuple[Tensor, list[Tensor]]:
        """Run the cells in order on one step."""
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        new: list[Tensor] = []
        for cell in self.cells:
            n = len(_as_list(cell.state_size))
            own, states = states[:n], states[n:]
            kwargs = {"training": training} if cell._call_flags()[0] else {}
            inputs, out = cell.call(inputs, own, **kwargs)
            new += list(out) if isinstance(out, (list, tuple)) else [out]
        return inputs, new

    def get_config(self) -> dict[str, Any]:
        """The cells as `{"class_name", "config"}` entries."""
        return {
            **super().get_config(),
            "cells": [serialize_layer(c) for c in self.cells],
        }
