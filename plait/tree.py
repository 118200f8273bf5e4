"""Nested structures as Keras 3's `keras.tree`: flatten, map and rebuild them.

A structure is built of lists, tuples (named tuples too), `deque`s and dicts;
anything else, `None` included, is a leaf. Plain dicts (and `defaultdict`s)
are walked in sorted key order, `OrderedDict`s in their own order, and a dict
is rebuilt with its original key order: the order Keras uses, so a custom
layer's `tree.flatten(inputs)` unpacks as it does in Keras.

Example:
    >>> from plait import tree
    >>> tree.flatten({"b": 1, "a": [2, (3, None)]})
    [2, 3, None, 1]
    >>> tree.map_structure(lambda a, b: a + b, [1, (2, 3)], [10, (20, 30)])
    [11, (22, 33)]
"""

from __future__ import annotations

import collections
import warnings
from collections.abc import Callable, Hashable, Iterator
from typing import Any

__all__ = [
    "MAP_TO_NONE",
    "assert_same_paths",
    "assert_same_structure",
    "flatten",
    "flatten_with_path",
    "is_nested",
    "lists_to_tuples",
    "map_shape_structure",
    "map_structure",
    "map_structure_up_to",
    "pack_sequence_as",
    "traverse",
]

Path = tuple[Hashable, ...]


class MAP_TO_NONE:
    """Returned by a `traverse` function: put `None` in place of this node."""


def _is_namedtuple(node: Any) -> bool:
    return isinstance(node, tuple) and hasattr(type(node), "_fields")


def _keys(node: Any) -> list[Hashable] | None:
    """The keys of a node's children in walking order; None for a leaf."""
    if isinstance(node, dict):
        if isinstance(node, collections.OrderedDict):
            return list(node)
        try:
            return sorted(node)
        except TypeError:  # keys that do not sort: Keras sorts; keep their order
            return list(node)
    if isinstance(node, (list, tuple, collections.deque)):
        return list(range(len(node)))
    return None


def is_nested(structure: Any) -> bool:
    """Whether `structure` is a list, tuple, deque or dict (not a leaf).

    Example:
        >>> is_nested([1]), is_nested(None), is_nested("abc")
        (True, False, False)
    """
    return _keys(structure) is not None


def _rebuild(node: Any, values: list[Any], keep_order: bool = False) -> Any:
    """A node of `node`'s type holding `values` (in walking order).

    A dict comes back in walking order (sorted keys), or with `keep_order` in
    its own order: Keras's `map_structure` keeps it, its other functions sort.
    """
    if isinstance(node, dict):
        keys = _keys(node) or []
        by_key = dict(zip(keys, values))
        ordered = [(k, by_key[k]) for k in (node if keep_order else keys)]
        if isinstance(node, collections.defaultdict):
            return collections.defaultdict(node.default_factory, ordered)
        if type(node) is dict:
            return dict(ordered)
        return type(node)(ordered)
    if _is_namedtuple(node):
        return type(node)(*values)
    if isinstance(node, collections.deque):
        return collections.deque(values, maxlen=node.maxlen)
    if type(node) in (list, tuple):
        return type(node)(values)
    return type(node)(values)  # a list or tuple subclass


def _walk(structure: Any) -> Iterator[tuple[Path, Any]]:
    """`(path, leaf)` pairs in walking order, without recursion."""
    stack: list[tuple[Path, Any]] = [((), structure)]
    while stack:
        path, node = stack.pop()
        keys = _keys(node)
        if keys is None:
            yield path, node
            continue
        stack.extend(((*path, k), node[k]) for k in reversed(keys))


def flatten(structure: Any) -> list[Any]:
    """The leaves of `structure`, in walking order (a leaf gives `[leaf]`).

    Example:
        >>> flatten([1, {"y": 2, "x": 3}])
        [1, 3, 2]
    """
    return [leaf for _, leaf in _walk(structure)]


