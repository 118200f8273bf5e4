"""Tests for plait.layers.serialization: the registry and layer (de)serialization."""

import pytest
import torch

import plait
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
