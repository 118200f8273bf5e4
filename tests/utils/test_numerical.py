"""set_random_seed, to_categorical and normalize."""

import random

import numpy as np
import pytest
import torch

import plait
from plait.layers import Dense
from plait.utils import normalize, set_random_seed, to_categorical


def test_to_categorical_basic():
    out = to_categorical([0, 2, 1], num_classes=3)
    np.testing.assert_array_equal(out, np.eye(3, dtype=np.float32)[[0, 2, 1]])
    assert out.dtype == np.float32


def test_to_categorical_infers_num_classes():
    assert to_categorical(np.array([1, 4])).shape == (2, 5)


def test_to_categorical_drops_trailing_unit_axis():
    assert to_categorical(np.array([[0], [1]]), 2).shape == (2, 2)


def test_to_categorical_nd_and_dtype():
    out = to_categorical(np.array([[0, 1], [1, 0]]), 2, dtype="int64")
    assert out.shape == (2, 2, 2)
    assert out.dtype == np.int64


def test_to_categorical_accepts_tensor_and_float_ids():
    np.testing.assert_array_equal(
        to_categorical(torch.tensor([1, 0]), 2), [[0, 1], [1, 0]]
    )
    np.testing.assert_array_equal(
        to_categorical(np.array([1.0, 0.0]), 2), [[0, 1], [1, 0]]
    )


def test_to_categorical_errors():
    with pytest.raises(
        ValueError, match=r"class ids in \[0, 2\), got values in \[0, 2\]"
    ):
        to_categorical([0, 2], num_classes=2)
    with pytest.raises(ValueError, match="integer class ids"):
        to_categorical([0.5, 1.0])
    with pytest.raises(ValueError, match="class ids in"):
        to_categorical([-1, 0], num_classes=2)


def test_to_categorical_is_importable_as_plait_utils():
    assert plait.utils.to_categorical is to_categorical


def test_set_random_seed_reproducible():
    def draw():
        set_random_seed(123)
        layer = Dense(4)
        layer(torch.ones(1, 3))
        return (
            random.random(),
            np.random.rand(),
            torch.rand(1).item(),
            layer.get_weights()[0],
            torch.nn.functional.dropout(torch.ones(10), 0.5, training=True),
        )

    a, b = draw(), draw()
    assert a[:3] == b[:3]
    np.testing.assert_array_equal(a[3], b[3])
    torch.testing.assert_close(a[4], b[4])
    set_random_seed(124)
    assert torch.rand(1).item() != a[2]


def test_set_random_seed_rejects_non_int():
    with pytest.raises(TypeError, match="expected an int seed"):
        set_random_seed(1.5)
    with pytest.raises(TypeError, match="expected an int seed"):
        set_random_seed(True)


def test_normalize_divides_by_the_norm_along_the_axis():
    # keras.io's supervised contrastive example; values as Keras 3.15's
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(x), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(x, order=1), [[3 / 7, 4 / 7], [0.0, 0.0]])
    np.testing.assert_allclose(
        normalize(np.array([[3.0], [4.0]]), axis=0), [[0.6], [0.8]]
    )
    out = normalize(torch.tensor([[3.0, 4.0]]))
    assert isinstance(out, torch.Tensor)
    torch.testing.assert_close(out, torch.tensor([[0.6, 0.8]]))
