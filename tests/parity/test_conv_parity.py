"""Parity with Keras 3: replay the golden files of `make_conv_golden.py`.

Each `golden/conv/<case>.npz` holds a layer's class and arguments, its input, its
weights in Keras layout and Keras's output. No Keras is needed here.
"""

import json
import pathlib

import numpy as np
import pytest
import torch

import plait
from plait import layers

GOLDEN = pathlib.Path(__file__).parent / "golden" / "conv"
CASES = sorted(p.stem for p in GOLDEN.glob("*.npz"))


def _load(case):
    with np.load(GOLDEN / f"{case}.npz") as data:
        meta = json.loads(str(data["meta"]))
        weights = [data[f"w{i}"] for i in range(meta["n_weights"])]
        return meta, data["x"], weights, data["y"]


def test_golden_files_exist_and_are_small():
    assert len(CASES) >= 68
    for case in CASES:
        assert (GOLDEN / f"{case}.npz").stat().st_size < 50_000


@pytest.mark.parametrize("case", CASES)
def test_matches_keras(case):
    meta, x, weights, expected = _load(case)
    layer = getattr(layers, meta["class_name"])(**meta["kwargs"])
    symbolic = layer(plait.Input(shape=x.shape[1:]))
    layer.set_weights(weights)
    assert symbolic.shape == (None, *expected.shape[1:])
    for got, want in zip(layer.get_weights(), weights):
        np.testing.assert_array_equal(got, want)  # layouts round-trip
    out = layer(torch.from_numpy(x))
    np.testing.assert_allclose(out.detach().numpy(), expected, atol=1e-5, rtol=1e-5)
