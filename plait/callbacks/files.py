"""Callbacks that write files: `ModelCheckpoint`, `BackupAndRestore`, `TensorBoard`.

Every file is written through a temporary file in the same folder and renamed
into place, so an interrupted run never leaves a half-written checkpoint.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from plait.callbacks.callbacks import Callback, Logs
from plait.callbacks.watch import (
    _check_watching,
    _monitor_op,
    _monitored,
    _watching,
)
from plait.distribution import sharding
from plait.distribution.process import is_chief

__all__ = ["BackupAndRestore", "ModelCheckpoint", "TensorBoard"]


def _atomic_write(path: str, write: Callable[[str], None]) -> None:
    """Write through a temporary file in the same folder, then rename it."""
    from plait.utils.atomic import atomic_write_path

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write_path(path, write)


def _save_weights_file(model: Any, path: str) -> None:
    from safetensors.torch import save_file

    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    _atomic_write(path, lambda tmp: save_file(state, tmp))


class ModelCheckpoint(Callback):
    """Saves the model (or its weights) during training.

    Args:
        filepath: Path, formatted with the epoch (from 1) and the logs:
            `"ckpt-{epoch:02d}-{val_loss:.2f}.plait"`.
        monitor: Log key deciding what "best" means.
        verbose: 1 prints a message at each save.
        save_best_only: Save only when `monitor` improves (the file is replaced).
        save_weights_only: Save weights only (`model.save_weights`).
        mode: `"min"`, `"max"` or `"auto"`.
        save_freq: `"epoch"`, or a number of batches between saves.
        initial_value_threshold: A value `monitor` must beat to be saved.

    Saving goes through `model.save` / `model.save_weights`, which write
    atomically; a model without them gets its `state_dict` written to a
    safetensors file, through a temporary file and a rename.

    Example:
        >>> ModelCheckpoint("best.plait", save_best_only=True).monitor
        'val_loss'
    """

    _chief_only = True  # rank 0 alone prints and writes files

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__()
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(
                "ModelCheckpoint: expected save_freq='epoch' or a positive number of "
                f"batches, got save_freq={save_freq!r}."
            )
        self.filepath, self.monitor, self.verbose = (
            os.fspath(filepath),
            monitor,
            verbose,
        )
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.save_freq = save_freq
        self.monitor_op = _monitor_op(monitor, mode, "ModelCheckpoint")
        self.best = initial_value_threshold
        self._batches = 0
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self.save_freq == "epoch":
            return
        self._batches += 1
        if self._batches % int(self.save_freq) == 0:
            self._save(self._epoch, batch, dict(logs or {}))

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch, None, dict(logs or {}))

    def _get_state(self) -> dict[str, Any]:
        return {
            **_watching(self.monitor, self.monitor_op),
            "best": self.best,
            "batches": self._batches,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        _check_watching("ModelCheckpoint", state, self.monitor, self.monitor_op)
        self.best, self._batches = state["best"], int(state["batches"])

    def _path(self, epoch: int, batch: int | None, logs: dict[str, Any]) -> str:
        try:
            return self.filepath.format(epoch=epoch + 1, batch=batch, **logs)
        except KeyError as err:
            raise KeyError(
                f"ModelCheckpoint: filepath {self.filepath!r} names {err}, which is not "
                f"in the logs {sorted(logs)}."
            ) from err

    def _save(self, epoch: int, batch: int | None, logs: dict[str, Any]) -> None:
        path = self._path(epoch, batch, logs)
        if self.save_best_only:
            current = _monitored(logs, self.monitor, "ModelCheckpoint")
            if current is None:
                return
            if self.best is not None and not self.monitor_op(current, self.best):
                if self.verbose > 0:
                    print(
                        f"Epoch {epoch + 1}: {self.monitor} did not improve from "
                        f"{self.best:.5f}"
                    )
                return
            if self.verbose > 0:
                print(
                    f"Epoch {epoch + 1}: {self.monitor} improved to {current:.5f}, "
                    f"saving model to {path}"
                )
            self.best = current
        elif self.verbose > 0:
            print(f"Epoch {epoch + 1}: saving model to {path}")
        saver = "save_weights" if self.save_weights_only else "save"
        if callable(getattr(self.model, saver, None)):
            getattr(self.model, saver)(path)
        else:
            _save_weights_file(self.model, path)


def _rng_state() -> dict[str, Any]:
    np_state: tuple[Any, ...] = tuple(np.random.get_state())
    py_state: tuple[Any, ...] = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy_keys": torch.from_numpy(np.asarray(np_state[1], dtype=np.int64)),
        "numpy_rest": [int(np_state[2]), int(np_state[3]), float(np_state[4])],
        "python": [list(py_state[1]), py_state[0]],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    rest = state["numpy_rest"]
    keys = state["numpy_keys"].numpy().astype(np.uint32)
    np.random.set_state(("MT19937", keys, rest[0], rest[1], rest[2]))
    internal, version = state["python"]
    random.setstate((version, tuple(internal), None))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _load_by_position(model: Any, values: list[torch.Tensor], path: str) -> None:
    """Load a `state_dict`'s values in order: layer names may differ between runs."""
    state = model.state_dict()
    shapes = [tuple(v.shape) for v in state.values()]
    if [tuple(v.shape) for v in values] != shapes:
        raise ValueError(
            f"BackupAndRestore: the backup {path!r} holds {len(values)} tensors that "
            f"do not match this model's {len(shapes)} weights; was it made by "
            "another model? Delete it to start over."
        )
    model.load_state_dict(dict(zip(state, values)))


