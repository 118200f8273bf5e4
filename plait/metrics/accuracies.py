"""Accuracy metrics: exact, binary, categorical, sparse and top-k accuracy.

Each is a per-sample function (1.0 for a hit, 0.0 for a miss) and a `Mean` of
it, as in `keras.metrics`. Import them from `plait.metrics.metrics`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from plait.losses.functions import TensorLike, _prepare, _same_rank, _to_tensor
from plait.metrics.base import Param, wrapped_metric

__all__ = [
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "top_k_categorical_accuracy",
]


def _class_ids(y_true: TensorLike, y_pred: Tensor) -> Tensor:
    """Integer labels on `y_pred`'s device, a trailing axis of 1 dropped."""
    ids = _to_tensor(y_true).to(y_pred.device)
    if ids.ndim == y_pred.ndim and ids.shape[-1] == 1:
        ids = ids.squeeze(-1)
    return ids


def accuracy(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """1.0 where `y_true == y_pred` exactly, else 0.0.

    Example:
        >>> accuracy([[1], [2]], [[1], [0]])
        tensor([[1.],
                [0.]])
    """
    y_true, y_pred = _same_rank(*_prepare(y_true, y_pred))
    return (y_true == y_pred).to(torch.float32)


def binary_accuracy(
    y_true: TensorLike, y_pred: TensorLike, threshold: float = 0.5
) -> Tensor:
    """1.0 where `(y_pred > threshold) == y_true`, per entry.

    Example:
        >>> binary_accuracy([[1.0], [0.0]], [[0.7], [0.6]])
        tensor([[1.],
                [0.]])
    """
    y_true, y_pred = _same_rank(*_prepare(y_true, y_pred))
    return (y_true == (y_pred > threshold).to(y_true.dtype)).to(torch.float32)


def categorical_accuracy(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """1.0 where the argmax of one-hot `y_true` equals the argmax of `y_pred`.

    Example:
        >>> categorical_accuracy([[0, 1], [1, 0]], [[0.2, 0.8], [0.3, 0.7]])
        tensor([1., 0.])
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    return (y_true.argmax(dim=-1) == y_pred.argmax(dim=-1)).to(torch.float32)


def sparse_categorical_accuracy(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """1.0 where the integer label equals the argmax of `y_pred`.

    Example:
        >>> sparse_categorical_accuracy([1, 0], [[0.2, 0.8], [0.3, 0.7]])
        tensor([1., 0.])
    """
    y_pred = _prepare(0.0, y_pred)[1]
    ids = _class_ids(y_true, y_pred)
    # Keras compat: compared as floats, so a label of 1.5 never matches.
    return (ids.to(y_pred.dtype) == y_pred.argmax(dim=-1).to(y_pred.dtype)).to(
        torch.float32
    )


def _in_top_k(ids: Tensor, y_pred: Tensor, k: int) -> Tensor:
    """Whether each label's score is among the `k` largest (ties count as in)."""
    if k >= y_pred.shape[-1]:
        return torch.ones(ids.shape, dtype=torch.float32, device=y_pred.device)
    kth = y_pred.topk(k, dim=-1).values[..., -1]
    target = y_pred.gather(-1, ids.long().unsqueeze(-1)).squeeze(-1)
    return (target >= kth).to(torch.float32)


def top_k_categorical_accuracy(
    y_true: TensorLike, y_pred: TensorLike, k: int = 5
) -> Tensor:
    """1.0 where the one-hot label is among the `k` highest scores.

    Example:
        >>> top_k_categorical_accuracy([[0, 0, 1]], [[0.5, 0.3, 0.2]], k=2)
        tensor([0.])
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    return _in_top_k(y_true.argmax(dim=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(
    y_true: TensorLike, y_pred: TensorLike, k: int = 5, from_sorted_ids: bool = False
) -> Tensor:
    """1.0 where the integer label is among the `k` highest scores.

    Args:
        y_true: Class ids, `(batch, ...)` or `(batch, ..., 1)`.
        y_pred: Scores `(batch, ..., classes)`, or with `from_sorted_ids` the
            class ids sorted by decreasing score.
        k: How many top classes count.
        from_sorted_ids: Whether `y_pred` holds sorted class ids.

    Returns:
        Float tensor with the shape of `y_true` (without a trailing 1).

    Example:
        >>> sparse_top_k_categorical_accuracy([2], [[0.5, 0.3, 0.2]], k=2)
        tensor([0.])
    """
    y_pred = _prepare(0.0, y_pred)[1]
    ids = _class_ids(y_true, y_pred)
    if from_sorted_ids:
        hits = y_pred[..., :k] == ids.to(y_pred.dtype).unsqueeze(-1)
        return hits.any(dim=-1).to(torch.float32)
    return _in_top_k(ids, y_pred, k)


_K = Param("k", 5, "int", "How many top classes count.")
_SCORES = "[[0.1, 0.9, 0.8], [0.05, 0.95, 0]]"
_ONE_HOT = f"[[0, 0, 1], [0, 1, 0]], {_SCORES}"

Accuracy = wrapped_metric(
    "Accuracy",
    accuracy,
    "accuracy",
    "How often `y_pred` equals `y_true` exactly.",
    ("[[1], [2], [3], [4]], [[0], [2], [3], [4]]", "tensor(0.7500)"),
    __name__,
)
CategoricalAccuracy = wrapped_metric(
    "CategoricalAccuracy",
    categorical_accuracy,
    "categorical_accuracy",
    "How often the argmax of `y_pred` matches the one-hot label.",
    (_ONE_HOT, "tensor(0.5000)"),
    __name__,
)
SparseCategoricalAccuracy = wrapped_metric(
    "SparseCategoricalAccuracy",
    sparse_categorical_accuracy,
    "sparse_categorical_accuracy",
    "How often the argmax of `y_pred` matches the integer label.",
    ("[[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]", "tensor(0.5000)"),
    __name__,
)
BinaryAccuracy = wrapped_metric(
    "BinaryAccuracy",
    binary_accuracy,
    "binary_accuracy",
    "How often `y_pred > threshold` matches the binary label.",
    ("[[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]", "tensor(0.7500)"),
    __name__,
    after=(Param("threshold", 0.5, "float", "Scores above it count as 1."),),
)
TopKCategoricalAccuracy = wrapped_metric(
    "TopKCategoricalAccuracy",
    top_k_categorical_accuracy,
    "top_k_categorical_accuracy",
    "How often the one-hot label is among the `k` highest scores.",
    (_ONE_HOT, "tensor(0.5000)"),
    __name__,
    ctor="k=1",
    before=(_K,),
)
SparseTopKCategoricalAccuracy = wrapped_metric(
    "SparseTopKCategoricalAccuracy",
    sparse_top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy",
    "How often the integer label is among the `k` highest scores.",
    (f"[2, 1], {_SCORES}", "tensor(0.5000)"),
    __name__,
    ctor="k=1",
    before=(_K,),
    after=(
        Param(
            "from_sorted_ids",
            False,
            "bool",
            "Whether `y_pred` holds class ids sorted by score.",
        ),
    ),
)
