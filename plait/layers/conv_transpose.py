"""Transposed convolution layers: Conv1DTranspose, Conv2DTranspose, Conv3DTranspose.

Output sizes follow Keras 3 (TF/JAX semantics). torch's `conv_transpose` crops
`padding` from both ends and adds `output_padding` at the end only, so where
Keras crops more at the end (`"same"` with an odd kernel and stride 2, e.g.)
the layer crops the extra elements with a view after the op.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from plait.layers.conv_base import (
    _BaseConv,
    _from_torch,
    _int_tuple,
    _kernel_layout,
    _lift,
)
from plait.layers.layer_args import add_bias, add_fn_weight, forwarded
from plait.types import ActivationLike, InitializerLike, Shape

__all__ = [
    "Conv1DTranspose",
    "Conv2DTranspose",
    "Conv3DTranspose",
    "Convolution1DTranspose",
    "Convolution2DTranspose",
    "Convolution3DTranspose",
]

_CONV_T_FNS: dict[int, Callable[..., torch.Tensor]] = {
    3: F.conv_transpose1d,
    4: F.conv_transpose2d,
    5: F.conv_transpose3d,
}


def _keras_pads(
    kernel: int, stride: int, dilation: int, padding: str, output_padding: int | None
) -> tuple[int, int]:
    """Keras's (JAX's) padding of the stride-dilated input for one axis.

    A transposed convolution is a convolution of the input dilated by `stride`
    and padded by `(before, after)`; `output_padding` adds to `after`.
    """
    effective = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(effective, stride) - effective
        extra = extra if output_padding is None else output_padding
        return effective - 1, effective - 1 + extra
    if output_padding is None:  # output length `size * stride`
        total = stride + effective - 2
    else:
        total = effective + effective % 2 - 2 + output_padding
    before = min(total // 2 + total % 2, effective - 1)
    return before, total - before


def _transpose_length(
    size: int | None,
    kernel: int,
    stride: int,
    dilation: int,
    padding: str,
    output_padding: int | None,
) -> int | None:
    """Output length of one axis (Keras's formula); None stays None."""
    if size is None:
        return None
    before, after = _keras_pads(kernel, stride, dilation, padding, output_padding)
    effective = (kernel - 1) * dilation + 1
    return (size - 1) * stride + 1 + before + after - effective + 1


class _ConvTranspose(_BaseConv):
    """Shared body of Conv{1,2,3}DTranspose."""

    _config_args = (
        "filters",
        "kernel_size",
        "strides",
        "padding",
        "output_padding",
        "data_format",
        "dilation_rate",
    )

    def __init__(
        self, *, output_padding: int | Sequence[int] | None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        rank = self.rank
        self.output_padding: tuple[int, ...] | None = None
        if output_padding is not None:
            self.output_padding = _int_tuple(
                self, "output_padding", output_padding, rank, minimum=0
            )
            if any(p >= s for p, s in zip(self.output_padding, self.strides)):
                raise ValueError(
                    f"{self._where()}: expected `output_padding` smaller than "
                    f"`strides` on every axis, got output_padding="
                    f"{output_padding!r}, strides={self.strides}."
                )
        lifted = self._lifted
        # torch arguments: `padding` crops the start, `output_padding` the end less.
        crops = []
        for i in range(rank):
            k, s, d = self.kernel_size[i], self.strides[i], self.dilation_rate[i]
            before, after = _keras_pads(k, s, d, self.padding, self._op_pad(i))
            crops.append(((k - 1) * d - before, (k - 1) * d - after))
        self._op_padding = _lift(tuple(lo for lo, _ in crops), 0, lifted)
        extra = tuple(lo - hi for lo, hi in crops)  # > 0: torch output_padding
        self._op_output_padding = _lift(tuple(max(e, 0) for e in extra), 0, lifted)
        self._trim = _lift(tuple(max(-e, 0) for e in extra), 0, lifted)  # crop after

    def _op_pad(self, i: int) -> int | None:
        return None if self.output_padding is None else self.output_padding[i]

    def _build_weights(self, channels: int, input_shape: Shape) -> None:
        """Create `kernel (*kernel_size, filters, in)` and `bias (filters,)`."""
        self.kernel = add_fn_weight(
            self,
            "kernel",
            (*self.kernel_size, self.filters, channels),
            layout=_kernel_layout(self.rank),
        )  # stored (in, filters, *kernel_size), torch's conv_transpose layout
        self.bias = add_bias(self, (self.filters,))

    def _pre_activation(self, inputs: torch.Tensor) -> torch.Tensor:
        x = self._torch_input(inputs, self.kernel)  # (batch, in, *spatial)
        weight = self.kernel.unsqueeze(2) if self._lifted else self.kernel
        y = _CONV_T_FNS[x.dim()](
            x,
            weight,
            self.bias,
            self._op_strides,
            self._op_padding,
            self._op_output_padding,
            1,
            self._op_dilation,
        )  # (batch, filters, *spatial_out)
        for axis, trim in enumerate(self._trim, start=2):
            if trim:  # Keras crops one more element at the end than torch can
                y = y.narrow(axis, 0, y.shape[axis] - trim)
        return _from_torch(y, self.rank, self.data_format)

    def _length(self, i: int, n: int | None) -> int | None:
        """`size * strides` with "same"; see Keras for "valid" and `output_padding`."""
        k, s, d = self.kernel_size[i], self.strides[i], self.dilation_rate[i]
        return _transpose_length(n, k, s, d, self.padding, self._op_pad(i))


class Conv1DTranspose(_ConvTranspose):
    """Transposed 1D convolution ("deconvolution"): upsamples sequences.

    The gradient of a Conv1D with respect to its input, used as a layer.

    Args:
        filters: Number of output channels; a positive int.
        kernel_size: Length of the window; an int or a tuple of 1 int.
        strides: Upsampling factor; an int or a tuple of 1 int.
        padding: `"valid"` (output `(steps - 1) * strides + max(kernel, strides)`)
            or `"same"` (output `steps * strides`).
        output_padding: Extra elements at the end of the output, each smaller
            than the stride; None lets `padding` decide the output length.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: Spacing between the kernel's taps.
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
    Weights:      `kernel (kernel_size, filters, channels)`, `bias (filters,)`;
        Keras layout (note `filters` before `channels`).

    Example:
        >>> import plait
        >>> Conv1DTranspose(4, 3, strides=2, padding="same")(
        ...     plait.Input(shape=(5, 2))
        ... ).shape
        (None, 10, 4)
    """

    rank = 1

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        output_padding: int | Sequence[int] | None = None,
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = 1,
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


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2D convolution ("deconvolution"): upsamples images.

    The gradient of a Conv2D with respect to its input, used as a layer, e.g.
    in decoders and GAN generators.

    Args:
        filters: Number of output channels; a positive int.
        kernel_size: Window `(rows, cols)`; an int for a square window.
        strides: Upsampling factor `(rows, cols)`; an int for both.
        padding: `"valid"` (output `(size - 1) * strides + max(kernel, strides)`)
            or `"same"` (output `size * strides`).
        output_padding: Extra rows/cols at the end of the output, each smaller
            than the stride; None lets `padding` decide the output size.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dilation_rate: Spacing between the kernel's taps.
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
    Weights:      `kernel (kernel_rows, kernel_cols, filters, channels)`,
        `bias (filters,)`; Keras layout (note `filters` before `channels`).

    Example:
        >>> import plait
        >>> up = Conv2DTranspose(8, (3, 3), strides=(2, 2), padding="same")
        >>> up(plait.Input(shape=(7, 7, 16))).shape
        (None, 14, 14, 8)
    """

    rank = 2

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = (1, 1),
        padding: str = "valid",
        output_padding: int | Sequence[int] | None = None,
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = (1, 1),
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


class Conv3DTranspose(_ConvTranspose):
    """Transposed 3D convolution ("deconvolution"): upsamples volumes.

    Args:
        filters: Number of output channels; a positive int.
        kernel_size: Window `(depth, rows, cols)`; an int for a cube.
        strides: Upsampling factor; an int for all three axes.
        padding: `"valid"` or `"same"` (output `size * strides`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        output_padding: Extra elements at the end of each axis, each smaller
            than the stride; None lets `padding` decide. (Keras 3 puts this
            argument after `data_format` for Conv3DTranspose only.)
        dilation_rate: Spacing between the kernel's taps.
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
    Weights:      `kernel (*kernel_size, filters, channels)`, `bias (filters,)`;
        Keras layout.

    Example:
        >>> import plait
        >>> Conv3DTranspose(2, 2, strides=2)(plait.Input(shape=(3, 4, 4, 1))).shape
        (None, 6, 8, 8, 2)
    """

    rank = 3

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = (1, 1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        output_padding: int | Sequence[int] | None = None,
        dilation_rate: int | Sequence[int] = (1, 1, 1),
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
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
