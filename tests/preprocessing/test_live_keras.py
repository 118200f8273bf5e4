"""Regenerate the preprocessing golden file with Keras itself and compare it.

Needs Keras 3 (torch backend), so it is marked `keras` and skipped where Keras cannot
be imported. Run it with:

    KERAS_BACKEND=torch PYTHONPATH=. /tmp/kv/bin/python -m pytest \
        tests/preprocessing/test_live_keras.py -p no:cacheprovider
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")  # else Keras looks for TensorFlow
pytest.importorskip("keras")

pytestmark = pytest.mark.keras

HERE = pathlib.Path(__file__).resolve().parent


def test_live_keras_golden_is_current(tmp_path):
    subprocess.run(
        [sys.executable, str(HERE / "make_text_golden.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    fresh = json.loads((tmp_path / "preprocessing.json").read_text())
    committed = json.loads((HERE / "golden" / "preprocessing.json").read_text())
    fresh.pop("keras")
    committed.pop("keras")
    assert fresh == committed


def test_live_keras_image_golden_is_current(tmp_path):
    pytest.importorskip("scipy")  # Keras's affine transforms
    pytest.importorskip("PIL")
    import numpy as np

    subprocess.run(
        [sys.executable, str(HERE / "make_image_golden.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    fresh = dict(np.load(tmp_path / "image.npz"))
    committed = dict(np.load(HERE / "golden" / "image.npz"))
    fresh.pop("keras")
    committed.pop("keras")
    assert set(fresh) == set(committed)
    for key, value in committed.items():
        np.testing.assert_array_equal(fresh[key], value, err_msg=key)
