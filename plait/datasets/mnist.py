"""MNIST handwritten digits (Keras's `keras.datasets.mnist`)."""

from __future__ import annotations

import numpy as np

from plait.datasets.files import KERAS_ORIGIN, get_file
from plait.datasets.npz import load_npz

__all__ = ["load_data"]

SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

Split = tuple[np.ndarray, np.ndarray]


def load_data(path: str = "mnist.npz") -> tuple[Split, Split]:
    """Loads the MNIST dataset: 60,000 training and 10,000 test 28x28 grayscale digits.

    Args:
        path: where to cache the file, relative to the datasets cache
            (`$PLAIT_HOME/datasets` or `~/.plait/datasets`).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `uint8` images of shape
        `(num_samples, 28, 28)` and `uint8` labels 0-9 of shape `(num_samples,)`.
    """
    f = load_npz(get_file(path, KERAS_ORIGIN + "mnist.npz", SHA256))
    return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
