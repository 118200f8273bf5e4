"""Nested structure helpers: flatten, pack_like, map_structure."""

from plait.utils import tree


def test_tree_flatten_order():
    assert tree.flatten([1, (2, {"b": 3, "a": 4}), [5]]) == [1, 2, 3, 4, 5]
    assert tree.flatten(7) == [7]
    assert tree.flatten([]) == []


def test_tree_pack_like_round_trip():
    s = {"x": [1, (2, 3)], "y": 4}
    assert tree.pack_like(s, tree.flatten(s)) == s
    assert tree.map_structure(lambda v: v * 10, s) == {"x": [10, (20, 30)], "y": 40}


def test_tree_deep_nesting_is_iterative():
    s = 0
    for _ in range(5000):
        s = [s]
    assert tree.flatten(s) == [0]
