"""What a function or constructor accepts, read from its signature."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection
from typing import Any

__all__ = ["accepted_config", "takes_keyword"]


def _takes_any_keyword(params: Any) -> bool:
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def takes_keyword(fn: Callable[..., Any], name: str) -> bool:
    """Whether `fn` can be called with `name=...` (a parameter or `**kwargs`).

    Example:
        >>> takes_keyword(lambda x, training=False: x, "training")
        True
        >>> takes_keyword(lambda x: x, "mask")
        False
    """
    params = inspect.signature(fn).parameters
    return name in params or _takes_any_keyword(params)


def accepted_config(
    cls: type, config: dict[str, Any], base_keys: Collection[str]
) -> dict[str, Any]:
    """`config` less the `base_keys` that `cls.__init__` takes neither by name
    nor through `**kwargs` (Keras compat: a subclass's `__init__(self)` is
    rebuilt from a config that also holds its base class's entries)."""
    params = inspect.signature(cls.__init__).parameters  # type: ignore[misc]
    if _takes_any_keyword(params):
        return config
    return {k: v for k, v in config.items() if k in params or k not in base_keys}
