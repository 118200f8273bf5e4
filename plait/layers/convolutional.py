"""Convolution layers: Conv1D, Conv2D, Conv3D, on channels-last tensors.

They run torch's channels-last kernels on channels-last inputs without copying
them; the arguments, torch layout and padding are shared with the other
convolutions in `conv_base`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from plait.layers.conv_base import (
    _BaseConv,
    _conv_torch,
    _from_torch,
    _kernel_layout,
    _positive_int,
)
from plait.layers.layer_args import add_bias, add_fn_weight, forwarded
from plait.types import ActivationLike, InitializerLike, Shape

__all__ = [
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "Convolution1D",
    "Convolution2D",
    "Convolution3D",
]


class _Conv(_BaseConv):
    """Shared body of Conv1D/2D/3D."""

    _causal = True
    _config_args = (
        "filters",
        "kernel_size",
        "strides",
        "padding",
        "data_format",
        "dilation_rate",
        "groups",
    )

    def __init__(self, *, groups: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.groups = _positive_int(self, "groups", groups)
        if self.filters % self.groups:
            raise ValueError(
                f"{self._where()}: expected `filters` divisible by `groups`, got "
                f"filters={self.filters}, groups={self.groups}."
            )

    def _build_weights(self, channels: int, input_shape: Shape) -> None:
        """Create `kernel (*kernel_size, in / groups, filters)` and `bias`."""
        if channels % self.groups:
            raise ValueError(
                f"{self._where()}: expected input channels divisible by "
                f"groups={self.groups}, got shape {input_shape}."
            )
        self.kernel = add_fn_weight(
            self,
            "kernel",
            (*self.kernel_size, channels // self.groups, self.filters),
            layout=_kernel_layout(self.rank),
        )  # stored (filters, in / groups, *kernel_size)
        self.bias = add_bias(self, (self.filters,))

    def _pre_activation(self, inputs: torch.Tensor) -> torch.Tensor:
        kernel = self.kernel  # one module lookup
        x = self._torch_input(inputs, kernel)  # (batch, in, *spatial)
        weight = kernel.unsqueeze(2) if self._lifted else kernel
        y = _conv_torch(
            x,
            weight,
            self.bias,
            self.padding,
            self._op_kernel,
            self._op_strides,
            self._op_dilation,
            self.groups,
        )  # (batch, filters, *spatial_out)
        return _from_torch(y, self.rank, self.data_format)


class Conv1D(_Conv):
    """1D convolution over time: `activation(conv1d(inputs, kernel) + bias)`.

    Args:
        filters: Number of output channels; a positive int divisible by `groups`.
        kernel_size: Length of the window; an int or a tuple of 1 int.
        strides: Step of the window; an int or a tuple of 1 int.
        padding: `"valid"` (no padding), `"same"` (output length
            `ceil(steps / strides)`, the odd padding element at the end, as
            Keras) or `"causal"` (pad only at the start, so output `t` sees
            inputs up to `t`; for autoregressive models, e.g. WaveNet).
        data_format: `"channels_last"` (default, `(batch, steps, channels)`) or
            `"channels_first"` (`(batch, channels, steps)`).
        dilation_rate: Spacing between the kernel's taps (atrous convolution).
        groups: Number of groups the channels are split into; each group of
            `channels / groups` inputs makes `filters / groups` outputs.
        activation: Name (`"relu"`) or callable for the output; None = identity.
        use_bias: Whether to learn an additive bias.
        kernel_initializer: Name or callable. Default `"glorot_uniform"`.
        bias_initializer: Name or callable. Default `"zeros"`.
        kernel_regularizer: Function of the kernel added to the losses.
        bias_regularizer: Function of the bias added to the losses.
        activity_regularizer: Function of the output added to the losses.
        kernel_constraint: Applied to the kernel after each optimizer step.
        bias_constraint: Applied to the bias after each optimizer step.

    Input shape:  `(batch, steps, channels)`.
    Output shape: `(batch, new_steps, filters)`.
    Weights:      `kernel (kernel_size, channels / groups, filters)`,
        `bias (filters,)`; Keras layout.

    Example:
        >>> import plait
        >>> x = plait.Input(shape=(10, 4))
        >>> Conv1D(8, 3, padding="causal", dilation_rate=2)(x).shape
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
        groups: int = 1,
        activation: ActivationLike = None,
        use_bias: bool = True,
        kernel_initializer: InitializerLike = "glorot_uniform",
        bias_initializer: InitializerLike = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**forwarded(locals()))


