"""The preprocessing parity cases, run the same way on Keras and on plait.

`run_all(api)` calls the functions of `api` (Keras's legacy preprocessing modules in
`make_text_golden.py`, plait's in the tests) on a fixed small corpus and returns
JSON-able results keyed by case id. Arrays are `{"dtype", "shape", "data"}`.
Dicts whose order Keras fixes (`word_counts`, `word_index`) keep it as pair lists;
`word_docs`/`index_docs` come from sets (order salted per process), so are sorted.
"""

from __future__ import annotations

import json
import random
from types import SimpleNamespace
from typing import Any

import numpy as np

CORPUS = [
    "The cat sat on the mat.",
    "The dog ate my homework!",
    "A cat and a dog: friends?",
    "Mat, hat, cat -- the (cat) sat\ton the hat.",
    "Dog DOG dog\nbird",
    "",
    "zebra yak xylophone",
]
QUERIES = [
    "the cat ate the unknown bird",
    "A yak, a zebra; and a hat.",
    "",
    "never seen words only",
]
TOKEN_LISTS = [["The", "cat", "sat"], ["the", "DOG"], ["cat", "cat", "Bird"]]
FIT_SEQUENCES = [[1, 2, 2, 3], [3, 4], [], [1, 9]]
MODES = ["binary", "count", "tfidf", "freq"]

# (case id, Tokenizer kwargs, what to fit on)
TOKENIZERS: list[tuple[str, dict[str, Any], str]] = [
    ("default", {}, "texts"),
    ("num_words_oov", {"num_words": 5, "oov_token": "<OOV>"}, "texts"),
    ("num_words_no_oov", {"num_words": 4}, "texts"),
    ("oov_in_corpus", {"oov_token": "cat"}, "texts"),
    ("char_level", {"char_level": True}, "texts"),
    (
        "char_level_upper",
        {"char_level": True, "lower": False, "num_words": 10},
        "texts",
    ),
    ("no_lower_custom_split", {"lower": False, "split": ",", "filters": ".!"}, "texts"),
    ("token_lists", {"oov_token": "<unk>"}, "lists"),
    ("twice", {}, "texts_twice"),
    ("plus_sequences", {}, "texts_and_sequences"),
]

INT_SEQS = [[1], [2, 3], [4, 5, 6], [], [7, 8, 9, 10, 11]]
VEC_SEQS = [[[1, 2], [3, 4]], [], [[5, 6]], [[7, 8], [9, 10], [11, 12]]]
# (case id, sequences, pad_sequences kwargs)
PADS: list[tuple[str, Any, dict[str, Any]]] = [
    ("default", INT_SEQS, {}),
    ("value", INT_SEQS, {"value": -1}),
    ("post", INT_SEQS, {"padding": "post"}),
    ("maxlen_pre", INT_SEQS, {"maxlen": 2}),
    ("maxlen_post_trunc", INT_SEQS, {"maxlen": 3, "truncating": "post"}),
    (
        "maxlen_both_post",
        INT_SEQS,
        {"maxlen": 3, "truncating": "post", "padding": "post"},
    ),
    ("maxlen_long", INT_SEQS, {"maxlen": 7, "value": 9}),
    ("float", [[0.5, 1.7], [2.25]], {"dtype": "float32", "value": 0.1}),
    ("float_to_int", [[0.5, 1.7], [2.25]], {}),
    ("float64_nan", [[1.0], [2.0, 3.0]], {"dtype": "float64", "value": float("nan")}),
    ("vectors", VEC_SEQS, {}),
    ("vectors_post", VEC_SEQS, {"maxlen": 2, "padding": "post", "truncating": "post"}),
    ("arrays", [np.arange(3), np.arange(5)], {"maxlen": 4}),
    ("strings_object", [["a", "bb"], ["ccc"]], {"dtype": object, "value": "<pad>"}),
    ("strings_str", [["a", "bb"], ["ccc"]], {"dtype": "str", "value": "<pad>"}),
    ("strings_unicode", [["ab"], ["cde", "f"]], {"dtype": "<U4", "value": "-"}),
    ("int64", INT_SEQS, {"dtype": "int64", "maxlen": 4}),
    ("maxlen_given_empty", [], {"maxlen": 3}),
]

