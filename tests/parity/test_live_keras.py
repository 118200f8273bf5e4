"""Regenerate every Keras golden file with Keras itself and compare with the committed ones.

Needs Keras 3 on the torch backend, so it is marked `keras` and skipped where Keras
cannot be imported. Each `make_*` script runs in a subprocess (Keras's own warnings
stay out of this process) into a temporary folder; every `.npz` it writes must match
the committed file of the same name (same keys, arrays within 1e-6, the same JSON
metadata apart from the Keras version), and it must write every committed one.
The Keras models saved by `make_keras_fixtures.py` (`.keras`) are not compared;
their predictions (`.npz`) are. A `.json` written beside the `.npz` files (the
ops goldens' dtypes) must equal the committed one apart from the Keras version. Run it with:

    KERAS_BACKEND=torch PYTHONPATH=/work/main /tmp/kvenv/bin/python -m pytest \
        tests/parity/test_live_keras.py -p no:cacheprovider
"""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")  # else Keras looks for TensorFlow
pytest.importorskip("keras")

pytestmark = pytest.mark.keras

ROOT = pathlib.Path(__file__).resolve().parents[2]
PARITY = ROOT / "tests" / "parity"
# script -> the committed files it writes
SCRIPTS = {
    "tests/parity/make_conv_golden.py": "tests/parity/golden/conv/*.npz",
    "tests/parity/make_norm_golden.py": "tests/parity/golden/norm/*.npz",
    "tests/parity/make_rnn_golden.py": "tests/parity/golden/rnn_*.npz",
    "tests/parity/make_guide_golden.py": "tests/parity/golden/guide/*.npz",
    "tests/parity/make_order_golden.py": "tests/parity/golden/order/*.npz",
    "tests/saving/make_keras_fixtures.py": "tests/saving/fixtures/*.npz",
    "tests/saving/make_keras_h5_fixtures.py": "tests/saving/fixtures/h5/*.npz",
    "tests/saving/make_keras_h5_optimizer_fixtures.py": "tests/saving/fixtures/h5opt/*.npz",
    "tests/applications/make_apps_golden.py": "tests/applications/golden/*.npz",
    "tests/ops/make_ops_golden.py": "tests/ops/golden/*.npz",
}


def _comparable(value):
    """JSON metadata without the Keras version that wrote it; other arrays as-is."""
    if value.dtype.kind == "U" and value.ndim == 0:
        try:
            meta = json.loads(str(value))
        except json.JSONDecodeError:
            return str(value)
        if isinstance(meta, dict):
            meta.pop("keras", None)
        return meta
    return value


def test_every_make_script_is_checked():
    found = {
        p.relative_to(ROOT).as_posix()
        for folder in (PARITY, ROOT / "tests" / "ops")
        for p in folder.glob("make_*_golden.py")
    }
    assert found <= set(SCRIPTS)


@pytest.mark.parametrize("script", list(SCRIPTS), ids=lambda s: pathlib.Path(s).stem)
def test_regenerated_goldens_equal_committed(script, tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), env.get("PYTHONPATH")])
    )
    run = subprocess.run(
        [sys.executable, str(ROOT / script), "--out", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    committed = {p.name: p for p in ROOT.glob(SCRIPTS[script])}
    fresh = {p.name: p for p in tmp_path.glob("*.npz")}
    assert committed, f"no committed files match {SCRIPTS[script]}"
    assert sorted(fresh) == sorted(committed)
    for name, path in fresh.items():
        with np.load(path) as new, np.load(committed[name]) as old:
            assert sorted(new.files) == sorted(old.files), name
            for key in new.files:
                a, b = _comparable(new[key]), _comparable(old[key])
                if isinstance(a, np.ndarray) and a.dtype.kind in "fiub":
                    np.testing.assert_allclose(
                        a, b, atol=1e-6, rtol=1e-6, err_msg=f"{name}:{key}"
                    )
                elif isinstance(a, np.ndarray):
                    np.testing.assert_array_equal(a, b, err_msg=f"{name}:{key}")
                else:
                    assert a == b, f"{name}:{key}"
    folder = next(iter(committed.values())).parent
    for path in tmp_path.glob("*.json"):
        new, old = (json.loads(p.read_text()) for p in (path, folder / path.name))
        new.pop("keras", None)
        old.pop("keras", None)
        assert new == old, path.name
