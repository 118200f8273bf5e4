"""Metric base classes: state tensors kept on the device, `Mean`, `Sum`, wrappers.

A metric's state lives in tensors created on the device of its first update
(or the device given to `.to()`), and `update_state` changes them in place with
tensor ops only: no `.item()`, no host synchronisation. Reading `result()` is
the only moment a value needs to reach the host, and the caller decides when.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import torch
from torch import Tensor

from plait import initializers
from plait.layers.variables import Variable
from plait.layers.weights_api import WeightInfo
from plait.losses.base import FunctionWrapperConfig, check_fn
from plait.losses.functions import (
    TensorLike,
    _same_rank,
    _snake_case,
    _to_tensor,
)
from plait.utils.shapes import standardize_dtype

__all__ = ["Mean", "MeanMetricWrapper", "Metric", "Sum"]

MetricFn = Callable[..., Tensor]
# Per-sample functions by name, for `MeanMetricWrapper.from_config`; filled by
# `plait.metrics.metrics`, which defines most of them.
FUNCTIONS: dict[str, MetricFn] = {}


def _resolve_dtype(dtype: str | torch.dtype | None) -> torch.dtype:
    if dtype is None:
        return torch.float32  # Keras compat: floatx
    resolved = (
        dtype if isinstance(dtype, torch.dtype) else getattr(torch, str(dtype), None)
    )
    if not isinstance(resolved, torch.dtype) or not resolved.is_floating_point:
        raise ValueError(
            f"Metric: expected `dtype` to be a floating dtype such as 'float32', "
            f"got dtype={dtype!r}."
        )
    return resolved


class Metric:
    """Base class of stateful metrics.

    Subclasses declare their state in `__init__` with `add_state(name, shape)`
    (or later, before the first read, when shapes depend on the data), update it
    in place in `update_state`, and compute the value in `result`. States are
    tensors of the metric's dtype, created lazily on the device of the first
    update.

    Keras's way works too: `self.tp = self.add_variable(shape=(),
    initializer="zeros", name="tp")` (Keras 3) or `self.add_weight(name="tp")`
    (Keras 2) in `__init__`, then `self.tp.assign_add(...)` in `update_state`;
    the variables move to the device of the first compiled update, are zeroed by
    the default `reset_state` and summed over processes under `torchrun`.

    Args:
        dtype: dtype of the state and the result; defaults to float32.
        name: Name shown in logs; defaults to the class name in snake case.

    Example:
        >>> class Count(Metric):
        ...     def __init__(self, name=None, dtype=None):
        ...         super().__init__(dtype=dtype, name=name)
        ...         self.add_state("count")
        ...     def update_state(self, y_true, y_pred, sample_weight=None):
        ...         self.state("count", y_pred).add_(y_pred.shape[0])
        ...     def result(self):
        ...         return self.state("count").clone()
        >>> m = Count()
        >>> m.update_state(None, torch.zeros(3, 2))
        >>> m.result()
        tensor(3.)
    """

    def __init__(
        self, dtype: str | torch.dtype | None = None, name: str | None = None
    ) -> None:
        self.name = name or _snake_case(type(self).__name__)
        self._dtype = _resolve_dtype(dtype)
        self._device: torch.device | None = None
        self._state_shapes: dict[str, tuple[int, ...]] = {}
        self._states: dict[str, Tensor] = {}
        self._constants: dict[str, Tensor] = {}
        self._weight_info: dict[Variable, WeightInfo] = {}  # add_variable's

    def _where(self) -> str:
        return f"{type(self).__name__} metric '{self.name}'"

    def add_variable(
        self,
        shape: tuple[int, ...] = (),
        initializer: Any = "zeros",
        dtype: str | torch.dtype | None = None,
        aggregation: str = "sum",
        name: str | None = None,
        **kwargs: Any,
    ) -> Variable:
        """A state variable, as Keras 3's `Metric.add_variable` (keyword order too).

        Args:
            shape: The variable's shape; a scalar by default.
            initializer: Initializer name, class or callable; zeros by default.
            dtype: The metric's dtype by default.
            aggregation: How processes combine it; only `"sum"` (Keras's default)
                is meaningful here: every state is summed under `torchrun`.
            name: Shown in `path` (`"<metric>/<name>"`) and `variables`.

        Returns:
            A non-trainable `Variable` (a `torch.nn.Parameter`); update it with
            `assign`/`assign_add` or in place.
        """
        for key in ("synchronization", "autocast"):
            kwargs.pop(key, None)
        if kwargs:
            raise TypeError(f"{self._where()}: add_variable() got {sorted(kwargs)}.")
        del aggregation  # one rule for every state: summed over processes
        wdtype = standardize_dtype(dtype, self._dtype)
        shape = tuple(int(d) for d in shape)
        value = initializers.get(initializer or "zeros")(shape, dtype=wdtype)
        variable = Variable(value.to(self._device or "cpu"), requires_grad=False)
        variable._owner = self
        name = name or "variable"
        key, n = name, 0
        while key in self._state_shapes:
            n += 1
            key = f"{name}_{n}"
        self._weight_info[variable] = WeightInfo(name, False, None)
        self._state_shapes[key] = shape
        self._states[key] = variable
        return variable

    def add_weight(
        self,
        name: str | None = None,
        shape: tuple[int, ...] = (),
        aggregation: str = "sum",
        synchronization: str = "on_read",
        initializer: Any = None,
        dtype: str | torch.dtype | None = None,
    ) -> Variable:
        """Keras 2's name for `add_variable` (and its argument order)."""
        del synchronization
        return self.add_variable(shape, initializer, dtype, aggregation, name)

    def _place(self, like: Tensor) -> None:
        """Before the first update: follow `like`'s device (variables included)."""
        if self._device is None:
            self.to(like.device)

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of the state and of `result()`."""
        return self._dtype

    @property
    def device(self) -> torch.device | None:
        """Where the state lives; None before the first update or `.to()`."""
        return self._device

    @property
    def variables(self) -> list[Tensor]:
        """The state tensors created so far."""
        return list(self._states.values())

    def add_state(self, name: str, shape: tuple[int, ...] = ()) -> None:
        """Declares a zero-initialised state tensor, created on first use."""
        self._state_shapes[name] = tuple(shape)
        self._states.pop(name, None)

    def state(self, name: str, like: Tensor | None = None) -> Tensor:
        """The state tensor `name`, created (on `like`'s device) if needed.

        Args:
            name: A name given to `add_state`.
            like: A tensor of the current update; fixes the device at the first
                update when `.to()` was not called.

        Returns:
            The live state tensor; update it in place.
        """
        if self._device is None:
            self._device = like.device if like is not None else torch.device("cpu")
        value = self._states.get(name)
        if value is None:
            shape = self._state_shapes[name]
            value = torch.zeros(shape, dtype=self._dtype, device=self._device)
            self._states[name] = value
        return value

    def _constant(self, key: str, values: list[float], like: Tensor) -> Tensor:
        """`values` as a tensor on `like`'s device, copied there once, not per batch."""
        cached = self._constants.get(key)
        if cached is None or cached.device != like.device:
            cached = torch.tensor(values, dtype=self._dtype).to(like.device)
            self._constants[key] = cached
        return cached

    def _input(self, x: TensorLike, like: Tensor | None = None) -> Tensor:
        """`x` as a detached tensor on the state's device (floats default float32)."""
        tensor = _to_tensor(x).detach()
        device = self._device or (like.device if like is not None else tensor.device)
        return tensor.to(device)

    def _weight(self, sample_weight: TensorLike | None, like: Tensor) -> Tensor | None:
        """`sample_weight` as a tensor of the metric's dtype beside `like`, or None."""
        if sample_weight is None:
            return None
        return self._input(sample_weight, like).to(self.dtype)

    def reset_state(self) -> None:
        """Zeroes every state tensor in place (keeping its device)."""
        for value in self._states.values():
            value.zero_()

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        """Accumulates statistics from one batch; subclasses implement it."""
        raise NotImplementedError(
            f"{type(self).__name__}: subclasses of Metric must implement "
            "update_state()."
        )

    def result(self) -> Tensor:
        """Returns the current value as a tensor; subclasses implement it."""
        raise NotImplementedError(
            f"{type(self).__name__}: subclasses of Metric must implement result()."
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Tensor:
        """Updates the state with one batch and returns the new result."""
        self.update_state(*args, **kwargs)
        return self.result()

    def to(self, device: str | torch.device) -> Metric:
        """Moves the state (now or when created) to `device`; returns self.

        In place: a variable held as an attribute stays the same object.
        """
        self._device = torch.device(device)
        for key, value in self._states.items():
            if isinstance(value, Variable):  # an attribute of the metric too
                torch.utils.swap_tensors(value, _moved(value, self._device))
            else:
                self._states[key] = value.to(self._device)
        return self

    def get_config(self) -> dict[str, Any]:
        """Returns the JSON-able constructor arguments."""
        return {"name": self.name, "dtype": str(self._dtype).removeprefix("torch.")}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        """Creates a metric from `get_config()`'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def _moved(variable: Variable, device: torch.device) -> Variable:
    """A copy of `variable` on `device`, to swap with it (its class and owner kept)."""
    if variable.is_meta:  # no values to copy
        value = torch.zeros(variable.shape, dtype=variable.dtype, device=device)
    else:
        value = variable.detach().to(device)
    moved = Variable(value, requires_grad=False)
    moved.__dict__.update(variable.__dict__)
    return moved


def _samplewise(
    values: Tensor, sample_weight: Tensor | None, reduce_fn: Callable[..., Tensor]
) -> tuple[Tensor, Tensor | None]:
    """Weighs values and reduces them to one per sample (Keras's rule)."""
    if sample_weight is not None:
        values, sample_weight = _same_rank(values, sample_weight)
        w_ndim, v_ndim = sample_weight.ndim, values.ndim
        if v_ndim > w_ndim:  # weights per sample: average the values first
            values = reduce_fn(values, dim=tuple(range(w_ndim, v_ndim)))
        try:
            sample_weight = sample_weight.broadcast_to(values.shape)
        except RuntimeError as err:
            raise ValueError(
                f"Metric: expected sample_weight broadcastable to values of shape "
                f"{tuple(values.shape)}, got sample_weight.shape="
                f"{tuple(sample_weight.shape)}."
            ) from err
        values = values * sample_weight
        if w_ndim > 1:
            sample_weight = reduce_fn(sample_weight, dim=tuple(range(1, w_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, dim=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the values seen.

    Args:
        name: Defaults to `"sum"`.
        dtype: See `Metric`.

    Example:
        >>> m = Sum()
        >>> m.update_state([1.0, 3.0, 5.0, 7.0], sample_weight=[1, 1, 0, 0])
        >>> m.result()
        tensor(4.)
    """

    def __init__(
        self, name: str = "sum", dtype: str | torch.dtype | None = None
    ) -> None:
        super().__init__(dtype=dtype, name=name)
        self.add_state("total")

    def update_state(
        self, values: TensorLike, sample_weight: TensorLike | None = None
    ) -> None:
        """Adds the (weighted) sum of `values`."""
        values = self._input(values).to(self.dtype)
        weight = self._weight(sample_weight, values)
        values, _ = _samplewise(values, weight, torch.sum)
        self.state("total", values).add_(values.sum())

    def result(self) -> Tensor:
        """The running sum."""
        return self.state("total").clone()


class Mean(Metric):
    """The (weighted) mean of the values seen: `total / count`.

    Values of shape `(batch, ...)` are first averaged per sample; weights count
    per sample (a weight of 0 leaves a sample out).

    Args:
        name: Defaults to `"mean"`.
        dtype: See `Metric`.

    Example:
        >>> m = Mean()
        >>> m.update_state([1.0, 3.0, 5.0, 7.0], sample_weight=[1, 1, 0, 0])
        >>> m.result()
        tensor(2.)
    """

    def __init__(
        self, name: str = "mean", dtype: str | torch.dtype | None = None
    ) -> None:
        super().__init__(dtype=dtype, name=name)
        self.add_state("total")
        self.add_state("count")

    def update_state(
        self, values: TensorLike, sample_weight: TensorLike | None = None
    ) -> None:
        """Adds the batch's weighted sum to `total` and its weight to `count`."""
        values = self._input(values).to(self.dtype)
        weight = self._weight(sample_weight, values)
        values, weight = _samplewise(values, weight, torch.mean)
        self.state("total", values).add_(values.sum())
        if weight is not None:
            self.state("count").add_(weight.sum())
        else:  # a Python number: no device round trip
            self.state("count").add_(values.shape[0] if values.ndim else 1)

    def result(self) -> Tensor:
        """`total / count`, or 0 before any sample."""
        total, count = self.state("total"), self.state("count")
        return torch.where(count == 0, torch.zeros_like(total), total / count)


class MeanMetricWrapper(FunctionWrapperConfig, Mean):
    """The mean of a per-sample function `fn(y_true, y_pred, **kwargs)`.

    Args:
        fn: Function returning one value per sample (or per timestep), such as
            a loss function.
        name: Defaults to `fn.__name__`.
        dtype: See `Metric`.
        **kwargs: Passed to `fn` on every update.

    Example:
        >>> from plait.losses.losses import huber
        >>> m = MeanMetricWrapper(huber, delta=0.5)
        >>> m.update_state([[0.0], [0.0]], [[2.0], [0.0]])
        >>> m.result()
        tensor(0.4375)
    """

    _wrapper = "MeanMetricWrapper"
    _fn_attr = "_fn"
    _functions = FUNCTIONS
    _fn_kind = "metric"

    def __init__(
        self,
        fn: MetricFn,
        name: str | None = None,
        dtype: str | torch.dtype | None = None,
        **kwargs: Any,
    ) -> None:
        check_fn("MeanMetricWrapper", fn)
        default_name = str(getattr(fn, "__name__", "mean_metric_wrapper"))
        super().__init__(name=name or default_name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    # Keras compat: wrappers take (y_true, y_pred), Mean takes (values).
    def update_state(  # type: ignore[override]
        self,
        y_true: TensorLike,
        y_pred: TensorLike,
        sample_weight: TensorLike | None = None,
    ) -> None:
        """Adds `fn(y_true, y_pred)` of one batch to the running mean."""
        y_pred = self._input(y_pred)
        y_true = self._input(y_true, y_pred)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, self._weigh(y_true, y_pred, sample_weight))

    def _weigh(
        self, y_true: Tensor, y_pred: Tensor, sample_weight: TensorLike | None
    ) -> TensorLike | None:
        """The batch's sample weights; a subclass may leave entries out here."""
        return sample_weight


class _Wrapped(MeanMetricWrapper):
    """A `MeanMetricWrapper` of a fixed function, configured by name and dtype."""

    _fn: MetricFn
    _default_name: str | None = None  # None: the function's name

    def __init__(
        self,
        name: str | None = None,
        dtype: str | torch.dtype | None = None,
        **kwargs: Any,
    ) -> None:
        fn = type(self)._fn
        super().__init__(fn, name=name or self._default_name, dtype=dtype, **kwargs)

    def get_config(self) -> dict[str, Any]:
        """Returns the config with the function's keyword arguments."""
        return {**Metric.get_config(self), **self._fn_kwargs}


DTypeLike = str | torch.dtype | None


class Param(NamedTuple):
    """A keyword of a metric constructor besides `name` and `dtype`: a table cell."""

    name: str
    default: Any
    annotation: str  # as the signature shows it, e.g. "int | None"
    doc: str


def wrapped_metric(
    class_name: str,
    fn: MetricFn | None,
    default_name: str,
    doc: str,
    example: tuple[str, str],
    module: str,
    *,
    ctor: str = "",
    before: tuple[Param, ...] = (),
    after: tuple[Param, ...] = (),
    methods: dict[str, Callable[..., Any]] | None = None,
    base: type[Mean] | None = None,
) -> type[Mean]:
    """A `_Wrapped` subclass with Keras's signature, from one row of a table.

    The metric forms of the losses and accuracies differ only in their
    function, default name, extra keywords and docstring. The constructor is
    `(*before, name=default_name, dtype=None, *after)`; the extra keywords
    reach `fn` on every update and become attributes. `doc` is the summary
    (and any further paragraphs); the Args and an example are added from
    `example = (update_state's arguments, result)` and `ctor`, the
    constructor's arguments in the example. `methods` are added to the class
    (overrides such as `_weigh`); `base` replaces `_Wrapped` (with `fn` None).
    """
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [
        inspect.Parameter(p.name, kind, default=p.default, annotation=p.annotation)
        for p in before + after
    ]
    params[len(before) : len(before)] = [
        inspect.Parameter("name", kind, default=default_name, annotation="str"),
        inspect.Parameter("dtype", kind, default=None, annotation="DTypeLike"),
    ]
    signature = inspect.Signature(
        [inspect.Parameter("self", kind), *params], return_annotation="None"
    )

    parent = base or _Wrapped

    def __init__(self: Mean, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        extra = dict(bound.arguments)
        del extra["self"]
        name, dtype = extra.pop("name"), extra.pop("dtype")
        parent.__init__(self, name=name, dtype=dtype, **extra)
        for key, value in extra.items():
            setattr(self, key, value)

    __init__.__signature__ = signature  # type: ignore[attr-defined]
    docs = {p.name: p.doc for p in before + after}
    docs.update(name=f'Defaults to `"{default_name}"`.', dtype="See `Metric`.")
    args = "".join(f"\n        {p.name}: {docs[p.name]}" for p in params)
    arguments, result = example
    namespace = {
        "__init__": __init__,
        "__doc__": f"""{doc}

    Args:{args}

    Example:
        >>> m = {class_name}({ctor})
        >>> m.update_state({arguments})
        >>> m.result()
        {result}
    """,
        "__module__": module,
        "__qualname__": class_name,
        "_default_name": default_name,
        **(methods or {}),
    }
    if fn is not None:
        namespace["_fn"] = staticmethod(fn)
    return type(class_name, (parent,), namespace)