class Conv2D(_Conv):
    """2D convolution over images: `activation(conv2d(inputs, kernel) + bias)`.

    Runs torch's channels-last kernels on the channels-last input without
    copying it (see the module docstring).

    Args:
        filters: Number of output channels; a positive int divisible by `groups`.
        kernel_size: Window `(rows, cols)`; an int for a square window.
        strides: Step of the window `(rows, cols)`; an int for both.
        padding: `"valid"` (no padding) or `"same"` (output size
            `ceil(size / strides)`; where the padding is odd, the extra row or
            column goes at the bottom/right, as in Keras).
        data_format: `"channels_last"` (default, `(batch, rows, cols, channels)`)
            or `"channels_first"` (`(batch, channels, rows, cols)`).
        dilation_rate: Spacing between the kernel's taps (atrous convolution).
        groups: Number of groups the channels are split into; each group of
            `channels / groups` inputs makes `filters / groups` outputs.
        activation: Name (`"relu"`) or callable for the output; None = identity.
        use_bias: Whether to learn an additive bias.
        kernel_initializer: Name or callable. Default `"glorot_uniform"`.
        bias_initializer: Name or callable. Default `"zeros"`.
        kernel_regularizer: Function of the kernel added to the losses.
        bias_regularizer: Function of the bias added to the losses.
        activity_regularizer: Function of the output added to the losses.
        kernel_constraint: Applied to the kernel after each optimizer step.
        bias_constraint: Applied to the bias after each optimizer step.

    Input shape:  `(batch, rows, cols, channels)`.
    Output shape: `(batch, new_rows, new_cols, filters)`.
    Weights:      `kernel (kernel_rows, kernel_cols, channels / groups, filters)`,
        `bias (filters,)`; Keras layout (stored in torch's layout).

    Example:
        >>> import plait
        >>> conv = Conv2D(16, (3, 3), padding="same")
        >>> conv(plait.Input(shape=(32, 32, 3))).shape
        (None, 32, 32, 16)
        >>> conv(plait.Input(shape=(64, 64, 3))).shape
        (None, 64, 64, 16)
        >>> [w.shape for w in conv.get_weights()]
        [(3, 3, 3, 16), (16,)]
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
        groups: int = 1,
        activation: ActivationLike = None,
        use_bias: bool = True,
        kernel_initializer: InitializerLike = "glorot_uniform",
        bias_initializer: InitializerLike = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**forwarded(locals()))


class Conv3D(_Conv):
    """3D convolution over volumes: `activation(conv3d(inputs, kernel) + bias)`.

    Args:
        filters: Number of output channels; a positive int divisible by `groups`.
        kernel_size: Window `(depth, rows, cols)`; an int for a cube.
        strides: Step of the window; an int for all three axes.
        padding: `"valid"` (no padding) or `"same"` (output size
            `ceil(size / strides)`, odd padding at the end, as Keras).
        data_format: `"channels_last"` (default,
            `(batch, depth, rows, cols, channels)`) or `"channels_first"`.
        dilation_rate: Spacing between the kernel's taps (atrous convolution).
        groups: Number of groups the channels are split into.
        activation: Name (`"relu"`) or callable for the output; None = identity.
        use_bias: Whether to learn an additive bias.
        kernel_initializer: Name or callable. Default `"glorot_uniform"`.
        bias_initializer: Name or callable. Default `"zeros"`.
        kernel_regularizer: Function of the kernel added to the losses.
        bias_regularizer: Function of the bias added to the losses.
        activity_regularizer: Function of the output added to the losses.
        kernel_constraint: Applied to the kernel after each optimizer step.
        bias_constraint: Applied to the bias after each optimizer step.

    Input shape:  `(batch, depth, rows, cols, channels)`.
    Output shape: `(batch, new_depth, new_rows, new_cols, filters)`.
    Weights:      `kernel (*kernel_size, channels / groups, filters)`,
        `bias (filters,)`; Keras layout.

    Example:
        >>> import plait
        >>> Conv3D(4, 3, strides=2, padding="same")(plait.Input((9, 8, 8, 2))).shape
        (None, 5, 4, 4, 4)
    """

    rank = 3

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = (1, 1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = (1, 1, 1),
        groups: int = 1,
        activation: ActivationLike = None,
        use_bias: bool = True,
        kernel_initializer: InitializerLike = "glorot_uniform",
        bias_initializer: InitializerLike = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**forwarded(locals()))


# Keras 2 aliases.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
