"""The Keras 3 guide "Save, serialize, and export models", section by section,
with the imports changed (`import plait as keras`, `from plait import ops`).

Files go to pytest's tmp_path instead of the working directory. Each test
registers what it needs and removes it again, so the registry stays clean.
"""

import json

import numpy as np
import pytest

import plait as keras
from plait import ops

pytestmark = pytest.mark.usefixtures("clean_registry")


def get_model():
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(), loss="mean_squared_error")
    return model


def test_how_to_save_and_load_a_model(tmp_path):
    model = get_model()
    test_input = np.random.random((128, 32))
    test_target = np.random.random((128, 1))
    model.fit(test_input, test_target, verbose=0)
    model.save(tmp_path / "my_model.keras")
    reconstructed_model = keras.models.load_model(tmp_path / "my_model.keras")
    np.testing.assert_allclose(
        model.predict(test_input, verbose=0),
        reconstructed_model.predict(test_input, verbose=0),
    )
    # Compiled, with the optimizer's state: training resumes as it would have.
    assert reconstructed_model.optimizer.iterations == model.optimizer.iterations
    reconstructed_model.fit(test_input, test_target, verbose=0, shuffle=False)
    model.fit(test_input, test_target, verbose=0, shuffle=False)
    np.testing.assert_allclose(
        model.predict(test_input, verbose=0),
        reconstructed_model.predict(test_input, verbose=0),
        rtol=1e-5,
    )


def test_saving_and_loading_with_the_function_apis(tmp_path):
    model = get_model()
    keras.saving.save_model(model, tmp_path / "my_model.keras")
    loaded = keras.saving.load_model(tmp_path / "my_model.keras")
    x = np.random.random((4, 32))
    np.testing.assert_allclose(
        model.predict(x, verbose=0), loaded.predict(x, verbose=0)
    )


def _custom_objects():
    """The guide's registered custom layer and function (registered anew)."""

    @keras.saving.register_keras_serializable(package="MyLayers")
    class CustomLayer(keras.layers.Layer):
        def __init__(self, factor):
            super().__init__()
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {"factor": self.factor}

    @keras.saving.register_keras_serializable(package="my_package", name="custom_fn")
    def custom_fn(x):
        return x**2

    return CustomLayer, custom_fn


def _custom_model(CustomLayer, custom_fn):
    inputs = keras.Input(shape=(4,))
    mid = CustomLayer(0.5)(inputs)
    outputs = keras.layers.Dense(1, activation=custom_fn)(mid)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="rmsprop", loss="mean_squared_error")
    return model


def train_model(model):
    input = np.random.random((4, 4))  # noqa: A001 (the guide's name)
    target = np.random.random((4, 1))
    model.fit(input, target, verbose=0)
    return model


def test_registering_custom_objects_preferred(tmp_path):
    keras.saving.get_custom_objects().clear()
    CustomLayer, custom_fn = _custom_objects()
    assert "MyLayers>CustomLayer" in keras.saving.get_custom_objects()
    assert "my_package>custom_fn" in keras.saving.get_custom_objects()
    test_input = np.random.random((4, 4))
    model = train_model(_custom_model(CustomLayer, custom_fn))
    model.save(tmp_path / "custom_model.keras")
    reconstructed_model = keras.models.load_model(tmp_path / "custom_model.keras")
    np.testing.assert_allclose(
        model.predict(test_input, verbose=0),
        reconstructed_model.predict(test_input, verbose=0),
    )


def test_passing_custom_objects_to_load_model_and_a_custom_object_scope(tmp_path):
    CustomLayer, custom_fn = _custom_objects()
    model = train_model(_custom_model(CustomLayer, custom_fn))
    model.save(tmp_path / "custom_model.keras")
    keras.saving.get_custom_objects().clear()
    test_input = np.random.random((4, 4))
    expected = model.predict(test_input, verbose=0)
    reconstructed_model = keras.models.load_model(
        tmp_path / "custom_model.keras",
        custom_objects={"CustomLayer": CustomLayer, "custom_fn": custom_fn},
    )
    np.testing.assert_allclose(
        reconstructed_model.predict(test_input, verbose=0), expected
    )
    with keras.saving.custom_object_scope(
        {"CustomLayer": CustomLayer, "custom_fn": custom_fn}
    ):
        reconstructed_model = keras.models.load_model(tmp_path / "custom_model.keras")
    np.testing.assert_allclose(
        reconstructed_model.predict(test_input, verbose=0), expected
    )


