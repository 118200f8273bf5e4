"""NASNet: Keras's weight file, URL and hash per model and top; argument checks."""

import numpy as np
import pytest

import plait
from plait.applications import common, nasnet

from .apps_b import weight_file

URL = common.KERAS_WEIGHTS + "nasnet/"


@pytest.mark.parametrize(
    ("build", "include_top", "fname", "url", "md5"),
    [
        pytest.param(
            nasnet.NASNetMobile,
            True,
            "nasnet_mobile.h5",
            "NASNet-mobile.h5",
            "020fb642bf7360b370c678b08e0adf61",
            marks=pytest.mark.slow,
        ),
        (
            nasnet.NASNetMobile,
            False,
            "nasnet_mobile_no_top.h5",
            "NASNet-mobile-no-top.h5",
            "1ed92395b5b598bdda52abe5c0dbfd63",
        ),
        pytest.param(
            nasnet.NASNetLarge,
            True,
            "nasnet_large.h5",
            "NASNet-large.h5",
            "11577c9a518f0070763c2b964a382f17",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            nasnet.NASNetLarge,
            False,
            "nasnet_large_no_top.h5",
            "NASNet-large-no-top.h5",
            "d81d89dc07e6e56530c4e77faddd61b5",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_nasnet_weight_file_and_hash(monkeypatch, build, include_top, fname, url, md5):
    found = weight_file(monkeypatch, build, include_top=include_top)
    assert found == (fname, URL + url, md5)


def test_nasnet_argument_errors(monkeypatch):
    with pytest.raises(ValueError, match=r"static input_shape .*=\(None, None, 3\)"):
        nasnet.NASNetLarge(input_shape=(None, None, 3), include_top=False)
    with pytest.raises(ValueError, match=r"input_shape` should be \(224, 224, 3\)"):
        nasnet.NASNetMobile(input_shape=(64, 64, 3))
    monkeypatch.setitem(plait.backend.config, "image_data_format", "channels_first")
    with pytest.raises(ValueError, match="NASNet: expected the 'channels_last'"):
        nasnet.NASNetMobile(weights=None)


@pytest.mark.slow
def test_nasnet_mobile_shapes_and_names():
    model = nasnet.NASNetMobile(include_top=False, weights=None)
    assert model.input_shape == (None, 224, 224, 3)  # Keras's headless default
    assert model.output_shape == (None, 7, 7, 1056)
    assert model.name == "nasnet_mobile"
    names = {layer.name for layer in model.layers}
    assert {
        "stem_conv1",
        "reduction_concat_stem_1",
        "normal_concat_12",
        "adjust_bn_reduce_8",
        "separable_conv_2_bn_normal_left5_12",
    } <= names
    small = nasnet.NASNetMobile(
        input_shape=(32, 32, 3), weights=None, include_top=False, pooling="max"
    )
    assert small.output_shape == (None, 1056)


def test_nasnet_preprocess_input_scales_to_plus_minus_one():
    x = np.array([[0.0, 255.0]], "float32")
    np.testing.assert_allclose(nasnet.preprocess_input(x), [[-1.0, 1.0]])
