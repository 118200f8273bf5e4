"""Each application predicts as Keras 3's with the same weights (committed goldens).

`make_apps_golden.py` wrote the goldens with Keras; here plait builds the same
application from the same arguments, must list Keras's weight paths and shapes
in Keras's order (so Keras's weight files load), takes the same seeded weights
and must give the same predictions. Auto layer names start afresh for each case
(`fresh_names`), as they do in the script.

The layout is checked for every case in the fast run (the model is built with
meta weights, taking no memory); the predictions of the cases a `cases_*.py`
file lists in its `SLOW` set (the big networks) run with `-m slow`. Predictions
agree to 1e-4 relative, and absolutely to 1e-5 of the output's largest value:
random deep networks on [0, 255] inputs reach values of 1e4 and more, where
float32 sums taken in another order differ in the 7th digit.
"""

import json

import numpy as np
import pytest

from plait import applications
from plait.graph.inference import deferred_weights

from .golden import GOLDEN, fill, layout, slow_cases

FILES = sorted(GOLDEN.glob("*.npz"))
SLOW = slow_cases()


def _case(path):
    with np.load(path) as f:
        return f["x"], f["y"], json.loads(str(f["meta"]))


def _build(meta):
    return getattr(applications, meta["name"])(weights=None, **meta["kwargs"])


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_application_weights_are_laid_out_as_keras(path, fresh_names):
    _, _, meta = _case(path)
    with deferred_weights():
        paths, shapes = layout(_build(meta))
    assert paths == meta["paths"]
    assert shapes == [tuple(s) for s in meta["shapes"]]


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, marks=[pytest.mark.slow] if p.stem in SLOW else [])
        for p in FILES
    ],
    ids=lambda p: p.stem,
)
def test_application_matches_keras(path, fresh_names):
    x, y, meta = _case(path)
    model = _build(meta)
    paths, shapes = layout(model)
    assert paths == meta["paths"]
    model.set_weights(fill(paths, shapes))
    atol = 1e-5 * max(1.0, float(np.abs(y).max()))
    np.testing.assert_allclose(model.predict(x, verbose=0), y, rtol=1e-4, atol=atol)