def _callback_states(
    callbacks: list[Callback],
) -> tuple[str, dict[str, torch.Tensor]]:
    """The callbacks' `_get_state()`s as a JSON string and the tensors it names."""
    from plait.utils.tensor_state import split_tensors as _split_state

    states: dict[str, Any] = {}
    tensors: dict[str, torch.Tensor] = {}
    for key, cb in _keyed(callbacks).items():
        state = cb._get_state()
        if state is None:
            continue
        states[key] = _split_state(state, tensors, key)
        try:
            json.dumps(states[key])
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"BackupAndRestore: expected {type(cb).__name__}._get_state() to "
                f"return JSON data and tensors, got {err}."
            ) from err
    return json.dumps(states), tensors


def _set_callback_states(
    callbacks: list[Callback], text: str, tensors: dict[str, torch.Tensor]
) -> None:
    from plait.utils.tensor_state import join_tensors as _join_state

    states = json.loads(text)
    for key, cb in _keyed(callbacks).items():
        if key in states:  # a callback added since the backup starts afresh
            cb._set_state(_join_state(states[key], tensors))


def _keyed(callbacks: list[Callback]) -> dict[str, Callback]:
    """Callbacks by a key that survives a restart: class name and rank in it."""
    seen: dict[str, int] = {}
    keyed = {}
    for cb in callbacks:
        name = type(cb).__name__
        keyed[f"{name}/{seen.get(name, 0)}"] = cb
        seen[name] = seen.get(name, 0) + 1
    return keyed


class BackupAndRestore(Callback):
    """Resumes an interrupted `fit` from the last finished epoch, with the same result.

    At the end of every epoch, once every callback has run its `on_epoch_end`
    (wherever this one is in the list), it writes atomically the model's
    weights, the optimizer's state (with the learning rate), the epoch number,
    the random generators' states and the state of the callbacks that keep one
    (`EarlyStopping`, `ReduceLROnPlateau`, `ModelCheckpoint`: best values, wait
    counters; see `Callback`) to `backup_dir/backup.pt`. When `fit` starts and a
    backup exists, it loads all of them after every callback's `on_train_begin`
    and training continues at the next epoch: the rest of the run is the one
    the interrupted run would have done, down to the best checkpoint and the
    epoch where early stopping ends it. The history `fit` returns holds the
    epochs run since the resume (Keras's behaviour). The backup is deleted
    when `fit` ends normally (unless `delete_checkpoint=False`).

    Args:
        backup_dir: Folder of the backup.
        save_freq: `"epoch"` (the only supported value).
        delete_checkpoint: Delete the backup when training ends.

    Example:
        >>> BackupAndRestore("/tmp/backup").save_freq
        'epoch'
    """

    def __init__(
        self,
        backup_dir: str | os.PathLike[str],
        save_freq: str = "epoch",
        delete_checkpoint: bool = True,
    ) -> None:
        super().__init__()
        if save_freq != "epoch":
            raise ValueError(
                "BackupAndRestore: only save_freq='epoch' is supported, got "
                f"save_freq={save_freq!r}."
            )
        self.backup_dir, self.save_freq = os.fspath(backup_dir), save_freq
        self.delete_checkpoint = delete_checkpoint
        self.path = os.path.join(self.backup_dir, "backup.pt")

    def _optimizer(self) -> Any:
        return getattr(self.model, "optimizer", None)

    def _after_train_begin(self, callbacks: list[Callback]) -> None:
        if not os.path.exists(self.path):
            return
        state = torch.load(self.path, map_location="cpu", weights_only=True)
        _load_by_position(self.model, state["model"], self.path)
        opt = self._optimizer()
        if opt is not None and state.get("optimizer") is not None:
            opt.load_state_dict(state["optimizer"])
        _set_rng_state(state["rng"])
        if "callbacks" in state:
            _set_callback_states(
                callbacks, state["callbacks"], state["callback_tensors"]
            )
        epoch = int(state["epoch"]) + 1
        if state.get("stop_training"):  # stopped, but killed before it ended
            epoch = max(epoch, int(self.params.get("epochs", epoch)))
        self.model._initial_epoch = epoch

    def _after_epoch_end(self, epoch: int, callbacks: list[Callback]) -> None:
        if not is_chief():  # data parallel: every rank restores, rank 0 writes
            return
        opt = self._optimizer()
        states, tensors = _callback_states(callbacks)
        state = {
            "model": [  # FSDP: the whole tensors, gathered by every rank
                sharding.full(v).detach().cpu()
                for v in self.model.state_dict(keep_vars=True).values()
            ],
            "optimizer": opt.state_dict() if opt is not None else None,
            "epoch": epoch,
            "rng": _rng_state(),
            "callbacks": states,
            "callback_tensors": tensors,
            "stop_training": bool(getattr(self.model, "stop_training", False)),
        }
        _atomic_write(self.path, lambda tmp: torch.save(state, tmp))

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.delete_checkpoint and is_chief() and os.path.exists(self.path):
            os.remove(self.path)


