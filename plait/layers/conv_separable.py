"""Depthwise and separable convolutions: DepthwiseConv1D/2D, SeparableConv1D/2D.

A depthwise convolution filters each input channel on its own
(`depth_multiplier` filters per channel): torch's grouped convolution with
`groups = channels`. A separable convolution follows it with a pointwise (1x1)
convolution mixing the channels, which on channels-last tensors is one
`F.linear` over the last axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from plait.layers.base import Layout
from plait.layers.conv_base import (
    _BaseConv,
    _conv_torch,
    _from_torch,
    _kernel_layout,
    _positive_int,
)
from plait.layers.layer_args import (
    add_bias,
    add_fn_weight,
    forwarded,
    set_weight_fns,
    weight_fns_config,
)
from plait.types import ActivationLike, InitializerLike, Shape

__all__ = [
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConv2D",
    "SeparableConvolution1D",
    "SeparableConvolution2D",
]


def _depthwise_layout(rank: int, channels: int, multiplier: int) -> Layout:
    """Keras `(*k, channels, multiplier)` <-> torch `(channels * multiplier, 1, *k)`.

    Output channel `c * multiplier + m` is filter `m` of input channel `c`, in
    Keras and in torch's grouped convolution alike.
    """
    to_keras_base, from_keras_base = _kernel_layout(rank)

    def to_keras(w: torch.Tensor) -> torch.Tensor:
        kernel = to_keras_base(w)  # (*k, 1, channels * multiplier)
        return kernel.reshape(*kernel.shape[:-2], channels, multiplier)

    def from_keras(w: torch.Tensor) -> torch.Tensor:
        flat = w.reshape(*w.shape[:-2], 1, channels * multiplier)
        return from_keras_base(flat)  # (channels * multiplier, 1, *k)

    return to_keras, from_keras


class _Depthwise(_BaseConv):
    """Shared arguments and the depthwise step of the depthwise/separable layers."""

    _weights = ("depthwise", "bias")
    _has_filters = False
    _config_args = (
        "kernel_size",
        "strides",
        "padding",
        "depth_multiplier",
        "data_format",
        "dilation_rate",
    )

    def __init__(self, *, depth_multiplier: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.depth_multiplier = _positive_int(
            self, "depth_multiplier", depth_multiplier
        )

    def _add_depthwise_kernel(self, name: str, channels: int) -> torch.nn.Parameter:
        """`(*kernel_size, channels, depth_multiplier)` in Keras layout."""
        return add_fn_weight(
            self,
            name,
            (*self.kernel_size, channels, self.depth_multiplier),
            "depthwise",
            layout=_depthwise_layout(self.rank, channels, self.depth_multiplier),
        )  # stored (channels * depth_multiplier, 1, *kernel_size)

    def _depthwise(
        self, x: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor | None
    ) -> torch.Tensor:
        """Depthwise convolution of `x` in torch layout `(batch, in, *spatial)`."""
        weight = kernel.unsqueeze(2) if self._lifted else kernel
        return _conv_torch(
            x,
            weight,
            bias,
            self.padding,
            self._op_kernel,
            self._op_strides,
            self._op_dilation,
            x.shape[1],  # one group per input channel
        )  # (batch, in * depth_multiplier, *spatial_out)


class _DepthwiseConv(_Depthwise):
    """Shared body of DepthwiseConv1D/2D."""

    def _build_weights(self, channels: int, input_shape: Shape) -> None:
        """Create `kernel (*kernel_size, in, depth_multiplier)` and `bias`."""
        self.kernel = self._add_depthwise_kernel("kernel", channels)
        self.bias = add_bias(self, (channels * self.depth_multiplier,))

    def _pre_activation(self, inputs: torch.Tensor) -> torch.Tensor:
        x = self._torch_input(inputs, self.kernel)  # (batch, in, *spatial)
        y = self._depthwise(x, self.kernel, self.bias)
        return _from_torch(y, self.rank, self.data_format)

    def _out_channels(self, input_shape: Shape) -> int | None:
        """`in * depth_multiplier`."""
        channels = input_shape[-1 if self.data_format == "channels_last" else 1]
        return None if channels is None else channels * self.depth_multiplier


class _SeparableConv(_Depthwise):
    """Shared body of SeparableConv1D/2D."""

    _has_filters = True

    def __init__(
        self,
        *,
        pointwise_initializer: InitializerLike,
        pointwise_regularizer: Any,
        pointwise_constraint: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        set_weight_fns(self, ("pointwise",), locals())

    def _build_weights(self, channels: int, input_shape: Shape) -> None:
        """Create `depthwise_kernel`, `pointwise_kernel` and `bias`."""
        self.depthwise_kernel = self._add_depthwise_kernel("depthwise_kernel", channels)
        self.pointwise_kernel = add_fn_weight(
            self,
            "pointwise_kernel",
            (*(1,) * self.rank, channels * self.depth_multiplier, self.filters),
            "pointwise",
            layout=_kernel_layout(self.rank),
        )  # stored (filters, in * depth_multiplier, *ones)
        self.bias = add_bias(self, (self.filters,))

    def _pre_activation(self, inputs: torch.Tensor) -> torch.Tensor:
        x = self._torch_input(inputs, self.depthwise_kernel)  # (batch, in, *spatial)
        y = self._depthwise(x, self.depthwise_kernel, None)
        if self.data_format == "channels_first":  # pointwise: a 1x1 convolution
            return _conv_torch(
                y, self.pointwise_kernel, self.bias, "valid",
                (1,) * self.rank, (1,) * self.rank, (1,) * self.rank, 1,
            )  # fmt: skip
        y = _from_torch(y, self.rank, self.data_format)  # (batch, *spatial, in * dm)
        pointwise = self.pointwise_kernel.flatten(1)  # (filters, in * dm), a view
        return F.linear(y, pointwise, self.bias)  # (batch, *spatial, filters)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "filters": self.filters,
            **weight_fns_config(self, ("pointwise",), activity=False),
        }


class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1D convolution: each channel filtered on its own.

    Args:
        kernel_size: Length of the window; an int or a tuple of 1 int.
        strides: Step of the window.
        padding: `"valid"` or `"same"` (output `ceil(steps / strides)`).
        depth_multiplier: Number of filters per input channel; the output has
            `channels * depth_multiplier` channels.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: Spacing between the kernel's taps.
        activation: Name (`"relu"`) or callable for the output; None = identity.
        use_bias: Whether to learn an additive bias.
        depthwise_initializer: Name or callable. Default `"glorot_uniform"`.
        bias_initializer: Name or callable. Default `"zeros"`.
        depthwise_regularizer: Function of the kernel added to the losses.
        bias_regularizer: Function of the bias added to the losses.
        activity_regularizer: Function of the output added to the losses.
        depthwise_constraint: Applied to the kernel after each optimizer step.
        bias_constraint: Applied to the bias after each optimizer step.

    Input shape:  `(batch, steps, channels)`.
    Output shape: `(batch, new_steps, channels * depth_multiplier)`.
    Weights:      `kernel (kernel_size, channels, depth_multiplier)`,
        `bias (channels * depth_multiplier,)`; Keras layout.

    Example:
        >>> import plait
        >>> DepthwiseConv1D(3, depth_multiplier=2)(plait.Input(shape=(10, 4))).shape
        (None, 8, 8)
    """

    rank = 1

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = 1,
        activation: ActivationLike = None,
        use_bias: bool = True,
        depthwise_initializer: InitializerLike = "glorot_uniform",
        bias_initializer: InitializerLike = "zeros",
        depthwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**forwarded(locals()))


