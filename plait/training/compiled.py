"""`compile` and what a compiled model offers per batch (the half of `Trainer` below the loops).

`Compiled` holds the configuration `compile` resolves and the Keras hooks a
subclass may override: `compute_loss`, `train_step`, `test_step`,
`predict_step`. `Trainer` (trainer.py) runs its loops on top and calls a hook
per batch only when a subclass replaced it (`_overridden`).
"""

from __future__ import annotations

from typing import Any

import torch

from plait.metrics.base import Metric
from plait.mixed_precision import loss_scale
from plait.optimizers import optimizers as optimizers_mod
from plait.training import compile_utils as cu
from plait.training import data as data_utils
from plait.training.steps import TrainingSteps, pythonify
from plait.utils import tree

__all__ = ["Compiled"]

_KERAS2_ONLY = {"sample_weight_mode", "target_tensors", "distribute", "options"}


class Compiled(TrainingSteps):
    """Mixin of `Trainer`: `compile`, the metrics, and the per-batch hooks."""

    compiled: bool

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

    def _overridden(self, hook: str) -> bool:
        return getattr(type(self), hook) is not getattr(Compiled, hook)

    def _user_batch(self, batch: data_utils.Batch) -> tuple[Any, Any, Any]:
        xs, ys, sws = batch
        x = xs[0] if len(xs) == 1 else list(xs)
        y = ys[0] if len(ys) == 1 else list(ys)
        sw = sws[0] if len(sws) == 1 else (None if all(s is None for s in sws) else sws)
        return x, y, sw

    def _batch_result(self, return_dict: bool) -> Any:
        logs = pythonify(self._log_tensors())
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values
