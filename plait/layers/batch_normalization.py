"""BatchNormalization: batch statistics in training, moving ones in inference."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from plait import initializers
from plait.distribution import sync
from plait.layers.input_spec import InputSpec
from plait.layers.normalization_base import (
    _AffineNorm,
    _broadcast_shape,
    _known_dim,
    _positive_axis,
)
from plait.types import InitializerLike, Shape

__all__ = ["BatchNormalization"]


# Keras's backend.epsilon(): keeps masked means finite when a channel is all masked.
_KERAS_EPSILON = 1e-7


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
        synchronized: In training across processes (torchrun), compute the
            batch statistics over the whole global batch, every process's rows
            (torch's `SyncBatchNorm` semantics: the sums are all-reduced, and so
            are their gradients). False (Keras's default): each process
            normalizes its own slice. No effect in one process.

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
        super().__init__(dict(locals()))
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
        synced = use_batch and self.synchronized and sync.active()
        if use_batch and (mask is not None or per_channel == 1 or synced):
            # torch's kernel neither masks nor accepts one value per channel,
            # nor sees the other processes' rows.
            return self._normalize_manually(inputs, mask, synced)
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
        self, inputs: torch.Tensor, mask: torch.Tensor | None, synced: bool = False
    ) -> torch.Tensor:
        """Batch statistics (masked, or over all processes) with broadcasting,
        then the update."""
        axis, ndim = self._channel_axis, inputs.dim()
        dims = [d for d in range(ndim) if d != axis]
        if synced:
            weight = None
            if mask is not None:
                weight = mask.unsqueeze(-1).to(inputs.dtype).expand_as(inputs)
            mean, var = sync.global_moments(inputs, dims, weight)
        elif mask is None:
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
        return self._scale_shift(out, shape)

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
