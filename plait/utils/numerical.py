"""`set_random_seed` and `to_categorical`."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

__all__ = ["normalize", "set_random_seed", "to_categorical"]


def set_random_seed(seed: int) -> None:
    """Seed Python's, NumPy's and torch's generators (CPU and CUDA) at once.

    Example:
        >>> set_random_seed(0)
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"set_random_seed: expected an int seed, got {seed!r}.")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def to_categorical(
    y: Any, num_classes: int | None = None, dtype: str = "float32"
) -> np.ndarray:
    """One-hot encode integer class ids: shape `(..., num_classes)`.

    Args:
        y: Integer class ids (a trailing axis of size 1 is dropped, as Keras does).
        num_classes: Number of classes; `max(y) + 1` when None.
        dtype: Dtype of the result.

    Example:
        >>> to_categorical([0, 2], num_classes=3).tolist()
        [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    arr = np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y)
    if arr.dtype.kind not in "iub" and not np.all(arr == np.round(arr)):
        raise ValueError(
            "to_categorical: expected integer class ids, got non-integer values."
        )
    arr = arr.astype(np.int64)
    if arr.ndim > 1 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    n = int(arr.max()) + 1 if num_classes is None else int(num_classes)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(
            f"to_categorical: expected class ids in [0, {n}), got values in "
            f"[{arr.min()}, {arr.max()}]."
        )
    out = np.zeros((*arr.shape, n), dtype=dtype)
    np.put_along_axis(out, arr[..., None], 1, axis=-1)
    return out


def normalize(x: Any, axis: int = -1, order: int = 2) -> Any:
    """`x` divided by its `order`-norm along `axis` (a zero norm divides by 1).

    A tensor gives a tensor, anything else a NumPy array.

    Example:
        >>> normalize([[3.0, 4.0], [0.0, 0.0]]).tolist()
        [[0.6, 0.8], [0.0, 0.0]]
    """
    if isinstance(x, torch.Tensor):
        norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
        return x / torch.where(norm == 0, torch.ones_like(norm), norm)
    arr = np.asarray(x, dtype=np.result_type(np.asarray(x).dtype, np.float32))
    norm = np.linalg.norm(arr, ord=order, axis=axis, keepdims=True)
    return arr / np.where(norm == 0, 1, norm)
