"""Metrics: Keras 3's stateful metrics, their string names, and `"accuracy"`.

Metrics accumulate on the device (see `plait.metrics.base`); this module adds the
accuracy family, metric forms of the losses, `get`/`serialize`, and
`resolve_accuracy`, Keras's rule for what `metrics=["accuracy"]` means.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from plait.losses import losses
from plait.losses.functions import (
    TensorLike,
    _l2_normalize,
    _prepare,
    _same_rank,
)
from plait.metrics.accuracies import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    _class_ids,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from plait.metrics.base import (
    FUNCTIONS,
    Mean,
    MeanMetricWrapper,
    Metric,
    Sum,
    _Wrapped,
)
from plait.metrics.confusion import (
    AUC,
    F1Score,
    FalseNegatives,
    FalsePositives,
    FBetaScore,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from plait.utils.registry import Registry

__all__ = [
    "AUC",
    "Accuracy",
    "BinaryAccuracy",
    "BinaryCrossentropy",
    "CategoricalAccuracy",
    "CategoricalCrossentropy",
    "CategoricalHinge",
    "CosineSimilarity",
    "F1Score",
    "FBetaScore",
    "FalseNegatives",
    "FalsePositives",
    "Hinge",
    "KLDivergence",
    "LogCoshError",
    "Mean",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanMetricWrapper",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Metric",
    "Poisson",
    "Precision",
    "Recall",
    "RootMeanSquaredError",
    "SparseCategoricalAccuracy",
    "SparseCategoricalCrossentropy",
    "SparseTopKCategoricalAccuracy",
    "SquaredHinge",
    "Sum",
    "TopKCategoricalAccuracy",
    "TrueNegatives",
    "TruePositives",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "deserialize",
    "get",
    "resolve_accuracy",
    "serialize",
    "sparse_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "top_k_categorical_accuracy",
]

DTypeLike = str | torch.dtype | None


def _cosine(y_true: TensorLike, y_pred: TensorLike, axis: int = -1) -> Tensor:
    y_true, y_pred = _same_rank(*_prepare(y_true, y_pred))
    return (_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis)).sum(dim=axis)


class MeanSquaredError(_Wrapped):
    """Mean of `square(y_true - y_pred)` over the samples seen.

    Args:
        name: Defaults to `"mean_squared_error"`.
        dtype: See `Metric`.

    Example:
        >>> m = MeanSquaredError()
        >>> m.update_state([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]])
        >>> m.result()
        tensor(0.2500)
    """

    _fn = staticmethod(losses.mean_squared_error)

    def __init__(
        self, name: str = "mean_squared_error", dtype: DTypeLike = None
    ) -> None:
        super().__init__(name=name, dtype=dtype)


class MeanAbsoluteError(_Wrapped):
    """Mean of `abs(y_true - y_pred)` over the samples seen.

    Args:
        name: Defaults to `"mean_absolute_error"`.
        dtype: See `Metric`.

    Example:
        >>> m = MeanAbsoluteError()
        >>> m.update_state([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]])
        >>> m.result()
        tensor(0.2500)
    """

    _fn = staticmethod(losses.mean_absolute_error)

    def __init__(
        self, name: str = "mean_absolute_error", dtype: DTypeLike = None
    ) -> None:
        super().__init__(name=name, dtype=dtype)


class MeanAbsolutePercentageError(_Wrapped):
    """Mean of `100 * abs((y_true - y_pred) / y_true)`.

    Args:
        name: Defaults to `"mean_absolute_percentage_error"`.
        dtype: See `Metric`.

    Example:
        >>> m = MeanAbsolutePercentageError()
        >>> m.update_state([[2.0, 4.0]], [[1.0, 4.0]])
        >>> m.result()
        tensor(25.)
    """

    _fn = staticmethod(losses.mean_absolute_percentage_error)

    def __init__(
        self, name: str = "mean_absolute_percentage_error", dtype: DTypeLike = None
    ) -> None:
        super().__init__(name=name, dtype=dtype)


class MeanSquaredLogarithmicError(_Wrapped):
    """Mean of `square(log(y_true + 1) - log(y_pred + 1))`.

    Args:
        name: Defaults to `"mean_squared_logarithmic_error"`.
        dtype: See `Metric`.

    Example:
        >>> m = MeanSquaredLogarithmicError()
        >>> m.update_state([[0.0, 1.0]], [[1.0, 1.0]])
        >>> m.result()
        tensor(0.2402)
    """

    _fn = staticmethod(losses.mean_squared_logarithmic_error)

    def __init__(
        self, name: str = "mean_squared_logarithmic_error", dtype: DTypeLike = None
    ) -> None:
        super().__init__(name=name, dtype=dtype)


class LogCoshError(_Wrapped):
    """Mean of `log(cosh(y_pred - y_true))`.

    Args:
        name: Defaults to `"logcosh"`.
        dtype: See `Metric`.

    Example:
        >>> m = LogCoshError()
        >>> m.update_state([[0.0, 1.0]], [[1.0, 1.0]])
        >>> m.result()
        tensor(0.2169)
    """

    _fn = staticmethod(losses.log_cosh)
    _default_name = "logcosh"

    def __init__(self, name: str = "logcosh", dtype: DTypeLike = None) -> None:
        super().__init__(name=name, dtype=dtype)


class Hinge(_Wrapped):
    """Mean hinge loss `maximum(1 - y_true * y_pred, 0)`; {0, 1} labels become ±1.

    Args:
        name: Defaults to `"hinge"`.
        dtype: See `Metric`.

    Example:
        >>> m = Hinge()
        >>> m.update_state([[0.0, 1.0]], [[0.6, 0.4]])
        >>> m.result()
        tensor(1.1000)
    """

    _fn = staticmethod(losses.hinge)

    def __init__(self, name: str = "hinge", dtype: DTypeLike = None) -> None:
        super().__init__(name=name, dtype=dtype)


class SquaredHinge(_Wrapped):
    """Mean squared hinge loss `square(maximum(1 - y_true * y_pred, 0))`.

    Args:
        name: Defaults to `"squared_hinge"`.
        dtype: See `Metric`.

    Example:
        >>> m = SquaredHinge()
        >>> m.update_state([[0.0, 1.0]], [[0.6, 0.4]])
        >>> m.result()
        tensor(1.4600)
    """

    _fn = staticmethod(losses.squared_hinge)

    def __init__(self, name: str = "squared_hinge", dtype: DTypeLike = None) -> None:
        super().__init__(name=name, dtype=dtype)


class CategoricalHinge(_Wrapped):
    """Mean categorical hinge loss (see `losses.categorical_hinge`).

    Args:
        name: Defaults to `"categorical_hinge"`.
        dtype: See `Metric`.

    Example:
        >>> m = CategoricalHinge()
        >>> m.update_state([[0.0, 1.0]], [[0.6, 0.4]])
        >>> m.result()
        tensor(1.2000)
    """

    _fn = staticmethod(losses.categorical_hinge)

    def __init__(
        self, name: str = "categorical_hinge", dtype: DTypeLike = None
    ) -> None:
        super().__init__(name=name, dtype=dtype)


class KLDivergence(_Wrapped):
    """Mean Kullback-Leibler divergence `sum(y_true * log(y_true / y_pred))`.

    Args:
        name: Defaults to `"kl_divergence"`.
        dtype: See `Metric`.

    Example:
        >>> m = KLDivergence()
        >>> m.update_state([[0.0, 1.0]], [[0.6, 0.4]])
        >>> m.result()
        tensor(0.9163)
    """

    _fn = staticmethod(losses.kl_divergence)

    def __init__(self, name: str = "kl_divergence", dtype: DTypeLike = None) -> None:
        super().__init__(name=name, dtype=dtype)


class Poisson(_Wrapped):
    """Mean Poisson loss `y_pred - y_true * log(y_pred)`.

    Args:
        name: Defaults to `"poisson"`.
        dtype: See `Metric`.

    Example:
        >>> m = Poisson()
        >>> m.update_state([[0.0, 1.0]], [[1.0, 1.0]])
        >>> m.result()
        tensor(1.0000)
    """

    _fn = staticmethod(losses.poisson)

    def __init__(self, name: str = "poisson", dtype: DTypeLike = None) -> None:
        super().__init__(name=name, dtype=dtype)


class CosineSimilarity(_Wrapped):
    """Mean cosine similarity between `y_true` and `y_pred` (1 = same direction).

    Unlike the loss of the same name, the metric is not negated.

    Args:
        name: Defaults to `"cosine_similarity"`.
        dtype: See `Metric`.
        axis: The axis along which vectors are compared.

    Example:
        >>> m = CosineSimilarity()
        >>> m.update_state([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])
        >>> m.result()
        tensor(0.5000)
    """

    _fn = staticmethod(_cosine)
    _default_name = "cosine_similarity"

    def __init__(
        self, name: str = "cosine_similarity", dtype: DTypeLike = None, axis: int = -1
    ) -> None:
        super().__init__(name=name, dtype=dtype, axis=axis)
        self.axis = axis


class RootMeanSquaredError(Mean):
    """`sqrt(mean(square(y_pred - y_true)))` over all entries seen.

    Args:
        name: Defaults to `"root_mean_squared_error"`.
        dtype: See `Metric`.

    Example:
        >>> m = RootMeanSquaredError()
        >>> m.update_state([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]])
        >>> m.result()
        tensor(0.5000)
    """

    def __init__(
        self, name: str = "root_mean_squared_error", dtype: DTypeLike = None
    ) -> None:
        super().__init__(name=name, dtype=dtype)

    def update_state(  # type: ignore[override]
        self,
        y_true: TensorLike,
        y_pred: TensorLike,
        sample_weight: TensorLike | None = None,
    ) -> None:
        """Adds the batch's squared errors to the running mean."""
        y_true, y_pred = _same_rank(*_prepare(y_true, self._input(y_pred)))
        super().update_state((y_pred - y_true).square(), sample_weight)

    def result(self) -> Tensor:
        """The square root of the running mean of squared errors."""
        return super().result().sqrt()


