"""Merge layers: function forms, shape checks, masks."""

import numpy as np
import pytest
import torch

import plait
from plait.layers import (
    Concatenate,
    Dot,
    Embedding,
    Input,
    Multiply,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)


@pytest.mark.parametrize(
    ("fn", "ref"),
    [
        (add, lambda a, b: a + b),
        (subtract, lambda a, b: a - b),
        (multiply, lambda a, b: a * b),
        (average, lambda a, b: (a + b) / 2),
        (maximum, np.maximum),
        (minimum, np.minimum),
        (concatenate, lambda a, b: np.concatenate([a, b], -1)),
        (lambda xs: dot(xs, axes=1), lambda a, b: (a * b).sum(-1, keepdims=True)),
    ],
    ids=[
        "add",
        "subtract",
        "multiply",
        "average",
        "maximum",
        "minimum",
        "concat",
        "dot",
    ],
)
def test_merging_function_forms(fn, ref):
    a, b = Input(shape=(3,)), Input(shape=(3,))
    model = plait.Model([a, b], fn([a, b]))
    xa, xb = np.random.rand(2, 3), np.random.rand(2, 3)
    np.testing.assert_allclose(
        model.predict([xa, xb], verbose=0), ref(xa, xb), rtol=1e-5
    )


def test_merging_function_form_passes_name():
    a, b = Input(shape=(3,)), Input(shape=(3,))
    assert add([a, b], name="my_add").node.layer.name == "my_add"
    assert concatenate([a, b], axis=1, name="cat1").node.layer.axis == 1


def test_merging_guide_inception_concat_axis1():
    # The guide joins channels-last towers with axis=1 (rows): shapes must match
    # on every other axis.
    a, b = Input(shape=(4, 4, 2)), Input(shape=(4, 4, 2))
    assert concatenate([a, b], axis=1).shape == (None, 8, 4, 2)


def test_merging_none_dims():
    a, b = Input(shape=(None, 3)), Input(shape=(None, 3))
    assert add([a, b]).shape == (None, None, 3)
    assert concatenate([a, b], axis=1).shape == (None, None, 3)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: add([Input(shape=(2,)), Input(shape=(3,))]),
            r"^Add layer '\w+': expected inputs with matching \(or broadcastable\) "
            r"shapes, got shapes \[\(None, 2\), \(None, 3\)\]\.$",
        ),
        (
            lambda: add(Input(shape=(2,))),
            r"expected a list of input tensors, got a single input of shape \(None, 2\)",
        ),
        (
            lambda: subtract([Input(shape=(2,))] * 3),
            r"Subtract layer '\w+': expected exactly 2 input tensors, got 3",
        ),
        (
            lambda: concatenate([Input(shape=(2, 3)), Input(shape=(3, 3))]),
            r"matching shapes except for the concatenation axis -1",
        ),
        (
            lambda: concatenate([Input(shape=(2, 3)), Input(shape=(3,))]),
            r"expected inputs of equal rank",
        ),
        (
            lambda: concatenate([Input(shape=(2,)), Input(shape=(2,))], axis=0),
            r"non-batch axis 0",
        ),
        (
            lambda: dot([Input(shape=(2,)), Input(shape=(3,))], axes=1),
            r"Dot layer '\w+': expected equal sizes on axes \(1, 1\)",
        ),
    ],
    ids=["add_shapes", "add_single", "subtract_count", "concat_shapes", "concat_rank",
         "concat_batch_axis", "dot_sizes"],
)  # fmt: skip
def test_merging_shape_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    ("items", "match"),
    [
        (
            lambda x: [x, np.zeros((2, 4)), 5],
            r"^Concatenate layer '\w+': expected a list of input tensors, each a "
            r"SymbolicTensor \(from plait.Input\(\) or another layer\), got ndarray at "
            r"position 1, int at position 2\.$",
        ),
        (lambda x: [None, x], r"got NoneType at position 0\.$"),
        (
            lambda x: [torch.ones(2, 4), 5.0],
            r"each a tensor or NumPy array, got float at position 1\.$",
        ),
    ],
    ids=["symbolic_mixed", "symbolic_none", "eager_number"],
)
def test_merging_names_the_bad_item(items, match):
    with pytest.raises(TypeError, match=match):
        concatenate(items(Input(shape=(4,))))


def test_merging_eager_accepts_numpy_items():
    out = add([torch.ones(2, 3), np.ones((2, 3), dtype="float32")])
    assert out.tolist() == [[2.0] * 3] * 2


def test_merging_dot_bad_axes():
    with pytest.raises(ValueError, match="expected `axes` to be an int or a pair"):
        Dot(axes=(1, 2, 3))


def test_merging_masks_are_anded():
    ids_a = Input(shape=(3,), dtype="int32")
    ids_b = Input(shape=(3,), dtype="int32")
    ea = Embedding(5, 2, mask_zero=True)(ids_a)
    eb = Embedding(5, 2, mask_zero=True)(ids_b)
    out = add([ea, eb])
    assert out._mask is not None
    model = plait.Model([ids_a, ids_b], out)
    y = model([torch.tensor([[1, 0, 2]]), torch.tensor([[1, 1, 0]])])
    assert y._keras_mask.tolist() == [[True, False, False]]


def test_merging_concatenate_masks_along_time():
    ids_a = Input(shape=(2,), dtype="int32")
    ids_b = Input(shape=(3,), dtype="int32")
    ea = Embedding(5, 2, mask_zero=True)(ids_a)
    eb = Embedding(5, 2)(ids_b)  # no mask: all steps valid
    out = Concatenate(axis=1)([ea, eb])
    model = plait.Model([ids_a, ids_b], out)
    y = model([torch.tensor([[0, 1]]), torch.tensor([[0, 0, 0]])])
    assert y._keras_mask.tolist() == [[False, True, True, True, True]]


def test_merging_eager_call():
    out = Multiply()([torch.tensor([2.0]), torch.tensor([3.0]), torch.tensor([4.0])])
    assert out.tolist() == [24.0]
