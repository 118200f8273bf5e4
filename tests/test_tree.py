"""plait.tree: Keras 3's `keras.tree` (the expected values are Keras 3.15's).

`test_live_matches_keras` repeats the cases against Keras itself where it can be
imported (`-m keras`, run with the Keras venv's python).
"""

import collections
import os

import numpy as np
import pytest
import torch

from plait import tree

P = collections.namedtuple("P", "y x")

# (function name, args, kwargs, Keras 3.15's result)
CASES = [
    ("flatten", ({"b": 1, "a": [2, (3, None)]},), {}, [2, 3, None, 1]),
    ("flatten", (None,), {}, [None]),
    ("flatten", (5,), {}, [5]),
    ("flatten", ("abc",), {}, ["abc"]),
    ("flatten", ((),), {}, []),
    ("flatten", ({"a": None, "b": {}},), {}, [None]),
    ("flatten", (collections.OrderedDict([("b", 1), ("a", 2)]),), {}, [1, 2]),
    ("flatten", (P(1, 2),), {}, [1, 2]),
    ("flatten", (collections.deque([1, 2]),), {}, [1, 2]),
    (
        "flatten_with_path",
        ({"b": 1, "a": [2, (3, None)]},),
        {},
        [(("a", 0), 2), (("a", 1, 0), 3), (("a", 1, 1), None), (("b",), 1)],
    ),
    ("flatten_with_path", (3,), {}, [((), 3)]),
    ("is_nested", (5,), {}, False),
    ("is_nested", ([],), {}, True),
    ("is_nested", (None,), {}, False),
    ("is_nested", ("abc",), {}, False),
    ("pack_sequence_as", ({"b": 0, "a": 0}, [7, 8]), {}, {"a": 7, "b": 8}),
    ("lists_to_tuples", ({"b": 1, "a": [2]},), {}, {"a": (2,), "b": 1}),
    (
        "map_structure_up_to",
        ({"b": 0, "a": 0}, str, {"b": 1, "a": 2}),
        {},
        {"b": "1", "a": "2"},
    ),
    ("pack_sequence_as", (P(0, 0), [5, 6]), {}, P(5, 6)),
    ("pack_sequence_as", (5, [3]), {}, 3),
    ("pack_sequence_as", ([], []), {}, []),
    ("lists_to_tuples", ([1, [2, {"a": [3]}]],), {}, (1, (2, {"a": (3,)}))),
    (
        "map_structure_up_to",
        ([1, [2, 3]], str, [[9, 9], [4, 5]]),
        {},
        ["[9, 9]", ["4", "5"]],
    ),
]


