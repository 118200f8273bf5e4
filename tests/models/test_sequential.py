"""Sequential: from a list or add(), Input first, input_shape=, pop, deferred build."""

import numpy as np
import pytest
import torch

import plait
from plait.layers import Dense, Dropout, Embedding, Flatten, Input


def _numpy_mlp(model, data):
    """Reference forward of a stack of Dense layers (relu, then linear)."""
    layers = model.layers
    h = data
    for i, layer in enumerate(layers):
        k, b = layer.get_weights()
        h = h @ k + b
        if i < len(layers) - 1:
            h = np.maximum(h, 0)
    return h


def test_sequential_from_list_with_input_shape():
    model = plait.Sequential([Dense(8, activation="relu", input_shape=(4,)), Dense(3)])
    assert model.built
    assert model.input_shape == (None, 4)
    assert model.output_shape == (None, 3)
    assert len(model.layers) == 2
    data = np.random.rand(5, 4).astype(np.float32)
    np.testing.assert_allclose(
        model.predict(data, verbose=0), _numpy_mlp(model, data), rtol=1e-5
    )


def test_sequential_input_dim_and_batch_input_shape():
    assert plait.Sequential([Dense(2, input_dim=3)]).input_shape == (None, 3)
    assert plait.Sequential([Dense(2, batch_input_shape=(5, 3))]).input_shape == (5, 3)


def test_sequential_with_input_first():
    model = plait.Sequential([Input(shape=(4,)), Dense(2)])
    assert model.built
    assert model.output_shape == (None, 2)
    assert [layer.name for layer in model.layers] == [model.layers[0].name]


def test_sequential_add():
    model = plait.Sequential()
    assert not model.built
    model.add(Input(shape=(3,)))
    model.add(Dense(4, activation="relu"))
    model.add(Dense(2))
    assert model.output_shape == (None, 2)
    data = np.random.rand(2, 3).astype(np.float32)
    np.testing.assert_allclose(
        model.predict(data, verbose=0), _numpy_mlp(model, data), rtol=1e-5
    )


def test_sequential_add_rejects_non_layer():
    with pytest.raises(TypeError, match="expected a plait Layer, got int"):
        plait.Sequential().add(3)


def test_sequential_input_must_come_first():
    model = plait.Sequential([Dense(2)])
    with pytest.raises(ValueError, match="only an Input"):
        model.add(Input(shape=(3,)))


def test_sequential_duplicate_layer_name():
    model = plait.Sequential([Dense(2, name="d")])
    with pytest.raises(ValueError, match="a layer named 'd' is already in the model"):
        model.add(Dense(2, name="d"))


def test_sequential_pop():
    model = plait.Sequential([Dense(4, input_shape=(3,)), Dense(2), Dense(1)])
    removed = model.pop()
    assert removed.units == 1
    assert model.output_shape == (None, 2)
    assert len(model.layers) == 2
    assert model.predict(np.ones((2, 3)), verbose=0).shape == (2, 2)
    assert len(model.weights) == 4


def test_sequential_pop_empty():
    with pytest.raises(TypeError, match="no layer to pop"):
        plait.Sequential().pop()


def test_sequential_deferred_build_on_first_call():
    model = plait.Sequential([Dense(4, activation="relu"), Dense(2)])
    assert not model.built
    assert model.weights == []
    with pytest.raises(ValueError, match="not built yet"):
        _ = model.inputs
    out = model(torch.ones(3, 5))
    assert model.built
    assert out.shape == (3, 2)
    assert model.input_shape == (None, 5)
    assert len(model.weights) == 4


def test_sequential_deferred_build_on_predict():
    model = plait.Sequential([Dense(2)])
    out = model.predict(np.ones((3, 6)), verbose=0)
    assert out.shape == (3, 2)
    assert model.layers[0].get_weights()[0].shape == (6, 2)


def test_sequential_deferred_build_on_symbolic_call():
    model = plait.Sequential([Dense(4), Dense(2)])
    x = Input(shape=(3,))
    y = model(x)
    assert y.shape == (None, 2)
    assert plait.Model(x, y).predict(np.ones((1, 3)), verbose=0).shape == (1, 2)


def test_sequential_explicit_build():
    model = plait.Sequential([Dense(2)])
    model.build((None, 7))
    assert model.input_shape == (None, 7)


