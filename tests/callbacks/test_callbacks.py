"""Tests for plait.callbacks: each callback's effect on a real fit."""

import csv
import os

import numpy as np
import pytest
import torch

import plait
from plait.callbacks import (
    BackupAndRestore,
    Callback,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgbarLogger,
    ReduceLROnPlateau,
    TensorBoard,
    TerminateOnNaN,
)
from plait.callbacks import callbacks as cb_mod
from plait.callbacks import watch as callbacks_watch
from plait.layers import Dense, Dropout, Input


def model_and_data(optimizer="sgd", dropout=0.0):
    inputs = Input(shape=(4,))
    x = Dense(8, activation="relu")(inputs)
    if dropout:
        x = Dropout(dropout)(x)
    model = plait.Model(inputs, Dense(3, activation="softmax")(x))
    model.compile(optimizer, "categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.random((16, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 16)]
    return model, x, y


class Scripted(Callback):
    """Replaces the monitored value of each epoch with a scripted one."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values = key, list(values)

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


def test_callback_base_has_every_hook():
    cb = Callback()
    for hook in [
        "on_train_begin",
        "on_train_end",
        "on_test_begin",
        "on_test_end",
        "on_predict_begin",
        "on_predict_end",
    ]:
        getattr(cb, hook)({})
    for hook in [
        "on_epoch_begin",
        "on_epoch_end",
        "on_batch_begin",
        "on_batch_end",
        "on_train_batch_begin",
        "on_train_batch_end",
        "on_test_batch_begin",
        "on_test_batch_end",
        "on_predict_batch_begin",
        "on_predict_batch_end",
    ]:
        getattr(cb, hook)(0, {})


def test_callback_list_calls_batch_hooks_only_on_overriders():
    class Batchy(Callback):
        def on_batch_end(self, batch, logs=None):
            pass

    cbs = cb_mod.CallbackList([Callback(), Batchy()], add_history=True)
    assert cbs.wants("on_train_batch_end")
    assert not cbs.wants("on_train_batch_begin")
    assert isinstance(cbs.history, History)
    with pytest.raises(
        TypeError, match=r"expected plait\.callbacks\.Callback instances"
    ):
        cb_mod.CallbackList(["nope"])


def test_hooks_are_called_in_order():
    model, x, y = model_and_data()
    events = []

    class Recorder(Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin {epoch}")

        def on_train_batch_end(self, batch, logs=None):
            events.append(f"batch_end {batch} {sorted(logs)}")

        def on_test_begin(self, logs=None):
            events.append("test_begin")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end {epoch} {sorted(logs)}")

        def on_train_end(self, logs=None):
            events.append("train_end")

    model.fit(
        x, y, batch_size=8, validation_data=(x, y), callbacks=[Recorder()], verbose=0
    )
    assert events == [
        "train_begin",
        "epoch_begin 0",
        "batch_end 0 ['accuracy', 'loss']",
        "batch_end 1 ['accuracy', 'loss']",
        "test_begin",
        "epoch_end 0 ['accuracy', 'loss', 'val_accuracy', 'val_loss']",
        "train_end",
    ]


def test_early_stopping_stops_and_restores_the_best_weights():
    model, x, y = model_and_data()
    snapshots = []

    class Snap(Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append([w.copy() for w in self.model.get_weights()])

    scripted = Scripted("val_loss", [1.0, 0.5, 0.7, 0.8, 0.9, 0.1])
    stop = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    hist = model.fit(
        x,
        y,
        epochs=6,
        validation_data=(x, y),
        verbose=0,
        callbacks=[scripted, Snap(), stop],
    )
    assert len(hist.history["loss"]) == 4  # stops at epoch index 3
    assert stop.stopped_epoch == 3
    assert stop.best_epoch == 1
    for a, b in zip(snapshots[1], model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_mode_auto_min_delta_and_baseline():
    model, x, y = model_and_data()
    stop = EarlyStopping(monitor="val_accuracy", patience=1, min_delta=0.1)
    scripted = Scripted("val_accuracy", [0.5, 0.55, 0.58, 0.9])
    hist = model.fit(
        x, y, epochs=4, validation_data=(x, y), verbose=0, callbacks=[scripted, stop]
    )
    assert len(hist.history["loss"]) == 2  # 0.55 is not 0.1 better than 0.5
    stop = EarlyStopping(monitor="val_loss", patience=2, baseline=0.5)
    scripted = Scripted("val_loss", [1.0] * 5)
    hist = model.fit(
        x, y, epochs=5, validation_data=(x, y), verbose=0, callbacks=[scripted, stop]
    )
    assert len(hist.history["loss"]) == 2  # never beats the baseline
    with pytest.raises(ValueError, match="expected mode 'auto', 'min' or 'max'"):
        EarlyStopping(mode="best")


def test_early_stopping_warns_for_a_missing_metric():
    model, x, y = model_and_data()
    with pytest.warns(UserWarning, match="metric 'val_auc' is not in the logs"):
        model.fit(
            x, y, epochs=1, verbose=0, callbacks=[EarlyStopping(monitor="val_auc")]
        )


def test_reduce_lr_on_plateau_changes_the_learning_rate():
    model, x, y = model_and_data(plait.optimizers.SGD(learning_rate=0.1))
    scripted = Scripted("val_loss", [1.0, 1.0, 1.0, 1.0, 1.0])
    reduce = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=0.02)
    lrs = []
    record = LambdaCallback(
        on_epoch_end=lambda e, logs: lrs.append(model.optimizer.learning_rate)
    )
    hist = model.fit(
        x,
        y,
        epochs=5,
        validation_data=(x, y),
        verbose=0,
        callbacks=[scripted, reduce, record],
    )
    assert lrs == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    # The logs hold the rate each epoch trained with (Keras 3).
    assert hist.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05])
    torch_lr = model.optimizer.torch_optimizer.param_groups[0]["lr"]
    assert torch_lr == pytest.approx(0.025)
    with pytest.raises(ValueError, match=r"expected factor < 1\.0"):
        ReduceLROnPlateau(factor=2.0)


def test_learning_rate_scheduler_sets_the_rate_each_epoch():
    model, x, y = model_and_data(plait.optimizers.SGD(learning_rate=0.1))
    sched = LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    hist = model.fit(x, y, epochs=3, verbose=0, callbacks=[sched])
    assert hist.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    sched = LearningRateScheduler(lambda epoch: 0.01)  # Keras 1-argument form
    model.fit(x, y, epochs=1, verbose=0, callbacks=[sched])
    assert model.optimizer.learning_rate == pytest.approx(0.01)
    bad = LearningRateScheduler(lambda epoch, lr: "fast")
    with pytest.raises(ValueError, match="the schedule must return a float"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[bad])


def test_terminate_on_nan_stops_at_the_first_bad_batch(capsys):
    model, x, y = model_and_data(plait.optimizers.SGD(learning_rate=1e30))
    x = x * 1e10
    seen = []
    record = LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))
    hist = model.fit(
        x, y, batch_size=2, epochs=3, verbose=0, callbacks=[TerminateOnNaN(), record]
    )
    assert len(seen) < 8
    assert not np.isfinite(hist.history["loss"][-1])
    assert "Invalid loss, terminating training" in capsys.readouterr().out


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    model, x, y = model_and_data()
    path = tmp_path / "log.csv"
    model.fit(
        x, y, epochs=2, validation_data=(x, y), verbose=0, callbacks=[CSVLogger(path)]
    )
    with open(path) as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert list(rows[0]) == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    model.fit(
        x,
        y,
        epochs=1,
        verbose=0,
        callbacks=[CSVLogger(path, separator=";", append=True)],
    )
    lines = path.read_text().splitlines()
    assert len(lines) == 4
    assert lines[-1].startswith("0;")


def test_lambda_callback_hooks():
    model, x, y = model_and_data()
    calls = []
    cb = LambdaCallback(
        on_train_begin=lambda logs: calls.append("begin"),
        on_epoch_end=lambda epoch, logs: calls.append(f"epoch {epoch}"),
        on_batch_end=lambda batch, logs: calls.append(f"batch {batch}"),
        on_train_end=lambda logs: calls.append("end"),
    )
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[cb])
    assert calls == ["begin", "batch 0", "batch 1", "epoch 0", "end"]
    with pytest.raises(TypeError, match="unknown hook 'on_lunch'"):
        LambdaCallback(on_lunch=print)


def test_model_checkpoint_writes_files(tmp_path):
    model, x, y = model_and_data()
    path = str(tmp_path / "ckpt-{epoch:02d}-{loss:.2f}.safetensors")
    model.fit(
        x,
        y,
        epochs=2,
        verbose=0,
        callbacks=[ModelCheckpoint(path, save_weights_only=True)],
    )
    names = sorted(os.listdir(tmp_path))
    assert len(names) == 2
    assert names[0].startswith("ckpt-01-")
    assert names[1].startswith("ckpt-02-")


def test_model_checkpoint_save_best_only(tmp_path):
    model, x, y = model_and_data()
    path = str(tmp_path / "best.safetensors")
    saved = []
    scripted = Scripted("val_loss", [1.0, 2.0, 0.5])

    class Watch(Callback):
        def on_epoch_end(self, epoch, logs=None):
            saved.append(os.path.getmtime(path) if os.path.exists(path) else None)

    ckpt = ModelCheckpoint(
        path, monitor="val_loss", save_best_only=True, save_weights_only=True
    )
    model.fit(
        x,
        y,
        epochs=3,
        validation_data=(x, y),
        verbose=0,
        callbacks=[scripted, ckpt, Watch()],
    )
    assert ckpt.best == 0.5
    assert saved[0] is not None
    assert saved[1] == saved[0]
    with pytest.raises(ValueError, match="expected save_freq='epoch' or a positive"):
        ModelCheckpoint(path, save_freq=0)


def test_model_checkpoint_full_model_and_batch_frequency(tmp_path):
    model, x, y = model_and_data()
    path = str(tmp_path / "m-{epoch}-{batch}.plait")
    model.fit(
        x,
        y,
        batch_size=4,
        epochs=1,
        verbose=0,
        callbacks=[ModelCheckpoint(path, save_freq=2)],
    )
    assert sorted(os.listdir(tmp_path)) == ["m-1-1.plait", "m-1-3.plait"]
    bad = ModelCheckpoint(str(tmp_path / "{nope}.plait"))
    with pytest.raises(KeyError, match="names 'nope', which is not in the logs"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[bad])


def _train(tmp_path, epochs, interrupt_at=None, dropout=0.5):
    plait.utils.set_random_seed(11)
    model, x, y = model_and_data("rmsprop", dropout=dropout)
    plait.utils.set_random_seed(12)

    class Kill(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == interrupt_at:
                raise KeyboardInterrupt("simulated kill")

    backup = BackupAndRestore(tmp_path / "backup")
    callbacks = [backup] if interrupt_at is None else [backup, Kill()]
    hist = model.fit(x, y, batch_size=4, epochs=epochs, verbose=0, callbacks=callbacks)
    return model, hist


def test_backup_and_restore_resumes_a_killed_fit_with_the_same_result(tmp_path):
    reference, ref_hist = _train(tmp_path / "a", epochs=4)
    with pytest.raises(KeyboardInterrupt):
        _train(tmp_path / "b", epochs=4, interrupt_at=2)
    assert os.path.exists(tmp_path / "b" / "backup" / "backup.pt")
    # A new process would start from fresh weights and another RNG state.
    plait.utils.set_random_seed(999)
    resumed, hist = _train(tmp_path / "b", epochs=4)
    assert hist.epoch == [2, 3]
    for a, b in zip(reference.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert hist.history["loss"] == ref_hist.history["loss"][2:]
    assert not os.path.exists(tmp_path / "b" / "backup" / "backup.pt")
    with pytest.raises(ValueError, match="only save_freq='epoch' is supported"):
        BackupAndRestore(tmp_path, save_freq=10)


def test_tensorboard_needs_the_tensorboard_package(tmp_path, monkeypatch):
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return  # the missing package: test_callback_api.py
    model, x, y = model_and_data()
    model.fit(
        x,
        y,
        epochs=1,
        validation_data=(x, y),
        verbose=0,
        callbacks=[TensorBoard(tmp_path, histogram_freq=1)],
    )
    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]


def test_progbar_logger_draws_evaluate(capsys):
    model, x, y = model_and_data()
    model.evaluate(x, y, batch_size=8, verbose=2)
    out = capsys.readouterr().out
    assert out.startswith("2/2 - ")
    assert "loss: " in out
    model.fit(x, y, epochs=1, verbose=0, callbacks=[ProgbarLogger()])


def test_get_and_set_lr_work_on_a_torch_optimizer():
    model, _, _ = model_and_data()
    opt = torch.optim.SGD(model.parameters(), lr=0.3)
    model.compile(opt, "categorical_crossentropy")
    assert callbacks_watch.get_lr(model) == pytest.approx(0.3)
    callbacks_watch.set_lr(model, 0.2)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.2)


def test_callback_list_is_public():
    from plait.callbacks.callbacks import CallbackList

    assert plait.callbacks.CallbackList is CallbackList
