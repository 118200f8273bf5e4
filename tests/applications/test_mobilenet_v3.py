"""MobileNetV3: Keras's weight file and hash per configuration; argument checks."""

import contextlib

import numpy as np
import pytest

from plait import layers
from plait.applications import common, mobilenet_v3

from .apps_b import weight_file

URL = common.KERAS_WEIGHTS + "mobilenet_v3/"


@pytest.mark.parametrize(
    ("build", "kwargs", "fname", "md5"),
    [
        (
            mobilenet_v3.MobileNetV3Small,
            {},
            "weights_mobilenet_v3_small_224_1.0_float.h5",
            "8768d4c2e7dee89b9d02b2d03d65d862",
        ),
        (
            mobilenet_v3.MobileNetV3Small,
            {"alpha": 0.75, "include_top": False, "input_shape": (224, 224, 3)},
            "weights_mobilenet_v3_small_224_0.75_float_no_top_v2.h5",
            "ebdb5cc8e0b497cd13a7c275d475c819",
        ),
        (
            mobilenet_v3.MobileNetV3Large,
            {"minimalistic": True, "input_shape": (224, 224, 3)},
            "weights_mobilenet_v3_large_minimalistic_224_1.0_float.h5",
            "675e7b876c45c57e9e63e6d90a36599c",
        ),
        (
            mobilenet_v3.MobileNetV3Large,
            {"include_top": False, "input_shape": (224, 224, 3)},
            "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
            "07fb09a5933dd0c8eaafa16978110389",
        ),
    ],
)
def test_mobilenet_v3_weight_file_and_hash(monkeypatch, build, kwargs, fname, md5):
    # The free-size default input is not 224x224: Keras warns, then loads them.
    warns = pytest.warns(UserWarning, match="not 224")
    with warns if not kwargs else contextlib.nullcontext():
        found = weight_file(monkeypatch, build, **kwargs)
    assert found == (fname, URL + fname, md5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 0.5}, r"expected alpha 0\.75 or 1\.0 .* got alpha=0\.5"),
        ({"alpha": 0.75, "minimalistic": True}, r"minimalistic=True"),
        (
            {"input_shape": (31, 64, 3)},
            r"at least 32x32; got input_shape=\(31, 64, 3\)",
        ),
    ],
)
def test_mobilenet_v3_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mobilenet_v3.MobileNetV3Small(**kwargs)


def test_mobilenet_v3_preprocessing_layer_and_pass_through_preprocess_input():
    def rescalings(**kwargs):
        model = mobilenet_v3.MobileNetV3Small(weights=None, **kwargs)
        return [layer for layer in model.layers if isinstance(layer, layers.Rescaling)]

    [rescaling] = rescalings()
    assert (rescaling.scale, rescaling.offset) == (1.0 / 127.5, -1.0)
    assert rescalings(include_preprocessing=False) == []
    x = np.array([[0.0, 255.0]], "float32")
    assert mobilenet_v3.preprocess_input(x) is x


@pytest.mark.parametrize(
    ("pooling", "name"), [("avg", "avg_pool"), ("max", "max_pool")]
)
def test_mobilenet_v3_headless_pooling(pooling, name):
    model = mobilenet_v3.MobileNetV3Large(
        input_shape=(64, 64, 3), include_top=False, weights=None, pooling=pooling
    )
    assert model.layers[-1].name == name
    assert model.output_shape == (None, 960)
    assert model.name == "MobileNetV3Large"
