"""The metric forms of the losses: errors, hinges, divergences, crossentropies.

Each is Keras 3's metric of the same name, a row of one table
(`plait.metrics.base.wrapped_metric`): a per-sample function of
`plait.losses.functions`, Keras's default name, its extra keywords and a
docstring. The running (weighted) mean of the function's values is kept on
the device. `RootMeanSquaredError` is a `Mean` of squared errors.
"""

from __future__ import annotations

from functools import partial

from torch import Tensor

from plait.losses import functions as F
from plait.losses.functions import TensorLike, _l2_normalize, _prepare, _same_rank
from plait.metrics.accuracies import _class_ids
from plait.metrics.base import Mean, Param, _Wrapped, wrapped_metric

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalHinge",
    "CosineSimilarity",
    "Hinge",
    "KLDivergence",
    "LogCoshError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Poisson",
    "RootMeanSquaredError",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
]

# Example inputs shared by several docstrings.
_PAIR = "[[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]]"
_ROW = "[[0.0, 1.0]], [[1.0, 1.0]]"
_HINGE = "[[0.0, 1.0]], [[0.6, 0.4]]"

MeanSquaredError = wrapped_metric(
    "MeanSquaredError",
    F.mean_squared_error,
    "mean_squared_error",
    "Mean of `square(y_true - y_pred)` over the samples seen.",
    (_PAIR, "tensor(0.2500)"),
    __name__,
)
MeanAbsoluteError = wrapped_metric(
    "MeanAbsoluteError",
    F.mean_absolute_error,
    "mean_absolute_error",
    "Mean of `abs(y_true - y_pred)` over the samples seen.",
    (_PAIR, "tensor(0.2500)"),
    __name__,
)
MeanAbsolutePercentageError = wrapped_metric(
    "MeanAbsolutePercentageError",
    F.mean_absolute_percentage_error,
    "mean_absolute_percentage_error",
    "Mean of `100 * abs((y_true - y_pred) / y_true)`.",
    ("[[2.0, 4.0]], [[1.0, 4.0]]", "tensor(25.)"),
    __name__,
)
MeanSquaredLogarithmicError = wrapped_metric(
    "MeanSquaredLogarithmicError",
    F.mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error",
    "Mean of `square(log(y_true + 1) - log(y_pred + 1))`.",
    (_ROW, "tensor(0.2402)"),
    __name__,
)
LogCoshError = wrapped_metric(
    "LogCoshError",
    F.log_cosh,
    "logcosh",
    "Mean of `log(cosh(y_pred - y_true))`.",
    (_ROW, "tensor(0.2169)"),
    __name__,
)


def _cosine(y_true: TensorLike, y_pred: TensorLike, axis: int = -1) -> Tensor:
    y_true, y_pred = _same_rank(*_prepare(y_true, y_pred))
    return (_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis)).sum(dim=axis)


CosineSimilarity = wrapped_metric(
    "CosineSimilarity",
    _cosine,
    "cosine_similarity",
    """Mean cosine similarity between `y_true` and `y_pred` (1 = same direction).

    Unlike the loss of the same name, the metric is not negated.""",
    ("[[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]]", "tensor(0.5000)"),
    __name__,
    after=(Param("axis", -1, "int", "The axis along which vectors are compared."),),
)


def _rmse_update(
    self: Mean,
    y_true: TensorLike,
    y_pred: TensorLike,
    sample_weight: TensorLike | None = None,
) -> None:
    """Adds the batch's squared errors to the running mean."""
    y_true, y_pred = _same_rank(*_prepare(y_true, self._input(y_pred)))
    Mean.update_state(self, (y_pred - y_true).square(), sample_weight)


def _rmse_result(self: Mean) -> Tensor:
    """The square root of the running mean of squared errors."""
    return Mean.result(self).sqrt()


RootMeanSquaredError = wrapped_metric(
    "RootMeanSquaredError",
    None,
    "root_mean_squared_error",
    "`sqrt(mean(square(y_pred - y_true)))` over all entries seen.",
    (_PAIR, "tensor(0.5000)"),
    __name__,
    methods={"update_state": _rmse_update, "result": _rmse_result},
    base=Mean,
)


