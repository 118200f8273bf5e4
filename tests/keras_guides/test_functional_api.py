"""The Keras 3 guide "The Functional API", section by section, with the imports
changed (`import plait as keras`, `from plait import layers, ops`).

Data: MNIST and CIFAR10 are random arrays of the same shapes (no download), and
fewer of them. `plot_model` writes its PNG files where pydot and Graphviz's `dot`
are installed (the calls are skipped elsewhere). VGG19 is built with
`weights=None` (the guide's default downloads the ImageNet weights).
"""

import numpy as np
import pytest
import torch

import plait as keras
from plait import layers, ops
from tests.keras_guides import plot_model as _plot_model
from tests.layers.test_variables import LazyLinear


def _mnist_model():
    inputs = keras.Input(shape=(784,))
    dense = layers.Dense(64, activation="relu")
    x = dense(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")


def _mnist(n):
    """MNIST-shaped random data: uint8 images (n, 28, 28) and labels 0-9."""
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n)


def test_introduction(capsys, tmp_path):
    inputs = keras.Input(shape=(784,))
    img_inputs = keras.Input(shape=(32, 32, 3))
    assert tuple(inputs.shape) == (None, 784)
    assert tuple(img_inputs.shape) == (None, 32, 32, 3)
    assert inputs.dtype == torch.float32  # plait keeps torch dtypes
    dense = layers.Dense(64, activation="relu")
    x = dense(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
    model.summary()
    out = capsys.readouterr().out
    assert "mnist_model" in out
    assert "55,050" in out
    _plot_model(model, tmp_path / "my_first_model.png")
    _plot_model(
        model, tmp_path / "my_first_model_with_shape_info.png", show_shapes=True
    )


def test_training_evaluation_and_inference():
    model = _mnist_model()
    x_train, y_train = _mnist(128)
    x_test, y_test = _mnist(32)
    x_train = x_train.reshape(128, 784).astype("float32") / 255
    x_test = x_test.reshape(32, 784).astype("float32") / 255
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.RMSprop(),
        metrics=["accuracy"],
    )
    history = model.fit(
        x_train, y_train, batch_size=64, epochs=2, validation_split=0.2, verbose=0
    )
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["loss"][1] < history.history["loss"][0]
    test_scores = model.evaluate(x_test, y_test, verbose=2)
    assert len(test_scores) == 2
    assert 0.0 <= test_scores[1] <= 1.0


def test_save_and_serialize(tmp_path):
    model = _mnist_model()
    model.compile(loss="mse", optimizer="rmsprop")
    x = np.random.default_rng(0).random((4, 784), dtype=np.float32)
    before = model.predict(x, verbose=0)
    path = str(tmp_path / "my_model.keras")
    model.save(path)
    del model
    model = keras.models.load_model(path)
    np.testing.assert_allclose(model.predict(x, verbose=0), before, rtol=1e-6)


def _encoder(name):
    encoder_input = keras.Input(shape=(28, 28, 1), name=name)
    x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)
    return encoder_input, encoder_output


