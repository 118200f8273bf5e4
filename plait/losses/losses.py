"""Losses: Keras 3's `Loss` classes, string names, and per-sample functions.

A `Loss` turns `(y_true, y_pred, sample_weight)` into a scalar the way
`keras.losses` does: per-sample values from a function of
`plait.losses.functions` (re-exported here), sample weights broadcast
over them, then a reduction (`"sum_over_batch_size"` by default).
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import Tensor

from plait.losses.functions import (
    LossFn,
    TensorLike,
    _check_axis,
    _compute_dtype,
    _reduce,
    _same_rank,
    _snake_case,
    _standardize_dtype,
    _standardize_reduction,
    _to_tensor,
    _weigh,
    binary_crossentropy,
    categorical_crossentropy,
    categorical_hinge,
    cosine_similarity,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from plait.utils.registry import Registry

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalHinge",
    "CosineSimilarity",
    "Hinge",
    "Huber",
    "KLDivergence",
    "LogCosh",
    "Loss",
    "LossFunctionWrapper",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Poisson",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
    "binary_crossentropy",
    "categorical_crossentropy",
    "categorical_hinge",
    "cosine_similarity",
    "deserialize",
    "from_logits_variant",
    "get",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "poisson",
    "serialize",
    "sparse_categorical_crossentropy",
    "squared_hinge",
]


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
        return cls(**_accepted(cls, config))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


_BASE_KEYS = ("name", "reduction", "dtype")


def _accepted(cls: type, config: dict[str, Any]) -> dict[str, Any]:
    """`config` less the base keys that `cls.__init__` does not take."""
    params = inspect.signature(cls.__init__).parameters  # type: ignore[misc]
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return config
    return {k: v for k, v in config.items() if k in params or k not in _BASE_KEYS}


class LossFunctionWrapper(Loss):
    """Turns a per-sample function `fn(y_true, y_pred, **kwargs)` into a `Loss`.

    Args:
        fn: The per-sample loss function.
        reduction: See `Loss`.
        name: Defaults to `fn.__name__`.
        dtype: See `Loss`.
        **kwargs: Passed to `fn` on every call.

    Example:
        >>> LossFunctionWrapper(huber, delta=0.5)([[0.0]], [[2.0]])
        tensor(0.8750)
    """

    def __init__(
        self,
        fn: LossFn,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: str | torch.dtype | None = None,
        **kwargs: Any,
    ) -> None:
        if not callable(fn):
            raise TypeError(
                f"LossFunctionWrapper: expected `fn` to be callable, got fn={fn!r}."
            )
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

    def get_config(self) -> dict[str, Any]:
        """Returns the config; `fn` is stored by name."""
        fn_name = getattr(self.fn, "__name__", repr(self.fn))
        return {**super().get_config(), "fn": fn_name, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        """Creates the loss; a wrapper's `fn` must name a built-in function."""
        if "fn" not in config:  # the subclasses, whose configs omit `fn`
            return cls(**config)
        config = dict(config)
        fn = config.pop("fn", None)
        if isinstance(fn, str) or fn is None:
            if fn not in _FUNCTIONS:
                raise ValueError(
                    f"LossFunctionWrapper.from_config: unknown loss function {fn!r}; "
                    f"expected one of {sorted(_FUNCTIONS)} (pass custom functions "
                    "through deserialize(..., custom_objects=...))."
                )
            fn = _FUNCTIONS[fn]
        return cls(fn, **config)

    def __repr__(self) -> str:
        if type(self) is not LossFunctionWrapper:
            return super().__repr__()
        fn_name = getattr(self.fn, "__name__", self.fn)
        return f"<LossFunctionWrapper({fn_name}, kwargs={self._fn_kwargs})>"


