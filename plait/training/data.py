"""Turn user data (NumPy, tensors, lists, dicts) into tensors and batches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from plait.utils import tree

__all__ = ["batch_slices", "num_samples", "to_tensors"]


def _as_tensor(x: Any, device: torch.device | None) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        t = x
    else:
        arr = np.asarray(x)
        if arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        elif arr.dtype == object:
            raise TypeError(
                f"expected numeric data, got an array of Python objects {arr!r:.60}."
            )
        t = torch.from_numpy(np.ascontiguousarray(arr))
    if device is not None and t.device != device:
        t = t.to(device)
    return t


def to_tensors(data: Any, device: torch.device | None = None) -> Any:
    """Convert every array leaf of a nested structure to a tensor (float64 -> float32)."""
    if data is None:
        return None
    if (
        isinstance(data, (list, tuple))
        and data
        and all(isinstance(v, (int, float)) for v in data)
    ):
        return _as_tensor(data, device)
    return tree.map_structure(
        lambda x: None if x is None else _as_tensor(x, device), data
    )


def num_samples(data: Any, what: str) -> int:
    """The common first dimension of every tensor in `data`.

    Raises:
        ValueError: if the arrays disagree, naming each size.
    """
    sizes = {
        int(t.shape[0]) for t in tree.flatten(data) if t is not None and t.dim() > 0
    }
    if len(sizes) != 1:
        raise ValueError(
            f"{what}: expected every array to have the same number of samples "
            f"(first dimension), got sizes {sorted(sizes)}."
        )
    return sizes.pop()


def batch_slices(
    n: int, batch_size: int, order: torch.Tensor | None = None
) -> Iterator[Any]:
    """Yield index slices (or index tensors when `order` is given) of `batch_size`."""
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        yield slice(start, stop) if order is None else order[start:stop]
