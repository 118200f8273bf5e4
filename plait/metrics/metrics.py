"""Metrics: Keras 3's stateful metrics, their string names, and `"accuracy"`.

Metrics accumulate on the device (see `plait.metrics.base`). This module
gathers the accuracy family (`accuracies`), the confusion metrics
(`confusion`, `fscore`) and the metric forms of the losses
(`loss_metrics`), and adds `get`/`serialize` and
`resolve_accuracy`, Keras's rule for what `metrics=["accuracy"]` means.
"""

from __future__ import annotations

from typing import Any

from plait.losses import losses
from plait.losses.functions import _snake_case
from plait.metrics.accuracies import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
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
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from plait.metrics.fscore import F1Score, FBetaScore
from plait.metrics.loss_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    KLDivergence,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    RootMeanSquaredError,
    SparseCategoricalCrossentropy,
    SquaredHinge,
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
        _REGISTRY.add(_cls, _snake_case(_cls.__name__))
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
