"""Tests for plait.layers.serialization: the registry and layer (de)serialization."""

import numpy as np
import pytest
import torch

import plait
import plait as keras
from plait import layers as L
from plait.layers.serialization import resolve_class
from plait.saving import (
    custom_object_scope,
    deserialize_layer,
    get_registered_name,
    get_registered_object,
    register_serializable,
    serialize_layer,
)


def test_every_exported_layer_resolves():
    for name in dir(L):
        obj = getattr(L, name)
        if isinstance(obj, type) and issubclass(obj, L.Layer) and obj is not L.Layer:
            assert resolve_class(name) is obj


def test_new_exported_layer_registers_without_edits(monkeypatch):
    class Brand(L.Layer):
        pass

    monkeypatch.setattr(L, "Brand", Brand, raising=False)
    assert resolve_class("Brand") is Brand


def test_models_resolve():
    assert resolve_class("Functional") is plait.models.Functional
    assert resolve_class("Model") is plait.models.Functional
    assert resolve_class("Sequential") is plait.models.Sequential


def test_register_function_and_class():
    @register_serializable(package="pkg", name="twice")
    def double(x):
        return 2 * x

    @register_serializable()
    class Thing(L.Layer):
        pass

    class SubThing(Thing):  # not registered itself
        pass

    assert double._plait_registered_name == "pkg>twice"
    assert get_registered_object("pkg>twice") is double
    assert get_registered_name(Thing) == "Custom>Thing"
    assert get_registered_name(SubThing) == "SubThing"
    assert serialize_layer(Thing(name="t"))["registered_name"] == "Custom>Thing"
    assert "registered_name" not in serialize_layer(SubThing(name="s"))
    assert plait.activations.serialize(double) == "pkg>twice"


def test_register_rejects_bad_names():
    with pytest.raises(ValueError, match="may not contain '>'"):
        register_serializable(package="a>b")
    with pytest.raises(ValueError, match="lambda has no name"):
        register_serializable()(lambda x: x)
    with pytest.raises(TypeError, match="class or a function"):
        register_serializable()(3)


def test_custom_objects_take_precedence_and_scope():
    class Mine(L.Layer):
        def __init__(self, units=1, **kwargs):
            super().__init__(**kwargs)

    entry = {"class_name": "Dense", "config": {"units": 2}}
    assert type(deserialize_layer(entry, {"Dense": Mine})) is Mine
    with custom_object_scope({"Mine": Mine}):
        assert type(deserialize_layer({"class_name": "Mine", "config": {}})) is Mine
    with pytest.raises(ValueError, match="unknown layer class 'Mine'"):
        deserialize_layer({"class_name": "Mine", "config": {}})


def test_bare_custom_object_name_matches_registered_name():
    def act(x):
        return x + 1

    layer = deserialize_layer(
        {"class_name": "Dense", "config": {"units": 2, "activation": "pkg>act"}},
        {"act": act},
    )
    assert layer.activation is act


def test_custom_object_must_be_a_layer():
    with pytest.raises(ValueError, match="not a plait Layer subclass"):
        deserialize_layer({"class_name": "X", "config": {}}, {"X": print})


def test_deserialize_wraps_constructor_errors():
    with pytest.raises(ValueError, match=r"Dense layer 'd': cannot rebuild it"):
        deserialize_layer({"class_name": "Dense", "config": {"name": "d", "oops": 1}})
    with pytest.raises(ValueError, match="unknown keys"):
        deserialize_layer({"class_name": "Dense", "config": {}, "extra": 1})


def test_serialize_names_non_json_values():
    class Bad(L.Layer):
        def get_config(self):
            return {**super().get_config(), "weights": torch.zeros(2)}

    with pytest.raises(ValueError, match=r"holds a Tensor at 'weights'"):
        serialize_layer(Bad(name="bad"))


def test_operator_roundtrip():
    x = plait.Input(shape=(3,))
    y = x[:, None, 1:]
    layer = y._history.layer
    again = deserialize_layer(serialize_layer(layer))
    assert again.get_config() == layer.get_config()


# ---------------------------------------------------------------- Keras's names
# Ported from Keras's "Save, serialize, and export models" guide, imports changed.


@keras.saving.register_keras_serializable(package="MyLayers")
class FactorLayer(keras.layers.Layer):
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


def get_model():
    inputs = keras.Input(shape=(4,))
    mid = FactorLayer(0.5)(inputs)
    outputs = keras.layers.Dense(1, activation=custom_fn)(mid)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="rmsprop", loss="mean_squared_error")
    return model


