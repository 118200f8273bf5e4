"""Numeric preprocessing parity cases, run the same way on Keras 3 and on plait.

`run_all(layers)` builds each case with `layers` (`keras.layers` in
`make_numeric_golden.py`, `plait.layers` in `test_parity.py`) and returns JSON-able
results keyed by case id: the outputs as nested lists, and what `adapt` learned.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FLOATS = np.array(
    [[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0], [2.2, -0.7, 0.1, 9.0]], "float32"
)
SPREAD = np.linspace(-3.0, 7.0, 997, dtype="float32").reshape(997, 1) ** 3 % 11.0
INTS = np.array([[0, 1], [0, 0], [1, 2], [3, 1]], "int32")
PROBE = np.array([[0.5, 2.0, -1.0, 0.3], [3.0, -0.2, 0.9, 1.0]], "float32")
WEIGHTS = np.array([[0.1, 0.2], [0.1, 0.1], [0.2, 0.3], [0.4, 0.2]], "float32")


def _out(x: Any) -> Any:
    arr = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x)
    return np.round(arr.astype("float64"), 5).tolist()


def run_all(layers: Any) -> dict[str, Any]:
    """Every case's result, keyed by case id."""
    r: dict[str, Any] = {}
    for mode in ("one_hot", "multi_hot", "count"):
        enc = layers.CategoryEncoding(num_tokens=4, output_mode=mode)
        r[f"category_{mode}_1d"] = _out(enc(np.array([3, 2, 0, 1], "int32")))
        r[f"category_{mode}_col"] = _out(enc(np.array([[3], [2], [0]], "int32")))
        r[f"category_{mode}_2d"] = _out(enc(INTS))
    enc = layers.CategoryEncoding(num_tokens=4, output_mode="count")
    r["category_count_weights"] = _out(enc(INTS, count_weights=WEIGHTS))
    disc = layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
    r["discretization_given"] = _out(disc(FLOATS))
    for bins, eps in ((4, 0.01), (3, 0.1), (5, 0.001)):
        for name, data in (("small", FLOATS), ("spread", SPREAD)):
            disc = layers.Discretization(num_bins=bins, epsilon=eps)
            disc.adapt(data)
            key = f"discretization_adapt_{name}_{bins}_{eps}"
            r[key] = {
                "boundaries": np.round(np.asarray(disc.bin_boundaries), 5).tolist(),
                "out": _out(disc(data[:5])),
            }
    for mode in ("one_hot", "multi_hot", "count"):
        disc = layers.Discretization(bin_boundaries=[0.0, 1.0], output_mode=mode)
        r[f"discretization_{mode}"] = _out(disc(FLOATS[0]))
    for axis in (-1, None, (1,)):
        norm = layers.Normalization(axis=axis)
        norm.adapt(FLOATS)
        r[f"normalization_adapt_{axis}"] = {
            "out": _out(norm(FLOATS)),
            "weights": [_out(w) for w in norm.get_weights()],
        }
        inv = layers.Normalization(axis=axis, invert=True)
        inv.adapt(FLOATS)
        r[f"normalization_invert_{axis}"] = _out(inv(FLOATS))
    norm = layers.Normalization(mean=3.0, variance=2.0)
    r["normalization_given"] = _out(norm(np.array([[1.0], [2.0], [3.0]], "float32")))
    norm = layers.Normalization(
        mean=[1.0, 2.0, 3.0, 4.0], variance=[1.0, 4.0, 0.0, 9.0]
    )
    r["normalization_given_vector"] = _out(norm(FLOATS))
    return r
