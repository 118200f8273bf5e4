"""Keras 2's `CuDNNLSTM` and `CuDNNGRU`, with Keras 2's arguments and weight layouts.

Keras 2 (2.0 to 2.3) offered these GPU-only layers; Keras 3 removed them, and
files saved with them no longer load there. plait keeps them so those files
load, and runs them anywhere: a `CuDNNLSTM` is an `LSTM` with cuDNN's fixed
choices (tanh, sigmoid gates, biases, no dropout), a `CuDNNGRU` a
`GRU(reset_after=True)`, both on torch's fused kernels when they can.

What differs is how Keras 2 kept their weights, which `get_weights` and
`set_weights` (and so Keras 2 files) speak:

- the input kernel of each gate, `(features, units)`, holds cuDNN's
  `(units, features)` matrix in row-major order: the gate's matrix is the
  kernel reshaped to `(units, features)`, not its transpose;
- the recurrent kernel of each gate is cuDNN's `(units, units)` matrix as it is,
  the transpose of Keras's `LSTM` recurrent kernel;
- the bias holds the input biases of every gate, then the recurrent biases
  (`(8 * units,)` for the LSTM, `(6 * units,)` for the GRU); the LSTM keeps
  both as Keras 2 did (torch's `lstm` takes them as `b_ih` and `b_hh`).

Gates are in Keras's order: i, f, c, o and z, r, h.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from plait.layers.recurrent import GRU, LSTM, _CellRNN
from plait.layers.recurrent_cells import LSTMCell

__all__ = ["CuDNNGRU", "CuDNNLSTM"]

# Constructor arguments of the plain layers that cuDNN fixes.
_FIXED = (
    "activation",
    "recurrent_activation",
    "use_bias",
    "dropout",
    "recurrent_dropout",
    "seed",
    "unroll",
    "use_cudnn",
    "reset_after",
    "zero_output_for_mask",
)


def _gates(kernel: np.ndarray, n: int, fn: Any) -> np.ndarray:
    """`fn` applied to each gate's block of columns, blocks kept in order."""
    return np.concatenate([fn(k) for k in np.split(kernel, n, axis=1)], axis=1)


def _from_cudnn(weights: list[np.ndarray], n: int) -> list[np.ndarray]:
    """Keras 2 cuDNN kernels as the plain layer's (bias left to the caller)."""
    kernel, recurrent, bias = (np.asarray(w) for w in weights)
    # The file's block is the row-major memory of cuDNN's (units, features).
    kernel = _gates(kernel, n, lambda k: np.reshape(k, k.shape[::-1]).T)
    return [kernel, _gates(recurrent, n, lambda k: k.T), bias]


def _to_cudnn(weights: list[np.ndarray], n: int) -> list[np.ndarray]:
    kernel, recurrent, bias = weights
    kernel = _gates(kernel, n, lambda k: np.reshape(k.T, k.shape))
    return [kernel, _gates(recurrent, n, lambda k: k.T), bias]


class _CuDNN:
    """What both cuDNN layers share: Keras 2's config and weight layout."""

    _gate_count: int

    def get_config(self) -> dict[str, Any]:
        """Keras 2's constructor arguments (the fixed cuDNN choices left out)."""
        config = super().get_config()  # type: ignore[misc]
        return {k: v for k, v in config.items() if k not in _FIXED}

    def _plain_bias(self, bias: np.ndarray) -> np.ndarray:
        return bias  # the LSTM's: both biases, as in the file

    def _cudnn_bias(self, bias: np.ndarray) -> np.ndarray:
        return bias

    def get_weights(self) -> list[np.ndarray]:
        """`[kernel, recurrent_kernel, bias]` in Keras 2's cuDNN layout."""
        plain = super().get_weights()  # type: ignore[misc]
        out = _to_cudnn(plain, self._gate_count)
        out[2] = self._cudnn_bias(plain[2])
        return out

    def set_weights(self, weights: list[Any]) -> None:
        """Set from `[kernel, recurrent_kernel, bias]` in Keras 2's cuDNN layout."""
        mine = self.get_weights()
        name = type(self).__name__
        got = [tuple(np.shape(w)) for w in weights]
        want = [tuple(w.shape) for w in mine]
        if got != want:
            raise ValueError(
                f"{name} layer {self.name!r}: expected weights of shapes {want} "  # type: ignore[attr-defined]
                f"(Keras 2's cuDNN layout), got {got}."
            )
        plain = _from_cudnn(list(weights), self._gate_count)
        plain[2] = self._plain_bias(plain[2])
        super().set_weights(plain)  # type: ignore[misc]


