"""Each application predicts as Keras 3's with the same weights (committed goldens).

`make_apps_golden.py` wrote the goldens with Keras; here plait builds the same
application from the same arguments, must list Keras's weight paths and shapes
in Keras's order (so Keras's weight files load), takes the same seeded weights
and must give the same predictions.
"""

import importlib
import json
import pathlib

import numpy as np
import pytest

from plait import applications

from .golden import GOLDEN, fill

FILES = sorted(GOLDEN.glob("*.npz"))

# Case ids each cases_<group>.py lists in its SLOW set: run with -m slow.
SLOW = set().union(
    *(
        getattr(importlib.import_module(f"{__package__}.{p.stem}"), "SLOW", set())
        for p in pathlib.Path(__file__).parent.glob("cases_*.py")
    )
)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, marks=[pytest.mark.slow] if p.stem in SLOW else [])
        for p in FILES
    ],
    ids=lambda p: p.stem,
)
@pytest.mark.usefixtures("fresh_names")
def test_application_matches_keras(path):
    with np.load(path) as f:
        x, y, meta = f["x"], f["y"], json.loads(str(f["meta"]))
    model = getattr(applications, meta["name"])(weights=None, **meta["kwargs"])
    paths = [w.path for w in model.weights]
    shapes = [tuple(w.shape) for w in model.get_weights()]
    assert paths == meta["paths"]
    assert shapes == [tuple(s) for s in meta["shapes"]]
    model.set_weights(fill(paths, shapes))
    np.testing.assert_allclose(model.predict(x, verbose=0), y, rtol=1e-4, atol=1e-5)
