"""`model.add_loss(symbolic_tensor)` on a functional model (tf.keras's way).

The loss tensor is built from the model's own symbolic tensors (e.g.
`ops.mean(z_log_var)`); an `AddLoss` layer called on it joins the graph beside
the outputs, so each forward pass computes the term with the outputs and adds
it to `model.losses` (and so to the training loss).
"""

from __future__ import annotations

from typing import Any

import torch

from plait.layers.base import Layer
from plait.layers.serialization import register_builtin_class

__all__ = ["AddLoss"]


class AddLoss(Layer):
    """Adds its input (a loss term of the graph) to the losses; returns it.

    Example:
        >>> import torch
        >>> layer = AddLoss()
        >>> _ = layer(torch.tensor([1.0, 3.0]))
        >>> layer.losses
        [tensor(2.)]
    """

    def call(self, inputs: Any) -> Any:
        """Record `inputs` (averaged to a scalar if it is not one) as a loss."""
        value = inputs if inputs.dim() == 0 else torch.mean(inputs)
        self.add_loss(value)
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The input's shape."""
        return input_shape


register_builtin_class(AddLoss)
