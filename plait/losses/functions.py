"""Loss functions: Keras 3's per-sample losses, computed with torch ops.

Every function takes `(y_true, y_pred)` and returns the per-sample loss (the last
axis reduced, as Keras does). `plait.losses.losses` wraps them in `Loss` classes
and re-exports them; import them from there.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "binary_crossentropy",
    "categorical_crossentropy",
    "categorical_hinge",
    "cosine_similarity",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "poisson",
    "sparse_categorical_crossentropy",
    "squared_hinge",
]

# Keras compat: `keras.backend.epsilon()`, used to clip probabilities.
EPSILON = 1e-7
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none")

TensorLike = Any  # torch.Tensor, np.ndarray, nested lists or Python numbers
LossFn = Callable[..., Tensor]


def _to_tensor(x: TensorLike, dtype: torch.dtype | None = None) -> Tensor:
    """Converts `x` to a tensor (floats default to float32, as Keras's floatx)."""
    if isinstance(x, Tensor):
        return x if dtype is None else x.to(dtype)
    array = np.asarray(x)
    if dtype is None and array.dtype.kind == "f":
        dtype = torch.float32
    return torch.as_tensor(array, dtype=dtype)


def _prepare(y_true: TensorLike, y_pred: TensorLike) -> tuple[Tensor, Tensor]:
    """Tensors for a loss: `y_pred` floating, `y_true` cast to its dtype/device."""
    y_pred = _to_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(torch.float32)
    if isinstance(y_true, Tensor):
        y_true = y_true.to(device=y_pred.device, dtype=y_pred.dtype)
    else:
        y_true = torch.as_tensor(np.asarray(y_true), dtype=y_pred.dtype)
        y_true = y_true.to(y_pred.device)
    return y_true, y_pred


def _same_rank(
    x1: Tensor, x2: Tensor, expand_rank_1: bool = True
) -> tuple[Tensor, Tensor]:
    """Squeezes or expands a trailing axis of size 1 when ranks differ by one.

    Keras compat: `squeeze_or_expand_to_same_rank`, so `y_true` of shape
    `(batch,)` meets `y_pred` of shape `(batch, 1)`.
    """
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    elif x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def _check_same_shape(fn: str, y_true: Tensor, y_pred: Tensor) -> None:
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{fn}: expected y_true and y_pred of the same shape, got "
            f"y_true.shape={tuple(y_true.shape)} and "
            f"y_pred.shape={tuple(y_pred.shape)}."
        )


def _check_axis(axis: object) -> None:
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise TypeError(f"Expected `axis` to be an int, got axis={axis!r}.")


def _pm_one_labels(y_true: Tensor) -> Tensor:
    """Maps {0, 1} labels to {-1, 1}; other labels pass unchanged (Keras)."""
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    # torch.where instead of an `if`: no host sync on the accelerator.
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def _l2_normalize(x: Tensor, axis: int) -> Tensor:
    square_sum = x.square().sum(dim=axis, keepdim=True)
    # Keras compat: rsqrt capped at 1/epsilon, so a zero vector stays zero.
    inv_norm = torch.rsqrt(square_sum).clamp(max=1.0 / EPSILON)
    return x * inv_norm


def mean_squared_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Per-sample `mean(square(y_true - y_pred), axis=-1)`.

    Example:
        >>> mean_squared_error([[0.0, 1.0]], [[1.0, 1.0]])
        tensor([0.5000])
    """
    y_true, y_pred = _same_rank(*_prepare(y_true, y_pred))
    return (y_true - y_pred).square().mean(dim=-1)


def mean_absolute_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Per-sample `mean(abs(y_true - y_pred), axis=-1)`.

    Example:
        >>> mean_absolute_error([[0.0, 1.0]], [[1.0, 3.0]])
        tensor([1.5000])
    """
    y_true, y_pred = _same_rank(*_prepare(y_true, y_pred))
    return (y_true - y_pred).abs().mean(dim=-1)


