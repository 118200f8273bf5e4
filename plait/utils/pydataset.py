"""`PyDataset` (Keras 2: `Sequence`): batches by index, as `fit`/`evaluate`/`predict` data.

A subclass gives `__len__` (batches per epoch) and `__getitem__(index)`, which
returns one batch: `(x, y)`, `(x, y, sample_weight)`, or `x` (for `predict`).
The training loop walks the batches with `epoch_batches` (`plait.training.data`
calls it), so this module knows nothing of models.

Keras compat: as in Keras 3, `fit(shuffle=True)` (the default) draws the *batch
order* at random each epoch (Python's `random.shuffle`); the batches themselves
are whatever `__getitem__` returns. `evaluate` and `predict` go in order.
`on_epoch_begin()` runs before the first batch of each pass, `on_epoch_end()`
after its last one.

`workers > 1` fetches up to `max_queue_size` batches ahead on a pool of threads and
hands them out in order. `use_multiprocessing=True` fetches them on `workers`
worker processes instead, as Keras does: a `multiprocessing` pool started for each
pass, holding a copy of the dataset as it is then (so what `on_epoch_end` changes
reaches the next pass); the batches come back pickled, in order. Where processes
start by forking (Linux) the dataset is simply inherited; elsewhere (spawn) it must
pickle, and one that does not is fetched on threads, with a warning. Each worker
reseeds NumPy's and Python's global generators from fresh entropy, so workers do
not repeat each other's random draws.
"""

from __future__ import annotations

import functools
import itertools
import multiprocessing
import random
import sys
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.reduction import ForkingPickler
from typing import Any

import numpy as np

__all__ = ["PyDataset", "Sequence", "epoch_batches", "timeseries_dataset_from_array"]


