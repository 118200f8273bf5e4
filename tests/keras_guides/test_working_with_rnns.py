"""The Keras 3 guide "Working with RNNs", section by section, with the imports
changed (`import plait as keras`, `from plait import layers, ops`).

Data: MNIST is random arrays of the same shapes (no download), 64 training and
32 test images; the nested-input example trains on 2 batches of 8 instead of
10 of 64. The guide's `tf.device("CPU:0")` block and its matplotlib plot are left
out (plait runs on the CPU here anyway); `tf.TensorShape` state sizes are lists.
"""

import numpy as np
import pytest

import plait as keras
from plait import layers, ops


def test_built_in_rnn_layers_a_simple_example(capsys):
    model = keras.Sequential()
    model.add(layers.Embedding(input_dim=1000, output_dim=64))
    model.add(layers.LSTM(128))
    model.add(layers.Dense(10))
    model(np.zeros((1, 5), "int32"))  # unbuilt until it sees data (Keras 3)
    model.summary()
    assert "98,816" in capsys.readouterr().out  # the LSTM's parameters
    assert tuple(model.output_shape) == (None, 10)


def test_outputs_and_states():
    model = keras.Sequential()
    model.add(layers.Embedding(input_dim=1000, output_dim=64))
    model.add(layers.GRU(256, return_sequences=True))
    model.add(layers.SimpleRNN(128))
    model.add(layers.Dense(10))
    assert tuple(model(np.ones((2, 7), "int32")).shape) == (2, 10)

    encoder_vocab = 1000
    decoder_vocab = 2000
    encoder_input = layers.Input(shape=(None,))
    encoder_embedded = layers.Embedding(input_dim=encoder_vocab, output_dim=64)(
        encoder_input
    )
    output, state_h, state_c = layers.LSTM(64, return_state=True, name="encoder")(
        encoder_embedded
    )
    encoder_state = [state_h, state_c]
    decoder_input = layers.Input(shape=(None,))
    decoder_embedded = layers.Embedding(input_dim=decoder_vocab, output_dim=64)(
        decoder_input
    )
    decoder_output = layers.LSTM(64, name="decoder")(
        decoder_embedded, initial_state=encoder_state
    )
    output = layers.Dense(10)(decoder_output)
    model = keras.Model([encoder_input, decoder_input], output)
    model.summary()
    enc, dec = np.ones((2, 3)), np.ones((2, 4))
    out = model.predict([enc, dec], verbose=0)
    assert out.shape == (2, 10)
    # The decoder starts from the encoder's state: other encoder inputs change it.
    assert not np.allclose(model.predict([enc * 2, dec], verbose=0), out)


def test_rnn_layers_and_rnn_cells():
    lstm = layers.LSTM(10)
    rnn = layers.RNN(layers.LSTMCell(10))
    x = np.random.random((2, 5, 3)).astype("float32")
    y = lstm(x)
    rnn(x)
    rnn.set_weights(lstm.get_weights())
    np.testing.assert_allclose(
        ops.convert_to_numpy(rnn(x)), ops.convert_to_numpy(y), atol=1e-6
    )


def test_cross_batch_statefulness():
    paragraph1 = np.random.random((20, 10, 50)).astype(np.float32)
    paragraph2 = np.random.random((20, 10, 50)).astype(np.float32)
    paragraph3 = np.random.random((20, 10, 50)).astype(np.float32)
    lstm_layer = layers.LSTM(64, stateful=True)
    output = lstm_layer(paragraph1)
    output = lstm_layer(paragraph2)
    output = lstm_layer(paragraph3)
    # The three paragraphs ran as one sequence of 30 steps.
    whole = layers.LSTM(64)
    whole(paragraph1)
    whole.set_weights(lstm_layer.get_weights())
    joined = np.concatenate([paragraph1, paragraph2, paragraph3], axis=1)
    np.testing.assert_allclose(
        ops.convert_to_numpy(output), ops.convert_to_numpy(whole(joined)), atol=1e-5
    )
    lstm_layer.reset_states()
    np.testing.assert_allclose(
        ops.convert_to_numpy(lstm_layer(paragraph1)),
        ops.convert_to_numpy(whole(paragraph1)),
        atol=1e-6,
    )


def test_rnn_state_reuse():
    paragraph1 = np.random.random((20, 10, 50)).astype(np.float32)
    paragraph2 = np.random.random((20, 10, 50)).astype(np.float32)
    paragraph3 = np.random.random((20, 10, 50)).astype(np.float32)
    lstm_layer = layers.LSTM(64, stateful=True)
    lstm_layer(paragraph1)
    lstm_layer(paragraph2)
    existing_state = lstm_layer.states
    new_lstm_layer = layers.LSTM(64)
    new_output = new_lstm_layer(paragraph3, initial_state=existing_state)
    assert tuple(new_output.shape) == (20, 64)
    assert [tuple(s.shape) for s in existing_state] == [(20, 64), (20, 64)]
    # Continuing the stateful layer with the new layer's weights gives the same.
    lstm_layer.set_weights(new_lstm_layer.get_weights())
    np.testing.assert_allclose(
        ops.convert_to_numpy(lstm_layer(paragraph3)),
        ops.convert_to_numpy(new_output),
        atol=1e-6,
    )


