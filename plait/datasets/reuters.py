"""Reuters newswire topics (Keras's `keras.datasets.reuters`): 11,228 wires, 46 topics.

Wires are lists of word indices; Keras's `reuters.npz` stores them as pickled
object arrays, read here without unpickling (`plait.datasets.npz`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from plait.datasets import sequences as seq
from plait.datasets.files import KERAS_ORIGIN, get_file
from plait.datasets.npz import load_npz
from plait.datasets.sequences import Split

__all__ = ["get_label_names", "get_word_index", "load_data"]

SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"  # Keras pins this file by MD5


def load_data(
    path: str = "reuters.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    test_split: float = 0.2,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
    **kwargs: Any,
) -> tuple[Split, Split]:
    """Loads the Reuters newswire classification dataset.

    Args:
        path: where to cache the file, relative to the datasets cache.
        num_words: keep only indices below this; others become `oov_char`.
            None keeps all.
        skip_top: indices below this (the most frequent words) become `oov_char`.
        maxlen: keep only sequences shorter than this (after `start_char`).
        test_split: the fraction of the (shuffled) wires kept for testing.
        seed: seed of the shuffle.
        start_char: index marking each sequence's start (None: no marker).
        oov_char: index of words cut by `num_words` or `skip_top` (None: drop them).
        index_from: the amount word indices are shifted up by.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: 1-D object arrays of lists of
        ints, and `int64` topic labels 0-45.
    """
    seq.check_no_kwargs("reuters.load_data", kwargs)
    f = load_npz(get_file(path, KERAS_ORIGIN + "reuters.npz", SHA256))
    x, labels = seq.shuffled(np.random.RandomState(seed), f["x"], f["y"])
    xs, labels = seq.drop_long(maxlen, seq.shift(x, start_char, index_from), labels)
    xs = seq.index_words(xs, num_words, skip_top, oov_char)
    n = int(len(xs) * (1 - test_split))
    train = (seq.object_array(xs[:n]), np.array(labels[:n]))
    return train, (seq.object_array(xs[n:]), np.array(labels[n:]))


def get_word_index(path: str = "reuters_word_index.json") -> dict[str, int]:
    """The dict mapping each word to its index in the Reuters data (before `index_from`)."""
    return seq.word_index("reuters", path, WORD_INDEX_MD5)


def get_label_names() -> tuple[str, ...]:
    """The 46 topic names, by label."""
    return LABEL_NAMES


LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing",
    "money-supply", "coffee", "sugar", "trade", "reserves", "ship", "cotton",
    "carcass", "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp",
    "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal", "livestock",
    "retail", "ipi", "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc",
    "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)  # fmt: skip
