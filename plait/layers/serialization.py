"""The object registry: how a saved class or function name becomes a Python object.

A plait file names classes and functions; it never names a module. A name resolves
through, in order: the `custom_objects` the caller passes, the registry of
`@register_serializable()` objects, and plait's own layers and models (every
`Layer` subclass that `plait.layers` exports, looked up when needed, so a new layer
family registers itself by being exported). Anything else, such as
`"os.system"` or `"builtins.eval"`, is a `ValueError` naming it: nothing is
imported, evaluated or unpickled because a file says so.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from plait.layers.base import Layer
from plait.utils.custom_objects import (
    _HOW_TO_REGISTER,
    _own_registered_name,
    custom_object_scope,
    get_registered_name,
    get_registered_object,
    register_serializable,
)

__all__ = [
    "custom_object_scope",
    "deserialize_layer",
    "get_registered_name",
    "get_registered_object",
    "register_serializable",
    "serialize_layer",
]

T = TypeVar("T")

_LOCAL = threading.local()

# Keys a layer entry may hold; "inbound_nodes" belongs to the model around it and
# "build_config"/"compile_config" are written by Keras and ignored.
_ENTRY_KEYS = frozenset(
    {
        "class_name",
        "config",
        "registered_name",
        "name",
        "inbound_nodes",
        "shared_object_id",
    }
)
_IGNORED_KEYS = frozenset({"build_config", "compile_config"})
# Config keys whose string values may name a registered function.
_FUNCTION_KEYS = frozenset({"function", "output_shape", "mask", "standardize", "split"})

_LAYER_FROM_CONFIG = vars(Layer)["from_config"].__func__


def _builtin_classes() -> dict[str, type[Layer]]:
    """plait's own layer and model classes by name, read when needed.

    Read once per save or load (the sharing scope keeps them), not once per layer.
    """
    sharing: _Sharing | None = getattr(_LOCAL, "sharing", None)
    if sharing is not None:
        if sharing.builtins is None:
            sharing.builtins = _read_builtin_classes()
        return sharing.builtins
    return _read_builtin_classes()


# Model classes (Functional, Sequential) sit above the layers; they add themselves
# here when their module loads (`register_builtin_class`), and the loader imports
# plait.models before it reads a file.
_BUILTIN_MODELS: dict[str, type[Layer]] = {}


def register_builtin_class(cls: type[Layer], *aliases: str) -> type[Layer]:
    """Make one of plait's own classes above the layers (a model) resolvable."""
    for name in (cls.__name__, *aliases):
        _BUILTIN_MODELS[name] = cls
    return cls


def _read_builtin_classes() -> dict[str, type[Layer]]:
    import plait.layers
    from plait.layers.ops import Operator, OpLayer

    found: dict[str, type[Layer]] = {
        name: obj
        for name, obj in vars(plait.layers).items()
        if isinstance(obj, type) and issubclass(obj, Layer) and obj is not Layer
    }
    found["Operator"] = Operator
    found["OpLayer"] = OpLayer
    found.update(_BUILTIN_MODELS)
    return found


def resolve_class(
    class_name: Any,
    registered_name: Any = None,
    custom_objects: dict[str, Any] | None = None,
) -> type[Layer]:
    """The layer class a config names, or a ValueError naming what was asked for."""
    if not isinstance(class_name, str) or not class_name:
        raise ValueError(
            f"expected a layer entry with a str 'class_name', got {class_name!r}."
        )
    found = None
    for key in (registered_name, class_name):
        if isinstance(key, str) and key:
            found = get_registered_object(key, custom_objects)
            if found is not None:
                break
    if found is None:
        found = _builtin_classes().get(class_name)
    if found is None:
        asked = class_name if not registered_name else f"{registered_name!s}"
        raise ValueError(
            f"unknown layer class {asked!r}: {_HOW_TO_REGISTER}. If it is your own "
            f"layer, pass custom_objects={{{class_name!r}: {class_name}}} or "
            "decorate its class with @plait.saving.register_serializable()."
        )
    if not (isinstance(found, type) and issubclass(found, Layer)):
        raise ValueError(
            f"layer class {class_name!r} resolved to {found!r}, which is not a "
            "plait Layer subclass."
        )
    return found