def test_bidirectional_rnns(capsys):
    model = keras.Sequential()
    model.add(
        layers.Bidirectional(
            layers.LSTM(64, return_sequences=True), input_shape=(5, 10)
        )
    )
    model.add(layers.Bidirectional(layers.LSTM(32)))
    model.add(layers.Dense(10))
    model.summary()
    out = capsys.readouterr().out
    assert "(None, 5, 128)" in out
    assert "(None, 64)" in out
    assert model.count_params() == 80266  # as the guide's summary shows


batch_size = 64
input_dim = 28
units = 64
output_size = 10


def build_model(allow_cudnn_kernel=True):
    if allow_cudnn_kernel:
        lstm_layer = keras.layers.LSTM(units, input_shape=(None, input_dim))
    else:
        lstm_layer = keras.layers.RNN(
            keras.layers.LSTMCell(units), input_shape=(None, input_dim)
        )
    model = keras.models.Sequential(
        [
            lstm_layer,
            keras.layers.BatchNormalization(),
            keras.layers.Dense(output_size),
        ]
    )
    return model


@pytest.mark.slow
def test_performance_optimization_and_cudnn_kernels():
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (64, 28, 28)).astype("uint8")
    y_train = rng.integers(0, 10, 64)
    x_test = rng.integers(0, 256, (32, 28, 28)).astype("uint8")
    y_test = rng.integers(0, 10, 32)
    x_train, x_test = x_train / 255.0, x_test / 255.0
    sample, sample_label = x_train[0], y_train[0]
    model = build_model(allow_cudnn_kernel=True)
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer="sgd",
        metrics=["accuracy"],
    )
    model.fit(
        x_train,
        y_train,
        validation_data=(x_test, y_test),
        batch_size=batch_size,
        epochs=1,
    )
    noncudnn_model = build_model(allow_cudnn_kernel=False)
    noncudnn_model.set_weights(model.get_weights())
    noncudnn_model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer="sgd",
        metrics=["accuracy"],
    )
    np.testing.assert_allclose(
        noncudnn_model.predict(x_test, verbose=0),
        model.predict(x_test, verbose=0),
        atol=1e-5,
    )
    noncudnn_model.fit(
        x_train,
        y_train,
        validation_data=(x_test, y_test),
        batch_size=batch_size,
        epochs=1,
    )
    cpu_model = build_model(allow_cudnn_kernel=True)
    cpu_model.set_weights(model.get_weights())
    result = ops.argmax(cpu_model.predict_on_batch(ops.expand_dims(sample, 0)), axis=1)
    expected = np.argmax(model.predict(sample[None], verbose=0), axis=1)
    np.testing.assert_array_equal(ops.convert_to_numpy(result), expected)
    assert 0 <= sample_label < 10


class NestedCell(keras.layers.Layer):
    def __init__(self, unit_1, unit_2, unit_3, **kwargs):
        self.unit_1 = unit_1
        self.unit_2 = unit_2
        self.unit_3 = unit_3
        self.state_size = [[unit_1], [unit_2, unit_3]]
        self.output_size = [[unit_1], [unit_2, unit_3]]
        super().__init__(**kwargs)

    def build(self, input_shapes):
        i1 = input_shapes[0][1]
        i2 = input_shapes[1][1]
        i3 = input_shapes[1][2]
        self.kernel_1 = self.add_weight(
            shape=(i1, self.unit_1), initializer="uniform", name="kernel_1"
        )
        self.kernel_2_3 = self.add_weight(
            shape=(i2, i3, self.unit_2, self.unit_3),
            initializer="uniform",
            name="kernel_2_3",
        )

    def call(self, inputs, states):
        input_1, input_2 = keras.tree.flatten(inputs)
        s1, s2 = states
        output_1 = ops.matmul(input_1, self.kernel_1)
        output_2_3 = ops.einsum("bij,ijkl->bkl", input_2, self.kernel_2_3)
        state_1 = s1 + output_1
        state_2_3 = s2 + output_2_3
        output = (output_1, output_2_3)
        new_states = (state_1, state_2_3)
        return output, new_states

    def get_config(self):
        return {"unit_1": self.unit_1, "unit_2": self.unit_2, "unit_3": self.unit_3}


def test_rnns_with_list_dict_inputs_or_nested_inputs():
    """The guide's section as written (Keras 3.15 on torch cannot build it: its
    `RNN.build` takes one sequence shape; plait steps the structure)."""
    unit_1 = 10
    unit_2 = 20
    unit_3 = 30
    i1 = 32
    i2 = 64
    i3 = 32
    batch_size = 8
    num_batches = 2
    timestep = 50
    cell = NestedCell(unit_1, unit_2, unit_3)
    rnn = keras.layers.RNN(cell)
    input_1 = keras.Input((None, i1))
    input_2 = keras.Input((None, i2, i3))
    outputs = rnn((input_1, input_2))
    model = keras.models.Model([input_1, input_2], outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["accuracy"])

    input_1_data = np.random.random((batch_size * num_batches, timestep, i1))
    input_2_data = np.random.random((batch_size * num_batches, timestep, i2, i3))
    target_1_data = np.random.random((batch_size * num_batches, unit_1))
    target_2_data = np.random.random((batch_size * num_batches, unit_2, unit_3))
    input_data = [input_1_data, input_2_data]
    target_data = [target_1_data, target_2_data]

    history = model.fit(input_data, target_data, batch_size=batch_size, verbose=0)
    assert [tuple(t.shape) for t in model.outputs] == [
        (None, unit_1),
        (None, unit_2, unit_3),
    ]
    assert np.isfinite(history.history["loss"]).all()
