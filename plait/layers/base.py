"""`Layer`: Keras's layer contract on a `torch.nn.Module`."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import numpy as np
import torch

from plait import constraints, initializers, regularizers
from plait.dtype_policies import autocast as amp
from plait.dtype_policies import policy as dtype_policies
from plait.graph.inference import (
    TensorSpec,
    meta_spec,
    params_on_meta,
    weights_deferred,
)
from plait.graph.node import Node
from plait.graph.symbolic import History, SymbolicTensor
from plait.layers.input_spec import InputSpec, check_input_spec, inputs_first
from plait.layers.node_api import NodeAPI
from plait.layers.weights_api import Layout, WeightInfo, WeightsAPI
from plait.types import DTypeLike, Shape
from plait.utils import tree
from plait.utils.build_lock import build_lock
from plait.utils.naming import to_snake_case, unique_name, validate_name
from plait.utils.shapes import dtype_name, format_shape, standardize_dtype

__all__ = ["Layer"]

# Constructor keywords every layer accepts (Keras 2 and 3), beyond its own.
_BASE_KWARGS = frozenset(
    {
        "input_shape",
        "batch_input_shape",
        "batch_size",
        "input_dim",
        "weights",
        "autocast",
    }
)
# Positional orders of add_weight: plait's (name first) and Keras 3's (shape first).
_ADD_WEIGHT_ARGS = (
    "name", "shape", "initializer", "dtype", "trainable", "regularizer", "constraint"
)  # fmt: skip
_ADD_WEIGHT_K3 = (
    "shape", "initializer", "dtype", "trainable", "autocast", "regularizer",
    "constraint", "aggregation", "name",
)  # fmt: skip

# Errors raised inside `call()` that get the layer and its input shapes prefixed.
_CALL_ERRORS = (ValueError, TypeError, RuntimeError, NotImplementedError, IndexError)


def _is_shape(x: Any) -> bool:
    return isinstance(x, (tuple, torch.Size)) and all(
        d is None or isinstance(d, int) for d in x
    )


def _map_shapes(fn: Callable[[Any], Any], shapes: Any) -> Any:
    """Map `fn` over the shape tuples of a nested structure of shapes."""
    if _is_shape(shapes):
        return fn(tuple(shapes))
    if isinstance(shapes, list):
        return [_map_shapes(fn, s) for s in shapes]
    if isinstance(shapes, tuple):
        return tuple(_map_shapes(fn, s) for s in shapes)
    if isinstance(shapes, dict):
        return {k: _map_shapes(fn, v) for k, v in shapes.items()}
    return fn(shapes)


def _shape_of(x: Any) -> Any:
    return tuple(x.shape) if hasattr(x, "shape") else None


def _has_symbolic(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    first = args[0] if args else None
    if isinstance(first, SymbolicTensor):
        return True
    # The common eager call `layer(x)` / `layer(x, training=...)`: no tree walk.
    if (
        isinstance(first, torch.Tensor)
        and len(args) == 1
        and all(
            not isinstance(v, (SymbolicTensor, list, tuple, dict))
            for v in kwargs.values()
        )
    ):
        return False
    return any(
        isinstance(x, SymbolicTensor) for x in tree.flatten([list(args), kwargs])
    )


def _on_meta(inputs: Any) -> bool:
    """Whether the (first) input tensor is on torch's `meta` device."""
    if isinstance(inputs, torch.Tensor):
        return inputs.is_meta
    return any(isinstance(t, torch.Tensor) and t.is_meta for t in tree.flatten(inputs))


def _to_tensor(x: Any) -> Any:
    if isinstance(x, np.ndarray) and x.dtype.kind not in "USO":  # strings stay
        t = torch.from_numpy(np.ascontiguousarray(x))
        return t.to(torch.get_default_dtype()) if t.dtype == torch.float64 else t
    return x


_SIGNATURES: dict[type, tuple[bool, bool]] = {}