def mean_absolute_percentage_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Per-sample `100 * mean(abs((y_true - y_pred) / max(abs(y_true), eps)))`.

    Example:
        >>> mean_absolute_percentage_error([[2.0, 4.0]], [[1.0, 4.0]])
        tensor([25.])
    """
    y_true, y_pred = _same_rank(*_prepare(y_true, y_pred))
    diff = (y_true - y_pred).abs() / y_true.abs().clamp(min=EPSILON)
    return 100.0 * diff.mean(dim=-1)


def mean_squared_logarithmic_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Per-sample `mean(square(log1p(y_pred) - log1p(y_true)))`, inputs >= eps.

    Example:
        >>> mean_squared_logarithmic_error([[math.e - 1.0]], [[0.0]])
        tensor([1.0000])
    """
    y_true, y_pred = _same_rank(*_prepare(y_true, y_pred))
    first = torch.log(y_pred.clamp(min=EPSILON) + 1.0)
    second = torch.log(y_true.clamp(min=EPSILON) + 1.0)
    return (first - second).square().mean(dim=-1)


def huber(y_true: TensorLike, y_pred: TensorLike, delta: float = 1.0) -> Tensor:
    """Per-sample Huber loss: quadratic for `|error| <= delta`, linear beyond.

    Args:
        y_true: Targets, shape `(batch, ..., d)`.
        y_pred: Predictions, same shape.
        delta: Where the loss changes from quadratic to linear.

    Returns:
        Tensor of shape `(batch, ...)`.

    Example:
        >>> huber([[0.0, 0.0]], [[0.5, 3.0]])
        tensor([1.3125])
    """
    y_true, y_pred = _same_rank(*_prepare(y_true, y_pred))
    abs_error = (y_pred - y_true).abs()
    quadratic = 0.5 * abs_error.square()
    linear = delta * abs_error - 0.5 * delta**2
    return torch.where(abs_error <= delta, quadratic, linear).mean(dim=-1)


