"""California housing prices (Keras's `keras.datasets.california_housing`)."""

from __future__ import annotations

import numpy as np

from plait.datasets.files import KERAS_ORIGIN, get_file
from plait.datasets.housing import split
from plait.datasets.npz import load_npz

__all__ = ["load_data"]

SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"

Split = tuple[np.ndarray, np.ndarray]


def load_data(
    version: str = "large",
    path: str = "california_housing.npz",
    test_split: float = 0.2,
    seed: int = 113,
) -> tuple[Split, Split]:
    """Loads the California housing dataset (1990 census block groups, 8 features).

    Args:
        version: `"large"` (all 20,640 samples) or `"small"` (the first 600, a
            stand-in for the Boston dataset).
        path: where to cache the file, relative to the datasets cache.
        test_split: the fraction of the (shuffled) samples kept for testing.
        seed: seed of the shuffle.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: features of shape
        `(num_samples, 8)` and median house values in dollars, `(num_samples,)`.
    """
    if version not in ("small", "large"):
        raise ValueError(
            f"california_housing.load_data: expected version 'small' or 'large', "
            f"got {version!r}."
        )
    f = load_npz(get_file(path, KERAS_ORIGIN + "california_housing.npz", SHA256))
    x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    return split("california_housing", x, y, test_split, seed)
