"""Fashion-MNIST clothing images (Keras's `keras.datasets.fashion_mnist`).

The four gzip-compressed IDX files Keras reads, from Keras's datasets bucket,
checked against the SHA-256 hashes of Zalando Research's published files.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from plait.datasets.files import KERAS_ORIGIN, get_file

__all__ = ["load_data"]

FILES = {
    "train-labels-idx1-ubyte.gz": (
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"
    ),
    "train-images-idx3-ubyte.gz": (
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"
    ),
}

Split = tuple[np.ndarray, np.ndarray]


def read_idx(path: Path) -> np.ndarray:
    """The `uint8` array of a gzip-compressed IDX file (its header gives the shape)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != 0x08:
        raise ValueError(
            f"read_idx: expected an IDX file of unsigned bytes, got {path}."
        )
    ndim = data[3]
    shape = tuple(
        int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    offset = 4 + 4 * ndim
    if len(data) - offset != int(np.prod(shape)):
        raise ValueError(
            f"read_idx: expected {int(np.prod(shape))} bytes of data for shape {shape} "
            f"in {path}, got {len(data) - offset}."
        )
    return np.frombuffer(data, np.uint8, offset=offset).reshape(shape).copy()


def load_data() -> tuple[Split, Split]:
    """Loads Fashion-MNIST: 60,000 training and 10,000 test 28x28 grayscale images.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `uint8` images of shape
        `(num_samples, 28, 28)` and `uint8` labels 0-9 of shape `(num_samples,)`
        (T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag,
        Ankle boot).
    """
    arrays = [
        read_idx(get_file(f"fashion-mnist/{name}", KERAS_ORIGIN + name, sha))
        for name, sha in FILES.items()
    ]
    y_train, x_train, y_test, x_test = arrays
    return (x_train, y_train), (x_test, y_test)
