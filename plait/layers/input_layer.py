"""`Input()` and `InputLayer`: where a functional graph starts."""

from __future__ import annotations

from typing import Any

import torch

from plait.graph.node import Node
from plait.graph.symbolic import History, SymbolicTensor
from plait.layers.base import Layer
from plait.types import DTypeLike, Shape
from plait.utils.shapes import dtype_name, standardize_dtype, standardize_shape

__all__ = ["Input", "InputLayer"]


class InputLayer(Layer):
    """The layer behind `Input()`: it has no weights and outputs its input.

    Args:
        shape: Shape of one sample, batch left out, e.g. `(784,)`.
        batch_size: Fixed batch size, or None.
        dtype: Dtype of the input; `"float32"` by default, `"string"` for raw
            strings (NumPy arrays of `str`, see plait/utils/strings.py).
        batch_shape: Full shape including the batch (instead of `shape`).
        input_tensor: A symbolic tensor whose shape and dtype to copy.
        name: Layer name; also the model's input name.

    Output shape: `(batch_size, *shape)`.

    Example:
        >>> InputLayer(shape=(3,)).output.shape
        (None, 3)
    """

    _is_input_layer = True
    _keeps_input_dtype = True

    def __init__(
        self,
        shape: Any = None,
        batch_size: int | None = None,
        dtype: DTypeLike = None,
        sparse: bool | None = None,
        batch_shape: Any = None,
        input_tensor: Any = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if "input_shape" in kwargs and shape is None:  # Keras 2 spelling
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs and batch_shape is None:
            batch_shape = kwargs.pop("batch_input_shape")
        kwargs.pop("optional", None)
        kwargs.pop("ragged", None)
        super().__init__(name=name, **kwargs)
        if sparse:
            raise ValueError(f"{self._where()}: sparse inputs are not supported.")
        if input_tensor is not None:
            if not hasattr(input_tensor, "shape") or not hasattr(input_tensor, "dtype"):
                raise TypeError(
                    f"{self._where()}: expected `tensor` to be a tensor, got "
                    f"{type(input_tensor).__name__}."
                )
            if isinstance(input_tensor, SymbolicTensor):
                batch_shape = input_tensor.shape
            else:
                batch_shape = (None, *tuple(input_tensor.shape)[1:])
            dtype = dtype or input_tensor.dtype
        if shape is not None and batch_shape is not None:
            raise ValueError(
                f"{self._where()}: give `shape` or `batch_shape`, not both "
                f"(got shape={shape!r}, batch_shape={batch_shape!r})."
            )
        if batch_shape is not None:
            full: Shape = standardize_shape(batch_shape, self._where())
        elif shape is not None:
            full = (batch_size, *standardize_shape(shape, self._where()))
        else:
            raise ValueError(
                f"{self._where()}: expected a `shape` such as (784,) or a `batch_shape`, "
                "got neither."
            )
        self.batch_shape = full
        self._input_dtype = standardize_dtype(dtype)
        self.built = True
        tensor = SymbolicTensor(full, self._input_dtype, self.name, History(self, 0, 0))
        Node(self, (), {}, tensor)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """Identity."""
        return inputs

    def get_config(self) -> dict[str, Any]:
        """`batch_shape`, `dtype` and `name`."""
        return {
            "batch_shape": list(self.batch_shape),
            "dtype": dtype_name(self._input_dtype),
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> InputLayer:
        """Recreate from `get_config()`."""
        config = dict(config)
        config.pop("trainable", None)
        config.pop("sparse", None)
        return cls(**config)


def Input(
    shape: Any = None,
    batch_size: int | None = None,
    name: str | None = None,
    dtype: DTypeLike = None,
    sparse: bool | None = None,
    tensor: Any = None,
    batch_shape: Any = None,
    **kwargs: Any,
) -> SymbolicTensor:
    """A symbolic input: the start of a functional model.

    Args:
        shape: Shape of one sample, batch left out: `Input(shape=(784,))`.
        batch_size: Fixed batch size, or None (any).
        name: Name of the input; `fit`/`predict` accept dicts keyed by it.
        dtype: `"float32"` (default), `"int32"` for token ids, `"string"` for raw
            text that a `TextVectorization` or `StringLookup` layer turns into
            numbers, ...
        sparse: Not supported; must be None or False.
        tensor: A tensor whose shape and dtype the input copies.
        batch_shape: Full shape including the batch, instead of `shape`.

    Returns:
        A `SymbolicTensor` of shape `(batch_size, *shape)`.

    Example:
        >>> x = Input(shape=(100,), dtype="int32", name="main_input")
        >>> x.shape, x.dtype, x.name
        ((None, 100), torch.int32, 'main_input')
    """
    layer = InputLayer(
        shape=shape,
        batch_size=batch_size,
        dtype=dtype,
        sparse=sparse,
        batch_shape=batch_shape,
        input_tensor=tensor,
        name=name,
        **kwargs,
    )
    out: SymbolicTensor = layer._inbound_nodes[0].outputs
    return out
