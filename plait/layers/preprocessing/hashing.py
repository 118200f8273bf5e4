"""`Hashing` and `HashedCrossing`: Keras's hash bins, computed as TensorFlow does."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from plait.layers.layer_args import attrs_config
from plait.layers.preprocessing.base import PreprocessingLayer, host_values
from plait.layers.preprocessing.encoding import (
    check_mode,
    encode,
    encoded_shape,
    mode_dtype,
    positive_bins,
    refuse_sparse,
)
from plait.layers.preprocessing.fingerprint import (
    fingerprint64,
    fingerprint_cat64,
    siphash24,
)
from plait.types import Shape

__all__ = ["HashedCrossing", "Hashing"]

_MODES = ("int", "one_hot", "multi_hot", "count")
_CROSS_KEY = 0xDECAFCAFFE  # TensorFlow's initial key of `sparse.cross_hashed`


class Hashing(PreprocessingLayer):
    """Hashes strings or integers into `num_bins` bins, with Keras's (TensorFlow's) hash.

    Strings are hashed with FarmHash `Fingerprint64` (`tf.strings.to_hash_bucket_fast`),
    or with SipHash-2-4 keyed by `salt` (`to_hash_bucket_strong`); integers are
    hashed as their decimal text, as Keras does. So the bins equal Keras's.

    Args:
        num_bins: Number of bins, the mask bin included.
        mask_value: A value that goes to bin 0; the others then fill bins
            `1 .. num_bins - 1`.
        salt: An int or a pair of ints: use the keyed (strong) hash.
        output_mode: `"int"` (default), `"one_hot"`, `"multi_hot"` or `"count"`.
        sparse: Not supported (must be False).

    Example:
        >>> Hashing(num_bins=3)([["A"], ["B"], ["C"], ["D"], ["E"]]).tolist()
        [[1], [0], [1], [1], [2]]
    """

    def __init__(
        self,
        num_bins: int,
        mask_value: Any = None,
        salt: int | list[int] | tuple[int, int] | None = None,
        output_mode: str = "int",
        sparse: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(dtype=mode_dtype(output_mode, kwargs), **kwargs)
        refuse_sparse(self._where(), sparse)
        self.num_bins = positive_bins(self._where(), num_bins)
        self.mask_value = mask_value
        self.output_mode = check_mode(self._where(), output_mode, _MODES)
        self.sparse = False
        self.strong_hash = salt is not None
        if salt is None:
            self.salt: list[int] | None = None
        elif isinstance(salt, int):
            self.salt = [salt, salt]
        elif isinstance(salt, (list, tuple)) and len(salt) == 2:
            self.salt = [int(s) for s in salt]
        else:
            raise ValueError(
                f"{self._where()}: expected `salt` to be an int or a pair of ints, "
                f"got {salt!r}."
            )

    def _bins(self, values: np.ndarray) -> np.ndarray:
        if values.dtype.kind == "f":
            raise TypeError(
                f"{self._where()}: expected string or integer inputs, got "
                f"{values.dtype} values."
            )
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask = values == self.mask_value
        uniques, inverse = np.unique(values, return_inverse=True)
        hashed = np.empty(len(uniques), dtype=np.int64)
        for i, v in enumerate(uniques.tolist()):
            text = v if isinstance(v, str) else str(int(v))
            if self.salt is not None:
                h = siphash24(self.salt[0], self.salt[1], text)
            else:
                h = fingerprint64(text)
            hashed[i] = h % bins
        out = hashed[inverse].reshape(values.shape)
        if mask is not None:
            out = np.where(mask, 0, out + 1)
        return out

    def call(self, inputs: Any) -> torch.Tensor:
        """The bin of every value (or their encoding)."""
        ids = self._to_device(self._bins(host_values(inputs)), torch.int64)
        if self.output_mode == "int":
            return ids.to(self._compute_dtype)
        return encode(
            self._where(), ids, self.output_mode, self.num_bins, self._compute_dtype
        )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Same as the input in int mode, else `(..., num_bins)`."""
        return encoded_shape(input_shape, self.output_mode, self.num_bins)

    def get_config(self) -> dict[str, Any]:
        """`num_bins`, `salt`, `mask_value`, `output_mode`, `sparse`."""
        names = ("num_bins", "salt", "mask_value", "output_mode", "sparse")
        return {**super().get_config(), **attrs_config(self, names)}


