"""How a layer is called: on symbolic tensors it records a graph node, on real ones it computes.

`Layer.__call__` sends a call with a `SymbolicTensor` among its arguments to
`_symbolic_call` (build, check the input spec, infer the output shapes and
masks on the meta device, record a `Node`) and any other to torch's
`Module.__call__`, which runs `forward` (build, check, fill `training` and
`mask`, autocast, `call`, activity regularization, output mask). Errors raised
inside `call` get the layer and its input shapes prefixed.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch

from plait.dtype_policies import autocast as amp
from plait.graph.inference import TensorSpec, meta_spec, params_on_meta
from plait.graph.node import Node
from plait.graph.symbolic import History, SymbolicTensor
from plait.layers.input_spec import InputSpec, check_input_spec, inputs_first
from plait.types import Shape
from plait.utils import tree
from plait.utils.build_lock import build_lock
from plait.utils.scoped import thread_value
from plait.utils.shapes import format_shape, is_shape
from plait.utils.signatures import takes_keyword

__all__ = ["CallAPI"]

# Errors raised inside `call()` that get the layer and its input shapes prefixed.
_CALL_ERRORS = (ValueError, TypeError, RuntimeError, NotImplementedError, IndexError)


def _map_shapes(fn: Callable[[Any], Any], shapes: Any) -> Any:
    """Map `fn` over the shape tuples of a nested structure of shapes."""
    if is_shape(shapes):
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


def _attach_masks(outputs: Any, masks: Any) -> None:
    """Set `_keras_mask` on eager outputs: one mask each for a list of outputs."""
    if masks is None:
        return
    if isinstance(outputs, torch.Tensor):
        if isinstance(masks, torch.Tensor):
            outputs._keras_mask = masks  # type: ignore[attr-defined]
        return
    flat = tree.flatten(outputs)
    flat_masks = tree.flatten(masks) if isinstance(masks, (list, tuple)) else [masks]
    if len(flat_masks) == 1:
        flat_masks = flat_masks * len(flat)
    for out, m in zip(flat, flat_masks):
        if isinstance(out, torch.Tensor) and isinstance(m, torch.Tensor):
            out._keras_mask = m  # type: ignore[attr-defined]


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


_TRAINING_DEFAULTS: dict[type, bool] = {}
# `training` given to the eager calls in progress on this thread (None: none).
_CONTEXT = threading.local()


@contextlib.contextmanager
def training_context(training: bool | None) -> Iterator[None]:
    """Within: layer calls without `training=` run with `training` (Keras's call
    context; `predict` enters it with False around its generated program)."""
    with thread_value(_CONTEXT, "training", training):
        yield


def resolve_training(
    layer: Any, given: bool | None
) -> tuple[bool | None, bool | None, bool | None]:
    """Keras's call rules for `training`, in one place for layers and models.

    Returns `(outer, context, value)`: the call context in progress (to restore
    after the call), the context for the layers this call runs (`given`, else
    `outer`), and this call's value: the context, else the module's mode once
    one was set (`train(mode)`), else None: nothing said, each layer's
    `call` default applies (Keras: True for the random augmentation layers).
    """
    outer: bool | None = getattr(_CONTEXT, "training", None)
    context = outer if given is None else bool(given)
    value = context
    if value is None and (layer._mode_given or layer.training):
        value = layer.training
    return outer, context, value


def set_training_context(training: bool | None) -> None:
    """Set the call context's `training` (restore it with the `outer` value)."""
    _CONTEXT.training = training


def _training_default(cls: type) -> bool:
    """The default of `cls.call`'s `training` when it is a bool (else False)."""
    default = _TRAINING_DEFAULTS.get(cls)
    if default is None:
        param = inspect.signature(cls.call).parameters.get("training")  # type: ignore[attr-defined]
        default = _TRAINING_DEFAULTS[cls] = bool(
            param is not None and param.default is True
        )
    return default