def _same(a, b):
    """Equal values and the same container types all the way down."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)  # key order too
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple, collections.deque)):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _same(u, v)
    else:
        assert a == b


@pytest.mark.parametrize(("name", "args", "kwargs", "want"), CASES)
def test_matches_keras(name, args, kwargs, want):
    _same(getattr(tree, name)(*args, **kwargs), want)


def test_map_structure_several_structures_and_none():
    _same(
        tree.map_structure(lambda a, b: a + b, [1, (2, 3)], [10, (20, 30)]),
        [11, (22, 33)],
    )
    _same(tree.map_structure(lambda a: a * 2, {"b": 1, "a": [2]}), {"b": 2, "a": [4]})
    od = collections.OrderedDict(b=1, a=2)
    assert type(tree.map_structure(lambda a: a, od)) is collections.OrderedDict
    d = collections.defaultdict(list, b=1, a=2)
    got = tree.map_structure(lambda a: a * 2, d)
    assert got.default_factory is list
    assert list(got.items()) == [("b", 2), ("a", 4)]
    mark = lambda a: "N" if a is None else a  # noqa: E731
    assert tree.map_structure(mark, [1, None]) == [1, "N"]
    assert tree.map_structure(mark, [1, None], none_is_leaf=False) == [1, None]
    assert tree.map_structure(lambda a: a + 1, 3) == 4
    pair = tree.map_structure(lambda a, b: (a, b), [1, None], [None, 2])
    assert pair == [(1, None), (None, 2)]


def test_map_shape_structure_stops_at_shapes():
    assert tree.map_shape_structure(len, [(1, 2), (3, None, 4), {"a": (5,)}]) == [
        2,
        3,
        {"a": 1},
    ]
    assert tree.map_shape_structure(lambda s: s, [1, 2]) == [1, 2]  # one shape
    assert tree.map_shape_structure(lambda s: s, {"b": [], "a": (None, 3)}) == {
        "a": (None, 3),
        "b": [],
    }
    assert tree.map_shape_structure(len, [torch.Size([1, 2]), (3,)]) == [2, 1]


def test_traverse_top_down_and_bottom_up():
    seen = []
    assert tree.traverse(lambda x: seen.append(x), [1, [2, 3]]) == [1, [2, 3]]
    assert seen == [[1, [2, 3]], 1, [2, 3], 2, 3]
    seen.clear()
    tree.traverse(lambda x: seen.append(x), [1, [2, 3]], top_down=False)
    assert seen == [1, 2, 3, [2, 3], [1, [2, 3]]]
    assert tree.traverse(lambda x: 0 if x == [2] else None, [1, [2]]) == [1, 0]
    to_none = tree.traverse(lambda x: tree.MAP_TO_NONE if x == 1 else None, [1, [2]])
    assert to_none == [None, [2]]
    double = tree.traverse(
        lambda x: x * 2 if isinstance(x, int) else None, [1, [2]], top_down=False
    )
    assert double == [2, [4]]
    _same(tree.traverse(lambda x: None, {"b": 1, "a": 2}), {"a": 2, "b": 1})
    pair = [1, [2, 3]]
    got = tree.traverse(lambda x: "L" if x == [2, 3] else None, pair, top_down=False)
    assert got == [1, "L"]


def test_arrays_and_tensors_are_leaves():
    a, t = np.zeros(2), torch.zeros(1)
    flat = tree.flatten([a, t])
    assert flat[0] is a
    assert flat[1] is t
    assert not tree.is_nested(a)
    assert not tree.is_nested(t)


def test_deep_nesting_does_not_recurse():
    deep = 0
    for _ in range(5000):
        deep = [deep]
    assert tree.flatten(deep) == [0]
    assert len(tree.flatten_with_path(deep)[0][0]) == 5000


def test_mismatches_raise_and_name_the_difference():
    with pytest.raises(ValueError, match=r"expected a list, got a tuple"):
        tree.map_structure(lambda a, b: a, [1, 2], (1, 2))
    with pytest.raises(ValueError, match=r"missing \{'a'\}, extra \{'b'\}"):
        tree.map_structure(lambda a, b: a, {"a": 1}, {"b": 1})
    with pytest.raises(ValueError, match=r"expected 1 items, got 2"):
        tree.map_structure(lambda a, b: a, [1], [1, 2])
    with pytest.raises(ValueError, match=r"expected a leaf at path \(1,\), got list"):
        tree.assert_same_structure([1, 2], [1, [2]])
    with pytest.raises(ValueError, match=r"expected a list, got a tuple"):
        tree.assert_same_structure([1, 2], (1, 2))
    with (
        pytest.warns(DeprecationWarning, match="check_types"),
        pytest.raises(ValueError, match="expected a list"),
    ):
        tree.assert_same_structure([1, 2], (1, 2), check_types=False)
    tree.assert_same_paths([1, 2], (1, 2))  # types are not compared
    with pytest.raises(ValueError, match=r"in `a` only: \[\('a',\)\], in `b` only"):
        tree.assert_same_paths({"a": 1}, {"b": 1})
    with pytest.raises(ValueError, match=r"expected 2 values .*, got 1"):
        tree.pack_sequence_as([1, 2], [1])
    with pytest.raises(ValueError, match=r"none_is_leaf=False"):
        tree.map_structure(lambda a, b: a, [1, None], [None, 2], none_is_leaf=False)
    with pytest.raises(ValueError, match=r"map_structure_up_to: expected 2 items"):
        tree.map_structure_up_to([1, 2], lambda a: a, [1])


def test_plait_tree_is_public():
    import plait

    assert plait.tree is tree


@pytest.mark.keras
def test_live_matches_keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    for name, args, kwargs, _ in CASES:
        _same(
            getattr(tree, name)(*args, **kwargs),
            getattr(keras.tree, name)(*args, **kwargs),
        )
    structures = [[1, (2, {"z": 3, "y": [4]})], {"b": P(1, 2), "a": None}]
    for s in structures:
        _same(tree.flatten(s), keras.tree.flatten(s))
        _same(tree.map_structure(str, s), keras.tree.map_structure(str, s))
    # Not for named tuples: Keras 3.15 on torch gives their leaves the indices
    # of the sorted field names ((1,) for `y` of P(y, x)); plait's are positions.
    s = structures[0]
    _same(tree.flatten_with_path(s), keras.tree.flatten_with_path(s))
    assert sorted(n for n in dir(keras.tree) if not n.startswith("_")) == tree.__all__
