"""The Keras 3 guide "Writing your own callbacks", section by section, with the
imports changed (`import plait as keras`).

Data: MNIST is random arrays of the same shapes (no download), fewer of them.
The basic example records each hook and its log keys instead of printing them,
and compares them with what Keras 3.15 (torch backend) records for the same run.
`get_model` and `EarlyStoppingAtMinLoss` come from tests/callbacks/test_callback_api.py,
which ports them too (its callback keeps its message instead of printing it).
"""

import numpy as np
import pytest

import plait as keras
from tests.callbacks.test_callback_api import EarlyStoppingAtMinLoss, get_model


def _mnist():
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (40, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)
    y_train, y_test = rng.integers(0, 10, 40), rng.integers(0, 10, 20)
    x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
    x_test = x_test.reshape(-1, 784).astype("float32") / 255.0
    return (x_train[:1000], y_train[:1000]), (x_test[:1000], y_test[:1000])


class CustomCallback(keras.callbacks.Callback):
    """The guide's callback, each hook recording `(hook, [batch/epoch], keys)`."""

    def __init__(self):
        super().__init__()
        self.events = []

    def _log(self, *event, logs):
        self.events.append((*event, sorted(logs.keys())))

    def on_train_begin(self, logs=None):
        self._log("train_begin", logs=logs)

    def on_train_end(self, logs=None):
        self._log("train_end", logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._log("epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        self._log("epoch_end", epoch, logs=logs)

    def on_test_begin(self, logs=None):
        self._log("test_begin", logs=logs)

    def on_test_end(self, logs=None):
        self._log("test_end", logs=logs)

    def on_predict_begin(self, logs=None):
        self._log("predict_begin", logs=logs)

    def on_predict_end(self, logs=None):
        self._log("predict_end", logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._log("train_batch_begin", batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self._log("train_batch_end", batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._log("test_batch_begin", batch, logs=logs)

    def on_test_batch_end(self, batch, logs=None):
        self._log("test_batch_end", batch, logs=logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._log("predict_batch_begin", batch, logs=logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._log("predict_batch_end", batch, logs=logs)


METRICS = ["loss", "mean_absolute_error"]
VAL = ["loss", "mean_absolute_error", "val_loss", "val_mean_absolute_error"]


def _batches(stage, keys, n=2):
    out = []
    for i in range(n):
        out += [(f"{stage}_batch_begin", i, []), (f"{stage}_batch_end", i, keys)]
    return out


def test_a_basic_example():
    (x_train, y_train), (x_test, y_test) = _mnist()
    model = get_model()
    fit_cb, eval_cb, predict_cb = CustomCallback(), CustomCallback(), CustomCallback()
    # batch_size 10 instead of 128, for two batches of each kind.
    model.fit(
        x_train,
        y_train,
        batch_size=10,
        epochs=1,
        verbose=0,
        validation_split=0.5,
        callbacks=[fit_cb],
    )
    res = model.evaluate(x_test, y_test, batch_size=10, verbose=0, callbacks=[eval_cb])
    res = model.predict(x_test, batch_size=10, callbacks=[predict_cb])
    assert res.shape == (20, 1)
    test = [("test_begin", []), *_batches("test", METRICS), ("test_end", METRICS)]
    assert fit_cb.events == [
        ("train_begin", []),
        ("epoch_begin", 0, []),
        *_batches("train", METRICS),
        *test,
        ("epoch_end", 0, VAL),
        ("train_end", VAL),
    ]
    assert eval_cb.events == test
    assert predict_cb.events == [
        ("predict_begin", []),
        *_batches("predict", ["outputs"]),
        ("predict_end", []),
    ]


class LossAndErrorPrintingCallback(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        print(f"Up to batch {batch}, the average loss is {logs['loss']:7.2f}.")

    def on_test_batch_end(self, batch, logs=None):
        print(f"Up to batch {batch}, the average loss is {logs['loss']:7.2f}.")

    def on_epoch_end(self, epoch, logs=None):
        print(
            f"The average loss for epoch {epoch} is {logs['loss']:7.2f} "
            f"and mean absolute error is {logs['mean_absolute_error']:7.2f}."
        )


def test_usage_of_logs_dict(capsys):
    (x_train, y_train), (x_test, y_test) = _mnist()
    model = get_model()
    model.fit(
        x_train,
        y_train,
        batch_size=128,
        epochs=2,
        verbose=0,
        callbacks=[LossAndErrorPrintingCallback()],
    )
    res = model.evaluate(
        x_test,
        y_test,
        batch_size=128,
        verbose=0,
        callbacks=[LossAndErrorPrintingCallback()],
    )
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5  # one batch per epoch (40 < 128), 2 epochs, 1 test batch
    assert lines[1].startswith("The average loss for epoch 0 is")
    assert lines[-1] == f"Up to batch 0, the average loss is {res[0]:7.2f}."


@pytest.mark.slow
def test_early_stopping_at_minimum_loss():
    (x_train, y_train), _ = _mnist()
    model = get_model()
    stopper = EarlyStoppingAtMinLoss()
    history = model.fit(
        x_train,
        y_train,
        batch_size=8,
        steps_per_epoch=5,
        epochs=30,
        verbose=0,
        callbacks=[LossAndErrorPrintingCallback(), stopper],
    )
    losses = history.history["loss"]
    # RMSprop at 0.1 on this regression overshoots: training stops at the first
    # epoch whose loss did not improve, with the best weights restored.
    assert len(losses) == stopper.stopped_epoch + 1 < 30
    assert losses[-1] >= min(losses[:-1]) == stopper.best
    best = list(stopper.best_weights)
    for w, b in zip(model.get_weights(), best):
        np.testing.assert_array_equal(w, b)


class CustomLearningRateScheduler(keras.callbacks.Callback):
    """Learning rate scheduler which sets the learning rate according to schedule.

    Arguments:
        schedule: a function that takes an epoch index
            (integer, indexed from 0) and current learning rate
            as inputs and returns a new learning rate as output (float).
    """

    def __init__(self, schedule):
        super().__init__()
        self.schedule = schedule

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.model.optimizer, "learning_rate"):
            raise ValueError('Model must have a "learning_rate" attribute.')
        lr = self.model.optimizer.learning_rate
        scheduled_lr = self.schedule(epoch, lr)
        self.model.optimizer.learning_rate = scheduled_lr
        print(f"\nEpoch {epoch}: Learning rate is {float(np.array(scheduled_lr))}.")


LR_SCHEDULE = [
    # (epoch to start, learning rate) tuples
    (3, 0.05),
    (6, 0.01),
    (9, 0.005),
    (12, 0.001),
]


def lr_schedule(epoch, lr):
    """Helper function to retrieve the scheduled learning rate based on epoch."""
    if epoch < LR_SCHEDULE[0][0] or epoch > LR_SCHEDULE[-1][0]:
        return lr
    for i in range(len(LR_SCHEDULE)):
        if epoch == LR_SCHEDULE[i][0]:
            return LR_SCHEDULE[i][1]
    return lr


@pytest.mark.slow
def test_learning_rate_scheduling(capsys):
    (x_train, y_train), _ = _mnist()
    model = get_model()
    model.fit(
        x_train,
        y_train,
        batch_size=8,
        steps_per_epoch=5,
        epochs=15,
        verbose=0,
        callbacks=[
            LossAndErrorPrintingCallback(),
            CustomLearningRateScheduler(lr_schedule),
        ],
    )
    rates = [
        float(line.split("is ")[1].rstrip("."))
        for line in capsys.readouterr().out.splitlines()
        if "Learning rate" in line
    ]
    expected = [0.1] * 3 + [0.05] * 3 + [0.01] * 3 + [0.005] * 3 + [0.001] * 3
    np.testing.assert_allclose(rates, expected, rtol=1e-6)
    assert float(np.array(model.optimizer.learning_rate)) == pytest.approx(0.001)
