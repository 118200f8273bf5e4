"""Numeric preprocessing layers: `CategoryEncoding`, `Discretization`, `Normalization`."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from plait.layers.preprocessing.base import PreprocessingLayer
from plait.layers.preprocessing.encoding import (
    adapt_batches,
    check_mode,
    encode,
    encoded_shape,
    mode_dtype,
    refuse_sparse,
)
from plait.types import Shape

__all__ = ["CategoryEncoding", "Discretization", "Normalization"]

_EPSILON = 1e-7  # Keras's backend.epsilon(): the smallest standard deviation


class CategoryEncoding(PreprocessingLayer):
    """Encodes integer features as one-hot, multi-hot or count vectors.

    Args:
        num_tokens: How many values the input takes; inputs lie in
            `[0, num_tokens)`.
        output_mode: `"multi_hot"` (default), `"one_hot"` or `"count"`.
        sparse: Not supported (must be False).

    Call arguments:
        inputs: Integer tensor of rank 0, 1 or 2.
        count_weights: Weights of the same shape as `inputs`, summed in
            `"count"` mode.

    Example:
        >>> layer = CategoryEncoding(num_tokens=4, output_mode="one_hot")
        >>> layer(torch.tensor([3, 2, 0, 1])).tolist()[0]
        [0.0, 0.0, 0.0, 1.0]
    """

    def __init__(
        self,
        num_tokens: int | None = None,
        output_mode: str = "multi_hot",
        sparse: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if num_tokens is None:
            raise ValueError(
                f"{self._where()}: expected `num_tokens` (the number of values), "
                "got None."
            )
        if int(num_tokens) < 1:
            raise ValueError(
                f"{self._where()}: expected `num_tokens` >= 1, got {num_tokens!r}."
            )
        refuse_sparse(self._where(), sparse)
        self.num_tokens = int(num_tokens)
        self.output_mode = check_mode(
            self._where(), output_mode, ("one_hot", "multi_hot", "count")
        )
        self.sparse = False

    def call(
        self, inputs: torch.Tensor, count_weights: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Encode `inputs`."""
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(
                f"{self._where()}: expected `count_weights` only with "
                f"output_mode='count', got output_mode={self.output_mode!r}."
            )
        return encode(
            self._where(),
            torch.as_tensor(inputs),
            self.output_mode,
            self.num_tokens,
            self._compute_dtype,
            count_weights=None
            if count_weights is None
            else torch.as_tensor(count_weights),
        )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """`(..., num_tokens)` as in Keras."""
        return encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def get_config(self) -> dict[str, Any]:
        """`num_tokens`, `output_mode`, `sparse`."""
        return {
            **super().get_config(),
            "num_tokens": self.num_tokens,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
        }


def _summarize(values: np.ndarray, epsilon: float) -> np.ndarray:
    """A weighted sample of sorted `values`: about `1 / epsilon` points."""
    values = np.sort(values.reshape(-1))
    step = max(values.size / (1.0 / epsilon), 1.0)
    picked = values[int(step - 1) :: int(step)]
    return np.stack([picked, np.full(picked.shape, step, dtype=values.dtype)])


def _compress(summary: np.ndarray, epsilon: float) -> np.ndarray:
    """Resample `summary` at the quantiles `epsilon, 2 epsilon, ..., 1`."""
    if summary.shape[1] * epsilon < 1:
        return summary
    quantiles = epsilon + np.arange(0.0, 1.0, epsilon)
    cumulative = summary[1].cumsum()
    fractions = cumulative / cumulative[-1]
    points = np.interp(quantiles, fractions, summary[0])
    at = np.interp(quantiles, fractions, cumulative)
    weights = np.diff(at, prepend=0.0)
    return np.stack([points, weights]).astype("float32")


def _merge(new: np.ndarray, old: np.ndarray, epsilon: float) -> np.ndarray:
    both = np.concatenate([new, old], axis=1)
    return _compress(both[:, np.argsort(both[0])], epsilon)


