"""Losses: Keras 3's `Loss` classes, string names, and per-sample functions.

A `Loss` (`plait.losses.base`) turns `(y_true, y_pred, sample_weight)` into a
scalar the way `keras.losses` does: per-sample values from a function of
`plait.losses.functions` (re-exported here), sample weights broadcast over
them, then a reduction. The losses without keywords of their own are rows of
one table (`simple_loss`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from plait.losses import functions
from plait.losses.base import (
    _FUNCTIONS,
    Loss,
    LossFunctionWrapper,
    _BuiltIn,
    simple_loss,
)
from plait.losses.functions import (
    LossFn,
    TensorLike,
    _check_axis,
    _to_tensor,
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
    "deserialize",
    "from_logits_variant",
    "get",
    "serialize",
    *functions.__all__,  # the per-sample functions, re-exported
]


MeanSquaredError = simple_loss(
    "MeanSquaredError",
    mean_squared_error,
    "Mean of squares of errors: `mean(square(y_true - y_pred))`.",
    ("[[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]]", "tensor(0.5000)"),
    __name__,
)
MeanAbsoluteError = simple_loss(
    "MeanAbsoluteError",
    mean_absolute_error,
    "Mean of absolute errors: `mean(abs(y_true - y_pred))`.",
    ("[[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]]", "tensor(0.5000)"),
    __name__,
)
MeanAbsolutePercentageError = simple_loss(
    "MeanAbsolutePercentageError",
    mean_absolute_percentage_error,
    "`100 * mean(abs((y_true - y_pred) / y_true))`, the divisor at least eps.",
    ("[[2.0, 4.0]], [[1.0, 4.0]]", "tensor(25.)"),
    __name__,
)
MeanSquaredLogarithmicError = simple_loss(
    "MeanSquaredLogarithmicError",
    mean_squared_logarithmic_error,
    "`mean(square(log(y_true + 1) - log(y_pred + 1)))`, inputs at least eps.",
    ("[[0.0]], [[0.0]]", "tensor(0.)"),
    __name__,
)
LogCosh = simple_loss(
    "LogCosh",
    log_cosh,
    "`mean(log(cosh(y_pred - y_true)))`: like MSE near 0, like MAE far away.",
    ("[[0.0]], [[0.0]]", "tensor(0.)"),
    __name__,
)
Hinge = simple_loss(
    "Hinge",
    hinge,
    "`mean(maximum(1 - y_true * y_pred, 0))` with labels in {-1, 1} or {0, 1}.",
    ("[[1.0, 0.0]], [[0.5, 0.5]]", "tensor(1.)"),
    __name__,
)
SquaredHinge = simple_loss(
    "SquaredHinge",
    squared_hinge,
    "`mean(square(maximum(1 - y_true * y_pred, 0)))`.",
    ("[[1.0, 0.0]], [[0.5, 0.5]]", "tensor(1.2500)"),
    __name__,
)
CategoricalHinge = simple_loss(
    "CategoricalHinge",
    categorical_hinge,
    "`maximum(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`.",
    ("[[0.0, 1.0]], [[0.3, 0.7]]", "tensor(0.6000)"),
    __name__,
)
KLDivergence = simple_loss(
    "KLDivergence",
    kl_divergence,
    "Kullback-Leibler divergence `sum(y_true * log(y_true / y_pred))`.",
    ("[[1.0, 0.0]], [[1.0, 0.0]]", "tensor(0.)"),
    __name__,
)
Poisson = simple_loss(
    "Poisson",
    poisson,
    "`mean(y_pred - y_true * log(y_pred + eps))`.",
    ("[[1.0]], [[1.0]]", "tensor(1.0000)"),
    __name__,
)


class Huber(_BuiltIn):
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

    delta: float

    def __init__(
        self,
        delta: float = 1.0,
        reduction: str | None = "sum_over_batch_size",
        name: str = "huber_loss",
        dtype: str | torch.dtype | None = None,
    ) -> None:
        # The config keeps `delta`, which Keras 3 drops.
        super().__init__(huber, reduction, name, dtype, delta=delta)


class CosineSimilarity(_BuiltIn):
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

    axis: int

    def __init__(
        self,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "cosine_similarity",
        dtype: str | torch.dtype | None = None,
    ) -> None:
        _check_axis(axis)
        super().__init__(cosine_similarity, reduction, name, dtype, axis=axis)


class _Crossentropy(_BuiltIn):
    """Shared constructor and config of the binary and categorical crossentropies."""

    _fn: LossFn
    from_logits: bool
    label_smoothing: float
    axis: int

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
            reduction,
            name,
            dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


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


class SparseCategoricalCrossentropy(_BuiltIn):
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

    from_logits: bool
    ignore_class: int | None
    axis: int

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
            reduction,
            name,
            dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )

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
_FUNCTIONS.update({fn.__name__: fn for fn in _FUNCTION_CLASSES})


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
