"""Callbacks: hooks into `fit`, `evaluate` and `predict`, with Keras's names.

A callback subclasses `Callback` and overrides the hooks it needs. Batch hooks
cost nothing unless some callback overrides them: `CallbackList` calls a hook
only on the callbacks that define it. The `logs` passed to batch hooks read the
device-side metrics lazily, on first access, so a callback that ignores them
never forces a host synchronisation.
"""

from __future__ import annotations

import contextlib
import csv
import math
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from plait.callbacks.progress import Progbar
from plait.distribution import sharding
from plait.distribution.process import is_chief

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "History",
    "LambdaCallback",
    "ProgbarLogger",
    "TerminateOnNaN",
]

Logs = Mapping[str, Any]
_BATCH_HOOKS = (
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


class Callback:
    """Base class of callbacks: every hook of Keras, doing nothing.

    `self.model` is the model being trained and `self.params` holds `epochs`,
    `steps` and `verbose`. `on_batch_begin`/`on_batch_end` are Keras's older
    names for the training batch hooks.

    A callback whose decisions depend on earlier epochs (a best value, a wait
    counter) keeps that state across a `BackupAndRestore` resume by defining
    `_get_state()`, returning a dict of JSON data (str, number, bool, None,
    lists, dicts with str keys) and tensors, and `_set_state(state)`, which
    puts it back; it is called after every callback's `on_train_begin`. The
    built-in watching callbacks (`EarlyStopping`, `ReduceLROnPlateau`,
    `ModelCheckpoint`) define both.

    Example:
        >>> class Count(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print("epoch", epoch)
        >>> Count().on_epoch_end(0)
        epoch 0
    """

    _chief_only = False  # True: only rank 0 of a data parallel run runs it

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        """Attach the model the hooks act on."""
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Attach the run's parameters (`epochs`, `steps`, `verbose`)."""
        self.params = params

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Called once when `fit` starts."""

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Called once when `fit` ends, with the last epoch's logs."""

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Called when an epoch starts (`epoch` counts from 0)."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Called when an epoch ends, with its training and validation logs."""

    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Keras's old name of `on_train_batch_begin`."""

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Keras's old name of `on_train_batch_end`."""

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before a training batch."""
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after a training batch, with the running logs."""
        self.on_batch_end(batch, logs)

    def on_test_begin(self, logs: Logs | None = None) -> None:
        """Called when evaluation (or validation) starts."""

    def on_test_end(self, logs: Logs | None = None) -> None:
        """Called when evaluation ends, with its logs."""

    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before an evaluation batch."""

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after an evaluation batch."""

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        """Called when `predict` starts."""

    def on_predict_end(self, logs: Logs | None = None) -> None:
        """Called when `predict` ends."""

    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before a prediction batch."""

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after a prediction batch."""

    def _get_state(self) -> dict[str, Any] | None:
        """The state a resumed `fit` needs (JSON data and tensors); None: none."""
        return None

    def _set_state(self, state: dict[str, Any]) -> None:
        """Put back `_get_state()`'s output, after `on_train_begin`."""

    def _after_train_begin(self, callbacks: list[Callback]) -> None:
        """Called once every callback has run `on_train_begin` (a resume point)."""

    def _after_epoch_end(self, epoch: int, callbacks: list[Callback]) -> None:
        """Called once every callback has run `on_epoch_end` (a backup point)."""


def _overrides(cb: Callback, hook: str) -> bool:
    own = getattr(type(cb), hook, None) is not getattr(Callback, hook)
    if hook == "on_train_batch_begin":
        own = own or type(cb).on_batch_begin is not Callback.on_batch_begin
    if hook == "on_train_batch_end":
        own = own or type(cb).on_batch_end is not Callback.on_batch_end
    return own or (isinstance(cb, LambdaCallback) and hook in cb._hooks)


class CallbackList:
    """Dispatches each hook to a list of callbacks (History and progress added).

    Args:
        callbacks: The user's callbacks.
        add_history: Add a `History` (the model's `history`), unless given.
        add_progbar: Add a `ProgbarLogger`, unless given.
        model: The model; given to every callback.
        **params: `epochs`, `steps`, `verbose`, ...
    """

    def __init__(
        self,
        callbacks: Iterable[Callback] | None = None,
        add_history: bool = False,
        add_progbar: bool = False,
        model: Any = None,
        **params: Any,
    ) -> None:
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks: expected plait.callbacks.Callback instances, got "
                    f"{type(cb).__name__}."
                )
        if add_progbar and not any(
            isinstance(c, ProgbarLogger) for c in self.callbacks
        ):
            self.callbacks.append(ProgbarLogger())
        if not is_chief():  # data parallel: other ranks neither print nor write
            self.callbacks = [c for c in self.callbacks if not c._chief_only]
        self.history: History | None = None
        if add_history:
            found = [c for c in self.callbacks if isinstance(c, History)]
            self.history = found[0] if found else History()
            if not found:
                self.callbacks.append(self.history)
        self.params = params
        self.model = model
        # FSDP: a callback that saves at batch ends (rank 0 only) reads the
        # sharded weights gathered by every rank (see `_whole`).
        self._save_batches = any(
            getattr(c, "save_freq", "epoch") != "epoch" for c in callbacks or []
        )
        for cb in self.callbacks:
            if model is not None:
                cb.set_model(model)
            cb.set_params(params)
        self._batch = {
            h: [c for c in self.callbacks if _overrides(c, h)] for h in _BATCH_HOOKS
        }
        # BackupAndRestore acts after all the others, whatever its position: the
        # backup of an epoch holds what every callback did at its end.
        self._last = [
            c
            for c in self.callbacks
            if _overrides(c, "_after_train_begin") or _overrides(c, "_after_epoch_end")
        ]

    def wants(self, hook: str) -> bool:
        """Whether any callback overrides the batch hook `hook`."""
        return bool(self._batch[hook])

    def call_batch(self, hook: str, batch: int, logs: Logs | None = None) -> None:
        """Call a batch hook on the callbacks that define it (`logs`: `{}` if None)."""
        logs = {} if logs is None else logs
        if self._save_batches and hook == "on_train_batch_end":
            with self._whole():
                for cb in self._batch[hook]:
                    getattr(cb, hook)(batch, logs)
            return
        for cb in self._batch[hook]:
            getattr(cb, hook)(batch, logs)

    def _whole(self) -> contextlib.AbstractContextManager[None]:
        """FSDP: every rank gathers the sharded weights and optimizer state, so
        that rank 0 alone can read them whole (checkpoints, backups)."""
        return sharding.gathered_model(self.model)

    def _call(self, hook: str, *args: Any) -> None:
        # Keras gives every hook a dict of logs: an empty one where there are none.
        if args[-1] is None:
            args = (*args[:-1], {})
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._call("on_train_begin", logs)
        with self._whole():
            for cb in self._last:
                cb._after_train_begin(self.callbacks)

    def on_train_end(self, logs: Logs | None = None) -> None:
        with self._whole():
            self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        with self._whole():
            self._call("on_epoch_end", epoch, logs)
            for cb in self._last:
                cb._after_epoch_end(epoch, self.callbacks)

    def on_test_begin(self, logs: Logs | None = None) -> None:
        self._call("on_test_begin", logs)

    def on_test_end(self, logs: Logs | None = None) -> None:
        self._call("on_test_end", logs)

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs: Logs | None = None) -> None:
        self._call("on_predict_end", logs)


