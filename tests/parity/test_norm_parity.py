"""Parity with Keras 3: replay the golden files of `make_norm_golden.py`.

Each `golden/norm/<case>.npz` holds a normalization, activation or attention
layer's class and arguments, its inputs and masks, its weights in Keras layout,
Keras's outputs and the weights after the call (BatchNormalization's moving
statistics). No Keras is needed here.
"""

import json
import pathlib

import numpy as np
import pytest
import torch

import plait
from plait import layers

GOLDEN = pathlib.Path(__file__).parent / "golden" / "norm"
CASES = sorted(p.stem for p in GOLDEN.glob("*.npz"))


def _load(case):
    with np.load(GOLDEN / f"{case}.npz") as data:
        meta = json.loads(str(data["meta"]))
        arrays = {k: data[k] for k in data.files if k != "meta"}
    return meta, arrays


def _masks(meta, arrays):
    out = {}
    for name, present, is_list in meta["masks"]:
        values = [
            torch.from_numpy(arrays[f"m_{name}_{j}"]) if here else None
            for j, here in enumerate(present)
        ]
        out[name] = values if is_list else values[0]
    return out


def _call(layer, kind, xs, kwargs):
    if kind == "single":
        return layer(xs[0], **kwargs)
    if kind == "list":
        return layer(list(xs), **kwargs)
    return layer(*xs, **kwargs)


def test_golden_files_exist_and_are_small():
    assert len(CASES) >= 45
    for case in CASES:
        assert (GOLDEN / f"{case}.npz").stat().st_size < 50_000


@pytest.mark.parametrize("case", CASES)
def test_matches_keras(case):
    meta, arrays = _load(case)
    layer = getattr(layers, meta["class_name"])(**meta["kwargs"])
    xs = [torch.from_numpy(arrays[f"x{i}"]) for i in range(meta["n_inputs"])]
    weights = [arrays[f"w{i}"] for i in range(meta["n_weights"])]
    expected = [arrays[f"y{i}"] for i in range(meta["n_outputs"])]
    call_kwargs = meta["call_kwargs"]

    # Symbolic call: builds the layer; the inferred shapes match Keras's outputs.
    symbolic = [plait.Input(shape=tuple(x.shape[1:])) for x in xs]
    sym_kwargs = {k: v for k, v in call_kwargs.items() if k != "training"}
    sym_out = _call(layer, meta["kind"], symbolic, sym_kwargs)
    sym_out = list(sym_out) if isinstance(sym_out, tuple) else [sym_out]
    assert [t.shape for t in sym_out] == [(None, *y.shape[1:]) for y in expected]

    layer.set_weights(weights)
    for got, want in zip(layer.get_weights(), weights):
        np.testing.assert_array_equal(got, want)
    out = _call(layer, meta["kind"], xs, {**call_kwargs, **_masks(meta, arrays)})
    out = list(out) if isinstance(out, tuple) else [out]
    assert len(out) == len(expected)
    for got, want in zip(out, expected):
        np.testing.assert_allclose(got.detach().numpy(), want, atol=1e-5, rtol=1e-5)
    # Weights after the call: BatchNormalization's moving statistics in training.
    after = [arrays[f"a{i}"] for i in range(meta["n_weights"])]
    for got, want in zip(layer.get_weights(), after):
        np.testing.assert_allclose(got, want, atol=1e-6, rtol=1e-6)
