"""MobileNetV2: Keras's weight file per alpha, size and top; argument checks."""

import numpy as np
import pytest

import plait
from plait.applications import common, mobilenet_v2

from .apps_b import weight_file

URL = common.KERAS_WEIGHTS + "mobilenet_v2/"
STEM = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_"


@pytest.mark.parametrize(
    ("kwargs", "fname"),
    [
        ({}, STEM + "1.0_224.h5"),
        ({"alpha": 1.4}, STEM + "1.4_224.h5"),
        (
            {"alpha": 0.35, "include_top": False, "input_shape": (96, 96, 3)},
            STEM + "0.35_96_no_top.h5",
        ),
        (
            {"alpha": 0.5, "include_top": False, "input_shape": (160, 160, 3)},
            STEM + "0.5_160_no_top.h5",
        ),
    ],
)
def test_mobilenet_v2_weight_file_follows_alpha_size_and_top(
    monkeypatch, kwargs, fname
):
    assert weight_file(monkeypatch, mobilenet_v2.MobileNetV2, **kwargs) == (
        fname,
        URL + fname,
        None,  # Keras publishes no hash for the MobileNetV2 files
    )


def test_mobilenet_v2_size_from_input_tensor_and_default_warning(monkeypatch):
    tensor = plait.Input((128, 128, 3))
    fname, _, _ = weight_file(
        monkeypatch, mobilenet_v2.MobileNetV2, input_tensor=tensor
    )
    assert fname == STEM + "1.0_128.h5"
    with pytest.warns(UserWarning, match=r"not in \[96, 128, 160, 192, 224\]"):
        fname, _, _ = weight_file(
            monkeypatch, mobilenet_v2.MobileNetV2, include_top=False
        )
    assert fname == STEM + "1.0_224_no_top.h5"


def test_mobilenet_v2_argument_errors():
    with pytest.raises(ValueError, match=r"expected alpha to be one of .* alpha=0\.6"):
        mobilenet_v2.MobileNetV2(alpha=0.6)
    with pytest.raises(
        ValueError, match=r"`input_shape` to match .* input_shape=\(64, 64, 3\)"
    ):
        mobilenet_v2.MobileNetV2(
            input_shape=(64, 64, 3),
            input_tensor=plait.Input((64, 48, 3)),
            include_top=False,
            weights=None,
        )


def test_mobilenet_v2_names_and_shapes():
    model = mobilenet_v2.MobileNetV2(
        input_shape=(64, 64, 3), include_top=False, weights=None, pooling="avg"
    )
    assert model.name == "mobilenetv2_1_00_64"
    assert model.output_shape == (None, 1280)
    wide = mobilenet_v2.MobileNetV2(
        input_shape=(64, 64, 3), include_top=False, weights=None, alpha=1.4
    )
    assert wide.output_shape == (None, 2, 2, 1792)
    names = {layer.name for layer in wide.layers}
    assert {"expanded_conv_project", "block_16_project_BN", "out_relu"} <= names


def test_mobilenet_v2_preprocess_input_scales_to_plus_minus_one():
    x = np.array([[0.0, 127.5, 255.0]], "float32")
    np.testing.assert_allclose(mobilenet_v2.preprocess_input(x), [[-1.0, 0.0, 1.0]])
