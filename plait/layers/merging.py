"""Merge layers (Add, Concatenate, Dot, ...) and their function forms (add, concatenate)."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from plait.graph.symbolic import SymbolicTensor
from plait.layers.base import Layer
from plait.layers.input_spec import SYMBOLIC_INPUT
from plait.types import Shape
from plait.utils.shapes import format_shape

__all__ = [
    "Add",
    "Average",
    "Concatenate",
    "Dot",
    "Maximum",
    "Minimum",
    "Multiply",
    "Subtract",
    "add",
    "average",
    "concatenate",
    "dot",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
]


def _broadcast(where: str, shapes: list[Shape]) -> Shape:
    """Element-wise output shape of `shapes`, NumPy broadcasting, None for unknown."""
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    out: list[int | None] = []
    for dims in zip(*padded):
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(
                f"{where}: expected inputs with matching (or broadcastable) shapes, "
                f"got shapes {format_shape(list(shapes))}."
            )
        if known:
            out.append(known.pop())
        elif None in dims:
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


class _Merge(Layer):
    """Base of the element-wise merges: a list of tensors in, one tensor out."""

    _min_inputs = 1
    _max_inputs: int | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        items = args[0] if args else kwargs.get("inputs")
        if isinstance(items, (list, tuple)):
            self._check_items(items)
        return super().__call__(*args, **kwargs)

    def _check_items(self, items: list[Any] | tuple[Any, ...]) -> None:
        """Every item a SymbolicTensor (in a graph) or every item a tensor (eager)."""
        symbolic = any(isinstance(v, SymbolicTensor) for v in items)
        kinds = (SymbolicTensor,) if symbolic else (torch.Tensor, np.ndarray)
        bad = [
            f"{type(v).__name__} at position {i}"
            for i, v in enumerate(items)
            if not isinstance(v, kinds)
        ]
        if bad:
            want = SYMBOLIC_INPUT if symbolic else "a tensor or NumPy array"
            raise TypeError(
                f"{self._where()}: expected a list of input tensors, each {want}, "
                f"got {', '.join(bad)}."
            )

    def _check_list(self, input_shape: Any) -> list[Shape]:
        if not isinstance(input_shape, (list, tuple)) or not all(
            isinstance(s, tuple) for s in input_shape
        ):
            raise ValueError(
                f"{self._where()}: expected a list of input tensors, got a single "
                f"input of shape {format_shape(input_shape)}."
            )
        n = len(input_shape)
        if n < self._min_inputs or (
            self._max_inputs is not None and n > self._max_inputs
        ):
            want = (
                f"exactly {self._min_inputs}"
                if self._max_inputs == self._min_inputs
                else f"at least {self._min_inputs}"
            )
            raise ValueError(
                f"{self._where()}: expected {want} input tensors, got {n} "
                f"(shapes {format_shape(list(input_shape))})."
            )
        return list(input_shape)

    def build(self, input_shape: Any) -> None:
        """Check the input list and its shapes."""
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Shape:
        """The broadcast shape of the inputs."""
        return _broadcast(self._where(), self._check_list(input_shape))

    # The element-wise merges fold the inputs with one binary function.
    _fold: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

    def _merge(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return functools.reduce(self._fold, inputs)

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        """Merge the list of inputs."""
        return self._merge(list(inputs))

    def compute_mask(self, inputs: Any, mask: Any = None) -> torch.Tensor | None:
        """Logical AND of the masks that are given; None if none is."""
        if mask is None:
            return None
        masks = [m for m in mask if m is not None]
        if not masks:
            return None
        return functools.reduce(operator.and_, masks)


class Add(_Merge):
    """Element-wise sum of a list of tensors.

    Example:
        >>> import plait
        >>> a, b = plait.Input(shape=(4,)), plait.Input(shape=(4,))
        >>> Add()([a, b]).shape
        (None, 4)
    """

    _fold = staticmethod(operator.add)


class Subtract(_Merge):
    """`inputs[0] - inputs[1]` (exactly two inputs).

    Example:
        >>> import plait
        >>> a, b = plait.Input(shape=(4,)), plait.Input(shape=(4,))
        >>> Subtract()([a, b]).shape
        (None, 4)
    """

    _min_inputs = 2
    _max_inputs = 2

    def _merge(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """Element-wise product of a list of tensors.

    Example:
        >>> import torch
        >>> Multiply()([torch.tensor([2.0]), torch.tensor([3.0])]).tolist()
        [6.0]
    """

    _fold = staticmethod(operator.mul)


class Average(_Merge):
    """Element-wise mean of a list of tensors.

    Example:
        >>> import torch
        >>> Average()([torch.tensor([2.0]), torch.tensor([4.0])]).tolist()
        [3.0]
    """

    def _merge(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return functools.reduce(operator.add, inputs) / len(inputs)


class Maximum(_Merge):
    """Element-wise maximum of a list of tensors.

    Example:
        >>> import torch
        >>> Maximum()([torch.tensor([2.0]), torch.tensor([4.0])]).tolist()
        [4.0]
    """

    _fold = staticmethod(torch.maximum)


class Minimum(_Merge):
    """Element-wise minimum of a list of tensors.

    Example:
        >>> import torch
        >>> Minimum()([torch.tensor([2.0]), torch.tensor([4.0])]).tolist()
        [2.0]
    """

    _fold = staticmethod(torch.minimum)


class Concatenate(_Merge):
    """Concatenates a list of tensors along `axis`.

    Args:
        axis: Axis to join along; -1 (the features) by default. Other axes must
            match.

    Example:
        >>> import plait
        >>> a, b = plait.Input(shape=(32,)), plait.Input(shape=(5,))
        >>> Concatenate()([a, b]).shape
        (None, 37)
    """

    _keeps_input_dtype = True

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def compute_output_shape(self, input_shape: Any) -> Shape:
        """Input shape with the `axis` sizes summed."""
        shapes = self._check_list(input_shape)
        rank = len(shapes[0])
        axis = self.axis % rank if -rank <= self.axis < rank else None
        if axis is None or any(len(s) != rank for s in shapes) or axis == 0:
            raise ValueError(
                f"{self._where()}: expected inputs of equal rank with a non-batch axis "
                f"{self.axis}, got shapes {format_shape(shapes)}."
            )
        out = list(shapes[0])
        for s in shapes[1:]:
            for i, (a, b) in enumerate(zip(out, s)):
                if i == axis:
                    continue
                if a is not None and b is not None and a != b:
                    raise ValueError(
                        f"{self._where()}: expected inputs with matching shapes except "
                        f"for the concatenation axis {self.axis}, got shapes "
                        f"{format_shape(shapes)}."
                    )
                out[i] = a if a is not None else b
        sizes = [s[axis] for s in shapes]
        out[axis] = None if None in sizes else sum(sizes)  # type: ignore[arg-type]
        return tuple(out)

    def _merge(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(inputs, dim=self.axis)

    def compute_mask(self, inputs: Any, mask: Any = None) -> torch.Tensor | None:
        """Masks joined like the tensors (missing ones all True), any over features."""
        if mask is None or all(m is None for m in mask):
            return None
        full = []
        for x, m in zip(inputs, mask):
            if m is None:
                m = torch.ones_like(x, dtype=torch.bool)
            elif m.dim() < x.dim():
                m = m.unsqueeze(-1).expand_as(x)
            full.append(m)
        return torch.cat(full, dim=self.axis).any(dim=-1)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {**super().get_config(), "axis": self.axis}


class Dot(_Merge):
    """Dot product of two tensors along `axes`, per sample.

    Args:
        axes: One int for both inputs or a pair; axes counted with the batch at 0.
        normalize: L2-normalize along the axes first (gives cosine similarity).

    Example:
        >>> import plait
        >>> a, b = plait.Input(shape=(10, 8)), plait.Input(shape=(12, 8))
        >>> Dot(axes=2)([a, b]).shape
        (None, 10, 12)
    """

    _min_inputs = 2
    _max_inputs = 2

    def __init__(
        self,
        axes: int | tuple[int, int] | list[int],
        normalize: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(axes, int):
            axes = (axes, axes)
        if not isinstance(axes, (list, tuple)) or len(axes) != 2:
            raise ValueError(
                f"{self._where()}: expected `axes` to be an int or a pair of ints, "
                f"got axes={axes!r}."
            )
        self.axes = (int(axes[0]), int(axes[1]))
        self.normalize = bool(normalize)
        self.supports_masking = False

    def _resolved(self, shapes: list[Shape]) -> tuple[int, int]:
        return (self.axes[0] % len(shapes[0]), self.axes[1] % len(shapes[1]))

    def compute_output_shape(self, input_shape: Any) -> Shape:
        """Shapes without the batch and the contracted axes, joined."""
        shapes = self._check_list(input_shape)
        ax, ay = self._resolved(shapes)
        a, b = shapes[0][ax], shapes[1][ay]
        if a is not None and b is not None and a != b:
            raise ValueError(
                f"{self._where()}: expected equal sizes on axes {self.axes}, got "
                f"shapes {format_shape(shapes)}."
            )
        rest = [d for i, d in enumerate(shapes[0]) if i not in (0, ax)]
        rest += [d for i, d in enumerate(shapes[1]) if i not in (0, ay)]
        return (shapes[0][0], *(rest or [1]))

    def _merge(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        x, y = inputs
        ax, ay = self._resolved([tuple(x.shape), tuple(y.shape)])
        if self.normalize:
            x, y = F.normalize(x, dim=ax), F.normalize(y, dim=ay)
        b, k = x.shape[0], x.shape[ax]
        x_rest = [d for i, d in enumerate(x.shape) if i not in (0, ax)]
        y_rest = [d for i, d in enumerate(y.shape) if i not in (0, ay)]
        xm = x.movedim(ax, -1).reshape(b, -1, k)  # (batch, rest_x, k)
        ym = y.movedim(ay, 1).reshape(b, k, -1)  # (batch, k, rest_y)
        out = torch.bmm(xm, ym)  # (batch, rest_x, rest_y)
        return out.reshape(b, *(x_rest + y_rest or [1]))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "axes": list(self.axes),
            "normalize": self.normalize,
        }


def add(inputs: list[Any], **kwargs: Any) -> Any:
    """Function form of `Add`: `add([x, y])`."""
    return Add(**kwargs)(inputs)


def subtract(inputs: list[Any], **kwargs: Any) -> Any:
    """Function form of `Subtract`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs: list[Any], **kwargs: Any) -> Any:
    """Function form of `Multiply`."""
    return Multiply(**kwargs)(inputs)


def average(inputs: list[Any], **kwargs: Any) -> Any:
    """Function form of `Average`."""
    return Average(**kwargs)(inputs)


def maximum(inputs: list[Any], **kwargs: Any) -> Any:
    """Function form of `Maximum`."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list[Any], **kwargs: Any) -> Any:
    """Function form of `Minimum`."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: list[Any], axis: int = -1, **kwargs: Any) -> Any:
    """Function form of `Concatenate`: `concatenate([x, y], axis=-1)`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: list[Any], axes: Any, normalize: bool = False, **kwargs: Any) -> Any:
    """Function form of `Dot`."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
