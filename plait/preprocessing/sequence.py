"""Keras 2 sequence preprocessing: `pad_sequences`, `skipgrams`, `make_sampling_table`,
`TimeseriesGenerator`.

Results equal Keras's (`keras.src.legacy.preprocessing.sequence`): `skipgrams` draws
from Python's `random` module in Keras's order, so the same `random.seed(...)` and
`seed=` give the same pairs. NumPy and the standard library only.
"""

from __future__ import annotations

import json
import random
from typing import Any

import numpy as np

from plait.utils.pydataset import PyDataset
from plait.utils.sequence_utils import pad_sequences as pad_sequences

__all__ = ["TimeseriesGenerator", "make_sampling_table", "pad_sequences", "skipgrams"]

_EULER_GAMMA = 0.577  # the constant Keras uses in its Zipf approximation


def _copy(label: Any) -> Any:
    """A fresh `[a, b]` list per categorical label, so no two labels share a list."""
    return list(label) if isinstance(label, list) else label


def make_sampling_table(size: int, sampling_factor: float = 1e-5) -> np.ndarray:
    """Word2vec's keep-probability of the word of each frequency rank, for `skipgrams`.

    Word frequencies are taken to follow Zipf's law, `frequency(rank) ~ 1 / (rank *
    (log(rank) + gamma) + 1/2 - 1/(12 rank))`, and the keep-probability is
    `min(1, sqrt(word_frequency / sampling_factor) / (word_frequency / sampling_factor))`.

    Args:
        size: Number of possible words (ranks `0 .. size-1`; rank 0 is scored as 1).
        sampling_factor: The word2vec sampling factor.

    Returns:
        A float64 array of length `size`: entry `i` is the probability of keeping
        the `i`-th most common word.

    Example:
        >>> make_sampling_table(3).round(6).tolist()
        [0.003152, 0.003152, 0.005476]
    """
    ranks = np.arange(size)
    if size:
        ranks[0] = 1
    inverse_frequency = (
        ranks * (np.log(ranks) + _EULER_GAMMA) + 0.5 - 1.0 / (12.0 * ranks)
    )
    scaled = sampling_factor * inverse_frequency
    return np.minimum(1.0, scaled / np.sqrt(scaled))


def skipgrams(
    sequence: Any,
    vocabulary_size: int,
    window_size: int = 4,
    negative_samples: float = 1.0,
    shuffle: bool = True,
    categorical: bool = False,
    sampling_table: Any = None,
    seed: int | None = None,
) -> tuple[list[list[int]], list[Any]]:
    """Skip-gram pairs of a sequence of word indices, with labels.

    Every word `w_i` pairs with each word of its window `[i - window_size, i +
    window_size]` (label 1); then `negative_samples` times as many pairs of a
    context word with a random word of the vocabulary are added (label 0). Index 0
    is a non-word and is skipped.

    Args:
        sequence: Word indices (ints), e.g. one row of `texts_to_sequences`.
        vocabulary_size: Largest possible word index + 1.
        window_size: Half-width of the window.
        negative_samples: Number of negative pairs per positive pair (float >= 0).
        shuffle: Shuffle the pairs (pairs and labels the same way).
        categorical: Labels as `[0, 1]` / `[1, 0]` rather than `1` / `0`.
        sampling_table: Array of keep-probabilities by word index (see
            `make_sampling_table`); each word is kept with that probability.
        seed: Seed of the final shuffle (drawn from `random` when None).

    Returns:
        `(couples, labels)`: lists of `[word, context]` pairs and their labels.

    Example:
        >>> skipgrams([1, 2, 3], 4, window_size=1, negative_samples=0.0, shuffle=False)
        ([[1, 2], [2, 1], [2, 3], [3, 2]], [1, 1, 1, 1])
    """
    negative_label: Any = [1, 0] if categorical else 0
    positive_label: Any = [0, 1] if categorical else 1
    couples: list[list[int]] = []
    for i, word in enumerate(sequence):
        if not word:
            continue
        if sampling_table is not None and sampling_table[word] < random.random():
            continue
        lo, hi = max(0, i - window_size), min(len(sequence), i + window_size + 1)
        couples.extend(
            [word, sequence[j]] for j in range(lo, hi) if j != i and sequence[j]
        )
    labels: list[Any] = [_copy(positive_label) for _ in couples]
    if negative_samples > 0:
        n_negative = int(len(labels) * negative_samples)
        contexts = [pair[0] for pair in couples]
        random.shuffle(contexts)
        couples += [
            [contexts[k % len(contexts)], random.randint(1, vocabulary_size - 1)]
            for k in range(n_negative)
        ]
        labels += [_copy(negative_label) for _ in range(n_negative)]
    if shuffle:
        if seed is None:
            seed = random.randint(0, 10**7)
        # The same seed before each shuffle keeps pairs and labels aligned.
        random.seed(seed)
        random.shuffle(couples)
        random.seed(seed)
        random.shuffle(labels)
    return couples, labels