class _Simple(LossFunctionWrapper):
    """A wrapper whose constructor takes only `reduction`, `name` and `dtype`."""

    _fn: LossFn

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: str | torch.dtype | None = None,
    ) -> None:
        # The name defaults to the function's (`"mean_squared_error"`), as in Keras.
        super().__init__(type(self)._fn, reduction=reduction, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        """Returns name, reduction and dtype."""
        return Loss.get_config(self)


class MeanSquaredError(_Simple):
    """Mean of squares of errors: `mean(square(y_true - y_pred))`.

    Example:
        >>> MeanSquaredError()([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]])
        tensor(0.5000)
    """

    _fn = staticmethod(mean_squared_error)


class MeanAbsoluteError(_Simple):
    """Mean of absolute errors: `mean(abs(y_true - y_pred))`.

    Example:
        >>> MeanAbsoluteError()([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]])
        tensor(0.5000)
    """

    _fn = staticmethod(mean_absolute_error)


class MeanAbsolutePercentageError(_Simple):
    """`100 * mean(abs((y_true - y_pred) / y_true))`, the divisor at least eps.

    Example:
        >>> MeanAbsolutePercentageError()([[2.0, 4.0]], [[1.0, 4.0]])
        tensor(25.)
    """

    _fn = staticmethod(mean_absolute_percentage_error)


class MeanSquaredLogarithmicError(_Simple):
    """`mean(square(log(y_true + 1) - log(y_pred + 1)))`, inputs at least eps.

    Example:
        >>> MeanSquaredLogarithmicError()([[0.0]], [[0.0]])
        tensor(0.)
    """

    _fn = staticmethod(mean_squared_logarithmic_error)


class LogCosh(_Simple):
    """`mean(log(cosh(y_pred - y_true)))`: like MSE near 0, like MAE far away.

    Example:
        >>> LogCosh()([[0.0]], [[0.0]])
        tensor(0.)
    """

    _fn = staticmethod(log_cosh)


class Hinge(_Simple):
    """`mean(maximum(1 - y_true * y_pred, 0))` with labels in {-1, 1} or {0, 1}.

    Example:
        >>> Hinge()([[1.0, 0.0]], [[0.5, 0.5]])
        tensor(1.)
    """

    _fn = staticmethod(hinge)


class SquaredHinge(_Simple):
    """`mean(square(maximum(1 - y_true * y_pred, 0)))`.

    Example:
        >>> SquaredHinge()([[1.0, 0.0]], [[0.5, 0.5]])
        tensor(1.2500)
    """

    _fn = staticmethod(squared_hinge)


class CategoricalHinge(_Simple):
    """`maximum(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`.

    Example:
        >>> CategoricalHinge()([[0.0, 1.0]], [[0.3, 0.7]])
        tensor(0.6000)
    """

    _fn = staticmethod(categorical_hinge)


class KLDivergence(_Simple):
    """Kullback-Leibler divergence `sum(y_true * log(y_true / y_pred))`.

    Example:
        >>> KLDivergence()([[1.0, 0.0]], [[1.0, 0.0]])
        tensor(0.)
    """

    _fn = staticmethod(kl_divergence)


class Poisson(_Simple):
    """`mean(y_pred - y_true * log(y_pred + eps))`.

    Example:
        >>> Poisson()([[1.0]], [[1.0]])
        tensor(1.0000)
    """

    _fn = staticmethod(poisson)


class Huber(LossFunctionWrapper):
    """Huber loss: `0.5 * x**2` for `|x| <= delta`, else `delta * (|x| - 0.5 * delta)`.

    Args:
        delta: Where the loss changes from quadratic to linear.
        reduction: See `Loss`.
        name: Defaults to `"huber_loss"` (Keras's name).
        dtype: See `Loss`.

    Example:
        >>> Huber(delta=1.0)([[0.0, 0.0]], [[0.5, 3.0]])
        tensor(1.3125)
    """

    def __init__(
        self,
        delta: float = 1.0,
        reduction: str | None = "sum_over_batch_size",
        name: str = "huber_loss",
        dtype: str | torch.dtype | None = None,
    ) -> None:
        super().__init__(
            huber, reduction=reduction, name=name, dtype=dtype, delta=delta
        )
        self.delta = delta

    def get_config(self) -> dict[str, Any]:
        """Returns the config, including `delta` (which Keras 3 drops)."""
        return {**Loss.get_config(self), "delta": self.delta}


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity between `y_true` and `y_pred` along `axis`.

    Args:
        axis: The axis along which vectors are compared.
        reduction: See `Loss`.
        name: Defaults to `"cosine_similarity"`.
        dtype: See `Loss`.

    Example:
        >>> CosineSimilarity()([[1.0, 1.0]], [[2.0, 2.0]])
        tensor(-1.0000)
    """

    def __init__(
        self,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "cosine_similarity",
        dtype: str | torch.dtype | None = None,
    ) -> None:
        _check_axis(axis)
        super().__init__(
            cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis
        )
        self.axis = axis

    def get_config(self) -> dict[str, Any]:
        """Returns the config, including `axis`."""
        return {**Loss.get_config(self), "axis": self.axis}


class _Crossentropy(LossFunctionWrapper):
    """Shared constructor and config of the binary and categorical crossentropies."""

    _fn: LossFn

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: str | torch.dtype | None = None,
    ) -> None:
        _check_axis(axis)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"{type(self).__name__}: expected `label_smoothing` in [0, 1], "
                f"got label_smoothing={label_smoothing!r}."
            )
        super().__init__(
            type(self)._fn,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self) -> dict[str, Any]:
        """Returns the config with `from_logits`, `label_smoothing` and `axis`."""
        extra = {
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
        }
        return {**Loss.get_config(self), **extra, "axis": self.axis}


class BinaryCrossentropy(_Crossentropy):
    """Crossentropy of binary (0/1) labels, averaged over the last axis.

    Args:
        from_logits: Whether `y_pred` holds logits rather than probabilities.
        label_smoothing: In [0, 1]; labels move towards 0.5 by this fraction.
        axis: Axis averaged over.
        reduction: See `Loss`.
        name: Defaults to `"binary_crossentropy"`.
        dtype: See `Loss`.

    Example:
        >>> BinaryCrossentropy()([[0.0, 1.0], [0.0, 0.0]], [[0.4, 0.6], [0.4, 0.6]])
        tensor(0.6122)
    """

    _fn = staticmethod(binary_crossentropy)


class CategoricalCrossentropy(_Crossentropy):
    """Crossentropy of one-hot labels against class probabilities or logits.

    Args:
        from_logits: Whether `y_pred` holds logits rather than probabilities.
        label_smoothing: In [0, 1]; mixes labels with the uniform distribution.
        axis: The class axis.
        reduction: See `Loss`.
        name: Defaults to `"categorical_crossentropy"`.
        dtype: See `Loss`.

    Example:
        >>> y_pred = [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]
        >>> CategoricalCrossentropy()([[0, 1, 0], [0, 0, 1]], y_pred)
        tensor(1.1769)
    """

    _fn = staticmethod(categorical_crossentropy)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy of integer labels against class probabilities or logits.

    Args:
        from_logits: Whether `y_pred` holds logits rather than probabilities.
        ignore_class: A label to leave out: its entries add nothing to the sum
            and are not counted by `"sum_over_batch_size"`.
        reduction: See `Loss` (Keras puts it before `axis` here).
        axis: The class axis.
        name: Defaults to `"sparse_categorical_crossentropy"`.
        dtype: See `Loss`.

    Example:
        >>> SparseCategoricalCrossentropy()([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
        tensor(1.1769)
    """

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        reduction: str | None = "sum_over_batch_size",
        axis: int = -1,
        name: str = "sparse_categorical_crossentropy",
        dtype: str | torch.dtype | None = None,
    ) -> None:
        _check_axis(axis)
        super().__init__(
            sparse_categorical_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis

    def _call_with_mask(
        self, y_true: TensorLike, y_pred: Tensor
    ) -> tuple[Tensor, Tensor | None]:
        values = self.call(y_true, y_pred)
        if self.ignore_class is None:
            return values, None
        target = _to_tensor(y_true).to(values.device)
        if target.ndim == values.ndim + 1:
            target = target.squeeze(self.axis)
        return values, target.reshape(values.shape) != self.ignore_class

    def get_config(self) -> dict[str, Any]:
        """Returns the config with `from_logits`, `ignore_class` and `axis`."""
        extra = {"from_logits": self.from_logits, "ignore_class": self.ignore_class}
        return {**Loss.get_config(self), **extra, "axis": self.axis}


def from_logits_variant(loss: object) -> Loss | None:
    """The same crossentropy computed from logits, or None for other losses.

    The trainer uses it when a model's output is a sigmoid or softmax: the loss
    of the pre-activation logits is the same number, computed stably and faster.

    Args:
        loss: A loss object (`BinaryCrossentropy`, `CategoricalCrossentropy`,
            `SparseCategoricalCrossentropy`, or a `LossFunctionWrapper` of their
            functions) or anything else.

    Returns:
        A new loss with `from_logits=True` and the same label smoothing, axis,
        reduction, name and dtype; None when `loss` is not such a crossentropy
        or already takes logits.

    Example:
        >>> from_logits_variant(BinaryCrossentropy(label_smoothing=0.1)).from_logits
        True
        >>> from_logits_variant(MeanSquaredError()) is None
        True
    """
    kinds = (BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy)
    if isinstance(loss, kinds) and type(loss) in kinds:
        if loss.from_logits:
            return None
        return type(loss).from_config({**loss.get_config(), "from_logits": True})
    if type(loss) is LossFunctionWrapper and loss.fn in _FUNCTION_CLASSES:
        cls = _FUNCTION_CLASSES[loss.fn]
        if cls in kinds and not loss._fn_kwargs.get("from_logits", False):
            kwargs = {**loss._fn_kwargs, "from_logits": True}
            return cls(
                **kwargs, reduction=loss.reduction, name=loss.name, dtype=loss.dtype
            )
    return None


_FUNCTION_CLASSES: dict[LossFn, type[Loss]] = {
    binary_crossentropy: BinaryCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    huber: Huber,
    log_cosh: LogCosh,
    hinge: Hinge,
    squared_hinge: SquaredHinge,
    categorical_hinge: CategoricalHinge,
    kl_divergence: KLDivergence,
    poisson: Poisson,
    cosine_similarity: CosineSimilarity,
}
_FUNCTIONS: dict[str, LossFn] = {fn.__name__: fn for fn in _FUNCTION_CLASSES}


def _from_name(name: str, obj: Any) -> Loss:
    """`get("mse")`: a built-in name gives its class, defaults included."""
    return obj() if isinstance(obj, type) else _FUNCTION_CLASSES[obj]()  # type: ignore[no-any-return]


def _from_function(fn: LossFn) -> Loss:
    """`get(fn)`: a built-in function gives its class, another one is wrapped."""
    cls = _FUNCTION_CLASSES.get(fn)
    return cls() if cls is not None else LossFunctionWrapper(fn)


_REGISTRY = Registry(
    "loss", Loss, make=_from_name, wrap=_from_function, any_subclass=True
)
_REGISTRY.add(LossFunctionWrapper, named=False)  # for configs only
for _fn, _cls in _FUNCTION_CLASSES.items():
    _REGISTRY.add(_fn)
    _REGISTRY.add(_cls)
# Keras 3's short names, plus the Keras 2 spellings that guide-era scripts use.
for _fn, _short in (
    (binary_crossentropy, "bce"),
    (mean_squared_error, "mse"),
    (mean_absolute_error, "mae"),
    (mean_absolute_percentage_error, "mape"),
    (mean_squared_logarithmic_error, "msle"),
    (kl_divergence, "kld"),
):
    _REGISTRY.add(_fn, _short, _short.upper(), named=False)
_REGISTRY.add(kl_divergence, "kullback_leibler_divergence", named=False)
_REGISTRY.add(log_cosh, "logcosh", named=False)
_REGISTRY.add(huber, "huber_loss", named=False)


def get(identifier: object) -> Loss | None:
    """Resolves a loss identifier to a `Loss` object.

    Args:
        identifier: A name (`"binary_crossentropy"`, `"BinaryCrossentropy"`,
            `"mse"`, ...), a `Loss` instance (returned as is), a `Loss` class
            (instantiated with defaults), a `{"class_name", "config"}` dict, a
            per-sample function `fn(y_true, y_pred)` (wrapped), or None.

    Returns:
        A `Loss`, or None for None. Built-in names and functions give their
        class (`"mse"` -> `MeanSquaredError()`), so `from_logits_variant` works.

    Raises:
        ValueError: For an unknown name; the message lists the valid ones.
        TypeError: For anything else.

    Example:
        >>> get("mse")
        <MeanSquaredError name='mean_squared_error'>
    """
    return _REGISTRY.get(identifier)  # type: ignore[no-any-return]


def serialize(loss: Loss | LossFn | None) -> dict[str, Any] | str | None:
    """JSON-able form of a loss: `{"class_name", "config"}`, or a function's name.

    Example:
        >>> serialize(Huber(delta=2.0))["config"]["delta"]
        2.0
    """
    if loss is None or isinstance(loss, Loss):
        return _REGISTRY.serialize(loss)
    if callable(loss) and hasattr(loss, "__name__"):
        return str(loss.__name__)
    raise TypeError(
        f"serialize: expected a Loss or a function, got {type(loss).__name__}."
    )


def deserialize(
    config: dict[str, Any] | str, custom_objects: dict[str, Any] | None = None
) -> Loss:
    """Rebuilds a loss from `serialize`'s output.

    Args:
        config: A name or a `{"class_name": ..., "config": {...}}` dict.
        custom_objects: Extra classes and functions by name, looked up first.

    Returns:
        A `Loss`.

    Example:
        >>> deserialize(serialize(Huber(delta=2.0))).delta
        2.0
    """
    return _REGISTRY.deserialize(config, custom_objects)  # type: ignore[no-any-return]
