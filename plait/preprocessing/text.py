"""Keras 2 text preprocessing: `Tokenizer`, `text_to_word_sequence`, `one_hot`,
`hashing_trick`, `tokenizer_from_json`.

Results equal Keras's (`keras.src.legacy.preprocessing.text`): the same word splitting,
the same `word_index` (by count, most frequent first; ties keep first-seen order), the
same matrices in every mode and the same JSON. NumPy and the standard library only.
"""

from __future__ import annotations

import collections
import hashlib
import json
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

__all__ = [
    "Tokenizer",
    "hashing_trick",
    "one_hot",
    "text_to_word_sequence",
    "tokenizer_from_json",
]

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
_MODES = ("binary", "count", "tfidf", "freq")


def text_to_word_sequence(
    input_text: str,
    filters: str = DEFAULT_FILTERS,
    lower: bool = True,
    split: str = " ",
) -> list[str]:
    """Split a text into words: lowercase, filter characters out, split.

    Args:
        input_text: The text.
        filters: Characters replaced by `split` (punctuation, tabs, newlines).
        lower: Lowercase the text first.
        split: The word separator.

    Returns:
        The words, empty strings dropped.

    Example:
        >>> text_to_word_sequence("Hello, World!  Hello.")
        ['hello', 'world', 'hello']
    """
    if lower:
        input_text = input_text.lower()
    table: dict[str, str | int | None] = dict.fromkeys(filters, split)
    input_text = input_text.translate(str.maketrans(table))
    return [word for word in input_text.split(split) if word]


def _md5(word: str) -> int:
    return int(hashlib.md5(word.encode()).hexdigest(), 16)