class PyDataset:
    """Base class of a dataset of batches fetched by index.

    Args:
        workers: Threads (or processes) fetching batches ahead; 1 without
            `use_multiprocessing`: fetch each batch when needed.
        use_multiprocessing: Fetch batches on `workers` worker processes.
        max_queue_size: Most batches fetched ahead (with workers).

    Example:
        >>> class Squares(PyDataset):
        ...     def __len__(self):
        ...         return 2
        ...     def __getitem__(self, index):
        ...         x = np.arange(2.0) + 2 * index
        ...         return x, x**2
        >>> [y.tolist() for _, y in Squares()]
        [[0.0, 1.0], [4.0, 9.0]]
    """

    def __init__(
        self,
        workers: int = 1,
        use_multiprocessing: bool = False,
        max_queue_size: int = 10,
    ) -> None:
        for name, value in (("workers", workers), ("max_queue_size", max_queue_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"{type(self).__name__}: expected a positive int `{name}`, got "
                    f"{value!r}."
                )
        self._workers = workers
        self._use_multiprocessing = bool(use_multiprocessing)
        self._max_queue_size = max_queue_size

    # Subclasses that skip `super().__init__()` still get Keras's defaults.
    @property
    def workers(self) -> int:
        """Threads (or processes) fetching batches ahead."""
        return int(getattr(self, "_workers", 1))

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        """Fetch batches on worker processes (threads when False)."""
        return bool(getattr(self, "_use_multiprocessing", False))

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        """Most batches fetched ahead."""
        return int(getattr(self, "_max_queue_size", 10))

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__}: expected a `__getitem__(index)` returning one "
            "batch, got none (subclass PyDataset and define it)."
        )

    @property
    def num_batches(self) -> int | None:
        """Batches per pass: `len(self)`; None for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        return None

    def on_epoch_begin(self) -> None:
        """Called before the first batch of every pass."""

    def on_epoch_end(self) -> None:
        """Called after the last batch of every pass (e.g. to reshuffle samples)."""

    def __iter__(self) -> Iterator[Any]:
        n = self.num_batches
        indices = itertools.count() if n is None else range(n)
        for index in indices:
            yield self[index]


Sequence = PyDataset  # Keras 2's name


# Processes start by forking where that is safe and the default (Linux): the
# dataset is then inherited, not pickled.
START_METHOD = "fork" if sys.platform == "linux" else "spawn"

_worker_dataset: PyDataset | None = None  # the dataset, in a worker process


def _start_worker(dataset: PyDataset) -> None:
    global _worker_dataset
    _worker_dataset = dataset
    np.random.seed()  # fresh entropy: workers draw apart
    random.seed()


def _worker_batch(index: int) -> Any:
    if _worker_dataset is None:
        raise RuntimeError("PyDataset worker: expected a dataset, got none.")
    return _worker_dataset[index]


def _process_pool(dataset: PyDataset) -> ProcessPoolExecutor | None:
    """`workers` processes holding `dataset`; None (warned) if it cannot get there."""
    if START_METHOD != "fork":
        try:
            ForkingPickler.dumps(dataset)  # what spawn sends
        except Exception as err:
            warnings.warn(
                f"{type(dataset).__name__}: use_multiprocessing=True needs a dataset "
                f"that pickles, got {type(err).__name__}: {err}; fetching batches on "
                "threads instead."
            )
            return None
    context = multiprocessing.get_context(START_METHOD)
    return ProcessPoolExecutor(
        dataset.workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(dataset,),
    )


def _from_worker(dataset: PyDataset, index: int, future: Future[Any]) -> Any:
    """A worker's batch; a worker that died (killed, crashed) is an error here,
    not a wait without end."""
    try:
        return future.result()
    except BrokenProcessPool as err:
        raise RuntimeError(
            f"{type(dataset).__name__}: a worker process died (use_multiprocessing="
            f"True) before batch {index} came back: killed, or crashed (out of "
            "memory?). Run with use_multiprocessing=False to see an error raised "
            "by __getitem__ in this process."
        ) from err


def _in_order(
    submit: Callable[[int], Callable[[], Any]], indices: Iterable[int], depth: int
) -> Iterator[Any]:
    """Results of `submit(index)()` in index order, with `depth` submitted ahead."""
    pending: deque[Callable[[], Any]] = deque()
    order = iter(indices)
    for index in itertools.islice(order, depth):
        pending.append(submit(index))
    while pending:
        batch = pending.popleft()()
        for index in itertools.islice(order, 1):
            pending.append(submit(index))
        yield batch


def _fetch(dataset: PyDataset, indices: Iterable[int]) -> Iterator[Any]:
    """`dataset[i]` for each index, in order; ahead on processes or threads."""
    depth = dataset.max_queue_size
    processes = _process_pool(dataset) if dataset.use_multiprocessing else None
    if processes is not None:
        try:
            yield from _in_order(
                lambda i: functools.partial(
                    _from_worker, dataset, i, processes.submit(_worker_batch, i)
                ),
                indices,
                depth,
            )
        finally:  # running batches finish (at most `workers`), queued ones never start
            processes.shutdown(wait=True, cancel_futures=True)
        return
    if dataset.workers <= 1:
        for index in indices:
            yield dataset[index]
        return
    threads = ThreadPoolExecutor(max_workers=dataset.workers)
    try:
        yield from _in_order(
            lambda i: threads.submit(dataset.__getitem__, i).result, indices, depth
        )
    finally:
        threads.shutdown(wait=True, cancel_futures=True)


class _Epochs:
    """One pass over a PyDataset per `iter()`, with its epoch hooks."""

    def __init__(self, dataset: PyDataset, shuffle: bool) -> None:
        self.dataset = dataset
        self.shuffle = shuffle

    def __len__(self) -> int:
        n = self.dataset.num_batches
        if n is None:
            raise TypeError("an endless PyDataset has no length")
        return n

    def __iter__(self) -> Iterator[Any]:
        dataset = self.dataset
        n = dataset.num_batches
        indices: Iterable[int]
        if n is None:
            indices = itertools.count()
        else:
            indices = list(range(n))
            if self.shuffle:
                random.shuffle(indices)
        dataset.on_epoch_begin()
        yield from _fetch(dataset, indices)
        dataset.on_epoch_end()


def epoch_batches(dataset: PyDataset, shuffle: bool = False) -> Iterable[Any]:
    """An iterable giving one pass (epoch) of `dataset`'s batches per `iter()`.

    Args:
        dataset: The PyDataset.
        shuffle: Draw the order of the batches at random each pass.

    Example:
        >>> class Two(PyDataset):
        ...     def __len__(self):
        ...         return 2
        ...     def __getitem__(self, index):
        ...         return index
        >>> passes = epoch_batches(Two(workers=2))
        >>> list(passes), len(passes)
        ([0, 1], 2)
    """
    return _Epochs(dataset, bool(shuffle))


class _Windows(PyDataset):
    """Batches of windows of `timeseries_dataset_from_array`."""

    def __init__(
        self,
        data: np.ndarray,
        targets: np.ndarray | None,
        starts: np.ndarray,
        length: int,
        rate: int,
        batch_size: int | None,
    ) -> None:
        super().__init__()
        self.data, self.targets, self.starts = data, targets, starts
        self.offsets = np.arange(length) * rate
        self.batch_size = batch_size

    def __len__(self) -> int:
        size = self.batch_size or 1
        return -(-len(self.starts) // size)

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(
                f"timeseries_dataset_from_array: expected a batch index in [0, {n}), "
                f"got {index}."
            )
        index %= n
        if self.batch_size is None:
            start = self.starts[index]
            window = self.data[start + self.offsets]
            return window if self.targets is None else (window, self.targets[start])
        starts = self.starts[index * self.batch_size : (index + 1) * self.batch_size]
        windows = self.data[starts[:, None] + self.offsets]
        return windows if self.targets is None else (windows, self.targets[starts])


def _positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(
            f"timeseries_dataset_from_array: expected a positive int `{name}`, got "
            f"{value!r}."
        )


def timeseries_dataset_from_array(
    data: Any,
    targets: Any,
    sequence_length: int,
    sequence_stride: int = 1,
    sampling_rate: int = 1,
    batch_size: int | None = 128,
    shuffle: bool = False,
    seed: int | None = None,
    start_index: int | None = None,
    end_index: int | None = None,
) -> PyDataset:
    """Batches of sliding windows over a time series (Keras's windows).

    Window `k` starts at step `start_index + k * sequence_stride` and holds
    `sequence_length` steps, `sampling_rate` apart; its target is `targets` at
    the window's first step (pass `targets=data[sequence_length:]` to predict the
    step after each window). Only steps in `[start_index, end_index)` are used.

    Args:
        data: Array-like of time steps; axis 0 is time.
        targets: Target per time step, or None (batches are then windows only).
        sequence_length: Steps per window.
        sequence_stride: Steps between the starts of consecutive windows.
        sampling_rate: Steps between the steps kept in a window.
        batch_size: Windows per batch; None gives single windows.
        shuffle: Shuffle the windows (once, with `np.random.RandomState(seed)`).
            Keras compat: the same windows as Keras, not TensorFlow's shuffled order.
        seed: Seed of the shuffle.
        start_index: First step used (0 by default).
        end_index: Steps from this one on are not used; when given, below
            `len(data)` as in Keras (the whole series by default).

    Returns:
        A `PyDataset` of `(windows, targets)` batches (or windows), for `fit`.

    Raises:
        ValueError: a non-positive length, stride, rate or batch size, a stride
            or rate not below the data length, or indices outside the data.

    Example:
        >>> ds = timeseries_dataset_from_array(np.arange(10), np.arange(10)[3:], 3, batch_size=2)
        >>> x, y = ds[0]
        >>> x.tolist(), y.tolist(), len(ds)
        ([[0, 1, 2], [1, 2, 3]], [3, 4], 4)
    """
    _positive("sequence_length", sequence_length)
    _positive("sequence_stride", sequence_stride)
    _positive("sampling_rate", sampling_rate)
    if batch_size is not None:
        _positive("batch_size", batch_size)
    n = len(data)
    for name, value in (
        ("sequence_stride", sequence_stride),
        ("sampling_rate", sampling_rate),
    ):
        if value >= n:
            raise ValueError(
                f"timeseries_dataset_from_array: expected `{name}` lower than the "
                f"data length {n}, got {value!r}."
            )
    start = 0 if start_index is None else start_index
    end = n if end_index is None else end_index
    if not 0 <= start < n:
        raise ValueError(
            "timeseries_dataset_from_array: expected `start_index` in "
            f"[0, {n}) (the data length), got {start_index!r}."
        )
    if end_index is not None and not start < end < n:
        # Keras compat: an explicit end_index must be below the data length.
        raise ValueError(
            "timeseries_dataset_from_array: expected `end_index` in "
            f"({start}, {n}) (after start_index, below the data length), got "
            f"{end_index!r}."
        )
    steps = np.asarray(data)[start:end]
    count = end - start - (sequence_length - 1) * sampling_rate
    labels = None
    if targets is not None:
        labels = np.asarray(targets)[start:end]
        count = min(count, len(labels))
    starts = np.arange(0, max(count, 0), sequence_stride)
    if shuffle:
        rng = np.random.RandomState(
            np.random.randint(1_000_000) if seed is None else seed
        )
        rng.shuffle(starts)
    return _Windows(steps, labels, starts, sequence_length, sampling_rate, batch_size)
