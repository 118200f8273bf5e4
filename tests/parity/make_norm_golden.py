"""Write Keras 3 reference outputs of the normalization, activation and attention layers.

Run with a Keras 3 install on the torch backend (not needed at test time):

    KERAS_BACKEND=torch python tests/parity/make_norm_golden.py [--out DIR]

Each case builds the Keras layer on seeded inputs, sets seeded weights (Keras
layout), calls it and saves into `golden/norm/<case>.npz`: the inputs `x0..`,
the masks `m0..`, the weights `w0..`, the outputs `y0..`, the weights after the
call `a0..` (BatchNormalization updates its moving statistics in training) and
a JSON `meta` with the class, constructor and call arguments and how the layer
is called (`single`: `layer(x)`, `list`: `layer([q, v, (k)])`, `mha`:
`layer(query, value, (key))`). `test_norm_parity.py` replays them on plait.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import zlib

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras
import torch

GOLDEN = pathlib.Path(__file__).parent / "golden" / "norm"

B = [[True, True, False, True], [False, True, True, True]]  # (2, 4) masks
Q_MASK = [[True, True, True, False], [True, False, True, True]]
V_MASK = [[True, True, False, True, False], [True, True, True, True, True]]

# (case id, class, kwargs, call kind, input shapes, mask specs, call kwargs)
CASES: list[tuple[str, str, dict, str, list, dict, dict]] = [
    # --- BatchNormalization: training (batch stats + moving update) and inference
    (
        "bn_train_2d",
        "BatchNormalization",
        {},
        "single",
        [(6, 4)],
        {},
        {"training": True},
    ),
    (
        "bn_train_4d",
        "BatchNormalization",
        {"momentum": 0.9},
        "single",
        [(2, 3, 4, 3)],
        {},
        {"training": True},
    ),
    (
        "bn_train_3d",
        "BatchNormalization",
        {"epsilon": 0.01},
        "single",
        [(2, 5, 3)],
        {},
        {"training": True},
    ),
    (
        "bn_train_axis1",
        "BatchNormalization",
        {"axis": 1, "momentum": 0.8},
        "single",
        [(2, 3, 4, 5)],
        {},
        {"training": True},
    ),
    (
        "bn_train_masked",
        "BatchNormalization",
        {"momentum": 0.5},
        "single",
        [(2, 4, 3)],
        {"mask": B},
        {"training": True},
    ),
    (
        "bn_train_no_affine",
        "BatchNormalization",
        {"center": False, "scale": False},
        "single",
        [(5, 3)],
        {},
        {"training": True},
    ),
    (
        "bn_infer_4d",
        "BatchNormalization",
        {},
        "single",
        [(2, 3, 4, 3)],
        {},
        {"training": False},
    ),
    (
        "bn_infer_axis1",
        "BatchNormalization",
        {"axis": 1},
        "single",
        [(2, 3, 4)],
        {},
        {"training": False},
    ),
    # --- LayerNormalization
    ("ln_last", "LayerNormalization", {}, "single", [(2, 3, 5)], {}, {}),
    (
        "ln_axes_12",
        "LayerNormalization",
        {"axis": [1, 2]},
        "single",
        [(2, 3, 4)],
        {},
        {},
    ),
    # (Keras 3.15 on torch fails on a single non-trailing axis: F.layer_norm misuse.)
    ("ln_eps", "LayerNormalization", {"epsilon": 0.1}, "single", [(2, 3, 4)], {}, {}),
    (
        "ln_no_center",
        "LayerNormalization",
        {"center": False},
        "single",
        [(2, 6)],
        {},
        {},
    ),
    (
        "ln_rms_scaling",
        "LayerNormalization",
        {"rms_scaling": True},
        "single",
        [(2, 3, 4)],
        {},
        {},
    ),
    # --- GroupNormalization
    ("gn_3d", "GroupNormalization", {"groups": 2}, "single", [(2, 5, 4)], {}, {}),
    ("gn_4d", "GroupNormalization", {"groups": 3}, "single", [(2, 3, 3, 6)], {}, {}),
    (
        "gn_instance",
        "GroupNormalization",
        {"groups": -1},
        "single",
        [(2, 4, 3)],
        {},
        {},
    ),
    (
        "gn_axis1",
        "GroupNormalization",
        {"groups": 2, "axis": 1},
        "single",
        [(2, 4, 3, 2)],
        {},
        {},
    ),
    ("gn_2d", "GroupNormalization", {"groups": 4}, "single", [(3, 8)], {}, {}),
    # --- UnitNormalization
    ("unit_norm", "UnitNormalization", {}, "single", [(2, 3, 4)], {}, {}),
    (
        "unit_norm_axes",
        "UnitNormalization",
        {"axis": [1, 2]},
        "single",
        [(2, 3, 4)],
        {},
        {},
    ),
    # --- activation layers
    (
        "softmax_masked",
        "Softmax",
        {},
        "single",
        [(2, 3, 4)],
        {"mask": [B[0], [False] * 4, B[1]]},
        {},
    ),
    (
        "softmax_mask_bcast",
        "Softmax",
        {},
        "single",
        [(2, 3, 4)],
        {"mask": [[B[0]], [B[1]]]},
        {},
    ),
    ("softmax_axis1", "Softmax", {"axis": 1}, "single", [(2, 3, 4)], {}, {}),
    ("softmax_axes", "Softmax", {"axis": [1, 2]}, "single", [(2, 3, 4)], {}, {}),
    ("prelu", "PReLU", {}, "single", [(2, 3, 4)], {}, {}),
    (
        "prelu_shared",
        "PReLU",
        {"shared_axes": [1, 2]},
        "single",
        [(2, 3, 2, 4)],
        {},
        {},
    ),
    (
        "relu_max_slope_thr",
        "ReLU",
        {"max_value": 1.5, "negative_slope": 0.2, "threshold": 0.3},
        "single",
        [(2, 8)],
        {},
        {},
    ),
    ("relu_max6", "ReLU", {"max_value": 6.0}, "single", [(2, 8)], {}, {}),
    ("leaky_relu", "LeakyReLU", {}, "single", [(2, 8)], {}, {}),
    ("elu", "ELU", {"alpha": 0.7}, "single", [(2, 8)], {}, {}),
    # --- Attention / AdditiveAttention
    ("attention_dot", "Attention", {}, "list", [(2, 4, 3), (2, 5, 3)], {}, {}),
    (
        "attention_scale_key",
        "Attention",
        {"use_scale": True},
        "list",
        [(2, 4, 3), (2, 5, 2), (2, 5, 3)],
        {},
        {"return_attention_scores": True},
    ),
    (
        "attention_masked",
        "Attention",
        {},
        "list",
        [(2, 4, 3), (2, 5, 3)],
        {"mask": [Q_MASK, V_MASK]},
        {},
    ),
    (
        "attention_masked_scores",
        "Attention",
        {"use_scale": True},
        "list",
        [(2, 4, 3), (2, 5, 3)],
        {"mask": [Q_MASK, V_MASK]},
        {"return_attention_scores": True},
    ),
    (
        "attention_causal",
        "Attention",
        {},
        "list",
        [(2, 4, 3), (2, 4, 3)],
        {},
        {"use_causal_mask": True},
    ),
    (
        "attention_concat",
        "Attention",
        {"score_mode": "concat", "use_scale": True},
        "list",
        [(2, 4, 3), (2, 5, 3)],
        {"mask": [None, V_MASK]},
        {},
    ),
    (
        "additive_attention",
        "AdditiveAttention",
        {},
        "list",
        [(2, 4, 3), (2, 5, 3)],
        {"mask": [Q_MASK, V_MASK]},
        {"return_attention_scores": True},
    ),
    (
        "additive_attention_noscale",
        "AdditiveAttention",
        {"use_scale": False},
        "list",
        [(2, 4, 3), (2, 4, 3)],
        {},
        {"use_causal_mask": True},
    ),
    # --- MultiHeadAttention
    (
        "mha_self",
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 3},
        "mha",
        [(2, 4, 6), (2, 4, 6)],
        {},
        {},
    ),
    (
        "mha_cross_key",
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 3, "value_dim": 2},
        "mha",
        [(2, 4, 6), (2, 5, 4), (2, 5, 5)],
        {},
        {"return_attention_scores": True},
    ),
    (
        "mha_attention_mask",
        "MultiHeadAttention",
        {"num_heads": 3, "key_dim": 2},
        "mha",
        [(2, 4, 5), (2, 5, 5)],
        {"attention_mask": "random"},
        {},
    ),
    (
        "mha_mask_scores",
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 2},
        "mha",
        [(2, 4, 5), (2, 5, 5)],
        {"attention_mask": "random"},
        {"return_attention_scores": True},
    ),
    (
        "mha_value_mask",
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 2},
        "mha",
        [(2, 4, 5), (2, 5, 5)],
        {"value_mask": V_MASK},
        {},
    ),
    (
        "mha_causal",
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 3},
        "mha",
        [(2, 4, 6), (2, 4, 6)],
        {},
        {"use_causal_mask": True},
    ),
    (
        "mha_causal_scores",
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 3},
        "mha",
        [(2, 4, 6), (2, 4, 6)],
        {},
        {"use_causal_mask": True, "return_attention_scores": True},
    ),
    (
        "mha_no_bias_out",
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 3, "use_bias": False, "output_shape": 7},
        "mha",
        [(2, 4, 6), (2, 5, 6)],
        {},
        {},
    ),
    (
        "mha_out_2d",
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 2, "output_shape": [2, 3]},
        "mha",
        [(2, 3, 4), (2, 3, 4)],
        {},
        {},
    ),
    (
        "mha_axes_2d",
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 2, "attention_axes": [1, 2]},
        "mha",
        [(2, 2, 3, 4), (2, 3, 2, 4)],
        {},
        {"return_attention_scores": True},
    ),
    (
        "mha_axis_2",
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 2, "attention_axes": 2},
        "mha",
        [(2, 2, 3, 4), (2, 2, 4, 4)],
        {},
        {},
    ),
]


def _rng(case: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(case.encode()))


def _weights(rng: np.random.Generator, layer: keras.layers.Layer) -> list[np.ndarray]:
    out = []
    for w in layer.weights:
        value = rng.standard_normal(tuple(w.shape)).astype("float32") * 0.5
        if "variance" in w.path:
            value = np.abs(value) + 0.5
        out.append(value)
    return out


def _numpy(t) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return np.asarray(t)


def make(
    case, class_name, kwargs, kind, shapes, masks, call_kwargs, out_dir=GOLDEN
) -> None:
    rng = _rng(case)
    xs = [rng.standard_normal(s).astype("float32") for s in shapes]
    layer = getattr(keras.layers, class_name)(**kwargs)
    mask_arrays: dict[str, np.ndarray | list] = {}
    for name, spec in masks.items():
        if spec == "random":  # (batch, Tq, Tv), every query row keeps something
            keep = rng.random((shapes[0][0], shapes[0][1], shapes[1][1])) > 0.4
            keep[..., 0] = True
            mask_arrays[name] = keep
        elif name == "mask" and kind == "list":
            mask_arrays[name] = [None if m is None else np.array(m) for m in spec]
        else:
            mask_arrays[name] = np.array(spec)

    def call(layer):
        kw = dict(call_kwargs)
        for name, value in mask_arrays.items():
            if isinstance(value, list):
                kw[name] = [None if v is None else torch.tensor(v) for v in value]
            else:
                kw[name] = torch.tensor(value)
        tensors = [torch.tensor(x) for x in xs]
        if kind == "single":
            return layer(tensors[0], **kw)
        if kind == "list":
            return layer(tensors, **kw)
        return layer(*tensors, **kw)

    if kind == "mha":
        layer.build(*[tuple(s) for s in shapes])
    else:
        layer.build(shapes[0] if kind == "single" else shapes)
    weights = _weights(rng, layer)
    layer.set_weights(weights)
    outputs = call(layer)
    outputs = list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]
    after = layer.get_weights()
    arrays: dict[str, np.ndarray] = {}
    for i, x in enumerate(xs):
        arrays[f"x{i}"] = x
    mask_names = []
    for name, value in mask_arrays.items():
        values = value if isinstance(value, list) else [value]
        for j, v in enumerate(values):
            if v is not None:
                arrays[f"m_{name}_{j}"] = np.asarray(v, dtype=bool)
        mask_names.append(
            [name, [v is not None for v in values], isinstance(value, list)]
        )
    for i, w in enumerate(weights):
        arrays[f"w{i}"] = w
    for i, w in enumerate(after):
        arrays[f"a{i}"] = w
    for i, y in enumerate(outputs):
        arrays[f"y{i}"] = _numpy(y)
    meta = {
        "class_name": class_name,
        "kwargs": kwargs,
        "kind": kind,
        "call_kwargs": call_kwargs,
        "masks": mask_names,
        "n_inputs": len(xs),
        "n_weights": len(weights),
        "n_outputs": len(outputs),
        "keras": keras.__version__,
    }
    np.savez_compressed(out_dir / f"{case}.npz", meta=json.dumps(meta), **arrays)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=GOLDEN,
        help="folder to write into (default: %(default)s)",
    )
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        make(*case, out_dir=out)
    print(f"wrote {len(CASES)} cases to {out}")


if __name__ == "__main__":
    main()
