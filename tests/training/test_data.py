"""Tests for plait.training.data: sources, splits, weights, structures."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from plait.training import data as D


def test_to_tensors_converts_float64_and_keeps_ints():
    out = D.to_tensors([np.zeros((2, 3)), np.arange(4)])
    assert out[0].dtype == torch.float32
    assert out[1].dtype == torch.int64


def test_to_tensors_rejects_object_arrays():
    with pytest.raises(TypeError, match="expected numeric data"):
        D.to_tensors(np.array([object(), object()]))


def test_is_array_like():
    assert D.is_array_like(np.zeros(3))
    assert D.is_array_like([torch.zeros(2), {"a": np.ones(1)}])
    assert not D.is_array_like(DataLoader(TensorDataset(torch.zeros(2))))
    assert not D.is_array_like(x for x in range(3))


def test_unpack_x_y_sample_weight():
    assert D.unpack_x_y_sample_weight("x") == ("x", None, None)
    assert D.unpack_x_y_sample_weight(("x",)) == ("x", None, None)
    assert D.unpack_x_y_sample_weight(["x", "y"]) == ("x", "y", None)
    assert D.unpack_x_y_sample_weight(("x", "y", "w")) == ("x", "y", "w")
    with pytest.raises(ValueError, match="got a tuple of 4 items"):
        D.unpack_x_y_sample_weight((1, 2, 3, 4))


def test_train_validation_split_takes_the_last_fraction():
    x = torch.arange(10)
    y = torch.arange(10) * 10
    train, val = D.train_validation_split([[x], [y], [None]], 0.25)
    # Keras: split_at = floor(10 * 0.75) = 7
    assert train[0][0].tolist() == list(range(7))
    assert val[1][0].tolist() == [70, 80, 90]
    assert train[2] == [None]
    assert val[2] == [None]


def test_train_validation_split_errors():
    with pytest.raises(ValueError, match=r"expected a fraction in \(0, 1\)"):
        D.train_validation_split([[torch.arange(4)]], 1.5)
    with pytest.raises(ValueError, match="both sides need at least one sample"):
        D.train_validation_split([[torch.arange(1)]], 0.5)


def test_class_weight_to_sample_weight_labels_and_one_hot():
    labels = torch.tensor([0, 2, 1, 2])
    expected = [1.0, 3.0, 0.5, 3.0]
    assert (
        D.class_weight_to_sample_weight(labels, {1: 0.5, 2: 3.0}).tolist() == expected
    )
    onehot = torch.eye(3)[labels]
    assert (
        D.class_weight_to_sample_weight(onehot, {1: 0.5, 2: 3.0}).tolist() == expected
    )
    column = labels[:, None].float()
    assert (
        D.class_weight_to_sample_weight(column, {1: 0.5, 2: 3.0}).tolist() == expected
    )
    with pytest.raises(ValueError, match="non-negative class ids"):
        D.class_weight_to_sample_weight(labels, {-1: 2.0})


def test_array_batches_no_shuffle_slices_in_order():
    data = D.ArrayBatches([torch.arange(5)], [torch.arange(5) + 10], [None], 2)
    assert data.steps == 3
    batches = list(data.epoch())
    assert [b[0][0].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert [b[1][0].tolist() for b in batches] == [[10, 11], [12, 13], [14]]


def test_array_batches_shuffle_covers_every_sample_once_per_epoch():
    data = D.ArrayBatches([torch.arange(10)], [None], [None], 3, shuffle=True)
    for _ in range(2):
        seen = torch.cat([b[0][0] for b in data.epoch()])
        assert sorted(seen.tolist()) == list(range(10))


def test_array_batches_shuffle_batch_keeps_batches_contiguous():
    data = D.ArrayBatches([torch.arange(9)], [None], [None], 3, shuffle="batch")
    batches = [b[0][0].tolist() for b in data.epoch()]
    assert sorted(batches) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]


def test_array_batches_steps_continue_across_epochs():
    data = D.ArrayBatches([torch.arange(4)], [None], [None], 1, steps=3)
    first = [b[0][0].item() for b in data.epoch()]
    second = [b[0][0].item() for b in data.epoch()]
    assert first == [0, 1, 2]
    assert second == [3, 0, 1]


def _ident(element):
    return element


def test_iterable_batches_from_a_dataloader_repeat_each_epoch():
    loader = DataLoader(
        TensorDataset(torch.arange(6.0), torch.arange(6.0)), batch_size=4
    )
    data = D.IterableBatches(loader, _ident)
    assert data.steps == 2
    for _ in range(2):
        assert [b[0].tolist() for b in data.epoch()] == [[0, 1, 2, 3], [4, 5]]


def test_iterable_batches_wraps_a_dataset_in_a_loader():
    data = D.IterableBatches(TensorDataset(torch.arange(5.0)), _ident, batch_size=2)
    assert [b[0].tolist() for b in data.epoch()] == [[0, 1], [2, 3], [4]]


def test_iterable_batches_generator_runs_out_with_a_warning():
    gen = ((torch.ones(2), torch.zeros(2)) for _ in range(3))
    data = D.IterableBatches(gen, _ident)
    assert len(list(data.epoch())) == 3
    with pytest.warns(UserWarning, match="ran out of data"):
        assert list(data.epoch()) == []
    assert data.exhausted


def test_iterable_batches_fixed_steps_continue_and_restart():
    loader = DataLoader(TensorDataset(torch.arange(3.0)), batch_size=1)
    data = D.IterableBatches(loader, _ident, steps=2)
    first = [b[0].item() for b in data.epoch()]
    second = [b[0].item() for b in data.epoch()]
    assert first == [0, 1]
    assert second == [2, 0]


def test_iterable_batches_rejects_non_iterables():
    with pytest.raises(TypeError, match="expected arrays, tensors, a DataLoader"):
        D.IterableBatches(42, _ident)


def test_flat_targets_structures_and_errors():
    names = ["a", "b"]
    assert D.flat_targets(None, names, "fit") == [None, None]
    assert D.flat_targets({"b": 1}, names, "fit") == [None, 1]
    assert D.flat_targets([1, 2], names, "fit") == [1, 2]
    assert D.flat_targets([0, 1, 0], ["a"], "fit") == [[0, 1, 0]]
    with pytest.raises(ValueError, match=r"unknown output name\(s\) \['c'\]"):
        D.flat_targets({"c": 1}, names, "fit")
    with pytest.raises(
        ValueError,
        match=r"expected 2 target arrays, one per output \['a', 'b'\], got 3",
    ):
        D.flat_targets([1, 2, 3], names, "fit")
    with pytest.raises(ValueError, match="got a single array"):
        D.flat_targets(np.zeros(3), names, "fit")


def test_flat_weights_one_array_applies_to_every_output():
    assert D.flat_weights("w", ["a", "b"], "fit") == ["w", "w"]
    assert D.flat_weights({"a": "w"}, ["a", "b"], "fit") == ["w", None]
    assert D.flat_weights(None, ["a"], "fit") == [None]


def test_check_counts_names_every_size():
    ok = ([torch.zeros(3)], [torch.zeros(3)], [None])
    assert D.check_counts(ok, "fit") == 3
    with pytest.raises(ValueError, match=r"got \{'x': \[3, 4\], 'y': \[3\]\}"):
        D.check_counts(
            ([torch.zeros(3), torch.zeros(4)], [torch.zeros(3)], [None]), "fit"
        )
