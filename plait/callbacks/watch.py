"""Callbacks that watch a metric or set the learning rate.

`EarlyStopping` and `ReduceLROnPlateau` decide from the epochs before, so they
keep their best value and counters across a `BackupAndRestore` resume through
`_get_state`/`_set_state`; the learning rate itself is in the optimizer's state.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from plait.callbacks.callbacks import Callback, Logs

__all__ = [
    "EarlyStopping",
    "LearningRateScheduler",
    "ReduceLROnPlateau",
    "get_lr",
    "set_lr",
]


def _monitor_op(monitor: str, mode: str, owner: str) -> Callable[[float, float], bool]:
    if mode not in ("auto", "min", "max"):
        raise ValueError(
            f"{owner}: expected mode 'auto', 'min' or 'max', got mode={mode!r}."
        )
    if mode == "auto":
        name = monitor.removeprefix("val_")
        higher = ("acc", "auc", "precision", "recall", "f1", "fbeta", "true_")
        mode = "max" if any(k in name for k in higher) and "loss" not in name else "min"
    return (lambda a, b: a > b) if mode == "max" else (lambda a, b: a < b)


def _watching(
    monitor: str, monitor_op: Callable[[float, float], bool]
) -> dict[str, Any]:
    """What a watching callback watches, saved with its state to check on resume."""
    return {"monitor": monitor, "mode": "max" if monitor_op(1.0, 0.0) else "min"}


def _check_watching(
    owner: str,
    state: dict[str, Any],
    monitor: str,
    monitor_op: Callable[[float, float], bool],
) -> None:
    mine = _watching(monitor, monitor_op)
    if (state.get("monitor"), state.get("mode")) != (mine["monitor"], mine["mode"]):
        raise ValueError(
            f"{owner}: expected the monitor and mode of the backup being resumed "
            f"(monitor={state.get('monitor')!r}, mode {state.get('mode')!r}), got "
            f"monitor={monitor!r}, mode {mine['mode']!r}. Delete the backup to start "
            "over with other settings."
        )


def _monitored(logs: Logs | None, monitor: str, owner: str) -> float | None:
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(
            f"{owner}: metric {monitor!r} is not in the logs; available: "
            f"{sorted(logs or {})}.",
            UserWarning,
            stacklevel=3,
        )
        return None
    return float(value)


def _snapshot(model: Any) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


class EarlyStopping(Callback):
    """Stops training when `monitor` has stopped improving for `patience` epochs.

    Args:
        monitor: Log key to watch, e.g. `"val_loss"` or `"val_accuracy"`.
        min_delta: Smallest change that counts as an improvement.
        patience: Epochs without improvement before stopping.
        verbose: 1 prints a message when stopping.
        mode: `"min"`, `"max"`, or `"auto"` (from the name: accuracy-like is max).
        baseline: A value to beat; training stops if it is not beaten in time.
        restore_best_weights: Put back the weights of the best epoch when stopping
            (or at the end of training).
        start_from_epoch: Epochs to wait before watching.

    Example:
        >>> EarlyStopping(monitor="val_loss", patience=2).patience
        2
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__()
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.monitor_op = _monitor_op(monitor, mode, "EarlyStopping")
        better = self.monitor_op(1.0, 0.0)
        self.min_delta = abs(min_delta) if better else -abs(min_delta)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best: float | None = None
        self.best_weights: dict[str, torch.Tensor] | None = None

    def _improved(self, value: float, reference: float | None) -> bool:
        return reference is None or self.monitor_op(value - self.min_delta, reference)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        current = _monitored(logs, self.monitor, "EarlyStopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = _snapshot(self.model)  # if nothing ever improves
        self.wait += 1
        if self._improved(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = _snapshot(self.model)
            if self.baseline is None or self._improved(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def _get_state(self) -> dict[str, Any]:
        weights = self.best_weights
        return {
            **_watching(self.monitor, self.monitor_op),
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "best_epoch": self.best_epoch,
            "best": self.best,
            # By position, as BackupAndRestore loads weights: names may differ.
            "best_weights": None if weights is None else list(weights.values()),
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        _check_watching("EarlyStopping", state, self.monitor, self.monitor_op)
        self.wait, self.best = int(state["wait"]), state["best"]
        self.stopped_epoch = int(state["stopped_epoch"])
        self.best_epoch = int(state["best_epoch"])
        weights = state["best_weights"]
        if weights is not None:
            self.best_weights = dict(zip(self.model.state_dict(), weights))

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    f"Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.load_state_dict(self.best_weights)


def get_lr(model: Any) -> float:
    """The learning rate of the model's optimizer (its first parameter group)."""
    opt = model.optimizer
    lr = getattr(opt, "learning_rate", None)
    if isinstance(lr, (int, float)):
        return float(lr)
    torch_opt = getattr(opt, "torch_optimizer", opt)
    return float(torch_opt.param_groups[0]["lr"])


def set_lr(model: Any, lr: float) -> None:
    """Set the learning rate of every parameter group of the model's optimizer."""
    opt = model.optimizer
    if isinstance(getattr(opt, "learning_rate", None), (int, float)):
        opt.learning_rate = float(lr)
    torch_opt = getattr(opt, "torch_optimizer", opt)
    for group in getattr(torch_opt, "param_groups", []):
        group["lr"] = float(lr)


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by `factor` when `monitor` stops improving.

    Args:
        monitor: Log key to watch.
        factor: Multiplier of the learning rate, below 1.
        patience: Epochs without improvement before reducing.
        verbose: 1 prints a message at each reduction.
        mode: `"min"`, `"max"` or `"auto"`.
        min_delta: Smallest change that counts as an improvement.
        cooldown: Epochs to wait after a reduction before watching again.
        min_lr: Lower bound of the learning rate.

    Example:
        >>> ReduceLROnPlateau(factor=0.5).factor
        0.5
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau: expected factor < 1.0, got factor={factor!r}."
            )
        if kwargs:
            raise TypeError(
                f"ReduceLROnPlateau: unexpected arguments {sorted(kwargs)}."
            )
        self.monitor, self.factor, self.patience = monitor, float(factor), patience
        self.verbose, self.min_delta = verbose, min_delta
        self.cooldown, self.min_lr = cooldown, min_lr
        self.monitor_op = _monitor_op(monitor, mode, "ReduceLROnPlateau")
        self._higher = self.monitor_op(1.0, 0.0)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.best = -math.inf if self._higher else math.inf
        self.wait = self.cooldown_counter = 0

    def _get_state(self) -> dict[str, Any]:
        # The learning rate itself is in the optimizer's state.
        return {
            **_watching(self.monitor, self.monitor_op),
            "best": self.best,
            "wait": self.wait,
            "cooldown_counter": self.cooldown_counter,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        _check_watching("ReduceLROnPlateau", state, self.monitor, self.monitor_op)
        self.best, self.wait = float(state["best"]), int(state["wait"])
        self.cooldown_counter = int(state["cooldown_counter"])

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        current = _monitored(logs, self.monitor, "ReduceLROnPlateau")
        if isinstance(logs, dict):
            logs["learning_rate"] = get_lr(self.model)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        delta = self.min_delta if self._higher else -self.min_delta
        if self.monitor_op(current - delta, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = get_lr(self.model)
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    set_lr(self.model, new)
                    if self.verbose > 0:
                        print(
                            f"Epoch {epoch + 1}: ReduceLROnPlateau reducing "
                            f"learning rate to {new}."
                        )
                    self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of each epoch: `schedule(epoch, lr)`.

    Args:
        schedule: Function of the epoch index (from 0) and the current learning
            rate returning the new rate (a one-argument `schedule(epoch)` works too).
        verbose: 1 prints the rate at each epoch.

    Example:
        >>> LearningRateScheduler(lambda epoch, lr: lr * 0.9).verbose
        0
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        lr = get_lr(self.model)
        try:
            new = self.schedule(epoch, lr)
        except TypeError:  # Keras compat: old one-argument schedules
            new = self.schedule(epoch)
        if not isinstance(new, (int, float, np.floating)):
            raise ValueError(
                f"LearningRateScheduler: the schedule must return a float, got "
                f"{type(new).__name__} {new!r}."
            )
        set_lr(self.model, float(new))
        if self.verbose > 0:
            print(
                f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                f"{float(new)}."
            )

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if isinstance(logs, dict):
            logs["learning_rate"] = get_lr(self.model)