class HashedCrossing(PreprocessingLayer):
    """Crosses two or more categorical features into `num_bins` hashed bins.

    Each sample's values (one per feature) are combined as TensorFlow's
    `tf.sparse.cross_hashed` does (`FingerprintCat64` over each string's
    `Fingerprint64`, or an integer's value), then taken modulo `num_bins`.

    Args:
        num_bins: Number of bins.
        output_mode: `"int"` (default) or `"one_hot"`.
        sparse: Not supported (must be False).

    Call arguments:
        inputs: A tuple or list of features, each of shape `(batch,)` or
            `(batch, 1)` (or scalars), strings or integers.

    Example:
        >>> layer = HashedCrossing(num_bins=5)
        >>> feat1 = np.array(["A", "B", "A", "B", "A"])
        >>> feat2 = np.array([101, 101, 101, 102, 102])
        >>> layer((feat1, feat2)).tolist()
        [1, 4, 1, 1, 3]
    """

    _single_input = False

    def __init__(
        self,
        num_bins: int,
        output_mode: str = "int",
        sparse: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(dtype=mode_dtype(output_mode, kwargs), **kwargs)
        refuse_sparse(self._where(), sparse)
        self.num_bins = positive_bins(self._where(), num_bins)
        self.output_mode = check_mode(self._where(), output_mode, ("int", "one_hot"))
        self.sparse = False

    def _features(self, inputs: Any) -> list[np.ndarray]:
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(
                f"{self._where()}: expected a tuple or list of at least two features, "
                f"got {type(inputs).__name__}."
            )
        feats = [host_values(x) for x in inputs]
        shape = feats[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError(
                f"{self._where()}: expected features of shape (batch,) or (batch, 1), "
                f"got {shape}."
            )
        for f in feats:
            if f.shape != shape:
                raise ValueError(
                    f"{self._where()}: expected every feature to have shape {shape}, "
                    f"got {f.shape}."
                )
            if f.dtype.kind == "f":
                raise TypeError(
                    f"{self._where()}: expected string or integer features, got "
                    f"{f.dtype} values."
                )
        return feats

    def call(self, inputs: Any) -> torch.Tensor:
        """The crossed bin of every sample (or its one-hot encoding)."""
        feats = self._features(inputs)
        shape = feats[0].shape
        columns = []
        for f in feats:
            flat = f.reshape(-1).tolist()
            columns.append(
                [
                    fingerprint64(v) if isinstance(v, str) else int(v) & (2**64 - 1)
                    for v in flat
                ]
            )
        out = np.empty(len(columns[0]), dtype=np.int64)
        for i, values in enumerate(zip(*columns)):
            h = _CROSS_KEY
            for v in values:
                h = fingerprint_cat64(h, v)
            out[i] = h % self.num_bins
        ids = self._to_device(out.reshape(shape), torch.int64)
        if self.output_mode == "int":
            return ids.to(self._compute_dtype)
        return encode(self._where(), ids, "one_hot", self.num_bins, self._compute_dtype)

    def compute_output_shape(self, input_shape: Any) -> Shape:
        """The first feature's shape, or `(..., num_bins)` one-hot."""
        first = tuple(input_shape[0])
        return encoded_shape(first, self.output_mode, self.num_bins)

    def get_config(self) -> dict[str, Any]:
        """`num_bins`, `output_mode`, `sparse`."""
        names = ("num_bins", "output_mode", "sparse")
        return {**super().get_config(), **attrs_config(self, names)}
