"""Confusion-matrix metrics: Precision, Recall, AUC, the TP/FP/TN/FN counts.

Counts at many thresholds come from one histogram per batch instead of a
`(thresholds, samples)` comparison matrix: each prediction is bucketed by
`searchsorted` (the number of thresholds strictly below it), weights are summed
per bucket with `index_add_`, and a reversed cumulative sum gives, for every
threshold, the weight of predictions above it. O(samples + thresholds) memory,
no host synchronisation, and the same counts as Keras's `y_pred > threshold`.
The F-scores, which count per class, are in `plait.metrics.fscore`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from plait.losses.functions import TensorLike, _same_rank
from plait.metrics.base import Metric

__all__ = [
    "AUC",
    "FalseNegatives",
    "FalsePositives",
    "Precision",
    "Recall",
    "TrueNegatives",
    "TruePositives",
]

NEG_INF = -1e10  # Keras compat: the threshold used with `top_k`
EPSILON = 1e-7


def _parse_thresholds(
    thresholds: float | list[float] | None, default: float, owner: str
) -> list[float]:
    if thresholds is None:
        return [default]
    values = [thresholds] if isinstance(thresholds, (int, float)) else list(thresholds)
    bad = [t for t in values if not isinstance(t, (int, float)) or not 0.0 <= t <= 1.0]
    if bad or not values:
        raise ValueError(
            f"{owner}: expected `thresholds` to be floats in [0, 1], got "
            f"thresholds={thresholds!r}."
        )
    return [float(t) for t in values]


def _divide_no_nan(x: Tensor, y: Tensor) -> Tensor:
    return torch.where(y == 0, torch.zeros_like(x), x / torch.where(y == 0, 1.0, y))


def _filter_top_k(x: Tensor, k: int) -> Tensor:
    """Keeps the `k` largest values on the last axis, the rest become NEG_INF."""
    top = x.topk(min(k, x.shape[-1]), dim=-1).indices
    keep = torch.zeros_like(x, dtype=torch.bool).scatter_(-1, top, True)
    return torch.where(keep, x, torch.full_like(x, NEG_INF))


def confusion_counts(
    metric: Metric,
    y_true: TensorLike,
    y_pred: TensorLike,
    thresholds: Tensor,
    sample_weight: TensorLike | None = None,
    top_k: int | None = None,
    class_id: int | None = None,
    multi_label: bool = False,
    label_weights: Tensor | None = None,
) -> dict[str, Tensor]:
    """Weighted TP/FP/TN/FN of one batch at every threshold.

    Args:
        metric: The metric, for its device and dtype.
        y_true: Labels; nonzero means positive.
        y_pred: Scores; positive at threshold `t` when `y_pred > t`.
        thresholds: Sorted 1-D tensor `(T,)` on the metric's device.
        sample_weight: Broadcastable to `y_pred` after Keras's rank rules.
        top_k: Only the `top_k` largest scores per sample can be positive.
        class_id: Only this class (last axis) counts.
        multi_label: Keep the last axis `(labels)` separate instead of
            flattening every entry into one binary problem.
        label_weights: `(labels,)` weights, applied when flattening.

    Returns:
        `{"tp", "fp", "tn", "fn"}`, each `(T,)`, or `(T, labels)` if multi_label.
    """
    pred = metric._input(y_pred).to(metric.dtype)
    true = metric._input(y_true, pred).to(metric.dtype)
    pred, true = _same_rank(pred, true)
    weight = None
    if sample_weight is not None:
        weight = metric._input(sample_weight, pred).to(metric.dtype).unsqueeze(-1)
        _, weight = _same_rank(true, weight, expand_rank_1=False)
    if top_k is not None:
        pred = _filter_top_k(pred, top_k)
    if class_id is not None:
        if pred.ndim < 2:
            raise ValueError(
                f"{type(metric).__name__}: with class_id, expected y_pred of shape "
                f"(num_samples, num_classes), got shape {tuple(pred.shape)}."
            )
        if weight is not None and weight.ndim >= 1 and weight.shape[-1] > 1:
            weight = weight[..., class_id, None]  # per-class weights
        true, pred = true[..., class_id, None], pred[..., class_id, None]
    if true.shape != pred.shape:
        raise ValueError(
            f"{type(metric).__name__}: expected y_true and y_pred of the same "
            f"shape, got y_true.shape={tuple(true.shape)} and "
            f"y_pred.shape={tuple(pred.shape)}."
        )
    w = torch.ones_like(pred) if weight is None else _broadcast(metric, weight, pred)
    if label_weights is not None and not multi_label:
        w = w * label_weights
    num_labels = pred.shape[-1] if multi_label else 1
    pred, w = pred.reshape(-1, num_labels), w.reshape(-1, num_labels)  # (N, labels)
    positive = (true != 0).reshape(-1, num_labels)
    # Bucket i holds predictions above thresholds[:i] and not above thresholds[i:].
    bucket = torch.searchsorted(thresholds, pred.contiguous())  # (N, labels)
    flat = (bucket * num_labels + torch.arange(num_labels, device=pred.device)).reshape(
        -1
    )
    size = (thresholds.numel() + 1) * num_labels
    counts = {}
    for key, mask in (("pos", positive), ("neg", ~positive)):
        hist = torch.zeros(size, dtype=metric.dtype, device=pred.device)
        hist.index_add_(0, flat, (w * mask).reshape(-1))
        above = hist.reshape(-1, num_labels).flip(0).cumsum(0).flip(0)  # (T+1, labels)
        counts[key + "_above"], counts[key + "_total"] = above[1:], above[0]
    out = {
        "tp": counts["pos_above"],
        "fn": counts["pos_total"] - counts["pos_above"],
        "fp": counts["neg_above"],
        "tn": counts["neg_total"] - counts["neg_above"],
    }
    return out if multi_label else {k: v[:, 0] for k, v in out.items()}


def _broadcast(metric: Metric, weight: Tensor, like: Tensor) -> Tensor:
    try:
        return weight.broadcast_to(like.shape)
    except RuntimeError as err:
        raise ValueError(
            f"{type(metric).__name__}: expected sample_weight broadcastable to "
            f"y_pred.shape={tuple(like.shape)}, got sample_weight.shape="
            f"{tuple(weight.shape)}."
        ) from err


class _ThresholdMetric(Metric):
    """Accumulates some of TP/FP/TN/FN at a list of thresholds."""

    _counts: tuple[str, ...] = ()

    def __init__(
        self,
        thresholds: float | list[float] | None = None,
        top_k: int | None = None,
        class_id: int | None = None,
        name: str | None = None,
        dtype: str | torch.dtype | None = None,
    ) -> None:
        super().__init__(dtype=dtype, name=name)
        self.init_thresholds = (
            list(thresholds) if isinstance(thresholds, tuple) else thresholds
        )
        self.top_k, self.class_id = top_k, class_id
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = _parse_thresholds(thresholds, default, type(self).__name__)
        self._order = sorted(
            range(len(self.thresholds)), key=self.thresholds.__getitem__
        )
        self._unsort = [float(self._order.index(i)) for i in range(len(self._order))]
        for key in self._counts:
            self.add_state(key, (len(self.thresholds),))

    def update_state(
        self,
        y_true: TensorLike,
        y_pred: TensorLike,
        sample_weight: TensorLike | None = None,
    ) -> None:
        """Adds the batch's weighted counts at every threshold."""
        like = self.state(
            self._counts[0], y_pred if isinstance(y_pred, Tensor) else None
        )
        ordered = [self.thresholds[i] for i in self._order]
        counts = confusion_counts(
            self,
            y_true,
            y_pred,
            self._constant("thresholds", ordered, like),
            sample_weight,
            top_k=self.top_k,
            class_id=self.class_id,
        )
        unsorted = self._order != sorted(self._order)
        for key in self._counts:
            value = counts[key]
            if unsorted:  # back to the order the user gave
                value = value[self._constant("unsort", self._unsort, like).long()]
            self.state(key).add_(value)

    def _scalar(self, value: Tensor) -> Tensor:
        return value[0] if len(self.thresholds) == 1 else value

    def result(self) -> Tensor:
        """`tp / (tp + other)` at each threshold, `other` the second count
        (`fp` for precision, `fn` for recall); a scalar for one threshold."""
        tp, other = (self.state(key) for key in self._counts)
        return self._scalar(_divide_no_nan(tp, tp + other))

    def get_config(self) -> dict[str, Any]:
        """Returns the config with the thresholds given to the constructor."""
        extra = {"thresholds": self.init_thresholds, "top_k": self.top_k}
        return {**super().get_config(), **extra, "class_id": self.class_id}


