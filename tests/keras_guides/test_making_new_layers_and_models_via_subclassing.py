"""The Keras 3 guide "Making new layers and models via subclassing", section by
section, with the imports changed (`import plait as keras`,
`from plait import layers, ops`).

Data: MNIST is random arrays of the same shapes (no download), fewer of them.
The guide's layers that other test modules port too are imported from them
(tests/layers/test_variables.py, tests/training/test_add_loss.py).
"""

import numpy as np
import pytest
import torch

import plait as keras
from plait import layers, ops
from tests.guides import mnist_like
from tests.layers.test_variables import ComputeSum, LazyLinear, Linear
from tests.training.test_add_loss import (
    ActivityRegularizationLayer,
    OuterLayer,
    OuterLayerWithKernelRegularizer,
    Sampling,
    VariationalAutoEncoder,
)


def test_the_layer_class():
    x = ops.ones((2, 2))
    linear_layer = Linear(4, 2)
    y = linear_layer(x)
    assert tuple(y.shape) == (2, 4)
    assert linear_layer.weights == [linear_layer.w, linear_layer.b]
    np.testing.assert_allclose(
        ops.convert_to_numpy(y),
        np.ones((2, 2)) @ ops.convert_to_numpy(linear_layer.w),
        rtol=1e-6,
    )


def test_layers_can_have_non_trainable_weights():
    x = ops.ones((2, 2))
    my_sum = ComputeSum(2)
    y = my_sum(x)
    np.testing.assert_array_equal(ops.convert_to_numpy(y), [2.0, 2.0])
    y = my_sum(x)
    np.testing.assert_array_equal(ops.convert_to_numpy(y), [4.0, 4.0])
    assert len(my_sum.weights) == 1
    assert len(my_sum.non_trainable_weights) == 1
    assert my_sum.trainable_weights == []


def test_deferring_weight_creation_until_the_shape_of_the_inputs_is_known():
    linear_layer = LazyLinear(32)
    assert linear_layer.weights == []
    y = linear_layer(ops.ones((2, 2)))
    assert tuple(y.shape) == (2, 32)
    assert [tuple(w.shape) for w in linear_layer.weights] == [(2, 32), (32,)]


class MLPBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = LazyLinear(32)
        self.linear_2 = LazyLinear(32)
        self.linear_3 = LazyLinear(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = keras.activations.relu(x)
        x = self.linear_2(x)
        x = keras.activations.relu(x)
        return self.linear_3(x)


def test_layers_are_recursively_composable():
    mlp = MLPBlock()
    y = mlp(ops.ones(shape=(3, 64)))
    assert tuple(y.shape) == (3, 1)
    assert len(mlp.weights) == 6
    assert len(mlp.trainable_weights) == 6


class TorchLinear(keras.layers.Layer):
    """A backend-specific layer: torch calls instead of `ops`."""

    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="random_normal"
        )
        self.b = self.add_weight(shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        return torch.matmul(inputs, self.w) + self.b


def test_backend_agnostic_layers_and_backend_specific_layers():
    inputs = keras.Input(shape=(4,))
    outputs = TorchLinear(3)(LazyLinear(8)(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    x, y = np.random.random((8, 4)), np.random.random((8, 3))
    history = model.fit(x, y, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_the_add_loss_method():
    layer = OuterLayer()
    assert len(layer.losses) == 0
    _ = layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1
    _ = layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1

    layer = OuterLayerWithKernelRegularizer()
    _ = layer(ops.zeros((1, 1)))
    expected = 1e-3 * ops.sum(layer.dense.kernel**2)
    np.testing.assert_allclose(
        ops.convert_to_numpy(layer.losses[0]), ops.convert_to_numpy(expected), rtol=1e-6
    )

    inputs = keras.Input(shape=(3,))
    outputs = ActivityRegularizationLayer()(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    x, y = np.random.random((2, 3)), np.random.random((2, 3))
    # The logged loss is the mse plus the activity term, both of the inputs.
    loss = model.evaluate(x, y, verbose=0)
    assert loss == pytest.approx(np.mean((x - y) ** 2) + 1e-2 * np.mean(x), rel=1e-6)
    # The model has no weights: Keras (torch) warns at each step, so does plait.
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        model.fit(x, y, verbose=0)
    model.compile(optimizer="adam")
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        history = model.fit(x, y, verbose=0)
    assert history.history["loss"][0] == pytest.approx(1e-2 * np.mean(x), rel=1e-6)


class SerializableLinear(LazyLinear):
    """The guide's last `Linear`: `build` and `call` as above, and `**kwargs`
    (name, dtype, ...) passed on and kept in the config."""

    def __init__(self, units=32, **kwargs):
        keras.layers.Layer.__init__(self, **kwargs)
        self.units = units

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


class UnitsOnlyLinear(LazyLinear):
    def get_config(self):
        return {"units": self.units}


def test_you_can_optionally_enable_serialization_on_your_layers():
    layer = UnitsOnlyLinear(64)
    config = layer.get_config()
    assert config == {"units": 64}
    new_layer = UnitsOnlyLinear.from_config(config)
    assert new_layer.units == 64

    layer = SerializableLinear(64)
    config = layer.get_config()
    assert config["units"] == 64
    assert config["name"] == layer.name
    assert config["trainable"] is True
    new_layer = SerializableLinear.from_config(config)
    assert new_layer.name == layer.name
    assert new_layer.units == 64


class CustomDropout(keras.layers.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs, training=None):
        if training:
            return keras.random.dropout(
                inputs, rate=self.rate, seed=self.seed_generator
            )
        return inputs


def test_privileged_training_argument_in_the_call_method():
    inputs = keras.Input(shape=(100,))
    outputs = CustomDropout(0.5)(inputs)
    model = keras.Model(inputs, outputs)
    x = np.ones((4, 100), "float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    dropped = ops.convert_to_numpy(model(x, training=True))
    assert set(np.unique(dropped)) == {0.0, 2.0}
    # fit() calls the layer with training=True: seen through a custom loss.
    seen = []

    def loss(y_true, y_pred):
        seen.append(bool((y_pred == 0).any()))
        return ops.mean(ops.square(y_true - y_pred))

    model.compile(optimizer="sgd", loss=loss)
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        model.fit(x, x, verbose=0)
    model.evaluate(x, x, verbose=0)
    assert seen == [True, False]


class MaskedSum(keras.layers.Layer):
    def call(self, inputs, mask=None):
        mask = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        return ops.sum(inputs * mask, axis=1)


def test_privileged_mask_argument_in_the_call_method():
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(10, 4, mask_zero=True)(inputs)
    outputs = MaskedSum()(x)
    model = keras.Model(inputs, outputs)
    ids = np.array([[1, 2, 0, 0]])
    np.testing.assert_allclose(
        model.predict(ids, verbose=0), model.predict(ids[:, :2], verbose=0), rtol=1e-6
    )


class ResNetBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.conv = layers.Conv2D(4, 3, padding="same", activation="relu")

    def call(self, inputs):
        return inputs + self.conv(inputs)


class ResNet(keras.Model):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.block_1 = ResNetBlock()
        self.block_2 = ResNetBlock()
        self.global_pool = layers.GlobalAveragePooling2D()
        self.classifier = layers.Dense(num_classes)

    def call(self, inputs):
        x = self.block_1(inputs)
        x = self.block_2(x)
        x = self.global_pool(x)
        return self.classifier(x)


def test_the_model_class(tmp_path):
    resnet = ResNet(num_classes=10)
    rng = np.random.default_rng(0)
    dataset = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(
            torch.from_numpy(rng.random((8, 8, 8, 4), dtype=np.float32)),
            torch.from_numpy(rng.integers(0, 10, 8)),
        ),
        batch_size=4,
    )
    resnet.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    resnet.fit(dataset, epochs=2, verbose=0)
    x = next(iter(dataset))[0]
    before = resnet.predict(x, verbose=0)
    path = str(tmp_path / "resnet.weights.h5")
    resnet.save_weights(path)
    twin = ResNet(num_classes=10)
    twin(x)
    twin.load_weights(path)
    np.testing.assert_allclose(twin.predict(x, verbose=0), before, rtol=1e-6)


def test_putting_it_all_together_an_end_to_end_example():
    x_train, _ = mnist_like(128)
    vae = VariationalAutoEncoder(784, 64, 32)
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    vae.compile(optimizer, loss=keras.losses.MeanSquaredError())
    history = vae.fit(x_train, x_train, epochs=2, batch_size=64, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]
    assert len(vae.losses) == 1


def test_beyond_object_oriented_development_the_functional_api():
    # The tf.keras edition of the guide: a functional VAE whose KL term is
    # added with `vae.add_loss(symbolic_tensor)`.
    original_dim = 784
    intermediate_dim = 64
    latent_dim = 32
    original_inputs = keras.Input(shape=(original_dim,), name="encoder_input")
    x = layers.Dense(intermediate_dim, activation="relu")(original_inputs)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling()((z_mean, z_log_var))
    encoder = keras.Model(inputs=original_inputs, outputs=z, name="encoder")
    latent_inputs = keras.Input(shape=(latent_dim,), name="z_sampling")
    x = layers.Dense(intermediate_dim, activation="relu")(latent_inputs)
    outputs = layers.Dense(original_dim, activation="sigmoid")(x)
    decoder = keras.Model(inputs=latent_inputs, outputs=outputs, name="decoder")
    outputs = decoder(z)
    vae = keras.Model(inputs=original_inputs, outputs=outputs, name="vae")
    kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
    vae.add_loss(kl_loss)
    assert encoder.output.shape == (None, latent_dim)

    x_train, _ = mnist_like(128)
    mean, log_var = (keras.Model(original_inputs, t) for t in (z_mean, z_log_var))
    m, lv = (ops.convert_to_numpy(f(x_train[:4])) for f in (mean, log_var))
    vae(x_train[:4])
    assert len(vae.losses) == 1
    expected = -0.5 * np.mean(lv - m**2 - np.exp(lv) + 1)
    np.testing.assert_allclose(ops.convert_to_numpy(vae.losses[0]), expected, rtol=1e-5)
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    vae.compile(optimizer, loss=keras.losses.MeanSquaredError())
    history = vae.fit(x_train, x_train, epochs=3, batch_size=64, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
