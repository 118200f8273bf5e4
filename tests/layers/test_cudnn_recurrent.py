"""Keras 2's CuDNNLSTM and CuDNNGRU: cuDNN's equations on Keras 2's weight layout.

The reference below computes cuDNN's recurrences directly from the weights as
Keras 2 stored them (each gate's input matrix is the row-major reshape of its
kernel block, the recurrent matrix the block itself, input then recurrent
biases), independently of how plait converts them.
"""

import numpy as np
import pytest

import plait
from plait import layers
from plait.saving import load_model


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _blocks(kernel, recurrent, bias, n, units):
    features = kernel.shape[0]
    w = [
        kernel[:, g * units : (g + 1) * units].reshape(units, features)
        for g in range(n)
    ]
    r = [recurrent[:, g * units : (g + 1) * units] for g in range(n)]
    b_in = [bias[g * units : (g + 1) * units] for g in range(n)]
    b_rec = [bias[(n + g) * units : (n + g + 1) * units] for g in range(n)]
    return w, r, b_in, b_rec


def cudnn_lstm(x, kernel, recurrent, bias, units):
    w, r, bi, br = _blocks(kernel, recurrent, bias, 4, units)
    h = np.zeros((x.shape[0], units))
    c = np.zeros((x.shape[0], units))
    out = []
    for t in range(x.shape[1]):
        pre = [x[:, t] @ w[g].T + bi[g] + h @ r[g].T + br[g] for g in range(4)]
        i, f, o = _sigmoid(pre[0]), _sigmoid(pre[1]), _sigmoid(pre[3])
        c = f * c + i * np.tanh(pre[2])
        h = o * np.tanh(c)
        out.append(h)
    return np.stack(out, 1)


def cudnn_gru(x, kernel, recurrent, bias, units):
    w, r, bi, br = _blocks(kernel, recurrent, bias, 3, units)
    h = np.zeros((x.shape[0], units))
    out = []
    for t in range(x.shape[1]):
        xt = x[:, t]
        z = _sigmoid(xt @ w[0].T + bi[0] + h @ r[0].T + br[0])
        rr = _sigmoid(xt @ w[1].T + bi[1] + h @ r[1].T + br[1])
        hh = np.tanh(xt @ w[2].T + bi[2] + rr * (h @ r[2].T + br[2]))
        h = z * h + (1 - z) * hh
        out.append(h)
    return np.stack(out, 1)


CASES = {
    "lstm": (layers.CuDNNLSTM, cudnn_lstm, 4),
    "gru": (layers.CuDNNGRU, cudnn_gru, 3),
}


def _weights(n, features, units, rng):
    return [
        rng.normal(0, 0.5, (features, n * units)).astype("float32"),
        rng.normal(0, 0.5, (units, n * units)).astype("float32"),
        rng.normal(0, 0.5, (2 * n * units,)).astype("float32"),
    ]


@pytest.mark.parametrize("kind", list(CASES))
def test_predicts_cudnn_equations_from_keras2_layout(kind):
    cls, reference, n = CASES[kind]
    rng = np.random.default_rng(0)
    layer = cls(5, return_sequences=True)
    inputs = plait.Input((6, 4))
    model = plait.Model(inputs, layer(inputs))
    weights = _weights(n, 4, 5, rng)
    layer.set_weights(weights)
    x = rng.normal(size=(3, 6, 4)).astype("float32")
    np.testing.assert_allclose(
        model.predict(x, verbose=0), reference(x, *weights, 5), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("kind", list(CASES))
def test_weights_round_trip_exactly(kind):
    cls, _, n = CASES[kind]
    layer = cls(5)
    layer(plait.Input((6, 4)))
    weights = _weights(n, 4, 5, np.random.default_rng(1))
    layer.set_weights(weights)
    for a, b in zip(layer.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    assert layer.count_params() == sum(w.size for w in weights)


def test_lstm_unit_forget_bias_in_the_recurrent_block():
    layer = layers.CuDNNLSTM(2, bias_initializer="zeros")
    layer(plait.Input((3, 4)))
    np.testing.assert_array_equal(layer.get_weights()[2], [0] * 10 + [1, 1] + [0] * 4)


def test_wrong_shapes_name_the_layer_and_layout():
    layer = layers.CuDNNLSTM(5, name="enc")
    layer(plait.Input((6, 4)))
    with pytest.raises(
        ValueError, match=r"CuDNNLSTM layer 'enc': expected .*\(40,\).*got"
    ):
        layer.set_weights([np.zeros((4, 20)), np.zeros((5, 20)), np.zeros((20,))])


@pytest.mark.parametrize("kind", list(CASES))
def test_config_is_keras2s_and_model_round_trips(kind, tmp_path):
    cls, _, _ = CASES[kind]
    layer = cls(3, return_state=True, go_backwards=True)
    config = layer.get_config()
    assert "activation" not in config
    assert "dropout" not in config
    assert config["go_backwards"] is True
    inputs = plait.Input((4, 2))
    outputs = layer(inputs)
    model = plait.Model(inputs, outputs)
    model.save(tmp_path / "m.plait")
    loaded = load_model(tmp_path / "m.plait")
    assert type(loaded.layers[1]) is cls
    x = np.random.default_rng(3).normal(size=(2, 4, 2)).astype("float32")
    for a, b in zip(model.predict(x, verbose=0), loaded.predict(x, verbose=0)):
        np.testing.assert_allclose(a, b, rtol=1e-6)