class TimeseriesGenerator(PyDataset):
    """Batches of windows over a time series, as `(samples, targets)`: usable as `fit` data.

    Sample `k` is the window `data[row - length : row : sampling_rate]` ending just
    before `row`, and its target is `targets[row]`, for rows `start_index + length`,
    `+ stride`, ... up to `end_index`.

    Args:
        data: Indexable (list or array) of consecutive time steps; axis 0 is time.
        targets: Target of each time step; as long as `data`.
        length: Window length in time steps (before sampling).
        sampling_rate: Period between the steps kept in a window.
        stride: Period between consecutive windows.
        start_index: Earlier steps are not used (e.g. kept for validation).
        end_index: Later steps are not used; `len(data) - 1` when None.
        shuffle: Draw each batch's rows at random (with `np.random`) instead of in
            order.
        reverse: Give each window's steps in reverse chronological order.
        batch_size: Windows per batch (the last batch may be smaller).
        workers: Threads fetching batches ahead in `fit` (`PyDataset`).
        use_multiprocessing: Fetch batches on worker processes (`PyDataset`).
        max_queue_size: Most batches fetched ahead (`PyDataset`).

    Example:
        >>> gen = TimeseriesGenerator(np.arange(10), np.arange(10), length=3, batch_size=2)
        >>> len(gen)
        4
        >>> x, y = gen[0]
        >>> x.tolist(), y.tolist()
        ([[0, 1, 2], [1, 2, 3]], [3, 4])
    """

    def __init__(
        self,
        data: Any,
        targets: Any,
        length: int,
        sampling_rate: int = 1,
        stride: int = 1,
        start_index: int = 0,
        end_index: int | None = None,
        shuffle: bool = False,
        reverse: bool = False,
        batch_size: int = 128,
        workers: int = 1,
        use_multiprocessing: bool = False,
        max_queue_size: int = 10,
    ) -> None:
        super().__init__(workers, use_multiprocessing, max_queue_size)
        if len(data) != len(targets):
            raise ValueError(
                "TimeseriesGenerator: Data and targets have to be of same length: "
                f"expected {len(data)} targets (the data length), got {len(targets)}."
            )
        for name, number in (
            ("length", length),
            ("sampling_rate", sampling_rate),
            ("stride", stride),
            ("batch_size", batch_size),
        ):
            if (
                isinstance(number, bool)
                or not isinstance(number, (int, np.integer))
                or number < 1
            ):
                raise ValueError(
                    f"TimeseriesGenerator: expected a positive int `{name}`, got {number!r}."
                )
        self.data = data
        self.targets = targets
        self.length = length
        self.sampling_rate = sampling_rate
        self.stride = stride
        self.start_index = start_index + length
        self.end_index = len(data) - 1 if end_index is None else end_index
        self.shuffle = shuffle
        self.reverse = reverse
        self.batch_size = batch_size
        if self.start_index > self.end_index:
            raise ValueError(
                f"TimeseriesGenerator: `start_index+length={self.start_index} > "
                f"end_index={self.end_index}` is disallowed, as no part of the "
                "sequence would be left to be used as current step."
            )

    def __len__(self) -> int:
        span = self.batch_size * self.stride
        return (self.end_index - self.start_index + span) // span

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(
                f"TimeseriesGenerator: expected a batch index in [0, {n}), got {index}."
            )
        index %= n
        if self.shuffle:
            rows = np.random.randint(
                self.start_index, self.end_index + 1, size=self.batch_size
            )
        else:
            first = self.start_index + self.batch_size * self.stride * index
            last = min(first + self.batch_size * self.stride, self.end_index + 1)
            rows = np.arange(first, last, self.stride)
        samples = np.array(
            [self.data[row - self.length : row : self.sampling_rate] for row in rows]
        )
        targets = np.array([self.targets[row] for row in rows])
        if self.reverse:
            samples = samples[:, ::-1, ...]
        return samples, targets

    def get_config(self) -> dict[str, Any]:
        """The generator's arguments; `data` and `targets` as JSON strings (Keras 2).

        As in Keras, `start_index` is the first window's end (`start_index + length`).

        Raises:
            TypeError: `data` or `targets` cannot be written as JSON.
        """
        config: dict[str, Any] = {}
        for name in ("data", "targets"):
            values = getattr(self, name)
            if isinstance(values, np.ndarray):
                values = values.tolist()
            try:
                config[name] = json.dumps(values)
            except TypeError as err:
                raise TypeError(
                    f"TimeseriesGenerator: expected JSON-serializable `{name}`, "
                    f"got {type(values).__name__}: {err}"
                ) from err
        config.update(
            length=self.length,
            sampling_rate=self.sampling_rate,
            stride=self.stride,
            start_index=self.start_index,
            end_index=self.end_index,
            shuffle=self.shuffle,
            reverse=self.reverse,
            batch_size=self.batch_size,
        )
        return config

    def to_json(self, **kwargs: Any) -> str:
        """`{"class_name": "TimeseriesGenerator", "config": get_config()}` as JSON.

        Args:
            **kwargs: Passed to `json.dumps` (e.g. `indent`).
        """
        return json.dumps(
            {"class_name": type(self).__name__, "config": self.get_config()}, **kwargs
        )
