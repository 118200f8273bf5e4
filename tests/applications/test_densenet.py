"""DenseNet: Keras's weight file and hash per depth and top; argument checks."""

import numpy as np
import pytest

import plait
from plait.applications import common, densenet

from .apps_b import weight_file

URL = common.KERAS_WEIGHTS + "densenet/"


@pytest.mark.parametrize(
    ("build", "include_top", "fname", "md5"),
    [
        (
            densenet.DenseNet121,
            True,
            "densenet121_weights_tf_dim_ordering_tf_kernels.h5",
            "9d60b8095a5708f2dcce2bca79d332c7",
        ),
        (
            densenet.DenseNet121,
            False,
            "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "30ee3e1110167f948a6b9946edeeb738",
        ),
        pytest.param(
            densenet.DenseNet169,
            False,
            "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "b8c4d4c20dd625c148057b9ff1c1176b",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            densenet.DenseNet201,
            True,
            "densenet201_weights_tf_dim_ordering_tf_kernels.h5",
            "1ceb130c1ea1b78c3bf6114dbdfd8807",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_densenet_weight_file_and_hash(monkeypatch, build, include_top, fname, md5):
    found = weight_file(monkeypatch, build, include_top=include_top)
    assert found == (fname, URL + fname, md5)


def test_densenet_refuses_channels_first(monkeypatch):
    monkeypatch.setitem(plait.backend.config, "image_data_format", "channels_first")
    with pytest.raises(ValueError, match="DenseNet: expected the 'channels_last'"):
        densenet.DenseNet121(weights=None)


def test_densenet_argument_errors():
    with pytest.raises(ValueError, match=r"input_shape` should be \(224, 224, 3\)"):
        densenet.DenseNet121(input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="got pooling='mean'"):
        densenet.DenseNet121(include_top=False, weights=None, pooling="mean")


def test_densenet_shapes_names_and_input_tensor():
    inputs = plait.Input((32, 32, 3))
    model = densenet.DenseNet121(input_tensor=inputs, include_top=False, weights=None)
    assert model.inputs[0] is inputs
    assert model.name == "densenet121"
    assert model.output_shape == (None, 1, 1, 1024)
    assert model.layers[-1].name == "relu"
    names = {layer.name for layer in model.layers}
    assert {"conv5_block16_concat", "pool4_pool", "bn"} <= names
    top = densenet.DenseNet121(weights=None, input_shape=(32, 32, 3), classes=3)
    assert top.output_shape == (None, 3)
    assert top.layers[-2].name == "avg_pool"


def test_densenet_preprocess_input_is_torch_mode():
    x = np.full((1, 1, 1, 3), 255.0, "float32")
    expected = (1.0 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(
        densenet.preprocess_input(x)[0, 0, 0], expected, rtol=1e-6
    )