# (case id, python random seed, skipgrams kwargs)
SKIPGRAMS: list[tuple[str, int, dict[str, Any]]] = [
    ("default", 1, {"vocabulary_size": 12}),
    (
        "window2_no_shuffle",
        2,
        {"vocabulary_size": 12, "window_size": 2, "shuffle": False},
    ),
    ("categorical_seed", 3, {"vocabulary_size": 12, "categorical": True, "seed": 7}),
    ("negative_half", 4, {"vocabulary_size": 12, "negative_samples": 0.5, "seed": 5}),
    ("no_negative", 5, {"vocabulary_size": 12, "negative_samples": 0.0, "seed": 11}),
    (
        "sampling_table",
        6,
        {"vocabulary_size": 12, "sampling_table": "table", "seed": 3},
    ),
]
SKIPGRAM_SEQUENCE = [0, 3, 1, 4, 1, 5, 9, 2, 6, 0, 5, 3, 5, 8, 9, 7, 9]

SERIES = np.arange(40, dtype="float32").reshape(20, 2)
SERIES_TARGETS = np.arange(100, 120)
# (case id, TimeseriesGenerator kwargs)
TIMESERIES: list[tuple[str, dict[str, Any]]] = [
    ("default", {"length": 3, "batch_size": 4}),
    ("rate_stride", {"length": 6, "sampling_rate": 2, "stride": 3, "batch_size": 2}),
    ("start_end", {"length": 2, "start_index": 4, "end_index": 15, "batch_size": 5}),
    ("reverse", {"length": 4, "reverse": True, "batch_size": 3}),
    ("shuffle", {"length": 3, "shuffle": True, "batch_size": 4}),
    ("big_batch", {"length": 5}),
]

WORD_SEQUENCES: list[tuple[str, dict[str, Any]]] = [
    (text, {}) for text in CORPUS + QUERIES
] + [
    ("Hello, World!  HELLO.", {"lower": False}),
    ("a-b_c d", {"filters": "-"}),
    ("one,two,,three", {"split": ","}),
    ("x::y::z", {"split": "::", "filters": ""}),
]
HASH_NS = [2, 7, 100]


def make_api(sequence: Any, text: Any, pad_sequences: Any) -> SimpleNamespace:
    """The functions `run_all` calls, from a `sequence` and a `text` module (Keras's
    legacy ones or plait's, which share their names) and a `pad_sequences`."""
    names = ("skipgrams", "make_sampling_table", "TimeseriesGenerator")
    text_names = (
        "Tokenizer",
        "tokenizer_from_json",
        "text_to_word_sequence",
        "hashing_trick",
    )
    return SimpleNamespace(
        pad_sequences=pad_sequences,
        **{name: getattr(sequence, name) for name in names},
        **{name: getattr(text, name) for name in text_names},
    )


def encode(array: Any) -> dict[str, Any]:
    """An array as JSON: dtype, shape and nested data."""
    array = np.asarray(array)
    data = array.tolist()
    if array.dtype.kind == "f":  # NaN is not JSON: write it as None
        data = np.where(np.isnan(array), None, array.astype(object)).tolist()
    return {"dtype": array.dtype.str, "shape": list(array.shape), "data": data}


def _config(tokenizer: Any) -> dict[str, Any]:
    config = json.loads(tokenizer.to_json())["config"]
    for key in ("word_counts", "word_index", "index_word"):
        config[key] = json.loads(config[key], object_pairs_hook=list)
    for key in ("word_docs", "index_docs"):
        config[key] = sorted(json.loads(config[key]).items())
    return config


