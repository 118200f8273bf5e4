"""Keras's datasets (`keras.datasets`), downloaded once into a verified cache.

Each module has Keras's `load_data(...)`, with Keras's arguments and results.
Files come from their canonical public homes (Keras's datasets bucket, and the
CIFAR page for CIFAR's binary version) into `$PLAIT_HOME/datasets` or
`~/.plait/datasets`, are checked against pinned hashes and never downloaded
again (`plait.datasets.files`). Nothing is unpickled: CIFAR is read from its
binary version, and the object arrays of `imdb.npz`/`reuters.npz` by a reader
that runs no code (`plait.datasets.npz`).
"""

from plait.datasets import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)

__all__ = [
    "boston_housing", "california_housing", "cifar10", "cifar100",
    "fashion_mnist", "imdb", "mnist", "reuters",
]  # fmt: skip
