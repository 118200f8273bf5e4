"""`compile` and what a compiled model offers per batch (the half of `Trainer` below the loops).

`Compiled` holds the configuration `compile` resolves and the Keras hooks a
subclass may override: `compute_loss`, `train_step`, `test_step`,
`predict_step`. `Trainer` (trainer.py) runs its loops on top and calls a hook
per batch only when a subclass replaced it (`_overridden`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from plait.metrics.base import Metric
from plait.mixed_precision import loss_scale
from plait.optimizers import optimizers as optimizers_mod
from plait.training import compile_utils as cu
from plait.training import data as data_utils
from plait.training.steps import TrainingSteps, pythonify
from plait.utils import tree
from plait.utils.signatures import takes_keyword

__all__ = ["CompileMetrics", "Compiled", "user_logs"]

_KERAS2_ONLY = {"sample_weight_mode", "target_tensors", "distribute", "options"}


def user_logs(logs: Mapping[str, Any]) -> dict[str, Any]:
    """What a custom step returned, as floats: nested dicts (Keras's
    `compile_metrics`) are flattened into one level."""
    flat: dict[str, torch.Tensor] = {}

    def walk(values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            if isinstance(value, Mapping):
                walk(value)
            else:
                flat[key] = torch.as_tensor(value)

    walk(logs)
    return pythonify(flat)


class CompileMetrics(Metric):
    """The compiled metrics as one metric, as Keras 3's `compile_metrics`.

    `model.metrics` lists it after the `"loss"` tracker, so a custom step can
    update every compiled metric with `update_state(y, y_pred)`; `result()`
    is a dict by metric name, which the logs flatten.
    """

    def __init__(self, model: Compiled) -> None:
        super().__init__(name="compile_metrics")
        self._model = model

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Update every compiled metric from one batch (structured like the outputs)."""
        model = self._model
        names = model._known_output_names() or ["output"]
        what = "compile_metrics.update_state"
        ys = [
            None if t is None else torch.as_tensor(t)
            for t in data_utils.flat_targets(y_true, names, what)
        ]
        sws = data_utils.flat_weights(sample_weight, names, what)
        plan = model._plan or model._make_plan(([], ys, sws), what)
        preds = [torch.as_tensor(p).detach() for p in tree.flatten(y_pred)]
        for i in plan.metrics.needs_probs:
            out_loss = plan.out_losses[i]
            if out_loss is not None:
                preds[i] = out_loss.probabilities(preds[i])
        plan.metrics.update(ys, preds, sws)

    def result(self) -> Any:
        """`{name: value}` of every compiled metric."""
        plan = self._model._plan
        return {} if plan is None else plan.metrics.results()

    def reset_state(self) -> None:
        """Zero every compiled metric."""
        plan = self._model._plan
        if plan is not None:
            plan.metrics.reset()


