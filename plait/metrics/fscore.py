"""F-scores: `FBetaScore` and `F1Score`, per class or averaged over classes."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from plait.losses.functions import TensorLike
from plait.metrics.base import Metric
from plait.metrics.confusion import EPSILON

__all__ = ["F1Score", "FBetaScore"]


class FBetaScore(Metric):
    """F-beta score `(1 + beta²) * P * R / (beta² * P + R)`, per class or averaged.

    Expects `y_true` and `y_pred` of shape `(batch, num_classes)`.

    Args:
        average: None (one score per class), `"micro"` (global counts),
            `"macro"` (mean of class scores) or `"weighted"` (mean weighted by
            each class's number of true instances).
        beta: Weight of recall relative to precision; a positive float.
        threshold: Predictions above it are positive; None makes the largest
            score of each row positive.
        name: Defaults to `"fbeta_score"`.
        dtype: See `Metric`.

    Example:
        >>> m = FBetaScore(beta=2.0, threshold=0.5, average="micro")
        >>> m.update_state([[1, 0], [1, 1]], [[0.9, 0.1], [0.8, 0.2]])
        >>> m.result()
        tensor(0.7143)
    """

    def __init__(
        self,
        average: str | None = None,
        beta: float = 1.0,
        threshold: float | None = None,
        name: str = "fbeta_score",
        dtype: str | torch.dtype | None = None,
    ) -> None:
        super().__init__(dtype=dtype, name=name)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                "FBetaScore: expected `average` to be None, 'micro', 'macro' or "
                f"'weighted', got average={average!r}."
            )
        if not isinstance(beta, float) or beta <= 0.0:
            raise ValueError(
                f"FBetaScore: expected `beta` to be a float > 0, got beta={beta!r}."
            )
        if threshold is not None and (
            not isinstance(threshold, float) or not 0.0 < threshold <= 1.0
        ):
            raise ValueError(
                "FBetaScore: expected `threshold` to be a float in (0, 1] or None, "
                f"got threshold={threshold!r}."
            )
        self.average, self.beta, self.threshold = average, beta, threshold

    def update_state(
        self,
        y_true: TensorLike,
        y_pred: TensorLike,
        sample_weight: TensorLike | None = None,
    ) -> None:
        """Adds the batch's per-class (or global) weighted counts."""
        pred = self._input(y_pred).to(self.dtype)
        true = self._input(y_true, pred).to(self.dtype)
        if pred.ndim != 2 or true.ndim != 2:
            raise ValueError(
                f"{type(self).__name__}: expected y_true and y_pred of shape "
                f"(batch_size, num_classes), got y_true.shape={tuple(true.shape)} "
                f"and y_pred.shape={tuple(pred.shape)}."
            )
        if "tp" not in self._state_shapes:
            shape = () if self.average == "micro" else (pred.shape[-1],)
            for key in ("tp", "fp", "fn", "support"):
                self.add_state(key, shape)
        if self.threshold is None:
            # The row maximum is positive; abs > 1e-9 keeps an all-zero row negative.
            row_max = pred.amax(dim=-1, keepdim=True)
            decided = ((pred >= row_max) & (pred.abs() > 1e-9)).to(self.dtype)
        else:
            decided = (pred > self.threshold).to(self.dtype)
        weight = self._weight(sample_weight, pred)
        dims = None if self.average == "micro" else 0

        def weighted_sum(values: Tensor) -> Tensor:
            if weight is not None:
                values = values * weight.unsqueeze(1)
            return values.sum() if dims is None else values.sum(dim=dims)

        self.state("tp", pred).add_(weighted_sum(decided * true))
        self.state("fp").add_(weighted_sum(decided * (1 - true)))
        self.state("fn").add_(weighted_sum((1 - decided) * true))
        self.state("support").add_(weighted_sum(true))

    def result(self) -> Tensor:
        """The score per class, or averaged as `average` says."""
        if "tp" not in self._state_shapes:
            return torch.zeros((), dtype=self.dtype, device=self.device)
        tp, fp, fn = self.state("tp"), self.state("fp"), self.state("fn")
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        beta2 = self.beta**2
        score = (
            (1 + beta2) * precision * recall / (beta2 * precision + recall + EPSILON)
        )
        if self.average == "weighted":
            support = self.state("support")
            return (score * support / (support.sum() + EPSILON)).sum()
        if self.average is not None:
            return score.mean()
        return score

    def get_config(self) -> dict[str, Any]:
        """Returns the config."""
        extra = {
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
        }
        return {**super().get_config(), **extra}


class F1Score(FBetaScore):
    """F1 score `2 * P * R / (P + R)`: `FBetaScore` with `beta=1`.

    Args:
        average: As for `FBetaScore`.
        threshold: As for `FBetaScore`.
        name: Defaults to `"f1_score"`.
        dtype: See `Metric`.

    Example:
        >>> m = F1Score(threshold=0.5)
        >>> m.update_state([[1, 1, 1], [1, 0, 0], [1, 1, 0]],
        ...                [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
        >>> m.result()
        tensor([0.5000, 0.8000, 0.6667])
    """

    def __init__(
        self,
        average: str | None = None,
        threshold: float | None = None,
        name: str = "f1_score",
        dtype: str | torch.dtype | None = None,
    ) -> None:
        super().__init__(
            average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype
        )

    def get_config(self) -> dict[str, Any]:
        """Returns the config (without `beta`)."""
        config = super().get_config()
        del config["beta"]
        return config
