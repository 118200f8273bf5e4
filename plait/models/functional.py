"""`Functional`: a model defined by its input and output tensors."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, cast

import numpy as np
import torch

from plait.graph.inference import inferring, params_on_meta
from plait.graph.node import Node
from plait.graph.symbolic import SymbolicTensor
from plait.graph.topology import build_topology
from plait.layers.base import Layer
from plait.layers.call_api import _on_meta, resolve_training, set_training_context
from plait.layers.serialization import register_builtin_class
from plait.models.executor import build_program
from plait.models.model import Model
from plait.training.contract import FlatProgram
from plait.types import Shape
from plait.utils import tree
from plait.utils.shapes import format_shape
from plait.utils.strings import StringTensor, is_string_dtype

__all__ = ["Functional"]


def _check_tensors(structure: Any, what: str) -> list[SymbolicTensor]:
    flat = tree.flatten(structure)
    for x in flat:
        if not isinstance(x, SymbolicTensor):
            desc = type(x).__name__
            if hasattr(x, "shape"):
                desc += f" of shape {tuple(x.shape)}"
            raise TypeError(
                f"Model({what}=...): expected SymbolicTensor(s) from plait.Input() or "
                f"from calling layers on them, got {desc}."
            )
    if not flat:
        raise ValueError(f"Model({what}=...): expected at least one tensor, got none.")
    return flat


def _unique(names: list[str]) -> list[str]:
    """`['d', 'd']` -> `['d', 'd_1']`."""
    out: list[str] = []
    for name in names:
        candidate, i = name, 0
        while candidate in out:
            i += 1
            candidate = f"{name}_{i}"
        out.append(candidate)
    return out


class Functional(Model):
    """A model built from `Input` tensors and the layer calls that lead to `outputs`.

    Created by `plait.Model(inputs, outputs)`; see `plait.Model`.
    """

    _config_has_layers = True

    def __init__(
        self, inputs: Any, outputs: Any, name: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(name=name, **kwargs)
        self._init_graph(inputs, outputs)

    def _init_graph(self, inputs: Any, outputs: Any) -> None:
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        if isinstance(outputs, tuple):
            outputs = list(outputs)
        flat_in = _check_tensors(inputs, "inputs")
        flat_out = _check_tensors(outputs, "outputs")
        if len({id(t) for t in flat_in}) != len(flat_in):
            raise ValueError(
                f"Model(inputs=...): the same tensor appears twice among the inputs "
                f"{[t.name for t in flat_in]}."
            )
        input_nodes = [
            t.node
            for t in flat_in
            if t.node is not None and t.node.layer._is_input_layer
        ]
        loss_terms = self.__dict__.get("_loss_terms", [])
        topo = build_topology(
            flat_in, flat_out + loss_terms, [n for n in input_nodes if n is not None]
        )
        for layer in topo.layers:
            if layer is self:
                raise ValueError(f"Model {self.name!r} cannot contain itself.")
            self._modules[layer.name] = layer
        self._nested_inputs = inputs
        self._nested_outputs = outputs
        self._flat_inputs = flat_in
        self._flat_outputs = flat_out
        self._topology = topo
        if isinstance(inputs, dict):
            self.input_names = list(inputs)
        else:
            self.input_names = [t.name for t in flat_in]
        if isinstance(outputs, dict):
            self.output_names = list(outputs)
        else:
            self.output_names = _unique(
                [t._history.layer.name if t._history else t.name for t in flat_out]
            )
        self._programs: dict[Any, Callable[..., tuple[Any, ...]]] = {}
        self.__dict__.pop("_fast", None)
        self._has_output_masks = any(t._mask is not None for t in flat_out)
        self.supports_masking = True  # masks given with the inputs flow through
        self.built = True
        Node(self, (inputs,), {}, outputs, self_node=True)

    def add_loss(self, loss: Any) -> None:
        """Add a loss term: a tensor during a call, or (as tf.keras allows) a
        symbolic tensor of this model's graph, computed at every forward pass."""
        if not isinstance(loss, SymbolicTensor):
            super().add_loss(loss)
            return
        from plait.models.graph_loss import AddLoss

        terms = [*self.__dict__.get("_loss_terms", []), AddLoss()(loss)]
        try:
            self._regraph(terms)
        except ValueError as err:
            self._regraph(terms[:-1])
            raise ValueError(
                f"Model {self.name!r}: add_loss expected a tensor computed from the "
                f"model's inputs {self.input_names}, got {loss.name!r}: {err}"
            ) from err

    def _regraph(self, loss_terms: list[SymbolicTensor]) -> None:
        """Rebuild the graph with these loss terms (the model's own node replaced)."""
        self._loss_terms = loss_terms
        nodes = self._inbound_nodes
        nodes[:] = [n for n in nodes if not n.is_model_self_node]
        self._init_graph(self._nested_inputs, self._nested_outputs)

    # ------------------------------------------------------------------ graph info
    @property
    def layers(self) -> list[Layer]:
        """The model's layers in topological order, input layers included."""
        return list(self._topology.layers)

    def _sublayers(self) -> list[Layer]:
        return list(self._topology.layers)

    @property
    def inputs(self) -> list[SymbolicTensor]:
        """The input tensors, as a flat list."""
        return list(self._flat_inputs)

    @property
    def outputs(self) -> list[SymbolicTensor]:
        """The output tensors, as a flat list."""
        return list(self._flat_outputs)

    @property
    def input(self) -> Any:
        """The input tensor(s), in the structure given to `Model(inputs=...)`."""
        return self._nested_inputs

    @property
    def output(self) -> Any:
        """The output tensor(s), in the structure given to `Model(outputs=...)`."""
        return self._nested_outputs

    @property
    def input_shape(self) -> Any:
        """Shape(s) of the inputs, `None` for the batch."""
        return tree.map_structure(lambda t: t.shape, self._nested_inputs)

    @property
    def output_shape(self) -> Any:
        """Shape(s) of the outputs, `None` for the batch."""
        return tree.map_structure(lambda t: t.shape, self._nested_outputs)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index in `layers`.

        Raises:
            ValueError: if neither or both are given, or no layer matches.
        """
        if (name is None) == (index is None):
            raise ValueError(
                f"Model {self.name!r}: get_layer() expects exactly one of `name` or "
                f"`index`, got name={name!r}, index={index!r}."
            )
        layers = self.layers
        if index is not None and not -len(layers) <= index < len(layers):
            raise ValueError(
                f"Model {self.name!r}: expected a layer index below {len(layers)}, "
                f"got index={index!r}."
            )
        return super().get_layer(name, index)

    # ------------------------------------------------------------------ running
    def _cached_program(self, key: Any, **options: Any) -> Any:
        """The graph compiled with `options`, built once per `key`."""
        prog = self._programs.get(key)
        if prog is None:
            prog = build_program(
                self._topology.nodes, self._flat_inputs, self._flat_outputs, **options
            )
            self._programs[key] = prog
        return prog

    def _program(self, with_masks: bool, logits: frozenset[int] = frozenset()) -> Any:
        key = (with_masks, logits)
        return self._cached_program(key, with_masks=with_masks, logits=logits)

    def _run_flat(self, *args: Any) -> tuple[Any, ...]:
        """`(*inputs, training)` -> outputs (then their masks if the graph makes any)."""
        return self._program(self._has_output_masks)(*args)

    def _masked_program(self, flags: tuple[bool, ...]) -> Any:
        """`(*inputs, *masks of flagged inputs, training)` -> outputs, then masks."""
        key = ("masked", flags)
        return self._cached_program(key, with_masks=True, input_masks=flags)

    def _run_masked_flat(self, flags: tuple[bool, ...], *args: Any) -> tuple[Any, ...]:
        """`(flags, *inputs, *masks of flagged inputs, training)` -> outputs, masks."""
        return self._masked_program(flags)(*args)  # type: ignore[no-any-return]

    def _run_with_masks(
        self, flat: list[Any], masks: list[Any], training: bool | None
    ) -> Any:
        """Outputs then masks (None where none), given optional input masks."""
        flags = tuple(m is not None for m in masks)
        if any(flags):
            given = [m for m in masks if m is not None]
            return self._masked_program(flags)(*flat, *given, training)
        return self._program(True)(*flat, training)

    def _flatten_call_inputs(self, inputs: Any) -> list[Any]:
        """Match a call's inputs (single, list or dict by name) to the model's inputs."""
        names = self.input_names
        n = len(names)
        if isinstance(inputs, dict):
            unknown = [k for k in inputs if k not in names]
            missing = [k for k in names if k not in inputs]
            if unknown or missing:
                raise ValueError(
                    f"Model {self.name!r}: expected a dict with keys {names}, got keys "
                    f"{list(inputs)}"
                    + (f" (missing {missing})" if missing else "")
                    + "."
                )
            return [inputs[k] for k in names]
        if isinstance(inputs, (list, tuple)):
            flat = list(inputs)
            if n == 1 and len(flat) != 1 and not isinstance(self._nested_inputs, list):
                flat = [inputs]  # a list of numbers as one input
        else:
            flat = [inputs]
        if len(flat) != n:
            raise ValueError(
                f"Model {self.name!r}: expected {n} input{'s' if n != 1 else ''} "
                f"{names}, got {len(flat)}."
            )
        return flat

    def _standardize(self, inputs: Any) -> list[torch.Tensor]:
        flat = self._flatten_call_inputs(inputs)
        out = []
        for t, x, name in zip(self._flat_inputs, flat, self.input_names):
            if is_string_dtype(t.dtype):  # strings stay on the host
                x = StringTensor(x)
                if x.dim() == len(t.shape) - 1 and t.shape[-1] == 1:
                    x = StringTensor(
                        x.array[..., None]
                    )  # Keras: ["a", "b"] fits (None, 1)
                self._check_input_shape(t, x.shape, name)
                out.append(cast(torch.Tensor, x))
                continue
            if not isinstance(x, torch.Tensor):
                x = torch.as_tensor(np.asarray(x) if not hasattr(x, "__array__") else x)
            if x.dtype != t.dtype:
                x = x.to(t.dtype)
            # Keras compat: a trailing axis of 1 may be missing or extra
            # ((N, 28, 28) for an input of (None, 28, 28, 1), and back).
            if x.dim() == len(t.shape) - 1 and t.shape[-1] == 1:
                x = x.unsqueeze(-1)
            elif x.dim() == len(t.shape) + 1 and x.shape[-1] == 1:
                x = x.squeeze(-1)
            self._check_input_shape(t, tuple(x.shape), name)
            out.append(x)
        return out

    def _check_input_shape(
        self, t: SymbolicTensor, shape: tuple[int | None, ...], name: str
    ) -> None:
        """Raise unless `shape` fits input `t` (same rank; known dims equal)."""
        if len(shape) != len(t.shape) or any(
            a is not None and b is not None and a != b for a, b in zip(t.shape, shape)
        ):
            raise ValueError(
                f"Model {self.name!r} input {name!r}: expected shape "
                f"{format_shape(t.shape)}, got {format_shape(shape)}."
            )

    def _pack_outputs(self, flat: Any) -> Any:
        return tree.pack_like(self._nested_outputs, list(flat))

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        """Run the graph on real tensors; returns outputs in the model's structure."""
        fast = self._fast_path
        if (
            fast is not None
            and type(inputs) is torch.Tensor
            and mask is None
            and getattr(inputs, "_keras_mask", None) is None
        ):
            # One tensor in and out, no masks: check it and run the program.
            dtype, ndim, fixed, program = fast
            if (
                inputs.dtype is dtype
                and inputs.dim() == ndim
                and all(inputs.shape[i] == size for i, size in fixed)
            ):
                return program(inputs, training)[0]
        flat = self._standardize(inputs)
        n = len(self._flat_outputs)
        masks = self._input_masks(inputs, mask)
        if masks is None:
            result = self._run_flat(*flat, training)
        else:
            result = self._run_with_masks(flat, masks, training)
        outputs = list(result[:n])
        for out, m in zip(outputs, result[n:]):
            if m is not None:
                out._keras_mask = m
        return self._pack_outputs(outputs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Eager call (what `model(x)` runs on real tensors): straight to `call`.

        The graph was checked when it was built; `call` checks the inputs.
        """
        inputs = args[0] if args else kwargs.pop("inputs")
        # Keras's call rules (`resolve_training`); None: nothing was said, the
        # program gives each layer its own default.
        outer, context, training = resolve_training(self, kwargs.get("training"))
        set_training_context(context)
        try:
            # Inside another layer's shape inference (a Sequential a custom
            # layer calls, built by this call): its weights go meta too.
            meta = _on_meta(inputs) and inferring()
            with params_on_meta(self) if meta else contextlib.nullcontext():
                return self.call(inputs, training=training, mask=kwargs.get("mask"))
        except RuntimeError as err:  # weights or inputs on several devices?
            from plait.distribution.devices import explain_mismatch

            why = explain_mismatch(self, inputs)
            if why is not None:
                raise ValueError(why) from err
            raise
        finally:
            set_training_context(outer)

    def _input_masks(self, inputs: Any, mask: Any) -> list[Any] | None:
        """One mask (or None) per input, from `mask` or the tensors' `_keras_mask`."""
        if mask is None:
            found = [getattr(x, "_keras_mask", None) for x in tree.flatten(inputs)]
            if all(m is None for m in found):
                return None
            mask = tree.map_structure(lambda x: getattr(x, "_keras_mask", None), inputs)
        flat = self._flatten_call_inputs(mask) if mask is not None else []
        return flat if any(m is not None for m in flat) else None

    @property
    def _fast_path(self) -> tuple[torch.dtype, int, list[tuple[int, int]], Any] | None:
        fast = self.__dict__.get("_fast")
        if fast is None:
            simple = (
                isinstance(self._nested_inputs, SymbolicTensor)
                and isinstance(self._nested_outputs, SymbolicTensor)
                and not self._has_output_masks
            )
            if not simple:
                self.__dict__["_fast"] = False
                return None
            t = self._flat_inputs[0]
            fixed = [(i, d) for i, d in enumerate(t.shape) if d is not None]
            fast = (t.dtype, len(t.shape), fixed, self._program(False))
            self.__dict__["_fast"] = fast
        return fast or None

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The output masks of the graph for `inputs` (None where there is none)."""
        masks = self._input_masks(inputs, mask)
        if masks is None and not self._has_output_masks:
            return None
        flat = self._flatten_call_inputs(inputs)
        n = len(self._flat_outputs)
        result = self._run_with_masks(flat, masks or [None] * len(flat), False)
        return self._pack_outputs(list(result[n:]))

    def _infer_output_specs(
        self, inputs: Any, args: Any, call_kwargs: Any, flat_in: list[SymbolicTensor]
    ) -> Any:
        given = self._flatten_call_inputs(inputs)
        for t, x, name in zip(self._flat_inputs, given, self.input_names):
            self._check_input_shape(t, tuple(x.shape), name)
        return super()._infer_output_specs(inputs, args, {}, flat_in)

    # ------------------------------------------------------------------ training
    # The trainer's contract (plait/training/contract.py): the graph answers
    # without data, and the steps run the generated program directly.
    def _known_output_names(self) -> list[str] | None:
        return list(self.output_names)

    def _n_inputs(self) -> int:
        return len(self._flat_inputs)

    def _flat_inputs_of(self, x: Any) -> list[torch.Tensor]:
        return self._standardize(x)

    def _output_shapes(self) -> list[Shape] | None:
        return [tuple(t.shape) for t in self._flat_outputs]

    def _output_producers(self) -> list[Any] | None:
        return [t._history.layer if t._history else None for t in self._flat_outputs]

    def _training_program(
        self, logits: frozenset[int]
    ) -> tuple[FlatProgram, bool] | None:
        with_masks = bool(self.supports_masking)
        ids = frozenset(id(self._flat_outputs[i]) for i in logits)
        return self._program(with_masks, ids), with_masks

    def _predict_program(
        self,
    ) -> tuple[FlatProgram, Callable[[list[Any]], Any]] | None:
        return self._program(False), self._pack_outputs

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        """The graph as JSON data: layers, their calls, inputs and outputs."""
        from plait.models.config import functional_get_config

        return functional_get_config(self)

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
    ) -> Functional:
        """A new model with the graph of `config` and fresh weights."""
        from plait.models.config import functional_from_config

        return functional_from_config(cls, config, custom_objects)

    def extra_repr(self) -> str:
        """The name only: the layers print as the module's children, not as config."""
        return f"name={self.name!r}"

    # Generated programs hold bound methods; rebuild them after copying or pickling.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_programs"] = {}
        state.pop("_fast", None)
        return state


# Keras compat: a model saved as "Model" is a functional one.
register_builtin_class(Functional, "Model")