def _decode(x):
    x = layers.Reshape((4, 4, 1))(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    return layers.Conv2DTranspose(1, 3, activation="relu")(x)


def test_use_the_same_graph_of_layers_to_define_multiple_models():
    encoder_input, encoder_output = _encoder("img")
    encoder = keras.Model(encoder_input, encoder_output, name="encoder")
    encoder.summary()
    decoder_output = _decode(encoder_output)
    autoencoder = keras.Model(encoder_input, decoder_output, name="autoencoder")
    autoencoder.summary()
    assert tuple(encoder.output.shape) == (None, 16)
    assert tuple(autoencoder.output.shape) == (None, 28, 28, 1)
    # The two models share the encoder's layers (and so its weights).
    assert all(layer in autoencoder.layers for layer in encoder.layers)
    img = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    assert autoencoder.predict(img, verbose=0).shape == (2, 28, 28, 1)


def test_all_models_are_callable_just_like_layers():
    encoder_input, encoder_output = _encoder("original_img")
    encoder = keras.Model(encoder_input, encoder_output, name="encoder")
    decoder_input = keras.Input(shape=(16,), name="encoded_img")
    decoder = keras.Model(decoder_input, _decode(decoder_input), name="decoder")
    autoencoder_input = keras.Input(shape=(28, 28, 1), name="img")
    encoded_img = encoder(autoencoder_input)
    decoded_img = decoder(encoded_img)
    autoencoder = keras.Model(autoencoder_input, decoded_img, name="autoencoder")
    autoencoder.summary()
    img = torch.rand(2, 28, 28, 1)
    np.testing.assert_allclose(
        ops.convert_to_numpy(autoencoder(img)),
        ops.convert_to_numpy(decoder(encoder(img))),
        rtol=1e-6,
    )

    def get_model():
        inputs = keras.Input(shape=(128,))
        outputs = layers.Dense(1)(inputs)
        return keras.Model(inputs, outputs)

    model1 = get_model()
    model2 = get_model()
    model3 = get_model()
    inputs = keras.Input(shape=(128,))
    y1 = model1(inputs)
    y2 = model2(inputs)
    y3 = model3(inputs)
    outputs = layers.average([y1, y2, y3])
    ensemble_model = keras.Model(inputs=inputs, outputs=outputs)
    x = torch.rand(3, 128)
    mean = (model1(x) + model2(x) + model3(x)) / 3
    np.testing.assert_allclose(
        ops.convert_to_numpy(ensemble_model(x)), ops.convert_to_numpy(mean), rtol=1e-5
    )


def test_models_with_multiple_inputs_and_outputs(tmp_path):
    num_tags = 12
    num_words = 10000
    num_departments = 4
    title_input = keras.Input(shape=(None,), name="title")
    body_input = keras.Input(shape=(None,), name="body")
    tags_input = keras.Input(shape=(num_tags,), name="tags")
    title_features = layers.Embedding(num_words, 64)(title_input)
    body_features = layers.Embedding(num_words, 64)(body_input)
    title_features = layers.LSTM(128)(title_features)
    body_features = layers.LSTM(32)(body_features)
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(num_departments, name="department")(x)
    model = keras.Model(
        inputs=[title_input, body_input, tags_input],
        outputs=[priority_pred, department_pred],
    )
    _plot_model(model, tmp_path / "multi_input_and_output_model.png", show_shapes=True)
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[
            keras.losses.BinaryCrossentropy(from_logits=True),
            keras.losses.CategoricalCrossentropy(from_logits=True),
        ],
        loss_weights=[1.0, 0.2],
    )
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "priority": keras.losses.BinaryCrossentropy(from_logits=True),
            "department": keras.losses.CategoricalCrossentropy(from_logits=True),
        },
        loss_weights={"priority": 1.0, "department": 0.2},
    )
    # 64 samples instead of 1280, bodies of 20 words instead of 100.
    title_data = np.random.randint(num_words, size=(64, 10))
    body_data = np.random.randint(num_words, size=(64, 20))
    tags_data = np.random.randint(2, size=(64, num_tags)).astype("float32")
    priority_targets = np.random.random(size=(64, 1))
    dept_targets = np.random.randint(2, size=(64, num_departments))
    history = model.fit(
        {"title": title_data, "body": body_data, "tags": tags_data},
        {"priority": priority_targets, "department": dept_targets},
        epochs=2,
        batch_size=32,
        verbose=0,
    )
    assert {"loss", "priority_loss", "department_loss"} <= set(history.history)
    priority, department = model.predict(
        [title_data[:2], body_data[:2], tags_data[:2]], verbose=0
    )
    assert priority.shape == (2, 1)
    assert department.shape == (2, num_departments)


@pytest.mark.slow
def test_a_toy_resnet_model(tmp_path):
    inputs = keras.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_3_output = layers.add([x, block_2_output])
    x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs, outputs, name="toy_resnet")
    model.summary()
    assert model.count_params() == 223242  # as the guide's summary shows
    _plot_model(model, tmp_path / "mini_resnet.png", show_shapes=True)
    # CIFAR10-shaped random data: uint8 images and (n, 1) labels.
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (80, 32, 32, 3), dtype=np.uint8)
    y_train = rng.integers(0, 10, (80, 1))
    x_train = x_train.astype("float32") / 255.0
    y_train = keras.utils.to_categorical(y_train, 10)
    assert y_train.shape == (80, 10)
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
        metrics=["acc"],
    )
    history = model.fit(
        x_train[:1000],
        y_train[:1000],
        batch_size=64,
        epochs=1,
        validation_split=0.2,
        verbose=0,
    )
    assert set(history.history) == {"loss", "acc", "val_loss", "val_acc"}


