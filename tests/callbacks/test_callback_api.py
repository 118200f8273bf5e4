"""The Keras callback API, ported from Keras's "Writing your own callbacks" guide
with the imports changed (printing replaced by recording)."""

import sys

import numpy as np
import pytest

import plait as keras


def get_model():
    model = keras.Sequential()
    model.add(keras.layers.Dense(1))
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=0.1),
        loss="mean_squared_error",
        metrics=["mean_absolute_error"],
    )
    return model


def _mnist_like(n):
    rng = np.random.default_rng(0)
    x = rng.random((n, 784)).astype("float32")
    y = rng.integers(0, 10, n).astype("float32")
    return x, y


x_train, y_train = _mnist_like(256)
x_test, y_test = _mnist_like(128)


class CustomCallback(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def _record(self, hook, logs, batch=None):
        assert isinstance(logs, dict), (hook, type(logs))
        self.calls.append((hook, batch, sorted(logs.keys())))

    def on_train_begin(self, logs=None):
        keys = list(logs.keys())
        self._record("on_train_begin", logs)
        assert keys == []

    def on_train_end(self, logs=None):
        self._record("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._record("on_epoch_begin", logs, epoch)

    def on_epoch_end(self, epoch, logs=None):
        self._record("on_epoch_end", logs, epoch)

    def on_test_begin(self, logs=None):
        self._record("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._record("on_test_end", logs)

    def on_predict_begin(self, logs=None):
        self._record("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._record("on_predict_end", logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._record("on_train_batch_begin", logs, batch)

    def on_train_batch_end(self, batch, logs=None):
        self._record("on_train_batch_end", logs, batch)

    def on_test_batch_begin(self, batch, logs=None):
        self._record("on_test_batch_begin", logs, batch)

    def on_test_batch_end(self, batch, logs=None):
        self._record("on_test_batch_end", logs, batch)

    def on_predict_batch_begin(self, batch, logs=None):
        self._record("on_predict_batch_begin", logs, batch)

    def on_predict_batch_end(self, batch, logs=None):
        self._record("on_predict_batch_end", logs, batch)


def _hooks(calls):
    return [(hook, batch) for hook, batch, _ in calls]


def test_every_hook_is_called_with_dict_logs_in_fit_evaluate_predict():
    model = get_model()
    fit_cb = CustomCallback()
    model.fit(
        x_train,
        y_train,
        batch_size=128,
        epochs=1,
        verbose=0,
        validation_split=0.5,
        callbacks=[fit_cb],
    )
    assert _hooks(fit_cb.calls) == [
        ("on_train_begin", None),
        ("on_epoch_begin", 0),
        ("on_train_batch_begin", 0),
        ("on_train_batch_end", 0),
        ("on_test_begin", None),
        ("on_test_batch_begin", 0),
        ("on_test_batch_end", 0),
        ("on_test_end", None),
        ("on_epoch_end", 0),
        ("on_train_end", None),
    ]
    keys = {(h, b): k for h, b, k in fit_cb.calls}
    assert keys["on_train_batch_end", 0] == ["loss", "mean_absolute_error"]
    assert keys["on_epoch_end", 0] == [
        "loss",
        "mean_absolute_error",
        "val_loss",
        "val_mean_absolute_error",
    ]

    eval_cb = CustomCallback()
    model.evaluate(x_test, y_test, batch_size=128, verbose=0, callbacks=[eval_cb])
    assert _hooks(eval_cb.calls) == [
        ("on_test_begin", None),
        ("on_test_batch_begin", 0),
        ("on_test_batch_end", 0),
        ("on_test_end", None),
    ]

    predict_cb = CustomCallback()
    model.predict(x_test, batch_size=128, verbose=0, callbacks=[predict_cb])
    assert _hooks(predict_cb.calls) == [
        ("on_predict_begin", None),
        ("on_predict_batch_begin", 0),
        ("on_predict_batch_end", 0),
        ("on_predict_end", None),
    ]
    keys = {(h, b): k for h, b, k in predict_cb.calls}
    assert keys["on_predict_batch_end", 0] == ["outputs"]


class LossAndErrorPrintingCallback(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.lines = []

    def on_train_batch_end(self, batch, logs=None):
        self.lines.append(
            f"Up to batch {batch}, the average loss is {logs['loss']:7.2f}."
        )

    def on_test_batch_end(self, batch, logs=None):
        self.lines.append(
            f"Up to batch {batch}, the average loss is {logs['loss']:7.2f}."
        )

    def on_epoch_end(self, epoch, logs=None):
        self.lines.append(
            f"The average loss for epoch {epoch} is {logs['loss']:7.2f} "
            f"and mean absolute error is {logs['mean_absolute_error']:7.2f}."
        )


def test_logs_dict_usage():
    model = get_model()
    cb = LossAndErrorPrintingCallback()
    model.fit(x_train, y_train, batch_size=128, epochs=2, verbose=0, callbacks=[cb])
    assert len(cb.lines) == 2 * 2 + 2
    cb = LossAndErrorPrintingCallback()
    model.evaluate(x_test, y_test, batch_size=128, verbose=0, callbacks=[cb])
    assert len(cb.lines) == 1


class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
    """Stop training when the loss is at its min, i.e. the loss stops decreasing.

    Arguments:
        patience: Number of epochs to wait after min has been hit. After this
        number of no improvement, training stops.
    """

    def __init__(self, patience=0):
        super().__init__()
        self.patience = patience
        # best_weights to store the weights at which the minimum loss occurs.
        self.best_weights = None

    def on_train_begin(self, logs=None):
        # The number of epoch it has waited when loss is no longer minimum.
        self.wait = 0
        # The epoch the training stops at.
        self.stopped_epoch = 0
        # Initialize the best as infinity.
        self.best = np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = logs.get("loss")
        if np.less(current, self.best):
            self.best = current
            self.wait = 0
            # Record the best weights if current results is better (less).
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0:
            self.message = f"Epoch {self.stopped_epoch + 1}: early stopping"


def test_early_stopping_at_min_loss_uses_model_stop_training():
    model = get_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=5.0),  # diverges
        loss="mean_squared_error",
        metrics=["mean_absolute_error"],
    )
    cb = EarlyStoppingAtMinLoss()
    history = model.fit(
        x_train, y_train, batch_size=64, epochs=30, verbose=0, callbacks=[cb]
    )
    assert cb.stopped_epoch > 0
    assert len(history.history["loss"]) == cb.stopped_epoch + 1 < 30
    assert cb.message == f"Epoch {cb.stopped_epoch + 1}: early stopping"


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
        self.seen = []

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.model.optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        # Get the current learning rate from model's optimizer.
        lr = self.model.optimizer.learning_rate
        # Call schedule function to get the scheduled learning rate.
        scheduled_lr = self.schedule(epoch, lr)
        # Set the value back to the optimizer before this epoch starts
        self.model.optimizer.learning_rate = scheduled_lr
        self.seen.append(float(np.array(scheduled_lr)))


LR_SCHEDULE = [
    # (epoch to start, learning rate) tuples
    (3, 0.05),
    (6, 0.01),
]


def lr_schedule(epoch, lr):
    """Helper function to retrieve the scheduled learning rate based on epoch."""
    if epoch < LR_SCHEDULE[0][0] or epoch > LR_SCHEDULE[-1][0]:
        return lr
    for i in range(len(LR_SCHEDULE)):
        if epoch == LR_SCHEDULE[i][0]:
            return LR_SCHEDULE[i][1]
    return lr


def test_custom_learning_rate_scheduler_and_params():
    model = get_model()
    cb = CustomLearningRateScheduler(lr_schedule)
    model.fit(x_train, y_train, batch_size=64, epochs=8, verbose=0, callbacks=[cb])
    assert cb.seen == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.01, 0.01])
    assert cb.model is model
    assert cb.params == {"epochs": 8, "steps": 4, "verbose": 0}


def test_tensorboard_constructs_without_the_package_and_raises_when_it_writes(
    tmp_path, monkeypatch
):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # not installed
    tensorboard_callback = keras.callbacks.TensorBoard(log_dir=str(tmp_path))
    assert tensorboard_callback.log_dir == str(tmp_path)
    model = get_model()
    with pytest.raises(ImportError, match=r"needs the `tensorboard` package: pip"):
        model.fit(
            x_train, y_train, epochs=1, verbose=0, callbacks=[tensorboard_callback]
        )


def test_batch_logs_are_a_dict_that_json_and_copies_read():
    import json

    model = get_model()
    seen = []

    class Dump(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append((json.loads(json.dumps(logs)), dict(logs), {**logs}))

    model.fit(x_train, y_train, batch_size=128, epochs=1, verbose=0, callbacks=[Dump()])
    assert len(seen) == 2
    for dumped, copied, unpacked in seen:
        assert sorted(dumped) == ["loss", "mean_absolute_error"]
        assert dumped == copied == unpacked
