"""Recurrent layers: SimpleRNN, LSTM, GRU (their cells over time).

Each layer is an `RNN` around its cell (`plait.layers.recurrent_cells`), built
from the layer's own arguments; the cell holds the weights.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plait.layers.base import Layer
from plait.layers.input_spec import InputSpec
from plait.layers.recurrent_cells import GRUCell, LSTMCell, SimpleRNNCell
from plait.layers.rnn import RNN
from plait.types import ActivationLike, InitializerLike, Shape

__all__ = ["GRU", "LSTM", "SimpleRNN"]


# The arguments of `RNN` (those a layer has) among a recurrent layer's.
_RNN_KEYS = (
    "return_sequences",
    "return_state",
    "go_backwards",
    "stateful",
    "unroll",
    "use_cudnn",
)


def _from_cell(name: str) -> Any:
    return property(lambda self: getattr(self.cell, name), doc=f"The cell's `{name}`.")


_CELL_BASE_KEYS = ("name", "trainable", "dtype", "batch_input_shape")


class _CellRNN(RNN):
    """An `RNN` whose cell is built from the layer's own arguments."""

    _cell_name = ""
    _takes_cudnn = True  # whether the layer has a `use_cudnn` argument

    def __init__(self, make_cell: Callable[..., Any], args: dict[str, Any]) -> None:
        """`args`: the subclass's `__init__` `locals()` (taken first thing); the
        RNN's arguments go to `RNN`, the others (but `activity_regularizer`) to
        `make_cell`."""
        kwargs = args["kwargs"]
        rnn = {k: args[k] for k in _RNN_KEYS if k in args}
        skip = {*_RNN_KEYS, "self", "kwargs", "__class__", "activity_regularizer"}
        cell = make_cell(
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name=self._cell_name,
            **{k: v for k, v in args.items() if k not in skip},
        )
        super().__init__(
            cell, activity_regularizer=args["activity_regularizer"], **rnn, **kwargs
        )
        self.input_spec = InputSpec(ndim=3, layout="(batch, timesteps, features)")

    def build(self, input_shape: Shape) -> None:
        """Build the cell for `(batch, timesteps, features)` inputs."""
        super().build(input_shape)
        axes = {-1: input_shape[-1]} if input_shape[-1] is not None else {}
        self.input_spec = InputSpec(
            ndim=3, axes=axes, layout="(batch, timesteps, features)"
        )

    units = _from_cell("units")
    activation = _from_cell("activation")
    use_bias = _from_cell("use_bias")
    kernel_initializer = _from_cell("kernel_initializer")
    recurrent_initializer = _from_cell("recurrent_initializer")
    bias_initializer = _from_cell("bias_initializer")
    kernel_regularizer = _from_cell("kernel_regularizer")
    recurrent_regularizer = _from_cell("recurrent_regularizer")
    bias_regularizer = _from_cell("bias_regularizer")
    kernel_constraint = _from_cell("kernel_constraint")
    recurrent_constraint = _from_cell("recurrent_constraint")
    bias_constraint = _from_cell("bias_constraint")
    dropout = _from_cell("dropout")
    recurrent_dropout = _from_cell("recurrent_dropout")

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments: the cell's, then the RNN's."""
        cell = {
            k: v for k, v in self.cell.get_config().items() if k not in _CELL_BASE_KEYS
        }
        config = {**Layer.get_config(self), **cell, **self._rnn_config()}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = self.activity_regularizer
        if self._takes_cudnn:
            config["use_cudnn"] = self.use_cudnn
        return config


class SimpleRNN(_CellRNN):
    """Fully connected RNN whose output is fed back: `SimpleRNNCell` over time.

    Runs in `torch.rnn_tanh` / `torch.rnn_relu` when it can (see `RNN`).

    Args:
        units: Size of the output and state.
        activation: Default `"tanh"`.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
            kernel_regularizer, recurrent_regularizer, bias_regularizer,
            kernel_constraint, recurrent_constraint, bias_constraint, dropout,
            recurrent_dropout, seed: As in `SimpleRNNCell`.
        activity_regularizer: Function of the output added to the losses.
        return_sequences, return_state, go_backwards, stateful, unroll: As in `RNN`.

    Call arguments:
        sequences: `(batch, timesteps, features)`.
        initial_state: List of initial states, each `(batch, units)`; zeros if None.
        mask: `(batch, timesteps)` bools (from `Embedding(mask_zero=True)` or
            `Masking`); masked steps keep the previous state and output.
        training: Enables dropout.

    Input shape:  `(batch, timesteps, features)`.
    Output shape: `(batch, units)`; `(batch, timesteps, units)` with
        `return_sequences`; with `return_state`, a list `[output, *states]`.
    Weights:      `kernel (features, units)`, `recurrent_kernel (units, units)`,
        `bias (units,)` (Keras layout in `get_weights`).

    Example:
        >>> import plait
        >>> SimpleRNN(4)(plait.Input(shape=(10, 8))).shape
        (None, 4)
    """

    _cell_name = "simple_rnn_cell"
    _takes_cudnn = False

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
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(SimpleRNNCell, dict(locals()))


class LSTM(_CellRNN):
    """Long short-term memory layer: `LSTMCell` over time (Hochreiter, 1997).

    Runs in `torch.lstm` (oneDNN on CPU, cuDNN on GPU) when it can: default
    activations, no recurrent dropout in training, `unroll=False`, and no mask or
    a right-padded one; an exact step loop otherwise (see `RNN`).

    Args:
        units: Size of the output and of each state.
        activation: Default `"tanh"`.
        recurrent_activation: Default `"sigmoid"`.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
            unit_forget_bias, kernel_regularizer, recurrent_regularizer,
            bias_regularizer, kernel_constraint, recurrent_constraint,
            bias_constraint, dropout, recurrent_dropout, seed: As in `LSTMCell`.
        activity_regularizer: Function of the output added to the losses.
        return_sequences, return_state, go_backwards, stateful, unroll: As in `RNN`.
        use_cudnn: `"auto"` uses torch's fused kernel when possible; False always
            runs the step loop; True raises if the kernel cannot be used.

    Call arguments:
        sequences: `(batch, timesteps, features)`.
        initial_state: List of initial states, each `(batch, units)`; zeros if None.
        mask: `(batch, timesteps)` bools (from `Embedding(mask_zero=True)` or
            `Masking`); masked steps keep the previous state and output.
        training: Enables dropout.

    Input shape:  `(batch, timesteps, features)`.
    Output shape: `(batch, units)`; `(batch, timesteps, units)` with
        `return_sequences`; with `return_state`, a list `[output, *states]`,
        the states being `[h, c]`.
    Weights:      `kernel (features, 4 * units)`,
        `recurrent_kernel (units, 4 * units)`, `bias (4 * units,)`; gates i, f, c, o.

    Example:
        >>> import plait
        >>> x = plait.layers.Embedding(1000, 64)(plait.Input(shape=(100,)))
        >>> LSTM(32)(x).shape
        (None, 32)
        >>> [t.shape for t in LSTM(8, return_sequences=True, return_state=True)(x)]
        [(None, 100, 8), (None, 8), (None, 8)]
    """

    _cell_name = "lstm_cell"

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
        unroll: bool = False,
        use_cudnn: Any = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(LSTMCell, dict(locals()))

    recurrent_activation = _from_cell("recurrent_activation")
    unit_forget_bias = _from_cell("unit_forget_bias")


class GRU(_CellRNN):
    """Gated recurrent unit layer: `GRUCell` over time (Cho et al., 2014).

    With `reset_after=True` (the default) runs in `torch.gru` when it can:
    default activations, no recurrent dropout in training, `unroll=False`, and no
    mask or a right-padded one; an exact step loop otherwise (see `RNN`).

    Args:
        units: Size of the output and state.
        activation: Default `"tanh"`.
        recurrent_activation: Default `"sigmoid"`.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
            kernel_regularizer, recurrent_regularizer, bias_regularizer,
            kernel_constraint, recurrent_constraint, bias_constraint, dropout,
            recurrent_dropout, seed, reset_after: As in `GRUCell`.
        activity_regularizer: Function of the output added to the losses.
        return_sequences, return_state, go_backwards, stateful, unroll: As in `RNN`.
        use_cudnn: As in `LSTM`.

    Call arguments:
        sequences: `(batch, timesteps, features)`.
        initial_state: List of initial states, each `(batch, units)`; zeros if None.
        mask: `(batch, timesteps)` bools (from `Embedding(mask_zero=True)` or
            `Masking`); masked steps keep the previous state and output.
        training: Enables dropout.

    Input shape:  `(batch, timesteps, features)`.
    Output shape: `(batch, units)`; `(batch, timesteps, units)` with
        `return_sequences`; with `return_state`, a list `[output, *states]`.
    Weights:      `kernel (features, 3 * units)`,
        `recurrent_kernel (units, 3 * units)`, `bias (2, 3 * units)`; gates z, r, h.

    Example:
        >>> import plait
        >>> GRU(4, return_sequences=True)(plait.Input(shape=(10, 8))).shape
        (None, 10, 4)
    """

    _cell_name = "gru_cell"

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
        unroll: bool = False,
        reset_after: bool = True,
        use_cudnn: Any = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(GRUCell, dict(locals()))

    recurrent_activation = _from_cell("recurrent_activation")
    reset_after = _from_cell("reset_after")
