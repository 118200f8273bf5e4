"""The Keras 3 guide "Understanding masking & padding", section by section, with
the imports changed (`import plait as keras`, `from plait import layers, ops`).

`TemporalSplit` and `CustomEmbedding` come from
tests/layers/test_masking.py, which ports them too.
"""

import numpy as np

import plait as keras
from plait import layers, ops
from tests.layers.test_masking import CustomEmbedding, TemporalSplit

raw_inputs = [
    [711, 632, 71],
    [73, 8, 3215, 55, 927],
    [83, 91, 1, 645, 1253, 927],
]
# By default, this will pad using 0s; it is configurable via the
# "value" parameter.
# Note that you could use "pre" padding (at the beginning) or
# "post" padding (at the end).
# We recommend using "post" padding when working with RNN layers
# (in order to be able to use the
# CuDNN implementation of the layers).
padded_inputs = keras.utils.pad_sequences(raw_inputs, padding="post")
EXPECTED_MASK = padded_inputs != 0


def test_padding_sequence_data():
    # The guide prints it: post-padded with zeros, int32.
    np.testing.assert_array_equal(
        padded_inputs,
        [
            [711, 632, 71, 0, 0, 0],
            [73, 8, 3215, 55, 927, 0],
            [83, 91, 1, 645, 1253, 927],
        ],
    )
    assert padded_inputs.dtype == np.int32


def _masked_embedding():
    masking_layer = layers.Masking()
    unmasked_embedding = ops.cast(
        ops.tile(ops.expand_dims(padded_inputs, axis=-1), [1, 1, 10]), "float32"
    )
    return masking_layer(unmasked_embedding)


def test_mask_generating_layers_embedding_and_masking():
    embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
    masked_output = embedding(padded_inputs)
    np.testing.assert_array_equal(
        ops.convert_to_numpy(masked_output._keras_mask), EXPECTED_MASK
    )
    masked_embedding = _masked_embedding()
    np.testing.assert_array_equal(
        ops.convert_to_numpy(masked_embedding._keras_mask), EXPECTED_MASK
    )


def test_mask_propagation_in_the_functional_api_and_sequential_api():
    model = keras.Sequential(
        [
            layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True),
            layers.LSTM(32),
        ]
    )
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
    outputs = layers.LSTM(32)(x)
    functional = keras.Model(inputs, outputs)
    for m in (model, functional):
        # Padding after the first sample's three words changes nothing.
        short = m(padded_inputs[:1, :3])
        padded = m(padded_inputs[:1])
        np.testing.assert_allclose(
            ops.convert_to_numpy(padded), ops.convert_to_numpy(short), atol=1e-6
        )


class MyLayer(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
        self.lstm = layers.LSTM(32)

    def call(self, inputs):
        x = self.embedding(inputs)
        mask = self.embedding.compute_mask(inputs)
        output = self.lstm(x, mask=mask)
        return output


def test_passing_mask_tensors_directly_to_layers():
    layer = MyLayer()
    x = np.random.random((32, 10)) * 100
    x = x.astype("int32")
    y = layer(x)
    assert tuple(y.shape) == (32, 32)
    # The trailing zeros are skipped: the last step's output is an earlier one's.
    x = np.array([[5, 6, 7, 0, 0]], "int32")
    np.testing.assert_allclose(
        ops.convert_to_numpy(layer(x)), ops.convert_to_numpy(layer(x[:, :3])), atol=1e-6
    )


def test_supporting_masking_in_your_custom_layers():
    first_half, second_half = TemporalSplit()(_masked_embedding())
    np.testing.assert_array_equal(
        ops.convert_to_numpy(first_half._keras_mask), EXPECTED_MASK[:, :3]
    )
    np.testing.assert_array_equal(
        ops.convert_to_numpy(second_half._keras_mask), EXPECTED_MASK[:, 3:]
    )

    layer = CustomEmbedding(10, 32, mask_zero=True)
    x = np.random.random((3, 10)) * 9
    x = x.astype("int32")
    y = layer(x)
    mask = layer.compute_mask(x)
    # The guide's `ops.take(self.embeddings, inputs)` has no axis: it indexes the
    # flattened table, one number per id (Keras 3.15 does the same).
    assert tuple(y.shape) == (3, 10)
    np.testing.assert_array_equal(ops.convert_to_numpy(mask), x != 0)
    np.testing.assert_array_equal(ops.convert_to_numpy(y._keras_mask), x != 0)


class MyActivation(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Signal that the layer is safe for mask propagation
        self.supports_masking = True

    def call(self, inputs):
        return ops.relu(inputs)


def test_opting_in_to_mask_propagation_on_compatible_layers():
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
    x = MyActivation()(x)
    assert x._keras_mask is not None
    outputs = layers.LSTM(32)(x)
    model = keras.Model(inputs, outputs)
    np.testing.assert_allclose(
        ops.convert_to_numpy(model(padded_inputs[:1])),
        ops.convert_to_numpy(model(padded_inputs[:1, :3])),
        atol=1e-6,
    )


class TemporalSoftmax(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        assert mask is not None
        broadcast_float_mask = ops.expand_dims(ops.cast(mask, "float32"), -1)
        inputs_exp = ops.exp(inputs) * broadcast_float_mask
        inputs_sum = ops.sum(inputs_exp * broadcast_float_mask, axis=-1, keepdims=True)
        return inputs_exp / inputs_sum


def test_writing_layers_that_need_mask_information():
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=10, output_dim=32, mask_zero=True)(inputs)
    x = layers.Dense(1)(x)
    outputs = TemporalSoftmax()(x)
    model = keras.Model(inputs, outputs)
    data = np.random.randint(0, 10, size=(32, 100))
    y = model(data)
    assert tuple(y.shape) == (32, 100, 1)
    # The guide's sum runs over the last axis (of size 1): each kept step is
    # exp(x) / exp(x) == 1, each masked one 0 / 0 (NaN), in Keras as here.
    y = ops.convert_to_numpy(y)[..., 0]
    assert np.isnan(y[data == 0]).all()
    np.testing.assert_allclose(y[data != 0], 1.0, rtol=1e-6)