class Precision(_ThresholdMetric):
    """Precision `tp / (tp + fp)` of binary decisions `y_pred > threshold`.

    Args:
        thresholds: A float or list of floats in [0, 1]; with a list, `result()`
            is a vector with one precision per threshold. Defaults to 0.5 (or to
            "any score" when `top_k` is set).
        top_k: Only the `top_k` highest scores per sample are positive.
        class_id: Only this class (last axis) is evaluated.
        name: Defaults to `"precision"`.
        dtype: See `Metric`.

    Example:
        >>> m = Precision()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> m.result()
        tensor(0.6667)
    """

    _counts = ("tp", "fp")


class Recall(_ThresholdMetric):
    """Recall `tp / (tp + fn)` of binary decisions `y_pred > threshold`.

    Args:
        thresholds, top_k, class_id, dtype: As for `Precision`.
        name: Defaults to `"recall"`.

    Example:
        >>> Recall()([0, 1, 1, 1], [1, 0, 1, 1])
        tensor(0.6667)
    """

    _counts = ("tp", "fn")


class _Count(_ThresholdMetric):
    """A weighted count of one confusion-matrix cell."""

    def __init__(
        self,
        thresholds: float | list[float] | None = None,
        name: str | None = None,
        dtype: str | torch.dtype | None = None,
    ) -> None:
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)

    def result(self) -> Tensor:
        """The count at each threshold (a scalar for one threshold)."""
        return self._scalar(self.state(self._counts[0]).clone())

    def get_config(self) -> dict[str, Any]:
        """Returns name, dtype and thresholds."""
        return {**Metric.get_config(self), "thresholds": self.init_thresholds}


