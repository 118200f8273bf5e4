"""Expand `compile()`'s loss, loss_weights and metrics per output, then apply them.

The rules (DESIGN.md, Training), one set for every argument:

- **loss**: one loss (name, class, instance or function) broadcasts to every
  output; a list or tuple maps by position and must have one entry per output; a
  dict maps by output name: outputs it leaves out are not trained (with a
  warning), unknown names are an error listing the valid ones.
- **loss_weights**: None (all 1.0); a list (one per output); a dict by output
  name (missing names weigh 1.0, unknown names are an error).
- **metrics** / **weighted_metrics**: a flat list applies to every output; a
  list of lists maps by position; a dict maps by output name (a value may be a
  single metric or a list). `"accuracy"`/`"acc"` become binary, categorical or
  sparse categorical accuracy from the loss and the shapes, as in Keras.

`OutputLoss` and `CompiledMetrics` then compute the weighted loss and update the
metrics of one batch with tensor ops only: nothing is read back to the host
until `results()` is asked for.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from plait import activations
from plait.losses import losses as losses_mod
from plait.losses.losses import Loss
from plait.metrics import metrics as metrics_mod
from plait.metrics.base import Mean, Metric
from plait.training.tracker import MeanTracker
from plait.utils.signatures import takes_keyword

__all__ = [
    "CompiledMetrics",
    "MeanTracker",
    "OutputLoss",
    "check_target_shape",
    "expand_loss_weights",
    "expand_losses",
    "expand_metrics",
]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _shape(shape: Sequence[int | None]) -> str:
    return (
        "("
        + ", ".join("None" if d is None else str(d) for d in shape)
        + (",)" if len(shape) == 1 else ")")
    )


def _check_names(given: Sequence[Any], output_names: list[str], what: str) -> None:
    unknown = [k for k in given if k not in output_names]
    if unknown:
        raise ValueError(
            f"compile({what}=...): unknown output name(s) {unknown}; the model's "
            f"outputs are {output_names}."
        )


def expand_losses(loss: Any, output_names: list[str]) -> list[Loss | None]:
    """One `Loss` (or None: not trained) per output, by the rules above.

    Raises:
        ValueError: a list of the wrong length, unknown names, unknown losses.

    Example:
        >>> [l.name for l in expand_losses("mse", ["a", "b"])]
        ['mean_squared_error', 'mean_squared_error']
    """
    n = len(output_names)
    if isinstance(loss, dict):
        _check_names(list(loss), output_names, "loss")
        missing = [name for name in output_names if loss.get(name) is None]
        if missing:
            warnings.warn(
                f"compile(loss=...): output(s) {missing} have no loss and will not "
                "be trained.",
                UserWarning,
                stacklevel=3,
            )
        return [losses_mod.get(loss.get(name)) for name in output_names]
    if isinstance(loss, (list, tuple)):
        if len(loss) != n:
            raise ValueError(
                f"compile(loss=...): expected a list of {n} losses, one per output "
                f"{output_names}, got {len(loss)}. Give one loss to apply it to every "
                "output, or a dict by output name."
            )
        return [losses_mod.get(item) for item in loss]
    if loss is None:
        return [None] * n
    resolved = losses_mod.get(loss)
    return [resolved] + [copy.copy(resolved) for _ in range(n - 1)]


def expand_loss_weights(loss_weights: Any, output_names: list[str]) -> list[float]:
    """One float weight per output, by the rules above.

    Raises:
        ValueError: a list of the wrong length or unknown names.
        TypeError: a value that is not a number, list or dict.

    Example:
        >>> expand_loss_weights({"b": 0.2}, ["a", "b"])
        [1.0, 0.2]
    """
    n = len(output_names)
    if loss_weights is None:
        return [1.0] * n
    if isinstance(loss_weights, dict):
        _check_names(list(loss_weights), output_names, "loss_weights")
        return [float(loss_weights.get(name, 1.0)) for name in output_names]
    if isinstance(loss_weights, (list, tuple)):
        if len(loss_weights) != n:
            raise ValueError(
                f"compile(loss_weights=...): expected a list of {n} weights, one per "
                f"output {output_names}, got {len(loss_weights)}."
            )
        return [float(w) for w in loss_weights]
    if isinstance(loss_weights, (int, float)) and n == 1:
        return [float(loss_weights)]
    raise TypeError(
        "compile(loss_weights=...): expected None, a list or a dict by output name, "
        f"got {type(loss_weights).__name__} {loss_weights!r}."
    )


def expand_metrics(metrics: Any, output_names: list[str], what: str) -> list[list[Any]]:
    """One list of metric identifiers per output, by the rules above.

    Raises:
        ValueError: unknown names, or a list of lists of the wrong length.
        TypeError: a value that is not a list or a dict.

    Example:
        >>> expand_metrics(["accuracy"], ["a", "b"], "metrics")
        [['accuracy'], ['accuracy']]
    """
    n = len(output_names)
    if metrics is None:
        return [[] for _ in range(n)]
    if isinstance(metrics, dict):
        _check_names(list(metrics), output_names, what)
        out = []
        for name in output_names:
            value = metrics.get(name) or []
            out.append(list(value) if isinstance(value, (list, tuple)) else [value])
        return out
    if not isinstance(metrics, (list, tuple)):
        raise TypeError(
            f"compile({what}=...): expected a list of metrics, a list of lists (one "
            f"per output) or a dict by output name, got {type(metrics).__name__}."
        )
    nested = [isinstance(m, (list, tuple)) for m in metrics]
    if metrics and all(nested) and n > 1:
        if len(metrics) != n:
            raise ValueError(
                f"compile({what}=...): expected {n} lists of metrics, one per output "
                f"{output_names}, got {len(metrics)}."
            )
        return [list(m) for m in metrics]
    if any(nested):
        if n == 1 and len(metrics) == 1:
            return [list(metrics[0])]
        raise ValueError(
            f"compile({what}=...): expected a flat list of metrics (applied to every "
            f"output) or one list per output {output_names}, got a mix."
        )
    return [list(metrics) for _ in range(n)]


def _is_accuracy(identifier: Any) -> bool:
    return isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc")


def check_metric_names(per_output: list[list[Any]]) -> None:
    """Resolve every named metric once so that unknown names fail in `compile`."""
    for items in per_output:
        for item in items:
            if not _is_accuracy(item):
                metrics_mod.get(item)


# ---------------------------------------------------------------- targets


def _loss_fn(loss: Loss) -> Any:
    return getattr(loss, "fn", None)


def check_target_shape(
    output: str,
    loss: Loss,
    y_shape: tuple[int, ...],
    pred_shape: Sequence[int | None],
) -> None:
    """Raise a clear error when targets cannot fit an output's loss.

    Only built-in losses are checked; a custom loss decides for itself.

    Raises:
        ValueError: naming the output, the loss, both shapes and the fix.

    Example:
        >>> check_target_shape("out", losses_mod.get("mse"), (4, 2), (None, 3))
        Traceback (most recent call last):
        ...
        ValueError: Output 'out' (loss 'mean_squared_error'): expected targets of shape (None, 3), got (4, 2).
    """
    fn = _loss_fn(loss)
    if fn is None or fn not in losses_mod._FUNCTION_CLASSES:
        return
    name = fn.__name__
    where = f"Output {output!r} (loss {name!r})"
    pred = tuple(pred_shape)
    fits = len(y_shape) == len(pred) and all(
        p is None or p == y for p, y in zip(pred[1:], y_shape[1:])
    )
    column = (
        (  # (n,) targets for a (None, 1) output, or (n, 1) for (None,)
            len(pred) == len(y_shape) + 1
            and pred[-1] == 1
            and all(p is None or p == y for p, y in zip(pred[1:-1], y_shape[1:]))
        )
        or (len(y_shape) == len(pred) + 1 and y_shape[-1] == 1)
    )
    if fn is losses_mod.sparse_categorical_crossentropy:
        ids = pred[:-1]
        ok = (
            len(y_shape) == len(ids) or (len(y_shape) == len(pred) and y_shape[-1] == 1)
        ) and all(p is None or p == y for p, y in zip(ids[1:], y_shape[1:]))
        if not ok:
            hint = (
                " These look like one-hot targets: use loss='categorical_crossentropy'."
                if fits
                else ""
            )
            raise ValueError(
                f"{where}: expected integer class ids of shape {_shape(ids)} (or "
                f"{_shape((*ids, 1))}) for an output of shape {_shape(pred)}, got "
                f"{_shape(y_shape)}.{hint}"
            )
        return
    classes = pred[-1] if pred else None
    if (
        fn in (losses_mod.categorical_crossentropy, losses_mod.categorical_hinge)
        and not fits
        and classes not in (None, 1)
        and (
            len(y_shape) == len(pred) - 1
            or (len(y_shape) == len(pred) and y_shape[-1] == 1)
        )
    ):
        raise ValueError(
            f"{where}: expected one-hot targets of shape {_shape(pred)}, got integer "
            f"labels of shape {_shape(y_shape)}. Use "
            "loss='sparse_categorical_crossentropy', or convert the labels with "
            f"plait.utils.to_categorical(y, {classes})."
        )
    if not fits and not column:
        raise ValueError(
            f"{where}: expected targets of shape {_shape(pred)}, got {_shape(y_shape)}."
        )


# ---------------------------------------------------------------- losses


def _default_reduction(loss: Loss) -> bool:
    return loss.reduction == "sum_over_batch_size" and loss.dtype is None


def _fast_loss(loss: Loss) -> LossFn | None:
    """A one-kernel version of a built-in loss with default settings, if any.

    Used for batches without sample weights or masks; it gives the same number
    as `loss(y_true, y_pred)` (tested), without the general path's checks.
    """
    if not _default_reduction(loss):
        return None
    kind = type(loss)
    cfg = getattr(loss, "_fn_kwargs", {})
    plain = cfg.get("label_smoothing", 0.0) == 0.0 and cfg.get("axis", -1) == -1
    if kind is losses_mod.CategoricalCrossentropy and plain and cfg["from_logits"]:

        def cce(y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
            if z.dim() != 2 or y.shape != z.shape:
                return loss(y, z)
            return F.cross_entropy(z, y if y.dtype == z.dtype else y.to(z.dtype))

        return cce
    if (
        kind is losses_mod.SparseCategoricalCrossentropy
        and cfg.get("axis", -1) == -1
        and cfg["from_logits"]
        and cfg.get("ignore_class") is None
    ):

        def scce(y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
            if z.dim() != 2 or y.dim() > 2 or y.is_floating_point():
                return loss(y, z)
            ids = y.reshape(-1) if y.dim() == 2 else y
            return F.cross_entropy(z, ids.long())  # int32 labels too (Keras's)

        return scce
    simple: dict[type, Callable[..., torch.Tensor]] = {
        losses_mod.MeanSquaredError: F.mse_loss,
        losses_mod.MeanAbsoluteError: F.l1_loss,
    }
    if kind is losses_mod.BinaryCrossentropy and plain and cfg["from_logits"]:
        simple[kind] = F.binary_cross_entropy_with_logits
    torch_fn = simple.get(kind)
    if torch_fn is None:
        return None

    def elementwise(y: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        if y.shape != p.shape:
            if y.dim() + 1 == p.dim() and p.shape[-1] == 1:
                y = y.unsqueeze(-1)
            else:
                return loss(y, p)
        return torch_fn(p, y if y.dtype == p.dtype else y.to(p.dtype))

    return elementwise


class OutputLoss:
    """The loss of one output: which, how weighted, and from logits or not.

    Args:
        name: The output's name.
        index: Its position among the model's flat outputs.
        loss: The loss as compiled.
        weight: Its weight in the total.
        activation: `softmax` or `sigmoid` when the loss is computed from the
            output's pre-activation logits (then `loss` is replaced by its
            `from_logits=True` variant); None otherwise.
    """

    def __init__(
        self,
        name: str,
        index: int,
        loss: Loss,
        weight: float,
        activation: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        self.name, self.index, self.weight = name, index, weight
        self.compiled_loss = loss
        self.activation = activation
        logits_loss = losses_mod.from_logits_variant(loss) if activation else None
        self.loss: Loss = logits_loss if logits_loss is not None else loss
        if logits_loss is None:
            self.activation = None
        self._fast = _fast_loss(self.loss)
        # A Loss subclass whose own `__call__` takes no `mask` (Keras's
        # signature) gets the mask as `y_pred._keras_mask`, as in Keras.
        self._takes_mask = takes_keyword(type(self.loss).__call__, "mask")

    def __call__(
        self,
        y_true: torch.Tensor,
        y_pred: torch.Tensor,
        sample_weight: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The loss of one batch (a scalar tensor), before `weight`."""
        if sample_weight is None and mask is None and self._fast is not None:
            return self._fast(y_true, y_pred)
        if self._takes_mask:
            return self.loss(y_true, y_pred, sample_weight, mask=mask)
        if mask is not None:
            y_pred._keras_mask = mask  # type: ignore[attr-defined]
        return self.loss(y_true, y_pred, sample_weight)

    def probabilities(self, y_pred: torch.Tensor) -> torch.Tensor:
        """What the model outputs: the activation of the logits, if taken."""
        return y_pred if self.activation is None else self.activation(y_pred)


