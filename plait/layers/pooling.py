"""Pooling layers: MaxPooling*, AveragePooling*, GlobalMaxPooling*, GlobalAveragePooling*.

Windows run on torch's pooling kernels over channels-last views (no copy, as
in `convolutional`); 1D pooling runs as 2D pooling over a unit rows axis.
`"same"` padding follows Keras: the odd padding element goes at the end, max
pooling ignores padded elements, and average pooling divides by the number of
real (unpadded) elements in each window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from plait.layers.base import Layer
from plait.layers.conv_base import (
    _apply_pairs,
    _choice,
    _conv_length,
    _data_format,
    _from_torch,
    _int_tuple,
    _padding_pairs,
    _spatial_output_shape,
    _spatial_spec,
    _to_torch,
)
from plait.layers.layer_args import attrs_config, forwarded
from plait.types import Shape

__all__ = [
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "AvgPool1D",
    "AvgPool2D",
    "AvgPool3D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling3D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalAvgPool3D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "GlobalMaxPool3D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPool3D",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
]

_MAX_FNS: dict[int, Callable[..., torch.Tensor]] = {4: F.max_pool2d, 5: F.max_pool3d}
_AVG_FNS: dict[int, Callable[..., torch.Tensor]] = {4: F.avg_pool2d, 5: F.avg_pool3d}


def _pool_view(x: torch.Tensor, rank: int, data_format: str) -> torch.Tensor:
    """Torch layout `(batch, channels, *spatial)`; 1D gains a unit rows axis."""
    if rank == 1 and data_format == "channels_first":
        return x.unsqueeze(2)  # (batch, channels, 1, steps)
    return _to_torch(x, rank, data_format)


def _unpool_view(y: torch.Tensor, rank: int, data_format: str) -> torch.Tensor:
    if rank == 1 and data_format == "channels_first":
        return y.squeeze(2)  # (batch, channels, steps)
    return _from_torch(y, rank, data_format)


def _window_sums(
    x: torch.Tensor,
    pairs: list[tuple[int, int]],
    kernel: Sequence[int],
    strides: Sequence[int],
) -> torch.Tensor:
    """Sum of each window of `x` zero-padded by `pairs`."""
    flat = [v for lo, hi in reversed(pairs) for v in (lo, hi)]  # F.pad: last axis first
    return _AVG_FNS[x.dim()](F.pad(x, flat), kernel, strides, divisor_override=1)


class _Pooling(Layer):
    """Shared body of Max/AveragePooling{1,2,3}D."""

    rank: ClassVar[int] = 2
    mode: ClassVar[str] = "max"

    def __init__(
        self,
        *,
        pool_size: int | Sequence[int],
        strides: int | Sequence[int] | None,
        padding: str,
        data_format: str | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        rank = self.rank
        self.pool_size = _int_tuple(self, "pool_size", pool_size, rank)
        self.strides = (
            self.pool_size
            if strides is None
            else _int_tuple(self, "strides", strides, rank)
        )
        self.padding = _choice(self, "padding", padding, ("valid", "same"))
        self.data_format = _data_format(self, data_format)
        self.input_spec = _spatial_spec(rank, self.data_format)
        lift = (1,) if rank == 1 else ()  # 1D pools as 2D over a unit rows axis
        self._op_kernel = (*lift, *self.pool_size)
        self._op_strides = (*lift, *self.strides)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """Pool each window of each channel."""
        x = _pool_view(inputs, self.rank, self.data_format)  # (batch, ch, *spatial)
        kernel, strides = self._op_kernel, self._op_strides
        ones = (1,) * len(kernel)
        pairs = _padding_pairs(self.padding, x.shape[2:], kernel, strides, ones)
        if self.mode == "max":  # padded elements are -inf: never the maximum
            x, pad = _apply_pairs(x, pairs, value=float("-inf"))
            y = _MAX_FNS[x.dim()](x, kernel, strides, pad)
        elif all(lo == hi for lo, hi in pairs):
            pad = tuple(lo for lo, _ in pairs)
            y = _AVG_FNS[x.dim()](x, kernel, strides, pad, count_include_pad=False)
        else:
            # Keras compat: divide by the real elements of each window (as TF and
            # JAX do; Keras's torch backend pads by replicating edges instead).
            ones_map = x.new_ones((1, 1, *x.shape[2:]))
            counts = _window_sums(ones_map, pairs, kernel, strides)  # (1, 1, *out)
            y = _window_sums(x, pairs, kernel, strides) / counts
        return _unpool_view(y, self.rank, self.data_format)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Spatial axes shrink with "valid", become `ceil(n / strides)` with "same"."""

        def length(i: int, n: int | None) -> int | None:
            k, s = self.pool_size[i], self.strides[i]
            return _conv_length(n, k, s, 1, self.padding)

        channels = input_shape[-1 if self.data_format == "channels_last" else 1]
        return _spatial_output_shape(
            self, input_shape, self.rank, self.data_format, channels, length
        )

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "pool_size": list(self.pool_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
        }


