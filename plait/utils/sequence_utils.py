"""`pad_sequences`: a list of variable-length sequences as one padded NumPy array.

It lives in `plait.utils` (Keras 3 `keras.utils.pad_sequences`) and is re-exported by
`plait.preprocessing.sequence` (the Keras 2 spelling). NumPy only, no torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["pad_sequences"]

_SIDES = ("pre", "post")


def _sample_shape(sequences: Any) -> tuple[list[int], tuple[int, ...]]:
    """Each sequence's length, and the shape of one step (from the first non-empty one)."""
    lengths: list[int] = []
    step_shape: tuple[int, ...] | None = None
    for seq in sequences:
        try:
            n = len(seq)
        except TypeError as err:
            raise ValueError(
                "pad_sequences: `sequences` must be a list of iterables: expected "
                f"sequences with a length, got non-iterable {seq!r}."
            ) from err
        lengths.append(n)
        if step_shape is None and n:
            step_shape = np.asarray(seq).shape[1:]
    return lengths, step_shape or ()


def pad_sequences(
    sequences: Any,
    maxlen: int | None = None,
    dtype: Any = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: Any = 0.0,
) -> np.ndarray:
    """Pad (or truncate) sequences to one length: shape `(len(sequences), maxlen, ...)`.

    Args:
        sequences: List of sequences (lists or arrays; steps may be arrays of one
            shape, which becomes the trailing shape of the result).
        maxlen: Length of every row; the longest sequence's length when None.
        dtype: Dtype of the result (default `"int32"`); `object` for strings of
            any length.
        padding: `"pre"` or `"post"`: pad before or after each sequence.
        truncating: `"pre"` or `"post"`: drop the steps of longer sequences from
            their start or their end.
        value: The padding value (a number, or a string with a string/object dtype).

    Returns:
        A NumPy array of shape `(len(sequences), maxlen) + step_shape`.

    Keras's results, and its errors; where Keras fails inside NumPy plait gives the
    evident result: `maxlen=0` gives shape `(n, 0)`, an empty list `(0, 0)`. Bad
    `padding`/`truncating` values are rejected even when every sequence is empty.

    Example:
        >>> pad_sequences([[1], [2, 3], [4, 5, 6]]).tolist()
        [[0, 0, 1], [0, 2, 3], [4, 5, 6]]
        >>> pad_sequences([[1], [2, 3], [4, 5, 6]], maxlen=2, padding="post").tolist()
        [[1, 0], [2, 3], [5, 6]]
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(
            "pad_sequences: `sequences` must be iterable: expected a list of "
            f"sequences, got {type(sequences).__name__}."
        )
    if padding not in _SIDES:
        raise ValueError(
            f'pad_sequences: Padding type "{padding}" not understood: expected '
            '"pre" or "post".'
        )
    if truncating not in _SIDES:
        raise ValueError(
            f'pad_sequences: Truncating type "{truncating}" not understood: '
            'expected "pre" or "post".'
        )
    lengths, step_shape = _sample_shape(sequences)
    if maxlen is None:
        maxlen = max(lengths, default=0)
    elif isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)):
        raise TypeError(f"pad_sequences: expected an int `maxlen`, got {maxlen!r}.")
    elif maxlen < 0:
        raise ValueError(f"pad_sequences: expected `maxlen` >= 0, got {maxlen}.")
    np_dtype = np.dtype(dtype)
    if isinstance(value, str) and np_dtype.kind not in "OUS":
        raise ValueError(
            f"pad_sequences: `dtype` {dtype} is not compatible with `value`'s type: "
            f"{type(value)}: expected a string dtype or `dtype=object` for variable "
            "length strings."
        )
    out = np.full((len(lengths), int(maxlen), *step_shape), value, dtype=dtype)
    for row, (seq, n) in enumerate(zip(sequences, lengths, strict=True)):
        if not n or not maxlen:
            continue
        kept = seq[-maxlen:] if truncating == "pre" else seq[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != step_shape:
            raise ValueError(
                f"pad_sequences: Shape of sample {kept.shape[1:]} of sequence at "
                f"position {row} is different from expected shape {step_shape}."
            )
        if padding == "pre":
            out[row, maxlen - len(kept) :] = kept
        else:
            out[row, : len(kept)] = kept
    return out
