"""Tests for the checks of fit / evaluate arguments and data (plait.training.validation).

Every check runs before the loop: a failing call leaves the weights as they were.
"""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import plait
from plait.layers import Dense, Input
from plait.losses import losses
from plait.training import validation


def regressor(width=2, loss="mse"):
    inputs = Input(shape=(4,))
    model = plait.Model(inputs, Dense(width, name="out")(inputs))
    model.compile("sgd", loss)
    return model


def classifier(loss="sparse_categorical_crossentropy", metrics=None):
    inputs = Input(shape=(4,))
    model = plait.Model(inputs, Dense(3, activation="softmax", name="out")(inputs))
    model.compile("sgd", loss, metrics=metrics)
    return model


X = np.random.default_rng(0).random((8, 4)).astype("float32")
Y2 = np.random.default_rng(1).random((8, 2)).astype("float32")
LABELS = np.array([0, 1, 2, 0, 1, 2, 0, 1])


def unchanged(model, call, error, match):
    """`call()` raises `error` matching `match` and leaves the weights as they were."""
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(error, match=match):
        call()
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- target shapes

NARROW = r"Output 'out' \(loss 'mean_squared_error'\): expected targets of shape \(None, 2\), got \(8, 1\)"


@pytest.mark.parametrize(
    ("call", "what"),
    [
        (lambda m: m.fit(X, Y2[:, :1], verbose=0), "fit"),
        (lambda m: m.evaluate(X, Y2[:, :1], verbose=0), "evaluate"),
        (
            lambda m: m.fit(X, Y2, validation_data=(X, Y2[:, :1]), verbose=0),
            r"fit\(validation_data=\.\.\.\)",
        ),
        (lambda m: m.train_on_batch(X, Y2[:, :1]), "train_on_batch"),
        (lambda m: m.test_on_batch(X, Y2[:, :1]), "test_on_batch"),
    ],
    ids=["fit", "evaluate", "validation_data", "train_on_batch", "test_on_batch"],
)
def test_validation_targets_checked_on_every_call(call, what):
    model = regressor()
    model.fit(X, Y2, verbose=0)  # the plan is built from good (8, 2) targets
    unchanged(model, lambda: call(model), ValueError, f"{what}: {NARROW}")


def test_validation_targets_checked_on_first_loader_batch_of_every_call():
    model = regressor()
    model.fit(X, Y2, verbose=0)
    narrow = DataLoader(TensorDataset(torch.tensor(X), torch.tensor(Y2[:, :1])), 8)
    unchanged(model, lambda: model.fit(narrow, verbose=0), ValueError, NARROW)
    unchanged(model, lambda: model.evaluate(narrow, verbose=0), ValueError, NARROW)


def test_validation_array_validation_data_checked_before_loader_training():
    model = regressor()  # no plan yet: the validation arrays are checked from compile
    train = DataLoader(TensorDataset(torch.tensor(X), torch.tensor(Y2)), 8)
    unchanged(
        model,
        lambda: model.fit(train, validation_data=(X, Y2[:, :1]), verbose=0),
        ValueError,
        r"fit\(validation_data=\.\.\.\): " + NARROW,
    )


@pytest.mark.parametrize(
    ("loss", "first", "later"),
    [
        ("sparse_categorical_crossentropy", LABELS, LABELS[:, None]),
        ("sparse_categorical_crossentropy", LABELS[:, None], LABELS),
        ("categorical_crossentropy", np.eye(3)[LABELS], np.eye(3)[LABELS]),
    ],
)
def test_validation_legitimate_targets_still_accepted(loss, first, later):
    model = classifier(loss, metrics=["accuracy"])
    model.fit(X, first, verbose=0)
    model.fit(X, later, validation_data=(X, later), verbose=0)
    assert np.isfinite(model.evaluate(X, later, verbose=0)[0])


def test_validation_binary_column_rules_still_accepted():
    model = regressor(width=1, loss="binary_crossentropy")
    y = (LABELS % 2).astype("float32")
    model.fit(X, y[:, None], verbose=0)
    model.fit(X, y, validation_data=(X, y), verbose=0)
    model.evaluate(X, y[:, None], verbose=0)


def test_validation_check_targets_message():
    with pytest.raises(ValueError, match=r"^fit: Output 'o' \(loss 'mean_squared"):
        validation.check_targets(
            "fit", ["o"], [losses.get("mse")], [torch.zeros(4, 1)], [(None, 2)]
        )


# ---------------------------------------------------------------- class ids