def logits_activation(loss: Loss | None, layer: Any) -> Any:
    """`softmax`/`sigmoid` when `layer` ends in it and `loss` is the matching CE."""
    if loss is None or not hasattr(layer, "_pre_activation"):
        return None
    act = getattr(layer, "activation", None)
    fn = _loss_fn(loss)
    if getattr(loss, "_fn_kwargs", {}).get("from_logits", True):
        return None
    categorical = (
        losses_mod.categorical_crossentropy,
        losses_mod.sparse_categorical_crossentropy,
    )
    if act is activations.softmax and fn in categorical:
        return act
    if act is activations.sigmoid and fn is losses_mod.binary_crossentropy:
        return act
    return None


# ---------------------------------------------------------------- metrics


def _argmax_fast(metric: Metric) -> str | None:
    """Which fast update applies to `metric`: 'categorical', 'sparse', 'binary'."""
    kind = type(metric)
    if kind is metrics_mod.CategoricalAccuracy:
        return "categorical"
    if kind is metrics_mod.SparseCategoricalAccuracy:
        return "sparse"
    if kind is metrics_mod.BinaryAccuracy:
        return "binary"
    return None


class _Slot:
    """One metric on one output, with its fast path and a host-side count."""

    def __init__(self, metric: Metric, index: int, weighted: bool) -> None:
        self.metric, self.index, self.weighted = metric, index, weighted
        self.fast = _argmax_fast(metric) if isinstance(metric, Mean) else None
        # Argmax metrics give the same result on logits as on probabilities.
        self.needs_probs = self.fast not in ("categorical", "sparse")
        self.pending = 0

    def update(
        self,
        y: torch.Tensor,
        p: torch.Tensor,
        sw: torch.Tensor | None,
        mask: torch.Tensor | None = None,
    ) -> None:
        sw = sw if self.weighted else None
        if mask is not None:  # Keras compat: masked entries weigh 0 in metrics
            m = mask.to(p.dtype)
            if sw is not None:
                sw = sw.reshape(*sw.shape, *(1,) * (m.dim() - sw.dim())) * m
            else:
                sw = m
        fast = self.fast
        if fast is not None and sw is None:
            hit: torch.Tensor | None = None
            if fast == "categorical" and p.dim() == 2 and y.shape == p.shape:
                hit = p.argmax(-1) == y.argmax(-1)
            elif fast == "sparse" and p.dim() == 2 and y.dim() <= 2:
                hit = p.argmax(-1) == (y.reshape(-1) if y.dim() == 2 else y)
            elif fast == "binary" and p.dim() == 2 and p.shape[-1] == 1:
                threshold = getattr(self.metric, "_fn_kwargs", {}).get("threshold", 0.5)
                labels = y if y.dim() == 2 else y.unsqueeze(-1)
                hit = (p > threshold).to(labels.dtype) == labels
            if hit is not None:
                self.metric.state("total", p).add_(hit.sum())
                self.pending += p.shape[0]
                return
        self.metric._place(p)
        self.metric.update_state(y, p, sample_weight=sw)

    def flush(self) -> None:
        if self.pending:
            self.metric.state("count").add_(self.pending)
            self.pending = 0


