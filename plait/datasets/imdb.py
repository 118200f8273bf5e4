"""IMDB movie-review sentiment (Keras's `keras.datasets.imdb`).

Reviews are lists of word indices (1 is the most frequent word). Keras's
`imdb.npz` stores them as pickled object arrays, read here without unpickling
(`plait.datasets.npz`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from plait.datasets import sequences as seq
from plait.datasets.files import KERAS_ORIGIN, get_file
from plait.datasets.npz import load_npz
from plait.datasets.sequences import Split

__all__ = ["get_word_index", "load_data"]

SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"  # Keras pins this file by MD5


def load_data(
    path: str = "imdb.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
    **kwargs: Any,
) -> tuple[Split, Split]:
    """Loads the IMDB dataset: 25,000 training and 25,000 test reviews, labelled 0/1.

    Args:
        path: where to cache the file, relative to the datasets cache.
        num_words: keep only indices below this (the `num_words - 1` most
            frequent words, after shifting by `index_from`); others become
            `oov_char`. None keeps all.
        skip_top: indices below this (the most frequent words) become `oov_char`.
        maxlen: keep only sequences shorter than this (after `start_char`).
        seed: seed of the shuffle of each split.
        start_char: index marking each sequence's start (None: no marker).
        oov_char: index of words cut by `num_words` or `skip_top` (None: drop them).
        index_from: the amount word indices are shifted up by.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: 1-D object arrays of lists of
        ints, and `int64` labels.
    """
    seq.check_no_kwargs("imdb.load_data", kwargs)
    f = load_npz(get_file(path, KERAS_ORIGIN + "imdb.npz", SHA256))
    rng = np.random.RandomState(seed)
    x_train, y_train = seq.shuffled(rng, f["x_train"], f["y_train"])
    x_test, y_test = seq.shuffled(rng, f["x_test"], f["y_test"])
    train, y_train = seq.drop_long(
        maxlen, seq.shift(x_train, start_char, index_from), y_train
    )
    test, y_test = seq.drop_long(
        maxlen, seq.shift(x_test, start_char, index_from), y_test
    )
    if maxlen and (not train or not test):
        raise ValueError(
            f"imdb.load_data: expected sequences shorter than maxlen={maxlen}, got "
            f"none in the {'training' if not train else 'test'} data; increase maxlen."
        )
    xs = seq.index_words(train + test, num_words, skip_top, oov_char)
    n = len(train)
    return (seq.object_array(xs[:n]), y_train), (seq.object_array(xs[n:]), y_test)


def get_word_index(path: str = "imdb_word_index.json") -> dict[str, int]:
    """The dict mapping each word to its index in the IMDB data (before `index_from`)."""
    return seq.word_index("imdb", path, WORD_INDEX_MD5)
