"""Flatten and rebuild nested structures of lists, tuples and dicts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["flatten", "map_structure", "pack_like"]


def _iter(structure: Any) -> Iterator[Any]:
    # Iterative depth-first walk: deep nesting must not hit the recursion limit.
    stack = [structure]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(item[k] for k in reversed(list(item)))
        else:
            yield item


def flatten(structure: Any) -> list[Any]:
    """Leaves of a nested list/tuple/dict structure, in order (dicts by insertion)."""
    if not isinstance(structure, (list, tuple, dict)):
        return [structure]
    return list(_iter(structure))


def pack_like(structure: Any, leaves: list[Any]) -> Any:
    """Rebuild `structure` with its leaves replaced, in order, by `leaves`."""
    it = iter(leaves)

    def build(s: Any) -> Any:
        if isinstance(s, list):
            return [build(v) for v in s]
        if isinstance(s, tuple):
            return tuple(build(v) for v in s)
        if isinstance(s, dict):
            return {k: build(v) for k, v in s.items()}
        return next(it)

    return build(structure)


def map_structure(fn: Callable[[Any], Any], structure: Any) -> Any:
    """Apply `fn` to every leaf, keeping the structure."""
    return pack_like(structure, [fn(x) for x in flatten(structure)])
