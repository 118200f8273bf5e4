"""`TextVectorization`: raw strings to token indices or bag-of-words vectors."""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from plait.layers.preprocessing.base import PreprocessingLayer, host_values
from plait.layers.preprocessing.encoding import (
    adapt_batches,
    check_mode,
    mode_dtype,
    refuse_sparse,
)
from plait.layers.preprocessing.lookup import StringLookup
from plait.types import Shape

__all__ = ["TextVectorization"]

_STANDARDIZE = (None, "lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = (None, "whitespace", "character")
_PUNCTUATION = re.compile("[" + re.escape(string.punctuation) + "]")
_WHITESPACE = re.compile("[ \t\n\r\f\v]+")
_ASCII_UPPER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class TextVectorization(PreprocessingLayer):
    """Turns raw strings into token indices, or multi-hot, count or tf-idf vectors.

    Each string is standardized, split into tokens, optionally extended with
    n-grams, then looked up in a vocabulary (given, or learned by `adapt`). As
    in Keras, `"lower"` lowercases ASCII letters (TensorFlow's
    `tf.strings.lower`), `"strip_punctuation"` removes ASCII punctuation, and
    `"whitespace"` splits on runs of ASCII whitespace. In `"int"` mode index 0
    is padding (the mask token `""`) and 1 the OOV token `"[UNK]"`.

    Args:
        max_tokens: Largest vocabulary size, special tokens included, or None.
        standardize: `"lower_and_strip_punctuation"` (default), `"lower"`,
            `"strip_punctuation"`, None, or a callable that takes the batch as a
            NumPy unicode array and returns the standardized array (what Keras 3
            gives it on non-TensorFlow backends; `np.char` functions work).
        split: `"whitespace"` (default), `"character"`, None (each string one
            token), or a callable taking one `str` and returning its tokens
            (Keras hands it a TF tensor; plait has none, so it calls it per
            string).
        ngrams: None, an int `n` (all n-grams up to `n`) or a tuple of sizes.
        output_mode: `"int"` (default), `"multi_hot"`, `"count"` or `"tf_idf"`.
        output_sequence_length: In `"int"` mode, pad or cut every sequence to
            this length; None pads to the longest of the batch.
        pad_to_max_tokens: Vectors of `max_tokens` columns in the bag modes.
        vocabulary: A list of tokens or a text file of one a line.
        idf_weights: With `vocabulary` in `"tf_idf"` mode.
        sparse: Not supported (must be False).
        ragged: Not supported (must be False).
        encoding: Text encoding (only `"utf-8"`).

    Input shape: `(batch,)` or `(batch, 1)` strings.
    Output shape: `(batch, output_sequence_length)` in `"int"` mode, else
    `(batch, vocabulary_size)` (`max_tokens` with `pad_to_max_tokens`).

    Example:
        >>> layer = TextVectorization(output_sequence_length=4)
        >>> layer.adapt(["foo bar", "bar baz", "baz bada boom"])
        >>> layer([["foo qux bar"], ["qux baz"]]).tolist()
        [[4, 1, 3, 0], [1, 2, 0, 0]]
    """

    def __init__(
        self,
        max_tokens: int | None = None,
        standardize: str | Callable[[np.ndarray], Any] | None = (
            "lower_and_strip_punctuation"
        ),
        split: str | Callable[[str], list[str]] | None = "whitespace",
        ngrams: int | tuple[int, ...] | list[int] | None = None,
        output_mode: str = "int",
        output_sequence_length: int | None = None,
        pad_to_max_tokens: bool = False,
        vocabulary: Any = None,
        idf_weights: Any = None,
        sparse: bool = False,
        ragged: bool = False,
        encoding: str = "utf-8",
        **kwargs: Any,
    ) -> None:
        super().__init__(dtype=mode_dtype(output_mode, kwargs), **kwargs)
        where = self._where()
        refuse_sparse(where, sparse)
        if ragged:
            raise ValueError(f"{where}: expected ragged=False (plait pads), got True.")
        check_mode(where, output_mode, ("int", "multi_hot", "count", "tf_idf"))
        for arg, value, allowed in (
            ("standardize", standardize, _STANDARDIZE),
            ("split", split, _SPLIT),
        ):
            if not callable(value) and value not in allowed:
                raise ValueError(
                    f"{where}: expected `{arg}` to be one of {list(allowed)} or a "
                    f"callable, got {value!r}."
                )
        if isinstance(ngrams, int) and not isinstance(ngrams, bool):
            self._ngram_sizes: tuple[int, ...] = tuple(range(1, ngrams + 1))
        elif ngrams is None:
            self._ngram_sizes = ()
        elif isinstance(ngrams, (tuple, list)) and all(
            isinstance(n, int) and n > 0 for n in ngrams
        ):
            self._ngram_sizes = tuple(ngrams)
        else:
            raise ValueError(
                f"{where}: expected `ngrams` to be None, an int or a tuple of ints, "
                f"got {ngrams!r}."
            )
        if output_sequence_length is not None and output_mode != "int":
            raise ValueError(
                f"{where}: expected `output_sequence_length` only with "
                f"output_mode='int', got output_mode={output_mode!r}."
            )
        if ngrams is not None and split is None:
            raise ValueError(f"{where}: expected a `split` to make `ngrams`, got None.")
        self.standardize = standardize
        self.split = split
        self.ngrams = ngrams
        self.output_mode = output_mode
        self.output_sequence_length = output_sequence_length
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.max_tokens = max_tokens
        self.encoding = encoding
        self._lookup = StringLookup(
            max_tokens=max_tokens,
            mask_token="" if output_mode == "int" else None,
            output_mode=output_mode,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens,
            encoding=encoding,
            name=f"{self.name}_lookup",
        )

    # -- text to tokens ---------------------------------------------------------

    def _standardize(self, text: str) -> str:
        mode = self.standardize
        if mode in ("lower", "lower_and_strip_punctuation"):
            text = text.translate(_ASCII_UPPER)
        if mode in ("strip_punctuation", "lower_and_strip_punctuation"):
            text = _PUNCTUATION.sub("", text)
        return text

    def _tokens(self, text: str) -> list[str]:
        text = self._standardize(text)
        if self.split is None:
            return [text]
        if callable(self.split):
            tokens = [str(t) for t in self.split(text)]
        elif self.split == "character":
            tokens = list(text)
        else:
            tokens = [t for t in _WHITESPACE.split(text) if t]
        if not self._ngram_sizes:
            return tokens
        return [
            " ".join(tokens[i : i + n])
            for n in self._ngram_sizes
            for i in range(len(tokens) - n + 1)
        ]

    def _rows(self, inputs: Any) -> list[list[str]]:
        values = host_values(inputs)
        if values.ndim == 0:
            values = values.reshape(1)
        if values.size and values.dtype.kind not in "USO":
            raise TypeError(
                f"{self._where()}: expected string inputs, got {values.dtype} values."
            )
        if callable(self.standardize):
            # As Keras on non-TF backends: the batch as a NumPy unicode array.
            unicode = np.asarray(values.tolist(), dtype=str).reshape(values.shape)
            values = host_values(np.asarray(self.standardize(unicode)))
        if values.ndim == 2 and values.shape[-1] == 1:
            values = values[:, 0]
        if values.ndim != 1:
            raise ValueError(
                f"{self._where()}: expected strings of shape (batch,) or (batch, 1), "
                f"got shape {values.shape}."
            )
        return [self._tokens(str(v)) for v in values.tolist()]

    # -- the vocabulary ---------------------------------------------------------

    def adapt(
        self, data: Any, batch_size: int | None = None, steps: int | None = None
    ) -> None:
        """Learn the vocabulary from strings: a list, an array or an iterable of batches."""
        batches = itertools.islice(adapt_batches(data), steps)
        self._lookup.learn(self._rows(batch) for batch in batches)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[str]:
        """The tokens by index (`""` and `"[UNK]"` first in int mode)."""
        vocab: list[str] = self._lookup.get_vocabulary(include_special_tokens)
        return vocab

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Use `vocabulary` (and `idf_weights` in tf_idf mode)."""
        self._lookup.set_vocabulary(vocabulary, idf_weights)

    def vocabulary_size(self) -> int:
        """Number of indices, the special tokens included."""
        return self._lookup.vocabulary_size()

    # -- the call ---------------------------------------------------------------

    def call(self, inputs: Any) -> torch.Tensor:
        """Vectorize a batch of strings."""
        rows = self._rows(inputs)
        flat = np.empty(sum(len(r) for r in rows), dtype=object)
        flat[:] = [t for r in rows for t in r]
        ids = self._lookup._lookup(flat) if len(flat) else np.zeros(0, np.int64)
        lengths = [len(r) for r in rows]
        if self.output_mode == "int":
            width = self.output_sequence_length
            if width is None:
                width = max(lengths, default=0)
            out = np.zeros((len(rows), width), dtype=np.int64)
            start = 0
            for i, n in enumerate(lengths):
                keep = min(n, width)
                out[i, :keep] = ids[start : start + keep]
                start += n
            if self.split is None and self.output_sequence_length is None:
                out = out.reshape(len(rows), -1)
            return self._to_device(out, self._compute_dtype)
        depth = self._lookup._depth()
        bag = np.zeros((len(rows), depth), dtype=np.float64)
        row_of = np.repeat(np.arange(len(rows)), lengths)
        if self.output_mode == "multi_hot":
            bag[row_of, ids] = 1.0
        else:
            np.add.at(bag, (row_of, ids), 1.0)
            idf = self._lookup.idf_weights
            if self.output_mode == "tf_idf" and idf is not None:
                bag = bag * self._lookup._padded(idf)
        return self._to_device(bag, self._compute_dtype)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """`(batch, output_sequence_length)` in int mode, else `(batch, depth)`."""
        batch = input_shape[0] if input_shape else None
        if self.output_mode == "int":
            if self.split is None and self.output_sequence_length is None:
                return (batch, 1)
            return (batch, self.output_sequence_length)
        return (batch, self._lookup._depth())

    def get_config(self) -> dict[str, Any]:
        """Keras's arguments, with the vocabulary (learned or given) as data."""
        lookup = self._lookup.get_config()
        return {
            **super().get_config(),
            "max_tokens": self.max_tokens,
            "standardize": _saved_function(self, "standardize"),
            "split": _saved_function(self, "split"),
            "ngrams": list(self.ngrams)
            if isinstance(self.ngrams, tuple)
            else self.ngrams,
            "output_mode": self.output_mode,
            "output_sequence_length": self.output_sequence_length,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "sparse": False,
            "ragged": False,
            "vocabulary": lookup["vocabulary"],
            "idf_weights": lookup["idf_weights"],
            "encoding": self.encoding,
        }


def _saved_function(layer: Any, key: str) -> Any:
    """`standardize`/`split` as saved: a name, or a callable's registered name."""
    value = getattr(layer, key)
    if not callable(value):
        return value
    registered = getattr(value, "_plait_registered_name", None)
    if not isinstance(registered, str):
        raise ValueError(
            f"{layer._where()}: `{key}` is the function "
            f"{getattr(value, '__name__', value)!r}, which a saved model can keep "
            "only by its registered name: decorate it with "
            "@plait.saving.register_keras_serializable()."
        )
    return registered