def _call_signature(cls: type) -> tuple[bool, bool]:
    """Whether `cls.call` takes `training` and `mask` (or `**kwargs`); cached per class."""
    flags = _SIGNATURES.get(cls)
    if flags is None:
        params = inspect.signature(cls.call).parameters  # type: ignore[attr-defined]
        var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        flags = ("training" in params or var_kw, "mask" in params or var_kw)
        _SIGNATURES[cls] = flags
    return flags


_DETAILS: dict[type, tuple[dict[str, int], list[tuple[str, str]]]] = {}


def _call_details(cls: type) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Positions of `cls.call`'s parameters and its `<arg>`/`<arg>_mask` pairs."""
    details = _DETAILS.get(cls)
    if details is None:
        params = list(inspect.signature(cls.call).parameters.values())  # type: ignore[attr-defined]
        positional = [
            p.name
            for p in params
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            and p.name != "self"
        ]
        names = {p.name for p in params}
        pairs = [(n[: -len("_mask")], n) for n in names if n.endswith("_mask")]
        pairs = sorted((a, m) for a, m in pairs if a in names)
        details = ({n: i for i, n in enumerate(positional)}, pairs)
        _DETAILS[cls] = details
    return details


def _same_as_default(value: Any, default: Any) -> bool:
    """Whether a config value is its argument's default (initializers by name too)."""
    if value == default or (default is None and value == "linear"):
        return True
    if isinstance(default, str) and isinstance(value, dict):
        return to_snake_case(str(value.get("class_name"))) == default and not any(
            v is not None for v in value.get("config", {}).values()
        )
    if isinstance(value, list) and isinstance(default, tuple):
        return value == list(default)
    return False


def _overrides(obj: Any, name: str) -> bool:
    return getattr(type(obj), name) is not getattr(Layer, name)


