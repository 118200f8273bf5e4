"""Functional models: structures of inputs and outputs, names, nesting, sharing."""

import copy

import numpy as np
import pytest
import torch

import plait
from plait.layers import Dense, Embedding, Input, Layer, concatenate


def _two_in_two_out():
    a = Input(shape=(3,), name="a")
    b = Input(shape=(2,), name="b")
    h = concatenate([Dense(4, name="da")(a), b], name="cat")
    return a, b, Dense(1, name="out1")(h), Dense(2, name="out2")(h)


# ---------------------------------------------------------------- structures
def test_functional_single_input_output():
    x = Input(shape=(3,), name="x")
    y = Dense(2, name="y")(x)
    model = plait.Model(inputs=x, outputs=y)
    assert isinstance(model, plait.models.Functional)
    assert model.input is x
    assert model.output is y
    assert model.inputs == [x]
    assert model.outputs == [y]
    assert model.input_names == ["x"]
    assert model.output_names == ["y"]
    assert model.input_shape == (None, 3)
    assert model.output_shape == (None, 2)


def test_functional_positional_constructor_and_name():
    x = Input(shape=(3,))
    model = plait.Model(x, Dense(2)(x), name="clf")
    assert model.name == "clf"
    assert plait.models.Model is plait.Model


def test_functional_list_inputs_outputs():
    a, b, o1, o2 = _two_in_two_out()
    model = plait.Model([a, b], [o1, o2])
    assert model.input == [a, b]
    assert model.output == [o1, o2]
    assert model.input_names == ["a", "b"]
    assert model.output_names == ["out1", "out2"]
    assert model.input_shape == [(None, 3), (None, 2)]
    assert model.output_shape == [(None, 1), (None, 2)]
    xa, xb = np.random.rand(4, 3), np.random.rand(4, 2)
    p1, p2 = model.predict([xa, xb], verbose=0)
    assert p1.shape == (4, 1)
    assert p2.shape == (4, 2)


def test_functional_dict_inputs_outputs():
    a, b, o1, o2 = _two_in_two_out()
    model = plait.Model({"a": a, "b": b}, {"first": o1, "second": o2})
    assert model.input_names == ["a", "b"]
    assert model.output_names == ["first", "second"]
    xa, xb = np.random.rand(4, 3), np.random.rand(4, 2)
    out = model.predict({"b": xb, "a": xa}, verbose=0)
    assert set(out) == {"first", "second"}
    assert out["first"].shape == (4, 1)
    listed = plait.Model([a, b], [o1, o2]).predict([xa, xb], verbose=0)
    np.testing.assert_allclose(out["second"], listed[1], rtol=1e-6)


def test_functional_dict_inputs_by_name_for_list_model():
    a, b, o1, _ = _two_in_two_out()
    model = plait.Model([a, b], o1)
    xa, xb = np.random.rand(2, 3), np.random.rand(2, 2)
    np.testing.assert_allclose(
        model.predict({"a": xa, "b": xb}, verbose=0),
        model.predict([xa, xb], verbose=0),
        rtol=1e-6,
    )


def test_functional_tuple_inputs_accepted():
    a, b, o1, o2 = _two_in_two_out()
    model = plait.Model((a, b), (o1, o2))
    assert model.input_names == ["a", "b"]
    assert len(model.outputs) == 2


def test_functional_shared_layer_output_names_unique():
    x1, x2 = Input(shape=(3,)), Input(shape=(3,))
    d = Dense(2, name="d")
    model = plait.Model([x1, x2], [d(x1), d(x2)])
    assert model.output_names == ["d", "d_1"]


class _SplitHalves(Layer):
    def call(self, inputs):
        half = inputs.shape[-1] // 2
        return [inputs[..., :half], inputs[..., half:]]


def test_functional_multi_output_layer_names_unique():
    x = Input(shape=(4,))
    left, right = _SplitHalves(name="split")(x)
    assert plait.Model(x, [left, right]).output_names == ["split", "split_1"]


# ---------------------------------------------------------------- get_layer
def test_functional_get_layer_by_name_and_index():
    a, b, o1, o2 = _two_in_two_out()
    model = plait.Model([a, b], [o1, o2])
    assert model.get_layer("cat").name == "cat"
    assert (
        model.get_layer(name="da")
        is model.layers[model.layers.index(model.get_layer("da"))]
    )
    assert model.get_layer(index=0) is model.layers[0]
    assert model.get_layer(index=-1) is model.layers[-1]


def test_functional_layers_topological_with_inputs():
    a, b, o1, o2 = _two_in_two_out()
    model = plait.Model([a, b], [o1, o2])
    names = [layer.name for layer in model.layers]
    # Keras 3's order: by depth, then by first visit walking back from the outputs
    # (b sits at da's depth and is met after it).
    assert names == ["a", "da", "b", "cat", "out1", "out2"]


