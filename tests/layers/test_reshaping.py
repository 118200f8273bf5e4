"""Reshaping and regularization layers: argument checks, unknown dims, dropout."""

import pytest
import torch

import plait
from plait.layers import Dropout, Flatten, Input, Permute, RepeatVector, Reshape


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Reshape((2, -1, -1)), "at most one -1"),
        (lambda: Reshape((0, 2)), "positive ints"),
        (lambda: Reshape(4), "tuple of positive ints"),
        (lambda: Permute((1, 3)), r"permutation of 1\.\.n, got dims=\(1, 3\)"),
        (lambda: RepeatVector(0), "expected `n` to be a positive int, got n=0"),
        (lambda: Flatten(data_format="nchw"), "expected data_format in"),
        (lambda: Dropout(1.0), r"expected `rate` in \[0, 1\), got rate=1\.0"),
    ],
    ids=["reshape_two_minus_one", "reshape_zero", "reshape_int", "permute", "repeat",
         "flatten_format", "dropout_rate"],
)  # fmt: skip
def test_reshaping_constructor_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_reshape_size_mismatch_message():
    with pytest.raises(
        ValueError,
        match=r"^Reshape layer '\w+': expected an input with 4 values per sample to "
        r"reshape to \(4,\), got shape \(None, 3\)\.$",
    ):
        Reshape((4,))(Input(shape=(3,)))
    with pytest.raises(ValueError, match=r"cannot reshape 3 values per sample"):
        Reshape((-1, 2))(Input(shape=(3,)))


def test_reshaping_unknown_dims():
    x = Input(shape=(None, 4))
    assert Flatten()(x).shape == (None, None)
    assert Reshape((-1, 2))(x).shape == (None, None, 2)
    assert Permute((2, 1))(x).shape == (None, 4, None)


def test_reshaping_keeps_int_dtype():
    ids = Input(shape=(2, 3), dtype="int32")
    assert Flatten()(ids).dtype == torch.int32
    assert Reshape((3, 2))(ids).dtype == torch.int32


def test_permute_wrong_rank_message():
    with pytest.raises(
        ValueError, match=r"^Permute layer '\w+': expected input with 3 dims"
    ):
        Permute((2, 1))(Input(shape=(3, 4, 5)))


def test_dropout_training_scales_and_drops():
    layer = Dropout(0.25)
    x = torch.ones(4, 1000)
    y = layer(x, training=True)
    kept = y != 0
    assert 0.65 < kept.float().mean().item() < 0.85
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 1 / 0.75))


def test_dropout_noise_shape_shares_mask():
    layer = Dropout(0.5, noise_shape=(None, 1, 6))
    y = layer(torch.ones(3, 5, 6), training=True)
    assert torch.equal(y[:, :1].expand_as(y), y)  # same drop at every step


def test_dropout_model_predict_and_training_flag():
    x = Input(shape=(50,))
    model = plait.Model(x, Dropout(0.5)(x))
    data = torch.ones(2, 50)
    torch.testing.assert_close(model(data), data)
    assert (model(data, training=True) == 0).any()
    model.train()
    assert (model(data) == 0).any()
    model.eval()
    torch.testing.assert_close(model(data), data)


def test_dropout_explicit_training_true_in_graph_is_kept():
    x = Input(shape=(50,))
    model = plait.Model(x, Dropout(0.5)(x, training=True))  # Monte Carlo dropout
    assert (model(torch.ones(2, 50)) == 0).any()
