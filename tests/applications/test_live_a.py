"""Keras's own weight files load into plait's VGG, ResNet, Inception and Xception.

Needs Keras 3 (torch backend), so it is marked `keras` and skipped where Keras
cannot be imported. For one configuration of each family, Keras builds the
application, takes seeded weights and writes them both as Keras's published
files are written (the legacy HDF5 writer, `save_weights_to_hdf5_group`) and
with `model.save_weights("x.weights.h5")`; plait builds the same application
with `weights=<file>` and must predict as Keras. `make_api_a.py` is rerun and
must reproduce the committed `golden/api_a.json`. Run it with:

    KERAS_BACKEND=torch PYTHONPATH=. /tmp/kv/bin/python -m pytest \\
        tests/applications/test_live_a.py -p no:cacheprovider
"""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")  # else Keras looks for TensorFlow
pytest.importorskip("keras")

from plait import applications

pytestmark = pytest.mark.keras

HERE = pathlib.Path(__file__).resolve().parent
CONFIGS = {
    "VGG16": {"include_top": False, "input_shape": (32, 32, 3)},
    "ResNet50": {"classes": 10, "input_shape": (32, 32, 3)},
    "ResNet50V2": {"include_top": False, "pooling": "avg", "input_shape": (32, 32, 3)},
    "InceptionV3": {"include_top": False, "pooling": "avg", "input_shape": (75, 75, 3)},
    "Xception": {"include_top": False, "input_shape": (71, 71, 3)},
    "InceptionResNetV2": {
        "include_top": False,
        "pooling": "max",
        "input_shape": (75, 75, 3),
    },
}

KERAS_SIDE = textwrap.dedent(
    """
    import json, sys
    import h5py, keras, numpy as np
    from keras.src.legacy.saving import legacy_h5_format
    sys.path.insert(0, {here!r})
    import golden

    name, kwargs, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
    model = getattr(keras.applications, name)(weights=None, **kwargs)
    paths = [v.path for v in model.weights]
    model.set_weights(golden.fill(paths, [tuple(v.shape) for v in model.weights]))
    with h5py.File(out + "/legacy.h5", "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    model.save_weights(out + "/keras3.weights.h5")
    x = golden.batch((2, *kwargs["input_shape"]))
    np.savez(out + "/pred.npz", x=x, y=model.predict(x, verbose=0))
    """
)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_keras_weight_files_load(name, tmp_path):
    kwargs = CONFIGS[name]
    script = KERAS_SIDE.format(here=str(HERE))
    subprocess.run(
        [sys.executable, "-c", script, name, json.dumps(kwargs), str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    with np.load(tmp_path / "pred.npz") as f:
        x, y = f["x"], f["y"]
    atol = 1e-5 * max(1.0, float(np.abs(y).max()))
    for file in ("legacy.h5", "keras3.weights.h5"):
        model = getattr(applications, name)(weights=str(tmp_path / file), **kwargs)
        got = model.predict(x, verbose=0)
        np.testing.assert_allclose(got, y, rtol=1e-4, atol=atol, err_msg=file)


def test_api_golden_is_current(tmp_path):
    subprocess.run(
        [sys.executable, str(HERE / "make_api_a.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=1200,
    )
    fresh = json.loads((tmp_path / "api_a.json").read_text())
    committed = json.loads((HERE / "golden" / "api_a.json").read_text())
    fresh.pop("keras")
    committed.pop("keras")
    assert fresh == committed
