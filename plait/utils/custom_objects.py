"""The custom-object registry: names of registered classes and functions.

`@register_serializable()` (Keras's `register_keras_serializable`) files a
class or function under `"package>name"`; `custom_object_scope` makes
`custom_objects` visible to lookups in a block; `get_registered_object` finds a
name among those, then the registry. Loaders (`plait.layers.serialization`,
`plait.saving`) look names up here and never import a module a file names.
Kept below the layers so that `plait.utils` offers Keras's `keras.utils` names.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

__all__ = [
    "CustomObjectScope",
    "custom_object_scope",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
    "register_serializable",
]

T = TypeVar("T")

# Registered name ("package>name") -> class or function.
_REGISTRY: dict[str, Any] = {}
_LOCAL = threading.local()  # the custom_object_scope stack, per thread
_HOW_TO_REGISTER = (
    "plait resolves names only through plait's own classes, the objects registered "
    "with @plait.saving.register_serializable() and the custom_objects passed to the "
    "loader; it never imports a module named in a file"
)


def register_serializable(
    package: str = "Custom", name: str | None = None
) -> Callable[[T], T]:
    """Register a class or function so that models using it can be saved and loaded.

    The object is saved by its registered name `"package>name"`, and loading
    finds it again by that name (the module defining it must be imported first).
    Use it for custom layers and for the functions of `Lambda` layers and custom
    activations.

    Args:
        package: Namespace of the name, to tell apart objects of several
            libraries; `"Custom"` by default.
        name: Name within the package; the object's `__name__` by default.

    Returns:
        A decorator that registers its argument and returns it unchanged.

    Raises:
        ValueError: `package` or `name` contains `">"`, or is empty.
        TypeError: the decorated object is neither a class nor a function.

    Example:
        >>> import plait
        >>> @plait.saving.register_serializable(package="demo")
        ... def square(x):
        ...     return x * x
        >>> square._plait_registered_name
        'demo>square'
        >>> layer = plait.layers.Lambda(square)
        >>> layer.get_config()["function"]
        'demo>square'
    """
    for what, value in (("package", package), ("name", name)):
        if value is not None and (not isinstance(value, str) or not value):
            raise ValueError(
                f"register_serializable: expected `{what}` to be a non-empty str, "
                f"got {value!r}."
            )
        if isinstance(value, str) and ">" in value:
            raise ValueError(
                f"register_serializable: `{what}` may not contain '>', got {value!r}."
            )

    def decorator(obj: T) -> T:
        if not callable(obj):
            raise TypeError(
                f"register_serializable: expected a class or a function, got "
                f"{type(obj).__name__} {obj!r}."
            )
        base = name or getattr(obj, "__name__", None)
        if not isinstance(base, str) or base == "<lambda>":
            raise ValueError(
                "register_serializable: a lambda has no name to save it by; define "
                "it with `def` or pass name=..."
            )
        registered = f"{package}>{base}"
        _REGISTRY[registered] = obj
        # Set on the object itself: plait.activations and Lambda read it.
        setattr(obj, "_plait_registered_name", registered)  # noqa: B010
        return obj

    return decorator


def get_registered_name(obj: Any) -> str:
    """The name `obj` is saved by: its registered name, else its `__name__`.

    Example:
        >>> from plait.layers import Dense
        >>> get_registered_name(Dense)
        'Dense'
    """
    registered = _own_registered_name(obj)
    if registered is not None:
        return registered
    return str(getattr(obj, "__name__", type(obj).__name__))


def _own_registered_name(obj: Any) -> str | None:
    # A class's registered name is not inherited by its unregistered subclasses.
    if isinstance(obj, type):
        value = obj.__dict__.get("_plait_registered_name")
    else:
        value = getattr(obj, "_plait_registered_name", None)
    return value if isinstance(value, str) else None


@contextlib.contextmanager
def custom_object_scope(custom_objects: dict[str, Any] | None) -> Iterator[None]:
    """Make `custom_objects` visible to every lookup made inside the `with` block.

    `load_model(..., custom_objects=...)` opens one, so a layer whose
    `from_config` deserializes inner objects (a wrapper's inner layer) finds them.

    Example:
        >>> with custom_object_scope({"Twice": object}):
        ...     get_registered_object("Twice") is object
        True
    """
    stack: list[dict[str, Any]] = _scope_stack()
    stack.append(dict(custom_objects or {}))
    try:
        yield
    finally:
        stack.pop()


def _scope_stack() -> list[dict[str, Any]]:
    stack = getattr(_LOCAL, "stack", None)
    if stack is None:
        stack = []
        _LOCAL.stack = stack
    return stack


def _custom_objects(explicit: dict[str, Any] | None) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for scope in _scope_stack():
        merged.update(scope)
    merged.update(explicit or {})
    return merged


def get_registered_object(
    name: str, custom_objects: dict[str, Any] | None = None
) -> Any:
    """The object saved as `name`, from `custom_objects`, scopes or the registry.

    `"package>name"` also matches a `custom_objects` key equal to the bare
    `name`. Returns None when nothing matches (plait's built-in classes are
    looked up by `deserialize_layer`, not here).
    """
    objects = _custom_objects(custom_objects)
    if name in objects:
        return objects[name]
    bare = name.split(">", 1)[1] if ">" in name else None
    if bare is not None and bare in objects:
        return objects[bare]
    return _REGISTRY.get(name)


register_keras_serializable = register_serializable
"""Keras's name of `register_serializable(package="Custom", name=None)`."""

CustomObjectScope = custom_object_scope
"""Keras's class-style name of `custom_object_scope`."""


def get_custom_objects() -> dict[str, Any]:
    """The live registry of custom objects, by registered name (as in Keras).

    Adding to it (`get_custom_objects()["swish2"] = fn`) makes a name known to
    every loader, like `register_keras_serializable`.

    Example:
        >>> @register_keras_serializable(package="demo")
        ... def triple(x):
        ...     return 3 * x
        >>> get_custom_objects()["demo>triple"] is triple
        True
    """
    return _REGISTRY