def test_shared_layers():
    shared_embedding = layers.Embedding(1000, 128)
    text_input_a = keras.Input(shape=(None,), dtype="int32")
    text_input_b = keras.Input(shape=(None,), dtype="int32")
    encoded_input_a = shared_embedding(text_input_a)
    encoded_input_b = shared_embedding(text_input_b)
    model = keras.Model(
        [text_input_a, text_input_b], [encoded_input_a, encoded_input_b]
    )
    assert len(model.weights) == 1
    a = np.array([[1, 2, 3]])
    out_a, out_b = model.predict([a, a], verbose=0)
    np.testing.assert_array_equal(out_a, out_b)


@pytest.mark.slow  # VGG19: 144M weights, a 224x224 forward pass
def test_extract_and_reuse_nodes_in_the_graph_of_layers():
    vgg19 = keras.applications.VGG19(weights=None)
    features_list = [layer.output for layer in vgg19.layers]
    feat_extraction_model = keras.Model(inputs=vgg19.input, outputs=features_list)
    img = np.random.random((1, 224, 224, 3)).astype("float32")
    extracted_features = feat_extraction_model(img)
    assert len(extracted_features) == len(vgg19.layers) == 26
    assert tuple(extracted_features[0].shape) == (1, 224, 224, 3)  # the input
    assert tuple(extracted_features[1].shape) == (1, 224, 224, 64)  # block1_conv1
    assert tuple(extracted_features[-1].shape) == (1, 1000)  # predictions


class CustomDense(LazyLinear):
    """The guide's `CustomDense` is the subclassing guide's lazy `Linear` (its
    `build` and `call`, shared from that port) with a `get_config`."""

    def get_config(self):
        return {"units": self.units}


def test_extend_the_api_using_custom_layers():
    inputs = keras.Input((4,))
    outputs = CustomDense(10)(inputs)
    model = keras.Model(inputs, outputs)
    assert tuple(model.output.shape) == (None, 10)
    config = model.get_config()
    new_model = keras.Model.from_config(
        config, custom_objects={"CustomDense": CustomDense}
    )
    assert [w.shape for w in new_model.weights] == [(4, 10), (10,)]
    assert new_model(np.ones((2, 4), "float32")).shape == (2, 10)


units = 32
timesteps = 10
input_dim = 5
batch_size = 16


class CustomRNN(layers.Layer):
    def __init__(self, classifier=None):
        super().__init__()
        self.units = units
        self.projection_1 = layers.Dense(units=units, activation="tanh")
        self.projection_2 = layers.Dense(units=units, activation="tanh")
        # The guide's first version takes a functional model, the second a Dense.
        self.classifier = classifier or layers.Dense(1)

    def call(self, inputs):
        outputs = []
        state = ops.zeros(shape=(inputs.shape[0], self.units))
        for t in range(inputs.shape[1]):
            x = inputs[:, t, :]
            h = self.projection_1(x)
            y = h + self.projection_2(state)
            state = y
            outputs.append(y)
        features = ops.stack(outputs, axis=1)
        return self.classifier(features)


def test_mix_and_match_api_styles():
    inputs = keras.Input((None, units))
    x = layers.GlobalAveragePooling1D()(inputs)
    outputs = layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)
    rnn_model = CustomRNN(model)
    out = rnn_model(ops.zeros((1, timesteps, input_dim)))
    assert tuple(out.shape) == (1, 1)

    inputs = keras.Input(batch_shape=(batch_size, timesteps, input_dim))
    x = layers.Conv1D(32, 3)(inputs)
    outputs = CustomRNN()(x)
    model = keras.Model(inputs, outputs)
    assert tuple(model.output.shape) == (batch_size, timesteps - 2, 1)
    rnn_model = CustomRNN()
    _ = rnn_model(ops.zeros((1, 10, 5)))
    assert model(np.zeros((batch_size, 10, 5), "float32")).shape == (16, 8, 1)
