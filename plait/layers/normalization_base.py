"""What the normalization layers share: axis checks and the learned `gamma`/`beta`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from plait.layers.base import Layer
from plait.layers.call_api import same_shape
from plait.layers.layer_args import (
    add_fn_weight,
    attrs_config,
    set_weight_fns,
    weight_fns_config,
)
from plait.types import Shape

_AFFINE = ("beta", "gamma")


def _positive_axis(layer: Layer, axis: int, ndim: int) -> int:
    """`axis` in `[0, ndim)`, or a ValueError naming the layer."""
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"{layer._where()}: expected `axis` in [{-ndim}, {ndim}) for an input "
            f"with {ndim} dims, got axis={axis}."
        )
    return axis % ndim


def _known_dim(layer: Layer, input_shape: Shape, axis: int) -> int:
    dim = input_shape[axis]
    if dim is None:
        raise ValueError(
            f"{layer._where()}: expected axis {axis} of the input to be known, got "
            f"shape {tuple(input_shape)}."
        )
    return dim


def _int_or_ints(layer: Layer, axis: Any) -> int | list[int]:
    """`axis` as an int or a list of ints, or a TypeError naming the layer."""
    ok = isinstance(axis, int) or (
        isinstance(axis, (list, tuple)) and all(isinstance(a, int) for a in axis)
    )
    if not ok or isinstance(axis, bool):
        raise TypeError(
            f"{layer._where()}: expected `axis` to be an int or a list of ints, "
            f"got axis={axis!r}."
        )
    return axis if isinstance(axis, int) else list(axis)


def _broadcast_shape(ndim: int, axes: list[int], sizes: tuple[int, ...]) -> list[int]:
    shape = [1] * ndim
    for a, size in zip(axes, sizes):
        shape[a] = size
    return shape


class _AffineNorm(Layer):
    """Shared config of the norms with a learned `gamma` scale and `beta` offset.

    Takes the subclass's `__init__` `locals()` (taken first thing): `center`,
    `scale`, the `beta_*` / `gamma_*` initializers, regularizers and constraints,
    and `kwargs` for `Layer`.
    """

    def __init__(self, args: dict[str, Any]) -> None:
        super().__init__(**args["kwargs"])
        self.center = bool(args["center"])
        self.scale = bool(args["scale"])
        set_weight_fns(self, _AFFINE, args)
        self.gamma: torch.nn.Parameter | None = None
        self.beta: torch.nn.Parameter | None = None
        self.supports_masking = True

    def _add_affine(self, shape: tuple[int, ...], gamma: bool, beta: bool) -> None:
        if gamma:
            self.gamma = add_fn_weight(self, "gamma", shape, "gamma")
        if beta:
            self.beta = add_fn_weight(self, "beta", shape, "beta")

    def _weights_dtype(self, inputs: torch.Tensor) -> torch.Tensor:
        """`inputs` in the dtype of `gamma` (when there is one)."""
        dtype = self.gamma.dtype if self.gamma is not None else inputs.dtype
        return inputs if inputs.dtype == dtype else inputs.to(dtype)

    def _scale_shift(self, out: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
        """`out * gamma + beta`, the weights viewed as `shape`; either may be absent."""
        if self.gamma is not None:
            out = out * self.gamma.view(*shape)
        if self.beta is not None:
            out = out + self.beta.view(*shape)
        return out

    compute_output_shape = same_shape

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            **super().get_config(),
            **attrs_config(self, ("center", "scale")),
            **weight_fns_config(self, _AFFINE, activity=False),
        }