def hashing_trick(
    text: str,
    n: int,
    hash_function: Callable[[str], int] | str | None = None,
    filters: str = DEFAULT_FILTERS,
    lower: bool = True,
    split: str = " ",
    analyzer: Callable[[str], list[str]] | None = None,
) -> list[int]:
    """Words of a text as indices in `[1, n)`, by hashing (`hash(word) % (n - 1) + 1`).

    Args:
        text: The text.
        n: Size of the hashing space; indices run from 1 to `n - 1` (0 is free for
            padding).
        hash_function: None for Python's `hash` (salted per process for strings:
            set `PYTHONHASHSEED` for stable results), `"md5"` for a stable hash, or
            a callable from a word to an int.
        filters: As in `text_to_word_sequence`.
        lower: As in `text_to_word_sequence`.
        split: As in `text_to_word_sequence`.
        analyzer: A callable from the text to its words, replacing the splitting.

    Returns:
        One index per word.

    Example:
        >>> hashing_trick("the cat sat", 10, hash_function="md5")
        [6, 3, 1]
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"hashing_trick: expected an int `n` >= 2, got {n!r}.")
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":
        hash_function = _md5
    elif not callable(hash_function):
        raise ValueError(
            "hashing_trick: expected `hash_function` None, 'md5' or a callable, "
            f"got {hash_function!r}."
        )
    if analyzer is None:
        words = text_to_word_sequence(text, filters=filters, lower=lower, split=split)
    else:
        words = analyzer(text)
    return [hash_function(word) % (n - 1) + 1 for word in words]


def one_hot(
    input_text: str,
    n: int,
    filters: str = DEFAULT_FILTERS,
    lower: bool = True,
    split: str = " ",
    analyzer: Callable[[str], list[str]] | None = None,
) -> list[int]:
    """`hashing_trick` with Python's `hash`: word indices in `[1, n)` (not one-hot vectors).

    Example:
        >>> len(one_hot("the cat sat", 10))
        3
    """
    return hashing_trick(
        input_text, n, hash_function=hash, filters=filters, lower=lower,
        split=split, analyzer=analyzer,
    )  # fmt: skip


class Tokenizer:
    """Turns texts into sequences of word indices, or into bag-of-words matrices.

    `fit_on_texts` counts the words; `word_index` numbers them from 1 by count,
    most frequent first, ties in first-seen order (0 is never a word; the
    `oov_token`, if any, is 1). Only the `num_words - 1` most frequent words are
    used by `texts_to_sequences` and the matrices; all are counted.

    Args:
        num_words: Keep words of index < `num_words`; None keeps all.
        filters: Characters removed from the texts (see `text_to_word_sequence`).
        lower: Lowercase the texts.
        split: Word separator.
        char_level: Every character is a token.
        oov_token: Token for words not in `word_index` (or past `num_words`); when
            None such words are dropped.
        analyzer: A callable from a text to its tokens, replacing the splitting.
        **kwargs: `document_count` (restores a count), or Keras 1's `nb_words`
            (an alias of `num_words`, with a warning).

    Example:
        >>> tok = Tokenizer()
        >>> tok.fit_on_texts(["the cat sat", "the dog"])
        >>> tok.word_index
        {'the': 1, 'cat': 2, 'sat': 3, 'dog': 4}
        >>> tok.texts_to_sequences(["the dog sat", "a cat"])
        [[1, 4, 3], [2]]
    """

    def __init__(
        self,
        num_words: int | None = None,
        filters: str = DEFAULT_FILTERS,
        lower: bool = True,
        split: str = " ",
        char_level: bool = False,
        oov_token: str | None = None,
        analyzer: Callable[[str], list[str]] | None = None,
        **kwargs: Any,
    ) -> None:
        if "nb_words" in kwargs:
            warnings.warn(
                "The `nb_words` argument in `Tokenizer` has been renamed `num_words`.",
                UserWarning,
                stacklevel=2,
            )
            num_words = kwargs.pop("nb_words")
        document_count = kwargs.pop("document_count", 0)
        if kwargs:
            raise TypeError(
                "Tokenizer: expected arguments num_words, filters, lower, split, "
                "char_level, oov_token, analyzer, document_count; got unrecognized "
                f"keyword arguments: {sorted(kwargs)}."
            )
        self.word_counts: collections.OrderedDict[str, int] = collections.OrderedDict()
        self.word_docs: collections.defaultdict[str, int] = collections.defaultdict(int)
        self.filters = filters
        self.split = split
        self.lower = lower
        self.num_words = num_words
        self.document_count: int = document_count
        self.char_level = char_level
        self.oov_token = oov_token
        self.index_docs: collections.defaultdict[int, int] = collections.defaultdict(
            int
        )
        self.word_index: dict[str, int] = {}
        self.index_word: dict[int, str] = {}
        self.analyzer = analyzer

    def _tokens(self, text: str | list[str]) -> Any:
        """A text's tokens: its words, its characters, or the given list (lowercased)."""
        if isinstance(text, list):
            return [token.lower() for token in text] if self.lower else text
        if self.char_level:
            return text.lower() if self.lower else text
        if self.analyzer is not None:
            return self.analyzer(text)
        return text_to_word_sequence(
            text, filters=self.filters, lower=self.lower, split=self.split
        )

    def fit_on_texts(self, texts: Iterable[str | list[str]]) -> None:
        """Count the words of `texts` (added to earlier counts) and renumber them.

        Args:
            texts: Strings, or lists of tokens (taken as they are, lowercased).
        """
        for text in texts:
            self.document_count += 1
            tokens = self._tokens(text)
            for token in tokens:
                self.word_counts[token] = self.word_counts.get(token, 0) + 1
            for token in set(tokens):
                self.word_docs[token] += 1
        # sorted() is stable: equal counts keep the order words were first seen.
        by_count = sorted(
            self.word_counts, key=self.word_counts.__getitem__, reverse=True
        )
        vocabulary = by_count if self.oov_token is None else [self.oov_token, *by_count]
        # A later duplicate (the oov token met in the texts) takes the later index.
        self.word_index = {word: i for i, word in enumerate(vocabulary, start=1)}
        self.index_word = {i: word for word, i in self.word_index.items()}
        for word, count in list(self.word_docs.items()):
            self.index_docs[self.word_index[word]] = count

    def fit_on_sequences(self, sequences: Any) -> None:
        """Count in how many of `sequences` each index occurs (for `tfidf`).

        Args:
            sequences: Lists of word indices.
        """
        self.document_count += len(sequences)
        for seq in sequences:
            for index in set(seq):
                self.index_docs[index] += 1

    def texts_to_sequences(self, texts: Iterable[str | list[str]]) -> list[list[int]]:
        """Each text as its list of word indices (see `texts_to_sequences_generator`)."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(
        self, texts: Iterable[str | list[str]]
    ) -> Iterator[list[int]]:
        """Yield each text's word indices.

        Words not in `word_index`, or of index >= `num_words`, become the
        `oov_token`'s index, or are dropped when there is no `oov_token` (or, before
        any fitting, when it has no index yet: Keras writes None there).
        """
        oov_index = (
            None if self.oov_token is None else self.word_index.get(self.oov_token)
        )
        for text in texts:
            seq = []
            for token in self._tokens(text):
                index = self.word_index.get(token)
                if index is not None and not (
                    self.num_words and index >= self.num_words
                ):
                    seq.append(index)
                elif oov_index is not None:
                    seq.append(oov_index)
            yield seq

    def sequences_to_texts(self, sequences: Iterable[Iterable[int]]) -> list[str]:
        """Each sequence of indices as a text of space-separated words."""
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(
        self, sequences: Iterable[Iterable[int]]
    ) -> Iterator[str]:
        """Yield each sequence as a text; unknown indices as the `oov_token` or dropped."""
        oov_index = (
            None if self.oov_token is None else self.word_index.get(self.oov_token)
        )
        for seq in sequences:
            words = []
            for index in seq:
                word = self.index_word.get(index)
                if word is not None and not (
                    self.num_words and index >= self.num_words
                ):
                    words.append(word)
                elif oov_index is not None:
                    words.append(self.index_word[oov_index])
            yield " ".join(words)

    def texts_to_matrix(
        self, texts: Iterable[str | list[str]], mode: str = "binary"
    ) -> np.ndarray:
        """`sequences_to_matrix(texts_to_sequences(texts), mode)`."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences: Any, mode: str = "binary") -> np.ndarray:
        """A `(len(sequences), num_words)` float64 matrix: one bag-of-words row per sequence.

        Args:
            sequences: Lists of word indices; indices >= the width are ignored.
            mode: `"binary"` (1 where a word occurs), `"count"` (occurrences),
                `"freq"` (occurrences / sequence length) or `"tfidf"`
                (`(1 + log(count)) * log(1 + document_count / (1 + docs))`, with
                `docs` the number of fitted documents holding the word).

        Raises:
            ValueError: Unknown `mode`; no `num_words` and nothing fitted; `tfidf`
                before any fitting.
        """
        if mode not in _MODES:
            raise ValueError(
                f"Tokenizer: Unknown vectorization mode: expected one of {_MODES}, "
                f"got {mode!r}."
            )
        if self.num_words:
            width = self.num_words
        elif self.word_index:
            width = len(self.word_index) + 1
        else:
            raise ValueError(
                "Tokenizer: Specify a dimension (`num_words` argument), or fit on "
                "some text data first: expected a fitted Tokenizer or `num_words`, "
                "got neither."
            )
        if mode == "tfidf" and not self.document_count:
            raise ValueError(
                "Tokenizer: Fit the Tokenizer on some data before using tfidf mode: "
                "expected document_count > 0, got 0."
            )
        matrix = np.zeros((len(sequences), width))
        for row, seq in enumerate(sequences):
            if not len(seq):
                continue
            counts = collections.Counter(index for index in seq if index < width)
            for index, count in counts.items():
                if mode == "count":
                    matrix[row, index] = count
                elif mode == "freq":
                    matrix[row, index] = count / len(seq)
                elif mode == "binary":
                    matrix[row, index] = 1
                else:
                    docs = self.index_docs.get(index, 0)
                    idf = np.log(1 + self.document_count / (1 + docs))
                    matrix[row, index] = (1 + np.log(count)) * idf
        return matrix

    def get_config(self) -> dict[str, Any]:
        """The settings, and the counts and indices as JSON strings (Keras's format)."""
        settings = ("num_words", "filters", "lower", "split", "char_level", "oov_token")
        tables = ("word_counts", "word_docs", "index_docs", "index_word", "word_index")
        return {
            **{key: getattr(self, key) for key in (*settings, "document_count")},
            **{key: json.dumps(getattr(self, key)) for key in tables},
        }

    def to_json(self, **kwargs: Any) -> str:
        """`{"class_name": "Tokenizer", "config": get_config()}` as a JSON string.

        Args:
            **kwargs: Passed to `json.dumps` (e.g. `indent`).
        """
        return json.dumps(
            {"class_name": type(self).__name__, "config": self.get_config()}, **kwargs
        )


