"""Keras's object serialization names: `serialize_keras_object`,
`deserialize_keras_object`, `get_custom_objects`, `register_keras_serializable`.

An object is saved as JSON data: a layer as its entry (`serialize_layer`);
another object with a `get_config` (a loss, metric, optimizer, initializer,
regularizer, constraint, schedule, or a registered class of your own) as
`{"class_name", "config"[, "registered_name"]}`; a function as
`{"class_name": "function", "config": name}`. Loading finds classes and
functions only among plait's own, the registered ones and `custom_objects`;
unlike Keras, plait never imports a module named in the data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from plait import activations, constraints, initializers, regularizers
from plait.layers.base import Layer
from plait.layers.serialization import (
    custom_object_scope,
    deserialize_layer,
    get_registered_name,
    get_registered_object,
    serialize_layer,
)
from plait.losses import losses
from plait.metrics import metrics
from plait.optimizers import optimizers, schedules
from plait.utils.custom_objects import get_custom_objects, register_keras_serializable

__all__ = [
    "deserialize_keras_object",
    "get_custom_objects",
    "register_keras_serializable",
    "serialize_keras_object",
]

# Where plait's own non-layer classes are found by name.
_FAMILIES = [losses, metrics, optimizers, schedules, initializers]
_FAMILIES += [regularizers, constraints]


def serialize_keras_object(obj: Any) -> Any:
    """`obj` as JSON data that `deserialize_keras_object` turns back into it.

    Raises:
        TypeError: an object that is neither JSON data, a layer, an object with
            `get_config`, nor a function.

    Example:
        >>> from plait.layers import Dense
        >>> entry = serialize_keras_object(Dense(2, name="d"))
        >>> entry["class_name"], deserialize_keras_object(entry).units
        ('Dense', 2)
    """
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, Layer):
        return serialize_layer(obj)
    if isinstance(obj, (np.ndarray, torch.Tensor, np.generic)):
        return np.asarray(obj.cpu() if isinstance(obj, torch.Tensor) else obj).tolist()
    get_config = getattr(obj, "get_config", None)
    if callable(get_config) and not isinstance(obj, type):
        entry: dict[str, Any] = {
            "class_name": type(obj).__name__,
            "config": serialize_keras_object(get_config()),
        }
        registered = get_registered_name(type(obj))
        if registered != type(obj).__name__:
            entry["registered_name"] = registered
        return entry
    if callable(obj):
        return {"class_name": "function", "config": get_registered_name(obj)}
    raise TypeError(
        f"serialize_keras_object: expected JSON data, a layer, an object with "
        f"get_config() or a function, got {type(obj).__name__}."
    )


def _find_class(name: str, registered: Any, custom_objects: Any) -> Any:
    for key in (registered, name):
        if isinstance(key, str) and key:
            found = get_registered_object(key, custom_objects)
            if found is not None:
                return found
    for family in _FAMILIES:
        found = getattr(family, name, None)
        if isinstance(found, type) and hasattr(found, "from_config"):
            return found
    return None


def _find_function(name: Any, custom_objects: Any) -> Any:
    if not isinstance(name, str):
        raise ValueError(
            f"deserialize_keras_object: expected a function's name, got {name!r}."
        )
    found = get_registered_object(name, custom_objects)
    if found is not None:
        return found
    try:
        return activations.get(name)
    except ValueError:
        pass
    try:
        return losses.get(name)
    except ValueError as err:
        raise ValueError(
            f"deserialize_keras_object: unknown function {name!r}; register it "
            "with @plait.saving.register_keras_serializable() or pass it in "
            "custom_objects."
        ) from err


def deserialize_keras_object(
    config: Any,
    custom_objects: dict[str, Any] | None = None,
    safe_mode: bool = True,
    **kwargs: Any,
) -> Any:
    """Rebuild what `serialize_keras_object` returned.

    Args:
        config: Its output (an object already built is returned as it is).
        custom_objects: Name -> class or function, for objects that are
            neither plait's nor registered.
        safe_mode: Accepted for Keras compatibility; plait is always safe.
        **kwargs: Keras compatibility (`module_objects`, `printable_module_name`).

    Raises:
        ValueError: a class or function name that is not found.
    """
    if isinstance(config, str):  # a registered name, as Keras 2 saved functions
        found = get_registered_object(config, custom_objects)
        return config if found is None else found
    return _deserialize(config, custom_objects)


def _deserialize(config: Any, custom_objects: dict[str, Any] | None) -> Any:
    if isinstance(config, list):
        return [_deserialize(v, custom_objects) for v in config]
    if not isinstance(config, dict):
        return config  # JSON scalars, and objects that are already built
    if "class_name" not in config:
        return {k: _deserialize(v, custom_objects) for k, v in config.items()}
    name, inner = config["class_name"], config.get("config")
    if name == "function":
        return _find_function(inner, custom_objects)
    cls = _find_class(name, config.get("registered_name"), custom_objects)
    if cls is None or (isinstance(cls, type) and issubclass(cls, Layer)):
        return deserialize_layer(config, custom_objects)  # or its clear error
    if not isinstance(inner, dict):
        raise ValueError(
            f"deserialize_keras_object: expected {name!r}'s 'config' to be a dict, "
            f"got {type(inner).__name__}."
        )
    with custom_object_scope(custom_objects):
        return cls.from_config(inner)