def _call_signature(cls: type) -> tuple[bool, bool]:
    """Whether `cls.call` takes `training` and `mask` (or `**kwargs`); cached per class."""
    flags = _SIGNATURES.get(cls)
    if flags is None:
        call = cls.call  # type: ignore[attr-defined]
        flags = (takes_keyword(call, "training"), takes_keyword(call, "mask"))
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


def _first_by_name(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Keras compat: `call`'s first argument given by its name (`query=...` for
    MultiHeadAttention, `a=...` for `call(self, a)`) moved into `args`."""
    if not args and kwargs:
        first = next((n for n, i in _call_details(cls)[0].items() if i == 0), None)
        if first is not None and first in kwargs:
            return (kwargs.pop(first),)
    return args


def fills_mask(layer: Any, args: Any, kwargs: dict[str, Any]) -> bool:
    """Whether a call's `mask` gets its inputs' mask: Keras 3 fills it only when
    the call has one tensor argument (a user layer's `call(x, enc, mask=None)`
    gets None; its `<arg>_mask` parameters get theirs). plait's own layers keep
    their rule: the first input's mask (an RNN with `initial_state` too)."""
    if type(layer).__module__.startswith("plait."):
        return True
    rest = [*args[1:], *(v for k, v in kwargs.items() if k not in ("mask", "training"))]
    tensors = (torch.Tensor, SymbolicTensor)
    return not any(isinstance(v, tensors) for v in tree.flatten(rest))


_SHAPE_PARAMS: dict[type, list[str]] = {}


def _shape_params(cls: type) -> list[str]:
    """`compute_output_shape`'s `<arg>_shape` parameters when it takes one per
    call argument (Keras's form for a call of several tensors), else []."""
    names = _SHAPE_PARAMS.get(cls)
    if names is None:
        params = inspect.signature(cls.compute_output_shape).parameters.values()  # type: ignore[attr-defined]
        names = [
            p.name
            for p in params
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            and p.name != "self"
        ]
        call = _call_details(cls)[0]
        ok = len(names) > 1 and all(
            n.endswith("_shape") and n[:-6] in call for n in names
        )
        names = _SHAPE_PARAMS[cls] = names if ok else []
    return names


def same_shape(self: Any, input_shape: Shape) -> Shape:
    """Unchanged."""
    return input_shape


def _overrides(obj: Any, name: str) -> bool:
    """Whether `obj`'s class defines its own `name` (`compute_mask`, ...)."""
    return getattr(type(obj), name) is not getattr(CallAPI, name)


