"""plait orders a model's layers and weights as Keras 3 does (`make_order_golden.py`).

`model.weights` follows `model.layers`, so `set_weights(keras_model.get_weights())`
needs the same layer order: Keras sorts layers by depth (a shared layer as deep as
its deepest call), then by when a walk back from the outputs first meets them.
"""

import json
import pathlib

import numpy as np
import pytest

import plait
from plait import layers
from tests.parity import graph_order

GOLDEN = pathlib.Path(__file__).parent / "golden" / "order" / "graphs.npz"


def _cases():
    with np.load(GOLDEN) as data:
        return json.loads(str(data["meta"]))["cases"]


CASES = _cases()


def _weight_owners(model):
    owner = {}
    for layer in [model, *model._all_sublayers()]:
        for p in layer._weight_info:
            owner.setdefault(id(p), layer.name)
    return [owner[id(p)] for p in model.weights]


def test_order_golden_has_graphs_with_shared_layers_and_cuts():
    assert CASES[0]["spec"] == graph_order.SHARED_AT_TWO_DEPTHS
    assert CASES[0]["weights"] == ["d1", "d1", "d0", "d0"]  # the shared d1 first
    assert len(CASES) >= 250
    assert any(c["spec"]["cut_inputs"] for c in CASES)
    assert any(c["spec"]["unused"] for c in CASES)
    assert any(c["spec"]["n_sub"] for c in CASES)


@pytest.mark.parametrize("start", range(0, len(CASES), 50))
def test_layer_and_weight_order_match_keras(start):
    for i, case in enumerate(CASES[start : start + 50], start):
        model = graph_order.build(case["spec"], plait.Input, plait.Model, layers)
        assert [la.name for la in model.layers] == case["layers"], f"graph {i}"
        assert _weight_owners(model) == case["weights"], f"graph {i}"
