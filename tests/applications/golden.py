"""What the applications' goldens share, on both sides (Keras's and plait's).

A golden case builds one application with Keras 3 and with plait from the same
constructor arguments, fills both with the same seeded weights (`fill`, from each
weight's path and shape only, so no Keras initializer needs reproducing) and
compares predictions on the same seeded batch (`batch`). The weight paths Keras
lists are stored too: plait must list the same layer names, in the same order,
with the same shapes, or Keras's weight files would not load.
"""

from __future__ import annotations

import math
import pathlib

import numpy as np

GOLDEN = pathlib.Path(__file__).parent / "golden"


def fill(
    paths: list[str], shapes: list[tuple[int, ...]], seed: int = 0
) -> list[np.ndarray]:
    """Seeded float32 weights that keep a deep random network's activations sane.

    Kernels get He-normal values (fan-in: every axis but the last; for depthwise
    kernels, the spatial axes), variances and BatchNormalization/LayerScale
    scales stay positive and near 1, other vectors are small.
    """
    rng = np.random.default_rng(seed)
    out = []
    for path, shape in zip(paths, shapes):
        base = path.rsplit("/", 1)[-1]
        if "variance" in base:
            value = rng.uniform(0.5, 1.5, shape)
        elif base == "count":
            value = np.full(shape, 100.0)
        elif base == "gamma":
            value = rng.uniform(0.8, 1.2, shape)
        elif len(shape) <= 1:
            value = rng.uniform(-0.1, 0.1, shape)
        else:
            axes = shape[:2] if "depthwise" in base else shape[:-1]
            fan_in = max(1, math.prod(axes))
            value = rng.normal(0.0, math.sqrt(2.0 / fan_in), shape)
        out.append(value.astype("float32"))
    return out


def batch(shape: tuple[int, ...], seed: int = 1) -> np.ndarray:
    """A seeded float32 batch in [0, 255), the range the applications take."""
    return np.random.default_rng(seed).uniform(0, 255, shape).astype("float32")


def slow_cases() -> set[str]:
    """The case ids the `cases_*.py` files list in their `SLOW` sets (run with -m slow)."""
    import importlib.util

    found: set[str] = set()
    for path in sorted(pathlib.Path(__file__).parent.glob("cases_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found |= set(getattr(module, "SLOW", ()))
    return found


def layout(model) -> tuple[list[str], list[tuple[int, ...]]]:
    """The paths and Keras-layout shapes of a plait model's weights, in order.

    Works on a model built under `deferred_weights()` (meta weights, no memory),
    so the layout of the biggest networks is checked in the fast test run.
    """
    paths, shapes = [], []
    for p, info in model._weight_entries():
        value = info.layout[0](p.detach()) if info.layout is not None else p
        paths.append(p.path)
        shapes.append(tuple(value.shape))
    return paths, shapes