def test_model_serialization_config_only():
    layer = keras.layers.Dense(3, activation="relu")
    layer_config = layer.get_config()
    new_layer = keras.layers.Dense.from_config(layer_config)
    assert new_layer.get_config() == layer_config

    model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(1)])
    config = model.get_config()
    new_model = keras.Sequential.from_config(config)
    assert [w.shape for w in new_model.weights] == [(32, 1), (1,)]

    inputs = keras.Input((32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = keras.Model(inputs, outputs)
    config = model.get_config()
    new_model = keras.Model.from_config(config)
    assert new_model.get_config()["layers"] == config["layers"]

    model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(1)])
    json_config = model.to_json()
    new_model = keras.models.model_from_json(json_config)
    assert json.loads(new_model.to_json()) == json.loads(json_config)

    my_reg = keras.regularizers.L1(0.005)
    config = keras.saving.serialize_keras_object(my_reg)
    new_reg = keras.saving.deserialize_keras_object(config)
    assert isinstance(new_reg, keras.regularizers.L1)
    assert new_reg.get_config() == my_reg.get_config()


def create_layer():
    layer = keras.layers.Dense(64, activation="relu", name="dense_2")
    layer.build((None, 784))
    return layer


def _functional_model(dropout=False):
    inputs = keras.Input(shape=(784,), name="digits")
    x = keras.layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = keras.layers.Dense(64, activation="relu", name="dense_2")(x)
    if dropout:
        x = keras.layers.Dropout(0.5)(x)
    outputs = keras.layers.Dense(10, name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="3_layer_mlp")


class SubclassedModel(keras.Model):
    def __init__(self, output_dim, name=None):
        super().__init__(name=name)
        self.output_dim = output_dim
        self.dense_1 = keras.layers.Dense(64, activation="relu", name="dense_1")
        self.dense_2 = keras.layers.Dense(64, activation="relu", name="dense_2")
        self.dense_3 = keras.layers.Dense(output_dim, name="predictions")

    def call(self, inputs):
        x = self.dense_1(inputs)
        x = self.dense_2(x)
        x = self.dense_3(x)
        return x

    def get_config(self):
        return {"output_dim": self.output_dim, "name": self.name}


def test_model_weights_saving_in_memory():
    layer_1 = create_layer()
    layer_2 = create_layer()
    layer_2.set_weights(layer_1.get_weights())
    for a, b in zip(layer_1.get_weights(), layer_2.get_weights()):
        np.testing.assert_array_equal(a, b)

    functional_model = _functional_model()
    subclassed_model = SubclassedModel(10)
    subclassed_model(np.ones((1, 784)))
    subclassed_model.set_weights(functional_model.get_weights())
    assert len(functional_model.weights) == len(subclassed_model.weights)
    for a, b in zip(functional_model.weights, subclassed_model.weights):
        np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b))

    # The case of stateless layers: a Dropout adds no weights.
    functional_model_with_dropout = _functional_model(dropout=True)
    functional_model_with_dropout.set_weights(functional_model.get_weights())
    x = np.random.random((2, 784))
    np.testing.assert_allclose(
        functional_model_with_dropout.predict(x, verbose=0),
        functional_model.predict(x, verbose=0),
        rtol=1e-6,
    )


