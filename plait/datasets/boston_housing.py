"""Boston housing prices (Keras's `keras.datasets.boston_housing`): 506 samples, 13 features."""

from __future__ import annotations

import numpy as np

from plait.datasets.files import KERAS_ORIGIN, get_file
from plait.datasets.housing import split
from plait.datasets.npz import load_npz

__all__ = ["load_data"]

SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"

Split = tuple[np.ndarray, np.ndarray]


def load_data(
    path: str = "boston_housing.npz", test_split: float = 0.2, seed: int = 113
) -> tuple[Split, Split]:
    """Loads the Boston housing dataset.

    Args:
        path: where to cache the file, relative to the datasets cache.
        test_split: the fraction of the (shuffled) samples kept for testing.
        seed: seed of the shuffle.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `float64` features of shape
        `(num_samples, 13)` and median prices (in k$) of shape `(num_samples,)`.
    """
    f = load_npz(get_file(path, KERAS_ORIGIN + "boston_housing.npz", SHA256))
    return split("boston_housing", f["x"], f["y"], test_split, seed)
