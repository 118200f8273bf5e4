"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization, UnitNormalization."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from plait import constraints, initializers, regularizers
from plait.layers.base import Layer
from plait.layers.input_spec import InputSpec
from plait.types import InitializerLike, Shape

__all__ = [
    "BatchNormalization",
    "GroupNormalization",
    "LayerNormalization",
    "UnitNormalization",
]

# Keras's backend.epsilon(): keeps masked means finite when a channel is all masked.
_KERAS_EPSILON = 1e-7


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


def _to_channels_first(x: torch.Tensor, axis: int) -> torch.Tensor:
    """A view of `x` with `axis` moved to dim 1, as torch's norm kernels expect.

    A channels-last `(N, H, W, C)` tensor becomes `(N, C, H, W)` in torch's
    `channels_last` memory format: no copy. `(N, L, C)` becomes the channels-last
    4D view `(N, C, 1, L)` so the same fast kernels apply.
    """
    if axis == 1:
        return x
    if x.dim() == 3 and axis == 2:
        return x.unsqueeze(1).movedim(3, 1)  # (N, 1, L, C) -> (N, C, 1, L)
    return x.movedim(axis, 1)


def _from_channels_first(y: torch.Tensor, axis: int, ndim: int) -> torch.Tensor:
    """Inverse of `_to_channels_first`."""
    if axis == 1:
        return y
    if ndim == 3 and axis == 2:
        return y.movedim(1, 3).squeeze(1)  # (N, C, 1, L) -> (N, L, C)
    return y.movedim(1, axis)


def _broadcast_shape(ndim: int, axes: list[int], sizes: tuple[int, ...]) -> list[int]:
    shape = [1] * ndim
    for a, size in zip(axes, sizes):
        shape[a] = size
    return shape