def test_apis_for_saving_weights_to_disk_and_loading_them_back(tmp_path, capsys):
    sequential_model = keras.Sequential(
        [
            keras.Input(shape=(784,), name="digits"),
            keras.layers.Dense(64, activation="relu", name="dense_1"),
            keras.layers.Dense(64, activation="relu", name="dense_2"),
            keras.layers.Dense(10, name="predictions"),
        ]
    )
    path = tmp_path / "my_model.weights.h5"
    sequential_model.save_weights(path)
    sequential_model.load_weights(path)

    functional_model = _functional_model()
    functional_model.save_weights(tmp_path / "pretrained.weights.h5")
    pretrained_model = _functional_model()
    pretrained_model.load_weights(tmp_path / "pretrained.weights.h5")
    for a, b in zip(functional_model.get_weights(), pretrained_model.get_weights()):
        np.testing.assert_array_equal(a, b)
    extracted_layers = pretrained_model.layers[:-1]
    extracted_layers.append(keras.layers.Dense(5, name="dense_3"))
    model = keras.Sequential(extracted_layers)
    model.summary()
    assert "dense_3" in capsys.readouterr().out
    assert tuple(model.output_shape) == (None, 5)
    assert model.layers[0] is pretrained_model.layers[1]


def test_appendix_handling_custom_objects():
    @keras.saving.register_keras_serializable(package="MyLayers", name="KernelMult")
    class MyDense(keras.layers.Layer):
        def __init__(
            self,
            units,
            *,
            kernel_regularizer=None,
            kernel_initializer=None,
            nested_model=None,
            **kwargs,
        ):
            super().__init__(**kwargs)
            self.hidden_units = units
            self.kernel_regularizer = kernel_regularizer
            self.kernel_initializer = kernel_initializer
            self.nested_model = nested_model

        def get_config(self):
            config = super().get_config()
            config.update(
                {
                    "units": self.hidden_units,
                    "kernel_regularizer": self.kernel_regularizer,
                    "kernel_initializer": self.kernel_initializer,
                    "nested_model": self.nested_model,
                }
            )
            return config

        def build(self, input_shape):
            input_units = input_shape[-1]
            self.kernel = self.add_weight(
                name="kernel",
                shape=(input_units, self.hidden_units),
                regularizer=self.kernel_regularizer,
                initializer=self.kernel_initializer,
            )

        def call(self, inputs):
            return ops.matmul(inputs, self.kernel)

    layer = MyDense(units=16, kernel_regularizer="l1", kernel_initializer="ones")
    layer3 = MyDense(units=64, nested_model=layer)
    config = keras.layers.serialize(layer3)
    assert config["registered_name"] == "MyLayers>KernelMult"
    new_layer = keras.layers.deserialize(config)
    assert isinstance(new_layer, MyDense)
    assert new_layer.hidden_units == 64
    assert isinstance(new_layer.nested_model, MyDense)
    assert new_layer.nested_model.hidden_units == 16

    @keras.saving.register_keras_serializable(package="ComplexModels")
    class CustomModel(keras.layers.Layer):
        def __init__(self, first_layer, second_layer=None, **kwargs):
            super().__init__(**kwargs)
            self.first_layer = first_layer
            if second_layer is not None:
                self.second_layer = second_layer
            else:
                self.second_layer = keras.layers.Dense(8)

        def get_config(self):
            config = super().get_config()
            config.update(
                {
                    "first_layer": self.first_layer,
                    "second_layer": self.second_layer,
                }
            )
            return config

        @classmethod
        def from_config(cls, config):
            config["first_layer"] = keras.layers.deserialize(config["first_layer"])
            config["second_layer"] = keras.layers.deserialize(config["second_layer"])
            return cls(**config)

        def call(self, inputs):
            return self.first_layer(self.second_layer(inputs))

    inputs = keras.Input((32,))
    outputs = CustomModel(first_layer=layer)(inputs)
    model = keras.Model(inputs, outputs)
    config = model.get_config()
    new_model = keras.Model.from_config(config)
    assert tuple(new_model.output_shape) == (None, 16)
    x = np.random.random((2, 32))
    assert new_model.predict(x, verbose=0).shape == (2, 16)
