"""Tests for plait.models.clone_model."""

import numpy as np
import pytest

from plait import layers as L
from plait.models import Model, Sequential, clone_model


def _model():
    a, b = L.Input(shape=(3,), name="a"), L.Input(shape=(2,), name="b")
    shared = L.Dense(3, name="shared")
    h = L.concatenate([shared(a), shared(shared(a)), b])
    return Model({"a": a, "b": b}, {"out": L.Dense(1, name="out")(h)})


def test_clone_same_graph_fresh_weights():
    model = _model()
    twin = clone_model(model)
    assert [la.name for la in twin.layers] == [la.name for la in model.layers]
    assert twin.get_layer("shared") is not model.get_layer("shared")
    assert len(twin.get_layer("shared").inbound_nodes) == 3
    assert not np.array_equal(twin.get_weights()[0], model.get_weights()[0])
    twin.set_weights(model.get_weights())
    data = {"a": np.ones((2, 3), "float32"), "b": np.ones((2, 2), "float32")}
    np.testing.assert_array_equal(
        twin.predict(data, verbose=0)["out"], model.predict(data, verbose=0)["out"]
    )


def test_clone_with_input_tensors_and_clone_function():
    model = _model()
    a, b = L.Input(shape=(3,)), L.Input(shape=(2,))
    seen = []

    def keep_shared(layer):
        seen.append(layer.name)
        if layer.name == "shared":
            return layer
        return layer.__class__.from_config(layer.get_config())

    twin = clone_model(
        model, input_tensors={"a": a, "b": b}, clone_function=keep_shared
    )
    assert twin.inputs == [a, b]
    assert twin.get_layer("shared") is model.get_layer("shared")
    assert "shared" in seen
    assert "a" not in seen
    with pytest.raises(ValueError, match="lacks inputs"):
        clone_model(model, input_tensors={"a": a})


def test_clone_sequential_and_lambda():
    model = Sequential([L.Input(shape=(4,)), L.Lambda(lambda t: t * 2), L.Dense(2)])
    twin = clone_model(model)
    assert isinstance(twin, Sequential)
    assert twin.output_shape == (None, 2)
    x = L.Input(shape=(4,))
    assert clone_model(model, input_tensors=x).inputs == [x]


def test_clone_nested_model_recursive():
    inner_in = L.Input(shape=(3,))
    inner = Model(inner_in, L.Dense(3, name="deep")(inner_in), name="inner")
    x = L.Input(shape=(3,))
    outer = Model(x, inner(x))
    twin = clone_model(outer, clone_function=lambda la: la, recursive=True)
    assert twin.get_layer("inner") is not inner
    assert twin.get_layer("inner").get_layer("deep") is inner.get_layer("deep")


def test_clone_rejects_subclassed_models():
    class Net(Model):
        def call(self, inputs):
            return inputs

    with pytest.raises(ValueError, match="subclassed"):
        clone_model(Net())