def test_functional_get_layer_errors():
    x = Input(shape=(3,))
    model = plait.Model(x, Dense(2, name="only")(x), name="m")
    with pytest.raises(
        ValueError, match=r"Model 'm': no layer named 'nope'; its layers are"
    ):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="expected a layer index below 2, got index=5"):
        model.get_layer(index=5)
    with pytest.raises(ValueError, match="exactly one of `name` or `index`"):
        model.get_layer()
    with pytest.raises(ValueError, match="exactly one of `name` or `index`"):
        model.get_layer("only", 1)


# ---------------------------------------------------------------- models as layers
def _encoder():
    x = Input(shape=(4,), name="enc_in")
    return plait.Model(x, Dense(3, name="enc_dense")(x), name="encoder")


def test_functional_model_called_on_new_input_reuses_weights():
    enc = _encoder()
    x = Input(shape=(4,))
    y = enc(x)
    assert y.shape == (None, 3)
    model = plait.Model(x, y)
    assert len(model.weights) == 2
    assert model.weights[0] is enc.weights[0]
    data = np.random.rand(2, 4).astype(np.float32)
    np.testing.assert_allclose(
        model.predict(data, verbose=0), enc.predict(data, verbose=0), rtol=1e-6
    )


def test_functional_nested_model_in_bigger_model():
    enc = _encoder()
    x = Input(shape=(4,))
    out = Dense(1, name="head")(enc(x))
    model = plait.Model(x, out)
    assert [layer.name for layer in model.layers][1:] == ["encoder", "head"]
    assert len(model.weights) == 4
    assert model.count_params() == 4 * 3 + 3 + 3 + 1
    assert "encoder.enc_dense.kernel" in model.state_dict()


def test_functional_shared_model_has_one_weight_set():
    enc = _encoder()
    a, b = Input(shape=(4,)), Input(shape=(4,))
    model = plait.Model([a, b], concatenate([enc(a), enc(b)]))
    assert len(model.weights) == 2
    assert len(list(model.parameters())) == 2
    data = np.random.rand(2, 4).astype(np.float32)
    out = model.predict([data, data], verbose=0)
    np.testing.assert_allclose(out[:, :3], out[:, 3:])


def test_functional_submodel_from_intermediate_tensors():
    x = Input(shape=(4,), name="x")
    h = Dense(3, name="d")(x)
    model = plait.Model(x, Dense(2, name="e")(h))
    sub = plait.Model(model.input, model.get_layer("d").output)
    assert sub.output_shape == (None, 3)
    assert [layer.name for layer in sub.layers] == ["x", "d"]
    data = np.random.rand(2, 4).astype(np.float32)
    k, b = model.get_layer("d").get_weights()
    np.testing.assert_allclose(sub.predict(data, verbose=0), data @ k + b, rtol=1e-5)


def test_functional_nested_model_masks_flow():
    ids = Input(shape=(3,), dtype="int32")
    inner = plait.Model(ids, Embedding(5, 2, mask_zero=True)(ids))
    x = Input(shape=(3,), dtype="int32")
    y = inner(x)
    assert y._mask is not None
    assert y._mask.shape == (None, 3)
    outer = plait.Model(x, y)
    out = outer(torch.tensor([[1, 0, 2]]))
    assert out._keras_mask.tolist() == [[True, False, True]]


def test_functional_nested_model_input_shape_checked():
    enc = _encoder()
    with pytest.raises(
        ValueError,
        match=r"Model 'encoder' input 'enc_in': expected shape \(None, 4\), got \(None, 5\)",
    ):
        enc(Input(shape=(5,)))


def test_functional_model_in_sequential():
    enc = _encoder()
    seq = plait.Sequential([enc, Dense(1)])
    out = seq.predict(np.ones((2, 4)), verbose=0)
    assert out.shape == (2, 1)


# ---------------------------------------------------------------- eager calls
def test_functional_call_on_tensor_and_numpy():
    enc = _encoder()
    data = np.random.rand(2, 4).astype(np.float32)
    t = enc(torch.from_numpy(data))
    n = enc(data)
    assert isinstance(t, torch.Tensor)
    assert isinstance(n, torch.Tensor)
    torch.testing.assert_close(t, n)
    k, b = enc.get_weights()
    np.testing.assert_allclose(t.detach().numpy(), data @ k + b, rtol=1e-5)


def test_functional_call_float64_numpy_is_cast():
    enc = _encoder()
    assert enc(np.ones((1, 4))).dtype == torch.float32


def test_functional_call_returns_structure():
    a, b, o1, o2 = _two_in_two_out()
    model = plait.Model({"a": a, "b": b}, {"o1": o1, "o2": o2})
    out = model({"a": torch.ones(2, 3), "b": torch.ones(2, 2)})
    assert set(out) == {"o1", "o2"}
    lst = plait.Model([a, b], [o1, o2])([torch.ones(2, 3), torch.ones(2, 2)])
    assert isinstance(lst, list)
    assert len(lst) == 2


def test_functional_call_gradients_flow():
    enc = _encoder()
    enc(torch.randn(2, 4)).sum().backward()
    assert all(p.grad is not None for p in enc.parameters())


def test_functional_call_wrong_input_count():
    a, b, o1, _ = _two_in_two_out()
    model = plait.Model([a, b], o1, name="two")
    with pytest.raises(
        ValueError, match=r"Model 'two': expected 2 inputs \['a', 'b'\], got 1"
    ):
        model([torch.ones(1, 3)])


