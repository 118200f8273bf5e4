"""Turn user data (NumPy, tensors, lists, dicts, loaders, generators) into batches.

Two sources feed `fit`, `evaluate` and `predict`:

- `ArrayBatches`: arrays converted to tensors once, on the model's device when
  they fit there (`plait.training.streaming`). An epoch draws one
  `torch.randperm` and yields index slices of it, so a batch costs one
  `index_select` per array; arrays too large for the device stay on the host
  and each batch is gathered into pinned memory and copied, one batch ahead.
- `IterableBatches`: a `torch.utils.data.DataLoader`, a `Dataset` (wrapped in a
  loader), a `plait.utils.PyDataset` (one pass per epoch), or any iterable or generator of `(x, y)` / `(x, y, sample_weight)`;
  each element is moved to the device as it arrives.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

import numpy as np
import torch

from plait.training import streaming
from plait.utils import tree
from plait.utils.pydataset import PyDataset, epoch_batches
from plait.utils.strings import StringTensor, is_string_data

__all__ = [
    "ArrayBatches",
    "IterableBatches",
    "batch_slices",
    "check_counts",
    "class_weight_to_sample_weight",
    "flat_targets",
    "flat_weights",
    "is_array_like",
    "num_samples",
    "to_tensors",
    "train_validation_split",
    "unpack_x_y_sample_weight",
]

Flat = list[Any]  # one tensor (or None) per model input or output
Batch = tuple[Flat, Flat, Flat]  # (inputs, targets, sample weights)
Narrowed = tuple[Flat, Flat, Flat, int]  # a process's rows, the global batch size


def _as_tensor(x: Any, device: torch.device | None) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        t = x
    elif is_string_data(x) or (
        isinstance(x, (list, tuple)) and is_string_data(np.asarray(x))
    ):
        # Strings stay on the host (plait/utils/strings.py) for the layers that
        # map them to numbers.
        return cast(torch.Tensor, StringTensor(x))
    else:
        arr = np.asarray(x)
        if arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        elif arr.dtype == object:
            raise TypeError(
                f"expected numeric data, got an array of Python objects {arr!r:.60}."
            )
        t = torch.from_numpy(np.ascontiguousarray(arr))
    if device is not None:
        t = streaming.to_device(t, device)
    return t


def to_tensors(data: Any, device: torch.device | None = None) -> Any:
    """Convert every array leaf of a nested structure to a tensor (float64 -> float32).

    Example:
        >>> to_tensors([np.zeros(2), [1, 2]])[0].dtype
        torch.float32
    """
    if data is None:
        return None
    if (
        isinstance(data, (list, tuple))
        and data
        and all(isinstance(v, (int, float)) for v in data)
    ):
        return _as_tensor(data, device)
    return tree.map_structure(
        lambda x: None if x is None else _as_tensor(x, device), data
    )


def is_array_like(data: Any) -> bool:
    """True for arrays, tensors, and lists/dicts of them (not loaders or generators).

    Example:
        >>> is_array_like({"a": np.zeros(3)}), is_array_like(iter([]))
        (True, False)
    """
    if data is None:
        return True
    if isinstance(
        data,
        (np.ndarray, torch.Tensor, np.generic, int, float, str, bytes, StringTensor),
    ):
        return True
    if isinstance(data, (list, tuple)):
        return all(is_array_like(v) for v in data)
    if isinstance(data, dict):
        return all(is_array_like(v) for v in data.values())
    return hasattr(data, "__array__")


def num_samples(data: Any, what: str) -> int:
    """The common first dimension of every tensor in `data`.

    Raises:
        ValueError: if the arrays disagree, naming each size.

    Example:
        >>> num_samples([torch.zeros(3, 2), torch.zeros(3)], "x")
        3
    """
    sizes = {
        int(t.shape[0]) for t in tree.flatten(data) if t is not None and t.dim() > 0
    }
    if len(sizes) != 1:
        raise ValueError(
            f"{what}: expected every array to have the same number of samples "
            f"(first dimension), got sizes {sorted(sizes)}."
        )
    return sizes.pop()


def batch_slices(
    n: int, batch_size: int, order: torch.Tensor | None = None
) -> Iterator[Any]:
    """Yield index slices (or index tensors when `order` is given) of `batch_size`.

    Example:
        >>> list(batch_slices(5, 2))
        [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        yield slice(start, stop) if order is None else order[start:stop]


def unpack_x_y_sample_weight(data: Any) -> tuple[Any, Any, Any]:
    """Split one element of a data source into `(x, y, sample_weight)`.

    A tuple (or list) of 1, 2 or 3 items is `(x,)`, `(x, y)` or `(x, y, sw)`;
    anything else is `x` alone, as in Keras.

    Raises:
        ValueError: for a tuple of another length.

    Example:
        >>> unpack_x_y_sample_weight((1, 2))
        (1, 2, None)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError(
        "Data: expected each element to be x, (x,), (x, y) or (x, y, sample_weight), "
        f"got a tuple of {len(data)} items."
    )


def train_validation_split(
    arrays: list[Flat], validation_split: float
) -> tuple[list[Flat], list[Flat]]:
    """Split flat lists of tensors: the last `validation_split` of the samples.

    Keras compat: the split is taken before shuffling, from the end of the data.

    Args:
        arrays: Lists of tensors (or None) sharing their first dimension.
        validation_split: Fraction in (0, 1).

    Returns:
        `(train_arrays, validation_arrays)`, each like `arrays`.

    Raises:
        ValueError: if the fraction is out of range or leaves a side empty.

    Example:
        >>> tr, va = train_validation_split([[torch.arange(10)]], 0.2)
        >>> tr[0][0].tolist(), va[0][0].tolist()
        ([0, 1, 2, 3, 4, 5, 6, 7], [8, 9])
    """
    if not 0.0 < validation_split < 1.0:
        raise ValueError(
            f"fit(validation_split=...): expected a fraction in (0, 1), got "
            f"{validation_split!r}."
        )
    n = num_samples(arrays, "fit(validation_split=...)")
    split_at = math.floor(n * (1.0 - validation_split))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"fit(validation_split={validation_split!r}): {n} samples leave "
            f"{split_at} for training and {n - split_at} for validation; both sides "
            "need at least one sample."
        )

    def cut(part: slice) -> list[Flat]:
        return [[None if t is None else t[part] for t in flat] for flat in arrays]

    return cut(slice(0, split_at)), cut(slice(split_at, n))


def class_weight_to_sample_weight(
    y: torch.Tensor, class_weight: dict[Any, float]
) -> torch.Tensor:
    """Per-sample weights `class_weight[class of sample]` (1.0 for unlisted classes).

    The class of a sample is its label, or the argmax of a one-hot label.

    Example:
        >>> class_weight_to_sample_weight(torch.tensor([0, 1, 2]), {1: 5.0})
        tensor([1., 5., 1.])
    """
    labels = y
    if labels.ndim > 1:
        labels = labels.argmax(-1) if labels.shape[-1] > 1 else labels.squeeze(-1)
    labels = labels.reshape(labels.shape[0], -1)[:, 0] if labels.ndim > 1 else labels
    labels = (
        torch.round(labels.double()).long() if labels.is_floating_point() else labels
    )
    keys = [int(k) for k in class_weight]
    if any(k < 0 for k in keys):
        raise ValueError(
            f"fit(class_weight=...): expected non-negative class ids, got {keys}."
        )
    size = max([*keys, int(labels.max()) if labels.numel() else 0]) + 1
    table = torch.ones(size, dtype=torch.float32)
    for k, w in class_weight.items():
        table[int(k)] = float(w)
    return table.to(labels.device)[labels.long()]


class ArrayBatches:
    """Batches of tensors already on the device: index slices of one permutation.

    Args:
        xs: One tensor per model input.
        ys: One tensor (or None) per model output.
        sws: One sample-weight tensor (or None) per model output.
        batch_size: Samples per batch.
        shuffle: True (a new order each epoch), False, or `"batch"` (batches
            stay contiguous; their order is shuffled).
        steps: Batches per epoch; `ceil(n / batch_size)` by default. More steps
            than that wrap around into a new shuffled pass.
        stream_to: None when the tensors are on the model's device; else that
            device: each batch is gathered on the host (in pinned memory for a
            GPU) and copied there, one batch ahead (`streaming.prefetch`).

    Example:
        >>> data = ArrayBatches([torch.arange(5)], [None], [None], 2, shuffle=False)
        >>> [b[0][0].tolist() for b in data.epoch()]
        [[0, 1], [2, 3], [4]]
    """

    def __init__(
        self,
        xs: Flat,
        ys: Flat,
        sws: Flat,
        batch_size: int,
        shuffle: bool | str = False,
        steps: int | None = None,
        stream_to: torch.device | None = None,
    ) -> None:
        self.xs, self.ys, self.sws = xs, ys, sws
        self.stream_to = stream_to
        self.n = num_samples([xs, ys, sws], "Data")
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.steps = steps if steps is not None else math.ceil(self.n / batch_size)
        self._pending: Iterator[Any] | None = None
        # Host string inputs (StringTensor) do not decide where indices live.
        self.device = next(
            (t.device for t in [*xs, *ys] if isinstance(t, torch.Tensor)),
            torch.device("cpu"),
        )
        # Set (on `device`) to make processes of a data parallel run agree.
        self.generator: torch.Generator | None = None
        # Data parallel: `index -> (this process's rows, global batch size)`;
        # batches are then `(xs, ys, sws, global batch size)` of those rows.
        self.narrow: Callable[[Any], tuple[Any, int]] | None = None

    def _orders(self) -> Iterator[Any]:
        """Endless stream of index slices (or index tensors), one pass at a time."""
        n, bs, g = self.n, self.batch_size, self.generator
        while True:
            if self.shuffle == "batch":
                on = g.device if g is not None else None
                perm = torch.randperm(math.ceil(n / bs), generator=g, device=on)
                starts = perm.tolist()
                for b in starts:
                    yield slice(b * bs, min(b * bs + bs, n))
            elif self.shuffle:
                order = torch.randperm(n, device=self.device, generator=g)
                yield from batch_slices(n, bs, order)
            else:
                yield from batch_slices(n, bs)

    def epoch(self) -> Iterator[Batch | Narrowed]:
        """Yield `steps` batches `(xs, ys, sws)` on the model's device."""
        if self.stream_to is None:
            return self._gather(pinned=False)
        pinned = self.stream_to.type == "cuda"
        return streaming.prefetch(self._gather(pinned), self.stream_to)

    def _gather(self, pinned: bool) -> Iterator[Batch | Narrowed]:
        if self._pending is None or self.steps == math.ceil(self.n / self.batch_size):
            self._pending = self._orders()
        xs, ys, sws = self.xs, self.ys, self.sws
        rows = streaming.rows
        for _ in range(self.steps):
            sl, total = next(self._pending), None
            if self.narrow is not None:
                sl, total = self.narrow(sl)
            batch = (
                [rows(t, sl, pinned) for t in xs],
                [None if t is None else rows(t, sl, pinned) for t in ys],
                [None if t is None else rows(t, sl, pinned) for t in sws],
            )
            yield batch if total is None else (*batch, total)


class IterableBatches:
    """Batches from a DataLoader, Dataset, iterable or generator.

    Args:
        source: The data source. A map-style `torch.utils.data.Dataset` is wrapped
            in a `DataLoader(batch_size, shuffle)`.
        standardize: Turns one element `(x, y, sw)` into flat lists on the device.
        steps: Batches per epoch. None: until the source is exhausted (a new
            pass each epoch when the source can be iterated again). Given: the
            same iterator continues across epochs, restarting when it runs out.
        batch_size: For wrapping a Dataset.
        shuffle: For wrapping a Dataset.
        ahead: Standardize (and so copy to the device) the next element
            before handing out the current one (for a model off the CPU).

    Example:
        >>> data = IterableBatches([(torch.ones(2, 3), torch.zeros(2))], lambda b: b)
        >>> len(list(data.epoch()))
        1
    """

    def __init__(
        self,
        source: Any,
        standardize: Callable[[tuple[Any, Any, Any]], Batch],
        steps: int | None = None,
        batch_size: int | None = 32,
        shuffle: bool | str = False,
        ahead: bool = False,
    ) -> None:
        from torch.utils.data import DataLoader, Dataset, IterableDataset

        if isinstance(source, PyDataset):
            # Keras 3: `shuffle` draws the batch order; the epoch hooks run.
            source = epoch_batches(source, bool(shuffle))
        elif isinstance(source, Dataset) and not isinstance(source, DataLoader):
            if isinstance(source, IterableDataset):
                source = DataLoader(source, batch_size=batch_size or 32)
            else:
                source = DataLoader(
                    source, batch_size=batch_size or 32, shuffle=bool(shuffle)
                )
        if not isinstance(source, Iterable) and not hasattr(source, "__next__"):
            raise TypeError(
                "Data: expected arrays, tensors, a DataLoader, a Dataset, or an "
                f"iterable/generator of batches, got {type(source).__name__}."
            )
        self.source = source
        self.standardize = standardize
        # A generator (its own iterator) can be walked only once.
        self.reiterable = iter(source) is not source
        self._fixed_steps = steps
        self.steps = steps  # for progress bars: known length, or None
        if steps is None and self.reiterable and hasattr(source, "__len__"):
            try:
                self.steps = len(source)
            except TypeError:
                self.steps = None
        self._iterator: Iterator[Any] | None = None
        self.exhausted = False
        self.ahead = ahead

    def epoch(self) -> Iterator[Batch]:
        """Yield the batches of one epoch, standardized."""
        batches = self._batches()
        return streaming.ahead(batches) if self.ahead else batches

    def _batches(self) -> Iterator[Batch]:
        fixed = self._fixed_steps
        if self._iterator is None or (self.reiterable and fixed is None):
            self._iterator = iter(self.source)
        count = 0
        restarted = False
        while fixed is None or count < fixed:
            try:
                element = next(self._iterator)
            except StopIteration:
                if fixed is not None and self.reiterable and not restarted:
                    self._iterator = iter(self.source)
                    restarted = True
                    continue
                if count == 0 or fixed is not None:
                    self.exhausted = True
                    warnings.warn(
                        "Your input ran out of data; training stops here. Make sure "
                        "the data source can give steps_per_epoch * epochs batches "
                        "(for a generator, loop it forever or pass a DataLoader).",
                        UserWarning,
                        stacklevel=3,
                    )
                return
            count += 1
            restarted = False
            yield self.standardize(unpack_x_y_sample_weight(element))


def flat_targets(y: Any, names: list[str], what: str) -> list[Any]:
    """Targets as one entry per output: a dict by output name, a list, or one array.

    Raises:
        ValueError: unknown output names, or not one target per output.

    Example:
        >>> flat_targets({"b": 1}, ["a", "b"], "fit")
        [None, 1]
    """
    n = len(names)
    if y is None:
        return [None] * n
    if isinstance(y, dict):
        unknown = [k for k in y if k not in names]
        if unknown:
            raise ValueError(
                f"{what}: unknown output name(s) {unknown} in the targets; the "
                f"model's outputs are {names}."
            )
        return [y.get(name) for name in names]
    if isinstance(y, (list, tuple)) and (n > 1 or len(y) == 1):
        if len(y) != n:
            raise ValueError(
                f"{what}: expected {n} target arrays, one per output {names}, got "
                f"{len(y)}."
            )
        return list(y)
    if n != 1:
        raise ValueError(
            f"{what}: expected {n} target arrays, one per output {names} (a list "
            "or a dict by output name), got a single array."
        )
    return [y]


def flat_weights(sw: Any, names: list[str], what: str) -> list[Any]:
    """Sample weights per output: one array for all, or a list/dict per output.

    Example:
        >>> flat_weights("w", ["a", "b"], "fit")
        ['w', 'w']
    """
    if sw is None:
        return [None] * len(names)
    if isinstance(sw, dict) or (isinstance(sw, (list, tuple)) and len(names) > 1):
        return flat_targets(sw, names, f"{what} (sample_weight)")
    return [sw] * len(names)


def check_counts(batch: Batch, what: str) -> int:
    """The common number of samples of a standardized batch.

    Raises:
        ValueError: listing the sizes of x, y and sample_weight when they differ.

    Example:
        >>> check_counts(([torch.zeros(2)], [torch.zeros(3)], [None]), "fit")
        Traceback (most recent call last):
        ...
        ValueError: fit: expected every array of x, y and sample_weight to have the same number of samples, got {'x': [2], 'y': [3]}.
    """
    sizes: dict[str, list[int]] = {}
    for label, flat in zip(("x", "y", "sample_weight"), batch):
        for t in flat:
            if t is not None and t.dim() > 0:
                sizes.setdefault(label, []).append(int(t.shape[0]))
    every = {s for v in sizes.values() for s in v}
    if len(every) != 1:
        raise ValueError(
            f"{what}: expected every array of x, y and sample_weight to have the "
            f"same number of samples, got {sizes}."
        )
    return every.pop()
