"""`MeanTracker`: the running loss of `fit`/`evaluate`, and `model.metrics[0]`."""

from __future__ import annotations

from typing import Any

import torch

from plait.metrics.base import Metric

__all__ = ["MeanTracker"]


class MeanTracker(Metric):
    """A running mean of scalars weighted by batch size: `total` on the device,
    the count on the host (so an update is one kernel and no sync).

    It is also the `"loss"` metric of `model.metrics`, so a custom
    `train_step` can call `update_state(loss)` on it, as in Keras.

    Example:
        >>> t = MeanTracker("loss")
        >>> t.update(torch.tensor(2.0), 3); t.update(torch.tensor(4.0), 1)
        >>> t.result()
        tensor(2.5000)
        >>> t.update_state(torch.tensor(6.5)); t.result()
        tensor(3.3000)
    """

    def __init__(self, name: str) -> None:
        super().__init__(name=name)
        self.total: torch.Tensor | None = None
        self.count: float = 0

    @property
    def device(self) -> torch.device | None:
        """Where the running total lives; None before the first update."""
        return None if self.total is None else self.total.device

    def update(self, value: torch.Tensor, n: float) -> None:
        """Add `value` (a scalar tensor, detached here) for `n` samples."""
        if self.total is None:
            self.total = torch.zeros((), dtype=torch.float32, device=value.device)
        self.total.add_(value.detach(), alpha=n)
        self.count += n

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        """Keras's `Mean.update_state`: add `values` (weighted by `sample_weight`)."""
        v = torch.as_tensor(values).detach().float()
        if sample_weight is None:
            self.update(v.mean(), v.numel())
            return
        w = torch.as_tensor(sample_weight, dtype=torch.float32, device=v.device)
        v, w = torch.broadcast_tensors(v, w)
        count = float(w.sum())
        if count:
            self.update((v * w).sum() / count, count)

    def reset(self) -> None:
        """Forget everything seen."""
        if self.total is not None:
            self.total.zero_()
        self.count = 0

    def reset_state(self) -> None:
        """Keras's name of `reset`."""
        self.reset()

    def result(self) -> torch.Tensor:
        """The mean so far (0 before any update)."""
        if self.total is None or self.count == 0:
            return torch.zeros(())
        return self.total / self.count