class Layer(NodeAPI, WeightsAPI, torch.nn.Module):
    """Base class of every plait layer and model: a `torch.nn.Module` with Keras's contract.

    Subclasses store their configuration in `__init__`, create weights in
    `build(input_shape)` with `add_weight`, and compute in
    `call(inputs, training=None, mask=None)`. Called on symbolic tensors a layer
    builds itself, infers its output shape and records a node of the graph;
    called on real tensors (or NumPy arrays) it computes.

    Args:
        name: Unique name; by default the snake-cased class name plus a counter
            (`dense`, `dense_1`, ...).
        dtype: A dtype policy or its name (`"mixed_float16"`, see
            `plait.mixed_precision`), or a plain dtype (`"float64"`) for both
            weights and computation; the global policy (float32) by default.
        trainable: Whether the layer's weights are updated in training.
        activity_regularizer: Optional function of the output added to the losses.
        input_shape: Keras 2's way to give Sequential's first layer its input shape
            (batch left out); also `batch_input_shape`, `batch_size`, `input_dim`.

    Call arguments:
        inputs: A tensor, or a list/dict of tensors (symbolic or real).
        training: Whether the call is in training mode (dropout active, ...); None
            follows the module's own mode (`model.train()` / `model.eval()`), which is
            inference (eval) for new layers, as Keras's default.
        mask: Boolean mask(s) of the inputs; taken from the inputs when not given.

    Example:
        >>> import torch
        >>> class Double(Layer):
        ...     def call(self, inputs):
        ...         return inputs * 2
        >>> Double()(torch.ones(1, 2)).tolist()
        [[2.0, 2.0]]
    """

    _is_input_layer: ClassVar[bool] = False
    # Models: `from_config(config, custom_objects=...)` rebuilds nested layers.
    _config_has_layers: ClassVar[bool] = False
    # Output dtype equals the first input's, even for ints (reshapes, padding, ...).
    _keeps_input_dtype: ClassVar[bool] = False

    def __init__(
        self,
        *,
        name: str | None = None,
        dtype: DTypeLike = None,
        trainable: bool = True,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        torch.nn.Module.__init__(self)
        unknown = set(kwargs) - _BASE_KWARGS
        if unknown:
            raise TypeError(
                f"{type(self).__name__}: unexpected keyword argument"
                f"{'s' if len(unknown) > 1 else ''} {sorted(unknown)}; check the "
                "spelling against the layer's documented arguments."
            )
        self.train(False)  # Keras compat: layers compute in inference mode by default
        where = f"{type(self).__name__}(name=...)"
        self.name = (
            validate_name(name, where)
            if name is not None
            else unique_name(to_snake_case(type(self).__name__))
        )
        self._set_dtype_policy(dtype)
        self._trainable = bool(trainable)
        self.built = False
        self.supports_masking = False
        self.input_spec: InputSpec | list[InputSpec] | None = None
        self._inbound_nodes: list[Node] = []
        self._weight_info: dict[torch.nn.Parameter, WeightInfo] = {}
        self._regularizers: list[tuple[torch.nn.Parameter, Callable[..., Any]]] = []
        self._constraints: list[tuple[torch.nn.Parameter, Callable[..., Any]]] = []
        self._added_losses: list[torch.Tensor] = []
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._initial_weights = kwargs.get("weights")
        self._batch_input_shape: Shape | None = None
        if "batch_input_shape" in kwargs:
            self._batch_input_shape = tuple(kwargs["batch_input_shape"])
        elif "input_shape" in kwargs or "input_dim" in kwargs:
            shape = kwargs.get("input_shape") or (kwargs["input_dim"],)
            self._batch_input_shape = (kwargs.get("batch_size"), *tuple(shape))

    # ------------------------------------------------------------------ contract
    def build(self, input_shape: Any) -> None:
        """Create the layer's weights for inputs of `input_shape` (batch is None)."""
        self.built = True

    def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses override this."""
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        """Output shape(s) for `input_shape`; by default inferred on the meta device."""
        raise NotImplementedError

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """Output mask: the input mask if the layer supports masking, else None."""
        return mask if self.supports_masking else None

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments as JSON data (subclasses extend it)."""
        config: dict[str, Any] = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": self._dtype_policy.name,
        }
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Recreate a layer from `get_config()`."""
        return cls(**config)

    # ------------------------------------------------------------------ naming
    def _where(self) -> str:
        return f"{type(self).__name__} layer '{self.name}'"

    def extra_repr(self) -> str:
        """The name and the constructor arguments that differ from their defaults."""
        try:
            config = self.get_config()
        except Exception:  # e.g. a Lambda of an unregistered function
            return f"name={self.name!r}"
        defaults = {"trainable": True, "dtype": "float32"}
        for cls in reversed(type(self).__mro__):
            init = cls.__dict__.get("__init__")
            if init is None:
                continue
            for p in inspect.signature(init).parameters.values():
                if p.default is not inspect.Parameter.empty:
                    defaults[p.name] = p.default
        defaults["dtype"] = "float32"  # None in signatures means the float32 default
        shown = [
            f"{k}={v!r}"
            for k, v in config.items()
            if k == "name"
            or (k in defaults and not _same_as_default(v, defaults[k]))
            or k not in defaults
        ]
        return ", ".join(shown)

    def _set_dtype_policy(self, dtype: Any) -> None:
        try:
            policy = dtype_policies.get(dtype)
        except (TypeError, ValueError) as err:
            raise type(err)(f"{self._where()}: {err}") from None
        self._dtype_policy = policy
        self._compute_dtype: torch.dtype = policy._compute
        self._variable_dtype: torch.dtype = policy._variable

    @property
    def dtype_policy(self) -> dtype_policies.DTypePolicy:
        """The layer's dtype policy (`plait.mixed_precision.DTypePolicy`)."""
        return self._dtype_policy

    @property
    def dtype(self) -> str:
        """Name of the dtype of the layer's weights (`"float32"`), as in Keras."""
        return dtype_name(self._variable_dtype)

    @property
    def compute_dtype(self) -> torch.dtype:
        """The torch dtype the layer computes in (float16 under `mixed_float16`)."""
        return self._compute_dtype

    @property
    def variable_dtype(self) -> torch.dtype:
        """The torch dtype of the layer's weights (float32 under mixed policies)."""
        return self._variable_dtype

    # ------------------------------------------------------------------ weights
    def add_weight(
        self,
        *args: Any,
        layout: Layout | None = None,
        **kwargs: Any,
    ) -> torch.nn.Parameter:
        """Create a weight, register it, and return it (a `torch.nn.Parameter`).

        Takes plait's name-first order `(name, shape, initializer, dtype,
        trainable, regularizer, constraint)` (`add_weight("kernel", (3, 4), ...)`)
        and Keras 3's shape-first order `(shape, initializer, dtype, trainable,
        autocast, regularizer, constraint, aggregation, name)`
        (`add_weight((3, 4), "zeros", name="kernel")`); keywords work in both.

        Args:
            name: Name in `get_weights`/saved files and the attribute name in
                `state_dict`.
            shape: Shape in Keras layout.
            initializer: Name, class or callable; `"glorot_uniform"` for floats,
                `"zeros"` for other dtypes when None.
            dtype: Weight dtype; the layer's dtype by default.
            trainable: False for statistics such as BatchNorm's moving mean.
            regularizer: Function of the weight added to the layer's losses.
            constraint: Function applied to the weight after each optimizer step.
            layout: `(to_keras, from_keras)` when the weight is stored in another
                layout than Keras's (e.g. conv kernels in torch layout).
        """
        # A positional first argument that is not a name is Keras 3's shape.
        shape_first = bool(args) and not isinstance(args[0], (str, type(None)))
        order = _ADD_WEIGHT_K3 if shape_first else _ADD_WEIGHT_ARGS
        if len(args) > len(order):
            raise TypeError(
                f"{self._where()}: add_weight() takes at most {len(order)} positional "
                f"arguments, got {len(args)}."
            )
        for key, value in zip(order, args):
            if key in kwargs:
                raise TypeError(
                    f"{self._where()}: add_weight() got multiple values for {key!r}."
                )
            kwargs[key] = value
        for key in ("autocast", "aggregation", "synchronization", "use_resource"):
            kwargs.pop(key, None)
        name = kwargs.pop("name", None)
        shape = kwargs.pop("shape", None)
        initializer = kwargs.pop("initializer", None)
        dtype: DTypeLike = kwargs.pop("dtype", None)
        trainable = kwargs.pop("trainable", None)
        trainable = True if trainable is None else bool(trainable)  # Keras 2: None
        regularizer = kwargs.pop("regularizer", None)
        constraint = kwargs.pop("constraint", None)
        if kwargs:
            raise TypeError(f"{self._where()}: add_weight() got {sorted(kwargs)}.")
        shape = tuple(int(d) for d in (shape if shape is not None else ()))
        wdtype = standardize_dtype(dtype, self._variable_dtype)
        if initializer is None:
            initializer = "glorot_uniform" if wdtype.is_floating_point else "zeros"
        init = initializers.get(initializer)
        if weights_deferred():  # a file being loaded gives the values
            value = torch.empty(shape, dtype=wdtype, device="meta")
        else:
            value = init(shape, dtype=wdtype)
        if layout is not None:
            value = layout[1](value)
        name = name or unique_name(f"{self.name}/variable").split("/")[-1]
        # Integer weights (counters, ids) cannot take gradients: never trainable.
        trainable = trainable and (wdtype.is_floating_point or wdtype.is_complex)
        param = torch.nn.Parameter(
            value.contiguous().to(wdtype), requires_grad=trainable and self.trainable
        )
        attr = (
            name if name not in self._parameters else f"{name}_{len(self._parameters)}"
        )
        if attr in self.__dict__:  # e.g. `self.bias = None` set before
            del self.__dict__[attr]
        self.register_parameter(attr, param)
        self._weight_info[param] = WeightInfo(name, trainable, layout)
        regularizer = regularizers.get(regularizer)  # names and configs too
        constraint = constraints.get(constraint)
        if regularizer is not None:
            self._regularizers.append((param, regularizer))
        if constraint is not None:
            self._constraints.append((param, constraint))
        return param

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, torch.nn.Parameter) and params is not None:
            # add_weight registered it under its weight name; the attribute wins.
            for key, p in list(params.items()):
                if p is value and key != name:
                    del params[key]
        elif (
            isinstance(value, (list, tuple))
            and value
            and all(isinstance(v, torch.nn.Module) for v in value)
        ):
            # Keras compat: a list of layers is tracked; torch needs a ModuleList.
            value = torch.nn.ModuleList(value)
        super().__setattr__(name, value)

    def __getattr__(self, name: str) -> Any:
        # Reached only when normal lookup fails: parameters, buffers and sub-modules
        # live in torch's dicts. Looked up here directly (one frame, not two: this
        # is on the hot path of every weight access in `call`).
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            values = d.get(store)
            if values is not None and name in values:
                return values[name]
        # A property that raised AttributeError lands here too; re-raise its own
        # message instead of a generic "has no attribute".
        prop = getattr(type(self), name, None)
        if isinstance(prop, property) and prop.fget is not None:
            prop.fget(self)
        raise AttributeError(
            f"'{type(self).__name__}' object has no attribute '{name}'"
        )

    def _sublayers(self) -> list[Layer]:
        # Layers held directly, or in a list of layers (tracked as a ModuleList).
        out: list[Layer] = []
        stack = list(reversed(self._modules.values()))
        while stack:
            m = stack.pop()
            if isinstance(m, Layer):
                out.append(m)
            elif isinstance(m, (torch.nn.ModuleList, torch.nn.ModuleDict)):
                stack.extend(reversed(list(m.children())))
        return out

    @property
    def trainable(self) -> bool:
        """Whether training updates this layer; setting it applies to sub-layers."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for p, info in self._weight_info.items():
            p.requires_grad_(self._trainable and info.trainable)
        for layer in self._sublayers():
            layer.trainable = value

    def _all_sublayers(self) -> Iterator[Layer]:
        stack = list(reversed(self._sublayers()))
        while stack:
            layer = stack.pop()
            yield layer
            stack.extend(reversed(layer._sublayers()))

    # ------------------------------------------------------------------ losses
    def add_loss(self, loss: torch.Tensor) -> None:
        """Add a loss term (a scalar tensor) computed during `call`."""
        self._added_losses.append(loss)

    @property
    def losses(self) -> list[torch.Tensor]:
        """Regularization losses of weights and `add_loss` terms, sub-layers included."""
        out: list[torch.Tensor] = []
        for layer in [self, *self._all_sublayers()]:
            for p, fn in layer._regularizers:
                lay = layer._layout(p)  # regularizers see the Keras layout
                out.append(fn(lay[0](p) if lay else p))
            out += layer._added_losses
        return out

    def _fns_config(self, names: tuple[str, ...]) -> dict[str, Any]:
        """The regularizer/constraint attributes `names` as JSON data (None stays None)."""
        out = {}
        for name in names:
            module = constraints if name.endswith("constraint") else regularizers
            out[name] = module.serialize(getattr(self, name))  # type: ignore[attr-defined]
        return out

    def _clear_losses(self) -> None:
        for layer in [self, *self._all_sublayers()]:
            layer._added_losses = []

    # ------------------------------------------------------------------ calling
    def _call_flags(self) -> tuple[bool, bool]:
        """Whether `call` takes `training` and `mask`."""
        return _call_signature(type(self))

    def _computes_masks(self) -> bool:
        """Whether the layer defines its own `compute_mask` (else masks pass through)."""
        return _overrides(self, "compute_mask")

    def _call_positions(self) -> dict[str, int]:
        """Position of each positional parameter of `call` (the first is 0)."""
        return _call_details(type(self))[0]

    def _arg_masks(self) -> list[tuple[str, str]]:
        """`(arg, arg_mask)` parameter pairs of `call` (Keras 3's `query_mask`, ...)."""
        return _call_details(type(self))[1]

    def _add_activity_loss(self, outputs: Any) -> None:
        """Add `activity_regularizer(output) / batch_size` per output, as Keras 3."""
        for out in tree.flatten(outputs):
            if isinstance(out, torch.Tensor):
                loss = self.activity_regularizer(out)  # type: ignore[misc]
                if out.dim() > 0:
                    loss = loss / out.shape[0]
                self.add_loss(loss)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _has_symbolic(args, kwargs):
            return self._symbolic_call(args, kwargs)
        return torch.nn.Module.__call__(self, *args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Eager call on real tensors (torch's entry point; same as calling the layer)."""
        args = inputs_first(self, args, kwargs)
        inputs = tree.map_structure(_to_tensor, args[0])
        training_arg, mask_arg = _call_signature(type(self))
        if not self.built:
            self._build_for(tree.map_structure(_shape_of, inputs))
        if self.input_spec is not None:
            flat = [t for t in tree.flatten(inputs) if isinstance(t, torch.Tensor)]
            check_input_spec(
                self._where(),
                self.input_spec,
                [tuple(t.shape) for t in flat],
                [None] * len(flat),
            )
        if training_arg and kwargs.get("training") is None:
            kwargs["training"] = self.training
        elif not training_arg:
            kwargs.pop("training", None)
        mask = kwargs.get("mask")
        if mask is None:
            mask = tree.map_structure(lambda t: getattr(t, "_keras_mask", None), inputs)
            if all(m is None for m in tree.flatten(mask)):
                mask = None
            elif mask_arg:
                kwargs["mask"] = mask
        elif not mask_arg:
            kwargs.pop("mask")
        for arg_name, mask_name in self._arg_masks():
            position = self._call_positions().get(arg_name, -1)
            value = (
                args[position] if 0 <= position < len(args) else kwargs.get(arg_name)
            )
            value_mask = getattr(value, "_keras_mask", None)
            if value_mask is not None and kwargs.get(mask_name) is None:
                kwargs[mask_name] = value_mask
        call = self.call
        if self._compute_dtype in amp.HALF or amp.in_region():
            call = amp.LayerCall(self, call)  # its policy's dtype (mixed precision)
        try:
            if _on_meta(inputs):
                # Called inside another layer's shape inference: weights built just
                # now live on the CPU and must be meta tensors too for this call.
                with params_on_meta(self):
                    outputs = call(inputs, *args[1:], **kwargs)
            else:
                outputs = call(inputs, *args[1:], **kwargs)
        except _CALL_ERRORS as err:
            shaped = [t for t in tree.flatten(inputs) if hasattr(t, "shape")]
            raise self._locate(err, shaped) from err
        if self.activity_regularizer is not None:
            self._add_activity_loss(outputs)
        if self.supports_masking and (
            mask is not None or _overrides(self, "compute_mask")
        ):
            out_mask = self.compute_mask(inputs, mask)
            if out_mask is not None and isinstance(outputs, torch.Tensor):
                outputs._keras_mask = out_mask  # type: ignore[attr-defined]
        return outputs

    def _build_for(self, input_shapes: Any) -> None:
        with build_lock(self):  # first calls from several threads build once
            if self._initial_weights is not None:
                self.build(input_shapes)
                self.built = True
                self.set_weights(self._initial_weights)
                self._initial_weights = None
            elif not self.built:
                self.build(input_shapes)
            self.built = True

    def _output_dtype(self, inputs: list[SymbolicTensor]) -> torch.dtype:
        first = inputs[0].dtype if inputs else self._compute_dtype
        if amp.needs_cast(self._compute_dtype, first):
            return self._compute_dtype  # inputs are cast to the compute dtype
        if self._keeps_input_dtype or first.is_floating_point:
            return first
        return self._compute_dtype

    def _symbolic_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        args = inputs_first(self, args, kwargs)
        kwargs = dict(kwargs)
        explicit_mask = kwargs.pop("mask", None)
        mask_arg = _call_signature(type(self))[1]
        if kwargs.get("training") is None:
            kwargs.pop("training", None)
        inputs = args[0]
        flat_in = [x for x in tree.flatten(inputs) if isinstance(x, SymbolicTensor)]
        if explicit_mask is not None:  # an explicit mask overrides the tensors' own
            masks = explicit_mask
        else:
            masks = tree.map_structure(
                lambda t: t._mask if isinstance(t, SymbolicTensor) else None, inputs
            )
        has_mask = any(m is not None for m in tree.flatten(masks))
        check_input_spec(
            self._where(),
            self.input_spec,
            [t.shape for t in flat_in],
            [t.dtype for t in flat_in],
        )
        try:
            if not self.built:
                self._build_for(
                    tree.map_structure(
                        lambda t: t.shape if isinstance(t, SymbolicTensor) else None,
                        inputs,
                    )
                )
            call_kwargs = dict(kwargs)
            if mask_arg and has_mask:
                call_kwargs["mask"] = masks
            specs = self._infer_output_specs(inputs, args, call_kwargs, flat_in)
        except _CALL_ERRORS as err:
            raise self._locate(err, flat_in) from err
        node_index = len(self._inbound_nodes)
        leaves = tree.flatten(specs)
        single = len(leaves) == 1
        outs = []
        for i, spec in enumerate(leaves):
            name = (
                self.name
                if single and node_index == 0
                else f"{self.name}:{node_index}:{i}"
            )
            history = History(self, node_index, i)
            outs.append(SymbolicTensor(spec.shape, spec.dtype, name, history))
        outputs = tree.pack_like(specs, outs)
        if self.supports_masking:
            self._set_output_masks(inputs, masks, has_mask, outputs, outs)
        node_kwargs = dict(kwargs)
        if mask_arg and explicit_mask is not None:
            node_kwargs["mask"] = explicit_mask
        Node(self, args, node_kwargs, outputs)
        return outputs

    def _infer_output_specs(
        self,
        inputs: Any,
        args: tuple[Any, ...],
        call_kwargs: dict[str, Any],
        flat_in: list[SymbolicTensor],
    ) -> Any:
        if _overrides(self, "compute_output_shape"):
            in_shapes = tree.map_structure(
                lambda t: t.shape if isinstance(t, SymbolicTensor) else None, inputs
            )
            shapes = self.compute_output_shape(in_shapes)
            dtype = self._output_dtype(flat_in)
            return _map_shapes(lambda s: TensorSpec(tuple(s), dtype), shapes)
        call_kwargs = dict(call_kwargs)
        if _call_signature(type(self))[0]:
            call_kwargs.setdefault("training", False)
        fn = self.call
        if self._compute_dtype in amp.HALF or any(t.dtype in amp.HALF for t in flat_in):
            fn = amp.LayerCall(self, fn)  # outputs in the compute dtype
        return meta_spec(fn, self, args, call_kwargs)

    def _set_output_masks(
        self,
        inputs: Any,
        masks: Any,
        has_mask: bool,
        outputs: Any,
        outs: list[SymbolicTensor],
    ) -> None:
        if not _overrides(self, "compute_mask"):
            # Pass-through: one tensor in, one out, the mask object is shared.
            flat_masks = tree.flatten(masks)
            if has_mask and len(outs) == 1 and len(flat_masks) == 1:
                outs[0]._mask = flat_masks[0]
            return
        spec = meta_spec(self.compute_mask, self, (inputs, masks), {})
        for i, (t, m) in enumerate(zip(outs, tree.flatten(spec))):
            if isinstance(m, TensorSpec):
                t._mask = SymbolicTensor(m.shape, m.dtype, f"{t.name}:mask{i}")

    def _locate(self, err: Exception, flat_in: list[Any]) -> Exception:
        """The same exception, its message prefixed with this layer and its inputs."""
        # Not twice, nor when the message already names this layer (or model).
        if getattr(err, "_plait_located", False) or f"'{self.name}'" in str(err):
            return err
        shapes = format_shape([t.shape for t in flat_in])
        if len(flat_in) == 1:
            shapes = format_shape(flat_in[0].shape)
        try:
            new = type(err)(f"{self._where()} on input shape {shapes}: {err}")
        except Exception:
            return err
        new._plait_located = True  # type: ignore[attr-defined]
        return new
