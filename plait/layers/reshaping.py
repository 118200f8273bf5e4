"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector."""

from __future__ import annotations

import math
from typing import Any

import torch

from plait.layers.base import Layer
from plait.layers.input_spec import InputSpec
from plait.types import Shape
from plait.utils.settings import image_data_format

__all__ = ["Flatten", "Permute", "RepeatVector", "Reshape"]


class Flatten(Layer):
    """Flattens every axis but the batch: `(batch, ...)` -> `(batch, prod(...))`.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`; with
            channels-first inputs the channels are moved last first, so the
            order of features matches Keras.

    Example:
        >>> import plait
        >>> Flatten()(plait.Input(shape=(3, 4, 2))).shape
        (None, 24)
    """

    _keeps_input_dtype = True

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(
                f"{self._where()}: expected data_format in ('channels_last', "
                f"'channels_first'), got data_format={data_format!r}."
            )
        self.data_format = data_format or image_data_format()
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """Flatten all but the first axis."""
        if self.data_format == "channels_first" and inputs.dim() > 2:
            inputs = inputs.movedim(1, -1)  # (batch, ..., channels)
        return inputs.reshape(inputs.shape[0], -1)  # (batch, features)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """`(batch, prod(rest))`, None if any axis is unknown."""
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else math.prod(rest)  # type: ignore[arg-type]
        return (input_shape[0], size)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes each sample to `target_shape` (batch left out; one `-1` allowed).

    Args:
        target_shape: Tuple of ints; one may be -1 to infer it.

    Example:
        >>> import plait
        >>> Reshape((4, -1))(plait.Input(shape=(12,))).shape
        (None, 4, 3)
    """

    _keeps_input_dtype = True

    def __init__(self, target_shape: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        target = (
            tuple(target_shape) if isinstance(target_shape, (list, tuple)) else None
        )
        if (
            target is None
            or any(not isinstance(d, int) or (d < 1 and d != -1) for d in target)
            or target.count(-1) > 1
        ):
            raise ValueError(
                f"{self._where()}: expected `target_shape` to be a tuple of positive "
                f"ints with at most one -1, got target_shape={target_shape!r}."
            )
        self.target_shape = target

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """Reshape each sample."""
        return inputs.reshape(inputs.shape[0], *self.target_shape)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """`(batch, *target_shape)` with the -1 resolved when sizes are known."""
        rest = input_shape[1:]
        if -1 not in self.target_shape:
            if None not in rest and math.prod(rest) != math.prod(self.target_shape):  # type: ignore[arg-type]
                raise ValueError(
                    f"{self._where()}: expected an input with "
                    f"{math.prod(self.target_shape)} values per sample to reshape to "
                    f"{self.target_shape}, got shape {input_shape}."
                )
            return (input_shape[0], *self.target_shape)
        if None in rest:
            return (
                input_shape[0],
                *(None if d == -1 else d for d in self.target_shape),
            )
        known = -math.prod(self.target_shape)
        total = math.prod(rest)  # type: ignore[arg-type]
        if total % known:
            raise ValueError(
                f"{self._where()}: cannot reshape {total} values per sample to "
                f"{self.target_shape}, got shape {input_shape}."
            )
        return (
            input_shape[0],
            *(total // known if d == -1 else d for d in self.target_shape),
        )

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """Permutes the non-batch axes; `dims` counts from 1, as in Keras.

    Args:
        dims: A permutation of `1..ndim-1`, e.g. `(2, 1)` swaps the two axes.

    Example:
        >>> import plait
        >>> Permute((2, 1))(plait.Input(shape=(10, 64))).shape
        (None, 64, 10)
    """

    _keeps_input_dtype = True

    def __init__(self, dims: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        dims = tuple(dims) if isinstance(dims, (list, tuple)) else None
        if dims is None or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                f"{self._where()}: expected `dims` to be a permutation of 1..n, "
                f"got dims={dims!r}."
            )
        self.dims = dims
        self.input_spec = InputSpec(ndim=len(dims) + 1)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """Permute the axes."""
        return inputs.permute(0, *self.dims)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The permuted shape."""
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {**super().get_config(), "dims": list(self.dims)}


class RepeatVector(Layer):
    """Repeats a vector `n` times: `(batch, features)` -> `(batch, n, features)`.

    Args:
        n: Number of repetitions.

    Example:
        >>> import plait
        >>> RepeatVector(3)(plait.Input(shape=(32,))).shape
        (None, 3, 32)
    """

    _keeps_input_dtype = True

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            raise ValueError(
                f"{self._where()}: expected `n` to be a positive int, got n={n!r}."
            )
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """Repeat along a new axis 1."""
        return inputs.unsqueeze(1).expand(-1, self.n, -1)  # (batch, n, features)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """`(batch, n, features)`."""
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {**super().get_config(), "n": self.n}
