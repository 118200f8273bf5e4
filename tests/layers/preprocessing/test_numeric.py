"""CategoryEncoding, Discretization and Normalization: errors, graphs, saving."""

import numpy as np
import pytest
import torch

import plait
from plait import layers


def test_category_encoding_errors():
    with pytest.raises(ValueError, match="expected `num_tokens`"):
        layers.CategoryEncoding()
    with pytest.raises(ValueError, match="expected `output_mode` to be one of"):
        layers.CategoryEncoding(num_tokens=3, output_mode="tf_idf")
    enc = layers.CategoryEncoding(num_tokens=3, name="enc")
    with pytest.raises(ValueError, match=r"layer 'enc': expected values in \[0, 3\)"):
        enc(torch.tensor([[0, 5]]))
    with pytest.raises(ValueError, match="expected inputs of rank 2 at most"):
        enc(torch.zeros(2, 2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="expected `count_weights` only"):
        enc(torch.tensor([[0, 1]]), count_weights=torch.ones(1, 2))


def test_category_encoding_in_a_model():
    x = plait.Input(shape=(2,), dtype="int32")
    y = layers.CategoryEncoding(num_tokens=5)(x)
    assert y.shape == (None, 5)
    assert y.dtype == torch.float32
    model = plait.Model(x, y)
    out = model.predict(np.array([[1, 4]], "int32"), verbose=0)
    np.testing.assert_array_equal(out, [[0, 1, 0, 0, 1]])


def test_discretization_errors_and_config():
    with pytest.raises(ValueError, match="not both"):
        layers.Discretization(bin_boundaries=[0.0], num_bins=2)
    with pytest.raises(ValueError, match="expected sorted `bin_boundaries`"):
        layers.Discretization(bin_boundaries=[1.0, 0.0])
    with pytest.raises(ValueError, match="expected `bin_boundaries` to be None"):
        layers.Discretization(bin_boundaries=[0.0]).adapt(np.zeros(3))
    with pytest.raises(ValueError, match="expected `bin_boundaries` or a call"):
        layers.Discretization(num_bins=2)(torch.zeros(2))
    disc = layers.Discretization(num_bins=2)
    disc.adapt(iter([np.array([0.0, 1.0]), np.array([2.0, 3.0])]))
    again = layers.Discretization.from_config(disc.get_config())
    assert again.bin_boundaries == disc.bin_boundaries
    x = torch.tensor([0.0, 1.9, 2.1, 3.0])
    assert torch.equal(again(x), disc(x))
    assert disc(x).dtype == torch.int64


def test_normalization_errors():
    with pytest.raises(ValueError, match="expected both `mean` and `variance`"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="expected `axis` within an input of rank 2"):
        layers.Normalization(axis=3).adapt(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="expected a known size on axis 1"):
        layers.Normalization()(plait.Input(shape=(None,)))


def test_normalization_adapts_on_batches_and_saves(tmp_path):
    data = np.random.default_rng(0).normal(3.0, 2.0, size=(64, 3)).astype("float32")
    norm = layers.Normalization()
    norm.adapt([data[:20], data[20:]])  # a list is an iterable of batches
    np.testing.assert_allclose(norm.mean.detach(), data.mean(0), rtol=1e-5)
    np.testing.assert_allclose(norm.variance.detach(), data.var(0), rtol=1e-4)
    x = plait.Input(shape=(3,))
    model = plait.Model(x, layers.Dense(1)(norm(x)))
    model.compile("sgd", "mse")
    model.fit(data, data[:, :1], epochs=1, verbose=0)
    path = tmp_path / "norm.plait"
    model.save(path)
    loaded = plait.models.load_model(path)
    np.testing.assert_allclose(
        loaded.predict(data, verbose=0), model.predict(data, verbose=0), rtol=1e-6
    )
    assert norm.mean.requires_grad is False