def flatten_with_path(structure: Any) -> list[tuple[Path, Any]]:
    """`(path, leaf)` pairs; a path is the tuple of indices and keys to the leaf.

    Example:
        >>> flatten_with_path([1, {"x": 2}])
        [((0,), 1), ((1, 'x'), 2)]
    """
    return list(_walk(structure))


def pack_sequence_as(structure: Any, flat_sequence: Any) -> Any:
    """`structure` with its leaves replaced, in order, by `flat_sequence`.

    Dicts come back with sorted keys (as Keras's do).

    Raises:
        ValueError: when the number of values is not the number of leaves.

    Example:
        >>> pack_sequence_as({"b": 0, "a": (0, 0)}, [1, 2, 3])
        {'a': (1, 2), 'b': 3}
    """
    return _pack(structure, flat_sequence, keep_order=False)


def _pack(structure: Any, flat_sequence: Any, keep_order: bool) -> Any:
    values = list(flat_sequence)
    want = len(flatten(structure))
    if len(values) != want:
        raise ValueError(
            f"pack_sequence_as: expected {want} value{'s' if want != 1 else ''} "
            f"(one per leaf of the structure), got {len(values)}."
        )
    it = iter(values)

    def build(node: Any) -> Any:
        keys = _keys(node)
        if keys is None:
            return next(it)
        return _rebuild(node, [build(node[k]) for k in keys], keep_order)

    return build(structure)


def _mismatch(a: Any, b: Any, path: Path) -> str | None:
    """Why node `b` does not match node `a` (None when it does)."""
    where = f" at path {path}" if path else ""
    ka, kb = _keys(a), _keys(b)
    if ka is None or kb is None:
        if ka is None and kb is None:
            return None
        kind = "a leaf" if ka is None else type(a).__name__
        got = "a leaf" if kb is None else type(b).__name__
        return f"expected {kind}{where}, got {got} ({b!r:.60})"
    if type(a) is not type(b) and not (isinstance(a, dict) and isinstance(b, dict)):
        return f"expected a {type(a).__name__}{where}, got a {type(b).__name__}"
    if isinstance(a, dict) and set(ka) != set(kb):
        missing, extra = set(ka) - set(kb), set(kb) - set(ka)
        return f"expected keys {sorted(map(repr, ka))}{where}; missing {missing or '{}'}, extra {extra or '{}'}"
    if len(ka) != len(kb):
        return f"expected {len(ka)} items{where}, got {len(kb)}"
    return None


def _check_same(a: Any, b: Any, what: str) -> None:
    stack: list[tuple[Path, Any, Any]] = [((), a, b)]
    while stack:
        path, x, y = stack.pop()
        why = _mismatch(x, y, path)
        if why is not None:
            raise ValueError(f"{what}: the structures differ: {why}.")
        for k in _keys(x) or []:
            stack.append(((*path, k), x[k], y[k]))


def assert_same_structure(a: Any, b: Any, check_types: Any = None) -> None:
    """Raise a ValueError unless `a` and `b` have the same nesting and node types.

    Args:
        a: A structure.
        b: Another structure.
        check_types: Deprecated in Keras 3 and without effect; for a looser
            check use `assert_same_paths`.
    """
    if check_types is not None:
        warnings.warn(
            "assert_same_structure: `check_types` has no effect (as in Keras 3); "
            "for a check that lets a list match a tuple use assert_same_paths().",
            DeprecationWarning,
            stacklevel=2,
        )
    _check_same(a, b, "assert_same_structure")


def assert_same_paths(a: Any, b: Any) -> None:
    """Raise a ValueError unless `a` and `b` have the same leaf paths.

    Node types are not compared: a list matches a tuple of the same length.
    """
    pa = {p for p, _ in _walk(a)}
    pb = {p for p, _ in _walk(b)}
    if pa != pb:
        raise ValueError(
            "assert_same_paths: `a` and `b` have different paths; in `a` only: "
            f"{sorted(pa - pb, key=repr)}, in `b` only: {sorted(pb - pa, key=repr)}."
        )