def test_sequential_add_after_build_extends_graph():
    model = plait.Sequential([Dense(4, input_shape=(3,))])
    first = model.layers[0]
    model.add(Dense(1))
    assert model.output_shape == (None, 1)
    assert len(first.inbound_nodes) == 1  # rebuilding does not pile up nodes


def test_sequential_embedding_first_gets_int_input():
    model = plait.Sequential([Embedding(10, 3, input_length=4), Flatten(), Dense(1)])
    assert model.input_shape == (None, 4)
    assert model.inputs[0].dtype == torch.int32
    assert model.predict(np.array([[1, 2, 3, 4]]), verbose=0).shape == (1, 1)


def test_sequential_nested_in_functional():
    seq = plait.Sequential([Dense(4, activation="relu"), Dense(2)], name="tower")
    x = Input(shape=(3,))
    model = plait.Model(x, Dense(1)(seq(x)))
    assert [layer.name for layer in model.layers][1] == "tower"
    assert len(model.weights) == 6
    assert model.predict(np.ones((2, 3)), verbose=0).shape == (2, 1)


def test_sequential_in_sequential():
    inner = plait.Sequential([Dense(4, input_shape=(3,)), Dense(2)])
    outer = plait.Sequential([inner, Dense(1)])
    assert outer.output_shape == (None, 1)
    assert len(outer.weights) == 6


def test_sequential_input_output_available_once_built():
    model = plait.Sequential([Dense(2, input_shape=(3,))])
    assert model.input.shape == (None, 3)
    assert model.output.shape == (None, 2)
    assert model.layers[0].output is model.output


def test_sequential_dropout_training_only():
    model = plait.Sequential([Dropout(0.5, input_shape=(100,))])
    data = torch.ones(2, 100)
    torch.testing.assert_close(model(data), data)
    assert (model(data, training=True) == 0).any()


def test_sequential_summary_lists_layers():
    model = plait.Sequential(
        [Dense(4, input_shape=(3,), name="hidden"), Dense(2, name="out")]
    )
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "hidden (Dense)" in text
    assert "out (Dense)" in text
    assert "Total params: 26" in text


def test_sequential_unbuilt_attributes_say_not_built():
    model = plait.Sequential([plait.Sequential([Dense(2)]), Dense(1)], name="lazy")
    for attr in ("output_shape", "input_shape", "output", "input"):
        with pytest.raises(
            ValueError, match="Sequential model 'lazy' is not built yet"
        ):
            getattr(model, attr)
    assert model.predict(np.ones((2, 3)), verbose=0).shape == (2, 1)


def test_sequential_built_from_data_takes_other_sequence_lengths():
    """Keras runs a model built from its first batch on longer sequences too."""
    model = plait.Sequential([Embedding(50, 4, mask_zero=True), plait.layers.LSTM(3)])
    short = model(np.array([[1, 2, 3]]))
    padded = model(np.array([[1, 2, 3, 0, 0]]))
    np.testing.assert_allclose(padded.detach(), short.detach(), atol=1e-6)
    assert model.input_shape == (None, None)


def test_sequential_built_from_data_keeps_its_feature_axis():
    model = plait.Sequential([Dense(2)])
    model(np.ones((1, 3), "float32"))
    with pytest.raises(ValueError, match=r"expected shape \(None, 3\), got \(1, 6\)"):
        model(np.ones((1, 6), "float32"))
    assert model.input_shape == (None, 3)


def test_sequential_without_input_inside_a_custom_layer_builds_on_symbolic_call():
    # keras.io's Transformer block: the feed-forward Sequential has no Input and
    # is first called inside the block's shape inference (meta tensors).
    class Block(plait.layers.Layer):
        def __init__(self):
            super().__init__()
            self.ffn = plait.Sequential(
                [plait.layers.Dense(8, "relu"), plait.layers.Dense(4)]
            )

        def call(self, x):
            return x + self.ffn(x)

    inputs = plait.Input(shape=(5, 4))
    block = Block()
    model = plait.Model(inputs, block(inputs))
    assert model.output_shape == (None, 5, 4)
    assert all(not w.is_meta for w in model.weights)
    assert len(model.weights) == 4
    x = torch.rand(2, 5, 4)
    dense1, dense2 = block.ffn.layers
    expected = x + dense2(dense1(x))
    torch.testing.assert_close(model(x), expected)
