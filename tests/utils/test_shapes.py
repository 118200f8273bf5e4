"""Shape and dtype helpers."""

import numpy as np
import pytest
import torch

from plait.utils.shapes import (
    dtype_name,
    format_shape,
    standardize_dtype,
    standardize_shape,
)


def test_shapes_format():
    assert format_shape((None, 32)) == "(None, 32)"
    assert format_shape((None,)) == "(None,)"
    assert format_shape([(None, 2), (None, 3)]) == "[(None, 2), (None, 3)]"
    assert format_shape(torch.Size([2, 3])) == "(2, 3)"


def test_shapes_standardize_dtype():
    assert standardize_dtype("int32") is torch.int32
    assert standardize_dtype(torch.float64) is torch.float64
    assert standardize_dtype(np.float32) is torch.float32
    assert standardize_dtype(None) is torch.float32
    assert dtype_name(torch.int64) == "int64"
    with pytest.raises(ValueError, match="expected a dtype such as 'float32'"):
        standardize_dtype("floaty")


def test_shapes_standardize_shape():
    assert standardize_shape((3, None), "Input") == (3, None)
    assert standardize_shape(5, "Input") == (5,)
    assert standardize_shape((np.int64(4),), "Input") == (4,)
    with pytest.raises(ValueError, match="non-negative ints or None"):
        standardize_shape((-1,), "Input")
    with pytest.raises(TypeError, match="expected a shape tuple"):
        standardize_shape("3", "Input")
