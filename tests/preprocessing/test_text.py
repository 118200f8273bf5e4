"""`plait.preprocessing.text`: Tokenizer, word splitting and hashing, Keras's behaviour."""

import hashlib
import json

import numpy as np
import pytest

import plait
from plait.preprocessing.text import (
    Tokenizer,
    hashing_trick,
    one_hot,
    text_to_word_sequence,
    tokenizer_from_json,
)

TEXTS = ["The cat sat.", "The dog sat on the cat!", "birds"]


def test_text_to_word_sequence_filters_lowers_and_splits():
    assert text_to_word_sequence("Hi, THERE!\tyou\n") == ["hi", "there", "you"]
    assert text_to_word_sequence("A.b", lower=False, filters="") == ["A.b"]
    assert text_to_word_sequence("a--b", split="-", filters="") == ["a", "b"]


def test_one_hot_is_hashing_trick_with_python_hash():
    text = "the quick brown fox"
    assert one_hot(text, 50) == hashing_trick(text, 50, hash_function=hash)
    assert all(1 <= i < 50 for i in one_hot(text, 50))


def test_hashing_trick_md5_and_callable():
    expected = [
        int(hashlib.md5(w.encode()).hexdigest(), 16) % 9 + 1 for w in ("a", "b")
    ]
    assert hashing_trick("A b", 10, hash_function="md5") == expected
    assert hashing_trick("a bb", 10, hash_function=len) == [2, 3]
    assert hashing_trick(
        "a,b", 10, hash_function=len, analyzer=lambda t: t.split(",")
    ) == [2, 2]


def test_hashing_trick_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"expected an int `n` >= 2, got 1"):
        hashing_trick("a", 1)
    with pytest.raises(
        ValueError,
        match="expected `hash_function` None, 'md5' or a callable, got 'sha1'",
    ):
        hashing_trick("a", 5, hash_function="sha1")


def test_tokenizer_word_index_by_count_ties_in_first_seen_order():
    tok = Tokenizer()
    tok.fit_on_texts(TEXTS)
    assert tok.word_index == {
        "the": 1,
        "cat": 2,
        "sat": 3,
        "dog": 4,
        "on": 5,
        "birds": 6,
    }
    assert tok.index_word[4] == "dog"
    assert list(tok.word_counts.items())[:2] == [("the", 3), ("cat", 2)]
    assert tok.word_docs["the"] == 2
    assert tok.index_docs[1] == 2
    assert tok.document_count == 3


def test_tokenizer_num_words_and_oov_token():
    tok = Tokenizer(num_words=3, oov_token="<OOV>")
    tok.fit_on_texts(TEXTS)
    assert tok.word_index["<OOV>"] == 1
    assert tok.word_index["the"] == 2
    # only indices < num_words are kept; the rest become the oov index
    assert tok.texts_to_sequences(["the cat zebra"]) == [[2, 1, 1]]
    assert tok.sequences_to_texts([[2, 1, 3]]) == ["the <OOV> <OOV>"]
    assert tok.texts_to_matrix(["the cat"]).shape == (1, 3)


def test_tokenizer_without_oov_drops_unknown_words():
    tok = Tokenizer()
    tok.fit_on_texts(TEXTS)
    assert tok.texts_to_sequences(["zebra the dog"]) == [[1, 4]]
    assert list(tok.texts_to_sequences_generator(["cat"])) == [[2]]
    assert tok.sequences_to_texts([[4, 99, 1]]) == ["dog the"]


def test_tokenizer_char_level_and_token_lists():
    tok = Tokenizer(char_level=True)
    tok.fit_on_texts(["aab", "B"])
    assert tok.word_index == {"a": 1, "b": 2}
    tok = Tokenizer()
    tok.fit_on_texts([["Hello", "world"], ["hello"]])
    assert tok.word_index == {"hello": 1, "world": 2}


def test_tokenizer_matrix_modes():
    tok = Tokenizer()
    tok.fit_on_texts(TEXTS)
    texts = ["the the cat", ""]
    assert tok.texts_to_matrix(texts, mode="binary")[0].tolist() == [
        0,
        1,
        1,
        0,
        0,
        0,
        0,
    ]
    assert tok.texts_to_matrix(texts, mode="count")[0].tolist() == [0, 2, 1, 0, 0, 0, 0]
    assert tok.texts_to_matrix(texts, mode="freq")[0, 1] == pytest.approx(2 / 3)
    tfidf = tok.texts_to_matrix(texts, mode="tfidf")
    assert tfidf[0, 1] == pytest.approx((1 + np.log(2)) * np.log(1 + 3 / 3))
    assert tfidf.dtype == np.float64
    assert not tfidf[1].any()


def test_tokenizer_fit_on_sequences_feeds_tfidf():
    tok = Tokenizer(num_words=4)
    tok.fit_on_sequences([[1, 2, 2], [2]])
    assert tok.document_count == 2
    assert dict(tok.index_docs) == {1: 1, 2: 2}
    row = tok.sequences_to_matrix([[2, 3]], mode="tfidf")[0]
    assert row[2] == pytest.approx(np.log(1 + 2 / 3))
    assert row[3] == pytest.approx(np.log(1 + 2 / 1))


def test_tokenizer_matrix_errors():
    with pytest.raises(
        ValueError, match=r"Specify a dimension \(`num_words` argument\)"
    ):
        Tokenizer().texts_to_matrix(["a"])
    with pytest.raises(
        ValueError, match="Fit the Tokenizer on some data before using tfidf"
    ):
        Tokenizer(num_words=3).sequences_to_matrix([[1]], mode="tfidf")
    with pytest.raises(
        ValueError, match=r"Unknown vectorization mode: expected one of .* got 'onehot'"
    ):
        Tokenizer(num_words=3).sequences_to_matrix([[1]], mode="onehot")


def test_tokenizer_kwargs():
    with pytest.warns(
        UserWarning, match="`nb_words` argument in `Tokenizer` has been renamed"
    ):
        assert Tokenizer(nb_words=7).num_words == 7
    assert Tokenizer(document_count=4).document_count == 4
    with pytest.raises(
        TypeError, match=r"unrecognized keyword arguments: \['num_word'\]"
    ):
        Tokenizer(num_word=3)


def test_tokenizer_json_round_trip_keeps_fitting():
    tok = Tokenizer(num_words=5, oov_token="?", lower=False)
    tok.fit_on_texts(TEXTS)
    text = tok.to_json(indent=2)
    assert json.loads(text)["class_name"] == "Tokenizer"
    back = tokenizer_from_json(text)
    for attr in ("word_index", "index_word", "word_counts", "word_docs", "index_docs"):
        assert getattr(back, attr) == getattr(tok, attr), attr
    assert (back.num_words, back.oov_token, back.lower) == (5, "?", False)
    assert back.texts_to_sequences(TEXTS) == tok.texts_to_sequences(TEXTS)
    back.fit_on_texts(["new words"])  # the restored counts can grow
    assert back.word_docs["new"] == 1
    assert "new" in back.word_index


def test_preprocessing_is_an_attribute_of_plait():
    assert plait.preprocessing.text.Tokenizer is Tokenizer


def test_tokenizer_unfitted_oov_token_has_no_index_yet():
    # Keras appends None here; plait drops the word as it would without oov_token.
    assert Tokenizer(oov_token="?").texts_to_sequences(["a b"]) == [[]]
