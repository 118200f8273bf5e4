import numpy as np
import pytest

from plait.datasets import boston_housing, california_housing


def test_boston_split_follows_the_seeded_shuffle(cache, pin):
    x = np.arange(40, dtype=np.float64).reshape(10, 4)
    y = np.arange(10) * 1.5
    np.savez(cache / "boston_housing.npz", x=x, y=y)
    pin(boston_housing, cache / "boston_housing.npz")
    order = np.arange(10)
    np.random.RandomState(5).shuffle(order)
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data(
        test_split=0.3, seed=5
    )
    np.testing.assert_array_equal(x_train, x[order[:7]])
    np.testing.assert_array_equal(y_train, y[order[:7]])
    np.testing.assert_array_equal(x_test, x[order[7:]])
    np.testing.assert_array_equal(y_test, y[order[7:]])
    assert x_train.dtype == np.float64
    with pytest.raises(ValueError, match=r"expected 0 <= test_split < 1, got 1\.0"):
        boston_housing.load_data(test_split=1.0)


def test_california_versions(cache, pin):
    x = np.random.default_rng(0).random((700, 8), dtype=np.float32)
    y = np.arange(700, dtype=np.float32)
    np.savez(cache / "california_housing.npz", x=x, y=y)
    pin(california_housing, cache / "california_housing.npz")
    (x_train, y_train), (x_test, y_test) = california_housing.load_data(version="small")
    assert x_train.shape == (480, 8)
    assert x_test.shape == (120, 8)
    assert set(y_train) | set(y_test) == set(range(600))
    np.testing.assert_array_equal(x_train, x[y_train.astype(int)])
    (x_train, _), (x_test, _) = california_housing.load_data()
    assert len(x_train) + len(x_test) == 700
    with pytest.raises(
        ValueError, match="expected version 'small' or 'large', got 'tiny'"
    ):
        california_housing.load_data(version="tiny")
