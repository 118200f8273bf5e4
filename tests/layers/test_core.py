"""Core layers beyond the table: Dense, Embedding, Masking, Lambda, Input specifics."""

import numpy as np
import pytest
import torch

import plait
from plait.layers import (
    Activation,
    Dense,
    Embedding,
    Input,
    InputLayer,
    Lambda,
    Layer,
    Masking,
)


class _MaskSpy(Layer):
    def call(self, inputs, mask=None):
        self.seen = mask
        return inputs


# ---------------------------------------------------------------- Input
def test_input_variants():
    assert Input(shape=5).shape == (None, 5)
    assert Input(tensor=torch.ones(4, 3)).shape == (None, 3)
    ids = Input(shape=(2,), dtype="int32")
    assert Input(tensor=ids).dtype == torch.int32
    layer = ids.node.layer
    assert isinstance(layer, InputLayer)
    assert layer.get_config()["batch_shape"] == [None, 2]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({}, ValueError, "expected a `shape` such as"),
        ({"shape": (2,), "batch_shape": (None, 2)}, ValueError, "not both"),
        (
            {"shape": (2,), "sparse": True},
            ValueError,
            "sparse inputs are not supported",
        ),
        ({"shape": (-2,)}, ValueError, "non-negative ints or None"),
        (
            {"shape": (2,), "foo": 1},
            TypeError,
            r"unexpected keyword argument \['foo'\]",
        ),
        ({"shape": (2,), "dtype": "floaty"}, ValueError, "expected a dtype"),
        ({"tensor": 3}, TypeError, "expected `tensor` to be a tensor"),
    ],
)
def test_input_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        Input(**kwargs)


def test_input_layer_from_config_round_trip():
    layer = Input(shape=(3, None), dtype="int64", name="toks").node.layer
    clone = InputLayer.from_config(layer.get_config())
    assert clone.batch_shape == (None, 3, None)
    assert clone._inbound_nodes[0].outputs.dtype == torch.int64


# ---------------------------------------------------------------- Dense
def test_dense_rejects_nonpositive_units():
    for units in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="expected `units` to be a positive int"):
            Dense(units)


def test_dense_casts_int_inputs():
    d = Dense(2)
    assert d(torch.ones(1, 3, dtype=torch.int64)).dtype == torch.float32


def test_dense_unknown_activation():
    with pytest.raises(
        ValueError, match=r"^Unknown activation 'rleu'; expected one of \[.*'relu'"
    ):
        Dense(2, activation="rleu")


def test_dense_regularizer_losses():
    d = Dense(2, kernel_regularizer=lambda w: w.abs().sum())
    d(torch.ones(1, 3))
    assert len(d.losses) == 1
    torch.testing.assert_close(d.losses[0], d.kernel.abs().sum())


def test_dense_activity_regularizer_adds_loss_on_call():
    d = Dense(2, activity_regularizer=lambda y: y.sum())
    y = d(torch.ones(1, 3))
    torch.testing.assert_close(d.losses[-1], y.sum())


def test_dense_pre_activation_is_logits():
    d = Dense(3, activation="softmax")
    x = torch.randn(2, 4)
    y = d(x)
    torch.testing.assert_close(torch.softmax(d._pre_activation(x), -1), y)


def test_dense_config_contains_keras_keys():
    config = Dense(3, activation="relu", use_bias=False, name="dk").get_config()
    assert config["units"] == 3
    assert config["activation"] == "relu"
    assert config["use_bias"] is False
    assert config["kernel_initializer"]["class_name"] == "GlorotUniform"
    assert config["name"] == "dk"


def test_activation_layer_callable():
    layer = Activation(torch.abs)
    torch.testing.assert_close(layer(torch.tensor([-2.0])), torch.tensor([2.0]))


# ---------------------------------------------------------------- Embedding
def test_embedding_mask_zero_symbolic_and_eager():
    emb = Embedding(6, 2, mask_zero=True)
    y = emb(Input(shape=(4,), dtype="int32"))
    assert y._mask.shape == (None, 4)
    assert y._mask.dtype == torch.bool
    out = emb(torch.tensor([[3, 0, 1, 0]]))
    assert out._keras_mask.tolist() == [[True, False, True, False]]


def test_embedding_without_mask_zero_has_no_mask():
    y = Embedding(6, 2)(Input(shape=(4,), dtype="int32"))
    assert y._mask is None


def test_embedding_input_length_sets_sequential_input():
    emb = Embedding(10, 4, input_length=7)
    assert emb._batch_input_shape == (None, 7)
    assert emb.get_config()["input_length"] == 7
    assert Embedding.from_config(emb.get_config()).input_length == 7


def test_embedding_guide_signature():
    x = Input(shape=(100,), dtype="int32", name="main_input")
    y = Embedding(output_dim=512, input_dim=10000, input_length=100)(x)
    assert y.shape == (None, 100, 512)