class CompiledMetrics:
    """The metrics of every output: naming, fast updates, results.

    Args:
        per_output: Metric identifiers per output (from `expand_metrics`).
        weighted_per_output: The same for `weighted_metrics`.
        output_names: The model's output names.
        out_losses: The `OutputLoss` of each output (None: no loss).
        pred_shapes: The model's output shapes (None where unknown).
        y_shapes: Target shapes of the first batch (None where absent).
    """

    def __init__(
        self,
        per_output: list[list[Any]],
        weighted_per_output: list[list[Any]],
        output_names: list[str],
        out_losses: list[OutputLoss | None],
        pred_shapes: list[Any],
        y_shapes: list[Any],
    ) -> None:
        self.slots: list[_Slot] = []
        multi = len(output_names) > 1
        names: set[str] = set()
        for weighted, table in ((False, per_output), (True, weighted_per_output)):
            for i, items in enumerate(table):
                for item in items:
                    metric = self._resolve(
                        item, out_losses[i], pred_shapes[i], y_shapes[i]
                    )
                    base = metric.name
                    full = f"{output_names[i]}_{base}" if multi else base
                    if weighted and full in names:
                        full = (
                            f"{output_names[i]}_weighted_{base}"
                            if multi
                            else f"weighted_{base}"
                        )
                    metric.name = full
                    names.add(full)
                    self.slots.append(_Slot(metric, i, weighted))
        self.needs_probs = {s.index for s in self.slots if s.needs_probs}

    @staticmethod
    def _resolve(item: Any, out_loss: OutputLoss | None, pred: Any, y: Any) -> Metric:
        if _is_accuracy(item):
            loss = out_loss.compiled_loss if out_loss is not None else None
            pred_shape = tuple(pred) if pred is not None else ()
            return metrics_mod.resolve_accuracy(item, loss, pred_shape, y)
        metric = metrics_mod.get(item)
        if metric is None:
            raise ValueError("compile(metrics=...): got None in the list of metrics.")
        if isinstance(item, Metric):
            metric = copy.deepcopy(item)  # one state per output
        return metric

    @property
    def metrics(self) -> list[Metric]:
        """The metric objects, in log order."""
        return [s.metric for s in self.slots]

    def update(
        self,
        ys: list[Any],
        preds: list[torch.Tensor],
        sws: list[Any],
        masks: list[Any] | None = None,
    ) -> None:
        """Add one batch; `preds` are what each output returns (probabilities).

        `masks` (one per output, None where there is none) weigh out masked
        entries, as Keras does.
        """
        for slot in self.slots:
            i = slot.index
            y = ys[i]
            if y is not None:
                slot.update(y, preds[i], sws[i], masks[i] if masks else None)

    def reset(self) -> None:
        """Zero every metric's state."""
        for slot in self.slots:
            slot.pending = 0
            slot.metric.reset_state()

    def results(self) -> dict[str, torch.Tensor]:
        """Every metric's result as a device tensor, by log name."""
        out = {}
        for slot in self.slots:
            slot.flush()
            value = slot.metric.result()
            if isinstance(value, torch.nn.Parameter):  # Keras's `var.value`
                value = value.detach().clone()  # not the live variable
            out[slot.metric.name] = value
        return out
