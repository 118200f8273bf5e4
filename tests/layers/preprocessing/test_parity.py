"""plait's numeric preprocessing layers reproduce Keras 3's results (golden/numeric.json)."""

import json
import pathlib

import numpy as np
import pytest

import plait
import plait.layers
from tests.layers.preprocessing.cases import PROBE, run_all

KERAS = json.loads(
    (pathlib.Path(__file__).parent / "golden" / "numeric.json").read_text()
)
GOLDEN = KERAS["cases"]
OURS = run_all(plait.layers)


def _same(ours, theirs):
    """Equal structure; numbers equal up to float32 rounding of the last digit."""
    if isinstance(theirs, dict):
        return sorted(ours) == sorted(theirs) and all(
            _same(ours[k], theirs[k]) for k in theirs
        )
    if isinstance(theirs, list) and any(isinstance(v, list) for v in theirs):
        return len(ours) == len(theirs) and all(map(_same, ours, theirs))
    a, b = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-5, atol=2e-5)


@pytest.mark.parametrize("case", sorted(GOLDEN))
def test_matches_keras(case):
    assert _same(OURS[case], GOLDEN[case]), (OURS[case], GOLDEN[case])


def test_every_case_has_a_golden():
    assert sorted(OURS) == sorted(GOLDEN)


def test_keras_file_with_preprocessing_layers_loads():
    """A Keras 3 `.keras` file (adapted Normalization, Discretization,
    CategoryEncoding) loads into plait and predicts what Keras predicted."""
    path = pathlib.Path(__file__).parent / "golden" / "numeric_model.keras"
    model = plait.models.load_model(path)
    outputs = model.predict(PROBE, verbose=0)
    assert _same([np.round(o, 5).tolist() for o in outputs], KERAS["model_outputs"])
