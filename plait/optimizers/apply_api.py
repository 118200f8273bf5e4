"""Keras 3's `apply(grads, variables)` and `apply_gradients(pairs)` for optimizers.

Custom training steps written for Keras (`self.optimizer.apply(grads,
self.trainable_weights)`) drive plait's optimizers through these; they set the
parameters' `.grad` for one `step()` and put the caller's gradients back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import torch
from torch import Tensor

__all__ = ["ApplyAPI"]


class ApplyAPI:
    """The Keras update entry points, mixed into `plait.optimizers.Optimizer`."""

    if TYPE_CHECKING:
        _params: list[torch.nn.Parameter]
        built: bool
        clipnorm: float | None
        global_clipnorm: float | None
        clipvalue: float | None

        def build(self, params: Iterable[torch.nn.Parameter]) -> None: ...
        def step(self) -> None: ...

    def apply(
        self,
        grads: Iterable[Tensor | None],
        trainable_variables: Iterable[torch.nn.Parameter] | None = None,
    ) -> None:
        """Keras's `apply`: one update of `trainable_variables` from `grads`.

        The first call builds the optimizer for the variables it is given (as
        Keras does); later calls may pass any of them. Each gradient is used
        for this update only: the parameters' `.grad` are left as they were.

        Args:
            grads: One gradient per variable (None: the variable is skipped).
            trainable_variables: The parameters to update; defaults to the ones
                the optimizer was built with.

        Raises:
            ValueError: a different number of gradients and variables.

        Example:
            >>> from plait.optimizers.optimizers import SGD
            >>> w = torch.nn.Parameter(torch.ones(2))
            >>> SGD(learning_rate=0.5).apply([torch.ones(2)], [w])
            >>> w.data
            tensor([0.5000, 0.5000])
        """
        grads = list(grads)
        params = list(
            self._params if trainable_variables is None else trainable_variables
        )
        if len(grads) != len(params):
            raise ValueError(
                f"{type(self).__name__}.apply: expected one gradient per variable, "
                f"got {len(grads)} gradients for {len(params)} variables."
            )
        known = {id(p) for p in self._params}
        unknown = [p for p in params if id(p) not in known and p.requires_grad]
        if not self.built or unknown:
            self.build([*self._params, *unknown] if self.built else params)
        clips = self.clipnorm or self.global_clipnorm or self.clipvalue
        saved = [p.grad for p in self._params]
        given = {id(p): g for p, g in zip(params, grads)}
        try:
            for p in self._params:
                g = given.get(id(p))
                # Clipping works in place: the caller's gradients stay as given.
                p.grad = None if g is None else (g.clone() if clips else g)
            self.step()
        finally:
            for p, g in zip(self._params, saved):
                p.grad = g

    def apply_gradients(
        self, grads_and_vars: Iterable[tuple[Tensor | None, torch.nn.Parameter]]
    ) -> None:
        """Keras's `apply_gradients`: `apply` from `(gradient, variable)` pairs.

        Example:
            >>> from plait.optimizers.optimizers import SGD
            >>> w = torch.nn.Parameter(torch.ones(2))
            >>> SGD(learning_rate=0.5).apply_gradients(zip([torch.ones(2)], [w]))
            >>> w.data
            tensor([0.5000, 0.5000])
        """
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])