class _AffineNorm(Layer):
    """Shared config of the norms with a learned `gamma` scale and `beta` offset."""

    def __init__(
        self,
        center: bool,
        scale: bool,
        beta_initializer: InitializerLike,
        gamma_initializer: InitializerLike,
        beta_regularizer: Any,
        gamma_regularizer: Any,
        beta_constraint: Any,
        gamma_constraint: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma: torch.nn.Parameter | None = None
        self.beta: torch.nn.Parameter | None = None
        self.supports_masking = True

    def _add_affine(self, shape: tuple[int, ...], gamma: bool, beta: bool) -> None:
        if gamma:
            self.gamma = self.add_weight(
                "gamma",
                shape,
                self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )
        if beta:
            self.beta = self.add_weight(
                "beta",
                shape,
                self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
            )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Unchanged."""
        return input_shape

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }


class BatchNormalization(_AffineNorm):
    """Normalizes each channel with batch statistics in training, moving ones after.

    In training (`training=True`, as `fit` calls it) the output is
    `gamma * (x - mean(x)) / sqrt(var(x) + epsilon) + beta` with the mean and
    (biased) variance of the batch over every axis but `axis`, and the moving
    statistics are updated as Keras does:
    `moving = moving * momentum + batch * (1 - momentum)`. In inference the
    moving statistics replace the batch ones.

    Keras compat: `momentum=0.99` here is torch's `momentum=0.01`; the moving
    variance averages the *biased* batch variance (torch's `BatchNorm2d` uses
    the unbiased one). A frozen layer (`layer.trainable = False`) runs in
    inference mode even when called with `training=True`, as in Keras 3, so
    fine-tuning leaves its statistics alone.

    Args:
        axis: The channel axis (default -1, channels-last).
        momentum: Weight of the old value in the moving averages.
        epsilon: Added to the variance before the square root.
        center: Whether to learn the offset `beta`.
        scale: Whether to learn the scale `gamma`.
        beta_initializer: Default `"zeros"`.
        gamma_initializer: Default `"ones"`.
        moving_mean_initializer: Default `"zeros"`.
        moving_variance_initializer: Default `"ones"`.
        beta_regularizer: Name, instance or function of `beta` added to the losses.
        gamma_regularizer: Likewise for `gamma`.
        beta_constraint: Name, instance or function applied to `beta` after each
            optimizer step.
        gamma_constraint: Likewise for `gamma`.
        renorm: Batch renormalization; only `False` is supported.
        renorm_clipping: Accepted for Keras configs; unused.
        renorm_momentum: Accepted for Keras configs; unused.
        synchronized: Accepted for Keras compatibility; statistics are computed
            per process (wrap the model with `torch.nn.SyncBatchNorm`-style
            all-reduce yourself if you need them synchronized).

    Call arguments:
        inputs: A tensor of any rank >= 2.
        training: Use (and update) batch statistics; None follows the module's
            mode (`model.train()`), inference by default.
        mask: Optional boolean mask of shape `inputs.shape[:-1]`; masked entries
            are left out of the batch statistics.

    Input shape:  any, e.g. `(batch, height, width, channels)`.
    Output shape: same as the input.
    Weights:      `gamma (channels,)`, `beta (channels,)` (trainable),
                  `moving_mean (channels,)`, `moving_variance (channels,)`
                  (non-trainable).

    Example:
        >>> import torch
        >>> bn = BatchNormalization()
        >>> y = bn(torch.tensor([[0.0, 1.0], [2.0, 3.0]]), training=True)
        >>> [round(v, 4) for v in y[:, 0].tolist()]
        [-0.9995, 0.9995]
        >>> [round(v, 3) for v in bn.moving_mean.tolist()]
        [0.01, 0.02]
    """

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: InitializerLike = "zeros",
        gamma_initializer: InitializerLike = "ones",
        moving_mean_initializer: InitializerLike = "zeros",
        moving_variance_initializer: InitializerLike = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        renorm: bool = False,
        renorm_clipping: dict[str, float] | None = None,
        renorm_momentum: float = 0.99,
        synchronized: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            center,
            scale,
            beta_initializer,
            gamma_initializer,
            beta_regularizer,
            gamma_regularizer,
            beta_constraint,
            gamma_constraint,
            **kwargs,
        )
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]  # Keras 2 configs store a one-element list
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(
                f"{self._where()}: expected `axis` to be an int, got axis={axis!r}."
            )
        if renorm:
            raise ValueError(
                f"{self._where()}: expected renorm=False, got renorm=True; batch "
                "renormalization is not supported."
            )
        self.axis = axis
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.synchronized = bool(synchronized)

    def build(self, input_shape: Shape) -> None:
        """Create `gamma`, `beta`, `moving_mean` and `moving_variance`."""
        ndim = len(input_shape)
        axis = _positive_axis(self, self.axis, ndim)
        dim = _known_dim(self, input_shape, axis)
        self._add_affine((dim,), self.scale, self.center)
        self.moving_mean = self.add_weight(
            "moving_mean", (dim,), self.moving_mean_initializer, trainable=False
        )
        self.moving_variance = self.add_weight(
            "moving_variance", (dim,), self.moving_variance_initializer, trainable=False
        )
        self._channel_axis = axis
        self.input_spec = InputSpec(ndim=ndim, axes={self.axis: dim})
        self.built = True

    def call(
        self,
        inputs: torch.Tensor,
        training: bool | None = None,
        mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Normalize with batch statistics (training) or moving ones (inference)."""
        axis = self._channel_axis
        if inputs.dtype != self.moving_mean.dtype:
            inputs = inputs.to(self.moving_mean.dtype)
        use_batch = bool(training) and self.trainable
        per_channel = inputs.numel() // max(inputs.shape[axis], 1)
        if use_batch and (mask is not None or per_channel == 1):
            # torch's kernel neither masks nor accepts one value per channel.
            return self._normalize_manually(inputs, mask)
        x = _to_channels_first(inputs, axis)  # (N, C, ...)
        if not use_batch:
            y = F.batch_norm(
                x,
                self.moving_mean,
                self.moving_variance,
                self.gamma,
                self.beta,
                training=False,
                eps=self.epsilon,
            )
            return _from_channels_first(y, axis, inputs.dim())
        # torch updates the running statistics in place and saves them for the
        # backward pass, so it gets copies: the layer's own are updated below.
        mean = self.moving_mean.detach().clone()
        var = self.moving_variance.detach().clone()
        y = F.batch_norm(
            x,
            mean,
            var,
            self.gamma,
            self.beta,
            training=True,
            momentum=1.0 - self.momentum,  # Keras 0.99 == torch 0.01
            eps=self.epsilon,
        )
        with torch.no_grad():
            self.moving_mean.copy_(mean)
            # Keras compat: torch averaged the unbiased variance u; Keras averages
            # the biased u * (n - 1) / n, i.e. m * u / n less, where
            # m * u = new - (1 - m) * old.
            old = self.moving_variance
            old.copy_(var - (var - self.momentum * old) / per_channel)
        return _from_channels_first(y, axis, inputs.dim())

    def _normalize_manually(
        self, inputs: torch.Tensor, mask: torch.Tensor | None
    ) -> torch.Tensor:
        """Batch statistics (masked ones too) with broadcasting, then the update."""
        axis, ndim = self._channel_axis, inputs.dim()
        dims = [d for d in range(ndim) if d != axis]
        if mask is None:
            var, mean = torch.var_mean(inputs, dim=dims, correction=0, keepdim=True)
        else:
            if mask.dim() != ndim - 1:
                raise ValueError(
                    f"{self._where()}: expected a mask with one dim less than the "
                    f"inputs {tuple(inputs.shape)}, got mask shape "
                    f"{tuple(mask.shape)}."
                )
            weight = mask.unsqueeze(-1).to(inputs.dtype).expand_as(inputs)
            count = weight.sum(dim=dims, keepdim=True) + _KERAS_EPSILON
            mean = (inputs * weight).sum(dim=dims, keepdim=True) / count
            var = ((inputs - mean) * weight).square().sum(dim=dims, keepdim=True)
            var = var / count
        with torch.no_grad():
            m = self.momentum
            self.moving_mean.mul_(m).add_(mean.reshape(-1), alpha=1.0 - m)
            self.moving_variance.mul_(m).add_(var.reshape(-1), alpha=1.0 - m)
        shape = _broadcast_shape(ndim, [axis], (inputs.shape[axis],))
        out = (inputs - mean) * torch.rsqrt(var + self.epsilon)
        if self.gamma is not None:
            out = out * self.gamma.view(shape)
        if self.beta is not None:
            out = out + self.beta.view(shape)
        return out

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "moving_mean_initializer": initializers.serialize(
                self.moving_mean_initializer
            ),
            "moving_variance_initializer": initializers.serialize(
                self.moving_variance_initializer
            ),
            "synchronized": self.synchronized,
        }


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
        super().__init__(
            center,
            scale,
            beta_initializer,
            gamma_initializer,
            beta_regularizer,
            gamma_regularizer,
            beta_constraint,
            gamma_constraint,
            **kwargs,
        )
        ok = isinstance(axis, int) or (
            isinstance(axis, (list, tuple)) and all(isinstance(a, int) for a in axis)
        )
        if not ok or isinstance(axis, bool):
            raise TypeError(
                f"{self._where()}: expected `axis` to be an int or a list of ints, "
                f"got axis={axis!r}."
            )
        self.axis = axis if isinstance(axis, int) else list(axis)
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
        dtype = self.gamma.dtype if self.gamma is not None else inputs.dtype
        if inputs.dtype != dtype:
            inputs = inputs.to(dtype)
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
        if self.gamma is not None:
            out = out * self.gamma.view(shape)
        if self.beta is not None:
            out = out + self.beta.view(shape)
        return out

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "rms_scaling": self.rms_scaling,
        }


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
        super().__init__(
            center,
            scale,
            beta_initializer,
            gamma_initializer,
            beta_regularizer,
            gamma_regularizer,
            beta_constraint,
            gamma_constraint,
            **kwargs,
        )
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
        dtype = self.gamma.dtype if self.gamma is not None else inputs.dtype
        if inputs.dtype != dtype:
            inputs = inputs.to(dtype)
        groups, ndim = self._num_groups, inputs.dim()
        if axis == ndim - 1:
            # Channels last: statistics on a grouped view, no layout copy. (torch's
            # CPU group_norm on a channels-last view crashes in backward when the
            # input needs no gradient, torch 2.13.)
            n, c = inputs.shape[0], inputs.shape[-1]
            g = inputs.reshape(n, -1, groups, c // groups)  # (n, positions, G, C/G)
            var, mean = torch.var_mean(g, dim=(1, 3), correction=0, keepdim=True)
            out = ((g - mean) * torch.rsqrt(var + self.epsilon)).reshape(inputs.shape)
            if self.gamma is not None:
                out = out * self.gamma
            return out + self.beta if self.beta is not None else out
        x = inputs.movedim(axis, 1).contiguous()  # (N, C, ...)
        y = F.group_norm(x, groups, self.gamma, self.beta, self.epsilon)
        return y.movedim(1, axis)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
        }


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
        ok = isinstance(axis, int) or (
            isinstance(axis, (list, tuple)) and all(isinstance(a, int) for a in axis)
        )
        if not ok or isinstance(axis, bool):
            raise TypeError(
                f"{self._where()}: expected `axis` to be an int or a list of ints, "
                f"got axis={axis!r}."
            )
        self.axis = axis if isinstance(axis, int) else list(axis)
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
