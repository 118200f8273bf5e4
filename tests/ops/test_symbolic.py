"""plait.ops / plait.backend on symbolic tensors: graph nodes that train, save and load."""

import numpy as np
import pytest
import torch

import plait
from plait import backend as K
from plait import layers, ops
from plait import random as prandom
from plait.layers.ops import OpLayer


def _round_trip(model, tmp_path, x):
    path = tmp_path / "m.plait"
    model.save(path)
    loaded = plait.load_model(path)
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6
    )
    return loaded


def test_ops_in_functional_model_train_save_load(tmp_path):
    inputs = plait.Input(shape=(4,))
    h = ops.relu(layers.Dense(8)(inputs))
    h = ops.concatenate([h, ops.square(inputs)], axis=-1)
    h = h * np.float32(0.5) + ops.mean(h, axis=-1, keepdims=True)
    outputs = ops.softmax(layers.Dense(3)(h))
    model = plait.Model(inputs, outputs)
    assert outputs.shape == (None, 3)
    assert [type(layer).__name__ for layer in model.layers].count("OpLayer") == 5
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x = np.random.rand(4, 4).astype("float32")
    y = np.eye(3, dtype="float32")[[0, 1, 2, 0]]
    before = model.get_weights()[0].copy()
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert not np.allclose(before, model.get_weights()[0])
    loaded = _round_trip(model, tmp_path, x)
    ops_layers = [la for la in loaded.layers if isinstance(la, OpLayer)]
    assert [la.op for la in ops_layers] == [
        "relu",
        "square",
        "concatenate",
        "mean",
        "softmax",
    ]


def test_ops_constant_tensor_argument_saved_as_data(tmp_path):
    inputs = plait.Input(shape=(3,))
    weights = np.arange(6, dtype="float32").reshape(3, 2)
    model = plait.Model(inputs, ops.matmul(inputs, weights))
    layer = model.layers[-1]
    assert layer.get_config()["arguments"]["x2"] == {
        "tensor": weights.tolist(),
        "dtype": "float32",
    }
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), x @ weights)
    _round_trip(model, tmp_path, x)


def test_ops_dtype_and_int_shapes_inferred():
    inputs = plait.Input(shape=(5,))
    idx = ops.argmax(inputs, axis=-1)
    assert idx.shape == (None,)
    assert idx.dtype == torch.int32
    hot = ops.one_hot(idx, 5)
    assert hot.shape == (None, 5)
    assert hot.dtype == torch.float32
    values, indices = ops.top_k(inputs, 2)
    assert values.shape == indices.shape == (None, 2)


def test_ops_callable_argument_on_symbolic_raises():
    inputs = plait.Input(shape=(3,))
    gen = prandom.SeedGenerator(1)
    with pytest.raises(
        TypeError, match=r"ops\.random\.dropout on symbolic tensors: .*SeedGenerator"
    ):
        prandom.dropout(inputs, 0.5, seed=gen)


class Keras3Dense(layers.Layer):
    """A custom layer as the Keras 3 guide writes it (ops + add_weight)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1], self.units), "random_normal")
        self.b = self.add_weight("b", (self.units,), "zeros")

    def call(self, inputs):
        return ops.relu(ops.matmul(inputs, self.w) + self.b)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class Keras2Norm(layers.Layer):
    """A Keras 2 style layer written against the backend (K.sum, K.sqrt, K.epsilon)."""

    def call(self, inputs):
        norm = K.sqrt(K.sum(K.square(inputs), axis=-1, keepdims=True))
        return inputs / (norm + K.epsilon())


def test_ops_custom_layers_keras3_and_keras2_styles_train(tmp_path):
    inputs = plait.Input(shape=(4,))
    h = Keras3Dense(6)(inputs)
    h = Keras2Norm()(h)
    outputs = layers.Dense(1)(K.concatenate([h, K.square(inputs)]))
    model = plait.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.rand(8, 4).astype("float32")
    history = model.fit(x, np.ones((8, 1), "float32"), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    path = tmp_path / "custom.plait"
    model.save(path)
    loaded = plait.load_model(
        path, custom_objects={"Keras3Dense": Keras3Dense, "Keras2Norm": Keras2Norm}
    )
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6
    )


class ZeroStateRNN(layers.Layer):
    """A hand-written RNN that makes its state with ops.zeros inside call."""

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], 3), "glorot_uniform")

    def call(self, inputs):
        state = ops.zeros((ops.shape(inputs)[0], 3))
        noise = prandom.normal((ops.shape(inputs)[0], 3), stddev=0.0)
        for t in range(ops.shape(inputs)[1]):
            state = ops.tanh(ops.matmul(inputs[:, t], self.kernel) + state) + noise
        return state


def test_ops_zeros_inside_call_during_shape_inference():
    inputs = plait.Input(shape=(5, 2))
    outputs = ZeroStateRNN()(inputs)
    assert outputs.shape == (None, 3)
    model = plait.Model(inputs, outputs)
    assert model.predict(np.ones((2, 5, 2), "float32"), verbose=0).shape == (2, 3)


def test_ops_creation_device_outside_inference_is_default():
    assert ops.zeros((2,)).device.type == "cpu"
    assert prandom.uniform((2,)).device.type == "cpu"


@pytest.mark.parametrize(
    ("op", "call"),
    [
        ("cond", lambda x: ops.cond(x, lambda: x, lambda: x)),
        ("switch", lambda x: ops.switch(x, [lambda v: v], x)),
        ("fori_loop", lambda x: ops.fori_loop(0, x, lambda i, v: v, 1.0)),
        ("while_loop", lambda x: ops.while_loop(lambda v: v, lambda v: v, x)),
        ("scan", lambda x: ops.scan(lambda c, v: (c, v), 0.0, x)),
        ("associative_scan", lambda x: ops.associative_scan(lambda a, b: a, x)),
        ("map", lambda x: ops.map(lambda v: v, x)),
        ("vectorized_map", lambda x: ops.vectorized_map(lambda v: v, x)),
    ],
)
def test_control_flow_on_symbolic_tensors_raises_naming_the_op(op, call):
    x = plait.Input(shape=(3,))
    with pytest.raises(ValueError, match=rf"ops\.{op}: expected tensors with values"):
        call(x)


def test_fori_loop_with_int_bounds_unrolls_into_the_graph():
    x = plait.Input(shape=(3,))
    model = plait.Model(x, ops.fori_loop(0, 3, lambda i, v: v * 2.0, x))
    np.testing.assert_allclose(model(torch.ones(2, 3)).detach().numpy(), 8.0)
