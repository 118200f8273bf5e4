"""Regularization layers: Dropout (the rest of the family comes with the catalogue)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from plait.layers.base import Layer
from plait.types import Shape

__all__ = ["Dropout"]


class Dropout(Layer):
    """Zeroes a fraction `rate` of the inputs in training and scales the rest up.

    Only active when called with `training=True` (as `fit` does) or when the
    module is in training mode (`model.train()`); identity otherwise.

    Args:
        rate: Fraction of the inputs to drop, in `[0, 1)`.
        noise_shape: Shape of the drop mask, broadcast to the input; `None`
            entries take the input's size (e.g. `(None, 1, None)` drops the same
            features at every time step).
        seed: Accepted for Keras compatibility; torch's generator is global
            (seed it with `plait.utils.set_random_seed`).

    Example:
        >>> import torch
        >>> Dropout(0.5)(torch.ones(2, 2)).tolist()
        [[1.0, 1.0], [1.0, 1.0]]
    """

    _keeps_input_dtype = True

    def __init__(
        self,
        rate: float,
        noise_shape: Any = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(
                f"{self._where()}: expected `rate` in [0, 1), got rate={rate!r}."
            )
        self.rate = float(rate)
        self.noise_shape = tuple(noise_shape) if noise_shape is not None else None
        self.seed = seed
        self.supports_masking = True

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        """Drop at random when training."""
        if not training or self.rate == 0.0:
            return inputs
        if self.noise_shape is None:
            return F.dropout(inputs, self.rate, training=True)
        shape = [s if n is None else n for n, s in zip(self.noise_shape, inputs.shape)]
        keep = torch.empty(shape, device=inputs.device, dtype=inputs.dtype)
        keep.bernoulli_(1.0 - self.rate)
        return inputs * keep / (1.0 - self.rate)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Unchanged."""
        return input_shape

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config: dict[str, Any] = {**super().get_config(), "rate": self.rate}
        if self.noise_shape is not None:
            config["noise_shape"] = list(self.noise_shape)
        if self.seed is not None:
            config["seed"] = self.seed
        return config