class Discretization(PreprocessingLayer):
    """Buckets continuous values by `bin_boundaries` (given, or learned by `adapt`).

    Value `x` falls in bin `i` when `bin_boundaries[i-1] <= x < bin_boundaries[i]`.
    `adapt` learns `num_bins - 1` boundaries at approximate quantiles of the data
    with Keras's summary algorithm (`epsilon` its error), so the bins match Keras's.

    Args:
        bin_boundaries: Sorted list of boundaries, or None to `adapt`.
        num_bins: Number of bins to learn with `adapt`.
        epsilon: Error tolerance of the quantile summary (default 0.01).
        output_mode: `"int"` (default), `"one_hot"`, `"multi_hot"` or `"count"`.
        sparse: Not supported (must be False).

    Example:
        >>> layer = Discretization(bin_boundaries=[0.0, 1.0, 2.0])
        >>> layer(torch.tensor([[-1.5, 1.0, 3.4, 0.5]])).tolist()
        [[0, 2, 3, 1]]
    """

    def __init__(
        self,
        bin_boundaries: list[float] | None = None,
        num_bins: int | None = None,
        epsilon: float = 0.01,
        output_mode: str = "int",
        sparse: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(dtype=mode_dtype(output_mode, kwargs), **kwargs)
        refuse_sparse(self._where(), sparse)
        if bin_boundaries is not None and num_bins is not None:
            raise ValueError(
                f"{self._where()}: expected `bin_boundaries` or `num_bins`, not both; "
                f"got bin_boundaries={bin_boundaries!r}, num_bins={num_bins!r}."
            )
        if bin_boundaries is not None and list(bin_boundaries) != sorted(
            bin_boundaries
        ):
            raise ValueError(
                f"{self._where()}: expected sorted `bin_boundaries`, got "
                f"{list(bin_boundaries)!r}."
            )
        self.output_mode = check_mode(
            self._where(), output_mode, ("int", "one_hot", "multi_hot", "count")
        )
        self.num_bins = num_bins
        self.epsilon = float(epsilon)
        self.sparse = False
        self.input_bin_boundaries = bin_boundaries
        self.bin_boundaries = (
            [float(b) for b in bin_boundaries] if bin_boundaries is not None else None
        )
        self._summary: np.ndarray | None = None

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Learn `num_bins - 1` boundaries from `data` (array, list or iterable)."""
        if self.input_bin_boundaries is not None:
            raise ValueError(
                f"{self._where()}: expected `bin_boundaries` to be None to adapt, got "
                f"{self.input_bin_boundaries!r}."
            )
        if self.num_bins is None:
            raise ValueError(
                f"{self._where()}: expected `num_bins` to adapt, got None."
            )
        summary = np.zeros((2, 0), dtype="float32")
        for i, batch in enumerate(adapt_batches(data, list_is_batch=False)):
            if steps is not None and i >= steps:
                break
            part = _summarize(np.asarray(batch, dtype="float32"), self.epsilon)
            summary = _merge(part, summary, self.epsilon)
        self.bin_boundaries = _compress(summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def _boundaries(self) -> list[float]:
        if self.bin_boundaries is None:
            raise ValueError(
                f"{self._where()}: expected `bin_boundaries` or a call to `adapt()` "
                "first, got neither."
            )
        return self.bin_boundaries

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """Bin indices of `inputs` (or their encoding)."""
        x = torch.as_tensor(inputs)
        bounds = torch.tensor(self._boundaries(), dtype=torch.float64, device=x.device)
        ids = torch.bucketize(x.to(torch.float64), bounds, right=True)
        if self.output_mode == "int":
            return ids.to(self._compute_dtype)
        depth = len(self._boundaries()) + 1
        return encode(self._where(), ids, self.output_mode, depth, self._compute_dtype)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Same as the input in int mode, else `(..., num_bins)`."""
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries else self.num_bins
        return encoded_shape(input_shape, self.output_mode, int(depth or 1))

    def get_config(self) -> dict[str, Any]:
        """The boundaries (learned ones included), `num_bins`, `epsilon`, mode."""
        return {
            **super().get_config(),
            "bin_boundaries": self.bin_boundaries,
            "num_bins": None if self.bin_boundaries is not None else self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
        }


class Normalization(PreprocessingLayer):
    """Shifts and scales inputs to mean 0 and variance 1: `(x - mean) / sqrt(var)`.

    The mean and variance are given or learned by `adapt`, one per index of
    `axis` (the last by default), over all other axes. `invert=True` applies the
    inverse, `mean + x * sqrt(var)`.

    Args:
        axis: Axis or axes that keep their own statistics (default -1); None
            for one mean and variance over everything.
        mean: Given mean (broadcastable), instead of `adapt`.
        variance: Given variance, with `mean`.
        invert: Apply the inverse transformation.

    Weights: `mean`, `variance` and Keras's unused `count` (non-trainable) when
        learned by `adapt`.

    Example:
        >>> layer = Normalization(axis=None)
        >>> layer.adapt(np.array([1.0, 2.0, 3.0]))
        >>> [round(v, 4) for v in layer(torch.tensor([1.0, 2.0, 3.0])).tolist()]
        [-1.2247, 0.0, 1.2247]
    """

    def __init__(
        self,
        axis: int | tuple[int, ...] | list[int] | None = -1,
        mean: Any = None,
        variance: Any = None,
        invert: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if axis is None:
            self.axis: tuple[int, ...] = ()
        elif isinstance(axis, int):
            self.axis = (axis,)
        else:
            self.axis = tuple(int(a) for a in axis)
        if (mean is None) != (variance is None):
            raise ValueError(
                f"{self._where()}: expected both `mean` and `variance` or neither, got "
                f"mean={mean!r}, variance={variance!r}."
            )
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self._stat_shape: tuple[int, ...] | None = None

    def _kept(self, ndim: int) -> tuple[int, ...]:
        kept = tuple(a + ndim if a < 0 else a for a in self.axis)
        if any(not 0 <= a < ndim for a in kept) or len(set(kept)) != len(kept):
            raise ValueError(
                f"{self._where()}: expected `axis` within an input of rank {ndim}, "
                f"got {self.axis!r}."
            )
        return tuple(sorted(kept))

    def build(self, input_shape: Shape) -> None:
        """Create `mean` and `variance` (unless given) for the kept axes."""
        ndim = len(input_shape)
        kept = self._kept(ndim)
        for a in kept:
            if input_shape[a] is None:
                raise ValueError(
                    f"{self._where()}: expected a known size on axis {a}, got input "
                    f"shape {tuple(input_shape)}."
                )
        self._stat_shape = tuple(
            int(input_shape[a] or 1) if a in kept else 1 for a in range(ndim)
        )
        stats = tuple(int(input_shape[a] or 1) for a in kept)
        if self.input_mean is None:
            self.add_weight("mean", stats, "zeros", trainable=False)
            self.add_weight("variance", stats, "ones", trainable=False)
            # Keras 3 keeps a `count` weight it never updates; kept for its files.
            self.add_weight("count", (), "zeros", dtype="int32", trainable=False)
        self.built = True

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Learn the mean and variance of `data` (array, tensor, list or iterable)."""
        count = 0
        total: np.ndarray | None = None
        squares: np.ndarray | None = None
        for i, batch in enumerate(adapt_batches(data, list_is_batch=False)):
            if steps is not None and i >= steps:
                break
            x = np.asarray(batch, dtype=np.float64)
            if x.ndim == 0:
                x = x.reshape(1)
            if not self.built:
                self._build_for((None, *x.shape[1:]))
            reduce = tuple(a for a in range(x.ndim) if a not in self._kept(x.ndim))
            n = int(np.prod([x.shape[a] for a in reduce])) if reduce else 1
            s, q = x.sum(axis=reduce), (x * x).sum(axis=reduce)
            total = s if total is None else total + s
            squares = q if squares is None else squares + q
            count += n
        if total is None or squares is None or count == 0:
            raise ValueError(f"{self._where()}: expected data to adapt on, got none.")
        mean = total / count
        variance = np.maximum(squares / count - mean * mean, 0.0)
        with torch.no_grad():
            self.mean.copy_(torch.as_tensor(mean).reshape(self.mean.shape))
            self.variance.copy_(torch.as_tensor(variance).reshape(self.variance.shape))

    def _stats(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shape = self._stat_shape or ()
        if self.input_mean is not None:
            mean = torch.as_tensor(self.input_mean, dtype=x.dtype, device=x.device)
            var = torch.as_tensor(self.input_variance, dtype=x.dtype, device=x.device)
            if mean.dim() > 0:
                mean, var = mean.reshape(shape), var.reshape(shape)
            return mean, var
        return self.mean.to(x).reshape(shape), self.variance.to(x).reshape(shape)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """Normalize (or, with `invert`, denormalize) `inputs`."""
        x = torch.as_tensor(inputs)
        if not x.is_floating_point():
            x = x.to(self._compute_dtype)
        mean, var = self._stats(x)
        std = torch.clamp(torch.sqrt(var), min=_EPSILON)
        return mean + x * std if self.invert else (x - mean) / std

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Same as the input."""
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        """`axis`, `invert`, and the given `mean` and `variance`."""

        def plain(v: Any) -> Any:
            return np.asarray(v).tolist() if v is not None else None

        axis: Any = list(self.axis) if len(self.axis) != 1 else self.axis[0]
        return {
            **super().get_config(),
            "axis": axis if self.axis else None,
            "mean": plain(self.input_mean),
            "variance": plain(self.input_variance),
            "invert": self.invert,
        }
