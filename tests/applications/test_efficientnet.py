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


BUCKET = "https://storage.googleapis.com/tensorflow/keras-applications/"


@pytest.mark.parametrize(
    ("module", "member", "name", "include_top", "base", "file_hash"),
    [
        (
            "efficientnet",
            "b0",
            "efficientnetb0",
            True,
            "https://storage.googleapis.com/keras-applications/",
            "902e53a9f72be733fc0bcb005b3ebbac",
        ),
        (
            "efficientnet",
            "b0",
            "efficientnetb0",
            False,
            "https://storage.googleapis.com/keras-applications/",
            "50bc09e76180e00e4465e1a485ddc09d",
        ),
        (
            "efficientnet",
            "b7",
            "efficientnetb7",
            True,
            "https://storage.googleapis.com/keras-applications/",
            "8c03f828fec3ef71311cd463b6759d99",
        ),
        (
            "efficientnet_v2",
            "b3",
            "efficientnetv2-b3",
            False,
            BUCKET + "efficientnet_v2/",
            "f6abf7b5849ac99a89b50dd3fd532856",
        ),
        (
            "efficientnet_v2",
            "s",
            "efficientnetv2-s",
            True,
            BUCKET + "efficientnet_v2/",
            "e1d88a8495beba45748fedd0cecbe016",
        ),
        (
            "efficientnet_v2",
            "l",
            "efficientnetv2-l",
            False,
            BUCKET + "efficientnet_v2/",
            "b0b66b5c863aef5b46e8608fe1711615",
        ),
        (
            "convnext",
            "tiny",
            "convnext_tiny",
            True,
            BUCKET + "convnext/",
            "8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
        ),
        (
            "convnext",
            "small",
            "convnext_small",
            False,
            BUCKET + "convnext/",
            "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab",
        ),
        (
            "convnext",
            "xlarge",
            "convnext_xlarge",
            True,
            BUCKET + "convnext/",
            "c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
        ),
    ],
)
def test_imagenet_file_per_member(module, member, name, include_top, base, file_hash):
    fam = getattr(applications, module)
    entry = common.top_or_notop_file(
        fam._BASE_URL, name, include_top, fam._HASHES[member]
    )()
    fname = name + (".h5" if include_top else "_notop.h5")
    assert entry == (fname, base + fname, file_hash)


KERAS = "https://storage.googleapis.com/"
ASKED = [
    (
        "EfficientNetB0",
        KERAS + "keras-applications/efficientnetb0_notop.h5",
        "50bc09e76180e00e4465e1a485ddc09d",
        ["Rescaling", "Normalization", "Rescaling", "ZeroPadding2D"],
    ),
    (
        "EfficientNetV2B0",
        KERAS
        + "tensorflow/keras-applications/efficientnet_v2/efficientnetv2-b0_notop.h5",
        "893217f2bb855e2983157299931e43ff",
        ["Rescaling", "Normalization", "Conv2D", "BatchNormalization"],
    ),
    (
        "ConvNeXtTiny",
        KERAS + "tensorflow/keras-applications/convnext/convnext_tiny_notop.h5",
        "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1",
        ["Normalization", "Sequential", "Conv2D", "LayerNormalization"],
    ),
]


@pytest.mark.parametrize(
    ("name", "url", "file_hash", "kinds"), ASKED, ids=[a[0] for a in ASKED]
)
def test_imagenet_asks_for_keras_file_for_keras_graph(
    name, url, file_hash, kinds, monkeypatch
):
    loaded = []
    monkeypatch.setattr(common, "load_weights", lambda *args: loaded.append(args))
    model = getattr(applications, name)(include_top=False, input_shape=(32, 32, 3))
    ((got, weights, files),) = loaded
    assert got is model
    assert weights == "imagenet"
    assert files() == (url.rsplit("/", 1)[-1], url, file_hash)
    # The in-model preprocessing; EfficientNet (V1) divides by sqrt(std) again.
    assert [type(layer).__name__ for layer in model.layers[1:5]] == kinds
    if name == "EfficientNetB0":
        root_std = [1 / np.sqrt(s) for s in (0.229, 0.224, 0.225)]
        np.testing.assert_allclose(model.layers[3].scale, root_std)


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
@pytest.mark.parametrize("name", ["EfficientNetB0", "EfficientNetV2B0"])
def test_efficientnet_channels_first_matches_channels_last(name):
    model = _filled(getattr(applications, name)(**SMALL, pooling="avg"))
    x = batch((2, 32, 32, 3))
    expected = model.predict(x, verbose=0)
    backend.set_image_data_format("channels_first")
    try:
        first = getattr(applications, name)(
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