def _fit(tokenizer: Any, kind: str) -> None:
    if kind == "lists":
        tokenizer.fit_on_texts(TOKEN_LISTS)
        return
    tokenizer.fit_on_texts(CORPUS)
    if kind == "texts_twice":
        tokenizer.fit_on_texts(QUERIES)
    if kind == "texts_and_sequences":
        tokenizer.fit_on_sequences(FIT_SEQUENCES)


def tokenizer_results(tokenizer: Any, kind: str) -> dict[str, Any]:
    """What a fitted tokenizer answers: its state, sequences, texts and matrices."""
    queries = TOKEN_LISTS if kind == "lists" else QUERIES + CORPUS
    sequences = tokenizer.texts_to_sequences(queries)
    out = {
        "word_counts": list(tokenizer.word_counts.items()),
        "word_index": list(tokenizer.word_index.items()),
        "index_word": [[int(k), v] for k, v in tokenizer.index_word.items()],
        "word_docs": sorted(tokenizer.word_docs.items()),
        "index_docs": sorted((int(k), v) for k, v in tokenizer.index_docs.items()),
        "document_count": tokenizer.document_count,
        "sequences": sequences,
        "generator": list(tokenizer.texts_to_sequences_generator(queries)),
        "texts": tokenizer.sequences_to_texts([*sequences, [0, 1, 2, 99]]),
        "config": _config(tokenizer),
    }
    for mode in MODES:
        out[f"texts_matrix_{mode}"] = encode(
            tokenizer.texts_to_matrix(queries, mode=mode)
        )
        out[f"sequences_matrix_{mode}"] = encode(
            tokenizer.sequences_to_matrix(FIT_SEQUENCES, mode=mode)
        )
    return out


def run_all(api: SimpleNamespace) -> dict[str, Any]:
    """Every case through `api` (pad_sequences, skipgrams, make_sampling_table,
    TimeseriesGenerator, Tokenizer, tokenizer_from_json, text_to_word_sequence,
    hashing_trick)."""
    out: dict[str, Any] = {"tokenizer": {}, "tokenizer_json": {}}
    for case_id, kwargs, kind in TOKENIZERS:
        tokenizer = api.Tokenizer(**kwargs)
        _fit(tokenizer, kind)
        out["tokenizer"][case_id] = tokenizer_results(tokenizer, kind)
        out["tokenizer_json"][case_id] = tokenizer.to_json()
    out["pad_sequences"] = {
        case_id: encode(api.pad_sequences(seqs, **kwargs))
        for case_id, seqs, kwargs in PADS
    }
    out["make_sampling_table"] = {
        str(size): encode(api.make_sampling_table(size, factor))
        for size, factor in ((1, 1e-5), (12, 1e-5), (50, 1e-3))
    }
    out["skipgrams"] = {}
    for case_id, seed, kwargs in SKIPGRAMS:
        if kwargs.get("sampling_table") == "table":
            kwargs = {**kwargs, "sampling_table": api.make_sampling_table(12, 0.05)}
        random.seed(seed)
        couples, labels = api.skipgrams(SKIPGRAM_SEQUENCE, **kwargs)
        out["skipgrams"][case_id] = {"couples": couples, "labels": labels}
    out["timeseries"] = {}
    for case_id, kwargs in TIMESERIES:
        np.random.seed(0)
        gen = api.TimeseriesGenerator(SERIES, SERIES_TARGETS, **kwargs)
        batches = [gen[i] for i in range(len(gen))]
        out["timeseries"][case_id] = [[encode(x), encode(y)] for x, y in batches]
    out["text_to_word_sequence"] = [
        api.text_to_word_sequence(text, **kwargs) for text, kwargs in WORD_SEQUENCES
    ]
    out["hashing_trick_md5"] = [
        [api.hashing_trick(text, n, hash_function="md5") for text in CORPUS + QUERIES]
        for n in HASH_NS
    ]
    return out
