"""Tests for resuming `fit` with BackupAndRestore: the run ends where it would have.

The watching callbacks (EarlyStopping, ReduceLROnPlateau, ModelCheckpoint)
decide from earlier epochs, so a resumed run must get their state back from the
backup, and the backup of an epoch must hold what they did at its end.
"""

import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import plait
from plait.callbacks import (
    BackupAndRestore,
    Callback,
    EarlyStopping,
    ModelCheckpoint,
    ReduceLROnPlateau,
)
from plait.callbacks.watch import get_lr
from plait.layers import Dense, Dropout, Input

ROOT = Path(__file__).resolve().parents[2]
EPOCHS = 12
# Scripted val_loss: improves to epoch 2, then plateaus, so ReduceLROnPlateau
# halves the rate at epochs 3, 4 and 5 and EarlyStopping stops at epoch 5.
VAL_LOSS = [1.0, 0.8, 0.6, 0.7, 0.65, 0.9, 0.62, 0.5, 0.4, 0.3, 0.2, 0.1]


class Scripted(Callback):
    """Sets each epoch's val_loss from VAL_LOSS (before the watchers read it)."""

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = VAL_LOSS[epoch]


class Interrupt(Callback):
    """Calls `stop()` at the second batch of epoch `epoch` (the backup is older)."""

    def __init__(self, epoch, stop):
        super().__init__()
        self.epoch, self.stop, self._now = epoch, stop, -1

    def on_epoch_begin(self, epoch, logs=None):
        self._now = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._now == self.epoch and batch == 1:
            self.stop()


class InterruptAtEnd(Callback):
    """Interrupts `fit` after the last epoch, before the backup is deleted."""

    def on_train_end(self, logs=None):
        raise KeyboardInterrupt("simulated kill")