Hinge = wrapped_metric(
    "Hinge",
    F.hinge,
    "hinge",
    "Mean hinge loss `maximum(1 - y_true * y_pred, 0)`; {0, 1} labels become ±1.",
    (_HINGE, "tensor(1.1000)"),
    __name__,
)
SquaredHinge = wrapped_metric(
    "SquaredHinge",
    F.squared_hinge,
    "squared_hinge",
    "Mean squared hinge loss `square(maximum(1 - y_true * y_pred, 0))`.",
    (_HINGE, "tensor(1.4600)"),
    __name__,
)
CategoricalHinge = wrapped_metric(
    "CategoricalHinge",
    F.categorical_hinge,
    "categorical_hinge",
    "Mean categorical hinge loss (see `losses.categorical_hinge`).",
    (_HINGE, "tensor(1.2000)"),
    __name__,
)
KLDivergence = wrapped_metric(
    "KLDivergence",
    F.kl_divergence,
    "kl_divergence",
    "Mean Kullback-Leibler divergence `sum(y_true * log(y_true / y_pred))`.",
    (_HINGE, "tensor(0.9163)"),
    __name__,
)
Poisson = wrapped_metric(
    "Poisson",
    F.poisson,
    "poisson",
    "Mean Poisson loss `y_pred - y_true * log(y_pred)`.",
    (_ROW, "tensor(1.0000)"),
    __name__,
)


_smoothing = partial(Param, "label_smoothing", 0.0, "float")
_FROM_LOGITS = Param("from_logits", False, "bool", "Whether `y_pred` holds logits.")
_AXIS = Param("axis", -1, "int", "The class axis.")
_CCE_PRED = "[[0.05, 0.95, 0], [0.1, 0.8, 0.1]]"

BinaryCrossentropy = wrapped_metric(
    "BinaryCrossentropy",
    F.binary_crossentropy,
    "binary_crossentropy",
    "Mean binary crossentropy (see `losses.binary_crossentropy`).",
    ("[[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]", "tensor(0.8149)"),
    __name__,
    after=(
        _FROM_LOGITS,
        _smoothing("In [0, 1]; labels move towards 0.5 by this fraction."),
    ),
)
CategoricalCrossentropy = wrapped_metric(
    "CategoricalCrossentropy",
    F.categorical_crossentropy,
    "categorical_crossentropy",
    "Mean categorical crossentropy (see `losses.categorical_crossentropy`).",
    (f"[[0, 1, 0], [0, 0, 1]], {_CCE_PRED}", "tensor(1.1769)"),
    __name__,
    after=(
        _FROM_LOGITS,
        _smoothing("In [0, 1]; mixes labels with the uniform distribution."),
        _AXIS,
    ),
)


def _ignore_class_weight(
    self: _Wrapped, y_true: Tensor, y_pred: Tensor, sample_weight: TensorLike | None
) -> TensorLike | None:
    """Sample weights with the entries labelled `ignore_class` at 0."""
    ignore_class = self._fn_kwargs["ignore_class"]
    if ignore_class is None:
        return sample_weight
    weight = (_class_ids(y_true, y_pred) != ignore_class).to(self.dtype)
    if sample_weight is not None:
        weight, sw = _same_rank(
            weight, self._input(sample_weight, y_pred).to(self.dtype)
        )
        weight = weight * (sw.reshape(*sw.shape, *(1,) * (weight.ndim - sw.ndim)))
    return weight


SparseCategoricalCrossentropy = wrapped_metric(
    "SparseCategoricalCrossentropy",
    F.sparse_categorical_crossentropy,
    "sparse_categorical_crossentropy",
    "Mean sparse categorical crossentropy; `ignore_class` entries are left out.",
    (f"[1, 2], {_CCE_PRED}", "tensor(1.1769)"),
    __name__,
    after=(
        _FROM_LOGITS,
        Param("ignore_class", None, "int | None", "A label left out of the mean."),
        _AXIS,
    ),
    methods={"_weigh": _ignore_class_weight},
)
