"""Checks the MobileNet, DenseNet and NASNet tests share."""

import numpy as np
import pytest
import torch

import plait
from plait.applications import common

from .golden import batch, fill


class Fetched(Exception):
    """Raised by the stand-in for `get_file`: the request is all a test needs."""


def weight_file(monkeypatch, build, **kwargs):
    """The (file name, URL, hash) that `build(weights="imagenet", **kwargs)` fetches."""
    seen = []

    def get_file(fname, origin, file_hash, cache_subdir):
        seen.append((fname, origin, file_hash, cache_subdir))
        raise Fetched

    monkeypatch.setattr(common, "get_file", get_file)
    with pytest.raises(Fetched):
        build(weights="imagenet", **kwargs)
    [(fname, origin, file_hash, cache_subdir)] = seen
    assert cache_subdir == "models"
    return fname, origin, file_hash


def filled(model):
    """`model` with the goldens' seeded weights (moving statistics far from 0/1)."""
    shapes = [tuple(w.shape) for w in model.get_weights()]
    model.set_weights(fill([w.path for w in model.weights], shapes))
    return model


def check_frozen_batchnorm(model, shape):
    """A frozen base's BatchNormalization uses its moving statistics when training."""
    x = torch.from_numpy(batch(shape) / 127.5 - 1.0)
    model = filled(model)
    inference = model(x, training=False).detach()
    model.trainable = False
    torch.testing.assert_close(model(x, training=True).detach(), inference)
    model.trainable = True  # batch statistics then: the check can fail
    assert not torch.allclose(model(x, training=True).detach(), inference, atol=1e-4)


def check_round_trip(model, shape, tmp_path):
    """`model.save` then `plait.saving.load_model` predicts the same."""
    x = batch(shape) / 127.5 - 1.0
    model = filled(model)
    path = tmp_path / "app.plait"
    model.save(path)
    loaded = plait.saving.load_model(path)
    assert loaded.name == model.name
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