def test_functional_call_wrong_shape_names_input():
    enc = _encoder()
    with pytest.raises(
        ValueError,
        match=r"Model 'encoder' input 'enc_in': expected shape \(None, 4\), got \(2, 5\)",
    ):
        enc(torch.ones(2, 5))


def test_functional_call_dict_missing_key():
    a, b, o1, _ = _two_in_two_out()
    model = plait.Model([a, b], o1, name="dm")
    with pytest.raises(
        ValueError, match=r"expected a dict with keys \['a', 'b'\].*missing \['b'\]"
    ):
        model({"a": torch.ones(1, 3)})


# ---------------------------------------------------------------- torch integration
def test_functional_state_dict_keys():
    x = Input(shape=(3,))
    h = Dense(4, name="dense")(x)
    model = plait.Model(x, Dense(2, name="dense_1")(h))
    assert list(model.state_dict()) == [
        "dense.kernel",
        "dense.bias",
        "dense_1.kernel",
        "dense_1.bias",
    ]


def test_functional_load_state_dict_round_trip():
    def build():
        x = Input(shape=(3,))
        return plait.Model(x, Dense(2, name="d")(x))

    a, b = build(), build()
    b.load_state_dict(a.state_dict())
    data = torch.randn(2, 3)
    torch.testing.assert_close(a(data), b(data))


def test_functional_deepcopy_predicts_the_same():
    x = Input(shape=(3,))
    model = plait.Model(x, Dense(2)(Dense(4, activation="relu")(x)))
    data = np.random.rand(5, 3).astype(np.float32)
    before = model.predict(data, verbose=0)
    clone = copy.deepcopy(model)
    np.testing.assert_allclose(clone.predict(data, verbose=0), before, rtol=1e-6)
    # Independent weights: changing the copy leaves the original alone.
    with torch.no_grad():
        for p in clone.parameters():
            p.add_(1.0)
    np.testing.assert_allclose(model.predict(data, verbose=0), before, rtol=1e-6)
    assert not np.allclose(clone.predict(data, verbose=0), before)


def test_functional_model_with_operator_layers():
    x = Input(shape=(3,))
    y = Dense(3)(x)
    model = plait.Model(x, (x + y) * 0.5)
    data = torch.randn(2, 3)
    expected = (data + model.layers[1](data)) * 0.5
    torch.testing.assert_close(model(data), expected)


def test_functional_model_cannot_contain_itself_via_unknown_tensor():
    with pytest.raises(TypeError, match="expected SymbolicTensor"):
        plait.Model(Input(shape=(2,)), [torch.ones(2)])


def test_training_in_a_graph_model_follows_keras_call_rules():
    x = torch.rand(16, 6, 6, 3)
    # The guides' augmentation model, called directly on images: it augments.
    augment = plait.Sequential(
        [
            plait.layers.RandomFlip("horizontal", seed=1),
            plait.layers.RandomRotation(0.1),
        ]
    )
    assert not torch.equal(augment(x), x)
    assert torch.equal(augment(x, training=False), x)
    np.testing.assert_array_equal(augment.predict(x.numpy(), verbose=0), x.numpy())

    class Block(plait.layers.Layer):  # passes no `training` to its Dropout
        def __init__(self):
            super().__init__()
            self.drop = plait.layers.Dropout(0.5)

        def call(self, inputs):
            return self.drop(inputs)

    inputs = plait.Input((32,))
    model = plait.Model(inputs, Block()(plait.layers.Dropout(0.0)(inputs)))
    ones = torch.ones(64, 32)
    assert torch.equal(model(ones), ones)  # Dropout's default: inference
    assert set(model(ones, training=True).unique().tolist()) == {0.0, 2.0}
    model.train()  # a mode set on the model holds for calls that say nothing
    assert set(model(ones).unique().tolist()) == {0.0, 2.0}
    model.eval()
    assert torch.equal(model(ones), ones)


def test_trailing_axis_of_one_may_be_missing_or_extra_as_keras():
    # keras.io's siamese example feeds (N, 28, 28) images to Input((28, 28, 1)).
    inputs = plait.Input((4, 4, 1))
    model = plait.Model(inputs, plait.layers.Flatten()(inputs))
    x = np.arange(32, dtype="float32").reshape(2, 4, 4)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x.reshape(2, 16))
    scaled = plait.Model(inputs, plait.layers.Dense(1)(plait.layers.Flatten()(inputs)))
    scaled.compile("sgd", "mse")
    scaled.fit(x, np.ones((2, 1)), verbose=0)  # the same data path in fit
    vector = plait.Input((3,))
    dense = plait.Model(vector, plait.layers.Dense(1)(vector))
    assert dense.predict(np.zeros((2, 3, 1), "float32"), verbose=0).shape == (2, 1)
    with pytest.raises(
        ValueError, match=r"expected shape \(None, 3\), got \(2, 3, 2\)"
    ):
        dense.predict(np.zeros((2, 3, 2), "float32"), verbose=0)
