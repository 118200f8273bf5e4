"""VGG, ResNet, Inception and Xception: arguments, heads, inputs, frozen bases, saving.

Shapes and errors are checked on models built with meta weights (no memory,
no initializers), so the fast run covers every application; what needs real
weights (frozen BatchNormalization, channels_first, a save and load round trip)
uses the smallest inputs each network takes, the bigger cases marked slow.
"""

import numpy as np
import pytest
import torch

import plait
from plait import applications, backend, layers
from plait.applications.inception_resnet_v2 import CustomScaleLayer
from plait.graph.inference import deferred_weights

from .golden import fill, layout

# application -> (smallest input side, channels of the last feature map)
APPS = {
    "VGG16": (32, 512),
    "VGG19": (32, 512),
    "ResNet50": (32, 2048),
    "ResNet101": (32, 2048),
    "ResNet152": (32, 2048),
    "ResNet50V2": (32, 2048),
    "ResNet101V2": (32, 2048),
    "ResNet152V2": (32, 2048),
    "InceptionV3": (75, 2048),
    "Xception": (71, 2048),
    "InceptionResNetV2": (75, 1536),
}
# Spatial size of the last feature map for a 100x140 input (Keras's, checked
# with Keras 3.15.1).
FEATURES_100x140 = {
    "VGG": (3, 4),
    "ResNet": (4, 5),
    "InceptionV3": (1, 3),
    "Xception": (3, 5),
    "InceptionResNetV2": (1, 3),
}


def _meta(app, **kwargs):
    with deferred_weights():
        return getattr(applications, app)(weights=None, **kwargs)


def _features(name):
    for prefix, size in FEATURES_100x140.items():
        if name.startswith(prefix):
            return size
    raise KeyError(name)


@pytest.mark.parametrize("name", list(APPS))
def test_headless_output_shapes(name):
    model = _meta(name, include_top=False, input_shape=(100, 140, 3))
    assert model.output_shape == (None, *_features(name), APPS[name][1])


@pytest.mark.parametrize("name", ["VGG19", "InceptionV3"])
def test_headless_any_size_with_pooling(name):
    model = _meta(name, include_top=False, pooling="max")
    assert model.input_shape == (None, None, None, 3)
    assert model.output_shape == (None, APPS[name][1])


@pytest.mark.parametrize("pooling", ["avg", "max"])
def test_resnet_names_its_pooling_layers_as_keras(pooling):
    model = _meta("ResNet50", include_top=False, pooling=pooling)
    assert model.layers[-1].name == f"{pooling}_pool"
    assert model.output_shape == (None, 2048)


def test_top_has_keras_layers_and_default_input():
    vgg = _meta("VGG16")
    assert [la.name for la in vgg.layers[-4:]] == [
        "flatten",
        "fc1",
        "fc2",
        "predictions",
    ]
    assert vgg.input_shape == (None, 224, 224, 3)
    assert vgg.output_shape == (None, 1000)
    inception = _meta("InceptionV3", classes=7, classifier_activation=None)
    assert inception.input_shape == (None, 299, 299, 3)
    assert [la.name for la in inception.layers[-2:]] == ["avg_pool", "predictions"]
    assert inception.output_shape == (None, 7)
    assert inception.name == "inception_v3"
    assert _meta("ResNet152V2", name="mine").name == "mine"