class History(Callback):
    """Records each epoch's logs: `history.history["loss"]` is a list per key.

    `fit` returns it; it is also `model.history`.

    Example:
        >>> h = History(); h.on_train_begin(); h.on_epoch_end(0, {"loss": 0.5})
        >>> h.history, h.epoch
        ({'loss': [0.5]}, [0])
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        model.history = self

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


class ProgbarLogger(Callback):
    """Prints progress: a live bar per epoch (`verbose=1`) or one line (`2`).

    Added by `fit`/`evaluate` when `verbose` is not 0. The bar reads the logs at
    most every 0.1 s, so training does not wait for the device at each batch.
    """

    _chief_only = True  # rank 0 alone prints and writes files

    def __init__(self) -> None:
        super().__init__()
        self._bar: Progbar | None = None
        self._epochs = 1
        self._seen = 0
        self._in_fit = False

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params(params)
        self._epochs = params.get("epochs", 1)

    def _start(self, steps: int | None) -> None:
        self._bar = Progbar(steps, verbose=self.params.get("verbose", 1))
        self._seen = 0

    def _batch_end(self, batch: int, logs: Logs | None) -> None:
        self._seen = batch + 1
        bar = self._bar
        if bar is None or bar.verbose != 1:
            return
        if bar.due() or self._seen == bar.target:
            bar.update(self._seen, dict(logs) if logs is not None else None)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._in_fit = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._in_fit = False

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        if self.params.get("verbose", 1):
            print(f"Epoch {epoch + 1}/{self._epochs}", flush=True)
        self._start(self.params.get("steps"))

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._batch_end(batch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self._bar is not None:
            self._bar.update(self._seen, logs, finalize=True)

    def on_test_begin(self, logs: Logs | None = None) -> None:
        if not self._in_fit:
            self._start(self.params.get("steps"))

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if not self._in_fit:
            self._batch_end(batch, logs)

    def on_test_end(self, logs: Logs | None = None) -> None:
        if not self._in_fit and self._bar is not None:
            self._bar.update(self._seen, logs, finalize=True)


class TerminateOnNaN(Callback):
    """Stops training as soon as the loss becomes NaN or infinite.

    It reads the loss after every batch (a device synchronisation per batch).

    Example:
        >>> TerminateOnNaN().model is None
        True
    """

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class CSVLogger(Callback):
    """Writes each epoch's logs as a row of a CSV file (`epoch` first).

    Args:
        filename: Path of the CSV file.
        separator: Column separator.
        append: Append to an existing file instead of overwriting it.

    Example:
        >>> CSVLogger("log.csv").sep
        ','
    """

    _chief_only = True  # rank 0 alone prints and writes files

    def __init__(
        self,
        filename: str | os.PathLike[str],
        separator: str = ",",
        append: bool = False,
    ) -> None:
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self._file: Any = None
        self._writer: Any = None
        self._keys: list[str] | None = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        has_header = (
            self.append
            and os.path.exists(self.filename)
            and (os.path.getsize(self.filename) > 0)
        )
        self._file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
        self._writer, self._keys = None, None
        self._has_header = has_header

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = dict(logs or {})
        if self._keys is None:
            self._keys = sorted(logs)
            self._writer = csv.DictWriter(
                self._file, fieldnames=["epoch", *self._keys], delimiter=self.sep
            )
            if not self._has_header:
                self._writer.writeheader()
        row = {"epoch": epoch, **{k: logs.get(k, "NA") for k in self._keys}}
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class LambdaCallback(Callback):
    """A callback made of functions, one per hook: `LambdaCallback(on_epoch_end=f)`.

    Args:
        on_epoch_begin, on_epoch_end: `f(epoch, logs)`.
        on_train_begin, on_train_end: `f(logs)`.
        on_train_batch_begin, on_train_batch_end: `f(batch, logs)`.
        **kwargs: Any other hook by name (`on_batch_end`, `on_test_end`, ...).

    Example:
        >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch))
        >>> cb.on_epoch_end(3, {})
        3
    """

    def __init__(
        self,
        on_epoch_begin: Callable[..., Any] | None = None,
        on_epoch_end: Callable[..., Any] | None = None,
        on_train_begin: Callable[..., Any] | None = None,
        on_train_end: Callable[..., Any] | None = None,
        on_train_batch_begin: Callable[..., Any] | None = None,
        on_train_batch_end: Callable[..., Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
            **kwargs,
        }
        for name in kwargs:
            if not hasattr(Callback, name) or not name.startswith("on_"):
                raise TypeError(f"LambdaCallback: unknown hook {name!r}.")
        if hooks.get("on_batch_begin") is not None:
            hooks.setdefault("on_train_batch_begin", None)
            hooks["on_train_batch_begin"] = (
                hooks["on_train_batch_begin"] or hooks["on_batch_begin"]
            )
        if hooks.get("on_batch_end") is not None:
            hooks["on_train_batch_end"] = (
                hooks["on_train_batch_end"] or hooks["on_batch_end"]
            )
        self._hooks = {k: v for k, v in hooks.items() if v is not None}
        for name, fn in self._hooks.items():
            setattr(self, name, fn)
