"""One name table per kind of object: `"relu"`, `"glorot_uniform"`, `"mse"`, ...

Activations, initializers, regularizers, constraints, losses, metrics,
optimizers and learning-rate schedules each keep a `Registry`: names (with
Keras's aliases) for `get("name")`, and the classes a `{"class_name": ...,
"config": ...}` dict may name. Objects register themselves with
`@REGISTRY.register("alias", ...)` where they are defined.

A config resolves only through a registry and the caller's `custom_objects`:
the registry never imports a module, so a saved file stays data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self, TypeVar

__all__ = ["Configurable", "Registry"]

T = TypeVar("T")


class Configurable:
    """Base of the objects a registry rebuilds from their constructor arguments.

    Keras's pair: `get_config()` returns the arguments as JSON data (none for
    this base), `from_config(config)` calls the class with them.

    Example:
        >>> class Scale(Configurable):
        ...     def __init__(self, factor=1.0):
        ...         self.factor = factor
        ...     def get_config(self):
        ...         return {"factor": self.factor}
        >>> Scale.from_config(Scale(2.0).get_config()).factor
        2.0
    """

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as JSON data."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Self:
        """Recreate the object from `get_config()`."""
        return cls(**config)


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


class Registry:
    """Name -> object table for one kind, with Keras's `get`/`serialize` rules.

    Args:
        kind: What the objects are, for messages (`"activation"`).
        base: The class whose instances `get` returns as they are and whose
            subclasses it instantiates; None for plain functions.
        make: How `get(name)` turns a registered object into the result; by
            default a class (or factory function) is called with no arguments
            and any other object is returned as it is.
        wrap: How `get(fn)` treats a callable that is not a `base` class; by
            default it is returned as it is.
        any_subclass: Whether `serialize` writes a config for every instance of
            `base` (losses, metrics) or only for registered classes.
        allow_none: Whether `get(None)` gives None (else it is a TypeError).
        ignore_case: Whether names match in any case (optimizers).

    Example:
        >>> registry = Registry("greeting")
        >>> @registry.register("hi")
        ... def hello():
        ...     return "hello"
        >>> registry.get("hi") is hello
        True
        >>> registry.get("bye")
        Traceback (most recent call last):
        ...
        ValueError: Unknown greeting 'bye'; expected one of ['hello', 'hi'].
    """

    def __init__(
        self,
        kind: str,
        base: type | None = None,
        *,
        make: Callable[[str, Any], Any] | None = None,
        wrap: Callable[[Any], Any] | None = None,
        any_subclass: bool = False,
        allow_none: bool = True,
        ignore_case: bool = False,
    ) -> None:
        self.kind, self.base = kind, base
        self._make, self._wrap = make, wrap
        self._any_subclass, self._ignore_case = any_subclass, ignore_case
        self._allow_none = allow_none
        self._names: dict[str, Any] = {}  # name -> object
        self._classes: dict[str, type] = {}  # class_name -> class, for configs
        self._canonical: dict[int, str] = {}  # id(object) -> its first name

    def _key(self, name: str) -> str:
        return name.lower() if self._ignore_case else name

    def add(self, obj: T, *aliases: str, named: bool = True) -> T:
        """Register `obj` under its `__name__` (if `named`) and `aliases`.

        A class also becomes valid as a config's `class_name`. The first name
        is the one `name_of` gives back.
        """
        if isinstance(obj, type):
            self._classes[self._key(obj.__name__)] = obj
        own = [obj.__name__] if named else []  # type: ignore[attr-defined]
        for name in [*own, *aliases]:
            self._names[self._key(name)] = obj
            self._canonical.setdefault(id(obj), name)
        return obj

    def register(self, *aliases: str, named: bool = True) -> Callable[[T], T]:
        """Decorator form of `add`: `@REGISTRY.register("alias")`."""
        return lambda obj: self.add(obj, *aliases, named=named)

    def items(self) -> list[tuple[str, Any]]:
        """`(name, object)` pairs, in the order they were registered."""
        return list(self._names.items())

    def find(self, name: str) -> Any:
        """The object registered as `name`, or None."""
        return self._names.get(self._key(name))

    def name_of(self, obj: Any) -> str | None:
        """The first name `obj` was registered under, or None."""
        return self._canonical.get(id(obj))

    def lookup(self, name: str) -> Any:
        """The object registered as `name`.

        Raises:
            ValueError: an unknown name; the message lists the valid ones.
        """
        found = self.find(name)
        if found is None:
            raise ValueError(
                f"Unknown {self.kind} {name!r}; expected one of {sorted(self._names)}."
            )
        return found

    def get(self, identifier: Any) -> Any:
        """Resolve `identifier` with Keras's rules.

        `None` gives None (if `allow_none`); an instance of `base` is returned as it is; a name
        goes through `make`; with a `base`, a config dict goes through
        `deserialize` and a `base` subclass is instantiated with no arguments;
        another callable goes through `wrap`.

        Raises:
            ValueError: an unknown name or class name, listing the valid ones.
            TypeError: anything else.
        """
        base = self.base
        if identifier is None and self._allow_none:
            return None
        if base is not None and isinstance(identifier, base):
            return identifier
        if isinstance(identifier, str):
            obj = self.lookup(identifier)
            if self._make is not None:
                return self._make(identifier, obj)
            return obj() if isinstance(obj, type) or base is not None else obj
        if isinstance(identifier, dict) and base is not None:
            return self.deserialize(identifier)
        if isinstance(identifier, type) and base is not None:
            if issubclass(identifier, base):
                return identifier()
        elif callable(identifier):
            return identifier if self._wrap is None else self._wrap(identifier)
        forms = (
            "name or callable"
            if base is None
            else "name, config dict, class or callable"
        )
        raise TypeError(
            f"Expected {_article(self.kind)} {self.kind} {forms}, got "
            f"{type(identifier).__name__} {identifier!r}."
        )

    def get_class(
        self, class_name: Any, custom_objects: dict[str, Any] | None = None
    ) -> type:
        """The class a config names: from `custom_objects` first, then registered.

        Raises:
            ValueError: neither holds a `base` subclass of that name.
        """
        found = (custom_objects or {}).get(class_name)
        if found is None and isinstance(class_name, str):
            found = self._classes.get(self._key(class_name))
        if isinstance(found, type) and (
            self.base is None or issubclass(found, self.base)
        ):
            return found
        what = self.base.__name__ if self.base is not None else "class"
        raise ValueError(
            f"Unknown {self.kind} class {class_name!r}; expected one of "
            f"{sorted(self._classes)} or {_article(what.lower())} {what} subclass "
            "passed in custom_objects."
        )

    def deserialize(
        self, config: Any, custom_objects: dict[str, Any] | None = None
    ) -> Any:
        """Rebuild an object from a name or `{"class_name": ..., "config": ...}`.

        A name found in `custom_objects` resolves to that object (through
        `get`). A wrapper's `"fn"` named in `custom_objects` becomes that
        function. Nothing is imported: an unknown name is an error.

        Raises:
            ValueError: an unknown name or class name.
            TypeError: `config` is neither a name nor such a dict.
        """
        custom = custom_objects or {}
        if isinstance(config, str):
            return self.get(custom.get(config, config))
        if not (isinstance(config, dict) and "class_name" in config):
            raise TypeError(
                f"deserialize: expected a name or a class_name/config dict, got {config!r}."
            )
        cls = self.get_class(config["class_name"], custom)
        kwargs = dict(config.get("config") or {})
        if isinstance(kwargs.get("fn"), str) and kwargs["fn"] in custom:
            kwargs["fn"] = custom[kwargs["fn"]]
        return cls.from_config(kwargs)  # type: ignore[attr-defined]

    def serialize(self, obj: Any) -> dict[str, Any] | str | None:
        """JSON data for `obj`: `{"class_name": ..., "config": ...}`, or a name.

        None gives None. An instance of a registered class (of any `base`
        subclass with `any_subclass`) gives its class name and `get_config()`;
        an object registered with `plait.saving.register_serializable()` its
        registered name.

        Raises:
            ValueError: an object that has neither.
        """
        if obj is None:
            return None
        cls = type(obj)
        registered_class = self._classes.get(self._key(cls.__name__)) is cls
        if registered_class or (
            self._any_subclass and self.base is not None and isinstance(obj, self.base)
        ):
            return {"class_name": cls.__name__, "config": obj.get_config()}
        registered = getattr(obj, "_plait_registered_name", None)
        if isinstance(registered, str):
            return registered
        raise ValueError(
            f"cannot serialize {self.kind} {obj!r}: it is neither a built-in "
            f"{self.kind} nor registered with plait.saving.register_serializable()."
        )
