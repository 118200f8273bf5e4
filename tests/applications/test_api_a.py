"""VGG, ResNet, Inception and Xception modules expose what Keras's expose.

`golden/api_a.json` (written by `make_api_a.py` with Keras) holds each Keras
module's public names, every function's signature, the weight file Keras fetches
for each application with and without the top, and `preprocess_input` of a
fixed batch; plait's modules must match all of it. The weight files are checked
without a network: `get_file` is replaced by one that records what it is asked
for, and the models are built with meta weights (no memory).
"""

import inspect
import json
import pathlib

import numpy as np
import pytest

from plait import applications
from plait.applications import common, imagenet_utils
from plait.graph.inference import deferred_weights

API = json.loads((pathlib.Path(__file__).parent / "golden" / "api_a.json").read_text())
MODULES = [name for name in API if isinstance(API[name], dict)]
APPS = [(module, app) for module in MODULES for app in API[module]["files"]]


def _signature(fn):
    return [
        [p.name, p.kind.name, repr(p.default)]
        for p in inspect.signature(fn).parameters.values()
    ]


@pytest.mark.parametrize("module", MODULES)
def test_module_exposes_keras_names_and_signatures(module):
    ours = getattr(applications, module)
    assert sorted(ours.__all__) == API[module]["names"]
    for name, signature in API[module]["signatures"].items():
        assert _signature(getattr(ours, name)) == signature, name
        if name[0].isupper():
            assert getattr(applications, name) is getattr(ours, name)


@pytest.mark.parametrize("module", MODULES)
def test_preprocess_input_scales_as_keras(module):
    x = np.asarray(API["x"], dtype="float32")
    out = getattr(applications, module).preprocess_input(x.copy())
    np.testing.assert_allclose(out, API[module]["preprocessed"], rtol=1e-6, atol=1e-4)


class _Asked(Exception):
    pass


@pytest.mark.parametrize(("module", "app"), APPS, ids=lambda v: v)
@pytest.mark.parametrize("include_top", [True, False])
def test_imagenet_weights_are_keras_file(module, app, include_top, monkeypatch):
    asked = []

    def get_file(fname, origin, file_hash, cache_subdir):
        asked.append([fname, origin, file_hash])
        assert cache_subdir == "models"
        raise _Asked

    monkeypatch.setattr(common, "get_file", get_file)
    with deferred_weights(), pytest.raises(_Asked):
        getattr(applications, app)(weights="imagenet", include_top=include_top)
    assert asked == [API[module]["files"][app][str(include_top)]]


def test_decode_predictions_is_imagenet_utils(monkeypatch):
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    monkeypatch.setattr(imagenet_utils, "_class_index", index)
    preds = np.zeros((1, 1000), "float32")
    preds[0, 5] = 1.0
    for module in MODULES:
        out = getattr(applications, module).decode_predictions(preds, top=2)
        assert out[0][0] == ("n00000005", "class_5", 1.0)
        assert len(out[0]) == 2
