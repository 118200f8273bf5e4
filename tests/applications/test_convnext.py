"""ConvNeXt Tiny..XLarge: weight files, arguments, custom layers, saving.

Keras parity of the predictions is in test_golden.py (cases_c.py); signatures,
the big members and Keras's weight files are checked live in test_live_c.py.
"""

import numpy as np
import pytest
import torch

import plait
from plait import applications, backend, layers
from plait.applications import convnext

from .golden import batch, fill

SMALL = {"include_top": False, "weights": None, "input_shape": (32, 32, 3)}
URL = "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"


def test_convnext_headless_ends_in_layer_normalization():
    model = applications.ConvNeXtTiny(**SMALL)
    assert model.output_shape == (None, 1, 1, 768)
    assert type(model.layers[-1]).__name__ == "LayerNormalization"


def test_convnext_argument_errors():
    with pytest.raises(
        ValueError,
        match="must contain the weights variant 'convnext_tiny'; got name='mine'",
    ):
        applications.ConvNeXtTiny(include_top=False, name="mine")
    with pytest.raises(ValueError, match="`classes` should be 1000; got classes=5"):
        applications.ConvNeXtTiny(classes=5)
    backend.set_image_data_format("channels_first")
    try:
        with pytest.raises(
            ValueError, match="only the `channels_last` image data format"
        ):
            applications.ConvNeXtTiny(**SMALL)
    finally:
        backend.set_image_data_format("channels_last")


def test_stochastic_depth_drops_whole_samples_in_training_only():
    layer = convnext.StochasticDepth(0.5)
    x = torch.ones(64, 3, 2)
    assert torch.equal(layer(x), x)
    y = layer(x, training=True)
    per_sample = y.reshape(64, -1)
    assert set(per_sample.unique().tolist()) <= {0.0, 2.0}
    assert torch.all(per_sample == per_sample[:, :1])  # one draw per sample
    assert 0 < int((per_sample[:, 0] == 0).sum()) < 64
    assert (
        convnext.StochasticDepth.from_config(layer.get_config()).drop_path_rate == 0.5
    )


def test_layer_scale_scales_channels_and_round_trips_its_config():
    layer = convnext.LayerScale(0.25, 3, name="ls")
    out = layer(torch.ones(2, 4, 3))
    assert torch.allclose(out, torch.full((2, 4, 3), 0.25))
    assert layer.weights[0].shape == (3,)
    clone = convnext.LayerScale.from_config(layer.get_config())
    assert (clone.init_values, clone.projection_dim) == (0.25, 3)


def test_convnext_input_tensor_and_pooling():
    inputs = plait.Input((32, 40, 3))
    features = layers.Activation("linear")(inputs)
    model = applications.ConvNeXtTiny(
        include_top=False, weights=None, input_tensor=features, pooling="avg"
    )
    assert model.inputs[0] is inputs
    assert model.output_shape == (None, 768)
    assert convnext.preprocess_input(features) is features


@pytest.mark.slow
def test_convnext_save_load_round_trip(tmp_path):
    model = applications.ConvNeXtTiny(**SMALL, pooling="max")
    paths = [w.path for w in model.weights]
    model.set_weights(fill(paths, [tuple(v.shape) for v in model.get_weights()]))
    model.save(tmp_path / "tiny.plait")
    loaded = plait.saving.load_model(tmp_path / "tiny.plait")
    kinds = {type(layer).__name__ for layer in loaded.layers}
    assert "Sequential" in kinds
    x = batch((2, 32, 32, 3))
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
    scales = [x for x in loaded.layers if isinstance(x, convnext.LayerScale)]
    assert len(scales) == 18
