"""What the training loops ask of a model: the typed contract between them.

`Model` inherits the loops (`Trainer`), as in Keras; the loops never look into
a model's attributes. They call the methods below, whose defaults describe a
subclassed model (`call` written in Python): a black box whose output names
and shapes are learned by running it once on the first batch. `Functional`
(plait/models/functional.py) knows its inputs and outputs from its graph and
overrides them, down to a generated forward program the steps run directly.
`Model` supplies `_loss_layers`, the layers whose added losses, regularizers
and constraints a step applies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import torch

from plait.types import Shape
from plait.utils import tree

__all__ = ["FlatProgram", "ModelContract", "StepLayer"]

FlatProgram = Callable[..., tuple[Any, ...]]
"""`fn(*flat inputs, training) -> (*outputs[, *their masks])`."""

_Layout = tuple[
    Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]
]


class StepLayer(Protocol):
    """What a training step reads and clears on each layer of a model."""

    _added_losses: list[torch.Tensor]
    _regularizers: list[tuple[torch.nn.Parameter, Callable[..., Any]]]
    _constraints: list[tuple[torch.nn.Parameter, Callable[..., Any]]]

    def _layout(self, p: torch.nn.Parameter) -> _Layout | None:
        """`(to_keras, from_keras)` of a weight stored in another layout, else None."""
        ...


class ModelContract(torch.nn.Module):
    """The model's side of training; defaults are a subclassed model's answers."""

    name: str
    # Learned from the first batch (subclassed models only): the output names
    # and shapes, and the nesting of the inputs `call` takes.
    _probed_names: list[str] | None = None
    _probe_shapes: list[Shape] | None = None
    _x_struct: Any = None

    if TYPE_CHECKING:  # supplied by `Layer` (plait/layers/losses_api.py)

        def _call_as_entry(
            self, fn: Callable[..., Any], *args: Any, **kwargs: Any
        ) -> Any: ...

    def _known_output_names(self) -> list[str] | None:
        """Output names if known without data (a subclassed model needs a batch)."""
        return None if self._probed_names is None else list(self._probed_names)

    def _n_inputs(self) -> int:
        """How many inputs `x` feeds (nested lists of numbers are one array each)."""
        return 1

    def _flat_inputs_of(self, x: Any) -> list[torch.Tensor]:
        """The model's inputs in `x`, one tensor each (checked where the model can)."""
        return list(tree.flatten(x))

    def _output_shapes(self) -> list[Shape] | None:
        """Shapes of the outputs (batch None) once `_known_output_names()` is known."""
        return None if self._probe_shapes is None else list(self._probe_shapes)

    def _output_producers(self) -> list[Any] | None:
        """The layer that computes each output (for losses from logits), if known."""
        return None

    def _training_program(
        self, logits: frozenset[int]
    ) -> tuple[FlatProgram, bool] | None:
        """`(program, with_masks)` the steps run instead of calling the model.

        `logits` are indices of outputs to return before their final softmax
        or sigmoid; `with_masks`: the outputs' masks follow the outputs. None
        (the default): the steps call the model on the inputs' structure.
        """
        return None

    def _predict_program(
        self,
    ) -> tuple[FlatProgram, Callable[[list[Any]], Any]] | None:
        """`(program, pack)`: inference on flat inputs, flat outputs -> structure."""
        return None

    def _loss_layers(self) -> Sequence[StepLayer]:
        """The model and each of its layers once, for added losses and penalties."""
        raise NotImplementedError(
            f"{type(self).__name__}: a trained model defines _loss_layers()."
        )