class _Pooling1D(_Pooling):
    """Keras's signature of the 1D pooling layers."""

    rank = 1

    def __init__(
        self,
        pool_size: int | Sequence[int] = 2,
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**forwarded(locals()))


class _Pooling2D(_Pooling):
    """Keras's signature of the 2D pooling layers."""

    rank = 2

    def __init__(
        self,
        pool_size: int | Sequence[int] = (2, 2),
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**forwarded(locals()))


class _Pooling3D(_Pooling):
    """Keras's signature of the 3D pooling layers."""

    rank = 3

    def __init__(
        self,
        pool_size: int | Sequence[int] = (2, 2, 2),
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**forwarded(locals()))


class MaxPooling1D(_Pooling1D):
    """Max over windows of time steps.

    Args:
        pool_size: Window length; an int or a tuple of 1 int.
        strides: Step between windows; None (default) = `pool_size`.
        padding: `"valid"` (windows inside the input) or `"same"` (output
            `ceil(steps / strides)`, padded elements ignored).
        data_format: `"channels_last"` (default, `(batch, steps, channels)`) or
            `"channels_first"`.

    Input shape:  `(batch, steps, channels)`.
    Output shape: `(batch, pooled_steps, channels)`.

    Example:
        >>> import torch
        >>> x = torch.tensor([1.0, 3.0, 2.0, 5.0, 4.0]).reshape(1, 5, 1)
        >>> MaxPooling1D(2, strides=1, padding="same")(x).flatten().tolist()
        [3.0, 3.0, 5.0, 5.0, 4.0]
    """

    mode = "max"


class MaxPooling2D(_Pooling2D):
    """Max over windows of rows and columns.

    Args:
        pool_size: Window `(rows, cols)`; an int for a square window.
        strides: Step between windows; None (default) = `pool_size`.
        padding: `"valid"` (windows inside the input) or `"same"` (output
            `ceil(size / strides)`, padded elements ignored).
        data_format: `"channels_last"` (default, `(batch, rows, cols, channels)`)
            or `"channels_first"`.

    Input shape:  `(batch, rows, cols, channels)`.
    Output shape: `(batch, pooled_rows, pooled_cols, channels)`.

    Example:
        >>> import plait
        >>> x = plait.Input(shape=(32, 32, 16))
        >>> MaxPooling2D((3, 3), strides=(1, 1), padding="same")(x).shape
        (None, 32, 32, 16)
        >>> MaxPooling2D()(x).shape
        (None, 16, 16, 16)
    """

    mode = "max"


class MaxPooling3D(_Pooling3D):
    """Max over windows of a volume.

    Args:
        pool_size: Window `(depth, rows, cols)`; an int for a cube.
        strides: Step between windows; None (default) = `pool_size`.
        padding: `"valid"` or `"same"` (output `ceil(size / strides)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:  `(batch, depth, rows, cols, channels)`.
    Output shape: `(batch, pooled_depth, pooled_rows, pooled_cols, channels)`.

    Example:
        >>> import plait
        >>> MaxPooling3D()(plait.Input(shape=(4, 6, 6, 2))).shape
        (None, 2, 3, 3, 2)
    """

    mode = "max"


