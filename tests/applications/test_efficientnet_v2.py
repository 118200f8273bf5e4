"""EfficientNetV2 B0..B3, S, M, L: weight files, preprocessing, arguments, saving.

Keras parity of the predictions is in test_golden.py (cases_c.py); signatures,
the big members (M, L) and Keras's weight files are checked live in
test_live_c.py.
"""

import numpy as np
import pytest

import plait
from plait import applications, layers
from plait.applications import efficientnet_v2

from .golden import batch, fill

URL = "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/"


def test_efficientnet_v2_classes_must_be_1000_with_imagenet_top():
    with pytest.raises(ValueError, match="`classes` should be 1000; got classes=3"):
        applications.EfficientNetV2S(classes=3)


def test_efficientnet_v2_preprocessing_per_member_and_channels():
    # S, M, L (and B members on other than 3 channels) map [0, 255] to [-1, 1].
    img = plait.Input((32, 32, 3))
    x = efficientnet_v2._preprocess(img, "s", 3)
    assert type(x.node.layer).__name__ == "Rescaling"
    assert x.node.layer.scale == 1 / 128.0
    assert x.node.layer.offset == -1
    one = efficientnet_v2._preprocess(plait.Input((32, 32, 1)), "b0", 1)
    assert one.node.layer.offset == -1
    b = efficientnet_v2._preprocess(img, "b2", 3)
    assert type(b.node.layer).__name__ == "Normalization"
    assert efficientnet_v2.preprocess_input(img) is img


@pytest.mark.slow
def test_efficientnet_v2_input_tensor_and_save_load(tmp_path):
    inputs = plait.Input((32, 32, 3))
    features = layers.Activation("linear")(inputs)
    model = applications.EfficientNetV2B0(
        include_top=False, weights=None, input_tensor=features, pooling="avg"
    )
    assert model.inputs[0] is inputs
    paths = [w.path for w in model.weights]
    model.set_weights(fill(paths, [tuple(v.shape) for v in model.get_weights()]))
    x = batch((2, 32, 32, 3))
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "v2.plait")
    loaded = plait.saving.load_model(tmp_path / "v2.plait")
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6
    )
