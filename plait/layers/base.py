"""`Layer`: Keras's layer contract on a `torch.nn.Module`."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import torch

from plait import activations, constraints, initializers, regularizers
from plait.dtype_policies import policy as dtype_policies
from plait.graph.inference import weights_deferred
from plait.graph.node import Node
from plait.layers.call_api import CallAPI
from plait.layers.input_spec import InputSpec
from plait.layers.losses_api import LossesAPI
from plait.layers.node_api import NodeAPI
from plait.layers.variables import Variable, scope_prefix
from plait.layers.weights_api import (
    Layout,
    WeightInfo,
    WeightsAPI,
    add_weight_arguments,
)
from plait.types import DTypeLike, Shape
from plait.utils.naming import to_snake_case, unique_name, validate_name
from plait.utils.shapes import dtype_name, standardize_dtype
from plait.utils.signatures import accepted_config

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


_BASE_KEYS = frozenset({"name", "trainable", "dtype", "batch_input_shape"})


class Layer(NodeAPI, WeightsAPI, LossesAPI, CallAPI, torch.nn.Module):
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
            follows the module's own mode (`model.train()` / `model.eval()`); a
            layer whose mode was never set follows its `call`'s default, as in
            Keras: inference for most layers.
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
    _build_shapes: Any = None  # the input shapes of the first call that built it
    _mode_given = False  # train(mode) called on it (or on a model holding it)

    def train(self, mode: bool = True) -> Layer:
        """torch's `train(mode)`; from then on a call without `training=` runs in
        this mode. Before, a layer alone follows its `call`'s default for
        `training` (Keras's rule: None, inference, for most layers; True for the
        random image augmentation layers, which augment when called directly)."""
        self.__dict__["_mode_given"] = True
        return super().train(mode)

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
        self.__dict__["_mode_given"] = False  # ... until a mode is set (see `train`)
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
        if self._build_shapes is None:  # a custom build calling super().build()
            self._build_shapes = input_shape
        self.built = True

    def get_build_config(self) -> dict[str, Any] | None:
        """`{"input_shape": ...}` of the build (None if unbuilt), as Keras 3.

        A layer whose class overrides this or `build_from_config` has it saved
        with its config; loading hands it to `build_from_config` right after
        `from_config` (Keras's hooks for a `build` that takes more arguments).
        """
        if not self.built or self._build_shapes is None:
            return None
        return {"input_shape": self._build_shapes}

    def build_from_config(self, config: dict[str, Any] | None) -> None:
        """Build from `get_build_config()`'s output (nothing for None)."""
        if config and not self.built:
            self._build_for(config["input_shape"])

    def _saves_build_config(self) -> bool:
        """Whether the class overrides Keras's build-config hooks."""
        cls = type(self)
        return (
            cls.get_build_config is not Layer.get_build_config
            or cls.build_from_config is not Layer.build_from_config
        )

    def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses override this."""
        return inputs

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
        """Recreate a layer from `get_config()`.

        Keras compat: the base entries (`name`, `trainable`, `dtype`,
        `batch_input_shape`) are left out for an `__init__` that takes neither
        them nor `**kwargs` (a subclassed model's `__init__(self)`).
        """
        return cls(**accepted_config(cls, config, _BASE_KEYS))

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
    ) -> Variable:
        """Create a weight, register it, and return it (a `Variable`, which is a
        `torch.nn.Parameter` with Keras's `assign`, `numpy`, `path`, ...).

        Takes plait's name-first order `(name, shape, initializer, dtype,
        trainable, regularizer, constraint)` (`add_weight("kernel", (3, 4), ...)`),
        Keras 2's `(name, shape, dtype, initializer, regularizer, trainable,
        constraint)` (told apart by a dtype third) and Keras 3's shape-first order
        `(shape, initializer, dtype, trainable, autocast, regularizer, constraint,
        aggregation, name)` (`add_weight((3, 4), "zeros", name="kernel")`);
        keywords work in all three.

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
        a = add_weight_arguments(self._where(), args, kwargs)
        name, shape, dtype = a["name"], a["shape"], a["dtype"]
        initializer, trainable = a["initializer"], a["trainable"]
        regularizer, constraint = a["regularizer"], a["constraint"]
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
        param = Variable(
            value.contiguous().to(wdtype), requires_grad=trainable and self.trainable
        )
        param._owner = self
        if scope_prefix():  # built by a Sequential: Keras's path has its name
            self._path_prefix = scope_prefix()
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

    def _adopt(self, attr: str, variable: Variable) -> None:
        """Keras compat: a free `Variable` set as an attribute is a weight of
        this layer (named by its `name`, else by the attribute)."""
        trainable = variable.requires_grad
        variable._owner = self
        self._weight_info[variable] = WeightInfo(
            variable._name or attr, trainable, None
        )
        variable.requires_grad_(trainable and self.trainable)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "activation" and value is None and callable(self.__dict__.get(name)):
            # Keras compat: `layer.activation = None` makes it linear (Grad-CAM).
            value = activations.linear
        params = self.__dict__.get("_parameters")
        if isinstance(value, torch.nn.Parameter) and params is not None:
            # add_weight registered it under its weight name; the attribute wins.
            for key, p in list(params.items()):
                if p is value and key != name:
                    del params[key]
            if isinstance(value, Variable) and value._owner is None:
                self._adopt(name, value)
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

    def _fns_config(self, names: tuple[str, ...]) -> dict[str, Any]:
        """The regularizer/constraint attributes `names` as JSON data (None stays None)."""
        out = {}
        for name in names:
            module = constraints if name.endswith("constraint") else regularizers
            out[name] = module.serialize(getattr(self, name))  # type: ignore[attr-defined]
        return out
