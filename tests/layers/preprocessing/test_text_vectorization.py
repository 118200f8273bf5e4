"""TextVectorization on Keras's documented examples; a text model from raw strings.

Keras 3 on torch needs TensorFlow for this layer, so the expected values follow
Keras's documentation and the behaviour of its TensorFlow string ops.
"""

import numpy as np
import pytest
import torch

import plait
from plait import layers

TEXTS = ["foo bar", "bar baz", "baz bada boom"]


def test_documented_adapt_example():
    layer = layers.TextVectorization(max_tokens=5000, output_sequence_length=4)
    layer.adapt(TEXTS)
    assert layer.get_vocabulary() == ["", "[UNK]", "baz", "bar", "foo", "boom", "bada"]
    out = layer([["foo qux bar"], ["qux baz"]])
    assert out.dtype == torch.int64
    assert out.tolist() == [[4, 1, 3, 0], [1, 2, 0, 0]]


def test_documented_vocabulary_example():
    layer = layers.TextVectorization(
        max_tokens=5000,
        output_sequence_length=4,
        vocabulary=["earth", "wind", "and", "fire"],
    )
    out = layer(np.array([["earth wind and fire"], ["fire and earth michigan"]]))
    assert out.tolist() == [[2, 3, 4, 5], [5, 4, 2, 1]]


def test_standardize_split_and_padding():
    layer = layers.TextVectorization(vocabulary=["hello", "world"])
    assert layer(["Hello, WORLD!", "hello\tthere  world"]).tolist() == [
        [2, 3, 0],
        [2, 1, 3],
    ]
    assert layers.TextVectorization(output_sequence_length=1, vocabulary=["a"])(
        ["a a a"]
    ).tolist() == [[2]]
    chars = layers.TextVectorization(split="character", standardize=None)
    chars.adapt(["aab"])
    assert chars.get_vocabulary() == ["", "[UNK]", "a", "b"]
    assert chars(["ba c"]).tolist() == [[3, 2, 1, 1]]
    # Keras lowercases ASCII only (tf.strings.lower), and strips ASCII punctuation.
    keep = layers.TextVectorization(split=None, vocabulary=["\u00c9t\u00c9"])
    assert keep(["\u00c9T\u00c9."]).tolist() == [[2]]
    # A callable standardize gets the batch as a NumPy unicode array (Keras 3 on
    # non-TF backends); a callable split gets one string at a time.
    seen = []

    def standardize(batch):
        seen.append((batch.dtype.kind, batch.shape))
        return np.char.replace(np.char.upper(batch), "-", " ")

    custom = layers.TextVectorization(standardize=standardize, split=str.split)
    custom.adapt(np.array([["x-y y"], ["Z"]]))
    assert seen == [("U", (2, 1))]
    assert custom.get_vocabulary() == ["", "[UNK]", "Y", "Z", "X"]


def test_ngrams_and_bag_modes():
    layer = layers.TextVectorization(ngrams=2)
    layer.adapt(["a b c"])
    assert set(layer.get_vocabulary()[2:]) == {"a", "b", "c", "a b", "b c"}
    multi = layers.TextVectorization(output_mode="multi_hot", vocabulary=["a", "b"])
    assert multi(["a a c", "b"]).tolist() == [[1, 1, 0], [0, 0, 1]]
    count = layers.TextVectorization(output_mode="count", vocabulary=["a", "b"])
    assert count(["a a c", "b"]).tolist() == [[1, 2, 0], [0, 0, 1]]
    padded = layers.TextVectorization(
        output_mode="count", max_tokens=6, pad_to_max_tokens=True, vocabulary=["a"]
    )
    assert padded(["a"]).shape == (1, 6)
    tfidf = layers.TextVectorization(output_mode="tf_idf")
    tfidf.adapt(["a a b", "b c c"])
    idf = [np.log(1 + 2 / (1 + n)) for n in (1, 2, 1)]  # c, b, a
    out = tfidf(["a a b z"])
    np.testing.assert_allclose(
        out, [[np.mean(idf), 0.0, idf[1], 2 * idf[2]]], rtol=1e-6
    )


def test_set_vocabulary_and_adapt_on_iterables():
    layer = layers.TextVectorization()
    layer.adapt(iter([np.array(["one two"]), np.array(["two three two"])]))
    assert layer.get_vocabulary(include_special_tokens=False) == ["two", "three", "one"]
    assert layer.vocabulary_size() == 5
    layer.set_vocabulary(["x"])
    assert layer(["x y"]).tolist() == [[2, 1]]
    capped = layers.TextVectorization(max_tokens=4)
    capped.adapt(["a b b c c c"])
    assert capped.get_vocabulary() == ["", "[UNK]", "c", "b"]


