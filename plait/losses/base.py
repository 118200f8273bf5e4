"""The loss base classes: `Loss`, `LossFunctionWrapper`, and the simple wrappers.

A `Loss` turns `(y_true, y_pred, sample_weight)` into a scalar the way
`keras.losses` does: per-sample values from a function of
`plait.losses.functions`, sample weights broadcast over them, then a
reduction (`"sum_over_batch_size"` by default). The classes of the built-in
losses are in `plait.losses.losses`.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

import torch
from torch import Tensor

from plait.losses.functions import (
    LossFn,
    TensorLike,
    _compute_dtype,
    _reduce,
    _same_rank,
    _snake_case,
    _standardize_dtype,
    _standardize_reduction,
    _to_tensor,
    _weigh,
)
from plait.utils.signatures import accepted_config

__all__ = ["Loss", "LossFunctionWrapper"]

# The built-in per-sample functions by name, for `LossFunctionWrapper.from_config`;
# filled by `plait.losses.losses`, which gives each its class.
_FUNCTIONS: dict[str, LossFn] = {}


class Loss:
    """Base class of losses: per-sample `call`, then a weighted reduction.

    Subclasses implement `call(y_true, y_pred)`, returning one value per sample
    (or per timestep); `__call__` applies `sample_weight` and the reduction.

    Args:
        name: Name of the loss; defaults to the class name in snake case.
        reduction: `"sum_over_batch_size"` (sum divided by the number of
            per-sample values, even with sample weights), `"mean"` (the same),
            `"sum"`, `"mean_with_sample_weight"` (sum divided by the sum of the
            weights), or `"none"`/`None` (no reduction).
        dtype: Computation dtype (`"float32"` or a `torch.dtype`). `None` keeps
            `y_pred`'s dtype, except that float16/bfloat16 are computed in
            float32 (Keras computes in its floatx, float32).

    Example:
        >>> class L1(Loss):
        ...     def call(self, y_true, y_pred):
        ...         return (y_true - y_pred).abs().mean(dim=-1)
        >>> L1()([[1.0], [2.0]], [[0.0], [0.0]])
        tensor(1.5000)
    """

    def __init__(
        self,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
        dtype: str | torch.dtype | None = None,
    ) -> None:
        self.name = name or _snake_case(type(self).__name__)
        self.reduction = _standardize_reduction(reduction)
        self.dtype = _standardize_dtype(dtype)

    def __call__(
        self,
        y_true: TensorLike,
        y_pred: TensorLike,
        sample_weight: TensorLike | None = None,
        *,
        mask: Tensor | None = None,
    ) -> Tensor:
        """Computes the reduced loss.

        Args:
            y_true: Targets, cast to `y_pred`'s dtype (class ids to long).
            y_pred: Predictions.
            sample_weight: Weights broadcast over the per-sample loss: a scalar,
                `(batch,)`, or the per-sample loss's shape.
            mask: plait only. Boolean tensor shaped like the per-sample loss;
                masked-out entries count neither in the sum nor the divisor.

        Returns:
            A scalar tensor (a per-sample tensor for `reduction="none"`).
        """
        y_pred = _compute_dtype(_to_tensor(y_pred), self.dtype)
        y_true = _to_tensor(y_true).to(device=y_pred.device, dtype=y_pred.dtype)
        values, out_mask = self._call_with_mask(y_true, y_pred)
        if mask is not None and out_mask is not None:
            mask = mask.bool() & out_mask
        elif out_mask is not None:
            mask = out_mask
        weight = None
        if sample_weight is not None:
            weight = _to_tensor(sample_weight).to(
                device=values.device, dtype=values.dtype
            )
        if mask is not None:
            weight = self._mask_to_weight(mask.to(values.device), weight, values)
        if weight is not None:
            values, weight = _weigh(values, weight)
        return _reduce(values, weight, self.reduction)

    def _mask_to_weight(
        self, mask: Tensor, weight: Tensor | None, values: Tensor
    ) -> Tensor:
        """Folds a mask into the weights, as Keras's `apply_mask` does."""
        mask_f = mask.to(values.dtype)
        if self.reduction in ("sum_over_batch_size", "mean"):
            # Valid entries get weight total/valid, so the mean is over valid ones.
            valid = mask_f.sum()
            scale = torch.where(
                valid == 0, torch.zeros_like(valid), mask_f.numel() / valid
            )
            mask_f = mask_f * scale
        if weight is None:
            return mask_f
        mask_f, weight = _same_rank(mask_f, weight)
        return mask_f * weight

    def _call_with_mask(
        self, y_true: TensorLike, y_pred: Tensor
    ) -> tuple[Tensor, Tensor | None]:
        return self.call(y_true, y_pred), None

    def call(self, y_true: TensorLike, y_pred: Tensor) -> Tensor:
        """Returns the per-sample loss; subclasses implement it."""
        raise NotImplementedError(
            f"{type(self).__name__}: subclasses of Loss must implement call()."
        )

    def get_config(self) -> dict[str, Any]:
        """Returns the JSON-able constructor arguments."""
        dtype = None if self.dtype is None else str(self.dtype).removeprefix("torch.")
        return {"name": self.name, "reduction": self.reduction, "dtype": dtype}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        """Creates a loss from `get_config()`'s output.

        A subclass whose `__init__` takes no `reduction` or `dtype` (the guides'
        `CustomMSE(regularization_factor, name)`) gets the base keys it can take.
        """
        return cls(**accepted_config(cls, config, _BASE_KEYS))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


