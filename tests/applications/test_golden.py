"""Each application predicts as Keras 3's with the same weights (committed goldens).

`make_apps_golden.py` wrote the goldens with Keras; here plait builds the same
application from the same arguments, must list Keras's weight paths and shapes
in Keras's order (so Keras's weight files load), takes the same seeded weights
and must give the same predictions, to within 1e-4 relative and 1e-5 of the
output's scale (deep random networks fed [0, 255] pixels reach activations in the
hundreds, where float32 sums differ in their last digits). Cases a `cases_*.py`
file lists in its `SLOW` set are marked slow.
"""

import importlib
import json

import numpy as np
import pytest

from plait import applications

from .golden import GOLDEN, fill

SLOW = set().union(
    *(
        getattr(importlib.import_module(f".{path.stem}", __package__), "SLOW", ())
        for path in sorted(GOLDEN.parent.glob("cases_*.py"))
    )
)
FILES = [
    pytest.param(path, marks=pytest.mark.slow) if path.stem in SLOW else path
    for path in sorted(GOLDEN.glob("*.npz"))
]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_application_matches_keras(path):
    with np.load(path) as f:
        x, y, meta = f["x"], f["y"], json.loads(str(f["meta"]))
    model = getattr(applications, meta["name"])(weights=None, **meta["kwargs"])
    paths = [w.path for w in model.weights]
    shapes = [tuple(w.shape) for w in model.get_weights()]
    assert paths == meta["paths"]
    assert shapes == [tuple(s) for s in meta["shapes"]]
    model.set_weights(fill(paths, shapes))
    scale = max(1.0, float(np.abs(y).max()))
    np.testing.assert_allclose(
        model.predict(x, verbose=0), y, rtol=1e-4, atol=1e-5 * scale
    )