class TensorBoard(Callback):
    """Writes the logs for TensorBoard (`torch.utils.tensorboard`).

    Epoch values go to `log_dir/train` and `log_dir/validation` as
    `epoch_<name>` (Keras's layout); with `update_freq` a number of batches,
    batch values are written too; `histogram_freq` adds weight histograms.

    Args:
        log_dir: Folder of the event files.
        histogram_freq: Epochs between weight histograms; 0 for none.
        write_graph: Accepted for Keras compatibility.
        write_images: Accepted for Keras compatibility.
        write_steps_per_second: Also log training steps per second.
        update_freq: `"epoch"`, `"batch"`, or a number of batches.
        profile_batch: Accepted for Keras compatibility.
        embeddings_freq: Accepted for Keras compatibility.
        embeddings_metadata: Accepted for Keras compatibility.

    Raises:
        ImportError: at the first write (not at construction, as in Keras)
            when the `tensorboard` package is not installed.
    """

    _chief_only = True  # rank 0 alone prints and writes files

    def __init__(
        self,
        log_dir: str | os.PathLike[str] = "logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq: str | int = "epoch",
        profile_batch: int = 0,
        embeddings_freq: int = 0,
        embeddings_metadata: Any = None,
    ) -> None:
        super().__init__()
        self.log_dir, self.histogram_freq = os.fspath(log_dir), histogram_freq
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.write_steps_per_second = write_steps_per_second
        self._writers: dict[str, Any] = {}
        self._step = 0

    def _writer(self, kind: str) -> Any:
        if kind not in self._writers:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as err:
                raise ImportError(
                    "The TensorBoard callback needs the `tensorboard` package: "
                    "pip install tensorboard"
                ) from err
            self._writers[kind] = SummaryWriter(os.path.join(self.log_dir, kind))
        return self._writers[kind]

    def _get_state(self) -> dict[str, Any]:
        return {"step": self._step}  # batch values go on at the right step

    def _set_state(self, state: dict[str, Any]) -> None:
        self._step = int(state["step"])

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._step += 1
        if isinstance(self.update_freq, int) and self._step % self.update_freq == 0:
            for k, v in (logs or {}).items():
                self._writer("train").add_scalar(f"batch_{k}", float(v), self._step)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        for k, v in (logs or {}).items():
            kind, name = ("validation", k[4:]) if k.startswith("val_") else ("train", k)
            self._writer(kind).add_scalar(f"epoch_{name}", float(v), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            for name, p in self.model.named_parameters():
                self._writer("train").add_histogram(name, p.detach().cpu(), epoch)
        for w in self._writers.values():
            w.flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        for w in self._writers.values():
            w.close()
        self._writers = {}
