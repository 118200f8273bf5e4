"""fit / evaluate / predict, shared by every model (the `Model` mixin).

A training step is what a careful hand-written PyTorch loop does: zero the
gradients, run the model's generated forward program, sum the weighted losses,
`backward`, `optimizer.step()`. Data is converted to tensors on the model's
device once; an epoch is one `torch.randperm` and index slices of it. Losses and
metrics accumulate in device tensors and are read back only when the progress
bar redraws (a few times a second) and at the end of each epoch.

The mixin stacks in layers, each in its own module: `ModelContract`
(contract.py: what the loops ask of the model), `TrainingSteps` (steps.py:
data, the step plan, the train/test steps), `Compiled` (compiled.py:
`compile` and the per-batch hooks), `Trainer` (here: the loops).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from plait.callbacks import callbacks as callbacks_mod
from plait.callbacks.progress import Progbar
from plait.layers.call_api import training_context
from plait.training import compile_utils as cu
from plait.training import data as data_utils
from plait.training import distributed, streaming, validation
from plait.training.compiled import Compiled, user_logs
from plait.training.contract import FlatProgram
from plait.training.steps import LazyLogs, Plan
from plait.utils import guard, tree

__all__ = ["Trainer"]


def _to_numpy(t: Any) -> Any:
    return None if t is None else t.detach().cpu().numpy()


def _interactive() -> bool:
    import sys

    return sys.stdout.isatty()


def _verbosity(verbose: Any) -> int:
    if verbose == "auto":
        return 1 if _interactive() else 2
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f"expected verbose in (0, 1, 2, 'auto'), got {verbose!r}.")
    from plait.distribution import process

    return int(verbose) if process.is_chief() else 0  # rank 0 alone prints


class Trainer(Compiled):
    """Mixin of `Model`: `compile`, `fit`, `evaluate`, `predict` and their hooks."""

    def __init__(self) -> None:
        self.compiled = False
        self.stop_training = False
        self.optimizer: Any = None
        self.history: Any = None
        self._compile_args: dict[str, Any] = {}
        self._plan: Plan | None = None
        self._loss_tracker = cu.MeanTracker("loss")
        self._initial_epoch: int | None = None

    # ------------------------------------------------------------------ fit
    @guard.training
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = 32,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: Any = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool | str = True,
        class_weight: dict[Any, float] | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int | Any = 1,
    ) -> Any:
        """Train the model for `epochs` passes over the data.

        Args:
            x: Inputs: an array or tensor, a list (one per input) or a dict by
                input name; or a `DataLoader`, `Dataset`, or an iterable or
                generator of `(x, y)` / `(x, y, sample_weight)` batches.
            y: Targets: an array, a list (one per output) or a dict by output
                name. None when `x` yields targets itself.
            batch_size: Samples per batch (32 when None).
            epochs: Index of the last epoch (training runs `initial_epoch` to it).
            verbose: 0 silent, 1 a progress bar, 2 one line per epoch, `'auto'`
                (1 on a terminal, else 2).
            callbacks: `plait.callbacks.Callback` instances.
            validation_split: Fraction of the array data, taken from its end before
                shuffling, used for validation only.
            validation_data: `(x, y)` or `(x, y, sample_weight)`, or a loader.
            shuffle: Shuffle the array data each epoch (`"batch"`: batch order only).
            class_weight: `{class: weight}` multiplying each sample's loss.
            sample_weight: Per-sample loss weights: an array, or a list/dict per
                output.
            initial_epoch: Epoch to start from (to resume a run).
            steps_per_epoch: Batches per epoch (default: one pass over the data).
            validation_steps: Batches per validation (default: all).
            validation_batch_size: Batch size for validation (default batch_size).
            validation_freq: Validate every N epochs, or at the epochs listed.

        Returns:
            A `History`: `history.history["loss"]`, `["val_loss"]`, ... per epoch.

        Raises:
            ValueError: before any weight changes, for data that does not fit the
                model: the number of inputs or targets, sample counts, target
                shapes for the loss, unknown names.
        """
        self._require_compiled("fit")
        what = "fit"
        validation.check_loop_args(
            what,
            batch_size=batch_size,
            steps_per_epoch=steps_per_epoch,
            validation_steps=validation_steps,
            validation_batch_size=validation_batch_size,
        )
        validation.check_validation_freq(validation_freq)
        val_source = None
        if validation_data is None and validation_split:
            if not data_utils.is_array_like(x):
                raise ValueError(
                    "fit(validation_split=...) needs array data; with a DataLoader "
                    "or generator, pass validation_data instead."
                )
            batch = self._array_batches(
                x, y, sample_weight, class_weight, what, on_host=True
            )
            train, val = data_utils.train_validation_split(
                list(batch), validation_split
            )
            source = self._array_source(
                (train[0], train[1], train[2]),
                batch_size or 32,
                shuffle,
                steps_per_epoch,
            )
            val_source = self._array_source(
                (val[0], val[1], val[2]),
                validation_batch_size or batch_size or 32,
                False,
                validation_steps,
            )
        else:
            source = self._source(
                x,
                y,
                sample_weight,
                batch_size,
                shuffle,
                steps_per_epoch,
                what,
                class_weight,
            )
            if validation_data is not None:
                if data_utils.is_array_like(validation_data) and isinstance(
                    validation_data, (tuple, list)
                ):
                    vx, vy, vsw = data_utils.unpack_x_y_sample_weight(validation_data)
                    val_source = self._source(
                        vx,
                        vy,
                        vsw,
                        validation_batch_size or batch_size,
                        False,
                        validation_steps,
                        "fit(validation_data=...)",
                    )
                else:
                    val_source = self._source(
                        validation_data,
                        None,
                        None,
                        validation_batch_size or batch_size,
                        False,
                        validation_steps,
                        "fit(validation_data=...)",
                    )
        if isinstance(source, data_utils.ArrayBatches) and self._plan is None:
            self._make_plan((source.xs, source.ys, source.sws), what)
        if isinstance(source, data_utils.ArrayBatches):
            self._cast_targets(source)
        if isinstance(val_source, data_utils.ArrayBatches):
            self._cast_targets(val_source)
        validation.check_source(self, source, what)
        if validation_data is not None:
            validation.check_source(self, val_source, "fit(validation_data=...)")
        v = _verbosity(verbose)
        cbs = callbacks_mod.CallbackList(
            callbacks,
            add_history=True,
            add_progbar=v != 0,
            model=self,
            verbose=v,
            epochs=epochs,
            steps=source.steps,
        )
        return self._fit_loop(
            source, val_source, cbs, epochs, initial_epoch, validation_freq
        )

    def _cast_targets(self, source: data_utils.ArrayBatches) -> None:
        plan = self._plan
        if plan is not None:
            source.ys = [
                t if t is None or d is None or t.dtype == d else t.to(d)
                for t, d in zip(source.ys, plan.y_dtypes)
            ]

    def _fit_loop(
        self,
        source: Any,
        val_source: Any,
        cbs: Any,
        epochs: int,
        initial_epoch: int,
        validation_freq: Any,
    ) -> Any:
        custom = self._overridden("train_step")
        every = int(self._compile_args.get("steps_per_execution", 1))
        last_logs: dict[str, Any] = {}
        batch_logs = LazyLogs(lambda: self._loop_logs(custom, last_logs))
        wants_begin = cbs.wants("on_train_batch_begin")
        wants_end = distributed.agreed(cbs.wants("on_train_batch_end"))
        was_training = self.training
        self.stop_training = False
        self._initial_epoch = None
        if self._plan is not None:
            self._setup_jit(self._plan)
        self.train()
        epoch_logs: dict[str, Any] = {}
        try:
            cbs.on_train_begin()
            start = (
                self._initial_epoch
                if self._initial_epoch is not None
                else initial_epoch
            )
            for epoch in range(start, epochs):
                self.reset_metrics()
                cbs.on_epoch_begin(epoch)
                step = -1
                for step, batch in enumerate(distributed.epoch(self, source)):
                    if wants_begin and step % every == 0:
                        cbs.call_batch("on_train_batch_begin", step)
                    if custom:
                        with distributed.user_step(self):
                            last_logs = self.train_step(self._user_batch(batch))
                    else:
                        self._train_batch(*batch)
                    if wants_end and (step + 1) % every == 0:
                        distributed.refresh(batch_logs)
                        cbs.call_batch("on_train_batch_end", step, batch_logs)
                    if self.stop_training:
                        break
                if step < 0:
                    break  # the data ran out
                epoch_logs = self._loop_logs(custom, last_logs)
                if val_source is not None and self._should_validate(
                    epoch, validation_freq
                ):
                    val_logs = self._evaluate_loop(val_source, cbs, in_fit=True)
                    epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                    self.train()
                cbs.on_epoch_end(epoch, epoch_logs)
                if self.stop_training:
                    break
            cbs.on_train_end(epoch_logs)
        finally:
            self.train(was_training)
        return self.history

    def _loop_logs(self, custom: bool, returned: dict[str, Any]) -> dict[str, Any]:
        """The running logs as floats, the same on every process when parallel:
        what a custom step returned (averaged over processes), else the loss
        and metric states summed over processes."""
        if custom:
            return distributed.mean_logs(user_logs(returned))
        return self._read_logs()

    @staticmethod
    def _should_validate(epoch: int, freq: Any) -> bool:
        if isinstance(freq, int):
            return (epoch + 1) % freq == 0
        return epoch + 1 in freq

    # ------------------------------------------------------------------ evaluate
    def _evaluate_loop(
        self, source: Any, cbs: Any, in_fit: bool = False
    ) -> dict[str, Any]:
        custom = self._overridden("test_step")
        last: dict[str, Any] = {}
        logs = LazyLogs(lambda: self._loop_logs(custom, last))
        wants_begin = cbs.wants("on_test_batch_begin")
        wants_end = distributed.agreed(cbs.wants("on_test_batch_end"))
        self.reset_metrics()
        self.eval()
        cbs.on_test_begin()
        for step, batch in enumerate(distributed.epoch(self, source)):
            if wants_begin:
                cbs.call_batch("on_test_batch_begin", step)
            if custom:
                last = self.test_step(self._user_batch(batch))
            else:
                self._test_batch(*batch)
            if wants_end:
                distributed.refresh(logs)
                cbs.call_batch("on_test_batch_end", step, logs)
        result = self._loop_logs(custom, last)
        cbs.on_test_end(result)
        return result

    @guard.evaluating
    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: Any = "auto",
        sample_weight: Any = None,
        steps: int | None = None,
        callbacks: Any = None,
        return_dict: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Loss and metrics of the model on data, in batches, in inference mode.

        Args:
            x: Inputs (as for `fit`), or a loader/generator of batches.
            y: Targets (as for `fit`).
            batch_size: Samples per batch (32 when None).
            verbose: 0 silent, 1 progress bar, 2 one line, `'auto'`.
            sample_weight: Per-sample loss weights.
            steps: Number of batches (default: all).
            callbacks: Callbacks (their test hooks are called).
            return_dict: Return `{name: value}` instead of a list.
            **kwargs: Keras compatibility; none are supported.

        Returns:
            The loss alone when there is nothing else; otherwise
            `[loss, *output losses, *metrics]` (see `metrics_names`) or a dict.
        """
        if kwargs:
            raise TypeError(f"evaluate(): unexpected argument(s) {sorted(kwargs)}.")
        self._require_compiled("evaluate")
        validation.check_loop_args("evaluate", batch_size=batch_size, steps=steps)
        was_training = self.training
        source = self._source(x, y, sample_weight, batch_size, False, steps, "evaluate")
        if isinstance(source, data_utils.ArrayBatches):
            if self._plan is None:
                self._make_plan((source.xs, source.ys, source.sws), "evaluate")
            self._cast_targets(source)
        validation.check_source(self, source, "evaluate")
        v = _verbosity(verbose)
        cbs = callbacks_mod.CallbackList(
            callbacks,
            add_progbar=v != 0,
            model=self,
            verbose=v,
            epochs=1,
            steps=source.steps,
        )
        try:
            logs = self._evaluate_loop(source, cbs)
        finally:
            self.train(was_training)
        if return_dict:
            return logs
        order = [k for k in self._log_tensors() if k in logs]
        order += [k for k in logs if k not in order]
        values = [logs[k] for k in order]
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------------ batches
    @guard.training
    def train_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        class_weight: dict[Any, float] | None = None,
        return_dict: bool = False,
    ) -> Any:
        """One update on one batch; returns the running loss and metrics.

        As in Keras 3, the metrics accumulate across calls until `reset_metrics()`.
        """
        self._require_compiled("train_on_batch")
        batch = self._planned_batch(x, y, sample_weight, class_weight, "train_on_batch")
        validation.check_batch(self, batch, "train_on_batch")
        was_training = self.training
        self.train()
        try:
            if self._overridden("train_step"):
                self.train_step(self._user_batch(batch))
            else:
                self._train_batch(*batch)
        finally:
            self.train(was_training)
        return self._batch_result(return_dict)

    @guard.evaluating
    def test_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        return_dict: bool = False,
    ) -> Any:
        """Loss and metrics on one batch, without updating the weights."""
        self._require_compiled("test_on_batch")
        batch = self._planned_batch(x, y, sample_weight, None, "test_on_batch")
        validation.check_batch(self, batch, "test_on_batch")
        self.reset_metrics()
        self._test_batch(*batch)
        return self._batch_result(return_dict)

    # ------------------------------------------------------------------ predict
    def predict_on_batch(self, x: Any) -> Any:
        """Outputs for one batch, as NumPy arrays (one array, a list, or a dict)."""
        xs = self._prepare_x(x)
        with torch.inference_mode():
            out = self(xs, training=False)
        return tree.map_structure(_to_numpy, out)

    def predict(
        self,
        x: Any,
        batch_size: int | None = 32,
        verbose: Any = "auto",
        steps: int | None = None,
        callbacks: Any = None,
    ) -> Any:
        """Outputs for all samples of `x`, computed in batches, as NumPy arrays.

        Args:
            x: NumPy array or tensor; a list of them (one per input); a dict by
                input name; or a loader/generator of input batches.
            batch_size: Samples per batch (32 when None).
            verbose: 0 silent, 1 progress bar, 2 one line, 'auto'.
            steps: Number of batches to run; all by default.
            callbacks: Callbacks (their predict hooks are called).

        Returns:
            One array for a one-output model, a list for several, a dict for dict
            outputs.

        Raises:
            ValueError: wrong number of inputs, mismatched sample counts or a wrong
                feature size, naming the input.
        """
        validation.check_loop_args("predict", batch_size=batch_size, steps=steps)
        bs = batch_size or 32
        if data_utils.is_array_like(x) and distributed.predicts_shards(self):
            return distributed.predict(self, x, bs, verbose, steps, callbacks)
        custom = self._overridden("predict_step")
        direct: Any = None
        stream_to = None
        if data_utils.is_array_like(x):
            xs, stream_to = streaming.place(
                self._prepare_x(x, on_host=True), self._model_device()
            )
            n = data_utils.num_samples(xs, f"Model {self.name!r}.predict(x)")
            total: int | None = math.ceil(n / bs)
            if steps is not None:
                total = min(steps, math.ceil(n / bs))
        else:
            device = self._model_device()
            total = steps
            batches: Any = (
                data_utils.to_tensors(data_utils.unpack_x_y_sample_weight(b)[0], device)
                for b in data_utils.IterableBatches(x, lambda e: e, steps, bs).epoch()
            )
            if device.type != "cpu":
                batches = streaming.ahead(batches)
        v = _verbosity(verbose)
        cbs = callbacks_mod.CallbackList(callbacks, model=self, verbose=v, steps=total)
        bar = Progbar(total, verbose=v) if v else None
        if data_utils.is_array_like(x):
            if not custom and not cbs.wants("on_predict_batch_end"):
                direct = self._direct_program(xs)
            used = n if total is None else min(n, total * bs)
            pin = stream_to is not None and stream_to.type == "cuda"
            rows = streaming.rows
            if direct is not None:  # flat inputs, checked once for all batches
                batches = (
                    [rows(t, sl, pin) for t in direct[2]]
                    for sl in data_utils.batch_slices(used, bs)
                )
            else:

                def batch_of(sl: slice) -> Any:
                    return tree.map_structure(lambda t: rows(t, sl, pin), xs)

                batches = map(batch_of, data_utils.batch_slices(used, bs))
            if stream_to is not None:  # too large for the device: batch by batch
                batches = streaming.prefetch(batches, stream_to)
        chunks: list[Any] = []
        cbs.on_predict_begin()
        # Inference for every layer: those a custom layer's `call` calls without
        # `training=` too (Keras's call context), on the direct program as well.
        with torch.inference_mode(), training_context(False):
            for i, batch in enumerate(batches):
                if total is not None and i >= total:
                    break
                if cbs.wants("on_predict_batch_begin"):
                    cbs.call_batch("on_predict_batch_begin", i)
                if direct is not None:
                    out = direct[0](*batch, False)  # a tuple of the flat outputs
                elif custom:
                    # x itself, as Keras 3 (a list of inputs in a 1-tuple)
                    many = isinstance(batch, (list, tuple))
                    out = self.predict_step((batch,) if many else batch)
                else:
                    out = self(batch, training=False)
                chunks.append(out)
                if cbs.wants("on_predict_batch_end"):
                    cbs.call_batch("on_predict_batch_end", i, {"outputs": out})
                if bar is not None and (bar.due() or i + 1 == total):
                    bar.update(i + 1)
        if bar is not None:
            bar.update(len(chunks), finalize=True)
        cbs.on_predict_end()
        if not chunks:
            raise ValueError("predict(): the data gave no batches.")
        flat_chunks = [tree.flatten(c) for c in chunks]
        joined = [
            np.concatenate([c[i] for c in flat_chunks])  # strings (StringLookup invert)
            if isinstance(flat_chunks[0][i], np.ndarray)
            else torch.cat([c[i] for c in flat_chunks]).cpu().numpy()
            for i in range(len(flat_chunks[0]))
        ]
        if direct is not None:
            return direct[1](joined)
        return tree.pack_like(chunks[0], joined)

    def _direct_program(
        self, xs: Any
    ) -> tuple[FlatProgram, Callable[[list[Any]], Any], list[torch.Tensor]] | None:
        """`(program, pack, flat inputs)` to run batches without `Model.__call__`.

        The program is what `Model.__call__` runs in the end; calling it
        directly skips the per-batch input checks, structure walks and
        `nn.Module` dispatch (a third of `predict`'s time on the guide's MLP).
        Only for graph models without forward hooks and inputs without masks;
        None otherwise.
        """
        if any(getattr(t, "_keras_mask", None) is not None for t in tree.flatten(xs)):
            return None
        modules = torch.nn.modules.module
        if (
            self._forward_hooks
            or self._forward_pre_hooks
            or modules._global_forward_hooks
            or modules._global_forward_pre_hooks
        ):
            return None
        flat = self._flat_inputs_of(xs)  # builds a Sequential; checks every input
        found = self._predict_program()
        return None if found is None else (*found, flat)
