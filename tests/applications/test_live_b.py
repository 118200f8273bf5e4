"""MobileNet, DenseNet and NASNet against live Keras 3: signatures and weight files.

Marked `keras`, skipped where Keras cannot be imported. Run with the Keras venv:

    KERAS_BACKEND=torch PYTHONPATH=$PWD /tmp/kv/bin/python -m pytest -m keras \
        tests/applications/test_live_b.py -p no:cacheprovider
"""

import inspect
import os
import warnings

import h5py
import numpy as np
import pytest

import plait
from plait import applications

from .golden import batch, fill

os.environ.setdefault("KERAS_BACKEND", "torch")  # else Keras looks for TensorFlow
keras = pytest.importorskip("keras")
legacy = pytest.importorskip("keras.src.legacy.saving.legacy_h5_format")

pytestmark = pytest.mark.keras

MODULES = {
    "mobilenet": ["MobileNet"],
    "mobilenet_v2": ["MobileNetV2"],
    "mobilenet_v3": ["MobileNetV3Small", "MobileNetV3Large"],
    "densenet": ["DenseNet121", "DenseNet169", "DenseNet201"],
    "nasnet": ["NASNetMobile", "NASNetLarge"],
}
FUNCTIONS = [(module, name) for module, names in MODULES.items() for name in names]
# One configuration per family whose Keras weight file plait must load.
WEIGHT_FILES = [
    ("MobileNet", {"input_shape": (32, 32, 3), "alpha": 0.25, "classes": 7}),
    (
        "MobileNetV2",
        {"input_shape": (40, 32, 3), "alpha": 0.5, "include_top": False},
    ),
    ("MobileNetV3Small", {"input_shape": (32, 32, 3), "classes": 3}),
    (
        "MobileNetV3Large",
        {"input_shape": (32, 40, 3), "include_top": False, "minimalistic": True},
    ),
    ("DenseNet121", {"input_shape": (32, 32, 3), "include_top": False}),
    ("NASNetMobile", {"input_shape": (32, 32, 3), "classes": 3}),
    pytest.param(
        "NASNetLarge",
        {"input_shape": (32, 32, 3), "include_top": False, "pooling": "avg"},
        marks=pytest.mark.slow,
    ),
]


def _parameters(fn):
    return [
        (p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()
    ]


@pytest.mark.parametrize(("module", "name"), FUNCTIONS)
def test_signature_is_keras_s(module, name):
    ours = getattr(getattr(applications, module), name)
    theirs = getattr(keras.applications, name)
    assert _parameters(ours) == _parameters(theirs)
    assert getattr(applications, name) is ours


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_exposes_keras_s_functions(module):
    theirs = {
        n for n in dir(getattr(keras.applications, module)) if not n.startswith("_")
    }
    ours = set(dir(getattr(applications, module)))
    assert theirs <= ours


def _keras_application(name, kwargs):
    if name != "NASNetMobile":
        return getattr(keras.applications, name)(weights=None, **kwargs)
    # Keras's torch backend refuses NASNetMobile; its builder, given the mobile
    # hyperparameters, makes the same network.
    from keras.src.applications import nasnet

    return nasnet.NASNet(
        penultimate_filters=1056,
        num_blocks=4,
        stem_block_filters=32,
        skip_reduction=False,
        default_size=224,
        weights=None,
        name="nasnet_mobile",
        **kwargs,
    )


def _keras_weight_files(tmp_path, name, kwargs):
    # Keras's model with seeded weights, its prediction on a batch, and its
    # weights written as a Keras 2 file (the published files' format) and a
    # Keras 3 `.weights.h5` file.
    with warnings.catch_warnings():  # Keras's torch backend, on NumPy 2
        warnings.simplefilter("ignore", DeprecationWarning)
        model = _keras_application(name, kwargs)
        paths = [v.path for v in model.weights]
        model.set_weights(fill(paths, [tuple(v.shape) for v in model.weights]))
        x = batch((2, *kwargs["input_shape"]))
        expected = keras.ops.convert_to_numpy(model(x, training=False))
        legacy_path = tmp_path / "legacy.h5"
        with h5py.File(legacy_path, "w") as f:
            legacy.save_weights_to_hdf5_group(f, model)
        keras3_path = tmp_path / "app.weights.h5"
        model.save_weights(keras3_path)
    return x, expected, paths, (legacy_path, keras3_path)


@pytest.mark.parametrize(("name", "kwargs"), WEIGHT_FILES)
def test_keras_weight_files_load(tmp_path, name, kwargs):
    x, expected, paths, files = _keras_weight_files(tmp_path, name, kwargs)
    # Keras 3 nests NASNet's weight paths in name scopes; the layer and weight
    # names, in Keras's order, are what its files are read by.
    ours = getattr(applications, name)(weights=None, **kwargs)
    assert [w.path for w in ours.weights] == [
        "/".join(p.split("/")[-2:]) for p in paths
    ]
    atol = 1e-5 * max(1.0, float(np.abs(expected).max()))  # as test_golden.py
    for path in files:
        ours = getattr(applications, name)(weights=str(path), **kwargs)
        np.testing.assert_allclose(
            ours.predict(x, verbose=0), expected, rtol=1e-4, atol=atol
        )


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("MobileNet", {"input_shape": (48, 48, 3), "alpha": 0.5}),
        ("MobileNetV2", {"input_shape": (48, 40, 3), "alpha": 0.35}),
        ("MobileNetV3Small", {"input_shape": (48, 48, 3)}),
        ("MobileNetV3Large", {"input_shape": (40, 48, 3), "alpha": 0.75}),
    ],
)
def test_mobilenet_features_match_keras_layer_by_layer(name, kwargs):
    # With the goldens' seeded statistics the MobileNets' late features hardly
    # depend on the image, so their outputs alone prove little: every
    # BatchNormalization output (the image-dependent early ones included) must
    # match Keras's.
    kwargs = {**kwargs, "include_top": False}
    x = batch((2, *kwargs["input_shape"]))
    if not name.startswith("MobileNetV3"):
        x = x / 127.5 - 1.0  # what preprocess_input gives these two
    with warnings.catch_warnings():  # Keras's torch backend, on NumPy 2
        warnings.simplefilter("ignore", DeprecationWarning)
        model = _keras_application(name, kwargs)
        paths = [v.path for v in model.weights]
        model.set_weights(fill(paths, [tuple(v.shape) for v in model.weights]))
        names = [n.name for n in model.layers if n.name.lower().endswith("_bn")]
        probe = keras.Model(model.input, [model.get_layer(n).output for n in names])
        expected = [keras.ops.convert_to_numpy(y) for y in probe(x, training=False)]
    ours = getattr(applications, name)(weights=None, **kwargs)
    ours.set_weights(fill(paths, [tuple(w.shape) for w in ours.get_weights()]))
    outputs = [ours.get_layer(n).output for n in names]
    found = plait.Model(ours.inputs, outputs).predict(x, verbose=0)
    assert len(names) > 20
    for layer, got, want in zip(names, found, expected, strict=True):
        atol = 1e-5 * max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=atol, err_msg=layer)