def test_registered_objects_save_load_and_clone(tmp_path):
    model = get_model()
    x = np.random.default_rng(0).random((8, 4)).astype("float32")
    model.fit(x, x[:, :1], verbose=0)
    model.save(tmp_path / "custom_model.plait")
    reconstructed_model = keras.models.load_model(tmp_path / "custom_model.plait")
    np.testing.assert_allclose(
        model.predict(x, verbose=0), reconstructed_model.predict(x, verbose=0)
    )
    cloned = keras.models.clone_model(model)
    assert cloned.layers[-1].activation is custom_fn
    assert keras.saving.get_custom_objects()["my_package>custom_fn"] is custom_fn
    assert keras.saving.get_custom_objects()["MyLayers>FactorLayer"] is FactorLayer


@keras.saving.register_keras_serializable(package="ComplexModels")
class SublayerLayer(keras.layers.Layer):
    def __init__(self, sublayer, **kwargs):
        super().__init__(**kwargs)
        self.sublayer = sublayer

    def call(self, x):
        return self.sublayer(x)

    def get_config(self):
        base_config = super().get_config()
        config = {
            "sublayer": keras.saving.serialize_keras_object(self.sublayer),
        }
        return {**base_config, **config}

    @classmethod
    def from_config(cls, config):
        sublayer_config = config.pop("sublayer")
        sublayer = keras.saving.deserialize_keras_object(sublayer_config)
        return cls(sublayer, **config)


@keras.saving.register_keras_serializable(package="ComplexModels")
class PlainSublayerLayer(SublayerLayer):
    """Returns its sublayer itself from get_config (Keras serializes it)."""

    def get_config(self):
        return {**keras.layers.Layer.get_config(self), "sublayer": self.sublayer}

    from_config = classmethod(keras.layers.Layer.from_config.__func__)


@pytest.mark.parametrize("cls", [SublayerLayer, PlainSublayerLayer])
def test_a_sublayer_in_get_config_is_serialized_and_rebuilt(cls, tmp_path):
    inputs = keras.Input(shape=(4,))
    outputs = cls(keras.layers.Dense(3, activation="relu", name="inner"))(inputs)
    model = keras.Model(inputs, outputs)
    entry = serialize_layer(model.layers[-1])
    assert entry["config"]["sublayer"]["class_name"] == "Dense"
    model.save(tmp_path / "m.plait")
    loaded = keras.models.load_model(tmp_path / "m.plait")
    rebuilt = loaded.layers[-1]
    assert isinstance(rebuilt, cls)
    assert isinstance(rebuilt.sublayer, keras.layers.Dense)
    assert rebuilt.sublayer.name == "inner"
    x = np.random.default_rng(0).random((2, 4)).astype("float32")
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0)
    )


def test_layers_serialize_and_deserialize():
    layer = keras.layers.Dense(3, activation="relu")
    serialized_layer = keras.layers.serialize(layer)
    new_layer = keras.layers.deserialize(serialized_layer)
    assert type(new_layer) is keras.layers.Dense
    assert new_layer.get_config() == layer.get_config()


@pytest.mark.parametrize(
    "obj",
    [
        keras.losses.MeanSquaredError(),
        keras.metrics.Mean(name="m"),
        keras.optimizers.Adam(learning_rate=1e-3),
        keras.initializers.GlorotUniform(seed=1),
        keras.regularizers.L2(0.1),
    ],
    ids=lambda o: type(o).__name__,
)
def test_serialize_keras_object_round_trips_plait_objects(obj):
    entry = keras.saving.serialize_keras_object(obj)
    assert entry["class_name"] == type(obj).__name__
    again = keras.saving.deserialize_keras_object(entry)
    assert type(again) is type(obj)
    assert again.get_config() == obj.get_config()


def test_serialize_keras_object_functions_and_errors():
    entry = keras.saving.serialize_keras_object(custom_fn)
    assert entry == {"class_name": "function", "config": "my_package>custom_fn"}
    assert keras.saving.deserialize_keras_object(entry) is custom_fn
    relu = keras.saving.serialize_keras_object(keras.activations.relu)
    assert keras.saving.deserialize_keras_object(relu) is keras.activations.relu
    with pytest.raises(ValueError, match="unknown function 'nope'"):
        keras.saving.deserialize_keras_object(
            {"class_name": "function", "config": "nope"}
        )
    with pytest.raises(TypeError, match="serialize_keras_object: expected JSON data"):
        keras.saving.serialize_keras_object(object())
    with pytest.raises(ValueError, match="unknown layer class 'Nope'"):
        keras.saving.deserialize_keras_object({"class_name": "Nope", "config": {}})


def test_get_custom_objects_update_makes_a_name_known():
    def cube(x):
        return x**3

    keras.saving.get_custom_objects().update({"cube": cube})
    try:
        layer = deserialize_layer(
            {"class_name": "Dense", "config": {"units": 2, "activation": "cube"}}
        )
        assert layer.activation is cube
    finally:
        del keras.saving.get_custom_objects()["cube"]
