"""The training step and what it needs: data standardization, the plan, logs.

`TrainingSteps` is the half of the `Trainer` mixin that runs batches: it turns
user data into flat device tensors (one per model input and output), builds
the `Plan` of a compiled model once the first batch shows the shapes, and runs
a train or test step with no host synchronisation. `Trainer` (trainer.py) adds
the public loops on top: `fit`, `evaluate`, `predict`.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from plait.distribution.sync import own_gradients
from plait.dtype_policies import autocast as amp
from plait.training import compile_utils as cu
from plait.training import data as data_utils
from plait.training import streaming, validation
from plait.training.contract import FlatProgram, ModelContract, StepLayer
from plait.training.logs import LazyLogs
from plait.training.placement import Placement
from plait.types import Shape
from plait.utils import guard, tree

__all__ = ["LazyLogs", "Plan", "TrainingSteps", "pythonify"]


def pythonify(values: Mapping[str, torch.Tensor]) -> dict[str, Any]:
    """Device tensors -> floats, with one synchronisation for all the scalars."""
    scalars = {k: v for k, v in values.items() if v.dim() == 0}
    out: dict[str, Any] = {}
    if scalars:
        if len({v.device for v in scalars.values()}) == 1:
            floats = torch.stack([v.float() for v in scalars.values()]).tolist()
        else:
            floats = [float(v) for v in scalars.values()]
        out.update(zip(scalars, floats))
    for k, v in values.items():
        if k not in out:
            out[k] = v.detach().cpu().numpy()
    return out


def _numbers_as_array(x: Any) -> Any:
    """A (nested) list or tuple of Python numbers, or of strings, as one array; else `x`."""
    if isinstance(x, (list, tuple)) and x:
        leaves = tree.flatten(x)
        if all(isinstance(v, (int, float)) for v in leaves) or all(
            isinstance(v, (str, bytes)) for v in leaves
        ):
            return np.asarray(x)
    return x


WeightFn = tuple[torch.nn.Parameter, Callable[..., Any], Any]
"""`(weight, regularizer or constraint, layout or None)`."""


@dataclasses.dataclass(frozen=True)
class Plan:
    """What a compiled model's step needs, fixed once data shapes are known.

    `program` is the model's generated forward (graph models; None: the step
    calls the model, rebuilding the inputs' structure `x_struct`). The
    trackers and metrics inside accumulate; the plan itself never changes
    except for `train_fn`, set once by `compile(jit_compile=True)`.
    """

    n_out: int
    out_losses: tuple[cu.OutputLoss | None, ...]
    entries: tuple[cu.OutputLoss, ...]  # the outputs with a loss
    trackers: tuple[cu.MeanTracker | None, ...]
    metrics: cu.CompiledMetrics
    y_dtypes: tuple[torch.dtype | None, ...]
    layers: tuple[StepLayer, ...]
    regularizers: tuple[WeightFn, ...]
    constraints: tuple[WeightFn, ...]
    program: FlatProgram | None = None
    with_masks: bool = False
    x_struct: Any = None
    loss_tracker: cu.MeanTracker = dataclasses.field(
        default_factory=lambda: cu.MeanTracker("loss")
    )
    train_fn: Callable[..., Any] | None = None
    shard: Any = None  # the data parallel Replica (training/distributed.py)


def _weight_functions(layers: Sequence[StepLayer], kind: str) -> tuple[WeightFn, ...]:
    """`(param, fn, layout)` for each regularized or constrained weight, once.

    Regularizers and constraints see weights in Keras layout, like in Keras;
    `layout` is the layer's `(to_keras, from_keras)` (None when stored as Keras's).
    """
    from plait import constraints, regularizers

    resolve = regularizers.get if kind == "reg" else constraints.get
    out: list[WeightFn] = []
    seen = set()
    for layer in layers:
        for p, fn in layer._regularizers if kind == "reg" else layer._constraints:
            resolved = None if id(p) in seen or fn is None else resolve(fn)
            if resolved is not None:
                seen.add(id(p))
                out.append((p, resolved, layer._layout(p)))
    return tuple(out)


class TrainingSteps(Placement, ModelContract):
    """Data standardization, the step plan, and the train/test steps."""

    _compile_args: dict[str, Any]
    _plan: Plan | None
    _loss_tracker: cu.MeanTracker
    optimizer: Any

    def _expand(self, names: list[str]) -> dict[str, Any]:
        args = self._compile_args
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loss_list = cu.expand_losses(args["loss"], names)
        expanded: dict[str, Any] = {
            "names": names,
            "losses": loss_list,
            "weights": cu.expand_loss_weights(args["loss_weights"], names),
            "metrics": cu.expand_metrics(args["metrics"], names, "metrics"),
            "weighted": cu.expand_metrics(
                args["weighted_metrics"], names, "weighted_metrics"
            ),
        }
        if "expanded" not in args:  # warn once, at compile time
            for w in caught:
                warnings.warn(w.message, w.category, stacklevel=4)
        cu.check_metric_names(expanded["metrics"])
        cu.check_metric_names(expanded["weighted"])
        args["expanded"] = expanded
        return expanded

    def _build_optimizer(self) -> None:
        """Bind the optimizer to the weights (again if the first batch made some;
        the same weights keep its state)."""
        if self.optimizer is not None:
            if not self.optimizer.built:
                self._place()  # optimizer state is made where the weights are
            self.optimizer.build(list(self.parameters()))

    # ------------------------------------------------------------------ data
    def _prepare_x(self, x: Any, on_host: bool = False) -> Any:
        """Inputs as tensors: on the model's device, or (`on_host`) where they are."""
        device = None if on_host else self._model_device()
        # Nested Python lists of numbers are one array per input.
        if self._n_inputs() == 1:
            x = _numbers_as_array(x)
        elif isinstance(x, (list, tuple)):
            x = [_numbers_as_array(v) for v in x]
        if isinstance(x, dict):
            x = {k: _numbers_as_array(v) for k, v in x.items()}
            return {k: data_utils.to_tensors(v, device) for k, v in x.items()}
        return data_utils.to_tensors(x, device)

    def _standardize_batch(
        self, x: Any, y: Any, sw: Any, what: str, on_host: bool = False
    ) -> data_utils.Batch:
        """`(x, y, sample_weight)` as the user gives them -> flat device tensors.

        With `on_host`, NumPy data becomes host tensors and tensors stay where
        they are (`_array_source` then decides what goes to the device).
        """
        device = None if on_host else self._model_device()
        x = self._prepare_x(x, on_host)
        xs = self._flat_inputs_of(x)
        if self._plan is None or self._plan.x_struct is None:
            # Only the nesting (to rebuild inputs for subclassed models), not the data.
            self._x_struct = tree.map_structure(lambda _: None, x)
        names = self._output_names_now(xs)
        ys = [
            data_utils.to_tensors(t, device)
            for t in data_utils.flat_targets(y, names, what)
        ]
        sws = [
            None if t is None else data_utils.to_tensors(t, device).float()
            for t in data_utils.flat_weights(sw, names, what)
        ]
        # Tensors made in inference mode cannot take part in a training step.
        xs = [guard.usable(t) for t in xs]
        ys = [None if t is None else guard.usable(t) for t in ys]
        sws = [None if t is None else guard.usable(t) for t in sws]
        plan = self._plan
        if plan is not None:
            ys = [
                t if t is None or d is None or t.dtype == d else t.to(d)
                for t, d in zip(ys, plan.y_dtypes)
            ]
        return xs, ys, sws

    def _output_names_now(self, xs: list[torch.Tensor]) -> list[str]:
        names = self._known_output_names()
        if names is not None:
            return names
        device = self._model_device()
        with torch.no_grad():  # a subclassed model: look at one output
            firsts = [t[:1].to(device) for t in xs]
            out = self(tree.pack_like(self._x_struct, firsts), training=False)
        n = len(tree.flatten(out))
        names = ["output"] if n == 1 else [f"output_{i + 1}" for i in range(n)]
        self._probed_names = names
        self._probe_shapes = [(None, *t.shape[1:]) for t in tree.flatten(out)]
        return names

    def _array_batches(
        self,
        x: Any,
        y: Any,
        sw: Any,
        class_weight: Any,
        what: str,
        on_host: bool = False,
    ) -> data_utils.Batch:
        batch = self._standardize_batch(x, y, sw, what, on_host)
        data_utils.check_counts(batch, what)
        if class_weight is not None:
            xs, ys, sws = batch
            if len(ys) != 1:
                raise ValueError(
                    f"{what}: class_weight is only supported for models with one "
                    "output; pass sample_weight per output instead."
                )
            cw = data_utils.class_weight_to_sample_weight(ys[0], class_weight)
            sws = [cw if sws[0] is None else sws[0] * cw]
            batch = (xs, ys, sws)
        return batch

    def _planned_batch(
        self, x: Any, y: Any, sw: Any, class_weight: Any, what: str
    ) -> data_utils.Batch:
        """`_array_batches`, then the plan made from it if there is none yet."""
        batch = self._array_batches(x, y, sw, class_weight, what)
        if self._plan is None:
            self._make_plan(batch, what)
        return batch

    def _source(
        self,
        x: Any,
        y: Any,
        sw: Any,
        batch_size: int | None,
        shuffle: bool | str,
        steps: int | None,
        what: str,
        class_weight: Any = None,
    ) -> Any:
        bs = batch_size or 32
        if data_utils.is_array_like(x):
            if x is None:
                raise ValueError(f"{what}: expected data `x`, got None.")
            batch = self._array_batches(x, y, sw, class_weight, what, on_host=True)
            return self._array_source(batch, bs, shuffle, steps)
        if y is not None or sw is not None:
            raise ValueError(
                f"{what}: `y` and `sample_weight` must be None when `x` is a "
                f"DataLoader, Dataset or generator (got y={type(y).__name__}); "
                "yield (x, y) or (x, y, sample_weight) from it instead."
            )

        def standardize(element: tuple[Any, Any, Any]) -> data_utils.Batch:
            bx, by, bsw = element
            batch = self._planned_batch(bx, by, bsw, class_weight, what)
            return batch

        on_cpu = self._model_device().type == "cpu"
        return data_utils.IterableBatches(
            x, standardize, steps, bs, shuffle, ahead=not on_cpu
        )

    def _array_source(
        self,
        batch: data_utils.Batch,
        batch_size: int,
        shuffle: bool | str,
        steps: int | None,
    ) -> data_utils.ArrayBatches:
        """Batches of host or device tensors: whole on the device when they fit."""
        placed, stream_to = streaming.place(batch, self._model_device())
        xs, ys, sws = placed
        return data_utils.ArrayBatches(
            xs, ys, sws, batch_size, shuffle, steps, stream_to=stream_to
        )

    # ------------------------------------------------------------------ plan
    def _make_plan(self, batch: data_utils.Batch, what: str) -> Plan:
        """Build the step plan from the first batch; checks targets against losses."""
        xs, ys, _ = batch
        names = self._output_names_now(xs)
        ex = self._expand(names)
        self._build_optimizer()
        n = len(names)
        shapes = self._output_shapes()
        pred_shapes: list[Shape | None] = [None] * n if shapes is None else [*shapes]
        layers = self._output_producers() or [None] * n
        validation.check_targets(what, names, ex["losses"], ys, pred_shapes)
        out_losses = tuple(
            None
            if loss is None
            else cu.OutputLoss(
                name, i, loss, weight, cu.logits_activation(loss, layers[i])
            )
            for i, (name, loss, weight) in enumerate(
                zip(names, ex["losses"], ex["weights"])
            )
        )
        entries = tuple(o for o in out_losses if o is not None)
        logits = frozenset(o.index for o in entries if o.activation is not None)
        program = self._training_program(logits)
        y_shapes = [None if y is None else tuple(y.shape) for y in ys]
        loss_layers = tuple(self._loss_layers())
        plan = Plan(
            n_out=n,
            out_losses=out_losses,
            entries=entries,
            trackers=tuple(
                cu.MeanTracker(f"{o.name}_loss") if o is not None and n > 1 else None
                for o in out_losses
            ),
            metrics=cu.CompiledMetrics(
                ex["metrics"],
                ex["weighted"],
                names,
                list(out_losses),
                pred_shapes,
                y_shapes,
            ),
            y_dtypes=tuple(self._target_dtype(o) for o in out_losses),
            layers=loss_layers,
            regularizers=_weight_functions(loss_layers, "reg"),
            constraints=_weight_functions(loss_layers, "con"),
            program=None if program is None else program[0],
            with_masks=program is not None and program[1],
            x_struct=self._x_struct if program is None else None,
            loss_tracker=self._loss_tracker,  # `model.metrics[0]`, kept across plans
        )
        self._plan = plan
        self._setup_jit(plan)
        return self._the_plan()

    @staticmethod
    def _target_dtype(out: cu.OutputLoss | None) -> torch.dtype | None:
        if out is None:
            return None
        fn = getattr(out.loss, "fn", None)
        if fn is cu.losses_mod.sparse_categorical_crossentropy:
            return torch.int64
        if fn in cu.losses_mod._FUNCTION_CLASSES:
            return torch.get_default_dtype()
        return None

    # ------------------------------------------------------------------ steps
    def _the_plan(self) -> Plan:
        if self._plan is None:
            raise RuntimeError("internal: the step plan is built before any step.")
        return self._plan

    def _forward(self, plan: Plan, xs: list[torch.Tensor], training: bool) -> Any:
        if training and plan.shard is not None:
            return plan.shard(xs)  # DDP or FSDP around _local_forward
        return self._local_forward(plan, xs, training)

    def _local_forward(self, plan: Plan, xs: list[torch.Tensor], training: bool) -> Any:
        if plan.program is not None:
            result = plan.program(*xs, training)
            n = plan.n_out
            outs = amp.float32_outputs(list(result[:n]))  # losses see float32
            return outs, (list(result[n:]) if plan.with_masks else None)
        out = self(tree.pack_like(plan.x_struct, xs), training=training)
        flat = tree.flatten(out)
        masks = [getattr(o, "_keras_mask", None) for o in flat]
        return amp.float32_outputs(flat), masks

    def _total_loss(
        self, plan: Plan, outs: list[Any], masks: Any, ys: list[Any], sws: list[Any]
    ) -> tuple[torch.Tensor | None, list[torch.Tensor]]:
        """`(sum of weight * loss + added losses, [each output's unweighted loss])`."""
        total: torch.Tensor | None = None
        values = []
        for o in plan.entries:
            i = o.index
            value = o(ys[i], outs[i], sws[i], masks[i] if masks else None)
            values.append(value)  # reported unweighted, as Keras does
            if o.weight != 1.0:
                value = value * o.weight
            total = value if total is None else total + value
        extra = self._extra_losses(plan)
        if extra is not None:
            total = extra if total is None else total + extra
        return total, values

    def _extra_losses(self, plan: Plan) -> torch.Tensor | None:
        """Weight regularization plus the `add_loss` terms of this step, summed.

        A step starts with no terms (`_call_as_entry` resets them), so terms from
        an earlier call or from shape inference never leak in; they stay readable
        in `model.losses` until the next call, as in Keras.
        """
        extra = [
            fn(p if lay is None else lay[0](p)) for p, fn, lay in plan.regularizers
        ]
        for layer in plan.layers:
            extra += layer._added_losses
        if not extra:
            return None
        return torch.stack([torch.as_tensor(e).sum() for e in extra]).sum()

    def _core(self, xs: list[Any], ys: list[Any], sws: list[Any]) -> Any:
        """Forward, loss, backward, update: the part `jit_compile` compiles."""
        plan = self._the_plan()
        self.optimizer.zero_grad(set_to_none=True)
        outs, masks = self._forward(plan, xs, True)
        total, values = self._step_loss(plan, (xs, ys, sws), outs, masks, True)
        if total is None:
            raise ValueError(
                f"Model {self.name!r}: nothing to train: compile(loss=...) gave no loss "
                "and the model adds none."
            )
        if not total.requires_grad:  # Keras warns and reports the loss
            warnings.warn(
                f"Model {self.name!r}: the model does not have any trainable "
                "weights (none reaches the loss); training computes the loss and "
                "metrics but updates nothing.",
                UserWarning,
                stacklevel=2,
            )
            return total, values, outs, masks
        scale = getattr(self.optimizer, "scale_loss", None)  # mixed_float16
        (total if scale is None else scale(total)).backward()
        self.optimizer.step()
        return total, values, outs, masks

    def _record(
        self,
        plan: Plan,
        total: torch.Tensor | None,
        values: list[torch.Tensor],
        outs: list[torch.Tensor],
        masks: list[Any] | None,
        ys: list[Any],
        sws: list[Any],
    ) -> None:
        if plan.shard is not None and plan.shard.empty:
            return  # a data parallel stand-in row (training/distributed.py)
        n = int(outs[0].shape[0]) if outs and outs[0].dim() else 1
        if total is not None:
            plan.loss_tracker.update(total, n)
        for o, v in zip(plan.entries, values):
            tracker = plan.trackers[o.index]
            if tracker is not None:
                tracker.update(v, n)
        if plan.metrics.slots:
            preds = list(outs)
            for i in plan.metrics.needs_probs:
                out_loss = plan.out_losses[i]
                if out_loss is not None:
                    preds[i] = out_loss.probabilities(preds[i])
            plan.metrics.update(ys, preds, sws, masks)

    def _train_batch(self, xs: list[Any], ys: list[Any], sws: list[Any]) -> None:
        plan = self._the_plan()
        with guard.HELD, own_gradients():  # Ctrl+C waits for the whole update
            step = plan.train_fn or self._core
            total, values, outs, masks = self._call_as_entry(step, xs, ys, sws)
            with torch.no_grad():  # bookkeeping: no graph, no detach per tensor
                for p, project, lay in plan.constraints:
                    if lay is None:
                        p.copy_(project(p))
                    else:
                        p.copy_(lay[1](project(lay[0](p))))
                self._record(plan, total, values, outs, masks, ys, sws)

    def _test_batch(self, xs: list[Any], ys: list[Any], sws: list[Any]) -> None:
        plan = self._the_plan()
        with torch.no_grad():
            outs, masks, total, values = self._call_as_entry(
                self._test_forward, plan, xs, ys, sws
            )
            self._record(plan, total, values, outs, masks, ys, sws)

    def _test_forward(
        self, plan: Plan, xs: list[Any], ys: list[Any], sws: list[Any]
    ) -> tuple[Any, Any, torch.Tensor | None, list[torch.Tensor]]:
        outs, masks = self._forward(plan, xs, False)
        total, values = self._step_loss(plan, (xs, ys, sws), outs, masks, False)
        return outs, masks, total, values

    def _step_loss(
        self, plan: Plan, batch: Any, outs: list[Any], masks: Any, training: bool
    ) -> tuple[torch.Tensor | None, list[torch.Tensor]]:
        """A step's loss: the compiled one (`Compiled` calls an override of
        `compute_loss` instead). `batch` is the step's `(xs, ys, sws)`."""
        _, ys, sws = batch
        return self._total_loss(plan, outs, masks, ys, sws)

    def _setup_jit(self, plan: Plan) -> None:
        """`compile(jit_compile=True)`: the compiled step (see `plait.training.jit`)."""
        if not self._compile_args.get("jit_compile") or plan.train_fn is not None:
            return
        from plait.training.jit import JitStep

        self._plan = dataclasses.replace(plan, train_fn=JitStep(self))

    # ------------------------------------------------------------------ logs
    def _log_tensors(self) -> dict[str, torch.Tensor]:
        plan = self._plan
        if plan is None:
            return {}
        values = {"loss": plan.loss_tracker.result()}
        for t in plan.trackers:
            if t is not None:
                values[t.name] = t.result()
        values.update(plan.metrics.results())
        return values

    def _read_logs(self) -> dict[str, Any]:
        """The logs as floats, loss and metric states summed over processes."""
        from plait.training import distributed

        logs = pythonify(distributed.global_log_tensors(self))
        return {k: logs[k] for k in sorted(logs)}

    def reset_metrics(self) -> None:
        """Zero the running loss and every metric."""
        plan = self._plan
        if plan is None:
            return
        plan.loss_tracker.reset()
        for t in plan.trackers:
            if t is not None:
                t.reset()
        plan.metrics.reset()
