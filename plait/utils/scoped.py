"""A thread-local value set for the extent of a `with` block, then restored."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["thread_value"]


@contextlib.contextmanager
def thread_value(
    local: threading.local, name: str, value: Any, default: Any = None
) -> Iterator[None]:
    """Within: `local.<name>` is `value`; after, what it was (`default` if unset),
    errors included. Nested blocks restore in turn.

    Example:
        >>> state = threading.local()
        >>> with thread_value(state, "mode", "inner"):
        ...     state.mode
        'inner'
        >>> print(getattr(state, "mode"))
        None
    """
    before = getattr(local, name, default)
    setattr(local, name, value)
    try:
        yield
    finally:
        setattr(local, name, before)
