"""Keras 2's locally connected layers: LocallyConnected1D, LocallyConnected2D.

A locally connected layer is a convolution whose filters are not shared: each
output position has its own kernel. Keras 3 removed these layers; plait keeps
them with Keras 2's arguments and weight layouts so Keras 2 files load.

Keras 2 offers three implementations, which compute the same function but keep
the kernel in different shapes (and so save it differently); plait keeps the
kernel in the implementation's own shape, Keras 2's layout:

- 1: one `(features, filters)` matrix per output position:
  `(positions, kernel_size * channels_in, filters)`; `valid` padding only.
- 2: a dense `(input..., output...)` kernel multiplied by the connectivity mask.
- 3: only the connected entries, a flat vector, scattered into the dense kernel.

With `channels_first` Keras 2 adds its `(positions..., filters)` bias after a
plain reshape to `(filters, positions...)`; plait does the same, so the
layers predict as Keras 2's.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import torch

from plait import activations
from plait.layers.base import Layer
from plait.layers.conv_base import (
    _choice,
    _data_format,
    _input_channels,
    _int_tuple,
    _positive_int,
    _spatial_spec,
)
from plait.layers.layer_args import (
    add_bias,
    add_fn_weight,
    set_weight_fns,
    weight_fns_config,
)
from plait.types import ActivationLike, InitializerLike, Shape

__all__ = ["LocallyConnected1D", "LocallyConnected2D"]


def _out_length(size: int, kernel: int, stride: int, padding: str) -> int:
    length = size - kernel + 1 if padding == "valid" else size
    return (length + stride - 1) // stride


def _connected(
    in_shape: tuple[int, ...],
    kernel: tuple[int, ...],
    strides: tuple[int, ...],
    padding: str,
    position: tuple[int, ...],
) -> list[range]:
    """The input positions, per axis, that output `position` sees (Keras 2's rule)."""
    out = []
    for d, size in enumerate(in_shape):
        left = kernel[d] // 2
        center = position[d] * strides[d] + (left if padding == "valid" else 0)
        out.append(range(max(0, center - left), min(size, center + kernel[d] - left)))
    return out


class _LocallyConnected(Layer):
    """Shared implementation of `LocallyConnected1D` and `LocallyConnected2D`."""

    _rank = 0

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        activation: ActivationLike = None,
        use_bias: bool = True,
        kernel_initializer: InitializerLike = "glorot_uniform",
        bias_initializer: InitializerLike = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        implementation: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        rank = self._rank
        self.filters = _positive_int(self, "filters", filters)
        self.kernel_size = _int_tuple(self, "kernel_size", kernel_size, rank)
        self.strides = _int_tuple(self, "strides", strides, rank)
        self.padding = _choice(self, "padding", padding, ("valid", "same"))
        self.data_format = _data_format(self, data_format)
        if implementation not in (1, 2, 3):
            raise ValueError(
                f"{self._where()}: expected `implementation` in (1, 2, 3), "
                f"got implementation={implementation!r}."
            )
        if implementation == 1 and self.padding != "valid":
            raise ValueError(
                f"{self._where()}: expected padding='valid' with implementation=1 "
                f"(use implementation 2 or 3 for 'same'), got padding={padding!r}."
            )
        self.implementation = implementation
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        set_weight_fns(self, ("kernel", "bias"), locals())
        self.input_spec = _spatial_spec(rank, self.data_format)

    # ------------------------------------------------------------------ shapes
    def _spatial(self, input_shape: Shape) -> tuple[int, ...]:
        dims = (
            input_shape[1:-1]
            if self.data_format == "channels_last"
            else input_shape[2:]
        )
        if any(d is None for d in dims):
            raise ValueError(
                f"{self._where()}: expected the input's spatial dimensions to be "
                f"known (each position has its own kernel), got shape {input_shape}."
            )
        return tuple(int(d) for d in dims)  # type: ignore[arg-type]

    def _out_spatial(self, in_spatial: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(
            _out_length(size, k, s, self.padding)
            for size, k, s in zip(in_spatial, self.kernel_size, self.strides)
        )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        out = self._out_spatial(self._spatial(input_shape))
        if self.data_format == "channels_first":
            return (input_shape[0], self.filters, *out)
        return (input_shape[0], *out, self.filters)

    def _join(self, spatial: tuple[int, ...], channels: int) -> tuple[int, ...]:
        """A full (batch-less) shape from spatial dims and channels."""
        if self.data_format == "channels_first":
            return (channels, *spatial)
        return (*spatial, channels)

    # ------------------------------------------------------------------ build
    def build(self, input_shape: Shape) -> None:
        in_spatial = self._spatial(input_shape)
        channels = _input_channels(self, input_shape, self.data_format)
        out_spatial = self._out_spatial(in_spatial)
        if any(d < 1 for d in out_spatial):
            raise ValueError(
                f"{self._where()}: expected an input at least as large as the kernel "
                f"{self.kernel_size}, got shape {input_shape}."
            )
        self._in_spatial, self._channels = in_spatial, channels
        self._out_spatial_shape = out_spatial
        first = self.data_format == "channels_first"
        if self.implementation == 1:
            shape: tuple[int, ...] = (
                math.prod(out_spatial),
                math.prod(self.kernel_size) * channels,
                self.filters,
            )
        elif self.implementation == 2:
            if first:
                shape = (channels, *in_spatial, self.filters, *out_spatial)
            else:
                shape = (*in_spatial, channels, *out_spatial, self.filters)
            self.register_buffer(
                "kernel_mask", torch.from_numpy(self._mask()), persistent=False
            )
        else:
            idxs = self._kernel_idxs()
            shape = (len(idxs),)
            self.register_buffer(
                "kernel_idxs",
                torch.tensor(idxs, dtype=torch.long).reshape(-1, 2),
                persistent=False,
            )
        self.kernel = add_fn_weight(self, "kernel", shape)
        self.bias = add_bias(self, (*out_spatial, self.filters))
        self.input_spec = _spatial_spec(self._rank, self.data_format, channels)
        self.built = True

    def _positions(self) -> Any:
        return itertools.product(*(range(d) for d in self._out_spatial_shape))

    def _mask(self) -> np.ndarray:
        """Keras 2's connectivity mask, shaped like the implementation-2 kernel."""
        mask = np.zeros(self._in_spatial + self._out_spatial_shape, dtype=np.float32)
        for pos in self._positions():
            ranges = _connected(
                self._in_spatial, self.kernel_size, self.strides, self.padding, pos
            )
            for inp in itertools.product(*ranges):
                mask[inp + pos] = 1.0
        if self.data_format == "channels_first":
            return mask.reshape((1, *self._in_spatial, 1, *self._out_spatial_shape))
        return mask.reshape((*self._in_spatial, 1, *self._out_spatial_shape, 1))

    def _kernel_idxs(self) -> list[tuple[int, int]]:
        """Keras 2's `(output index, input index)` of each connected entry, sorted."""
        out_dims = self._join(self._out_spatial_shape, self.filters)
        in_dims = self._join(self._in_spatial, self._channels)
        idxs = []
        for pos in self._positions():
            ranges = _connected(
                self._in_spatial, self.kernel_size, self.strides, self.padding, pos
            )
            for inp in itertools.product(*ranges):
                for c in range(self._channels):
                    i = int(np.ravel_multi_index(self._join(inp, c), in_dims))
                    for f in range(self.filters):
                        o = int(np.ravel_multi_index(self._join(pos, f), out_dims))
                        idxs.append((o, i))
        return sorted(idxs)

    # ------------------------------------------------------------------ call
    def _patches(self, x: torch.Tensor) -> torch.Tensor:
        """`(batch, positions, features)`, features in Keras 2's order."""
        rank, first = self._rank, self.data_format == "channels_first"
        offset = 2 if first else 1
        for d in range(rank):
            x = x.unfold(offset + d, self.kernel_size[d], self.strides[d])
        # channels_last: (b, *out, c, *k) -> (b, *out, *k, c)
        # channels_first: (b, c, *out, *k) -> (b, *out, c, *k)
        if first:
            perm = [0, *range(2, 2 + rank), 1, *range(2 + rank, 2 + 2 * rank)]
        else:
            perm = [0, *range(1, 1 + rank), *range(2 + rank, 2 + 2 * rank), 1 + rank]
        x = x.permute(perm)
        return x.reshape(x.shape[0], math.prod(self._out_spatial_shape), -1)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        kernel = self.kernel
        x = inputs.to(kernel.dtype) if inputs.dtype != kernel.dtype else inputs
        batch, out_spatial = x.shape[0], self._out_spatial_shape
        if self.implementation == 1:
            y = torch.einsum("bpf,pfo->bpo", self._patches(x), kernel)
            y = y.reshape(batch, *out_spatial, self.filters)
            if self.data_format == "channels_first":
                y = y.movedim(-1, 1)
        else:
            in_size = math.prod(self._in_spatial) * self._channels
            out_size = math.prod(out_spatial) * self.filters
            if self.implementation == 2:
                dense = (kernel * self.kernel_mask).reshape(in_size, out_size)
            else:
                idxs = self.kernel_idxs
                dense = kernel.new_zeros(out_size, in_size)
                dense = dense.index_put((idxs[:, 0], idxs[:, 1]), kernel).t()
            y = (x.reshape(batch, -1) @ dense).reshape(
                batch, *self._join(out_spatial, self.filters)
            )
        if self.bias is not None:
            if self.data_format == "channels_first":
                y = y + self.bias.reshape(1, self.filters, *out_spatial)
            else:
                y = y + self.bias
        return self.activation(y)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_fns_config(self, ("kernel", "bias")),
            "implementation": self.implementation,
        }


class LocallyConnected1D(_LocallyConnected):
    """Keras 2's `LocallyConnected1D`: a Conv1D whose weights are not shared.

    Args:
        filters: Number of output channels.
        kernel_size: Window length (an int or a 1-tuple).
        strides: Stride of the window.
        padding: `"valid"`, or `"same"` with implementation 2 or 3.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        activation, use_bias, kernel_*/bias_*, activity_regularizer: As for
            `Conv1D`.
        implementation: 1, 2 or 3: how the kernel is kept (see the module).

    Input shape:  `(batch, steps, channels)` (channels_last), steps known.
    Output shape: `(batch, new_steps, filters)`.
    Weights:      `kernel` in Keras 2's shape for the implementation, `bias
                  (new_steps, filters)`.

    Example:
        >>> import plait
        >>> LocallyConnected1D(4, 3)(plait.Input(shape=(10, 2))).shape
        (None, 8, 4)
    """

    _rank = 1


class LocallyConnected2D(_LocallyConnected):
    """Keras 2's `LocallyConnected2D`: a Conv2D whose weights are not shared.

    Args:
        filters: Number of output channels.
        kernel_size: Window size (an int or 2 ints).
        strides: Strides (an int or 2 ints).
        padding: `"valid"`, or `"same"` with implementation 2 or 3.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        activation, use_bias, kernel_*/bias_*, activity_regularizer: As for
            `Conv2D`.
        implementation: 1, 2 or 3: how the kernel is kept (see the module).

    Input shape:  `(batch, rows, cols, channels)` (channels_last), rows and
                  cols known.
    Output shape: `(batch, new_rows, new_cols, filters)`.
    Weights:      `kernel` in Keras 2's shape for the implementation, `bias
                  (new_rows, new_cols, filters)`.

    Example:
        >>> import plait
        >>> LocallyConnected2D(4, 3)(plait.Input(shape=(6, 6, 2))).shape
        (None, 4, 4, 4)
    """

    _rank = 2
