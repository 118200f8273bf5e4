"""EfficientNet B0..B7: weight files, arguments, data formats, freezing, saving.

Keras parity of the predictions is in test_golden.py (cases_c.py); the live
comparisons with Keras (signatures, big members, Keras's own weight files) are
in test_live_c.py.
"""

import numpy as np
import pytest
import torch

import plait
from plait import applications, backend, layers
from plait.applications import common, efficientnet

from .golden import batch, fill

SMALL = {"include_top": False, "weights": None, "input_shape": (32, 32, 3)}


def _filled(model):
    paths = [w.path for w in model.weights]
    model.set_weights(fill(paths, [tuple(w.shape) for w in model.get_weights()]))
    return model


@pytest.mark.parametrize(
    ("member", "include_top", "fname", "file_hash"),
    [
        ("b0", True, "efficientnetb0.h5", "902e53a9f72be733fc0bcb005b3ebbac"),
        ("b0", False, "efficientnetb0_notop.h5", "50bc09e76180e00e4465e1a485ddc09d"),
        ("b3", False, "efficientnetb3_notop.h5", "af6d107764bb5b1abb91932881670226"),
        ("b7", True, "efficientnetb7.h5", "8c03f828fec3ef71311cd463b6759d99"),
    ],
)
def test_efficientnet_imagenet_file_per_member(member, include_top, fname, file_hash):
    entry = common.top_or_notop_file(
        efficientnet._BASE_URL,
        f"efficientnet{member}",
        include_top,
        efficientnet._HASHES[member],
    )()
    url = "https://storage.googleapis.com/keras-applications/" + fname
    assert entry == (fname, url, file_hash)


def test_efficientnet_imagenet_loads_keras_file_into_keras_graph(monkeypatch):
    loaded = []
    monkeypatch.setattr(common, "load_weights", lambda *args: loaded.append(args))
    model = applications.EfficientNetB0(include_top=False, input_shape=(32, 32, 3))
    ((got, weights, files),) = loaded
    assert got is model
    assert weights == "imagenet"
    url = "https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5"
    assert files() == (
        "efficientnetb0_notop.h5",
        url,
        "50bc09e76180e00e4465e1a485ddc09d",
    )
    # Keras compat: with ImageNet weights a third preprocessing layer follows.
    kinds = [type(layer).__name__ for layer in model.layers[1:5]]
    assert kinds == ["Rescaling", "Normalization", "Rescaling", "ZeroPadding2D"]
    np.testing.assert_allclose(
        model.layers[3].scale, [1 / np.sqrt(s) for s in (0.229, 0.224, 0.225)]
    )


def test_efficientnet_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="`classes` should be 1000; got classes=10"):
        applications.EfficientNetB0(classes=10)
    with pytest.raises(ValueError, match=r"got weights='missing\.h5'"):
        applications.EfficientNetB0(weights="missing.h5")
    with pytest.raises(
        ValueError, match=r"at least 32x32; got input_shape=\(16, 16, 3\)"
    ):
        applications.EfficientNetB0(**{**SMALL, "input_shape": (16, 16, 3)})
    with pytest.raises(ValueError, match="got pooling='sum'"):
        applications.EfficientNetB0(**SMALL, pooling="sum")
    with pytest.raises(ValueError, match="got classifier_activation='relu'"):
        applications.EfficientNetB0(
            input_shape=(224, 224, 3), weights="imagenet", classifier_activation="relu"
        )


def test_efficientnet_headless_shapes_pooling_and_input_tensor():
    inputs = plait.Input((40, 48, 3), name="img")
    features = layers.Activation("linear")(inputs)
    model = applications.EfficientNetB0(
        include_top=False, weights=None, input_tensor=features
    )
    assert model.inputs[0] is inputs
    assert model.output_shape == (None, 2, 2, 1280)
    pooled = applications.EfficientNetB0(**SMALL, pooling="max")
    assert [layer.name for layer in pooled.layers[-1:]] == ["max_pool"]
    assert pooled.output_shape == (None, 1280)
    assert efficientnet.preprocess_input is not None
    x = np.ones((1, 2, 2, 3))
    assert efficientnet.preprocess_input(x) is x


@pytest.mark.slow
def test_efficientnet_channels_first_matches_channels_last():
    model = _filled(applications.EfficientNetB0(**SMALL, pooling="avg"))
    x = batch((2, 32, 32, 3))
    expected = model.predict(x, verbose=0)
    backend.set_image_data_format("channels_first")
    try:
        first = applications.EfficientNetB0(
            include_top=False, weights=None, input_shape=(3, 32, 32), pooling="avg"
        )
    finally:
        backend.set_image_data_format("channels_last")
    first.set_weights(model.get_weights())
    got = first.predict(x.transpose(0, 3, 1, 2), verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_efficientnet_frozen_base_runs_batchnorm_in_inference_mode():
    base = _filled(applications.EfficientNetB0(**SMALL, pooling="avg"))
    for layer in base.layers:  # drop connect stays random in training: switch it off
        if isinstance(layer, layers.Dropout):
            layer.rate = 0.0
    base.trainable = False
    x = torch.as_tensor(batch((2, 32, 32, 3)))
    before = [w.copy() for w in base.get_weights()]
    with torch.no_grad():
        trained = base(x, training=True)
        inferred = base(x, training=False)
    torch.testing.assert_close(trained, inferred)
    for old, new in zip(before, base.get_weights()):
        np.testing.assert_array_equal(old, new)


@pytest.mark.slow
def test_efficientnet_save_load_round_trip(tmp_path):
    model = _filled(applications.EfficientNetB0(**SMALL, pooling="avg"))
    model.save(tmp_path / "b0.plait")
    loaded = plait.saving.load_model(tmp_path / "b0.plait")
    x = batch((2, 32, 32, 3))
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
    assert loaded.name == "efficientnetb0"