class BinaryCrossentropy(_Wrapped):
    """Mean binary crossentropy (see `losses.binary_crossentropy`).

    Args:
        name: Defaults to `"binary_crossentropy"`.
        dtype: See `Metric`.
        from_logits: Whether `y_pred` holds logits.
        label_smoothing: In [0, 1]; labels move towards 0.5 by this fraction.

    Example:
        >>> m = BinaryCrossentropy()
        >>> m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> m.result()
        tensor(0.8149)
    """

    _fn = staticmethod(losses.binary_crossentropy)

    def __init__(
        self,
        name: str = "binary_crossentropy",
        dtype: DTypeLike = None,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(
            name, dtype, from_logits=from_logits, label_smoothing=label_smoothing
        )


class CategoricalCrossentropy(_Wrapped):
    """Mean categorical crossentropy (see `losses.categorical_crossentropy`).

    Args:
        name: Defaults to `"categorical_crossentropy"`.
        dtype: See `Metric`.
        from_logits: Whether `y_pred` holds logits.
        label_smoothing: In [0, 1]; mixes labels with the uniform distribution.
        axis: The class axis.

    Example:
        >>> m = CategoricalCrossentropy()
        >>> m.update_state([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
        >>> m.result()
        tensor(1.1769)
    """

    _fn = staticmethod(losses.categorical_crossentropy)

    def __init__(
        self,
        name: str = "categorical_crossentropy",
        dtype: DTypeLike = None,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
    ) -> None:
        kwargs = {"from_logits": from_logits, "label_smoothing": label_smoothing}
        super().__init__(name, dtype, **kwargs, axis=axis)


class SparseCategoricalCrossentropy(_Wrapped):
    """Mean sparse categorical crossentropy; `ignore_class` entries are left out.

    Args:
        name: Defaults to `"sparse_categorical_crossentropy"`.
        dtype: See `Metric`.
        from_logits: Whether `y_pred` holds logits.
        ignore_class: A label left out of the mean.
        axis: The class axis.

    Example:
        >>> m = SparseCategoricalCrossentropy()
        >>> m.update_state([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
        >>> m.result()
        tensor(1.1769)
    """

    _fn = staticmethod(losses.sparse_categorical_crossentropy)

    def __init__(
        self,
        name: str = "sparse_categorical_crossentropy",
        dtype: DTypeLike = None,
        from_logits: bool = False,
        ignore_class: int | None = None,
        axis: int = -1,
    ) -> None:
        kwargs = {"from_logits": from_logits, "ignore_class": ignore_class}
        super().__init__(name, dtype, **kwargs, axis=axis)
        self.ignore_class = ignore_class

    def update_state(  # type: ignore[override]
        self,
        y_true: TensorLike,
        y_pred: TensorLike,
        sample_weight: TensorLike | None = None,
    ) -> None:
        """Adds the batch; entries labelled `ignore_class` weigh 0."""
        if self.ignore_class is None:
            return super().update_state(y_true, y_pred, sample_weight)
        y_pred = self._input(y_pred)
        ids = _class_ids(self._input(y_true, y_pred), y_pred)
        weight = (ids != self.ignore_class).to(self.dtype)
        if sample_weight is not None:
            weight, sw = _same_rank(
                weight, self._input(sample_weight, y_pred).to(self.dtype)
            )
            weight = weight * (sw.reshape(*sw.shape, *(1,) * (weight.ndim - sw.ndim)))
        return super().update_state(y_true, y_pred, weight)


_METRIC_CLASSES: tuple[type[Metric], ...] = (
    Mean,
    Sum,
    MeanMetricWrapper,
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    Precision,
    Recall,
    AUC,
    F1Score,
    FBetaScore,
    TruePositives,
    FalsePositives,
    TrueNegatives,
    FalseNegatives,
    MeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    RootMeanSquaredError,
    CosineSimilarity,
    LogCoshError,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    KLDivergence,
    Poisson,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
)
# Functions whose metric is a class, so `get(fn)` gives the class.
_FUNCTION_CLASSES: dict[Any, type[Metric]] = {
    accuracy: Accuracy,
    binary_accuracy: BinaryAccuracy,
    categorical_accuracy: CategoricalAccuracy,
    sparse_categorical_accuracy: SparseCategoricalAccuracy,
    top_k_categorical_accuracy: TopKCategoricalAccuracy,
    sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy,
    **{cls._fn: cls for cls in _METRIC_CLASSES if issubclass(cls, _Wrapped)},
}
FUNCTIONS.update({fn.__name__: fn for fn in _FUNCTION_CLASSES})
FUNCTIONS.update(losses._FUNCTIONS)


def _from_name(name: str, obj: Any) -> Metric:
    """`get("mse")`: a metric named by the string, as Keras's `compile` names it."""
    if isinstance(obj, type):
        return obj(name=name)  # type: ignore[no-any-return]
    return MeanMetricWrapper(obj, name=name)  # a loss function's name


def _from_function(fn: Any) -> Metric:
    """`get(fn)`: a built-in function gives its class; a `Loss` its mean."""
    if isinstance(fn, losses.Loss):
        return MeanMetricWrapper(fn.call, name=fn.name)
    cls = _FUNCTION_CLASSES.get(fn)
    return cls() if cls is not None else MeanMetricWrapper(fn)


_REGISTRY = Registry(
    "metric", Metric, make=_from_name, wrap=_from_function, any_subclass=True
)
# Loss functions by name (and alias) first, so that metric names win over them.
for _name, _obj in losses._REGISTRY.items():
    if not isinstance(_obj, type):
        _REGISTRY.add(_obj, _name, named=False)
_REGISTRY.add(MeanMetricWrapper, named=False)  # for configs only
# Keras compat: class names, their snake_case forms, and the short aliases.
for _cls in _METRIC_CLASSES:
    if _cls is not MeanMetricWrapper:
        _REGISTRY.add(_cls, losses._snake_case(_cls.__name__))
for _cls, _aliases in (
    (MeanSquaredError, ("mse", "MSE")),
    (MeanAbsoluteError, ("mae", "MAE")),
    (MeanAbsolutePercentageError, ("mape", "MAPE")),
    (MeanSquaredLogarithmicError, ("msle", "MSLE")),
    (BinaryCrossentropy, ("bce", "BCE")),
    # Keras 2 spellings used by guide-era scripts.
    (KLDivergence, ("kld", "KLD", "kullback_leibler_divergence")),
    (LogCoshError, ("logcosh", "log_cosh")),
):
    _REGISTRY.add(_cls, *_aliases, named=False)


def get(identifier: object) -> Metric | None:
    """Resolves a metric identifier to a `Metric` object.

    Args:
        identifier: A name (`"binary_accuracy"`, `"AUC"`, `"mse"`, a loss
            function's name such as `"huber"`, ...), a `Metric` instance
            (returned as is), a `Metric` class, a `{"class_name", "config"}`
            dict, a per-sample function (wrapped in `MeanMetricWrapper`), a
            `Loss` (the mean of its per-sample values), or None. For
            `"accuracy"`/`"acc"` in `compile`, use `resolve_accuracy`.

    Returns:
        A `Metric`, or None for None. A metric made from a string is named by
        that string, as Keras's `compile` names it (`"mse"` logs as `mse`).

    Raises:
        ValueError: For an unknown name; the message lists the valid ones.
        TypeError: For anything else.

    Example:
        >>> get("mse")
        <MeanSquaredError name='mse'>
    """
    return _REGISTRY.get(identifier)  # type: ignore[no-any-return]


def resolve_accuracy(
    name: str,
    loss: object,
    y_pred_shape: tuple[int | None, ...],
    y_true_shape: tuple[int | None, ...] | None = None,
) -> Metric:
    """The accuracy metric that `metrics=["accuracy"]` (or `"acc"`) means.

    Keras 2's rule, which the guide relies on, with Keras 3's shape rule as the
    fallback: binary accuracy for a binary crossentropy loss or an output
    whose last axis is 1; sparse categorical accuracy for a sparse categorical
    crossentropy loss; categorical accuracy for a categorical crossentropy
    loss. Otherwise, given `y_true_shape`, Keras 3's `compile_utils.get_metric`
    rule: sparse when `y_true` has lower rank than `y_pred`, or a last axis of 1
    against several classes; else categorical accuracy.

    Args:
        name: `"accuracy"` or `"acc"` (any case); the metric keeps this name.
        loss: The output's loss: a `Loss`, a loss name or function, or None.
        y_pred_shape: Shape of the model output, `None` for unknown dims.
        y_true_shape: Shape of the targets, if known.

    Returns:
        A `BinaryAccuracy`, `SparseCategoricalAccuracy` or
        `CategoricalAccuracy` named `name`.

    Raises:
        ValueError: If `name` is not `"accuracy"` or `"acc"`.

    Example:
        >>> resolve_accuracy("acc", "binary_crossentropy", (None, 1))
        <BinaryAccuracy name='acc'>
    """
    if not isinstance(name, str) or name.lower() not in ("accuracy", "acc"):
        raise ValueError(
            f"resolve_accuracy: expected `name` to be 'accuracy' or 'acc', got name={name!r}."
        )
    loss_obj = losses.get(loss) if isinstance(loss, str) or callable(loss) else None
    fn = getattr(loss_obj, "fn", None)
    if fn is losses.binary_crossentropy or (y_pred_shape and y_pred_shape[-1] == 1):
        return BinaryAccuracy(name=name)
    if fn is losses.sparse_categorical_crossentropy:
        return SparseCategoricalAccuracy(name=name)
    if fn is losses.categorical_crossentropy:
        return CategoricalAccuracy(name=name)
    if y_true_shape is not None and y_pred_shape:
        fewer_dims = len(y_true_shape) < len(y_pred_shape)
        column = bool(y_true_shape) and y_true_shape[-1] == 1 and y_pred_shape[-1] != 1
        if fewer_dims or column:
            return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)


def serialize(metric: Metric | None) -> dict[str, Any] | None:
    """JSON-able form of a metric: `{"class_name": ..., "config": {...}}`.

    Example:
        >>> serialize(BinaryAccuracy(threshold=0.7))["config"]["threshold"]
        0.7
    """
    if metric is not None and not isinstance(metric, Metric):
        raise TypeError(f"serialize: expected a Metric, got {type(metric).__name__}.")
    return _REGISTRY.serialize(metric)  # type: ignore[return-value]


def deserialize(
    config: dict[str, Any] | str, custom_objects: dict[str, Any] | None = None
) -> Metric:
    """Rebuilds a metric from `serialize`'s output.

    Args:
        config: A name or a `{"class_name": ..., "config": {...}}` dict.
        custom_objects: Extra classes and functions by name, looked up first.

    Returns:
        A `Metric`.

    Example:
        >>> deserialize(serialize(AUC(curve="PR"))).curve
        'PR'
    """
    return _REGISTRY.deserialize(config, custom_objects)  # type: ignore[no-any-return]
