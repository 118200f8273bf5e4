"""MobileNet: Keras's weight file per alpha, size and top; argument checks; shapes."""

import numpy as np
import pytest

import plait
from plait import layers
from plait.applications import common, imagenet_utils, mobilenet

from .apps_b import weight_file

URL = common.KERAS_WEIGHTS + "mobilenet/"


@pytest.mark.parametrize(
    ("kwargs", "fname"),
    [
        ({}, "mobilenet_1_0_224_tf.h5"),
        (
            {"alpha": 0.25, "include_top": False, "input_shape": (128, 128, 3)},
            "mobilenet_2_5_128_tf_no_top.h5",
        ),
        (
            {"alpha": 0.5, "include_top": False, "input_shape": (192, 192, 3)},
            "mobilenet_5_0_192_tf_no_top.h5",
        ),
        ({"alpha": 0.75, "input_shape": (224, 224, 3)}, "mobilenet_7_5_224_tf.h5"),
    ],
)
def test_mobilenet_weight_file_follows_alpha_size_and_top(monkeypatch, kwargs, fname):
    assert weight_file(monkeypatch, mobilenet.MobileNet, **kwargs) == (
        fname,
        URL + fname,
        None,  # Keras publishes no hash for the MobileNet files
    )


def test_mobilenet_other_sizes_get_the_224_weights_with_a_warning(monkeypatch):
    with pytest.warns(UserWarning, match=r"not in \[128, 160, 192, 224\]"):
        fname, _, _ = weight_file(
            monkeypatch,
            mobilenet.MobileNet,
            include_top=False,
            input_shape=(96, 128, 3),
            alpha=0.5,
        )
    assert fname == "mobilenet_5_0_224_tf_no_top.h5"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 0.3}, r"expected alpha to be one of .* got alpha=0\.3"),
        (
            {"depth_multiplier": 2},
            r"expected depth_multiplier=1, got depth_multiplier=2",
        ),
        ({"classes": 10}, r"`classes` should be 1000; got classes=10"),
        (
            {"include_top": False, "pooling": "sum", "weights": None},
            r"`pooling` should be None, 'avg' or 'max'; got pooling='sum'",
        ),
        (
            {"classifier_activation": "relu"},
            r"`classifier_activation`.* got classifier_activation='relu'",
        ),
    ],
)
def test_mobilenet_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mobilenet.MobileNet(**{"weights": "imagenet", **kwargs})


@pytest.mark.parametrize(
    ("pooling", "shape"),
    [(None, (None, 2, 3, 256)), ("avg", (None, 256)), ("max", (None, 256))],
)
def test_mobilenet_headless_shapes(pooling, shape):
    model = mobilenet.MobileNet(
        input_shape=(64, 96, 3),
        alpha=0.25,
        include_top=False,
        weights=None,
        pooling=pooling,
    )
    assert model.output_shape == shape
    assert model.name == "mobilenet_0_25_64"


def test_mobilenet_names_and_top():
    model = mobilenet.MobileNet(weights=None, alpha=0.25)
    assert model.name == "mobilenet_0_25_224"
    assert model.output_shape == (None, 1000)
    assert [layer.name for layer in model.layers[-4:]] == [
        "dropout",
        "conv_preds",
        "reshape_2",
        "predictions",
    ]
    headless = mobilenet.MobileNet(weights=None, include_top=False)
    assert headless.name == "mobilenet_1_00_None"
    assert headless.input_shape == (None, None, None, 3)


def test_mobilenet_input_tensor_keeps_its_source_input():
    inputs = plait.Input((32, 32, 3))
    scaled = layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)
    model = mobilenet.MobileNet(
        input_tensor=scaled, include_top=False, weights=None, alpha=0.25
    )
    assert model.inputs[0] is inputs
    x = np.full((2, 32, 32, 3), 127.5, "float32")
    assert model.predict(x, verbose=0).shape == (2, 1, 1, 256)


def test_mobilenet_preprocess_and_decode_are_keras_s(monkeypatch):
    x = np.array([[[[0.0, 127.5, 255.0]]]], "float32")
    np.testing.assert_allclose(mobilenet.preprocess_input(x), [[[[-1.0, 0.0, 1.0]]]])
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    monkeypatch.setattr(imagenet_utils, "_class_index", index)
    preds = np.zeros((1, 1000), "float32")
    preds[0, 7] = 1.0
    assert mobilenet.decode_predictions(preds, top=1) == [
        [("n00000007", "class_7", 1.0)]
    ]
