"""What the two housing datasets share: Keras's shuffled train/test split."""

from __future__ import annotations

import numpy as np

__all__ = ["split"]

Split = tuple[np.ndarray, np.ndarray]


def split(
    name: str, x: np.ndarray, y: np.ndarray, test_split: float, seed: int
) -> tuple[Split, Split]:
    """`(x, y)` shuffled by `np.random.RandomState(seed)`, the last `test_split` for testing."""
    if not 0 <= test_split < 1:
        raise ValueError(
            f"{name}.load_data: expected 0 <= test_split < 1, got {test_split}."
        )
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    n = int(len(x) * (1 - test_split))
    return (x[:n].copy(), y[:n].copy()), (x[n:].copy(), y[n:].copy())