def _count_metric(class_name: str, cell: str, doc: str, example: str) -> type[_Count]:
    """A `_Count` of one cell (`"tp"`, ...); every example counts 2."""
    namespace = {
        "__doc__": f"""{doc}

    Example:
        >>> {class_name}()({example})
        tensor(2.)
    """,
        "__module__": __name__,
        "__qualname__": class_name,
        "_counts": (cell,),
    }
    return type(class_name, (_Count,), namespace)


TruePositives = _count_metric(
    "TruePositives",
    "tp",
    "Weighted count of positives predicted positive (`y_pred > threshold`).",
    "[0, 1, 1, 1], [1, 0, 1, 1]",
)
FalsePositives = _count_metric(
    "FalsePositives",
    "fp",
    "Weighted count of negatives predicted positive.",
    "[0, 1, 0, 0], [0, 0, 1, 1]",
)
TrueNegatives = _count_metric(
    "TrueNegatives",
    "tn",
    "Weighted count of negatives predicted negative.",
    "[0, 1, 0, 0], [1, 1, 0, 0]",
)
FalseNegatives = _count_metric(
    "FalseNegatives",
    "fn",
    "Weighted count of positives predicted negative.",
    "[0, 1, 1, 1], [0, 1, 0, 0]",
)


class AUC(Metric):
    """Area under the ROC or precision-recall curve, by a Riemann sum over thresholds.

    Args:
        num_thresholds: Number of thresholds (> 1): evenly spaced in [0, 1], the
            end ones moved just outside it.
        curve: `"ROC"` or `"PR"`.
        summation_method: `"interpolation"` (trapezoids for ROC, Davis &
            Goadrich interpolation for PR), `"minoring"` or `"majoring"`.
        name: Defaults to `"auc"`.
        dtype: See `Metric`.
        thresholds: Explicit thresholds in [0, 1]; overrides `num_thresholds`.
        multi_label: Compute one AUC per label (last axis) and average them,
            instead of flattening all labels into one binary problem.
        num_labels: Number of labels when `multi_label` (else from the data).
        label_weights: Per-label weights: the average's weights when
            `multi_label`, else weights of each label's entries.
        from_logits: Whether `y_pred` holds logits (a sigmoid is applied).

    Example:
        >>> m = AUC(num_thresholds=3)
        >>> m.update_state([0, 0, 1, 1], [0.0, 0.5, 0.3, 0.9])
        >>> m.result()
        tensor(0.7500)
    """

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str | None = None,
        dtype: str | torch.dtype | None = None,
        thresholds: list[float] | None = None,
        multi_label: bool = False,
        num_labels: int | None = None,
        label_weights: list[float] | None = None,
        from_logits: bool = False,
    ) -> None:
        super().__init__(dtype=dtype, name=name)
        self.curve = str(curve).upper()
        if self.curve not in ("ROC", "PR"):
            raise ValueError(
                f"AUC: expected `curve` to be 'ROC' or 'PR', got curve={curve!r}."
            )
        self.summation_method = str(summation_method).lower()
        if self.summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(
                "AUC: expected `summation_method` to be 'interpolation', 'minoring' "
                f"or 'majoring', got summation_method={summation_method!r}."
            )
        self._init_thresholds = thresholds
        if thresholds is not None:
            inner = sorted(_parse_thresholds(thresholds, 0.5, "AUC"))
            self.num_thresholds = len(inner) + 2
        else:
            if not isinstance(num_thresholds, int) or num_thresholds <= 1:
                raise ValueError(
                    "AUC: expected `num_thresholds` to be an int > 1, got "
                    f"num_thresholds={num_thresholds!r}."
                )
            self.num_thresholds = num_thresholds
            step = 1.0 / (num_thresholds - 1)
            inner = [(i + 1) * step for i in range(num_thresholds - 2)]
        # Keras compat: end points just outside [0, 1] catch predictions of 0 and 1.
        self.thresholds = [0.0 - EPSILON, *inner, 1.0 + EPSILON]
        # Keras compat: with evenly spaced thresholds Keras buckets the scores,
        # which clips them to [0, 1] (a score of -0.5 counts as 0).
        gaps = np.diff([0.0, *inner, 1.0])
        self._clip = bool(np.allclose(gaps, gaps[0]))
        if num_labels is not None and not multi_label:
            raise ValueError(
                "AUC: `num_labels` is needed only when `multi_label=True`."
            )
        self.multi_label, self.num_labels = multi_label, num_labels
        self.label_weights = None if label_weights is None else list(label_weights)
        self.from_logits = from_logits
        if not multi_label or num_labels is not None:
            self._build(num_labels)

    def _build(self, num_labels: int | None) -> None:
        shape = (
            (self.num_thresholds,)
            if num_labels is None
            else (self.num_thresholds, num_labels)
        )
        for key in ("tp", "fp", "tn", "fn"):
            self.add_state(key, shape)
        self._num_labels = num_labels

    def update_state(
        self,
        y_true: TensorLike,
        y_pred: TensorLike,
        sample_weight: TensorLike | None = None,
    ) -> None:
        """Adds the batch's weighted counts at every threshold."""
        pred = self._input(y_pred)
        if self.multi_label and "tp" not in self._state_shapes:
            if pred.ndim != 2:
                raise ValueError(
                    "AUC: with multi_label=True, expected y_pred of rank 2, got "
                    f"shape {tuple(pred.shape)}."
                )
            self._build(pred.shape[1])
        if self.from_logits:
            pred = torch.sigmoid(pred)
        elif self._clip:
            pred = pred.clamp(0.0, 1.0)
        tp = self.state("tp", pred)
        thresholds = self._constant("thresholds", self.thresholds, tp)
        label_weights = None
        if self.label_weights is not None and not self.multi_label:
            label_weights = self._constant("label_weights", self.label_weights, tp)
        counts = confusion_counts(
            self,
            y_true,
            pred,
            thresholds,
            sample_weight,
            multi_label=self.multi_label,
            label_weights=label_weights,
        )
        for key, value in counts.items():
            self.state(key).add_(value)

    def _average(self, by_threshold: Tensor) -> Tensor:
        """Sums over thresholds, then averages labels (weighted) if multi_label."""
        area = by_threshold.sum(dim=0)
        if not self.multi_label:
            return area
        if self.label_weights is None:
            return area.mean()
        weights = torch.tensor(self.label_weights, dtype=area.dtype, device=area.device)
        return _divide_no_nan((area * weights).sum(), weights.sum())

    def _interpolate_pr_auc(self) -> Tensor:
        """PR AUC with precision interpolated as in Davis & Goadrich (2006).

        TP and P = TP + FP vary linearly between thresholds, so precision over
        an interval integrates in closed form (Keras's `interpolate_pr_auc`).
        """
        tp, fp, fn = self.state("tp"), self.state("fp"), self.state("fn")
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, dp.clamp(min=0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = torch.where(
            both, _divide_no_nan(p[:-1], p[1:].clamp(min=0)), torch.ones_like(p[1:])
        )
        increment = _divide_no_nan(
            slope * (dtp + intercept * torch.log(ratio)), (tp[1:] + fn[1:]).clamp(min=0)
        )
        return self._average(increment)

    def result(self) -> Tensor:
        """The area under the curve, in [0, 1]."""
        if "tp" not in self._state_shapes:  # multi_label, before any data
            return torch.zeros((), dtype=self.dtype, device=self.device)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp, tn, fn = (self.state(k) for k in ("tp", "fp", "tn", "fn"))
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        return self._average((x[:-1] - x[1:]) * heights)

    def get_config(self) -> dict[str, Any]:
        """Returns the config (explicit thresholds only when given)."""
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": self.label_weights,
            "from_logits": self.from_logits,
        }
        if self._init_thresholds is not None:
            config["thresholds"] = self.thresholds[1:-1]
        return config
