"""A per-object re-entrant lock for one-time builds, kept outside the object.

A layer's first call builds its weights. When that first call comes from several
threads at once, each would see `built` False and build its own weights, and all
but the last set would be thrown away (with the results computed from them). The
build therefore runs under this lock, re-checking `built` once it holds it.

The locks live in a weak registry rather than on the layer: a lock cannot be
pickled or deep-copied, and layers must stay both (`torch.save`, `clone_model`,
`copy.deepcopy`). An entry goes away with its layer.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

__all__ = ["build_lock"]

_GUARD = threading.Lock()
_LOCKS: weakref.WeakKeyDictionary[Any, threading.RLock] = weakref.WeakKeyDictionary()


def build_lock(obj: Any) -> threading.RLock:
    """The re-entrant build lock of `obj`, created on first use.

    Re-entrant because a build may call the same object again (a model building
    its graph calls itself symbolically).

    Example:
        >>> class Thing:
        ...     pass
        >>> thing = Thing()
        >>> build_lock(thing) is build_lock(thing)
        True
    """
    with _GUARD:
        lock = _LOCKS.get(obj)
        if lock is None:
            lock = _LOCKS[obj] = threading.RLock()
        return lock
