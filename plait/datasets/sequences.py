"""What `imdb.load_data` and `reuters.load_data` share: Keras's word-index transforms."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from plait.datasets.files import KERAS_ORIGIN, get_file

__all__ = [
    "Split", "check_no_kwargs", "drop_long", "index_words", "object_array",
    "read_word_index", "shift", "shuffled", "word_index",
]  # fmt: skip

# One split of a dataset: `(x, y)`.
Split = tuple[np.ndarray, np.ndarray]


def check_no_kwargs(where: str, kwargs: dict[str, object]) -> None:
    """The TypeError of a `load_data` given keywords it does not take."""
    if kwargs:
        raise TypeError(f"{where}: unexpected keyword arguments {sorted(kwargs)}.")


def shuffled(rng: np.random.RandomState, *arrays: np.ndarray) -> list[np.ndarray]:
    """`arrays` in the order `rng` shuffles their indices to (Keras's shuffle)."""
    indices = np.arange(len(arrays[0]))
    rng.shuffle(indices)
    return [a[indices] for a in arrays]


def shift(
    xs: Iterable[Sequence[int]], start_char: int | None, index_from: int
) -> list[list[int]]:
    """Each sequence's indices moved up by `index_from`, after `start_char` if any."""
    head = [] if start_char is None else [start_char]
    return [head + [int(w) + index_from for w in x] for x in xs]


def drop_long(
    maxlen: int | None, xs: list[list[int]], labels: np.ndarray
) -> tuple[list[list[int]], np.ndarray]:
    """The sequences shorter than `maxlen` (all of them when `maxlen` is falsy)."""
    if not maxlen:
        return xs, labels
    keep = [i for i, x in enumerate(xs) if len(x) < maxlen]
    return [xs[i] for i in keep], labels[np.asarray(keep, dtype=np.int64)]


def index_words(
    xs: list[list[int]],
    num_words: int | None,
    skip_top: int,
    oov_char: int | None,
) -> list[list[int]]:
    """Indices outside `[skip_top, num_words)` become `oov_char`, or are dropped if None."""
    if not num_words:
        num_words = max((max(x) for x in xs if x), default=0)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def object_array(xs: list[list[int]]) -> np.ndarray:
    """A 1-D object array of lists (even when all the lists have one length)."""
    out = np.empty(len(xs), dtype=object)
    for i, x in enumerate(xs):
        out[i] = x
    return out


def read_word_index(path: Path) -> dict[str, int]:
    """The word -> index dict of a word-index JSON file."""
    with open(path, encoding="utf-8") as f:
        index = json.load(f)
    if not isinstance(index, dict):
        raise ValueError(f"get_word_index: expected a JSON object in {path}.")
    return {str(word): int(i) for word, i in index.items()}


def word_index(dataset: str, path: str, md5: str) -> dict[str, int]:
    """`<dataset>_word_index.json` from Keras's store (cached at `path`), read."""
    file = get_file(path, f"{KERAS_ORIGIN}{dataset}_word_index.json", md5)
    return read_word_index(file)
