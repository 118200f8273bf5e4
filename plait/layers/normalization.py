"""Normalization layers: BatchNormalization (in `batch_normalization`),
LayerNormalization, GroupNormalization, UnitNormalization."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from plait.layers.base import Layer
from plait.layers.batch_normalization import BatchNormalization
from plait.layers.input_spec import InputSpec
from plait.layers.layer_args import attrs_config
from plait.layers.normalization_base import (
    _AffineNorm,
    _broadcast_shape,
    _int_or_ints,
    _known_dim,
    _positive_axis,
)
from plait.types import InitializerLike, Shape

__all__ = [
    "BatchNormalization",
    "GroupNormalization",
    "LayerNormalization",
    "UnitNormalization",
]


# Keras's backend.epsilon(): keeps masked means finite when a channel is all masked.
class LayerNormalization(_AffineNorm):
    """Normalizes each sample over `axis`: `gamma * (x - mean) / sqrt(var + eps) + beta`.

    The statistics are taken per sample over the axes in `axis` (the last by
    default), so batch size and training mode do not matter. Trailing axes use
    torch's fused `F.layer_norm`.

    Args:
        axis: Axis or list of axes to normalize over (default -1).
        epsilon: Added to the variance before the square root.
        center: Whether to learn the offset `beta`.
        scale: Whether to learn the scale `gamma`.
        rms_scaling: Keras compat: `x * rsqrt(var(x) + epsilon) * gamma` with no
            centering and no `beta`. This is Keras 3's (deprecated) definition:
            it divides by the standard deviation, not the root mean square.
        beta_initializer: Default `"zeros"`.
        gamma_initializer: Default `"ones"`.
        beta_regularizer: Name, instance or function of `beta` added to the losses.
        gamma_regularizer: Likewise for `gamma`.
        beta_constraint: Applied to `beta` after each optimizer step.
        gamma_constraint: Likewise for `gamma`.

    Input shape:  any, e.g. `(batch, timesteps, features)`.
    Output shape: same as the input.
    Weights:      `gamma` and `beta`, each of the shape of the normalized axes.

    Example:
        >>> import torch
        >>> y = LayerNormalization()(torch.tensor([[1.0, 3.0]]))
        >>> [round(v, 4) for v in y[0].tolist()]
        [-0.9995, 0.9995]
    """

    def __init__(
        self,
        axis: int | list[int] | tuple[int, ...] = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: InitializerLike = "zeros",
        gamma_initializer: InitializerLike = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        rms_scaling: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(dict(locals()))
        self.axis = _int_or_ints(self, axis)
        self.epsilon = float(epsilon)
        self.rms_scaling = bool(rms_scaling)

    def build(self, input_shape: Shape) -> None:
        """Create `gamma` and `beta` of the normalized axes' shape."""
        ndim = len(input_shape)
        raw = [self.axis] if isinstance(self.axis, int) else self.axis
        self._axes = sorted({_positive_axis(self, a, ndim) for a in raw})
        shape = tuple(_known_dim(self, input_shape, a) for a in self._axes)
        self._trailing = self._axes == list(range(ndim - len(shape), ndim))
        self._add_affine(
            shape, self.scale or self.rms_scaling, self.center and not self.rms_scaling
        )
        self.input_spec = InputSpec(ndim=ndim, axes=dict(zip(self._axes, shape)))
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """Normalize each sample over the axes."""
        inputs = self._weights_dtype(inputs)
        sizes = tuple(inputs.shape[a] for a in self._axes)
        if self._trailing and not self.rms_scaling:
            return F.layer_norm(inputs, sizes, self.gamma, self.beta, self.epsilon)
        shape = (
            sizes
            if self._trailing
            else _broadcast_shape(inputs.dim(), self._axes, sizes)
        )
        var, mean = torch.var_mean(inputs, dim=self._axes, correction=0, keepdim=True)
        inv = torch.rsqrt(var + self.epsilon)
        out = inputs * inv if self.rms_scaling else (inputs - mean) * inv
        return self._scale_shift(out, shape)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        names = ("axis", "epsilon", "rms_scaling")
        return {**super().get_config(), **attrs_config(self, names)}


