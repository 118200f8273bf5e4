"""Depthwise and separable convolutions: DepthwiseConv1D/2D, SeparableConv1D/2D.

A depthwise convolution filters each input channel on its own
(`depth_multiplier` filters per channel): torch's grouped convolution with
`groups = channels`. A separable convolution follows it with a pointwise (1x1)
convolution mixing the channels, which on channels-last tensors is one
`F.linear` over the last axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from plait import activations, constraints, initializers, regularizers
from plait.layers.base import Layer, Layout
from plait.layers.convolutional import (
    _choice,
    _conv_length,
    _conv_torch,
    _data_format,
    _from_torch,
    _input_channels,
    _int_tuple,
    _kernel_layout,
    _lift,
    _lifted,
    _positive_int,
    _spatial_output_shape,
    _spatial_spec,
    _to_torch,
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

_DEPTHWISE_FNS = (
    "depthwise_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "depthwise_constraint",
    "bias_constraint",
)


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


class _Depthwise(Layer):
    """Shared arguments and the depthwise step of the depthwise/separable layers."""

    rank: ClassVar[int] = 2

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int],
        padding: str,
        depth_multiplier: int,
        data_format: str | None,
        dilation_rate: int | Sequence[int],
        activation: ActivationLike,
        use_bias: bool,
        depthwise_initializer: InitializerLike,
        bias_initializer: InitializerLike,
        depthwise_regularizer: Any,
        bias_regularizer: Any,
        activity_regularizer: Any,
        depthwise_constraint: Any,
        bias_constraint: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            activity_regularizer=regularizers.get(activity_regularizer), **kwargs
        )
        rank = self.rank
        self.kernel_size = _int_tuple(self, "kernel_size", kernel_size, rank)
        self.strides = _int_tuple(self, "strides", strides, rank)
        self.padding = _choice(self, "padding", padding, ("valid", "same"))
        self.depth_multiplier = _positive_int(
            self, "depth_multiplier", depth_multiplier
        )
        self.data_format = _data_format(self, data_format)
        self.dilation_rate = _int_tuple(self, "dilation_rate", dilation_rate, rank)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = _spatial_spec(rank, self.data_format)
        lifted = _lifted(rank, self.data_format)
        self._lifted = lifted
        self._op_kernel = _lift(self.kernel_size, 1, lifted)
        self._op_strides = _lift(self.strides, 1, lifted)
        self._op_dilation = _lift(self.dilation_rate, 1, lifted)

    def _add_depthwise_kernel(self, name: str, channels: int) -> torch.nn.Parameter:
        """`(*kernel_size, channels, depth_multiplier)` in Keras layout."""
        return self.add_weight(
            name,
            (*self.kernel_size, channels, self.depth_multiplier),
            self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
            layout=_depthwise_layout(self.rank, channels, self.depth_multiplier),
        )  # stored (channels * depth_multiplier, 1, *kernel_size)

    def _add_bias(self, size: int) -> torch.nn.Parameter | None:
        if not self.use_bias:
            return None
        return self.add_weight(
            "bias",
            (size,),
            self.bias_initializer,
            regularizer=self.bias_regularizer,
            constraint=self.bias_constraint,
        )

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

    def _output_shape(self, input_shape: Shape, channels: int | None) -> Shape:
        def length(i: int, n: int | None) -> int | None:
            k, s = self.kernel_size[i], self.strides[i]
            return _conv_length(n, k, s, self.dilation_rate[i], self.padding)

        return _spatial_output_shape(
            self, input_shape, self.rank, self.data_format, channels, length
        )

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "depth_multiplier": self.depth_multiplier,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            **self._fns_config(_DEPTHWISE_FNS),
        }


class _DepthwiseConv(_Depthwise):
    """Shared body of DepthwiseConv1D/2D."""

    def build(self, input_shape: Shape) -> None:
        """Create `kernel (*kernel_size, in, depth_multiplier)` and `bias`."""
        channels = _input_channels(self, input_shape, self.data_format)
        self.kernel = self._add_depthwise_kernel("kernel", channels)
        self.bias = self._add_bias(channels * self.depth_multiplier)
        self.input_spec = _spatial_spec(self.rank, self.data_format, channels)
        self.built = True

    def _pre_activation(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dtype != self.kernel.dtype:
            inputs = inputs.to(self.kernel.dtype)
        x = _to_torch(inputs, self.rank, self.data_format)  # (batch, in, *spatial)
        y = self._depthwise(x, self.kernel, self.bias)
        return _from_torch(y, self.rank, self.data_format)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """`activation(depthwise_conv(inputs, kernel) + bias)`."""
        return self.activation(self._pre_activation(inputs))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Channels become `in * depth_multiplier`; spatial axes as Conv."""
        channels = input_shape[-1 if self.data_format == "channels_last" else 1]
        out = None if channels is None else channels * self.depth_multiplier
        return self._output_shape(input_shape, out)


