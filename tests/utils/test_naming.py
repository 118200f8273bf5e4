"""Keras-style auto names and name validation."""

import pytest

from plait.layers import Dense
from plait.utils import clear_session
from plait.utils.naming import to_snake_case, unique_name, validate_name


@pytest.mark.parametrize(
    ("cls", "snake"),
    [
        ("Dense", "dense"),
        ("LSTM", "lstm"),
        ("Conv2D", "conv2d"),
        ("Conv2DTranspose", "conv2d_transpose"),
        ("MaxPooling2D", "max_pooling2d"),
        ("GlobalAveragePooling1D", "global_average_pooling1d"),
        ("BatchNormalization", "batch_normalization"),
        ("InputLayer", "input_layer"),
        ("SimpleRNN", "simple_rnn"),
        ("GRU", "gru"),
    ],
)
def test_naming_snake_case_matches_keras(cls, snake):
    assert to_snake_case(cls) == snake


def test_naming_unique_name_counts_per_prefix(fresh_names):
    assert [unique_name("x") for _ in range(3)] == ["x", "x_1", "x_2"]
    assert unique_name("y") == "y"


def test_naming_clear_session_restarts_counters(fresh_names):
    assert Dense(1).name == "dense"
    assert Dense(1).name == "dense_1"
    clear_session()
    assert Dense(1).name == "dense"


def test_naming_validate_name():
    assert validate_name("ok_name", "X") == "ok_name"
    with pytest.raises(TypeError, match=r"X: expected `name` to be a non-empty str"):
        validate_name("", "X")
    with pytest.raises(ValueError, match="without '/'"):
        validate_name("a/b", "X")
