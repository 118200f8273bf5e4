"""`StringLookup` and `IntegerLookup`: vocabularies mapping tokens to indices."""

from __future__ import annotations

import itertools
import math
import os
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from plait.layers.layer_args import attrs_config
from plait.layers.preprocessing.base import PreprocessingLayer, host_values
from plait.layers.preprocessing.encoding import (
    OUTPUT_MODES,
    adapt_batches,
    check_mode,
    encode,
    encoded_shape,
    mode_dtype,
    refuse_sparse,
)
from plait.layers.preprocessing.fingerprint import fingerprint64, siphash24
from plait.types import Shape
from plait.utils.strings import STRING, as_string_array

__all__ = ["IndexLookup", "IntegerLookup", "StringLookup"]


class IndexLookup(PreprocessingLayer):
    """Shared machinery of `StringLookup` and `IntegerLookup` (Keras's `IndexLookup`).

    Index layout, as in Keras: the mask token (if any) at 0, then
    `num_oov_indices` OOV indices, then the vocabulary. With several OOV
    indices a token goes to one by hash (strings: FarmHash, as TensorFlow's
    `to_hash_bucket_fast`; integers: the value modulo their number).
    `adapt` orders tokens by count, most frequent first, ties in decreasing
    token order (Keras's). The vocabulary (and `idf_weights`) is part of the
    config, so saved models carry it as data.
    """

    _strings = True

    def __init__(
        self,
        max_tokens: int | None,
        num_oov_indices: int,
        mask_token: Any,
        oov_token: Any,
        vocabulary: Any = None,
        idf_weights: Any = None,
        invert: bool = False,
        output_mode: str = "int",
        pad_to_max_tokens: bool = False,
        sparse: bool = False,
        oov_method: str = "floormod",
        salt: int | list[int] | tuple[int, int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(dtype=mode_dtype(output_mode, kwargs), **kwargs)
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(
                f"{self._where()}: expected `oov_method` 'floormod' or 'farmhash', got "
                f"{oov_method!r}."
            )
        if salt is not None and not self._strings and oov_method != "farmhash":
            raise ValueError(
                f"{self._where()}: expected oov_method='farmhash' with `salt`, got "
                f"oov_method={oov_method!r}."
            )
        if isinstance(salt, int) and not isinstance(salt, bool):
            salt = [salt, salt]
        elif salt is not None:
            if not isinstance(salt, (list, tuple)) or len(salt) != 2:
                raise ValueError(
                    f"{self._where()}: expected `salt` to be an int or a pair of ints, "
                    f"got {salt!r}."
                )
            salt = [int(s) for s in salt]
        self.oov_method = oov_method
        self.salt: list[int] | None = salt
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(
                f"{self._where()}: expected `max_tokens` to be None or > 1, got "
                f"{max_tokens!r}."
            )
        if num_oov_indices < 0:
            raise ValueError(
                f"{self._where()}: expected `num_oov_indices` >= 0, got "
                f"{num_oov_indices!r}."
            )
        refuse_sparse(self._where(), sparse)
        self.output_mode = check_mode(self._where(), output_mode, OUTPUT_MODES)
        if invert and output_mode != "int":
            raise ValueError(
                f"{self._where()}: expected output_mode='int' with `invert=True`, got "
                f"{output_mode!r}."
            )
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(
                f"{self._where()}: expected `max_tokens` with `pad_to_max_tokens=True`, "
                "got None."
            )
        self.max_tokens = max_tokens
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.invert = bool(invert)
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.sparse = False
        self._tokens: list[Any] = []
        self._index: dict[Any, int] = {}
        self.idf_weights: np.ndarray | None = None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        elif idf_weights is not None:
            raise ValueError(
                f"{self._where()}: expected `vocabulary` with `idf_weights`, got None."
            )

    # -- the vocabulary --------------------------------------------------------

    def _token(self, v: Any) -> Any:
        return str(v) if self._strings else int(v)

    def _token_start(self) -> int:
        return (self.mask_token is not None) + self.num_oov_indices

    def _specials(self) -> list[Any]:
        mask = [self.mask_token] if self.mask_token is not None else []
        return mask + [self.oov_token] * self.num_oov_indices

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[Any]:
        """The tokens by index, the mask and OOV tokens first."""
        return (self._specials() if include_special_tokens else []) + list(self._tokens)

    def vocabulary_size(self) -> int:
        """Number of indices, the special tokens included."""
        return self._token_start() + len(self._tokens)

    def _read_vocabulary(self, vocabulary: Any) -> list[Any]:
        if isinstance(vocabulary, (str, os.PathLike)):
            if not os.path.isfile(vocabulary):
                raise ValueError(
                    f"{self._where()}: expected `vocabulary` to be a list or an existing "
                    f"file, got {str(vocabulary)!r}."
                )
            with open(vocabulary, encoding="utf-8") as f:
                return [self._token(line.rstrip("\n")) for line in f]
        return [self._token(v) for v in host_values(vocabulary).reshape(-1).tolist()]

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Use `vocabulary` (a list, array or file of one token a line)."""
        tokens = self._read_vocabulary(vocabulary)
        specials = self._specials()
        weights = None if idf_weights is None else np.asarray(idf_weights, "float32")
        if tokens[: len(specials)] == specials and specials:
            tokens = tokens[len(specials) :]
            if weights is not None:
                weights = weights[len(specials) :]
        if self.output_mode == "tf_idf" and weights is None:
            raise ValueError(
                f"{self._where()}: expected `idf_weights` with output_mode='tf_idf', "
                "got None."
            )
        if weights is not None and len(weights) != len(tokens):
            raise ValueError(
                f"{self._where()}: expected `idf_weights` of the vocabulary's length "
                f"{len(tokens)}, got {len(weights)}."
            )
        repeated = sorted({t for t, n in Counter(tokens).items() if n > 1}, key=str)
        if repeated:
            raise ValueError(
                f"{self._where()}: expected a vocabulary without repeated tokens, got "
                f"{repeated[:5]} more than once."
            )
        for name, special in (("mask", self.mask_token), ("OOV", self.oov_token)):
            if special is not None and special in tokens:
                raise ValueError(
                    f"{self._where()}: expected the {name} token {special!r} only at "
                    f"the start of `vocabulary`, got it at index "
                    f"{tokens.index(special)} of the tokens."
                )
        size = self._token_start() + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError(
                f"{self._where()}: expected at most max_tokens={self.max_tokens} "
                f"indices, got a vocabulary of {size} (special tokens included)."
            )
        self._tokens = tokens
        start = self._token_start()
        self._index = {t: i + start for i, t in enumerate(tokens)}
        if weights is not None:
            pad = float(np.mean(weights)) if len(weights) else 0.0
            self.idf_weights = np.concatenate(
                [np.full(start, pad, "float32"), weights]
            ).astype("float32")

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Learn the vocabulary (and, in tf_idf mode, the idf weights) from `data`."""
        batches = itertools.islice(adapt_batches(data), steps)
        self.learn(self._adapt_rows(batch) for batch in batches)

    def learn(self, batches: Iterable[list[list[Any]]]) -> None:
        """Learn the vocabulary from batches of documents (lists of tokens)."""
        counts: Counter[Any] = Counter()
        docs: Counter[Any] = Counter()
        n_docs = 0
        for rows in batches:
            for row in rows:
                counts.update(row)
                docs.update(set(row))
            n_docs += len(rows)
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        ordered = sorted(counts, key=lambda t: (counts[t], t), reverse=True)
        if self.max_tokens is not None:
            ordered = ordered[: max(self.max_tokens - self._token_start(), 0)]
        weights = None
        if self.output_mode == "tf_idf":
            weights = [math.log(1 + n_docs / (1 + docs[t])) for t in ordered]
        self._tokens, self._index = [], {}
        self.set_vocabulary(ordered if ordered else [], weights)

    def _adapt_rows(self, batch: np.ndarray) -> list[list[Any]]:
        """The documents of a batch: rows of a 2-D batch, values of a 1-D one."""
        values = host_values(batch)
        if values.ndim == 0:
            values = values.reshape(1, 1)
        elif values.ndim == 1:
            values = values.reshape(-1, 1)
        return [
            [self._token(v) for v in row]
            for row in values.reshape(len(values), -1).tolist()
        ]

    # -- the lookup ------------------------------------------------------------

    def _oov_index(self, token: Any) -> int:
        if self.num_oov_indices == 0:
            raise ValueError(
                f"{self._where()}: expected every input in the vocabulary when "
                f"num_oov_indices=0, got {token!r}."
            )
        start = self.mask_token is not None
        if self.num_oov_indices == 1:
            return int(start)
        if not self._strings and self.oov_method == "floormod":
            return int(start) + int(token) % self.num_oov_indices
        text = str(token)  # integers hash as their decimal text, as in Keras
        if self.salt is not None:
            h = siphash24(self.salt[0], self.salt[1], text)
        else:
            h = fingerprint64(text)
        return int(start) + h % self.num_oov_indices

    def _lookup(self, values: np.ndarray) -> np.ndarray:
        uniques, inverse = np.unique(values, return_inverse=True)
        ids = np.empty(len(uniques), dtype=np.int64)
        for i, v in enumerate(uniques.tolist()):
            token = self._token(v)
            if self.mask_token is not None and token == self.mask_token:
                ids[i] = 0
            else:
                found = self._index.get(token)
                ids[i] = found if found is not None else self._oov_index(token)
        return ids[inverse].reshape(values.shape)

    def _invert(self, values: np.ndarray) -> np.ndarray:
        vocab = self.get_vocabulary()
        out = np.empty(values.shape, dtype=object if self._strings else np.int64)
        for pos, i in np.ndenumerate(values):
            i = int(i)
            out[pos] = vocab[i] if 0 <= i < len(vocab) else self.oov_token
        return out

    def call(self, inputs: Any) -> Any:
        """Indices of the tokens (or their encoding); tokens of indices if `invert`."""
        values = host_values(inputs)
        if self.invert:
            result = self._invert(values)
            if self._strings:
                return as_string_array(result)
            return self._to_device(result, self._compute_dtype)
        if self._strings and values.size and values.dtype.kind not in "USO":
            raise TypeError(
                f"{self._where()}: expected string inputs, got {values.dtype} values."
            )
        ids = self._to_device(self._lookup(values), torch.int64)
        if self.output_mode == "int":
            return ids.to(self._compute_dtype)
        idf = None
        if self.output_mode == "tf_idf" and self.idf_weights is not None:
            idf = torch.as_tensor(self._padded(self.idf_weights), device=ids.device)
        return encode(
            self._where(),
            ids,
            self.output_mode,
            self._depth(),
            self._compute_dtype,
            idf_weights=idf,
        )

    def _depth(self) -> int:
        if self.pad_to_max_tokens and self.max_tokens is not None:
            return self.max_tokens
        return self.vocabulary_size()

    def _padded(self, weights: np.ndarray) -> np.ndarray:
        return np.pad(weights, (0, self._depth() - len(weights)))

    def _output_dtype(self, inputs: list[Any]) -> torch.dtype:
        if self.invert and self._strings:
            return STRING
        return self._compute_dtype

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Same as the input in int mode, else `(..., vocabulary_size)`."""
        return encoded_shape(input_shape, self.output_mode, self._depth())

    def get_config(self) -> dict[str, Any]:
        """Keras's arguments, with the vocabulary (learned or given) as data."""
        names = ("max_tokens", "num_oov_indices", "mask_token", "oov_token")
        return {
            **super().get_config(),
            **attrs_config(self, names),
            "vocabulary": list(self._tokens) if self._tokens else None,
            "idf_weights": (
                None
                if self.idf_weights is None
                else self.idf_weights[self._token_start() :].tolist()
            ),
            "invert": self.invert,
            "output_mode": self.output_mode,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "sparse": self.sparse,
            "salt": self.salt,
        }


class StringLookup(IndexLookup):
    """Maps strings to integer indices through a vocabulary (given or adapted).

    Args:
        max_tokens: Largest number of indices (special tokens included), or None.
        num_oov_indices: Number of out-of-vocabulary indices (default 1).
        mask_token: A token that maps to index 0, or None (default).
        oov_token: The OOV token, returned by `invert` (default `"[UNK]"`).
        vocabulary: A list or array of tokens, or a text file of one a line.
        idf_weights: With `vocabulary` in `"tf_idf"` mode: one weight a token.
        invert: Map indices back to tokens.
        output_mode: `"int"` (default), `"one_hot"`, `"multi_hot"`, `"count"`,
            `"tf_idf"`.
        pad_to_max_tokens: Encode to `max_tokens` columns whatever the vocabulary.
        sparse: Not supported (must be False).
        encoding: Text encoding of bytes inputs (only `"utf-8"`).
        salt: With several OOV indices, hash OOV tokens with SipHash keyed by
            this int or pair of ints instead of FarmHash.

    Example:
        >>> layer = StringLookup(vocabulary=["a", "b", "c", "d"])
        >>> layer([["a", "c", "d"], ["d", "z", "b"]]).tolist()
        [[1, 3, 4], [4, 0, 2]]
    """

    def __init__(
        self,
        max_tokens: int | None = None,
        num_oov_indices: int = 1,
        mask_token: str | None = None,
        oov_token: str = "[UNK]",
        vocabulary: Any = None,
        idf_weights: Any = None,
        invert: bool = False,
        output_mode: str = "int",
        pad_to_max_tokens: bool = False,
        sparse: bool = False,
        encoding: str = "utf-8",
        salt: int | list[int] | tuple[int, int] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("vocabulary_dtype", None)
        kwargs.pop("oov_method", None)  # strings always hash
        self.encoding = encoding
        super().__init__(
            max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
            idf_weights, invert, output_mode, pad_to_max_tokens, sparse,
            salt=salt, **kwargs,
        )  # fmt: skip
        if encoding.replace("-", "").lower() != "utf8":
            raise ValueError(
                f"{self._where()}: expected encoding='utf-8', got {encoding!r}."
            )

    def get_config(self) -> dict[str, Any]:
        """The lookup config plus `encoding`."""
        return {**super().get_config(), "encoding": self.encoding}


class IntegerLookup(IndexLookup):
    """Maps integers to contiguous indices through a vocabulary (given or adapted).

    Args:
        max_tokens: Largest number of indices (special tokens included), or None.
        num_oov_indices: Number of out-of-vocabulary indices (default 1).
        mask_token: An integer that maps to index 0, or None (default).
        oov_token: The OOV value returned by `invert` (default -1).
        vocabulary: A list or array of integers, or a text file of one a line.
        vocabulary_dtype: `"int64"` (Keras's default) or `"int32"`.
        idf_weights: With `vocabulary` in `"tf_idf"` mode: one weight a token.
        invert: Map indices back to integers.
        output_mode: `"int"` (default), `"one_hot"`, `"multi_hot"`, `"count"`,
            `"tf_idf"`.
        sparse: Not supported (must be False).
        pad_to_max_tokens: Encode to `max_tokens` columns whatever the vocabulary.
        oov_method: With several OOV indices: `"floormod"` (default, the value
            modulo their number) or `"farmhash"` (FarmHash of the decimal text).
        salt: With `oov_method="farmhash"`: SipHash keyed by this int or pair.

    Example:
        >>> layer = IntegerLookup(vocabulary=[12, 36, 1138, 42])
        >>> layer(torch.tensor([[12, 1138, 42], [42, 1000, 36]])).tolist()
        [[1, 3, 4], [4, 0, 2]]
    """

    _strings = False

    def __init__(
        self,
        max_tokens: int | None = None,
        num_oov_indices: int = 1,
        mask_token: int | None = None,
        oov_token: int = -1,
        vocabulary: Any = None,
        vocabulary_dtype: str = "int64",
        idf_weights: Any = None,
        invert: bool = False,
        output_mode: str = "int",
        sparse: bool = False,
        pad_to_max_tokens: bool = False,
        oov_method: str = "floormod",
        salt: int | list[int] | tuple[int, int] | None = None,
        **kwargs: Any,
    ) -> None:
        self.vocabulary_dtype = vocabulary_dtype
        if invert and kwargs.get("dtype") is None:
            kwargs["dtype"] = vocabulary_dtype
        super().__init__(
            max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
            idf_weights, invert, output_mode, pad_to_max_tokens, sparse,
            oov_method, salt, **kwargs,
        )  # fmt: skip
        if vocabulary_dtype not in ("int32", "int64"):
            raise ValueError(
                f"{self._where()}: expected vocabulary_dtype 'int64' or 'int32', got "
                f"{vocabulary_dtype!r}."
            )

    def call(self, inputs: Any) -> Any:
        """As `IndexLookup.call`, refusing non-integer inputs."""
        values = host_values(inputs)
        if not self.invert and values.size and values.dtype.kind not in "iu":
            raise TypeError(
                f"{self._where()}: expected integer inputs, got {values.dtype} values."
            )
        return super().call(values)

    def get_config(self) -> dict[str, Any]:
        """The lookup config plus `vocabulary_dtype`."""
        return {
            **super().get_config(),
            "vocabulary_dtype": self.vocabulary_dtype,
            "oov_method": self.oov_method,
        }
