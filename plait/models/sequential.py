"""`Sequential`: a functional model built one layer after another."""

from __future__ import annotations

from typing import Any

import torch

from plait.graph.node import Node
from plait.graph.symbolic import SymbolicTensor
from plait.layers.base import Layer
from plait.layers.input_layer import Input, InputLayer
from plait.layers.serialization import register_builtin_class
from plait.layers.variables import path_scope
from plait.models.functional import Functional
from plait.models.model import Model
from plait.types import Shape
from plait.utils.build_lock import build_lock
from plait.utils.shapes import dtype_name
from plait.utils.strings import STRING, is_string_data

__all__ = ["Sequential"]


class Sequential(Functional):
    """A linear stack of layers: each layer's output is the next one's input.

    The model builds its graph as soon as it knows its input shape: from an
    `Input` given first, from `input_shape=` on the first layer (Keras 2), or from
    the first call. Until then it is unbuilt and has no weights.

    Args:
        layers: Layers to add, in order; an `Input(...)` may come first.
        name: Model name.

    Example:
        >>> from plait.layers import Dense
        >>> model = Sequential([Dense(32, activation="relu", input_shape=(16,)), Dense(4)])
        >>> model.output_shape
        (None, 4)
    """

    def __init__(
        self,
        layers: list[Any] | None = None,
        name: str | None = None,
        trainable: bool = True,
        **kwargs: Any,
    ) -> None:
        Model.__init__(self, name=name, trainable=trainable, **kwargs)
        self.built = False
        self._seq: list[Layer] = []
        self._input_tensor: SymbolicTensor | None = None
        self._build_nodes: list[Node] = []
        self._built_from_data = False
        self.supports_masking = False
        self._has_output_masks = False
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Append a layer (or an `Input(...)` tensor, which fixes the input shape)."""
        if isinstance(layer, SymbolicTensor):
            h = layer._history
            if h is None or not h.layer._is_input_layer or self._seq:
                raise ValueError(
                    f"Sequential {self.name!r}: only an Input(...) tensor may be added, "
                    "and only first."
                )
            self._input_tensor = layer
        elif isinstance(layer, InputLayer):
            if self._seq:
                raise ValueError(
                    f"Sequential {self.name!r}: an InputLayer must come first."
                )
            self._input_tensor = layer._inbound_nodes[0].outputs
        elif isinstance(layer, Layer):
            if any(existing.name == layer.name for existing in self._seq):
                raise ValueError(
                    f"Sequential {self.name!r}: a layer named {layer.name!r} is already "
                    "in the model; layer names must be unique."
                )
            self._seq.append(layer)
            self._modules[layer.name] = layer
        else:
            raise TypeError(
                f"Sequential {self.name!r}: expected a plait Layer, got "
                f"{type(layer).__name__} {layer!r}."
            )
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer."""
        if not self._seq:
            raise TypeError(f"Sequential {self.name!r}: there is no layer to pop.")
        layer = self._seq.pop()
        self._modules.pop(layer.name, None)
        if rebuild:
            self._maybe_rebuild(force=True)
        return layer

    def _input_spec_from_layers(self) -> tuple[Shape, torch.dtype] | None:
        if self._input_tensor is not None:
            return self._input_tensor.shape, self._input_tensor.dtype
        first_shape = self._seq[0]._batch_input_shape if self._seq else None
        if first_shape is not None:
            first = self._seq[0]
            dtype = (
                torch.int32
                if type(first).__name__ == "Embedding"
                else first.variable_dtype
            )
            return first_shape, dtype
        # A built model as the first layer gives its own input (Keras does the same).
        first_inputs = self._seq[0].__dict__.get("_flat_inputs") if self._seq else None
        if first_inputs is not None and len(first_inputs) == 1:
            return first_inputs[0].shape, first_inputs[0].dtype
        if self.built:
            return self._flat_inputs[0].shape, self._flat_inputs[0].dtype
        return None

    def _maybe_rebuild(self, force: bool = False) -> None:
        spec = self._input_spec_from_layers()
        if spec is not None and self._seq:
            self._build_graph(*spec)
        elif force or not self._seq:
            self.built = False

    def _build_graph(self, batch_shape: Shape, dtype: torch.dtype) -> None:
        # Drop the nodes a previous build added, so each layer keeps one call.
        for node in reversed(self._build_nodes):
            nodes = node.layer._inbound_nodes
            if nodes and nodes[-1] is node:
                nodes.pop()
        if self._input_tensor is not None:
            x = self._input_tensor
        else:
            x = Input(batch_shape=batch_shape, dtype=dtype_name(dtype))
        start = [len(layer._inbound_nodes) for layer in self._seq]
        inputs = x
        with path_scope(self.name):
            for layer in self._seq:
                x = layer(x)
        self._build_nodes = [
            layer._inbound_nodes[i]
            for layer, i in zip(self._seq, start)
            if len(layer._inbound_nodes) > i
        ]
        self._inbound_nodes = []
        self._modules.clear()
        self._init_graph(inputs, x)

    @property
    def layers(self) -> list[Layer]:
        """The stacked layers (the input layer excluded, as in Keras)."""
        return list(self._seq)

    def _sublayers(self) -> list[Layer]:
        return list(self._seq)

    def build(self, input_shape: Any = None) -> None:
        """Build for inputs of `input_shape` (batch included, may be None)."""
        if input_shape is None:
            raise ValueError(f"Sequential {self.name!r}: build() needs an input shape.")
        self._build_graph(tuple(input_shape), torch.get_default_dtype())

    def _ensure_built(self, x: Any) -> None:
        if self.built:
            if self._built_from_data:
                self._relax_to(x)
            return
        with build_lock(self):  # first calls from several threads build once
            if not self.built:
                self._build_from(x)

    def _build_from(self, x: Any) -> None:
        if not self._seq:
            raise ValueError(f"Sequential {self.name!r} has no layers to call.")
        if isinstance(x, (list, tuple)) and len(x) == 1:
            x = x[0]
        if not hasattr(x, "shape"):
            import numpy as np

            x = np.asarray(x)
        dtype = x.dtype if isinstance(x.dtype, torch.dtype) else None
        if is_string_data(x):
            dtype = STRING  # raw text for a first TextVectorization or StringLookup
        elif dtype is None:
            dtype = torch.int64 if "int" in str(x.dtype) else torch.get_default_dtype()
        elif dtype == torch.float64:
            dtype = torch.get_default_dtype()
        self._build_graph((None, *tuple(x.shape)[1:]), dtype)
        self._built_from_data = True

    def _relax_to(self, x: Any) -> None:
        """Free the inner dims a later call changes (a longer sequence, a larger
        image) and rebuild, as Keras runs such a model on any length its layers take.

        A model built from its first data fixed that data's shape, which the user
        never declared. The last axis of float inputs stays (it holds the features
        weights are sized by); that of integer or string inputs holds steps too.
        """
        if isinstance(x, (list, tuple)) and len(x) == 1:
            x = x[0]
        shape, built = getattr(x, "shape", None), self._flat_inputs[0].shape
        if shape is None or len(shape) != len(built):
            return
        dtype = self._flat_inputs[0].dtype
        free = len(built) - (0 if dtype == STRING or not dtype.is_floating_point else 1)
        relaxed = tuple(
            None if 0 < i < free and b != s else b
            for i, (b, s) in enumerate(zip(built, tuple(shape)))
        )
        if relaxed != tuple(built):
            with build_lock(self):
                self._build_graph(relaxed, dtype)

    # The trainer's contract: unbuilt, the model knows nothing of its outputs
    # yet; it builds from the first data it is given.
    def _known_output_names(self) -> list[str] | None:
        return super()._known_output_names() if self.built else None

    def _n_inputs(self) -> int:
        return 1

    def _flat_inputs_of(self, x: Any) -> list[torch.Tensor]:
        self._ensure_built(x)
        return super()._flat_inputs_of(x)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        inputs = args[0] if args else kwargs.get("inputs")
        self._ensure_built(inputs)
        return super().__call__(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name in (
            "_topology",
            "_flat_inputs",
            "_flat_outputs",
            "_nested_inputs",
            "_nested_outputs",
        ) and not self.__dict__.get("built"):
            raise ValueError(
                f"Sequential model {self.__dict__.get('name')!r} is not built yet: give "
                "it an Input, input_shape= on its first layer, or call it on data."
            )
        return super().__getattr__(name)


register_builtin_class(Sequential)