class CallAPI(torch.nn.Module):
    """Mixin of `Layer`: `__call__`, `forward` and the symbolic call that records nodes.

    `compute_output_shape` and `compute_mask` live here with the machinery that
    asks whether a layer overrides them.
    """

    name: str
    built: bool
    supports_masking: bool
    training: bool
    input_spec: InputSpec | list[InputSpec] | None
    activity_regularizer: Callable[[torch.Tensor], torch.Tensor] | None
    _compute_dtype: torch.dtype
    _keeps_input_dtype: ClassVar[bool]
    _build_shapes: Any
    _initial_weights: Any
    _inbound_nodes: list[Node]

    if TYPE_CHECKING:

        def build(self, input_shape: Any) -> None: ...
        def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any: ...
        def set_weights(self, weights: list[Any]) -> None: ...
        def add_loss(self, loss: torch.Tensor) -> None: ...
        def _clear_losses(self) -> None: ...
        def _call_as_entry(
            self, fn: Callable[..., Any], *args: Any, **kwargs: Any
        ) -> Any: ...
        def _where(self) -> str: ...

    def compute_output_shape(self, input_shape: Any) -> Any:
        """Output shape(s) for `input_shape`; by default inferred on the meta device."""
        raise NotImplementedError

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """Output mask: the input mask if the layer supports masking, else None."""
        return mask if self.supports_masking else None

    def _call_flags(self) -> tuple[bool, bool]:
        """Whether `call` takes `training` and `mask`."""
        return _call_signature(type(self))

    def _computes_masks(self) -> bool:
        """Whether the layer defines its own `compute_mask` (else masks pass through)."""
        return _overrides(self, "compute_mask")

    def _makes_masks(self) -> bool:
        """Whether outputs get masks: the layer supports masking or computes its
        own (Keras calls an overridden `compute_mask` without `supports_masking`)."""
        return bool(self.supports_masking) or self._computes_masks()

    def _call_positions(self) -> dict[str, int]:
        """Position of each positional parameter of `call` (the first is 0)."""
        return _call_details(type(self))[0]

    def _call_arg(self, name: str, args: Any, kwargs: dict[str, Any]) -> Any:
        """The value a call passes for `call`'s parameter `name` (None if none)."""
        position = self._call_positions().get(name, -1)
        return args[position] if 0 <= position < len(args) else kwargs.get(name)

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
        return self._call_as_entry(torch.nn.Module.__call__, self, *args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Eager call on real tensors (torch's entry point; same as calling the layer)."""
        args = inputs_first(self, _first_by_name(type(self), args, kwargs), kwargs)
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
        # Keras's call rules (`resolve_training`): `model(x, training=True)`
        # reaches the layers its `call` calls without passing it on.
        given = kwargs.get("training")
        outer, context, value = resolve_training(self, given)
        if training_arg and given is None:
            kwargs["training"] = (
                _training_default(type(self)) if value is None else value
            )
        elif not training_arg:
            kwargs.pop("training", None)
        mask = kwargs.get("mask")
        if mask is None:
            mask = tree.map_structure(lambda t: getattr(t, "_keras_mask", None), inputs)
            if all(m is None for m in tree.flatten(mask)):
                mask = None
            elif mask_arg and fills_mask(self, args, kwargs):
                kwargs["mask"] = mask
        elif not mask_arg:
            kwargs.pop("mask")
        for arg_name, mask_name in self._arg_masks():
            value = self._call_arg(arg_name, args, kwargs)
            value_mask = getattr(value, "_keras_mask", None)
            if value_mask is not None and kwargs.get(mask_name) is None:
                kwargs[mask_name] = value_mask
        call = self.call
        if self._compute_dtype in amp.HALF or amp.in_region():
            call = amp.LayerCall(self, call)  # its policy's dtype (mixed precision)
        set_training_context(context)
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
        finally:
            set_training_context(outer)
        if self.activity_regularizer is not None:
            self._add_activity_loss(outputs)
        if (self.supports_masking and mask is not None) or self._computes_masks():
            _attach_masks(outputs, self.compute_mask(inputs, mask))
        return outputs

    def _build_for(self, input_shapes: Any) -> None:
        with build_lock(self):  # first calls from several threads build once
            if self._initial_weights is not None:
                self.build(input_shapes)
                self.built = True
                self.set_weights(self._initial_weights)
                self._initial_weights = None
            elif not self.built:
                self._build_shapes = input_shapes  # a subclassed model saves them
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
        kwargs = dict(kwargs)
        args = inputs_first(self, _first_by_name(type(self), args, kwargs), kwargs)
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
            if mask_arg and has_mask and fills_mask(self, args, kwargs):
                call_kwargs["mask"] = masks
            specs = self._infer_output_specs(inputs, args, call_kwargs, flat_in)
        except _CALL_ERRORS as err:
            raise self._locate(err, flat_in) from err
        finally:
            self._clear_losses()  # added on meta tensors: not a real call's
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
        if self._makes_masks():
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

            def shapes_of(value: Any) -> Any:
                return tree.map_structure(
                    lambda t: t.shape if isinstance(t, SymbolicTensor) else None, value
                )

            names = _shape_params(type(self))
            if names:  # Keras: compute_output_shape(self, a_shape, b_shape)
                shapes = self.compute_output_shape(
                    **{
                        n: shapes_of(
                            self._call_arg(n[: -len("_shape")], args, call_kwargs)
                        )
                        for n in names
                    }
                )
            else:
                shapes = self.compute_output_shape(shapes_of(inputs))
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