def map_structure(
    func: Callable[..., Any], *structures: Any, none_is_leaf: bool = True
) -> Any:
    """`func` on the leaves at each position of `structures` (all alike).

    Args:
        func: Called with one leaf from each structure.
        *structures: One or more structures of the same nesting and types.
        none_is_leaf: If False, a `None` leaf stays `None` without a call (and
            the other structures must hold `None` there too).

    Example:
        >>> map_structure(lambda x: x * 2, {"b": 1, "a": [2]})
        {'b': 2, 'a': [4]}
    """
    if not structures:
        raise TypeError("map_structure: expected at least one structure, got none.")
    first = structures[0]
    for other in structures[1:]:
        _check_same(first, other, "map_structure")
    columns = [flatten(s) for s in structures]
    out: list[Any] = []
    for leaves in zip(*columns):
        if not none_is_leaf and any(x is None for x in leaves):
            if not all(x is None for x in leaves):
                raise ValueError(
                    "map_structure: with none_is_leaf=False a position must hold "
                    f"None in every structure or in none, got {leaves!r:.120}."
                )
            out.append(None)
        else:
            out.append(func(*leaves))
    return _pack(first, out, keep_order=True)


def map_structure_up_to(
    shallow_structure: Any, func: Callable[..., Any], *structures: Any
) -> Any:
    """`func` on the subtrees of `structures` found at `shallow_structure`'s leaves.

    Example:
        >>> map_structure_up_to([0, [0, 0]], len, [[9, 9], [[4], [5, 6]]])
        [2, [1, 2]]
    """

    def down(shallow: Any, subs: tuple[Any, ...], path: Path) -> Any:
        keys = _keys(shallow)
        if keys is None:
            return func(*subs)
        for sub in subs:
            why = _mismatch(shallow, sub, path)
            if why is not None:
                raise ValueError(f"map_structure_up_to: {why}.")
        parts = [down(shallow[k], tuple(s[k] for s in subs), (*path, k)) for k in keys]
        return _rebuild(shallow, parts, keep_order=True)

    return down(shallow_structure, structures, ())


def lists_to_tuples(structure: Any) -> Any:
    """`structure` with every list turned into a tuple.

    Example:
        >>> lists_to_tuples([1, [2, {"a": [3]}]])
        (1, (2, {'a': (3,)}))
    """
    keys = _keys(structure)
    if keys is None:
        return structure
    parts = [lists_to_tuples(structure[k]) for k in keys]
    if isinstance(structure, list):
        return tuple(parts)
    return _rebuild(structure, parts)


def _is_shape(x: Any) -> bool:
    return isinstance(x, (list, tuple)) and all(
        d is None or isinstance(d, int) for d in x
    )


def map_shape_structure(func: Callable[[Any], Any], structure: Any) -> Any:
    """`func` on each shape (a list or tuple of ints and Nones) of `structure`.

    Example:
        >>> map_shape_structure(len, [(None, 3), {"a": (5,)}])
        [2, {'a': 1}]
    """
    if _is_shape(structure) or _keys(structure) is None:
        return func(structure)
    keys = _keys(structure) or []
    return _rebuild(structure, [map_shape_structure(func, structure[k]) for k in keys])


def traverse(func: Callable[[Any], Any], structure: Any, top_down: bool = True) -> Any:
    """Rebuild `structure`, letting `func` replace nodes and leaves.

    Top-down, `func` sees each node before its children: a value other than
    None replaces the whole node (`MAP_TO_NONE` puts None there); None goes on
    into the children. Bottom-up, `func` sees each node with its children
    already traversed: None keeps it, anything else replaces it.

    Example:
        >>> traverse(lambda x: 0 if x == [2] else None, [1, [2]])
        [1, 0]
    """

    def replaced(value: Any) -> Any:
        return None if value is MAP_TO_NONE else value

    def children(node: Any) -> Any:
        keys = _keys(node)
        if keys is None:
            return node
        return _rebuild(node, [visit(node[k]) for k in keys])

    def visit(node: Any) -> Any:
        if top_down:
            got = func(node)
            return children(node) if got is None else replaced(got)
        node = children(node)
        got = func(node)
        return node if got is None else replaced(got)

    return visit(structure)