class _CuDNNLSTMCell(LSTMCell):
    """An `LSTMCell` with cuDNN's two biases, `(8 * units,)`: input, recurrent."""

    def _bias_shape_init(self) -> tuple[tuple[int, ...], Any, None]:
        init, units = self.bias_initializer, self.units
        forget = self.unit_forget_bias

        def both(shape: Any, dtype: torch.dtype | None = None) -> torch.Tensor:
            if not forget:
                return init((8 * units,), dtype)  # type: ignore[no-any-return]
            # Keras 2 put the forget gate's ones in the recurrent bias.
            ones = torch.ones(units, dtype=dtype)
            return torch.cat(
                [init((5 * units,), dtype), ones, init((2 * units,), dtype)]
            )

        return (8 * units,), both, None

    def _input_bias(self) -> torch.Tensor | None:
        if self.bias is None:
            return None
        half = 4 * self.units  # the recurrent bias adds to the input one
        return self.bias[:half] + self.bias[half:]

    def _fused_params(self) -> list[torch.Tensor]:
        bias, half = self.bias, 4 * self.units
        if bias is None:
            return super()._fused_params()
        return [self.kernel, self.recurrent_kernel, bias[:half], bias[half:]]


class CuDNNLSTM(_CuDNN, LSTM):
    """Keras 2's cuDNN LSTM: `LSTM` with tanh, sigmoid gates and biases.

    Args:
        units: Size of the output and of each state.
        kernel_initializer, recurrent_initializer, bias_initializer,
            unit_forget_bias, kernel_regularizer, recurrent_regularizer,
            bias_regularizer, activity_regularizer, kernel_constraint,
            recurrent_constraint, bias_constraint: As in `LSTM`.
        return_sequences, return_state, go_backwards, stateful: As in `RNN`.

    Weights: `kernel (features, 4 * units)`, `recurrent_kernel (units, 4 *
    units)`, `bias (8 * units,)`, in Keras 2's cuDNN layout (see the module).

    Example:
        >>> import plait
        >>> CuDNNLSTM(4)(plait.Input(shape=(10, 8))).shape
        (None, 4)
    """

    _gate_count = 4

    def __init__(
        self,
        units: int,
        kernel_initializer: Any = "glorot_uniform",
        unit_forget_bias: bool = True,
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        **kwargs: Any,
    ) -> None:
        args = dict(locals())
        fixed = {
            "activation": "tanh",
            "recurrent_activation": "sigmoid",
            "use_bias": True,
            "dropout": 0.0,
            "recurrent_dropout": 0.0,
            "seed": None,
            "unroll": False,
            "use_cudnn": "auto",
        }
        _CellRNN.__init__(self, _CuDNNLSTMCell, {**args, **fixed})


class CuDNNGRU(_CuDNN, GRU):
    """Keras 2's cuDNN GRU: `GRU(reset_after=True)` with tanh and sigmoid gates.

    Args:
        units: Size of the output and state.
        kernel_initializer, recurrent_initializer, bias_initializer,
            kernel_regularizer, recurrent_regularizer, bias_regularizer,
            activity_regularizer, kernel_constraint, recurrent_constraint,
            bias_constraint: As in `GRU`.
        return_sequences, return_state, go_backwards, stateful: As in `RNN`.

    Weights: `kernel (features, 3 * units)`, `recurrent_kernel (units, 3 *
    units)`, `bias (6 * units,)` (input biases, then recurrent ones), in Keras
    2's cuDNN layout (see the module).

    Example:
        >>> import plait
        >>> CuDNNGRU(4, return_sequences=True)(plait.Input(shape=(10, 8))).shape
        (None, 10, 4)
    """

    _gate_count = 3

    def __init__(
        self,
        units: int,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        **kwargs: Any,
    ) -> None:
        args = {k: v for k, v in locals().items() if k not in ("self", "kwargs")}
        args.pop("__class__", None)
        super().__init__(**args, reset_after=True, **kwargs)

    def _plain_bias(self, bias: np.ndarray) -> np.ndarray:
        return np.reshape(bias, (2, -1))

    def _cudnn_bias(self, bias: np.ndarray) -> np.ndarray:
        return np.reshape(bias, (-1,))
