"""Custom losses written as the Keras 3 guide "Training & evaluation with the
built-in methods" writes them (imports changed): functions and `Loss`
subclasses with `call`, `get_config` and `reduction`."""

import numpy as np
import pytest
import torch

import plait as keras
from plait import layers, ops
from tests.guides import get_uncompiled_model, mnist_like


# --- Guide: "Custom losses"
def custom_mean_squared_error(y_true, y_pred):
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


def test_guide_loss_function():
    x_train, y_train = mnist_like()
    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=custom_mean_squared_error)

    # We need to one-hot encode the labels to use MSE
    y_train_one_hot = ops.one_hot(y_train, num_classes=10)
    model.fit(x_train, y_train_one_hot, batch_size=64, epochs=1, verbose=0)
    logs = model.evaluate(x_train, y_train_one_hot, verbose=0, return_dict=True)
    pred = model.predict(x_train, verbose=0)
    expected = np.mean((y_train_one_hot.numpy() - pred) ** 2)
    assert logs["loss"] == pytest.approx(expected, rel=1e-5)


class CustomMSE(keras.losses.Loss):
    def __init__(self, regularization_factor=0.1, name="custom_mse"):
        super().__init__(name=name)
        self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
        mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
        reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
        return mse + reg * self.regularization_factor


def test_guide_loss_subclass():
    x_train, y_train = mnist_like()
    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=CustomMSE())

    y_train_one_hot = ops.one_hot(y_train, num_classes=10)
    history = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    logs = model.evaluate(x_train, y_train_one_hot, verbose=0, return_dict=True)
    pred = model.predict(x_train, verbose=0)
    y = y_train_one_hot.numpy()
    expected = np.mean(((y - pred) ** 2).mean(-1) + 0.1 * ((0.5 - pred) ** 2).mean(-1))
    assert logs["loss"] == pytest.approx(expected, rel=1e-5)


def test_guide_loss_subclass_saves_and_loads(tmp_path):
    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=CustomMSE())
    path = tmp_path / "custom_mse.plait"
    model.save(path)
    loaded = keras.saving.load_model(path, custom_objects={"CustomMSE": CustomMSE})
    x_train, y_train = mnist_like(8)
    y = ops.one_hot(y_train, num_classes=10)
    assert loaded.evaluate(x_train, y, verbose=0) == pytest.approx(
        model.evaluate(x_train, y, verbose=0)
    )


# --- Keras 3's Loss contract: call, reduction, get_config/from_config
class ScaledMAE(keras.losses.Loss):
    def __init__(
        self, scale=1.0, reduction="sum_over_batch_size", name="scaled_mae", dtype=None
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.scale = scale

    def call(self, y_true, y_pred):
        return self.scale * ops.mean(ops.abs(y_true - y_pred), axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale})
        return config


@pytest.mark.parametrize(
    ("reduction", "expected"),
    [
        ("sum_over_batch_size", 3.0),
        ("sum", 6.0),
        ("mean", 3.0),
        (None, [2.0, 4.0]),
        ("none", [2.0, 4.0]),
    ],
)
def test_reductions_of_a_subclass(reduction, expected):
    loss = ScaledMAE(scale=2.0, reduction=reduction)
    value = loss(np.zeros((2, 2)), np.array([[1.0, 1.0], [2.0, 2.0]]))
    np.testing.assert_allclose(ops.convert_to_numpy(value), expected)


def test_sample_weight_with_a_subclass():
    loss = ScaledMAE()
    value = loss(
        np.zeros((2, 1)), np.array([[1.0], [3.0]]), sample_weight=np.array([1.0, 0.0])
    )
    assert float(value) == pytest.approx(0.5)


def test_get_config_round_trip_and_model_save(tmp_path):
    loss = ScaledMAE(scale=3.0, name="mine")
    config = loss.get_config()
    assert config == {
        "name": "mine",
        "reduction": "sum_over_batch_size",
        "dtype": None,
        "scale": 3.0,
    }
    clone = ScaledMAE.from_config(config)
    assert clone.scale == 3.0
    assert clone.reduction == "sum_over_batch_size"

    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss=loss)
    path = tmp_path / "m.plait"
    model.save(path)
    loaded = keras.saving.load_model(path, custom_objects={"ScaledMAE": ScaledMAE})
    x, y = np.ones((4, 2), "float32"), np.zeros((4, 1), "float32")
    want = model.evaluate(x, y, verbose=0)
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(want)
    pred = model.predict(x, verbose=0)
    assert want == pytest.approx(3.0 * np.abs(pred).mean())


def test_loss_subclass_without_call_names_the_class():
    class Empty(keras.losses.Loss):
        pass

    with pytest.raises(
        NotImplementedError, match="Empty: subclasses of Loss must implement call"
    ):
        Empty()(torch.zeros(1, 1), torch.zeros(1, 1))


def test_bad_reduction_is_a_value_error():
    with pytest.raises(ValueError, match="reduction"):
        ScaledMAE(reduction="average")
