"""`pad_sequences`: Keras's documented results and its errors."""

import numpy as np
import pytest

import plait
from plait.preprocessing.sequence import pad_sequences as legacy_pad_sequences
from plait.utils import pad_sequences

SEQS = [[1], [2, 3], [4, 5, 6]]


def test_pad_sequences_is_exported_under_both_keras_names():
    assert plait.utils.pad_sequences is legacy_pad_sequences is pad_sequences


def test_pad_sequences_documented_examples():
    # The four examples of Keras's `keras.utils.pad_sequences` docstring.
    out = pad_sequences(SEQS)
    assert out.dtype == np.int32
    assert out.tolist() == [[0, 0, 1], [0, 2, 3], [4, 5, 6]]
    assert pad_sequences(SEQS, value=-1).tolist() == [
        [-1, -1, 1],
        [-1, 2, 3],
        [4, 5, 6],
    ]
    assert pad_sequences(SEQS, padding="post").tolist() == [
        [1, 0, 0],
        [2, 3, 0],
        [4, 5, 6],
    ]
    assert pad_sequences(SEQS, maxlen=2).tolist() == [[0, 1], [2, 3], [5, 6]]


def test_pad_sequences_keeps_step_shape_and_skips_empty():
    out = pad_sequences([[], [[1, 2]], [[3, 4], [5, 6]]], dtype="float32")
    assert out.shape == (3, 2, 2)
    assert out[0].tolist() == [[0, 0], [0, 0]]
    assert out[1].tolist() == [[0, 0], [1, 2]]


def test_pad_sequences_strings_with_object_dtype():
    out = pad_sequences([["a", "bb"], ["ccc"]], dtype=object, value="<pad>")
    assert out.tolist() == [["a", "bb"], ["<pad>", "ccc"]]
    out = pad_sequences([["a"]], maxlen=2, dtype="object", value="-", padding="post")
    assert out.tolist() == [["a", "-"]]


def test_pad_sequences_maxlen_zero_and_empty_input():
    assert pad_sequences(SEQS, maxlen=0).shape == (3, 0)
    assert pad_sequences([]).shape == (0, 0)
    assert pad_sequences([], maxlen=4).shape == (0, 4)


def test_pad_sequences_rejects_non_iterable():
    with pytest.raises(
        ValueError, match="`sequences` must be iterable: expected a list"
    ):
        pad_sequences(3)
    with pytest.raises(
        ValueError, match=r"must be a list of iterables: .* got non-iterable 5"
    ):
        pad_sequences([[1], 5])


def test_pad_sequences_rejects_bad_padding_and_truncating():
    with pytest.raises(
        ValueError, match='Padding type "middle" not understood: expected'
    ):
        pad_sequences(SEQS, padding="middle")
    with pytest.raises(
        ValueError, match='Truncating type "end" not understood: expected'
    ):
        pad_sequences([[]], truncating="end")


def test_pad_sequences_rejects_bad_maxlen():
    with pytest.raises(TypeError, match=r"expected an int `maxlen`, got 2\.5"):
        pad_sequences(SEQS, maxlen=2.5)
    with pytest.raises(ValueError, match=r"expected `maxlen` >= 0, got -1"):
        pad_sequences(SEQS, maxlen=-1)


def test_pad_sequences_rejects_string_value_with_numeric_dtype():
    with pytest.raises(
        ValueError, match="`dtype` int32 is not compatible with `value`'s"
    ):
        pad_sequences([["a"]], value="<pad>")


def test_pad_sequences_rejects_ragged_steps():
    with pytest.raises(
        ValueError,
        match=r"Shape of sample \(3,\) of sequence at position 1 is different "
        r"from expected shape \(2,\)",
    ):
        pad_sequences([[[1, 2]], [[1, 2, 3]]])