def resolve_functions(
    config: dict[str, Any], custom_objects: dict[str, Any] | None, where: str
) -> dict[str, Any]:
    """Replace registered function names in `config` by the functions."""
    out = dict(config)
    for key, value in config.items():
        if not isinstance(value, str):
            continue
        is_fn_key = key in _FUNCTION_KEYS or key.endswith("activation")
        if not is_fn_key:
            continue
        found = get_registered_object(value, custom_objects)
        if found is not None:
            out[key] = found
        elif ">" in value:
            raise ValueError(
                f"{where}: unknown function {value!r} for {key!r}: {_HOW_TO_REGISTER}. "
                "Import the module that registers it, or pass it in custom_objects."
            )
        elif key in ("function", "mask"):
            raise ValueError(
                f"{where}: unknown function {value!r} for {key!r}: {_HOW_TO_REGISTER}."
            )
    return out


class _Sharing:
    """Objects met so far while saving or loading one model."""

    def __init__(self) -> None:
        # id(layer) -> (its entry, the layer: kept alive so the id stays its own)
        self.saved: dict[int, tuple[dict[str, Any], Layer]] = {}
        self.next_id = 0
        self.loaded: dict[int, Layer] = {}
        self.builtins: dict[str, type[Layer]] | None = None


@contextlib.contextmanager
def sharing_scope() -> Iterator[_Sharing]:
    """Within it, an object serialized or rebuilt twice is the same object.

    A layer used both by a nested model and by the model around it is saved
    once with a `shared_object_id`, and loads as one layer again. Scopes nest:
    the outermost one holds the table.
    """
    table: _Sharing | None = getattr(_LOCAL, "sharing", None)
    if table is not None:
        yield table
        return
    _LOCAL.sharing = table = _Sharing()
    try:
        yield table
    finally:
        _LOCAL.sharing = None


def serialize_layer(layer: Layer) -> dict[str, Any]:
    """`{"class_name", "config"[, "registered_name"]}` of a layer, as JSON data.

    Raises:
        ValueError: the layer's `get_config` returns something that is not JSON
            data, naming the key (a `Lambda` of an unregistered function says how
            to register it).

    Example:
        >>> from plait.layers import Dense
        >>> entry = serialize_layer(Dense(3, name="d"))
        >>> entry["class_name"], entry["config"]["units"]
        ('Dense', 3)
    """
    with sharing_scope() as sharing:
        seen = sharing.saved.get(id(layer))
        if seen is not None:
            first = seen[0]
            if "shared_object_id" not in first:
                sharing.next_id += 1
                first["shared_object_id"] = sharing.next_id
            return {**first}
        entry = _serialize(layer)
        sharing.saved[id(layer)] = (entry, layer)
        return entry


def _nested_layers_saved(value: Any) -> Any:
    """`value` with every layer in it (a config value, a list) as its entry."""
    if isinstance(value, Layer):
        return serialize_layer(value)
    if isinstance(value, (list, tuple)):
        return [_nested_layers_saved(v) for v in value]
    return value


def _nested_layers_loaded(value: Any, custom_objects: dict[str, Any] | None) -> Any:
    """The inverse of `_nested_layers_saved`: layer entries become layers."""
    if isinstance(value, list):
        return [_nested_layers_loaded(v, custom_objects) for v in value]
    if not (isinstance(value, dict) and {"class_name", "config"} <= set(value)):
        return value
    try:  # an initializer's or regularizer's entry is not a layer's
        resolve_class(value["class_name"], value.get("registered_name"), custom_objects)
    except ValueError:
        return value
    return deserialize_layer(value, custom_objects)


def _serialize(layer: Layer) -> dict[str, Any]:
    cls = type(layer)
    config = layer.get_config()
    if not isinstance(config, dict):
        raise ValueError(
            f"{layer._where()}: expected get_config() to return a dict, got "
            f"{type(config).__name__}."
        )
    # Keras compat: a layer returned in get_config() (a sublayer) is saved as
    # its entry, and rebuilt before from_config when the class keeps Layer's.
    config = {k: _nested_layers_saved(v) for k, v in config.items()}
    check_json(config, layer._where())
    entry: dict[str, Any] = {"class_name": cls.__name__, "config": config}
    registered = _own_registered_name(cls)
    if registered is not None:
        entry["registered_name"] = registered
    if layer._saves_build_config():
        build_config = layer.get_build_config()
        if build_config is not None:
            build_config = _as_json(build_config)
            check_json(build_config, f"{layer._where()} get_build_config()")
            entry["build_config"] = build_config
    return entry


