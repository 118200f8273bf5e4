"""What the wrappers share: building the model, and pickling it as a `.plait` file.

A compiled plait model holds closures (its fast loss), so it cannot be pickled
as an object; the wrappers pickle their models as the bytes of a saved model
(config, weights, compile config and optimizer state) instead.
"""

from __future__ import annotations

import copy
import inspect
import os
import tempfile
from typing import Any

import numpy as np

from plait.models import Functional, Model, clone_model
from plait.saving import load_model


class SavedModel:
    """A model as the bytes of its `.plait` file, for pickling."""

    def __init__(self, model: Model) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.plait")
            model.save(path)
            with open(path, "rb") as file:
                self.data = file.read()

    def load(self) -> Model:
        """The model again, compiled as it was saved."""
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.plait")
            with open(path, "wb") as file:
                file.write(self.data)
            model: Model = load_model(path)
        return model


def pack(state: dict[str, Any]) -> dict[str, Any]:
    """`state` with every model value replaced by its saved bytes."""
    return {k: SavedModel(v) if isinstance(v, Model) else v for k, v in state.items()}


def unpack(state: dict[str, Any]) -> dict[str, Any]:
    """The inverse of `pack`."""
    return {k: v.load() if isinstance(v, SavedModel) else v for k, v in state.items()}


def clone_compiled(model: Functional) -> Model:
    """A copy of `model` with fresh weights, compiled as `model` is (new optimizer)."""
    twin: Model = clone_model(model)
    if getattr(model, "compiled", False):
        # Only compile's own arguments: training caches more in this dict.
        names = inspect.signature(model.compile).parameters
        args = model._compile_args
        kwargs = copy.deepcopy({k: v for k, v in args.items() if k in names})
        optimizer = model.optimizer
        kwargs["optimizer"] = type(optimizer).from_config(optimizer.get_config())
        twin.compile(**kwargs)
    return twin


def as_float(x: Any) -> np.ndarray:
    """`x` as a float32 array, the dtype plait models compute in."""
    return np.asarray(x, dtype=np.float32)
