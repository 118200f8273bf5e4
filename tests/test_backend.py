"""plait.backend (`K`): Keras 2's backend functions and their semantics."""

import numpy as np
import pytest
import torch

import plait
from plait import backend as K

X = np.arange(6, dtype="float32").reshape(2, 3)


def test_backend_config():
    assert K.epsilon() == 1e-7
    assert K.floatx() == "float32"
    assert K.image_data_format() == "channels_last"
    assert K.learning_phase() == 0
    K.set_epsilon(1e-5)
    try:
        assert K.epsilon() == 1e-5
    finally:
        K.set_epsilon(1e-7)
    with pytest.raises(
        ValueError,
        match="set_image_data_format: expected 'channels_last' or 'channels_first', got 'nhwc'",
    ):
        K.set_image_data_format("nhwc")


def test_backend_variables():
    v = K.variable(X)
    assert isinstance(v, torch.nn.Parameter)
    K.set_value(v, np.ones((2, 3)))
    np.testing.assert_array_equal(K.get_value(v), np.ones((2, 3)))
    K.update_add(v, 1.0)
    assert K.batch_get_value([v])[0].sum() == 12
    assert K.count_params(v) == 6
    assert K.constant(2.0, shape=(2,)).tolist() == [2.0, 2.0]


def test_backend_shapes_symbolic_and_eager():
    x = plait.Input(shape=(3, 4))
    assert K.int_shape(x) == (None, 3, 4)
    assert K.ndim(x) == 3
    assert K.is_keras_tensor(x)
    assert K.int_shape(X) == (2, 3)
    assert K.shape(X).tolist() == [2, 3]


@pytest.mark.parametrize(
    ("x_shape", "y_shape", "axes", "out_shape"),
    [
        ((32, 20), (32, 20), 1, (32, 1)),
        ((32, 20), (32, 30, 20), (1, 2), (32, 30)),
        ((2, 3, 4), (2, 4, 5), None, (2, 3, 5)),
        ((2, 3, 4), (2, 5, 4), (2, 2), (2, 3, 5)),
        ((2, 3), (2, 3, 5), (1, 1), (2, 5)),
    ],
)
def test_backend_batch_dot_axes_rules(x_shape, y_shape, axes, out_shape):
    rng = np.random.default_rng(0)
    x, y = rng.random(x_shape, dtype="float32"), rng.random(y_shape, dtype="float32")
    out = K.batch_dot(x, y, axes=axes)
    assert tuple(out.shape) == out_shape
    ax = (
        (x.ndim - 1, y.ndim - 2)
        if axes is None
        else ((axes, axes) if isinstance(axes, int) else axes)
    )
    ref = np.stack(
        [
            np.tensordot(x[i], y[i], axes=(ax[0] - 1, ax[1] - 1))
            for i in range(x.shape[0])
        ]
    )
    np.testing.assert_allclose(out.numpy(), ref.reshape(out_shape), rtol=1e-5)


def test_backend_keras2_semantics():
    np.testing.assert_allclose(
        K.sum(X, axis=1, keepdims=True).numpy(), X.sum(1, keepdims=True)
    )
    np.testing.assert_allclose(K.dot(X, X.T).numpy(), X @ X.T)
    assert K.concatenate([X, X]).shape == (2, 6)  # Keras 2 default: the last axis
    assert K.expand_dims(X).shape == (2, 3, 1)
    assert K.permute_dimensions(X, (1, 0)).shape == (3, 2)
    assert K.repeat(X, 4).shape == (2, 4, 3)
    assert K.batch_flatten(np.ones((2, 3, 4))).shape == (2, 12)
    assert K.sqrt(np.array([-1.0, 4.0])).tolist() == [0.0, 2.0]
    assert K.argmax(X).tolist() == [2, 2]
    np.testing.assert_allclose(
        K.hard_sigmoid(np.array([0.0, 10.0])).numpy(), [0.5, 1.0]
    )
    np.testing.assert_allclose(
        K.relu(np.array([-2.0, 1.0, 9.0]), alpha=0.1, max_value=6.0).numpy(),
        [-0.2, 1.0, 6.0],
    )
    np.testing.assert_allclose(
        K.l2_normalize(X, axis=1).numpy(),
        X / np.linalg.norm(X, axis=1, keepdims=True),
        rtol=1e-6,
    )
    y = np.eye(3, dtype="float32")[[0, 2]]
    p = np.full((2, 3), 1 / 3, "float32")
    np.testing.assert_allclose(
        K.categorical_crossentropy(y, p).numpy(), [np.log(3)] * 2, rtol=1e-6
    )
    assert K.clip(X, 1.0, 2.0).max() == 2.0
    assert K.in_train_phase(lambda: 1, lambda: 2) == 2
    assert K.eye(3).shape == (3, 3)
    assert K.arange(3).dtype == torch.int32


def test_backend_symbolic_batch_dot_in_model(tmp_path):
    a, b = plait.Input(shape=(4,)), plait.Input(shape=(4,))
    out = K.batch_dot(a, b, axes=1)
    assert out.shape == (None, 1)
    model = plait.Model([a, b], out)
    x = np.ones((2, 4), "float32")
    np.testing.assert_allclose(model.predict([x, x], verbose=0), [[4.0], [4.0]])
    model.save(tmp_path / "k.plait")
    loaded = plait.load_model(tmp_path / "k.plait")
    np.testing.assert_allclose(loaded.predict([x, x], verbose=0), [[4.0], [4.0]])