def _as_json(value: Any) -> Any:
    """Tuples (shapes) as lists, dicts and lists walked; the rest as it is."""
    if isinstance(value, (list, tuple)):
        return [_as_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    return value


def check_json(value: Any, where: str) -> None:
    """Raise a ValueError naming the first part of `value` that is not JSON data."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if item is None or isinstance(item, (bool, int, float, str)):
            continue
        if isinstance(item, (list, tuple)):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(item))
        elif isinstance(item, dict):
            for k, v in item.items():
                if not isinstance(k, str):
                    raise ValueError(
                        f"{where}: config key {k!r} at {path or 'top level'} is not "
                        "a str, so it cannot be saved as JSON."
                    )
                stack.append((v, f"{path}.{k}" if path else k))
        else:
            raise ValueError(
                f"{where}: get_config() holds a {type(item).__name__} at "
                f"{path or 'top level'!r}, which is not JSON data (str, number, bool, "
                "None, list or dict) and cannot be saved."
            )


def deserialize_layer(
    config: Any, custom_objects: dict[str, Any] | None = None
) -> Layer:
    """Rebuild a layer (or a model) from `serialize_layer`'s output.

    Args:
        config: `{"class_name": ..., "config": {...}}`, optionally with a
            `"registered_name"`.
        custom_objects: Name -> class or function, for objects that are neither
            plait's nor registered.

    Raises:
        ValueError: an unknown class or function name, a `module` key, a config
            that is not a dict, or a config the class rejects; the message names
            the class and the layer.

    Example:
        >>> from plait.layers import Dense
        >>> layer = deserialize_layer({"class_name": "Dense", "config": {"units": 2}})
        >>> type(layer).__name__, layer.units
        ('Dense', 2)
    """
    if not isinstance(config, dict):
        raise ValueError(
            f"expected a layer entry {{'class_name': ..., 'config': ...}}, got "
            f"{type(config).__name__}."
        )
    if "module" in config:
        raise ValueError(
            f"layer entry {config.get('name', config.get('class_name'))!r} has a "
            f"'module' key ({config['module']!r}): {_HOW_TO_REGISTER}."
        )
    unknown = set(config) - _ENTRY_KEYS - _IGNORED_KEYS
    if unknown:
        raise ValueError(
            f"layer entry {config.get('name', config.get('class_name'))!r} has "
            f"unknown keys {sorted(unknown)}; expected only {sorted(_ENTRY_KEYS)}."
        )
    class_name = config.get("class_name")
    cls = resolve_class(class_name, config.get("registered_name"), custom_objects)
    shared_id = config.get("shared_object_id")
    if shared_id is not None and not isinstance(shared_id, int):
        raise ValueError(f"expected an int 'shared_object_id', got {shared_id!r}.")
    with sharing_scope() as sharing:
        found = sharing.loaded.get(shared_id) if shared_id is not None else None
        if found is not None:
            if type(found) is not cls:
                raise ValueError(
                    f"shared object {shared_id} is a {type(found).__name__}, but an "
                    f"entry naming it says {class_name!r}."
                )
            return found
        layer = _deserialize(cls, config, custom_objects)
        if shared_id is not None:
            sharing.loaded[shared_id] = layer
        return layer


def _deserialize(
    cls: type[Layer], config: dict[str, Any], custom_objects: dict[str, Any] | None
) -> Layer:
    class_name = config.get("class_name")
    layer_config = config.get("config", {})
    if not isinstance(layer_config, dict):
        raise ValueError(
            f"layer entry {class_name!r}: expected 'config' to be a dict, got "
            f"{type(layer_config).__name__}."
        )
    where = f"{class_name} layer {layer_config.get('name', config.get('name'))!r}"
    with custom_object_scope(custom_objects):
        try:
            if cls._config_has_layers:  # models rebuild their layers themselves
                # Functional.from_config(config, custom_objects=None)
                rebuild: Callable[..., Layer] = cls.from_config
                return rebuild(layer_config, custom_objects=custom_objects)
            resolved = resolve_functions(layer_config, custom_objects, where)
            if getattr(cls.from_config, "__func__", None) is _LAYER_FROM_CONFIG:
                resolved = {
                    k: _nested_layers_loaded(v, custom_objects)
                    for k, v in resolved.items()
                }
            layer = cls.from_config(resolved)
            build_config = config.get("build_config")
            if build_config is not None and layer._saves_build_config():
                layer.build_from_config(build_config)
            return layer
        except (TypeError, ValueError, KeyError, IndexError) as err:
            if getattr(err, "_plait_config_error", False):
                raise
            new = ValueError(f"{where}: cannot rebuild it from its config: {err}")
            new._plait_config_error = True  # type: ignore[attr-defined]
            raise new from err
