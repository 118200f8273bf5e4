"""CIFAR's binary version: fixed-size records read with NumPy (no pickles).

Keras reads the "python version" archives, which are pickles; plait never
unpickles, so it reads the "binary version" archives from the same page
(https://www.cs.toronto.edu/~kriz/cifar.html), which hold the same images and
labels. A record is its label byte(s) then 3072 pixel bytes: the 1024 red, then
green, then blue values of a 32x32 image, row by row. Members are read from the
archive in memory; nothing is extracted to disk.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np

__all__ = ["read_records"]

PIXELS = 3 * 32 * 32


def read_records(
    archive: Path, members: list[str], labels: int
) -> tuple[np.ndarray, np.ndarray]:
    """The images `(n, 32, 32, 3)` and labels `(n, labels)` of `members`, all `uint8`."""
    chunks = []
    with tarfile.open(archive, "r:gz") as tar:
        for name in members:
            f = tar.extractfile(name)
            if f is None:
                raise ValueError(
                    f"read_records: expected a file {name!r} in {archive}."
                )
            chunks.append(f.read())
    data = b"".join(chunks)
    width = labels + PIXELS
    if len(data) % width:
        raise ValueError(
            f"read_records: expected records of {width} bytes in {archive}, got "
            f"{len(data)} bytes."
        )
    records = np.frombuffer(data, np.uint8).reshape(-1, width)
    images = records[:, labels:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), records[:, :labels].copy()