def test_embedding_default_initializer_is_uniform_005():
    emb = Embedding(1000, 8)
    emb(torch.zeros(1, 1, dtype=torch.int64))
    w = emb.get_weights()[0]
    assert np.abs(w).max() <= 0.05
    assert np.abs(w).max() > 0.045


def test_embedding_rejects_bad_dims():
    with pytest.raises(ValueError, match="expected `input_dim` to be a positive int"):
        Embedding(0, 2)
    with pytest.raises(ValueError, match="expected `output_dim` to be a positive int"):
        Embedding(3, None)


def test_embedding_out_of_range_id_names_layer():
    emb = Embedding(3, 2, name="small_vocab")
    with pytest.raises(IndexError, match="Embedding layer 'small_vocab'"):
        emb(torch.tensor([[5]]))


# ---------------------------------------------------------------- Masking
def test_masking_eager_mask_reaches_next_layer():
    x = torch.tensor([[[0.0, 0.0], [1.0, 2.0]], [[3.0, 0.0], [0.0, 0.0]]])
    out = Masking()(x)
    assert out._keras_mask.tolist() == [[False, True], [True, False]]
    spy = _MaskSpy()
    spy(out)
    assert spy.seen.tolist() == [[False, True], [True, False]]


def test_masking_custom_value_in_model():
    x = Input(shape=(3, 2))
    spy = _MaskSpy()
    model = plait.Model(x, spy(Masking(mask_value=-1.0)(x)))
    data = np.array([[[-1, -1], [1, 2], [-1, 0]]], np.float32)
    out = model.predict(data, verbose=0)
    np.testing.assert_array_equal(out, [[[0, 0], [1, 2], [-1, 0]]])


def test_masking_mask_in_model_reaches_spy():
    x = Input(shape=(3, 2))
    masked = Masking()(x)
    assert masked._mask.shape == (None, 3)
    spy = _MaskSpy()
    model = plait.Model(x, spy(masked))
    model(torch.tensor([[[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]]))
    assert spy.seen.tolist() == [[False, True, False]]


# ---------------------------------------------------------------- Lambda
def test_lambda_infers_shape_on_meta():
    x = Input(shape=(3,))
    y = Lambda(lambda t: t[:, :2] * 2)(x)
    assert y.shape == (None, 2)
    out = plait.Model(x, y).predict(np.array([[1.0, 2.0, 3.0]]), verbose=0)
    np.testing.assert_allclose(out, [[2.0, 4.0]])


def test_lambda_output_shape_tuple_and_function():
    x = Input(shape=(3,))
    assert Lambda(lambda t: t, output_shape=(3,))(x).shape == (None, 3)
    fn = Lambda(lambda t: t.sum(-1, keepdim=True), output_shape=lambda s: (s[0], 1))
    assert fn(x).shape == (None, 1)


def test_lambda_list_input_and_arguments():
    a, b = Input(shape=(2,)), Input(shape=(2,))
    y = Lambda(lambda ts, k: (ts[0] - ts[1]) * k, arguments={"k": 3.0})([a, b])
    out = plait.Model([a, b], y).predict([np.ones((1, 2)), np.zeros((1, 2))], verbose=0)
    np.testing.assert_allclose(out, [[3.0, 3.0]])


def test_lambda_mask_function():
    x = Input(shape=(3, 2))
    y = Lambda(lambda t: t, mask=lambda t, m: t[..., 0] > 0)(x)
    assert y._mask is not None
    assert y._mask.shape == (None, 3)


def test_lambda_rejects_non_callable():
    with pytest.raises(TypeError, match="expected `function` to be callable, got int"):
        Lambda(3)


def test_lambda_unregistered_function_cannot_serialize():
    with pytest.raises(ValueError, match="cannot serialize its function '<lambda>'"):
        Lambda(lambda t: t).get_config()


def test_lambda_from_config_of_an_unregistered_name():
    config = {"name": "lam", "function": "nowhere>missing"}
    with pytest.raises(
        ValueError,
        match=r"Lambda layer 'lam': expected `function` to name a registered "
        r"function, got 'nowhere>missing', which is not registered",
    ):
        Lambda.from_config(config)


def test_setting_activation_to_none_makes_the_layer_linear():
    # keras.io's Grad-CAM: `model.layers[-1].activation = None` for the logits.
    inputs = plait.Input((3,))
    model = plait.Model(inputs, plait.layers.Dense(2, activation="softmax")(inputs))
    x = np.ones((1, 3), "float32")
    dense = model.layers[-1]
    dense.activation = None
    logits = x @ dense.get_weights()[0] + dense.get_weights()[1]
    np.testing.assert_allclose(model.predict(x, verbose=0), logits, rtol=1e-6)
    assert dense.get_config()["activation"] == "linear"


def test_keras_3_variable_list_names():
    dense = Dense(2)
    dense.build((None, 3))
    dense.bias.trainable = False
    assert dense.variables == dense.weights
    assert dense.non_trainable_variables == [dense.bias]