_BASE_KEYS = ("name", "reduction", "dtype")


def check_fn(owner: str, fn: Any) -> None:
    """The TypeError of a function wrapper (loss or metric) given no callable."""
    if not callable(fn):
        raise TypeError(f"{owner}: expected `fn` to be callable, got fn={fn!r}.")


class FunctionWrapperConfig:
    """The config of a wrapper of a function (`LossFunctionWrapper`,
    `MeanMetricWrapper`): `fn` by name, then its keyword arguments.

    A subclass names the attribute holding the function (`_fn_attr`), the
    built-in functions a name may stand for (`_functions`), and for errors
    itself (`_wrapper`) and what the functions are (`_fn_kind`).
    """

    _wrapper: ClassVar[str]
    _fn_attr: ClassVar[str]
    _functions: ClassVar[dict[str, Any]]
    _fn_kind: ClassVar[str]
    _fn_kwargs: dict[str, Any]

    def get_config(self) -> dict[str, Any]:
        """Returns the config; `fn` is stored by name."""
        fn = getattr(self, self._fn_attr)
        name = getattr(fn, "__name__", repr(fn))
        return {**cast(Any, super()).get_config(), "fn": name, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Any:
        """Creates the wrapper; its `fn` must name a built-in function."""
        if "fn" not in config:  # the subclasses, whose configs omit `fn`
            return cls(**config)
        config = dict(config)
        fn = config.pop("fn")
        if isinstance(fn, str) or fn is None:
            if fn not in cls._functions:
                raise ValueError(
                    f"{cls._wrapper}.from_config: unknown {cls._fn_kind} function "
                    f"{fn!r}; expected one of {sorted(cls._functions)} (pass custom "
                    "functions through deserialize(..., custom_objects=...))."
                )
            fn = cls._functions[fn]
        return cast(Any, cls)(fn, **config)


class LossFunctionWrapper(FunctionWrapperConfig, Loss):
    """Turns a per-sample function `fn(y_true, y_pred, **kwargs)` into a `Loss`.

    Args:
        fn: The per-sample loss function.
        reduction: See `Loss`.
        name: Defaults to `fn.__name__`.
        dtype: See `Loss`.
        **kwargs: Passed to `fn` on every call.

    Example:
        >>> from plait.losses.functions import huber
        >>> LossFunctionWrapper(huber, delta=0.5)([[0.0]], [[2.0]])
        tensor(0.8750)
    """

    _wrapper = "LossFunctionWrapper"
    _fn_attr = "fn"
    _functions = _FUNCTIONS
    _fn_kind = "loss"

    def __init__(
        self,
        fn: LossFn,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: str | torch.dtype | None = None,
        **kwargs: Any,
    ) -> None:
        check_fn("LossFunctionWrapper", fn)
        super().__init__(
            name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype
        )
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true: TensorLike, y_pred: Tensor) -> Tensor:
        """Runs `fn` after matching ranks (`(batch,)` labels on `(batch, 1)`)."""
        if not isinstance(y_true, Tensor):
            y_true = _to_tensor(y_true)
        if y_true.ndim != y_pred.ndim:
            y_true, y_pred = _same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def __repr__(self) -> str:
        if type(self) is not LossFunctionWrapper:
            return super().__repr__()
        fn_name = getattr(self.fn, "__name__", self.fn)
        return f"<LossFunctionWrapper({fn_name}, kwargs={self._fn_kwargs})>"


class _BuiltIn(LossFunctionWrapper):
    """A loss class of one built-in function whose keywords are its own
    constructor arguments: kept as attributes, and listed in the config after
    name, reduction and dtype (the class stands for `fn`, so `fn` is not).
    """

    def __init__(
        self,
        fn: LossFn,
        reduction: str | None,
        name: str | None,
        dtype: str | torch.dtype | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(fn, reduction=reduction, name=name, dtype=dtype, **kwargs)
        for key, value in kwargs.items():
            setattr(self, key, value)

    def get_config(self) -> dict[str, Any]:
        """Returns name, reduction and dtype, then the function's keywords."""
        return {**Loss.get_config(self), **self._fn_kwargs}


class _Simple(_BuiltIn):
    """A wrapper whose constructor takes only `reduction`, `name` and `dtype`."""

    _fn: LossFn

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: str | torch.dtype | None = None,
    ) -> None:
        # The name defaults to the function's (`"mean_squared_error"`), as in Keras.
        super().__init__(type(self)._fn, reduction, name, dtype)


def simple_loss(
    class_name: str, fn: LossFn, doc: str, example: tuple[str, str], module: str
) -> type[_Simple]:
    """A `_Simple` loss class of `fn`, from one row of a table.

    The losses without keywords of their own differ only in their function and
    docstring. `example` is `(the call's arguments, its result)`.
    """
    arguments, result = example
    namespace = {
        "__doc__": f"""{doc}

    Example:
        >>> {class_name}()({arguments})
        {result}
    """,
        "__module__": module,
        "__qualname__": class_name,
        "_fn": staticmethod(fn),
    }
    return type(class_name, (_Simple,), namespace)