class Compiled(TrainingSteps):
    """Mixin of `Trainer`: `compile`, the metrics, and the per-batch hooks."""

    compiled: bool
    _compile_metrics: CompileMetrics | None = None

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
            resolved = loss_scale.scale_for(self, resolved)
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
        if any(True for _ in self.parameters()):
            self._build_optimizer()

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise RuntimeError(
                f"Model {self.name!r}: call compile(optimizer, loss, ...) before "
                f"{what}()."
            )

    @property
    def metrics_names(self) -> list[str]:
        """Names of what `evaluate` returns, in order: loss, output losses, metrics."""
        return list(self._log_tensors()) if self._plan is not None else ["loss"]

    @property
    def metrics(self) -> list[Metric]:
        """As in Keras 3: the `"loss"` tracker, then the compiled metrics as one
        `CompileMetrics` (when `compile` was given metrics; neither before
        `compile`), then the metrics set as attributes of the model and of its
        layers (a custom `train_step`'s `self.tracker = metrics.Mean(...)`). A
        subclass may override it to list its own metrics: `fit` and `evaluate`
        reset them as they start each epoch or run.
        """
        found: list[Metric] = []
        if self.compiled:
            found.append(self._loss_tracker)
            args = self._compile_args
            if args.get("metrics") or args.get("weighted_metrics"):
                view = self._compile_metrics or CompileMetrics(self)
                self._compile_metrics = view
                found.append(view)
        for owner in self.modules():  # the model first, then its layers
            for key, value in vars(owner).items():
                if (
                    isinstance(value, Metric)
                    and not key.startswith("_")  # plait's own (the loss tracker)
                    and all(value is not m for m in found)
                ):
                    found.append(value)
        return found

    def compute_metrics(
        self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None
    ) -> dict[str, Any]:
        """Update the compiled metrics from one batch and return every metric's
        result, as Keras 3 (for a custom `train_step`)."""
        del x  # Keras compat: unused, as in Keras
        for metric in self.metrics:  # makes the compiled metrics' view
            if isinstance(metric, CompileMetrics):
                metric.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict[str, Any]:
        """`{name: value}` of every entry of `metrics` (the compiled metrics by
        their own names)."""
        found: dict[str, Any] = {}
        for metric in self.metrics:
            result = metric.result()
            if isinstance(result, dict):
                found.update(result)
            else:
                found[metric.name] = result
        return found

    def reset_metrics(self) -> None:
        """Zero the running loss, the compiled metrics and every `metrics` entry."""
        super().reset_metrics()
        for metric in self.metrics:
            metric.reset_state()

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
        extra = self._extra_losses(plan)
        if extra is not None:
            total = extra if total is None else total + extra
        return total if total is not None else torch.zeros(())

    def train_step(self, data: Any) -> dict[str, torch.Tensor]:
        """One training step on `data` = `(x, y, sample_weight)`; returns the logs.

        Override it to customise training; `fit` then calls it for every batch.
        """
        x, y, sw = data_utils.unpack_x_y_sample_weight(data)
        batch = self._planned_batch(x, y, sw, None, "train_step")
        self._train_batch(*batch)
        return self._log_tensors()

    def test_step(self, data: Any) -> dict[str, torch.Tensor]:
        """One evaluation step on `data` = `(x, y, sample_weight)`; returns the logs."""
        x, y, sw = data_utils.unpack_x_y_sample_weight(data)
        batch = self._planned_batch(x, y, sw, None, "test_step")
        self._test_batch(*batch)
        return self._log_tensors()

    def predict_step(self, data: Any) -> Any:
        """The model's outputs for one batch `x` (or `(x,)`)."""
        x, _, _ = data_utils.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _step_loss(
        self, plan: Any, batch: Any, outs: list[Any], masks: Any, training: bool
    ) -> tuple[torch.Tensor | None, list[torch.Tensor]]:
        """Keras compat: a model that overrides `compute_loss` (knowledge
        distillation) gets the step's `x`, `y`, `y_pred` and `sample_weight`
        and its result is the loss (`training=` only if it takes it)."""
        if not self._overridden("compute_loss"):
            return super()._step_loss(plan, batch, outs, masks, training)
        xs, ys, sws = batch

        def one(flat: list[Any]) -> Any:
            if all(t is None for t in flat):
                return None
            return flat[0] if len(flat) == 1 else list(flat)

        x = self._user_batch((xs, [None], [None]))
        x = x[0] if isinstance(x, tuple) else x
        kwargs: dict[str, Any] = {
            "x": x,
            "y": one(ys),
            "y_pred": one(outs),
            "sample_weight": one(sws),
        }
        if takes_keyword(self.compute_loss, "training"):
            kwargs["training"] = training
        total = self.compute_loss(**kwargs)
        return (None if total is None else torch.as_tensor(total)), []

    def _overridden(self, hook: str) -> bool:
        return getattr(type(self), hook) is not getattr(Compiled, hook)

    def _user_batch(self, batch: data_utils.Batch) -> Any:
        """The batch as a custom step receives it, as in Keras 3: `x` alone
        without targets (`(x,)` when `x` is a list of inputs, which would read
        as `(x, y)`), `(x, y)` without sample weights, `(x, y, sample_weight)`."""
        xs, ys, sws = batch
        x: Any = xs[0] if len(xs) == 1 else list(xs)
        struct, names = (
            getattr(self, "_x_struct", None),
            getattr(self, "input_names", None),
        )
        if isinstance(struct, dict) and names and sorted(struct) == sorted(names):
            x = dict(zip(names, xs))  # inputs given by name come back by name
        if all(t is None for t in ys):
            return (x,) if isinstance(x, list) else x
        y = ys[0] if len(ys) == 1 else list(ys)
        if all(s is None for s in sws):
            return x, y
        return x, y, sws[0] if len(sws) == 1 else list(sws)

    def _standardize_batch(
        self, x: Any, y: Any, sw: Any, what: str, on_host: bool = False
    ) -> data_utils.Batch:
        if self._known_output_names() is None and (
            self._overridden("train_step") or self._overridden("test_step")
        ):
            # A subclassed model with its own step need not be callable (a GAN):
            # the targets, not a probe call, tell how many outputs there are.
            n = len(y) if isinstance(y, (list, tuple)) else 1
            self._probed_names = (
                ["output"] if n == 1 else [f"output_{i + 1}" for i in range(n)]
            )
        return super()._standardize_batch(x, y, sw, what, on_host)

    def _batch_result(self, return_dict: bool) -> Any:
        logs = pythonify(self._log_tensors())
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values
