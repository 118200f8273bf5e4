"""Tests for plait.models.config: a functional graph as JSON data and back."""

import json

import numpy as np
import pytest

import plait
from plait import layers as L
from plait.models import Functional, Model, Sequential


def test_config_format_is_keras_like():
    x = L.Input(shape=(3,), name="x")
    d = L.Dense(2, name="d")
    model = Model(x, d(x), name="m")
    config = model.get_config()
    assert config["name"] == "m"
    assert config["input_layers"] == ["x", 0, 0]
    assert config["output_layers"] == ["d", 0, 0]
    entry = config["layers"][1]
    assert entry["class_name"] == "Dense"
    assert entry["name"] == "d"
    assert entry["inbound_nodes"] == [
        {"args": [{"__tensor__": ["x", 0, 0]}], "kwargs": {}}
    ]
    json.dumps(config)


def test_node_indices_relative_to_model():
    d = L.Dense(3, name="d")
    a = L.Input(shape=(3,), name="a")
    Model(a, d(a))  # node 0 of d belongs to another model
    b = L.Input(shape=(3,), name="b")
    model = Model(b, d(d(b)))
    nodes = model.get_config()["layers"][1]["inbound_nodes"]
    assert [n["args"][0]["__tensor__"] for n in nodes] == [["b", 0, 0], ["d", 0, 0]]
    again = Functional.from_config(model.get_config())
    data = np.ones((2, 3), "float32")
    again.set_weights(model.get_weights())
    np.testing.assert_array_equal(
        again.predict(data, verbose=0), model.predict(data, verbose=0)
    )


def test_from_config_fresh_weights():
    x = L.Input(shape=(4,))
    model = Model(x, L.Dense(4)(x))
    again = Model.from_config(model.get_config())
    assert isinstance(again, Functional)
    assert again.layers[1] is not model.layers[1]
    assert not np.array_equal(again.get_weights()[0], model.get_weights()[0])


def test_call_kwargs_and_tuples_round_trip():
    x = L.Input(shape=(4,))
    y = L.Concatenate(axis=-1)(inputs=(x, x))
    model = Model(x, y)
    config = model.get_config()
    node = config["layers"][1]["inbound_nodes"][0]
    assert "__tuple__" in json.dumps(node)
    again = Functional.from_config(config)
    assert again.output_shape == (None, 8)


def test_cut_graph_inputs_become_input_layers():
    x = L.Input(shape=(3,))
    mid = L.Dense(4, name="mid")(x)
    model = Model(mid, L.Dense(2, name="top")(mid))
    config = model.get_config()
    assert config["layers"][0]["class_name"] == "InputLayer"
    again = Functional.from_config(config)
    assert again.input_shape == (None, 4)
    assert again.output_shape == (None, 2)


def test_sequential_config():
    model = Sequential([L.Input(shape=(5,), name="i"), L.Dense(2, name="d")], name="s")
    config = model.get_config()
    assert [e["class_name"] for e in config["layers"]] == ["InputLayer", "Dense"]
    again = Sequential.from_config(config)
    assert isinstance(again, Sequential)
    assert again.output_shape == (None, 2)


def test_malformed_graph_configs():
    x = L.Input(shape=(3,), name="x")
    config = Model(x, L.Dense(2, name="d")(x)).get_config()
    bad = json.loads(json.dumps(config))
    bad["layers"][1]["inbound_nodes"][0]["args"][0]["__tensor__"] = ["nowhere", 0, 0]
    with pytest.raises(ValueError, match="layer 'nowhere'"):
        Functional.from_config(bad)
    bad = json.loads(json.dumps(config))
    bad["layers"][1]["inbound_nodes"][0]["args"][0]["__tensor__"] = ["d", 0, 0]
    with pytest.raises(ValueError, match="wait on each other"):
        Functional.from_config(bad)
    bad = json.loads(json.dumps(config))
    bad["output_layers"] = ["d", 0, 7]
    with pytest.raises(ValueError, match="no layer call"):
        Functional.from_config(bad)
    bad = json.loads(json.dumps(config))
    del bad["input_layers"]
    with pytest.raises(ValueError, match="'input_layers'"):
        Functional.from_config(bad)


def test_unsaveable_call_argument():
    x = L.Input(shape=(3,))
    model = Model(x, L.Lambda(plait.activations.relu)(x))
    with pytest.raises(ValueError, match="register_serializable"):
        model.get_config()