class GroupNormalization(_AffineNorm):
    """Normalizes each sample over groups of channels (Wu & He 2018).

    The channels of `axis` are split into `groups` groups; each sample is
    normalized with the mean and variance of each group (over its channels and
    all the other non-batch axes), then scaled and shifted per channel.
    `groups=1` is layer normalization over all axes, `groups=-1` (one channel
    per group) is instance normalization. Channels-last inputs are normalized
    on a grouped view in place; others run torch's `F.group_norm`.

    Args:
        groups: Number of groups; must divide the channel count; -1 means one
            group per channel. Default 32.
        axis: The channel axis (default -1).
        epsilon: Added to the variance before the square root.
        center: Whether to learn the offset `beta`.
        scale: Whether to learn the scale `gamma`.
        beta_initializer: Default `"zeros"`.
        gamma_initializer: Default `"ones"`.
        beta_regularizer: Name, instance or function of `beta` added to the losses.
        gamma_regularizer: Likewise for `gamma`.
        beta_constraint: Applied to `beta` after each optimizer step.
        gamma_constraint: Likewise for `gamma`.

    Input shape:  `(batch, ..., channels)` (channels on `axis`).
    Output shape: same as the input.
    Weights:      `gamma (channels,)`, `beta (channels,)`.

    Example:
        >>> import torch
        >>> y = GroupNormalization(groups=2)(torch.tensor([[1.0, 3.0, 5.0, 9.0]]))
        >>> [round(v, 4) for v in y[0].tolist()]
        [-0.9995, 0.9995, -0.9999, 0.9999]
    """

    def __init__(
        self,
        groups: int = 32,
        axis: int = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: InitializerLike = "zeros",
        gamma_initializer: InitializerLike = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(dict(locals()))
        if (
            isinstance(groups, bool)
            or not isinstance(groups, int)
            or (groups <= 0 and groups != -1)
        ):
            raise ValueError(
                f"{self._where()}: expected `groups` to be a positive int (or -1 "
                f"for one group per channel), got groups={groups!r}."
            )
        self.groups = groups
        self.axis = axis
        self.epsilon = float(epsilon)

    def build(self, input_shape: Shape) -> None:
        """Check the groups against the channels; create `gamma` and `beta`."""
        ndim = len(input_shape)
        axis = _positive_axis(self, self.axis, ndim)
        dim = _known_dim(self, input_shape, axis)
        groups = dim if self.groups == -1 else self.groups
        if dim % groups != 0:
            raise ValueError(
                f"{self._where()}: expected `groups` to divide the {dim} channels of "
                f"axis {self.axis}, got groups={groups}."
            )
        self._num_groups = groups
        self._channel_axis = axis
        self._add_affine((dim,), self.scale, self.center)
        self.input_spec = InputSpec(ndim=ndim, axes={self.axis: dim})
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """Normalize each group of channels of each sample."""
        axis = self._channel_axis
        inputs = self._weights_dtype(inputs)
        groups, ndim = self._num_groups, inputs.dim()
        if axis == ndim - 1:
            # Channels last: statistics on a grouped view, no layout copy. (torch's
            # CPU group_norm on a channels-last view crashes in backward when the
            # input needs no gradient, torch 2.13.)
            n, c = inputs.shape[0], inputs.shape[-1]
            g = inputs.reshape(n, -1, groups, c // groups)  # (n, positions, G, C/G)
            var, mean = torch.var_mean(g, dim=(1, 3), correction=0, keepdim=True)
            out = ((g - mean) * torch.rsqrt(var + self.epsilon)).reshape(inputs.shape)
            return self._scale_shift(out, (c,))
        x = inputs.movedim(axis, 1).contiguous()  # (N, C, ...)
        y = F.group_norm(x, groups, self.gamma, self.beta, self.epsilon)
        return y.movedim(1, axis)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        names = ("groups", "axis", "epsilon")
        return {**super().get_config(), **attrs_config(self, names)}


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over `axis`: `x / max(||x||, 1e-12)`.

    Args:
        axis: Axis or list of axes of the norm (default -1).

    Input shape:  any.
    Output shape: same as the input.

    Example:
        >>> import torch
        >>> UnitNormalization()(torch.tensor([[3.0, 4.0]])).tolist()
        [[0.6000000238418579, 0.800000011920929]]
    """

    def __init__(
        self, axis: int | list[int] | tuple[int, ...] = -1, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.axis = _int_or_ints(self, axis)
        self.supports_masking = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """`inputs` divided by their L2 norm."""
        dims = self.axis if isinstance(self.axis, int) else tuple(self.axis)
        # vector_norm's gradient at 0 is 0, so all-zero samples stay finite.
        norm = torch.linalg.vector_norm(inputs, 2, dim=dims, keepdim=True)
        return inputs / norm.clamp_min(1e-12)  # Keras's epsilon for this layer

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Unchanged (after checking the axes against the rank)."""
        for a in [self.axis] if isinstance(self.axis, int) else self.axis:
            _positive_axis(self, a, len(input_shape))
        return input_shape

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {**super().get_config(), "axis": self.axis}
