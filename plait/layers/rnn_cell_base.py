"""`BaseRNNCell`: what the built-in recurrent cells share (dropout masks, the
input projection / recurrence split, and the hooks of torch's fused kernels)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from plait.layers.base import Layer
from plait.layers.layer_args import attrs_config

__all__ = ["BaseRNNCell"]

Tensor = torch.Tensor


class BaseRNNCell(Layer):
    """What the built-in cells share: state sizes, dropout masks, fused kernels.

    A cell computes one time step: `call(inputs, states, training=None)` returns
    `(output, new_states)`. Built-in cells split it in two so that `RNN` can
    project a whole sequence at once: `_project(x, training)` (the input matmul,
    any input shape with features last) and `_recur(projected, states, training)`.
    When `_fused_kernel(training)` names one of torch's fused RNN kernels,
    `RNN` runs the whole sequence in it with `_fused_params()`.

    Dropout follows Keras: one mask per sequence (the same at every step), drawn
    on the first step and forgotten when the `RNN` call ends; `dropout_gates`
    separate masks per gate when `recurrent_dropout` is used (Keras's
    `implementation=1`).

    Args:
        units: Size of the output and of each state; a positive int.
        dropout: Fraction of the inputs dropped in training, in `[0, 1)`.
        recurrent_dropout: Fraction of the recurrent state dropped, in `[0, 1)`.
        seed: Accepted for Keras compatibility; masks come from torch's generator.
    """

    dropout_gates = 1

    def __init__(
        self,
        units: int,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("implementation", None)  # Keras 2/3: only a speed hint
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(
                f"{self._where()}: expected `units` to be a positive int, "
                f"got units={units!r}."
            )
        for arg, rate in (
            ("dropout", dropout),
            ("recurrent_dropout", recurrent_dropout),
        ):
            if not isinstance(rate, (int, float)) or not 0 <= rate < 1:
                raise ValueError(
                    f"{self._where()}: expected `{arg}` in [0, 1), got {arg}={rate!r}."
                )
        self.units = units
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.seed = seed
        self.state_size: Any = units
        self.output_size: Any = units
        self._dropout_mask: Any = None
        self._recurrent_dropout_mask: Any = None

    # ------------------------------------------------------------------ dropout
    def _mask_count(self) -> int:
        return self.dropout_gates if self.recurrent_dropout > 0 else 1

    def _masks(self, like: Tensor, rate: float) -> Any:
        count = self._mask_count()
        ones = torch.ones_like(like)
        masks = [F.dropout(ones, rate, training=True) for _ in range(count)]
        return masks[0] if count == 1 else masks

    def get_dropout_mask(self, step_input: Tensor) -> Any:
        """The input dropout mask(s) of the current sequence, drawn once."""
        if self._dropout_mask is None and self.dropout > 0:
            self._dropout_mask = self._masks(step_input, self.dropout)
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, state: Tensor) -> Any:
        """The recurrent dropout mask(s) of the current sequence, drawn once."""
        if self._recurrent_dropout_mask is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = self._masks(state, self.recurrent_dropout)
        return self._recurrent_dropout_mask

    def reset_dropout_mask(self) -> None:
        """Forget the input dropout mask (the next sequence draws a new one)."""
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self) -> None:
        """Forget the recurrent dropout mask."""
        self._recurrent_dropout_mask = None

    def _forget_dropout_masks(self) -> None:
        # Cheap when there are none: torch's __setattr__ costs a few µs per call.
        if self._dropout_mask is not None:
            self.reset_dropout_mask()
        if self._recurrent_dropout_mask is not None:
            self.reset_recurrent_dropout_mask()

    def _input_masks(self, x: Tensor, training: bool) -> list[Tensor] | None:
        """Input masks to broadcast over `x` `(batch, ..., features)`, or None."""
        if not training or self.dropout == 0:
            return None
        step = x[:, 0] if x.dim() > 2 else x
        masks = self.get_dropout_mask(step)
        masks = masks if isinstance(masks, list) else [masks]
        if x.dim() > 2:
            masks = [m.unsqueeze(1) for m in masks]  # (batch, 1, features)
        return masks

    def _recurrent_masks(self, h: Tensor, training: bool) -> list[Tensor] | None:
        if not training or self.recurrent_dropout == 0:
            return None
        masks = self.get_recurrent_dropout_mask(h)
        return masks if isinstance(masks, list) else [masks]

    # ------------------------------------------------------------------ steps
    def _project(self, x: Tensor, training: bool) -> Tensor:
        raise NotImplementedError

    def _recur(
        self, projected: Tensor, states: list[Tensor], training: bool
    ) -> tuple[Tensor, list[Tensor]]:
        raise NotImplementedError

    def call(
        self, inputs: Tensor, states: Any, training: bool | None = None
    ) -> tuple[Tensor, list[Tensor]]:
        """One step: `(output, new_states)` for `inputs` `(batch, features)`."""
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        training = bool(training)
        return self._recur(self._project(inputs, training), states, training)

    def get_initial_state(self, batch_size: int | None = None) -> list[Tensor]:
        """Zero states `(batch_size, units)`, on the device of the weights."""
        sizes = (
            self.state_size if isinstance(self.state_size, list) else [self.state_size]
        )
        like = next(iter(self.parameters()), None)
        device = like.device if like is not None else None
        return [
            torch.zeros((batch_size or 1, s), dtype=self.compute_dtype, device=device)
            for s in sizes
        ]

    def _fused_kernel(self, training: bool) -> Callable[..., Any] | None:
        """The torch kernel computing this cell's recurrence exactly, or None."""
        return None

    def _fused_params(self) -> list[Tensor]:
        """`[w_ih, w_hh, b_ih, b_hh]` for the fused kernel (no biases: two)."""
        raise NotImplementedError

    def _fused_ok(self, training: bool) -> bool:
        # Recurrent dropout draws a different mask per gate; only the loop has it.
        return not (training and self.recurrent_dropout > 0)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        names = ("units", "dropout", "recurrent_dropout", "seed")
        return {**super().get_config(), **attrs_config(self, names)}
