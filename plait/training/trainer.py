"""compile / fit / evaluate / predict, shared by every model (the `Model` mixin).

A training step is what a careful hand-written PyTorch loop does: zero the
gradients, run the model's generated forward program, sum the weighted losses,
`backward`, `optimizer.step()`. Data is converted to tensors on the model's
device once; an epoch is one `torch.randperm` and index slices of it. Losses and
metrics accumulate in device tensors and are read back only when the progress
bar redraws (a few times a second) and at the end of each epoch.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from plait.training import callbacks as callbacks_mod
from plait.training import compile_utils as cu
from plait.training import data as data_utils
from plait.training import optimizers as optimizers_mod
from plait.training import validation
from plait.training.metrics_base import Metric
from plait.training.progress import Progbar
from plait.training.steps import LazyLogs, Plan, TrainingSteps, pythonify
from plait.utils import tree

__all__ = ["Trainer"]

_KERAS2_ONLY = {"sample_weight_mode", "target_tensors", "distribute", "options"}


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
    return int(verbose)


class Trainer(TrainingSteps):
    """Mixin of `Model`: `compile`, `fit`, `evaluate`, `predict` and their hooks."""

    def __init__(self) -> None:
        self.compiled = False
        self.stop_training = False
        self.optimizer: Any = None
        self.history: Any = None
        self._compile_args: dict[str, Any] = {}
        self._plan: Plan | None = None
        self._initial_epoch: int | None = None

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: Any = None,
        loss_weights: Any = None,
        weighted_metrics: Any = None,
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
        jit_compile: bool | str = False,
        auto_scale_loss: bool = True,
        **kwargs: Any,
    ) -> None:
        """Configure training: optimizer, losses, metrics, per-output weights.

        Args:
            optimizer: A name (`"rmsprop"`, `"adam"`, ... with Keras's defaults), a
                `plait.optimizers` instance, or a `torch.optim.Optimizer`.
            loss: A loss name, class, instance or function `fn(y_true, y_pred)`
                applied to every output; a list (one per output); or a dict by
                output name (outputs left out are not trained).
            metrics: A list applied to every output, a list of lists (one per
                output), or a dict by output name. `"accuracy"` picks the right
                accuracy for the loss and shapes.
            loss_weights: A list (one per output) or a dict by output name
                (missing names weigh 1.0) scaling each output's loss in the total.
            weighted_metrics: Like `metrics`, but weighted by `sample_weight`.
            run_eagerly: Accepted for Keras compatibility (plait is always eager
                unless `jit_compile`).
            steps_per_execution: Batches between two calls of the batch callbacks.
            jit_compile: True compiles the whole train step (forward, loss,
                backward, update) into one `torch.compile` graph, once per
                batch shape (the last, partial batch of an epoch runs eagerly);
                models with recurrent layers compile the optimizer update only
                (see `plait.training.jit`). On failure plait warns and trains
                eagerly. Keras's `"auto"` means eager.
            auto_scale_loss: Under the `mixed_float16` policy, wrap the optimizer
                in a `plait.mixed_precision.LossScaleOptimizer` (as Keras does).

        Raises:
            ValueError: unknown names, or a list whose length is not the number of
                outputs.
            TypeError: unknown keyword arguments.

        Example:
            >>> import plait
            >>> from plait.layers import Dense, Input
            >>> inputs = Input(shape=(4,))
            >>> model = plait.Model(inputs, Dense(2, activation="softmax")(inputs))
            >>> model.compile(loss="categorical_crossentropy", metrics=["accuracy"])
            >>> model.compiled
            True
        """
        if kwargs:
            old = sorted(set(kwargs) & _KERAS2_ONLY)
            raise TypeError(
                f"compile(): unexpected argument(s) {sorted(kwargs)}"
                + (
                    f" ({old} are Keras 2 arguments that plait does not support)"
                    if old
                    else ""
                )
                + "."
            )
        if not isinstance(steps_per_execution, int) or steps_per_execution < 1:
            raise ValueError(
                "compile(steps_per_execution=...): expected a positive int, got "
                f"{steps_per_execution!r}."
            )
        resolved = optimizers_mod.get(optimizer)
        if auto_scale_loss:
            from plait.mixed_precision.loss_scale import scale_for

            resolved = scale_for(self, resolved)
        previous = self._compile_args
        self._compile_args = {
            "loss": loss,
            "metrics": metrics,
            "loss_weights": loss_weights,
            "weighted_metrics": weighted_metrics,
            "steps_per_execution": steps_per_execution,
            "jit_compile": jit_compile is True,  # Keras's "auto" means eager here
            "run_eagerly": run_eagerly,
        }
        try:
            names = self._known_output_names()
            if names is not None:
                self._expand(names)  # fail now on bad structure or names
            elif not isinstance(loss, (list, tuple, dict)) and loss is not None:
                cu.expand_losses(loss, ["output"])  # names come with the first batch
        except Exception:
            self._compile_args = previous  # a failed compile changes nothing
            raise
        self.optimizer = resolved
        self._plan = None
        self.compiled = True
        if any(True for _ in self.parameters()):  # type: ignore[attr-defined]
            self._build_optimizer()

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise RuntimeError(
                f"Model {self.name!r}: call compile(optimizer, loss, ...) before "  # type: ignore[attr-defined]
                f"{what}()."
            )

    @property
    def metrics_names(self) -> list[str]:
        """Names of what `evaluate` returns, in order: loss, output losses, metrics."""
        return list(self._log_tensors()) if self._plan is not None else ["loss"]

    @property
    def metrics(self) -> list[Metric]:
        """The compiled metric objects (after the first fit/evaluate batch)."""
        return [] if self._plan is None else self._plan.metrics.metrics

    # ------------------------------------------------------------------ hooks
    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> torch.Tensor:
        """The compiled (weighted) loss of `y_pred` against `y`, plus added losses.

        Args:
            x: Inputs (unused; Keras compatibility).
            y: Targets, structured like the outputs.
            y_pred: The model's outputs for the batch.
            sample_weight: Optional sample weights.
            training: Unused; Keras compatibility.
        """
        self._require_compiled("compute_loss")
        names = self._known_output_names() or ["output"]
        ys = data_utils.flat_targets(y, names, "compute_loss")
        sws = data_utils.flat_weights(sample_weight, names, "compute_loss")
        preds = tree.flatten(y_pred)
        plan = self._plan
        if plan is None:
            plan = self._make_plan(([], ys, sws), "compute_loss")
        total: torch.Tensor | None = None
        for o in plan.entries:  # predictions here are probabilities, not logits
            value = o.compiled_loss(ys[o.index], preds[o.index], sws[o.index])
            value = value * o.weight
            total = value if total is None else total + value
        extra = self._extra_losses(plan, clear=False)
        if extra is not None:
            total = extra if total is None else total + extra
        return total if total is not None else torch.zeros(())

    def train_step(self, data: Any) -> dict[str, torch.Tensor]:
        """One training step on `data` = `(x, y, sample_weight)`; returns the logs.

        Override it to customise training; `fit` then calls it for every batch.
        """
        x, y, sw = data_utils.unpack_x_y_sample_weight(data)
        batch = self._array_batches(x, y, sw, None, "train_step")
        if self._plan is None:
            self._make_plan(batch, "train_step")
        self._train_batch(*batch)
        return self._log_tensors()

    def test_step(self, data: Any) -> dict[str, torch.Tensor]:
        """One evaluation step on `data` = `(x, y, sample_weight)`; returns the logs."""
        x, y, sw = data_utils.unpack_x_y_sample_weight(data)
        batch = self._array_batches(x, y, sw, None, "test_step")
        if self._plan is None:
            self._make_plan(batch, "test_step")
        self._test_batch(*batch)
        return self._log_tensors()

    def predict_step(self, data: Any) -> Any:
        """The model's outputs for one batch `x` (or `(x,)`)."""
        x, _, _ = data_utils.unpack_x_y_sample_weight(data)
        return self(x, training=False)  # type: ignore[operator]

    def _overridden(self, hook: str) -> bool:
        return getattr(type(self), hook) is not getattr(Trainer, hook)

    # ------------------------------------------------------------------ fit
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
            batch = self._array_batches(x, y, sample_weight, class_weight, what)
            train, val = data_utils.train_validation_split(
                list(batch), validation_split
            )
            source = data_utils.ArrayBatches(
                train[0],
                train[1],
                train[2],
                batch_size=batch_size or 32,
                shuffle=shuffle,
                steps=steps_per_epoch,
            )
            val_source = data_utils.ArrayBatches(
                val[0],
                val[1],
                val[2],
                batch_size=validation_batch_size or batch_size or 32,
                steps=validation_steps,
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
        batch_logs = LazyLogs(
            lambda: pythonify(last_logs) if custom else self._read_logs()
        )
        wants_begin = cbs.wants("on_train_batch_begin")
        wants_end = cbs.wants("on_train_batch_end")
        was_training = self.training  # type: ignore[attr-defined]
        self.stop_training = False
        self._initial_epoch = None
        if self._plan is not None:
            self._setup_jit(self._plan)
        self.train()  # type: ignore[attr-defined]
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
                for step, batch in enumerate(source.epoch()):
                    if wants_begin and step % every == 0:
                        cbs.call_batch("on_train_batch_begin", step)
                    if custom:
                        last_logs = self.train_step(self._user_batch(batch))
                    else:
                        self._train_batch(*batch)
                    if wants_end and (step + 1) % every == 0:
                        batch_logs.stale = True
                        cbs.call_batch("on_train_batch_end", step, batch_logs)
                    if self.stop_training:
                        break
                if step < 0:
                    break  # the data ran out
                epoch_logs = pythonify(last_logs) if custom else self._read_logs()
                if val_source is not None and self._should_validate(
                    epoch, validation_freq
                ):
                    val_logs = self._evaluate_loop(val_source, cbs, in_fit=True)
                    epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                    self.train()  # type: ignore[attr-defined]
                cbs.on_epoch_end(epoch, epoch_logs)
                if self.stop_training:
                    break
            cbs.on_train_end(epoch_logs)
        finally:
            self.train(was_training)  # type: ignore[attr-defined]
        return self.history

    @staticmethod
    def _should_validate(epoch: int, freq: Any) -> bool:
        if isinstance(freq, int):
            return (epoch + 1) % freq == 0
        return epoch + 1 in freq

    def _user_batch(self, batch: data_utils.Batch) -> tuple[Any, Any, Any]:
        xs, ys, sws = batch
        x = xs[0] if len(xs) == 1 else list(xs)
        y = ys[0] if len(ys) == 1 else list(ys)
        sw = sws[0] if len(sws) == 1 else (None if all(s is None for s in sws) else sws)
        return x, y, sw

    # ------------------------------------------------------------------ evaluate
    def _evaluate_loop(
        self, source: Any, cbs: Any, in_fit: bool = False
    ) -> dict[str, Any]:
        custom = self._overridden("test_step")
        last: dict[str, Any] = {}
        logs = LazyLogs(lambda: pythonify(last) if custom else self._read_logs())
        wants_end = cbs.wants("on_test_batch_end")
        self.reset_metrics()
        self.eval()  # type: ignore[attr-defined]
        cbs.on_test_begin()
        for step, batch in enumerate(source.epoch()):
            if custom:
                last = self.test_step(self._user_batch(batch))
            else:
                self._test_batch(*batch)
            if wants_end:
                logs.stale = True
                cbs.call_batch("on_test_batch_end", step, logs)
        result = pythonify(last) if custom else self._read_logs()
        cbs.on_test_end(result)
        return result

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
        was_training = self.training  # type: ignore[attr-defined]
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
            self.train(was_training)  # type: ignore[attr-defined]
        if return_dict:
            return logs
        order = [k for k in self._log_tensors() if k in logs]
        order += [k for k in logs if k not in order]
        values = [logs[k] for k in order]
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------------ batches
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
        batch = self._array_batches(x, y, sample_weight, class_weight, "train_on_batch")
        if self._plan is None:
            self._make_plan(batch, "train_on_batch")
        validation.check_batch(self, batch, "train_on_batch")
        was_training = self.training  # type: ignore[attr-defined]
        self.train()  # type: ignore[attr-defined]
        try:
            if self._overridden("train_step"):
                self.train_step(self._user_batch(batch))
            else:
                self._train_batch(*batch)
        finally:
            self.train(was_training)  # type: ignore[attr-defined]
        return self._batch_result(return_dict)

    def test_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        return_dict: bool = False,
    ) -> Any:
        """Loss and metrics on one batch, without updating the weights."""
        self._require_compiled("test_on_batch")
        batch = self._array_batches(x, y, sample_weight, None, "test_on_batch")
        if self._plan is None:
            self._make_plan(batch, "test_on_batch")
        validation.check_batch(self, batch, "test_on_batch")
        self.reset_metrics()
        self._test_batch(*batch)
        return self._batch_result(return_dict)

    def _batch_result(self, return_dict: bool) -> Any:
        logs = pythonify(self._log_tensors())
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------------ predict
    def predict_on_batch(self, x: Any) -> Any:
        """Outputs for one batch, as NumPy arrays (one array, a list, or a dict)."""
        xs = self._prepare_x(x)
        with torch.inference_mode():
            out = self(xs, training=False)  # type: ignore[operator]
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
        custom = self._overridden("predict_step")
        direct: Any = None
        if data_utils.is_array_like(x):
            xs = self._prepare_x(x)
            n = data_utils.num_samples(xs, f"Model {self.name!r}.predict(x)")  # type: ignore[attr-defined]
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
        v = _verbosity(verbose)
        cbs = callbacks_mod.CallbackList(callbacks, model=self, verbose=v, steps=total)
        bar = Progbar(total, verbose=v) if v else None
        if data_utils.is_array_like(x):
            if not custom and not cbs.wants("on_predict_batch_end"):
                direct = self._direct_program(xs)
            if direct is not None:  # flat inputs, checked once for all batches
                batches = (
                    [t[sl] for t in direct[1]] for sl in data_utils.batch_slices(n, bs)
                )
            else:
                batches = (
                    tree.map_structure(lambda t, sl=sl: t[sl], xs)  # type: ignore[misc]
                    for sl in data_utils.batch_slices(n, bs)
                )
        chunks: list[Any] = []
        cbs.on_predict_begin()
        with torch.inference_mode():
            for i, batch in enumerate(batches):
                if total is not None and i >= total:
                    break
                if direct is not None:
                    out = direct[0](*batch, False)  # a tuple of the flat outputs
                elif custom:
                    out = self.predict_step((batch,))
                else:
                    out = self(batch, training=False)  # type: ignore[operator]
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
            torch.cat([c[i] for c in flat_chunks]).cpu().numpy()
            for i in range(len(flat_chunks[0]))
        ]
        if direct is not None:
            return self._pack_outputs(joined)  # type: ignore[attr-defined]
        return tree.pack_like(chunks[0], joined)

    def _direct_program(self, xs: Any) -> tuple[Any, list[torch.Tensor]] | None:
        """`(forward program, flat inputs)` to run batches without `Model.__call__`.

        The program is what `Model.__call__` runs in the end; calling it
        directly skips the per-batch input checks, structure walks and
        `nn.Module` dispatch (a third of `predict`'s time on the guide's MLP).
        Only for graph models without forward hooks and inputs without masks;
        None otherwise.
        """
        if not hasattr(self, "_program") or any(
            getattr(t, "_keras_mask", None) is not None for t in tree.flatten(xs)
        ):
            return None
        modules = torch.nn.modules.module
        if (
            self._forward_hooks  # type: ignore[attr-defined]
            or self._forward_pre_hooks  # type: ignore[attr-defined]
            or modules._global_forward_hooks
            or modules._global_forward_pre_hooks
        ):
            return None
        flat = self._flat_inputs_of(xs)  # builds a Sequential; checks every input
        if getattr(self, "_flat_outputs", None) is None:
            return None
        return self._program(False), flat  # type: ignore[attr-defined]
