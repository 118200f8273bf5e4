"""StringLookup and IntegerLookup on Keras's documented examples; string models.

Keras 3 on torch needs TensorFlow for these layers, so the expected values are
the examples of Keras's documentation.
"""

import numpy as np
import pytest
import torch

import plait
from plait import layers

VOCAB = ["a", "b", "c", "d"]
DATA = [["a", "c", "d"], ["d", "z", "b"]]


def test_string_lookup_documented_examples():
    assert layers.StringLookup(vocabulary=VOCAB)(DATA).tolist() == [
        [1, 3, 4],
        [4, 0, 2],
    ]
    lookup = layers.StringLookup()
    lookup.adapt(DATA)
    assert lookup.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    two = layers.StringLookup(vocabulary=VOCAB, num_oov_indices=2)
    assert two([["a", "c", "d"], ["m", "z", "b"]]).tolist() == [[2, 4, 5], [0, 1, 3]]
    hot = layers.StringLookup(vocabulary=VOCAB, output_mode="one_hot")
    assert hot(["a", "b", "c", "d", "z"]).argmax(-1).tolist() == [1, 2, 3, 4, 0]
    multi = layers.StringLookup(vocabulary=VOCAB, output_mode="multi_hot")
    assert multi(DATA).tolist() == [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]]
    count = layers.StringLookup(vocabulary=VOCAB, output_mode="count")
    assert count([["a", "c", "d", "d"], ["d", "z", "b", "z"]]).tolist() == [
        [0, 1, 0, 1, 2],
        [2, 0, 1, 0, 1],
    ]
    tfidf = layers.StringLookup(
        output_mode="tf_idf", vocabulary=VOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4]
    )
    out = tfidf([["a", "c", "d", "d"], ["d", "z", "b", "z"]])
    np.testing.assert_allclose(
        out, [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]], rtol=1e-6
    )
    inverse = layers.StringLookup(vocabulary=VOCAB, invert=True)
    assert inverse(np.array([[1, 3, 4], [4, 0, 2]])).tolist() == [
        ["a", "c", "d"],
        ["d", "[UNK]", "b"],
    ]


def test_string_lookup_adapt_tf_idf_and_mask():
    lookup = layers.StringLookup(output_mode="tf_idf")
    lookup.adapt([["a", "a", "b"], ["b", "c", "c"]])  # two documents
    assert lookup.get_vocabulary() == ["[UNK]", "c", "b", "a"]
    idf = [np.log(1 + 2 / (1 + n)) for n in (1, 2, 1)]
    np.testing.assert_allclose(lookup.idf_weights, [np.mean(idf), *idf], rtol=1e-6)
    masked = layers.StringLookup(vocabulary=VOCAB, mask_token="")
    assert masked([["a", ""], ["z", "d"]]).tolist() == [[2, 0], [1, 5]]
    assert masked.get_vocabulary()[:2] == ["", "[UNK]"]
    capped = layers.StringLookup(max_tokens=3)
    capped.adapt(["x", "y", "y", "z", "z", "z"])
    assert capped.get_vocabulary() == ["[UNK]", "z", "y"]


def test_string_lookup_vocabulary_file_and_errors(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("[UNK]\na\nb\n", encoding="utf-8")
    lookup = layers.StringLookup(vocabulary=str(path))
    assert lookup.get_vocabulary() == ["[UNK]", "a", "b"]
    lookup.set_vocabulary(["q", "r"])
    assert lookup(["r", "a"]).tolist() == [2, 0]
    with pytest.raises(ValueError, match="expected a vocabulary without repeated"):
        layers.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="expected the OOV token '\\[UNK\\]' only at"):
        layers.StringLookup(vocabulary=["a", "[UNK]"])
    with pytest.raises(ValueError, match="expected at most max_tokens=2 indices"):
        layers.StringLookup(vocabulary=["a", "b"], max_tokens=2)
    with pytest.raises(ValueError, match="expected `idf_weights` with output_mode"):
        layers.StringLookup(vocabulary=["a"], output_mode="tf_idf")
    with pytest.raises(ValueError, match="expected every input in the vocabulary"):
        layers.StringLookup(vocabulary=["a"], num_oov_indices=0)(["b"])
    with pytest.raises(TypeError, match="layer 's': expected string inputs"):
        layers.StringLookup(vocabulary=["a"], name="s")(np.array([1.0]))