class AveragePooling1D(_Pooling1D):
    """Mean over windows of time steps.

    Args:
        pool_size: Window length; an int or a tuple of 1 int. (Keras 3 requires
            it; plait keeps Keras 2's default of 2.)
        strides: Step between windows; None (default) = `pool_size`.
        padding: `"valid"` or `"same"` (output `ceil(steps / strides)`; each
            window's mean is over its real elements only).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:  `(batch, steps, channels)`.
    Output shape: `(batch, pooled_steps, channels)`.

    Example:
        >>> import torch
        >>> x = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]).reshape(1, 5, 1)
        >>> AveragePooling1D(2, strides=1, padding="same")(x).flatten().tolist()
        [1.5, 2.5, 3.5, 4.5, 5.0]
    """

    mode = "average"


class AveragePooling2D(_Pooling2D):
    """Mean over windows of rows and columns.

    Args:
        pool_size: Window `(rows, cols)`; an int for a square window. (Keras 3
            requires it; plait keeps Keras 2's default of `(2, 2)`.)
        strides: Step between windows; None (default) = `pool_size`.
        padding: `"valid"` or `"same"` (output `ceil(size / strides)`; each
            window's mean is over its real elements only).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:  `(batch, rows, cols, channels)`.
    Output shape: `(batch, pooled_rows, pooled_cols, channels)`.

    Example:
        >>> import torch
        >>> x = torch.arange(16.0).reshape(1, 4, 4, 1)
        >>> AveragePooling2D((2, 2))(x).flatten().tolist()
        [2.5, 4.5, 10.5, 12.5]
    """

    mode = "average"


class AveragePooling3D(_Pooling3D):
    """Mean over windows of a volume.

    Args:
        pool_size: Window `(depth, rows, cols)`; an int for a cube.
        strides: Step between windows; None (default) = `pool_size`.
        padding: `"valid"` or `"same"` (means over real elements only).
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:  `(batch, depth, rows, cols, channels)`.
    Output shape: `(batch, pooled_depth, pooled_rows, pooled_cols, channels)`.

    Example:
        >>> import plait
        >>> AveragePooling3D(2, padding="same")(plait.Input(shape=(3, 4, 5, 2))).shape
        (None, 2, 2, 3, 2)
    """

    mode = "average"