def tokenizer_from_json(json_string: str) -> Tokenizer:
    """A `Tokenizer` from `Tokenizer.to_json()`'s string (Keras's JSON too).

    The `analyzer` is not saved; set it again if one was used. Unlike Keras's,
    the restored `word_counts`/`word_docs`/`index_docs` keep their types
    (`OrderedDict`, `defaultdict(int)`), so `fit_on_texts` can go on counting.

    Example:
        >>> tok = Tokenizer()
        >>> tok.fit_on_texts(["a b b"])
        >>> tokenizer_from_json(tok.to_json()).word_index
        {'b': 1, 'a': 2}
    """
    config = dict(json.loads(json_string)["config"])
    word_counts = json.loads(config.pop("word_counts"))
    word_docs = json.loads(config.pop("word_docs"))
    index_docs = json.loads(config.pop("index_docs"))
    index_word = json.loads(config.pop("index_word"))
    word_index = json.loads(config.pop("word_index"))
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = collections.OrderedDict(word_counts)
    tokenizer.word_docs = collections.defaultdict(int, word_docs)
    # JSON object keys are strings; the indices were ints.
    tokenizer.index_docs = collections.defaultdict(
        int, {int(k): v for k, v in index_docs.items()}
    )
    tokenizer.index_word = {int(k): v for k, v in index_word.items()}
    tokenizer.word_index = word_index
    return tokenizer