def test_errors():
    with pytest.raises(ValueError, match="expected `standardize` to be one of"):
        layers.TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="expected `split` to be one of"):
        layers.TextVectorization(split="comma")
    with pytest.raises(ValueError, match="expected `output_mode` to be one of"):
        layers.TextVectorization(output_mode="one_hot")
    with pytest.raises(ValueError, match="expected `output_sequence_length` only"):
        layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="expected `ngrams` to be None, an int"):
        layers.TextVectorization(ngrams="2")
    layer = layers.TextVectorization(vocabulary=["a"], name="tv")
    with pytest.raises(
        ValueError, match=r"layer 'tv': expected strings of shape \(batch,\)"
    ):
        layer(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="layer 'tv': expected string inputs"):
        layer(np.array([1.0, 2.0]))


def test_text_model_from_raw_strings_trains_saves_and_loads(tmp_path):
    good = ["a fine film", "great acting and a fine story", "I loved it", "superb"]
    bad = ["a dull film", "awful acting", "I hated it", "boring and dull story"]
    texts = np.array(good + bad)[:, None]
    labels = np.array([1.0] * 4 + [0.0] * 4, "float32")[:, None]
    vectorize = layers.TextVectorization(output_sequence_length=6)
    vectorize.adapt(texts)
    x = plait.Input(shape=(1,), dtype="string")
    h = layers.Embedding(vectorize.vocabulary_size(), 8)(vectorize(x))
    y = layers.Dense(1, activation="sigmoid")(layers.GlobalAveragePooling1D()(h))
    model = plait.Model(x, y)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(texts, labels, epochs=2, batch_size=4, verbose=0)
    assert len(history.history["loss"]) == 2
    before = model.predict(texts, verbose=0)
    model.save(tmp_path / "text.plait")
    loaded = plait.models.load_model(tmp_path / "text.plait")
    np.testing.assert_allclose(loaded.predict(texts, verbose=0), before, rtol=1e-6)
    assert (
        loaded.get_layer(vectorize.name).get_vocabulary() == vectorize.get_vocabulary()
    )
    bag = layers.TextVectorization(output_mode="tf_idf")
    bag.adapt(texts)
    x2 = plait.Input(shape=(1,), dtype="string")
    bags = bag(x2)
    assert bags.shape == (None, bag.vocabulary_size())
    model2 = plait.Model(x2, layers.Dense(1)(bags))
    model2.compile("sgd", "mse")
    model2.fit(texts, labels, epochs=1, verbose=0)


def test_sequential_text_models_take_lists_of_strings():
    vectorize = layers.TextVectorization(output_sequence_length=3)
    vectorize.adapt(TEXTS)
    head = [layers.Embedding(7, 2), layers.Flatten(), layers.Dense(1)]
    with_input = plait.Sequential(
        [plait.Input(shape=(1,), dtype="string"), vectorize, *head]
    )
    # Keras adds the trailing 1: a flat list of strings fits an input of shape (1,).
    assert with_input.predict(["foo bar", "baz"], verbose=0).shape == (2, 1)
    built_from_data = plait.Sequential([vectorize, layers.Embedding(7, 2)])
    out = built_from_data.predict(np.array(["foo bar", "baz"]), verbose=0)
    assert out.shape == (2, 3, 2)
    assert built_from_data.inputs[0].dtype == plait.utils.strings.STRING


def test_string_batches_from_a_generator():
    vectorize = layers.TextVectorization(output_sequence_length=3)
    vectorize.adapt(TEXTS)
    x = plait.Input(shape=(1,), dtype="string")
    h = layers.Flatten()(layers.Embedding(7, 2)(vectorize(x)))
    model = plait.Model(x, layers.Dense(1)(h))
    model.compile("sgd", "mse")

    def batches():
        while True:
            yield np.array([["foo bar"], ["baz"]]), np.ones((2, 1), "float32")

    history = model.fit(batches(), steps_per_epoch=2, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.evaluate(batches(), steps=1, verbose=0) >= 0
    out = model.predict(iter([np.array([["foo bar"], ["baz"]])]), verbose=0)
    assert out.shape == (2, 1)


@pytest.mark.usefixtures("clean_registry")
def test_registered_standardize_and_split_functions_save_by_name(tmp_path):
    # keras.io's text classification from scratch: a custom standardization.
    @plait.saving.register_keras_serializable(package="test")
    def lower(x):
        return np.char.lower(x)

    @plait.saving.register_keras_serializable(package="test")
    def on_commas(x):
        return [s.split(",") for s in x]

    inputs = plait.Input((1,), dtype="string")
    layer = plait.layers.TextVectorization(standardize=lower, split=on_commas)
    layer.adapt(["A,b", "b,C"])
    model = plait.Model(inputs, layer(inputs))
    model.save(tmp_path / "t.keras")
    again = plait.models.load_model(tmp_path / "t.keras")
    assert again.layers[-1].standardize is lower
    assert again.layers[-1].split is on_commas
    x = np.array([["A,C"], ["b,b"]])
    np.testing.assert_array_equal(
        again.predict(x, verbose=0), model.predict(x, verbose=0)
    )

    def unregistered(x):
        return x

    plain = plait.layers.TextVectorization(standardize=unregistered)
    with pytest.raises(
        ValueError, match=r"`standardize` is the function 'unregistered'"
    ):
        plait.Model(inputs, plain(inputs)).save(tmp_path / "u.keras")