class _SeparableConv(_Depthwise):
    """Shared body of SeparableConv1D/2D."""

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int],
        padding: str,
        data_format: str | None,
        dilation_rate: int | Sequence[int],
        depth_multiplier: int,
        activation: ActivationLike,
        use_bias: bool,
        depthwise_initializer: InitializerLike,
        pointwise_initializer: InitializerLike,
        bias_initializer: InitializerLike,
        depthwise_regularizer: Any,
        pointwise_regularizer: Any,
        bias_regularizer: Any,
        activity_regularizer: Any,
        depthwise_constraint: Any,
        pointwise_constraint: Any,
        bias_constraint: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            kernel_size, strides, padding, depth_multiplier, data_format,
            dilation_rate, activation, use_bias, depthwise_initializer,
            bias_initializer, depthwise_regularizer, bias_regularizer,
            activity_regularizer, depthwise_constraint, bias_constraint, **kwargs,
        )  # fmt: skip
        self.filters = _positive_int(self, "filters", filters)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape: Shape) -> None:
        """Create `depthwise_kernel`, `pointwise_kernel` and `bias`."""
        channels = _input_channels(self, input_shape, self.data_format)
        self.depthwise_kernel = self._add_depthwise_kernel("depthwise_kernel", channels)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel",
            (*(1,) * self.rank, channels * self.depth_multiplier, self.filters),
            self.pointwise_initializer,
            regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
            layout=_kernel_layout(self.rank),
        )  # stored (filters, in * depth_multiplier, *ones)
        self.bias = self._add_bias(self.filters)
        self.input_spec = _spatial_spec(self.rank, self.data_format, channels)
        self.built = True

    def _pre_activation(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dtype != self.depthwise_kernel.dtype:
            inputs = inputs.to(self.depthwise_kernel.dtype)
        x = _to_torch(inputs, self.rank, self.data_format)  # (batch, in, *spatial)
        y = self._depthwise(x, self.depthwise_kernel, None)
        if self.data_format == "channels_first":  # pointwise: a 1x1 convolution
            return _conv_torch(
                y, self.pointwise_kernel, self.bias, "valid",
                (1,) * self.rank, (1,) * self.rank, (1,) * self.rank, 1,
            )  # fmt: skip
        y = _from_torch(y, self.rank, self.data_format)  # (batch, *spatial, in * dm)
        pointwise = self.pointwise_kernel.flatten(1)  # (filters, in * dm), a view
        return F.linear(y, pointwise, self.bias)  # (batch, *spatial, filters)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """`activation(pointwise(depthwise(inputs)) + bias)`."""
        return self.activation(self._pre_activation(inputs))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Channels become `filters`; spatial axes as Conv."""
        return self._output_shape(input_shape, self.filters)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "filters": self.filters,
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            **self._fns_config(("pointwise_regularizer", "pointwise_constraint")),
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
        super().__init__(
            kernel_size, strides, padding, depth_multiplier, data_format,
            dilation_rate, activation, use_bias, depthwise_initializer,
            bias_initializer, depthwise_regularizer, bias_regularizer,
            activity_regularizer, depthwise_constraint, bias_constraint, **kwargs,
        )  # fmt: skip


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
        super().__init__(
            kernel_size, strides, padding, depth_multiplier, data_format,
            dilation_rate, activation, use_bias, depthwise_initializer,
            bias_initializer, depthwise_regularizer, bias_regularizer,
            activity_regularizer, depthwise_constraint, bias_constraint, **kwargs,
        )  # fmt: skip


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
        super().__init__(
            filters, kernel_size, strides, padding, data_format, dilation_rate,
            depth_multiplier, activation, use_bias, depthwise_initializer,
            pointwise_initializer, bias_initializer, depthwise_regularizer,
            pointwise_regularizer, bias_regularizer, activity_regularizer,
            depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs,
        )  # fmt: skip


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
        super().__init__(
            filters, kernel_size, strides, padding, data_format, dilation_rate,
            depth_multiplier, activation, use_bias, depthwise_initializer,
            pointwise_initializer, bias_initializer, depthwise_regularizer,
            pointwise_regularizer, bias_regularizer, activity_regularizer,
            depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs,
        )  # fmt: skip


# Keras 2 aliases.
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
