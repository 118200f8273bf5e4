"""A layer's losses as Keras keeps them: `add_loss`, `losses`, reset per call.

`layer.losses` holds the weight regularization terms (computed when read) and
the `add_loss` terms of the layer's last call, sub-layers included. The terms
are reset when a top-level call starts (`layer(x)` not made inside another
layer's call, or a training/evaluation step), so a call inside another
layer's `call` adds to the same call's terms, as in Keras. Losses recorded
while a functional model infers shapes (on the meta device) are dropped when
inference ends: they never reach training.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import torch

__all__ = ["LossesAPI"]

# The layer (or model) whose top-level call is running, if any. A plain list,
# not a thread-local: `torch.compile` traces reads of it without a break.
_ENTRY: list[Any] = []


class LossesAPI:
    """Mixin of `Layer`: `add_loss`, `losses`, and the per-call reset."""

    _added_losses: list[torch.Tensor]
    _regularizers: list[tuple[torch.nn.Parameter, Callable[..., Any]]]

    if TYPE_CHECKING:

        def _all_sublayers(self) -> Iterator[LossesAPI]: ...
        def _layout(self, p: torch.nn.Parameter) -> Any: ...

    def add_loss(self, loss: Any) -> None:
        """Add a loss term (a scalar tensor) computed during `call`.

        Training adds every term of the model's layers to the compiled loss
        (or trains on them alone when `compile()` was given no loss).
        """
        if not isinstance(loss, torch.Tensor):
            loss = torch.as_tensor(loss, dtype=torch.get_default_dtype())
        self._added_losses.append(loss)

    @property
    def losses(self) -> list[torch.Tensor]:
        """Regularization losses of weights and `add_loss` terms, sub-layers included."""
        out: list[torch.Tensor] = []
        for layer in [self, *self._all_sublayers()]:
            for p, fn in layer._regularizers:
                lay = layer._layout(p)  # regularizers see the Keras layout
                out.append(fn(lay[0](p) if lay else p))
            out += layer._added_losses
        return out

    def _clear_losses(self) -> None:
        """Forget the `add_loss` terms of this layer and its sub-layers."""
        for layer in [self, *self._all_sublayers()]:
            if layer._added_losses:
                layer._added_losses = []

    def _call_as_entry(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """`fn(*args, **kwargs)`; first resetting the losses if no call is running."""
        if _ENTRY:
            return fn(*args, **kwargs)
        _ENTRY.append(self)
        try:
            self._clear_losses()
            return fn(*args, **kwargs)
        finally:
            _ENTRY.pop()