def log_cosh(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Per-sample `mean(log(cosh(y_pred - y_true)))`, computed without overflow.

    Example:
        >>> log_cosh([[0.0]], [[100.0]])
        tensor([99.3069])
    """
    y_true, y_pred = _same_rank(*_prepare(y_true, y_pred))
    x = y_pred - y_true
    # log(cosh(x)) = x + softplus(-2x) - log(2), stable for large |x|.
    return (x + F.softplus(-2.0 * x) - math.log(2.0)).mean(dim=-1)


def hinge(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Per-sample `mean(maximum(1 - y_true * y_pred, 0))`; {0, 1} labels become ±1.

    Example:
        >>> hinge([[1.0, 0.0]], [[0.5, 0.5]])
        tensor([1.])
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    y_true = _pm_one_labels(y_true)
    return (1.0 - y_true * y_pred).clamp(min=0.0).mean(dim=-1)


def squared_hinge(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Per-sample `mean(square(maximum(1 - y_true * y_pred, 0)))`.

    Example:
        >>> squared_hinge([[1.0, 0.0]], [[0.5, 0.5]])
        tensor([1.2500])
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    y_true = _pm_one_labels(y_true)
    return (1.0 - y_true * y_pred).clamp(min=0.0).square().mean(dim=-1)


def categorical_hinge(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Per-sample `maximum(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`.

    Example:
        >>> categorical_hinge([[0.0, 1.0]], [[0.3, 0.7]])
        tensor([0.6000])
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    pos = (y_true * y_pred).sum(dim=-1)
    neg = ((1.0 - y_true) * y_pred).amax(dim=-1)
    return (neg - pos + 1.0).clamp(min=0.0)


def kl_divergence(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Per-sample `sum(y_true * log(y_true / y_pred))`, both clipped to [eps, 1].

    Example:
        >>> kl_divergence([[0.5, 0.5]], [[0.5, 0.5]])
        tensor([0.])
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    y_true = y_true.clamp(EPSILON, 1.0)
    y_pred = y_pred.clamp(EPSILON, 1.0)
    return (y_true * torch.log(y_true / y_pred)).sum(dim=-1)


def poisson(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Per-sample `mean(y_pred - y_true * log(y_pred + eps))`.

    Example:
        >>> poisson([[1.0]], [[1.0]])
        tensor([1.0000])
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    return (y_pred - y_true * torch.log(y_pred + EPSILON)).mean(dim=-1)


def cosine_similarity(y_true: TensorLike, y_pred: TensorLike, axis: int = -1) -> Tensor:
    """Negative cosine similarity along `axis` (-1 = same direction, 0 = orthogonal).

    Example:
        >>> cosine_similarity([[1.0, 0.0], [1.0, 1.0]], [[0.0, 1.0], [2.0, 2.0]])
        tensor([-0.0000, -1.0000])
    """
    _check_axis(axis)
    y_true, y_pred = _same_rank(*_prepare(y_true, y_pred))
    return -(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis)).sum(dim=axis)


def binary_crossentropy(
    y_true: TensorLike,
    y_pred: TensorLike,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """Per-sample binary crossentropy, averaged over `axis`.

    Args:
        y_true: Labels in [0, 1], same shape as `y_pred`.
        y_pred: Probabilities (clipped to [eps, 1 - eps]) or logits.
        from_logits: Whether `y_pred` holds logits; then the stable
            `binary_cross_entropy_with_logits` is used.
        label_smoothing: In [0, 1]; labels move towards 0.5 by this fraction.
        axis: Axis averaged over.

    Returns:
        Tensor with `axis` removed.

    Example:
        >>> binary_crossentropy([[0.0, 1.0]], [[0.4, 0.6]])
        tensor([0.5108])
    """
    _check_axis(axis)
    y_true, y_pred = _same_rank(*_prepare(y_true, y_pred))
    _check_same_shape("binary_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        bce = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        # Written out rather than F.binary_cross_entropy, which autocast rejects.
        p = y_pred.clamp(EPSILON, 1.0 - EPSILON)
        bce = -(y_true * torch.log(p) + (1.0 - y_true) * torch.log1p(-p))
    return bce.mean(dim=axis)


def categorical_crossentropy(
    y_true: TensorLike,
    y_pred: TensorLike,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """Per-sample crossentropy between one-hot `y_true` and class scores `y_pred`.

    Args:
        y_true: One-hot (or soft) labels, same shape as `y_pred`.
        y_pred: Probabilities (renormalised to sum 1, clipped to [eps, 1 - eps])
            or logits (then `log_softmax` is used).
        from_logits: Whether `y_pred` holds logits.
        label_smoothing: In [0, 1]; mixes labels with the uniform distribution.
        axis: The class axis.

    Returns:
        Tensor with `axis` removed.

    Example:
        >>> categorical_crossentropy([[0.0, 1.0, 0.0]], [[0.05, 0.95, 0.0]])
        tensor([0.0513])
    """
    _check_axis(axis)
    y_true, y_pred = _prepare(y_true, y_pred)
    _check_same_shape("categorical_crossentropy", y_true, y_pred)
    if y_pred.ndim < 1:
        raise ValueError(
            "categorical_crossentropy: expected y_pred of rank >= 1, got shape ()."
        )
    if y_pred.shape[-1] == 1:
        warnings.warn(
            "categorical_crossentropy: expected y_pred of shape "
            "(batch_size, num_classes) with num_classes > 1, got "
            f"y_pred.shape={tuple(y_pred.shape)}. With 2 classes, use "
            "'binary_crossentropy'.",
            UserWarning,
            stacklevel=2,
        )
    if label_smoothing:
        num_classes = y_true.shape[axis]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    if from_logits:
        log_prob = F.log_softmax(y_pred, dim=axis)
    else:
        p = y_pred / y_pred.sum(dim=axis, keepdim=True)
        log_prob = torch.log(p.clamp(EPSILON, 1.0 - EPSILON))
    return -(y_true * log_prob).sum(dim=axis)


def _sparse_targets(y_true: TensorLike, y_pred: Tensor, axis: int) -> Tensor:
    """Integer class ids with the shape of `y_pred` minus its class axis."""
    if isinstance(y_true, Tensor):
        y_true = y_true.to(device=y_pred.device, dtype=torch.long)
    else:
        y_true = torch.as_tensor(np.asarray(y_true), device=y_pred.device)
        y_true = y_true.to(torch.long)
    if y_true.ndim == y_pred.ndim and y_true.shape[axis] == 1:
        y_true = y_true.squeeze(axis)
    expected = list(y_pred.shape)
    del expected[axis]
    if list(y_true.shape) != expected:
        raise ValueError(
            "sparse_categorical_crossentropy: expected y_true of shape "
            f"{tuple(expected)} (or with a trailing 1) for "
            f"y_pred.shape={tuple(y_pred.shape)}, got "
            f"y_true.shape={tuple(y_true.shape)}."
        )
    return y_true


def sparse_categorical_crossentropy(
    y_true: TensorLike,
    y_pred: TensorLike,
    from_logits: bool = False,
    ignore_class: int | None = None,
    axis: int = -1,
) -> Tensor:
    """Per-sample crossentropy between integer labels and class scores.

    Args:
        y_true: Class ids, shape `(batch, ...)` or `(batch, ..., 1)`.
        y_pred: Probabilities or logits, shape `(batch, ..., num_classes)`.
        from_logits: Whether `y_pred` holds logits (then `F.cross_entropy`).
        ignore_class: A label whose entries get loss 0 (the `Loss` class also
            leaves them out of the `sum_over_batch_size` divisor).
        axis: The class axis.

    Returns:
        Tensor of shape `y_true.shape` (without a trailing 1).

    Example:
        >>> sparse_categorical_crossentropy([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
        tensor([0.0513, 2.3026])
    """
    _check_axis(axis)
    y_pred = _prepare(0.0, y_pred)[1]
    if y_pred.ndim < 1:
        raise ValueError(
            "sparse_categorical_crossentropy: expected y_pred of rank >= 1, "
            "got shape ()."
        )
    axis = axis % y_pred.ndim
    target = _sparse_targets(y_true, y_pred, axis)
    # torch's own ignore_index gives ignored entries a loss of exactly 0.
    ignore_index = -100 if ignore_class is None else int(ignore_class)
    unbatched = y_pred.ndim == 1
    if unbatched:  # one sample without a batch axis
        y_pred, target, axis = y_pred.unsqueeze(0), target.unsqueeze(0), 1
    scores = y_pred.movedim(axis, 1)  # (batch, classes, ...): torch's layout
    if from_logits:
        loss = F.cross_entropy(
            scores, target, reduction="none", ignore_index=ignore_index
        )
    else:
        p = scores / scores.sum(dim=1, keepdim=True)
        log_prob = torch.log(p.clamp(EPSILON, 1.0 - EPSILON))
        loss = F.nll_loss(log_prob, target, reduction="none", ignore_index=ignore_index)
    return loss.squeeze(0) if unbatched else loss


# Reduction helpers shared by the `Loss` classes in `plait.losses.losses`.


def _snake_case(name: str) -> str:
    """`"BinaryCrossentropy"` -> `"binary_crossentropy"` (Keras's rule)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _standardize_reduction(reduction: str | None) -> str:
    if reduction is None:
        return "none"
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Loss: expected `reduction` to be one of {list(REDUCTIONS)} or None, "
            f"got reduction={reduction!r}."
        )
    return reduction


def _standardize_dtype(dtype: str | torch.dtype | None) -> torch.dtype | None:
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    resolved = getattr(torch, str(dtype), None)
    if not isinstance(resolved, torch.dtype) or not resolved.is_floating_point:
        raise ValueError(
            f"Loss: expected `dtype` to be a floating dtype such as 'float32', "
            f"got dtype={dtype!r}."
        )
    return resolved


def _compute_dtype(y_pred: Tensor, dtype: torch.dtype | None) -> Tensor:
    """`y_pred` in the loss's dtype; half precision is computed in float32."""
    if dtype is not None:
        return y_pred.to(dtype)
    if (
        y_pred.dtype in (torch.float16, torch.bfloat16)
        or not y_pred.is_floating_point()
    ):
        return y_pred.to(torch.float32)  # Keras compat: floatx
    return y_pred


def _reduce(values: Tensor, sample_weight: Tensor | None, reduction: str) -> Tensor:
    """Applies a Keras reduction to (already weighted) per-sample values."""
    if reduction == "none" or values.ndim == 0:
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = sample_weight.sum()
        # Keras compat: divide_no_nan; torch.where keeps it free of host syncs.
        return torch.where(divisor == 0, torch.zeros_like(total), total / divisor)
    # A Python divisor: no host-to-device copy, hence no sync, per batch.
    return total / values.numel() if values.numel() else torch.zeros_like(total)


def _weigh(values: Tensor, sample_weight: Tensor) -> tuple[Tensor, Tensor]:
    """Broadcasts sample weights over per-sample values (trailing axes added)."""
    values, sample_weight = _same_rank(values, sample_weight)
    if sample_weight.ndim < values.ndim:
        # (batch,) weights on (batch, timesteps) values: weigh every step.
        extra = (1,) * (values.ndim - sample_weight.ndim)
        sample_weight = sample_weight.reshape(*sample_weight.shape, *extra)
    try:
        weighted = values * sample_weight
    except RuntimeError as err:
        raise ValueError(
            "Loss: expected sample_weight broadcastable to the per-sample loss of "
            f"shape {tuple(values.shape)}, got sample_weight.shape="
            f"{tuple(sample_weight.shape)}."
        ) from err
    return weighted, sample_weight.expand_as(weighted)
