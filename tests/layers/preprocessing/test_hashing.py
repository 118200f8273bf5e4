"""Hashing and HashedCrossing: TensorFlow's hashes, checked on published outputs.

Keras 3 on torch cannot run these layers without TensorFlow, so the expected
values are Keras's and TensorFlow's documented examples and the reference test
vectors of FarmHash `Fingerprint64` and SipHash-2-4.
"""

import numpy as np
import pytest
import torch

import plait
from plait import layers
from plait.layers.preprocessing.fingerprint import fingerprint64, siphash24

# FarmHash Fingerprint64 of strings of every length class (0-16, 17-32, 33-64, >64).
FARMHASH = [
    ("", 0x9AE16A3B2F90404F),
    ("a", 0xB3454265B6DF75E3),
    ("abcd", 0x1A5502DE4A1F8101),
    ("abcdefghi", 0x332C8ED4DAE5BA42),
    ("0123456789=012345", 0x46A7416ED4861E3B),
    ("0123456789%0123456789\u00a3", 0x4DBD128AF51D77E8),
    ("C is as portable as Stonehedge!!", 0xB944F8A16261E414),
    ("Discard medicine more than two years old.", 0xE8F89AB6DF9BDD25),
    (
        "For every action there is an equal and opposite government program.",
        0x55182F8859ECA4CE,
    ),
    ("test" * 8, 2**64 - 4196240717365766262),
]


@pytest.mark.parametrize(("text", "expected"), FARMHASH)
def test_fingerprint64_reference_vectors(text, expected):
    assert fingerprint64(text) == expected


def test_siphash_reference_vectors():
    key = bytes(range(16))
    k0, k1 = (int.from_bytes(key[i : i + 8], "little") for i in (0, 8))
    assert siphash24(k0, k1, b"") == 0x726FDB47DD0E0E31
    assert siphash24(k0, k1, bytes(range(15))) == 0xA129CA6149BE45E5
    assert siphash24(k0, k1, bytes(range(63))) == 0x958A324CEB064572


def test_tensorflow_documented_buckets():
    # tf.strings.to_hash_bucket_fast / to_hash_bucket_strong docs
    assert [fingerprint64(s) % 3 for s in ("Hello", "TensorFlow", "2.x")] == [0, 2, 2]
    assert [siphash24(1, 2, s) % 3 for s in ("Hello", "TF")] == [2, 0]


LETTERS = [["A"], ["B"], ["C"], ["D"], ["E"]]


@pytest.mark.parametrize(
    ("kwargs", "data", "expected"),
    [
        ({}, LETTERS, [[1], [0], [1], [1], [2]]),
        (
            {"mask_value": ""},
            [["A"], ["B"], [""], ["C"], ["D"]],
            [[1], [1], [0], [2], [2]],
        ),
        ({"salt": 133}, LETTERS, [[0], [0], [2], [1], [0]]),
        ({"salt": [133, 137]}, LETTERS, [[1], [2], [1], [0], [2]]),
    ],
)
def test_hashing_keras_documented_examples(kwargs, data, expected):
    out = layers.Hashing(num_bins=3, **kwargs)(data)
    assert out.dtype == torch.int64
    assert out.tolist() == expected


def test_hashing_integers_hash_their_decimal_text():
    out = layers.Hashing(num_bins=7)(np.array([[12], [-3]]))
    assert out.tolist() == [[fingerprint64("12") % 7], [fingerprint64("-3") % 7]]
    strings = layers.Hashing(num_bins=7)(np.array([["12"], ["-3"]]))
    assert torch.equal(out, strings)


def test_hashing_output_modes_and_errors():
    hot = layers.Hashing(num_bins=3, output_mode="one_hot")(["A", "B"])
    assert hot.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    with pytest.raises(ValueError, match="expected `num_bins` to be a positive int"):
        layers.Hashing(num_bins=0)
    with pytest.raises(ValueError, match="expected `salt` to be an int or a pair"):
        layers.Hashing(num_bins=3, salt=[1, 2, 3])
    with pytest.raises(TypeError, match="layer 'h': expected string or integer inputs"):
        layers.Hashing(num_bins=3, name="h")(np.array([1.5]))


def test_hashed_crossing_keras_documented_examples():
    feat1 = np.array(["A", "B", "A", "B", "A"])
    feat2 = np.array([101, 101, 101, 102, 102])
    assert layers.HashedCrossing(num_bins=5)((feat1, feat2)).tolist() == [1, 4, 1, 1, 3]
    hot = layers.HashedCrossing(num_bins=5, output_mode="one_hot")((feat1, feat2))
    assert hot.argmax(-1).tolist() == [1, 4, 1, 1, 3]
    with pytest.raises(ValueError, match="expected a tuple or list of at least two"):
        layers.HashedCrossing(num_bins=5)(feat1)
    with pytest.raises(
        ValueError, match=r"expected every feature to have shape \(5,\)"
    ):
        layers.HashedCrossing(num_bins=5)((feat1, feat2[:3]))


def test_hashing_in_a_string_model_saves(tmp_path):
    x = plait.Input(shape=(1,), dtype="string")
    y = layers.Hashing(num_bins=3, salt=133)(x)
    model = plait.Model(x, y)
    assert y.dtype == torch.int64
    np.testing.assert_array_equal(
        model.predict(np.array(LETTERS), verbose=0), [[0], [0], [2], [1], [0]]
    )
    model.save(tmp_path / "h.plait")
    loaded = plait.models.load_model(tmp_path / "h.plait")
    np.testing.assert_array_equal(
        loaded.predict(np.array(LETTERS), verbose=0), [[0], [0], [2], [1], [0]]
    )


def test_sparse_outputs_are_refused():
    with pytest.raises(ValueError, match="layer 'h': expected sparse=False"):
        layers.Hashing(num_bins=3, sparse=True, name="h")
