"""CIFAR-10 small images (Keras's `keras.datasets.cifar10`), from the binary version."""

from __future__ import annotations

import numpy as np

from plait.datasets.cifar import read_records
from plait.datasets.files import get_file

__all__ = ["load_data"]

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
SHA256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"
_FOLDER = "cifar-10-batches-bin/"
TRAIN = [f"{_FOLDER}data_batch_{i}.bin" for i in range(1, 6)]
TEST = [f"{_FOLDER}test_batch.bin"]

Split = tuple[np.ndarray, np.ndarray]


def load_data() -> tuple[Split, Split]:
    """Loads CIFAR-10: 50,000 training and 10,000 test 32x32 colour images, 10 classes.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `uint8` images of shape
        `(num_samples, 32, 32, 3)` (channels last, Keras's default image data
        format) and `uint8` labels 0-9 of shape `(num_samples, 1)`.
    """
    archive = get_file("cifar-10-binary.tar.gz", ORIGIN, SHA256)
    return read_records(archive, TRAIN, 1), read_records(archive, TEST, 1)