def test_input_tensor_takes_the_inputs_it_comes_from():
    inputs = plait.Input((48, 48, 3))
    scaled = layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    model = _meta("Xception", include_top=False, input_tensor=scaled, pooling="avg")
    assert model.inputs == [inputs]
    assert model.output_shape == (None, 2048)
    with pytest.raises(ValueError, match="at least 71x71"):
        _meta("Xception", include_top=False, input_shape=(48, 48, 3))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights": "missing.h5"}, r"`weights` argument .* got weights='missing.h5'"),
        (
            {"weights": "imagenet", "classes": 10},
            r"`classes` should be 1000; got classes=10",
        ),
        (
            {"weights": "imagenet", "input_shape": (100, 100, 3)},
            r"`input_shape` should be \(224, 224, 3\); got input_shape=\(100, 100, 3\)",
        ),
        (
            {"weights": None, "include_top": False, "pooling": "sum"},
            r"got pooling='sum'",
        ),
        (
            {"weights": "imagenet", "classifier_activation": "relu"},
            r"got classifier_activation='relu'",
        ),
        ({"weights": None, "input_shape": (None, None, 3)}, "static `input_shape`"),
    ],
)
def test_argument_errors(kwargs, message):
    with deferred_weights(), pytest.raises(ValueError, match=message):
        applications.VGG16(**kwargs)


def test_custom_scale_layer_round_trips(tmp_path):
    a, b = plait.Input((3,)), plait.Input((3,))
    out = CustomScaleLayer(0.17, name="scale")([a, b])
    model = plait.Model([a, b], out)
    assert model.layers[-1].get_config()["scale"] == 0.17
    path = tmp_path / "m.plait"
    model.save(str(path))
    loaded = plait.saving.load_model(str(path))
    assert type(loaded.get_layer("scale")) is CustomScaleLayer
    x = [np.ones((1, 3), "float32"), np.full((1, 3), 2.0, "float32")]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), 1.34, rtol=1e-6)


def _seeded(model):
    paths, shapes = layout(model)
    model.set_weights(fill(paths, shapes))
    return model


@pytest.mark.slow
def test_frozen_base_runs_batchnorm_in_inference_mode():
    base = _seeded(
        applications.ResNet50V2(
            weights=None, include_top=False, input_shape=(32, 32, 3)
        )
    )
    x = torch.as_tensor(np.random.default_rng(0).uniform(-1, 1, (4, 32, 32, 3)))
    x = x.float()
    before = [w.copy() for w in base.get_weights()]
    with torch.no_grad():
        inference = base(x, training=False)
        assert not torch.allclose(base(x, training=True), inference, rtol=1e-3)
        base.set_weights(before)  # the training call moved the statistics
        base.trainable = False
        frozen = base(x, training=True)
    torch.testing.assert_close(frozen, inference)
    for now, then in zip(base.get_weights(), before):
        np.testing.assert_array_equal(now, then)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    ["VGG16", "ResNet50", "ResNet50V2", "InceptionV3", "Xception", "InceptionResNetV2"],
)
def test_channels_first_predicts_as_channels_last(name, fresh_names):
    side = APPS[name][0]
    x = (
        np.random.default_rng(0)
        .uniform(-1, 1, (2, side, side + 4, 3))
        .astype("float32")
    )
    last = _seeded(getattr(applications, name)(weights=None, include_top=False))
    backend.set_image_data_format("channels_first")
    try:
        first = getattr(applications, name)(weights=None, include_top=False)
    finally:
        backend.set_image_data_format("channels_last")
    assert first.input_shape == (None, 3, None, None)
    first.set_weights(last.get_weights())
    want = last.predict(x, verbose=0)
    got = first.predict(np.moveaxis(x, -1, 1), verbose=0)
    atol = 1e-5 * float(np.abs(want).max())  # as test_golden.py: float32 sums
    np.testing.assert_allclose(np.moveaxis(got, 1, -1), want, rtol=1e-4, atol=atol)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["VGG16", "ResNet50", "InceptionV3", "Xception", "InceptionResNetV2"]
)
def test_save_and_load_round_trip(name, tmp_path):
    side = APPS[name][0]
    model = _seeded(
        getattr(applications, name)(
            weights=None, classes=3, input_shape=(side, side, 3)
        )
    )
    path = tmp_path / f"{name}.plait"
    model.save(str(path))
    loaded = plait.saving.load_model(str(path))
    x = np.random.default_rng(0).uniform(0, 255, (2, side, side, 3)).astype("float32")
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
    assert [la.name for la in loaded.layers] == [la.name for la in model.layers]