@pytest.mark.parametrize(
    ("bad", "shown"),
    [(3, r"got 3 at index 5 \(1 labels out of range\)"), (-1, "got -1 at index 5")],
)
def test_validation_sparse_labels_out_of_range(bad, shown):
    model = classifier()
    labels = LABELS.copy()
    labels[5] = bad
    match = r"fit: output 'out' has 3 classes, so its integer labels must be 0 to 2; "
    unchanged(model, lambda: model.fit(X, labels, verbose=0), ValueError, match + shown)
    unchanged(
        model,
        lambda: model.evaluate(X, labels, verbose=0),
        ValueError,
        "evaluate: output 'out' has 3 classes",
    )


def test_validation_sparse_labels_checked_for_sparse_metrics_and_loaders():
    model = classifier("mse", metrics=["sparse_top_k_categorical_accuracy"])
    model.fit(X, np.eye(3, dtype="float32")[LABELS], verbose=0)  # mse: one-hot
    model2 = classifier(metrics=["sparse_top_k_categorical_accuracy"])
    model2.fit(X, LABELS, verbose=0)
    labels = torch.tensor(LABELS)
    labels[0] = 7
    loader = DataLoader(TensorDataset(torch.tensor(X), labels), 4)
    unchanged(
        model2,
        lambda: model2.fit(loader, verbose=0),
        ValueError,
        r"fit: output 'out' has 3 classes.*got 7 at index 0",
    )


def test_validation_sparse_labels_allow_ignore_class():
    model = classifier(losses.SparseCategoricalCrossentropy(ignore_class=-1))
    labels = LABELS.copy()
    labels[2] = -1
    model.fit(X, labels, verbose=0)
    labels[3] = 5
    unchanged(
        model,
        lambda: model.fit(X, labels, verbose=0),
        ValueError,
        r"must be 0 to 2 or -1; got 5 at index 3",
    )


# ---------------------------------------------------------------- loop arguments


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"batch_size": 0},
            r"fit\(batch_size=\.\.\.\): expected a positive int or None, got 0\.",
        ),
        ({"batch_size": -4}, r"fit\(batch_size=\.\.\.\): .* got -4\."),
        ({"batch_size": 2.0}, r"fit\(batch_size=\.\.\.\): .* got 2\.0\."),
        ({"steps_per_epoch": 0}, r"fit\(steps_per_epoch=\.\.\.\): .* got 0\."),
        ({"validation_steps": -1}, r"fit\(validation_steps=\.\.\.\): .* got -1\."),
        ({"validation_batch_size": 0}, r"fit\(validation_batch_size=\.\.\.\)"),
        ({"validation_freq": 0}, r"fit\(validation_freq=\.\.\.\): .* got 0\."),
        (
            {"validation_freq": [0, 2]},
            r"fit\(validation_freq=\.\.\.\): .* got \[0, 2\]",
        ),
        (
            {"validation_data": (X,)},
            r"fit\(validation_data=\.\.\.\): output 'out' has a loss but no targets",
        ),
    ],
)
def test_validation_bad_fit_arguments(kwargs, match):
    model = regressor()
    args = {"validation_data": (X, Y2), "verbose": 0, **kwargs}
    unchanged(model, lambda: model.fit(X, Y2, **args), ValueError, match)


def test_validation_bad_evaluate_and_predict_arguments():
    model = regressor()
    with pytest.raises(ValueError, match=r"evaluate\(batch_size=\.\.\.\): .* got 0\."):
        model.evaluate(X, Y2, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match=r"evaluate\(steps=\.\.\.\): .* got 0\."):
        model.evaluate(X, Y2, steps=0, verbose=0)
    with pytest.raises(ValueError, match=r"predict\(batch_size=\.\.\.\): .* got -1\."):
        model.predict(X, batch_size=-1, verbose=0)


def test_validation_empty_arrays():
    model = regressor()
    empty_x, empty_y = X[:0], Y2[:0]
    match = "expected at least one sample, got arrays of 0 samples"
    unchanged(
        model,
        lambda: model.fit(empty_x, empty_y, verbose=0),
        ValueError,
        "fit: " + match,
    )
    unchanged(
        model,
        lambda: model.evaluate(empty_x, empty_y, verbose=0),
        ValueError,
        "evaluate: " + match,
    )
    unchanged(
        model,
        lambda: model.fit(X, Y2, validation_data=(empty_x, empty_y), verbose=0),
        ValueError,
        r"fit\(validation_data=\.\.\.\): " + match,
    )


def test_validation_good_arguments_accepted():
    model = regressor()
    history = model.fit(
        X,
        Y2,
        batch_size=None,
        epochs=2,
        validation_data=(X, Y2),
        validation_freq=[2],
        steps_per_epoch=1,
        verbose=0,
    )
    assert list(history.history) == ["loss", "val_loss"]
    assert len(history.history["val_loss"]) == 1
