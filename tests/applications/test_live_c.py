"""Group C (EfficientNet, EfficientNetV2, ConvNeXt) against Keras 3 itself.

Needs Keras 3 on the torch backend (marked `keras`, skipped without it). Run with:

    KERAS_BACKEND=torch PYTHONPATH=$PWD /tmp/kv/bin/python -m pytest -m keras \\
        tests/applications/test_live_c.py -p no:cacheprovider

Checks: every function's signature and each module's public names are Keras's;
the biggest members (too slow to build for a golden) list Keras's weight paths
and shapes; Keras's weight files (the legacy HDF5 format of the published
ImageNet files, and Keras 3's `.weights.h5`) load into plait's models, through
`weights=<path>` and through `weights="imagenet"`, giving Keras's predictions.
"""

import inspect
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")  # else Keras looks for TensorFlow
keras = pytest.importorskip("keras")
h5py = pytest.importorskip("h5py")

from plait import applications, utils  # noqa: E402
from plait.applications import common  # noqa: E402

from .golden import batch, fill  # noqa: E402

pytestmark = [
    pytest.mark.keras,
    # Keras's torch backend turns tensors into arrays the way NumPy 2 deprecates.
    pytest.mark.filterwarnings(
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    ),
]

MODULES = ["efficientnet", "efficientnet_v2", "convnext"]


def _fresh():
    keras.backend.clear_session()
    utils.clear_session()


def _keras_predict(model, x):
    # Keras's own NumPy conversion warns under this NumPy; the output is a torch tensor.
    return model(keras.ops.convert_to_tensor(x), training=False).detach().cpu().numpy()


def _keras_filled(name, **kwargs):
    _fresh()
    model = getattr(keras.applications, name)(**kwargs)
    paths = [v.path for v in model.weights]
    model.set_weights(fill(paths, [tuple(v.shape) for v in model.weights]))
    return model


@pytest.mark.parametrize("module", MODULES)
def test_signatures_and_public_names_are_keras(module):
    theirs = getattr(keras.applications, module)
    ours = getattr(applications, module)
    public = sorted(n for n in dir(theirs) if not n.startswith("_"))
    assert public == sorted(ours.__all__)
    for name in public:
        keras_sig = inspect.signature(getattr(theirs, name))
        plait_sig = inspect.signature(getattr(ours, name))
        assert [(p.name, p.default, p.kind) for p in plait_sig.parameters.values()] == [
            (p.name, p.default, p.kind) for p in keras_sig.parameters.values()
        ], name
        assert getattr(applications, name, getattr(ours, name)) is getattr(ours, name)


@pytest.mark.parametrize(
    "name",
    [
        "EfficientNetB4",
        "EfficientNetB5",
        "EfficientNetB6",
        "EfficientNetB7",
        "EfficientNetV2M",
        "EfficientNetV2L",
        "ConvNeXtLarge",
        "ConvNeXtXLarge",
    ],
)
def test_big_members_list_keras_weight_paths_and_shapes(name):
    kwargs = {"weights": None, "include_top": True}
    _fresh()
    theirs = getattr(keras.applications, name)(**kwargs)
    expected = [(v.path, tuple(v.shape)) for v in theirs.weights]
    del theirs
    ours = getattr(applications, name)(**kwargs)
    got = [(w.path, tuple(v.shape)) for w, v in zip(ours.weights, ours.get_weights())]
    assert got == expected


# (application, constructor kwargs, batch shape): one configuration per family.
LOCAL = [
    ("EfficientNetB0", {"input_shape": (32, 32, 3), "classes": 10}, (2, 32, 32, 3)),
    ("ConvNeXtTiny", {"input_shape": (32, 32, 3), "classes": 10}, (2, 32, 32, 3)),
    ("EfficientNetV2B0", {"input_shape": (32, 32, 3), "classes": 10}, (2, 32, 32, 3)),
]


@pytest.mark.parametrize(("name", "kwargs", "shape"), LOCAL, ids=[c[0] for c in LOCAL])
def test_keras_weight_files_load(name, kwargs, shape, tmp_path):
    from keras.src.legacy.saving import legacy_h5_format

    theirs = _keras_filled(name, weights=None, **kwargs)
    x = batch(shape)
    expected = _keras_predict(theirs, x)
    legacy = tmp_path / "legacy.h5"
    with h5py.File(legacy, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, theirs)
    modern = tmp_path / "model.weights.h5"
    theirs.save_weights(modern)
    for path in (legacy, modern):
        utils.clear_session()
        ours = getattr(applications, name)(weights=str(path), **kwargs)
        got = ours.predict(x, verbose=0)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


# (application, Keras module, kwargs for weights="imagenet", batch shape)
IMAGENET = [
    (
        "EfficientNetB0",
        "efficientnet",
        {"include_top": False, "input_shape": (32, 32, 3), "pooling": "avg"},
        (2, 32, 32, 3),
    ),
    (
        "EfficientNetV2S",
        "efficientnet_v2",
        {"include_top": False, "input_shape": (32, 32, 3)},
        (2, 32, 32, 3),
    ),
    (
        "ConvNeXtTiny",
        "convnext",
        {"include_top": False, "input_shape": (32, 32, 3)},
        (2, 32, 32, 3),
    ),
]


@pytest.mark.parametrize(
    ("name", "module", "kwargs", "shape"), IMAGENET, ids=[c[0] for c in IMAGENET]
)
def test_imagenet_graph_and_file_match_keras(
    name, module, kwargs, shape, tmp_path, monkeypatch
):
    # Keras's own file, written by Keras from a filled model, stands in for the
    # published one: both Keras and plait "download" it (no network).
    from keras.src.legacy.saving import legacy_h5_format

    source = _keras_filled(name, weights=None, **kwargs)
    path = tmp_path / "published.h5"
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, source)
    keras_module = __import__(f"keras.src.applications.{module}", fromlist=["x"])
    asked = []

    def local(fname, origin, *args, **kw):
        asked.append((fname, origin))
        return str(path)

    monkeypatch.setattr(keras_module.file_utils, "get_file", local)
    monkeypatch.setattr(common, "get_file", local)
    _fresh()
    theirs = getattr(keras.applications, name)(weights="imagenet", **kwargs)
    ours = getattr(applications, name)(weights="imagenet", **kwargs)
    assert asked[0] == asked[1]
    x = batch(shape)
    np.testing.assert_allclose(
        ours.predict(x, verbose=0),
        _keras_predict(theirs, x),
        rtol=1e-4,
        atol=1e-5,
    )
