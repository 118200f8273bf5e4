"""Shared pieces of the preprocessing layers: Keras's output modes and adapt inputs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch

from plait.types import Shape

__all__ = [
    "OUTPUT_MODES",
    "adapt_batches",
    "check_mode",
    "encode",
    "encoded_shape",
    "mode_dtype",
    "positive_bins",
    "refuse_sparse",
]

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def check_mode(where: str, mode: str, allowed: tuple[str, ...]) -> str:
    """Return `mode` if it is one of `allowed`, else raise Keras's ValueError."""
    if mode not in allowed:
        raise ValueError(
            f"{where}: expected `output_mode` to be one of {list(allowed)}, "
            f"got {mode!r}."
        )
    return mode


def mode_dtype(mode: str, kwargs: dict[str, Any]) -> Any:
    """The layer dtype: `kwargs["dtype"]` (popped) or Keras's int64 / float32 by mode."""
    dtype = kwargs.pop("dtype", None)
    return dtype if dtype is not None else ("int64" if mode == "int" else "float32")


def refuse_sparse(where: str, sparse: bool) -> None:
    """Raise for `sparse=True`: plait's outputs are dense tensors."""
    if sparse:
        raise ValueError(
            f"{where}: expected sparse=False (outputs are dense), got True."
        )


def positive_bins(where: str, num_bins: Any) -> int:
    """`num_bins` as a positive int, or Keras's ValueError."""
    if num_bins is None or int(num_bins) < 1:
        raise ValueError(
            f"{where}: expected `num_bins` to be a positive int, got {num_bins!r}."
        )
    return int(num_bins)


def encode(
    where: str,
    indices: torch.Tensor,
    mode: str,
    depth: int,
    dtype: torch.dtype,
    count_weights: torch.Tensor | None = None,
    idf_weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Turn integer `indices` into Keras's `one_hot`/`multi_hot`/`count`/`tf_idf` output.

    As in Keras, a scalar becomes a batch of one token, one-hot keeps every
    position (a trailing dimension of 1 is replaced), and the other modes reduce
    the last axis: `(batch, tokens) -> (batch, depth)`, a rank-1 input being one
    sample. Inputs of rank above 2 are refused.
    """
    if mode == "int":
        return indices
    if indices.dim() == 0:
        indices = indices.reshape(1)
    if indices.dim() > 2:
        raise ValueError(
            f"{where}: expected inputs of rank 2 at most when `output_mode` is not "
            f"'int', got shape {tuple(indices.shape)}."
        )
    indices = indices.long()
    bad = (indices < 0) | (indices >= depth)
    if bool(bad.any()):
        raise ValueError(
            f"{where}: expected values in [0, {depth}), got "
            f"{indices[bad].flatten()[:5].tolist()}."
        )
    if mode == "one_hot":
        if indices.dim() == 2 and indices.shape[-1] == 1:
            indices = indices[..., 0]
        return torch.nn.functional.one_hot(indices, depth).to(dtype)
    flat = indices if indices.dim() == 2 else indices.unsqueeze(0)
    out = torch.zeros(flat.shape[0], depth, dtype=torch.float64, device=flat.device)
    if mode == "multi_hot":
        out.scatter_(1, flat, 1.0)
    else:
        weights = torch.ones_like(flat, dtype=torch.float64)
        if count_weights is not None:
            weights = count_weights.to(torch.float64).reshape(flat.shape)
        out.scatter_add_(1, flat, weights)
        if mode == "tf_idf" and idf_weights is not None:
            out = out * idf_weights.to(out)
    out = out.to(dtype)
    return out if indices.dim() == 2 else out[0]


def adapt_batches(data: Any, list_is_batch: bool = True) -> Iterator[np.ndarray]:
    """Yield NumPy batches from what `adapt` accepts: arrays, tensors, lists, iterables.

    An array or tensor is one batch. As in Keras, the numeric layers take a list
    as an iterable of batches (`list_is_batch=False`) and the lookup and text
    layers as one batch. Any other iterable (a generator, a `DataLoader`, a
    dataset) yields its batches, taking `x` from `(x, y)` pairs.
    """
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu().numpy()
    simple = isinstance(data, (np.ndarray, str, bytes)) or (
        list_is_batch and isinstance(data, (list, tuple))
    )
    if simple or (hasattr(data, "__array__") and not isinstance(data, (list, tuple))):
        yield np.asarray(data)
        return
    if not isinstance(data, Iterable):
        raise TypeError(
            f"adapt(data=...): expected an array, a tensor, a list or an iterable of "
            f"batches, got {type(data).__name__}."
        )
    for batch in data:
        if (
            isinstance(batch, (tuple, list))
            and len(batch) in (2, 3)
            and not isinstance(batch[0], (str, bytes, int, float))
        ):
            batch = batch[0]  # (x, y) or (x, y, sample_weight)
        if isinstance(batch, torch.Tensor):
            batch = batch.detach().cpu().numpy()
        yield np.asarray(batch)


def encoded_shape(input_shape: Shape, mode: str, depth: int) -> Shape:
    """Keras's output shape for an encoding mode over `depth` values."""
    shape = tuple(input_shape)
    if mode == "int":
        return shape
    if not shape:
        return (depth,)
    if mode == "one_hot" and (shape[-1] != 1 or len(shape) == 1):
        return (*shape, depth)
    return (*shape[:-1], depth)