class _GlobalPooling(Layer):
    """Shared body of Global{Max,Average}Pooling{1,2,3}D."""

    rank: ClassVar[int] = 2
    mode: ClassVar[str] = "max"

    def __init__(
        self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.data_format = _data_format(self, data_format)
        self.keepdims = bool(keepdims)
        self.input_spec = _spatial_spec(self.rank, self.data_format)
        first = 1 if self.data_format == "channels_last" else 2
        self._axes = tuple(range(first, first + self.rank))  # the spatial axes

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """Reduce the spatial axes."""
        if self.mode == "max":
            return inputs.amax(self._axes, keepdim=self.keepdims)
        return inputs.mean(self._axes, keepdim=self.keepdims)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """`(batch, channels)`, or spatial axes kept as 1 with `keepdims`."""
        if not self.keepdims:
            channels = input_shape[-1 if self.data_format == "channels_last" else 1]
            return (input_shape[0], channels)
        return tuple(1 if i in self._axes else n for i, n in enumerate(input_shape))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        names = ("data_format", "keepdims")
        return {**super().get_config(), **attrs_config(self, names)}


class GlobalMaxPooling1D(_GlobalPooling):
    """Max over all time steps.

    Args:
        data_format: `"channels_last"` (default, `(batch, steps, channels)`) or
            `"channels_first"`.
        keepdims: Keep the steps axis (as size 1).

    Input shape:  `(batch, steps, channels)`.
    Output shape: `(batch, channels)`, or `(batch, 1, channels)` with `keepdims`.

    Example:
        >>> import torch
        >>> GlobalMaxPooling1D()(torch.tensor([[[1.0], [3.0], [2.0]]])).tolist()
        [[3.0]]
    """

    rank, mode = 1, "max"


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over all rows and columns.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: Keep the spatial axes (as size 1).

    Input shape:  `(batch, rows, cols, channels)`.
    Output shape: `(batch, channels)`, or `(batch, 1, 1, channels)` with `keepdims`.

    Example:
        >>> import plait
        >>> GlobalMaxPooling2D()(plait.Input(shape=(8, 8, 3))).shape
        (None, 3)
    """

    rank, mode = 2, "max"


class GlobalMaxPooling3D(_GlobalPooling):
    """Max over a whole volume.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: Keep the spatial axes (as size 1).

    Input shape:  `(batch, depth, rows, cols, channels)`.
    Output shape: `(batch, channels)`, or `(batch, 1, 1, 1, channels)`.

    Example:
        >>> import plait
        >>> GlobalMaxPooling3D(keepdims=True)(plait.Input(shape=(2, 3, 4, 5))).shape
        (None, 1, 1, 1, 5)
    """

    rank, mode = 3, "max"


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over all time steps, skipping masked steps.

    With a mask (e.g. from `Embedding(mask_zero=True)`), the mean is over the
    unmasked steps only. The output carries no mask.

    Args:
        data_format: `"channels_last"` (default, `(batch, steps, channels)`) or
            `"channels_first"`.
        keepdims: Keep the steps axis (as size 1).

    Call arguments:
        inputs: The sequence.
        mask: Optional `(batch, steps)` booleans, True for steps to average.

    Input shape:  `(batch, steps, channels)`.
    Output shape: `(batch, channels)`, or `(batch, 1, channels)` with `keepdims`.

    Example:
        >>> import torch
        >>> x = torch.tensor([[[1.0], [3.0], [8.0]]])
        >>> GlobalAveragePooling1D()(x, mask=torch.tensor([[True, True, False]])).tolist()
        [[2.0]]
    """

    rank, mode = 1, "average"

    def __init__(
        self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(data_format, keepdims, **kwargs)
        self.supports_masking = True

    def call(
        self, inputs: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Mean over the (unmasked) steps."""
        if mask is None:
            return inputs.mean(self._axes, keepdim=self.keepdims)
        channel_axis = 2 if self.data_format == "channels_last" else 1
        keep = mask.unsqueeze(channel_axis).bool()  # broadcasts over the channels
        total = torch.where(keep, inputs, 0).sum(self._axes, keepdim=self.keepdims)
        count = keep.to(inputs.dtype).sum(self._axes, keepdim=self.keepdims)
        return total / count

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        """The steps are reduced away: no output mask."""
        return None


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over all rows and columns.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: Keep the spatial axes (as size 1).

    Input shape:  `(batch, rows, cols, channels)`.
    Output shape: `(batch, channels)`, or `(batch, 1, 1, channels)` with `keepdims`.

    Example:
        >>> import plait
        >>> GlobalAveragePooling2D()(plait.Input(shape=(7, 7, 32))).shape
        (None, 32)
    """

    rank, mode = 2, "average"


class GlobalAveragePooling3D(_GlobalPooling):
    """Mean over a whole volume.

    Args:
        data_format: `"channels_last"` (default) or `"channels_first"`.
        keepdims: Keep the spatial axes (as size 1).

    Input shape:  `(batch, depth, rows, cols, channels)`.
    Output shape: `(batch, channels)`, or `(batch, 1, 1, 1, channels)`.

    Example:
        >>> import plait
        >>> GlobalAveragePooling3D()(plait.Input(shape=(2, 3, 4, 5))).shape
        (None, 5)
    """

    rank, mode = 3, "average"


# Keras 2 / Keras 3 short aliases.
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalMaxPool3D = GlobalMaxPooling3D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D
