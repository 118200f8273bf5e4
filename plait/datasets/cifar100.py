"""CIFAR-100 small images (Keras's `keras.datasets.cifar100`), from the binary version."""

from __future__ import annotations

import numpy as np

from plait.datasets.cifar import read_records
from plait.datasets.files import get_file

__all__ = ["load_data"]

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"
SHA256 = "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec"
_FOLDER = "cifar-100-binary/"

Split = tuple[np.ndarray, np.ndarray]


def load_data(label_mode: str = "fine") -> tuple[Split, Split]:
    """Loads CIFAR-100: 50,000 training and 10,000 test 32x32 colour images.

    Args:
        label_mode: `"fine"` (100 classes) or `"coarse"` (20 superclasses).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `uint8` images of shape
        `(num_samples, 32, 32, 3)` (channels last) and `int64` labels of shape
        `(num_samples, 1)`.
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(
            f"cifar100.load_data: expected label_mode 'fine' or 'coarse', got "
            f"{label_mode!r}."
        )
    archive = get_file("cifar-100-binary.tar.gz", ORIGIN, SHA256)
    column = 1 if label_mode == "fine" else 0  # a record starts coarse, fine
    splits = []
    for name in ("train.bin", "test.bin"):
        x, labels = read_records(archive, [_FOLDER + name], 2)
        splits.append((x, labels[:, column : column + 1].astype(np.int64)))
    return splits[0], splits[1]
