"""The string dtype and StringTensor (plait/utils/strings.py)."""

import copy
import pickle

import numpy as np
import pytest
import torch

from plait.utils.shapes import dtype_name, standardize_dtype
from plait.utils.strings import (
    STRING,
    StringTensor,
    as_string_array,
    is_string_data,
    is_string_dtype,
)


def test_string_dtype_names_and_copies():
    assert standardize_dtype("string") is STRING
    assert standardize_dtype(str) is STRING
    assert dtype_name(STRING) == "string"
    assert pickle.loads(pickle.dumps(STRING)) is STRING
    assert copy.deepcopy(STRING) is STRING
    assert is_string_dtype(STRING)
    assert not is_string_dtype(torch.float32)


def test_is_string_data():
    assert is_string_data(np.array(["a"]))
    assert is_string_data(np.array([b"a"]))
    assert is_string_data(np.array(["a", b"b"], dtype=object))
    assert not is_string_data(np.array([{}], dtype=object))
    assert not is_string_data(np.zeros(2))
    assert as_string_array(np.array([[b"x"], ["y"]], dtype=object)).tolist() == [
        ["x"],
        ["y"],
    ]


def test_string_tensor_acts_like_a_host_tensor():
    t = StringTensor(np.array([["a"], ["b"], ["c"]]))
    assert t.shape == (3, 1)
    assert t.dim() == 2
    assert len(t) == 3
    assert t.to("cuda") is t
    assert not t.is_inference()
    assert t[1:].numpy().tolist() == [["b"], ["c"]]
    assert t.index_select(0, torch.tensor([2, 0])).numpy().tolist() == [["c"], ["a"]]
    with pytest.raises(ValueError, match="expected dim=0, got dim=1"):
        t.index_select(1, torch.tensor([0]))
    assert np.asarray(t).dtype == object