def run_training(folder, interrupt=None):
    """One fit with every watching callback; returns (model, history, EarlyStopping).

    BackupAndRestore comes first (after `interrupt`), so a backup written at its
    own turn would miss what the others do at the end of the epoch.
    """
    folder = Path(folder)
    folder.mkdir(exist_ok=True)
    plait.utils.clear_session()  # the same layer names in every run
    plait.utils.set_random_seed(11)
    inputs = Input(shape=(4,))
    x = Dropout(0.5)(Dense(8, activation="relu")(inputs))
    model = plait.Model(inputs, Dense(3, activation="softmax")(x))
    model.compile(plait.optimizers.SGD(0.1), "categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.random((16, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 16)]
    plait.utils.set_random_seed(12)
    early = EarlyStopping(patience=3, restore_best_weights=True)
    callbacks = [
        BackupAndRestore(folder / "backup"),
        Scripted(),
        early,
        ReduceLROnPlateau(factor=0.5, patience=1),
        ModelCheckpoint(folder / "best.plait", save_best_only=True),
    ]
    if interrupt is not None:
        callbacks.insert(0, interrupt)
    hist = model.fit(x, y, batch_size=4, epochs=EPOCHS, verbose=0, callbacks=callbacks)
    return model, hist, early


def _members(path):
    """A model file's members; a safetensors header parsed (its key order varies)."""
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    for name, data in members.items():
        if name.endswith(".safetensors"):
            size = int.from_bytes(data[:8], "little")
            members[name] = (json.loads(data[8 : 8 + size]), data[8 + size :])
    return members


def _keyboard_interrupt():
    raise KeyboardInterrupt("simulated kill")


def test_resume_with_watching_callbacks_ends_like_an_uninterrupted_run(tmp_path):
    reference, ref_hist, ref_early = run_training(tmp_path / "a")
    assert ref_early.stopped_epoch == 5  # the script does what it says
    with pytest.raises(KeyboardInterrupt):
        run_training(tmp_path / "b", Interrupt(4, _keyboard_interrupt))
    plait.utils.set_random_seed(999)  # a new process: other RNG state
    resumed, hist, early = run_training(tmp_path / "b")
    assert hist.epoch == [4, 5]
    assert early.stopped_epoch == ref_early.stopped_epoch
    assert get_lr(resumed) == get_lr(reference) == 0.1 / 8
    # What model.save writes, which a later checkpoint would hold.
    assert resumed.optimizer.get_config() == reference.optimizer.get_config()
    for a, b in zip(reference.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
    for key, values in hist.history.items():
        assert values == ref_hist.history[key][4:], key
    assert _members(tmp_path / "b" / "best.plait") == _members(
        tmp_path / "a" / "best.plait"
    )
    assert not os.path.exists(tmp_path / "b" / "backup" / "backup.pt")


def test_resume_after_early_stopping_does_not_train_on(tmp_path):
    reference, _, _ = run_training(tmp_path / "a")
    with pytest.raises(KeyboardInterrupt):
        run_training(tmp_path / "b", InterruptAtEnd())
    resumed, hist, early = run_training(tmp_path / "b")
    assert hist.epoch == []
    assert early.stopped_epoch == 5
    assert get_lr(resumed) == get_lr(reference)
    for a, b in zip(reference.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)  # EarlyStopping's best weights


@pytest.mark.parametrize(
    "make",
    [EarlyStopping, ReduceLROnPlateau, lambda **kw: ModelCheckpoint("m.plait", **kw)],
    ids=["EarlyStopping", "ReduceLROnPlateau", "ModelCheckpoint"],
)
def test_resume_refuses_a_backup_watching_something_else(make):
    saved = make()
    saved.on_train_begin()
    other = make(monitor="val_accuracy")
    name = type(other).__name__
    with pytest.raises(
        ValueError,
        match=rf"{name}: expected the monitor and mode of the backup being resumed "
        r"\(monitor='val_loss', mode 'min'\), got monitor='val_accuracy', mode 'max'",
    ):
        other._set_state(saved._get_state())


def test_backup_refuses_a_callback_state_that_is_not_data(tmp_path):
    class Opaque(Callback):
        def _get_state(self):
            return {"handle": object()}

    model = plait.Sequential([Input(shape=(2,)), Dense(1)])
    model.compile("sgd", "mse")
    x = np.zeros((4, 2), dtype="float32")
    with pytest.raises(
        ValueError,
        match=r"BackupAndRestore: expected Opaque._get_state\(\) to return JSON "
        "data and tensors, got Object of type object is not JSON serializable",
    ):
        model.fit(
            x,
            x[:, :1],
            epochs=1,
            verbose=0,
            callbacks=[BackupAndRestore(tmp_path), Opaque()],
        )


_SCRIPT = """
import json, os, signal, sys
import torch
torch.set_num_threads(1)
sys.path.insert(0, {root!r})
from tests.callbacks.test_resume import Interrupt, run_training
from plait.callbacks.watch import get_lr

kill_at = os.environ.get("PLAIT_TEST_KILL_AT")
stop = lambda: os.kill(os.getpid(), signal.SIGKILL)
folder = sys.argv[1]
interrupt = None if kill_at is None else Interrupt(int(kill_at), stop)
model, hist, early = run_training(folder, interrupt)
from safetensors.torch import save_file
save_file(
    {{k: v.contiguous() for k, v in model.state_dict().items()}},
    os.path.join(folder, "final.safetensors"),
)
with open(os.path.join(folder, "result.json"), "w") as f:
    json.dump(
        {{"lr": get_lr(model), "stopped_epoch": early.stopped_epoch,
          "epoch": hist.epoch, "history": hist.history}},
        f,
    )
"""


def _run_script(script, folder, kill_at=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    env.pop("PLAIT_TEST_KILL_AT", None)
    if kill_at is not None:
        env["PLAIT_TEST_KILL_AT"] = str(kill_at)
    return subprocess.run(
        [sys.executable, str(script), str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _result(folder):
    from safetensors.torch import load_file

    with open(folder / "result.json") as f:
        result = json.load(f)
    return result, load_file(folder / "final.safetensors")


@pytest.mark.slow
def test_resume_after_sigkill_ends_like_an_uninterrupted_run(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(_SCRIPT.format(root=str(ROOT)))
    done = _run_script(script, tmp_path / "a")
    assert done.returncode == 0, done.stderr
    killed = _run_script(script, tmp_path / "b", kill_at=4)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (tmp_path / "b" / "result.json").exists()
    assert (tmp_path / "b" / "backup" / "backup.pt").exists()
    resumed = _run_script(script, tmp_path / "b")
    assert resumed.returncode == 0, resumed.stderr

    (ref, ref_weights), (res, res_weights) = (
        _result(tmp_path / "a"),
        _result(tmp_path / "b"),
    )
    assert ref["stopped_epoch"] == res["stopped_epoch"] == 5
    assert ref["lr"] == res["lr"] == 0.1 / 8
    assert res["epoch"] == [4, 5]
    assert res["history"] == {k: v[4:] for k, v in ref["history"].items()}
    assert list(ref_weights) == list(res_weights)
    for key in ref_weights:
        assert ref_weights[key].equal(res_weights[key]), key
    assert _members(tmp_path / "b" / "best.plait") == _members(
        tmp_path / "a" / "best.plait"
    )
