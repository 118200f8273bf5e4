"""`SymbolicTensor`: a placeholder with a shape, a dtype and the history that made it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

import torch

from plait.types import Shape
from plait.utils.shapes import dtype_name, format_shape

if TYPE_CHECKING:
    from plait.graph.node import Node

__all__ = ["History", "SymbolicTensor", "is_symbolic"]

_NOT_A_VALUE = (
    "{name} is a symbolic tensor of shape {shape}: a placeholder used to build a "
    "model with layers, it holds no value. {what} Build the model with "
    "plait.Model(inputs, outputs), then call the model on real data "
    "(model(x) or model.predict(x))."
)


class History(NamedTuple):
    """Where a symbolic tensor comes from: `layer`'s call `node_index`, output `tensor_index`."""

    layer: Any
    node_index: int
    tensor_index: int


class SymbolicTensor:
    """A tensor of the graph under construction: shape, dtype, name and history.

    Symbolic tensors come from `plait.Input()` and from calling layers on other
    symbolic tensors. They hold no data; Python operators (`+ - * / @ **`, unary
    `-`, indexing) on them add graph nodes, so `x + y` works in a functional model.

    Attributes:
        shape: Tuple with `None` for dimensions unknown until run time (the batch).
        dtype: The torch dtype of the values it stands for.
        name: A readable name (its producing layer's name, with an index if needed).
        ndim: `len(shape)`.

    Example:
        >>> import plait
        >>> x = plait.Input(shape=(784,))
        >>> x.shape, x.ndim
        ((None, 784), 2)
    """

    __slots__ = ("__weakref__", "_history", "_mask", "dtype", "name", "shape")

    def __init__(
        self,
        shape: Shape,
        dtype: torch.dtype,
        name: str,
        history: History | None = None,
    ) -> None:
        self.shape: Shape = tuple(shape)
        self.dtype = dtype
        self.name = name
        self._history = history
        self._mask: SymbolicTensor | None = None

    @property
    def _keras_mask(self) -> SymbolicTensor | None:
        """Keras's name of the mask this tensor carries (None: no mask)."""
        return self._mask

    @property
    def ndim(self) -> int:
        """Number of dimensions, the batch included."""
        return len(self.shape)

    @property
    def node(self) -> Node | None:
        """The node (layer call) that produced this tensor."""
        if self._history is None:
            return None
        node: Node = self._history.layer._inbound_nodes[self._history.node_index]
        return node

    def __repr__(self) -> str:
        return (
            f"<SymbolicTensor shape={format_shape(self.shape)}, "
            f"dtype={dtype_name(self.dtype)}, name={self.name}>"
        )

    # Using a symbolic tensor as a value is a mistake; say so clearly.
    def _no_value(self, what: str) -> NoReturn:
        raise TypeError(
            _NOT_A_VALUE.format(
                name=self.name, shape=format_shape(self.shape), what=what
            )
        )

    def __bool__(self) -> bool:
        self._no_value("It has no truth value (an `if` or `and` on it).")

    def __float__(self) -> float:
        self._no_value("It cannot be converted to a float.")

    def __int__(self) -> int:
        self._no_value("It cannot be converted to an int.")

    def __index__(self) -> int:
        self._no_value("It cannot be used as an index.")

    def __len__(self) -> int:
        self._no_value("It has no length; use .shape.")

    def __iter__(self) -> NoReturn:
        self._no_value("It cannot be iterated over.")

    def __array__(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._no_value("It cannot be converted to a NumPy array.")

    def numpy(self) -> NoReturn:
        """Raise: a symbolic tensor has no value."""
        self._no_value("It cannot be converted to a NumPy array.")

    # Operators build graph nodes through plait.layers.ops (imported lazily: the
    # graph package must not import layers at module load).
    def _op(
        self, name: str, other: Any = None, reverse: bool = False
    ) -> SymbolicTensor:
        from plait.layers.ops import apply_operator

        return apply_operator(name, self, other, reverse)

    def __add__(self, other: Any) -> SymbolicTensor:
        return self._op("add", other)

    def __radd__(self, other: Any) -> SymbolicTensor:
        return self._op("add", other, reverse=True)

    def __sub__(self, other: Any) -> SymbolicTensor:
        return self._op("subtract", other)

    def __rsub__(self, other: Any) -> SymbolicTensor:
        return self._op("subtract", other, reverse=True)

    def __mul__(self, other: Any) -> SymbolicTensor:
        return self._op("multiply", other)

    def __rmul__(self, other: Any) -> SymbolicTensor:
        return self._op("multiply", other, reverse=True)

    def __truediv__(self, other: Any) -> SymbolicTensor:
        return self._op("divide", other)

    def __rtruediv__(self, other: Any) -> SymbolicTensor:
        return self._op("divide", other, reverse=True)

    def __pow__(self, other: Any) -> SymbolicTensor:
        return self._op("power", other)

    def __rpow__(self, other: Any) -> SymbolicTensor:
        return self._op("power", other, reverse=True)

    def __matmul__(self, other: Any) -> SymbolicTensor:
        return self._op("matmul", other)

    def __rmatmul__(self, other: Any) -> SymbolicTensor:
        return self._op("matmul", other, reverse=True)

    def __neg__(self) -> SymbolicTensor:
        return self._op("negative")

    def __abs__(self) -> SymbolicTensor:
        return self._op("absolute")

    def __getitem__(self, key: Any) -> SymbolicTensor:
        return self._op("getitem", key)


def is_symbolic(x: Any) -> bool:
    """Whether `x` is a `SymbolicTensor`."""
    return isinstance(x, SymbolicTensor)
