"""Seeded inputs and weights of the GUIDE.md models, and compact records of big arrays.

Shared by `make_guide_golden.py` (run with Keras) and `test_guide_parity.py` (run
with plait); NumPy only, so both sides import it. Nothing random is committed:
inputs and weights are drawn again from the seeds below on each side, and the
golden files hold the seeds, the inputs and Keras's results.

An array of at most `FULL_MAX` elements is stored whole under its key. A bigger one
(an image batch, the gradient of a 10000x512 embedding) is stored as a record:
`<key>.shape`, `N_SAMPLE` values at fixed random positions (`<key>.idx`,
`<key>.val`), its largest magnitude (`<key>.max`) and its L1 and L2 norms
(`<key>.l1`, `<key>.l2`), which `check_array` holds to the bounds that the
element-wise tolerance implies.
"""

from __future__ import annotations

import json
import pathlib
import zlib
from typing import Any

import numpy as np

GOLDEN = pathlib.Path(__file__).parent / "golden" / "guide"
SEED = 2017  # the year of the guide
FULL_MAX = 16_384
N_SAMPLE = 2_048
MAX_BYTES = 300_000

# model -> (inputs: (shape with batch, kind), weight scale). Kinds: "normal" is
# float32 N(0, 1); "binary" is float32 in {0, 1} (the guide's tweet matrices);
# "ids" is int32 word ids in [1, 10000).
NUMERIC: dict[str, tuple[list[tuple[tuple[int, ...], str]], float]] = {
    "mlp": ([((2, 784), "normal")], 0.1),
    "sequence_classifier": ([((2, 20, 784), "normal")], 0.1),
    "headline_model": ([((2, 100), "ids"), ((2, 5), "normal")], 0.1),
    "tweet_model": ([((2, 140, 256), "binary"), ((2, 140, 256), "binary")], 0.1),
    "shared_vision_model": ([((2, 27, 27, 1), "normal")] * 2, 0.05),
    "inception_module": ([((1, 256, 256, 3), "normal")], 0.1),
    "residual_connection": ([((2, 256, 256, 3), "normal")], 0.1),
    "vqa_model": ([((1, 224, 224, 3), "normal"), ((1, 100), "ids")], 0.03),
}
# Run in the slow tests only: 165M weights to draw.
SLOW = ("vqa_model",)
# Too big to run (video QA: 100 frames of 224x224 per sample): weight shapes,
# parameter count and output shapes only.
SHAPES_ONLY = ("video_qa_model",)
# Built on torch's meta device in the default run for their shapes.
BIG = ("vqa_model", "video_qa_model")


def _rng(name: str, stream: int) -> np.random.Generator:
    return np.random.default_rng([SEED, zlib.crc32(name.encode()), stream])


def make_inputs(name: str) -> list[np.ndarray]:
    """The inputs of model `name`, drawn from its seed."""
    rng = _rng(name, 0)
    out = []
    for shape, kind in NUMERIC[name][0]:
        if kind == "ids":
            out.append(rng.integers(1, 10000, shape).astype(np.int32))
        elif kind == "binary":
            out.append(rng.integers(0, 2, shape).astype(np.float32))
        else:
            out.append(rng.standard_normal(shape).astype(np.float32))
    return out


def make_weights(name: str, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """`rng.standard_normal(shape) * scale` for each shape, in `get_weights()` order."""
    rng, scale = _rng(name, 1), NUMERIC[name][1]
    return [(rng.standard_normal(s) * scale).astype(np.float32) for s in shapes]


def _sample_positions(key: str, size: int) -> np.ndarray:
    rng = np.random.default_rng([SEED, zlib.crc32(key.encode()), size])
    return np.sort(rng.choice(size, N_SAMPLE, replace=False)).astype(np.int64)


def pack_array(arrays: dict[str, np.ndarray], key: str, value: np.ndarray) -> None:
    """Store `value` under `key` in `arrays`: whole if small, else as a record."""
    value = np.asarray(value)
    if value.size <= FULL_MAX:
        arrays[key] = value
        return
    idx = _sample_positions(key, value.size)
    wide = value.astype(np.float64)
    arrays[f"{key}.shape"] = np.array(value.shape, dtype=np.int64)
    arrays[f"{key}.idx"] = idx
    arrays[f"{key}.val"] = value.reshape(-1)[idx]
    arrays[f"{key}.max"] = np.abs(wide).max()
    arrays[f"{key}.l1"] = np.abs(wide).sum()
    arrays[f"{key}.l2"] = np.sqrt((wide**2).sum())


def has_array(data: Any, key: str) -> bool:
    """Whether `key` was stored, whole or as a record."""
    return key in data or f"{key}.shape" in data


def peak(data: Any, key: str) -> float:
    """The largest magnitude in the stored array `key`."""
    if key in data:
        return float(np.abs(data[key]).max(initial=0.0))
    return float(data[f"{key}.max"])


def check_array(
    data: Any, key: str, got: np.ndarray, atol: float, rtol: float
) -> float:
    """Compare `got` with what `pack_array` stored; return the max abs difference seen."""
    got = np.asarray(got)
    if key in data:
        want = data[key]
        np.testing.assert_allclose(got, want, atol=atol, rtol=rtol, err_msg=key)
        return float(np.abs(got.astype(np.float64) - want).max(initial=0.0))
    assert got.shape == tuple(data[f"{key}.shape"]), key
    want = data[f"{key}.val"]
    sample = got.reshape(-1)[data[f"{key}.idx"]]
    np.testing.assert_allclose(sample, want, atol=atol, rtol=rtol, err_msg=key)
    # |sum|g| - sum|w|| <= sum|g - w| <= n atol + rtol sum|w|, and likewise for L2.
    wide = got.astype(np.float64)
    l1, l2 = float(data[f"{key}.l1"]), float(data[f"{key}.l2"])
    assert abs(np.abs(wide).sum() - l1) <= got.size * atol + rtol * l1, key
    assert abs(np.sqrt((wide**2).sum()) - l2) <= got.size**0.5 * atol + rtol * l2, key
    return float(np.abs(sample.astype(np.float64) - want).max(initial=0.0))


def read_meta(data: Any) -> dict[str, Any]:
    """The JSON metadata of a golden file."""
    return json.loads(str(data["meta"]))