def test_integer_lookup_documented_examples():
    vocab = [12, 36, 1138, 42]
    data = torch.tensor([[12, 1138, 42], [42, 1000, 36]])
    assert layers.IntegerLookup(vocabulary=vocab)(data).tolist() == [
        [1, 3, 4],
        [4, 0, 2],
    ]
    lookup = layers.IntegerLookup()
    lookup.adapt(data)
    assert lookup.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    two = layers.IntegerLookup(vocabulary=vocab, num_oov_indices=2)
    out = two(torch.tensor([[12, 1138, 42], [37, 1000, 36]]))
    assert out.tolist() == [[2, 4, 5], [1, 0, 3]]
    inverse = layers.IntegerLookup(vocabulary=vocab, invert=True)
    assert inverse(torch.tensor([[1, 3, 4], [4, 0, 2]])).tolist() == [
        [12, 1138, 42],
        [42, -1, 36],
    ]
    with pytest.raises(TypeError, match="expected integer inputs"):
        layers.IntegerLookup(vocabulary=vocab)(np.array([1.5]))


def test_string_model_trains_saves_and_loads(tmp_path):
    words = np.array([["good"], ["bad"], ["great"], ["awful"]] * 8)
    labels = np.array([[1.0], [0.0], [1.0], [0.0]] * 8, "float32")
    lookup = layers.StringLookup()
    lookup.adapt(words)
    x = plait.Input(shape=(1,), dtype="string")
    h = lookup(x)
    h = layers.Embedding(lookup.vocabulary_size(), 4)(h)
    y = layers.Dense(1, activation="sigmoid")(layers.Flatten()(h))
    model = plait.Model(x, y)
    model.compile("adam", "binary_crossentropy")
    history = model.fit(words, labels, epochs=3, batch_size=8, verbose=0, shuffle=True)
    assert len(history.history["loss"]) == 3
    model.fit(words, labels, epochs=1, validation_split=0.25, verbose=0)
    before = model.predict(words[:4], verbose=0)
    assert model.evaluate(words, labels, verbose=0) >= 0
    model.save(tmp_path / "m.plait")
    loaded = plait.models.load_model(tmp_path / "m.plait")
    np.testing.assert_allclose(loaded.predict(words[:4], verbose=0), before, rtol=1e-6)
    assert loaded.layers[1].get_vocabulary() == lookup.get_vocabulary()
    as_list = model.predict([["good"], ["bad"]], verbose=0)
    np.testing.assert_allclose(as_list, before[:2], rtol=1e-6)


def test_integer_lookup_oov_methods_documented_example():
    vocab = [10, 20, 30]
    oov = np.array([100, 300, 700, 1100, 1700, 2000])
    floormod = layers.IntegerLookup(vocabulary=vocab, num_oov_indices=4)
    assert floormod(oov).tolist() == [0, 0, 0, 0, 0, 0]
    farm = layers.IntegerLookup(
        vocabulary=vocab, num_oov_indices=4, oov_method="farmhash"
    )
    assert farm(oov).tolist() == [3, 3, 2, 2, 0, 1]
    salted = layers.IntegerLookup(
        vocabulary=vocab, num_oov_indices=4, oov_method="farmhash", salt=7
    )
    assert salted.get_config()["salt"] == [7, 7]
    again = layers.IntegerLookup.from_config(salted.get_config())
    assert torch.equal(again(oov), salted(oov))
    with pytest.raises(ValueError, match="expected oov_method='farmhash' with `salt`"):
        layers.IntegerLookup(salt=3)
    with pytest.raises(ValueError, match="expected `oov_method` 'floormod' or"):
        layers.IntegerLookup(oov_method="mod")
    strings = layers.StringLookup(vocabulary=VOCAB, num_oov_indices=3, salt=[1, 2])
    assert strings(["m", "z", "a"]).tolist()[2] == 3


def test_model_with_string_outputs_predicts_in_batches():
    x = plait.Input(shape=(2,), dtype="int64")
    inverse = layers.StringLookup(vocabulary=["a", "b"], invert=True)
    y = inverse(x)
    assert y.dtype == plait.utils.strings.STRING
    model = plait.Model(x, y)
    out = model.predict(np.array([[1, 2], [0, 1]] * 20), batch_size=16, verbose=0)
    assert out.shape == (40, 2)
    assert out[:2].tolist() == [["a", "b"], ["[UNK]", "a"]]