class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2D convolution: each channel filtered on its own (MobileNet).

    Args:
        kernel_size: Window `(rows, cols)`; an int for a square window.
        strides: Step of the window `(rows, cols)`.
        padding: `"valid"` or `"same"` (output `ceil(size / strides)`).
        depth_multiplier: Number of filters per input channel; the output has
            `channels * depth_multiplier` channels.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: Spacing between the kernel's taps.
        activation: Name (`"relu"`) or callable for the output; None = identity.
        use_bias: Whether to learn an additive bias.
        depthwise_initializer: Name or callable. Default `"glorot_uniform"`.
        bias_initializer: Name or callable. Default `"zeros"`.
        depthwise_regularizer: Function of the kernel added to the losses.
        bias_regularizer: Function of the bias added to the losses.
        activity_regularizer: Function of the output added to the losses.
        depthwise_constraint: Applied to the kernel after each optimizer step.
        bias_constraint: Applied to the bias after each optimizer step.

    Input shape:  `(batch, rows, cols, channels)`.
    Output shape: `(batch, new_rows, new_cols, channels * depth_multiplier)`.
    Weights:      `kernel (kernel_rows, kernel_cols, channels, depth_multiplier)`,
        `bias (channels * depth_multiplier,)`; Keras layout.

    Example:
        >>> import plait
        >>> DepthwiseConv2D(3, padding="same")(plait.Input(shape=(8, 8, 4))).shape
        (None, 8, 8, 4)
    """

    rank = 2

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = (1, 1),
        padding: str = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = (1, 1),
        activation: ActivationLike = None,
        use_bias: bool = True,
        depthwise_initializer: InitializerLike = "glorot_uniform",
        bias_initializer: InitializerLike = "zeros",
        depthwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**forwarded(locals()))


class SeparableConv1D(_SeparableConv):
    """Separable 1D convolution: a depthwise convolution, then a pointwise one.

    Far fewer weights than a Conv1D of the same window (Xception, MobileNet).

    Args:
        filters: Number of output channels; a positive int.
        kernel_size: Length of the depthwise window.
        strides: Step of the depthwise window.
        padding: `"valid"` or `"same"` (output `ceil(steps / strides)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: Spacing between the depthwise kernel's taps.
        depth_multiplier: Depthwise filters per input channel.
        activation: Name (`"relu"`) or callable for the output; None = identity.
        use_bias: Whether to learn an additive bias (after the pointwise step).
        depthwise_initializer: Name or callable. Default `"glorot_uniform"`.
        pointwise_initializer: Name or callable. Default `"glorot_uniform"`.
        bias_initializer: Name or callable. Default `"zeros"`.
        depthwise_regularizer: Function of the depthwise kernel added to the losses.
        pointwise_regularizer: Function of the pointwise kernel added to the losses.
        bias_regularizer: Function of the bias added to the losses.
        activity_regularizer: Function of the output added to the losses.
        depthwise_constraint: Applied to the depthwise kernel after each step.
        pointwise_constraint: Applied to the pointwise kernel after each step.
        bias_constraint: Applied to the bias after each optimizer step.

    Input shape:  `(batch, steps, channels)`.
    Output shape: `(batch, new_steps, filters)`.
    Weights:      `depthwise_kernel (kernel_size, channels, depth_multiplier)`,
        `pointwise_kernel (1, channels * depth_multiplier, filters)`,
        `bias (filters,)`; Keras layout.

    Example:
        >>> import plait
        >>> SeparableConv1D(8, 3, padding="same")(plait.Input(shape=(10, 4))).shape
        (None, 10, 8)
    """

    rank = 1

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = 1,
        depth_multiplier: int = 1,
        activation: ActivationLike = None,
        use_bias: bool = True,
        depthwise_initializer: InitializerLike = "glorot_uniform",
        pointwise_initializer: InitializerLike = "glorot_uniform",
        bias_initializer: InitializerLike = "zeros",
        depthwise_regularizer: Any = None,
        pointwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        pointwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**forwarded(locals()))


class SeparableConv2D(_SeparableConv):
    """Separable 2D convolution: a depthwise convolution, then a pointwise one.

    Far fewer weights than a Conv2D of the same window (Xception, MobileNet).

    Args:
        filters: Number of output channels; a positive int.
        kernel_size: Depthwise window `(rows, cols)`; an int for a square.
        strides: Step of the depthwise window.
        padding: `"valid"` or `"same"` (output `ceil(size / strides)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: Spacing between the depthwise kernel's taps.
        depth_multiplier: Depthwise filters per input channel.
        activation: Name (`"relu"`) or callable for the output; None = identity.
        use_bias: Whether to learn an additive bias (after the pointwise step).
        depthwise_initializer: Name or callable. Default `"glorot_uniform"`.
        pointwise_initializer: Name or callable. Default `"glorot_uniform"`.
        bias_initializer: Name or callable. Default `"zeros"`.
        depthwise_regularizer: Function of the depthwise kernel added to the losses.
        pointwise_regularizer: Function of the pointwise kernel added to the losses.
        bias_regularizer: Function of the bias added to the losses.
        activity_regularizer: Function of the output added to the losses.
        depthwise_constraint: Applied to the depthwise kernel after each step.
        pointwise_constraint: Applied to the pointwise kernel after each step.
        bias_constraint: Applied to the bias after each optimizer step.

    Input shape:  `(batch, rows, cols, channels)`.
    Output shape: `(batch, new_rows, new_cols, filters)`.
    Weights:      `depthwise_kernel (kernel_rows, kernel_cols, channels,
        depth_multiplier)`, `pointwise_kernel (1, 1, channels * depth_multiplier,
        filters)`, `bias (filters,)`; Keras layout.

    Example:
        >>> import plait
        >>> sep = SeparableConv2D(16, 3, depth_multiplier=2)
        >>> sep(plait.Input(shape=(8, 8, 4))).shape
        (None, 6, 6, 16)
        >>> [w.shape for w in sep.get_weights()]
        [(3, 3, 4, 2), (1, 1, 8, 16), (16,)]
    """

    rank = 2

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = (1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = (1, 1),
        depth_multiplier: int = 1,
        activation: ActivationLike = None,
        use_bias: bool = True,
        depthwise_initializer: InitializerLike = "glorot_uniform",
        pointwise_initializer: InitializerLike = "glorot_uniform",
        bias_initializer: InitializerLike = "zeros",
        depthwise_regularizer: Any = None,
        pointwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        pointwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**forwarded(locals()))


# Keras 2 aliases.
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
