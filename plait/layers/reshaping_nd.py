"""Spatial reshaping layers: ZeroPadding*, Cropping*, UpSampling* (1D, 2D, 3D).

All keep the input's dtype, integers included. Cropping returns a view;
padding and nearest upsampling make one copy each.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from plait.layers.base import Layer
from plait.layers.conv_base import (
    _choice,
    _data_format,
    _from_torch,
    _int_tuple,
    _spatial_spec,
    _to_torch,
)
from plait.types import Shape

__all__ = [
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
    "UpSampling1D",
    "UpSampling2D",
    "UpSampling3D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "ZeroPadding3D",
]

Pairs = tuple[tuple[int, int], ...]


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _pairs(layer: Layer, name: str, value: Any, rank: int) -> Pairs:
    """`(before, after)` per spatial axis from Keras's accepted forms.

    An int (the same everywhere); for 1D a pair `(before, after)`; for 2D/3D
    `rank` ints (symmetric per axis) or `rank` pairs.
    """
    pairs: Any = None
    if _is_int(value):
        pairs = ((int(value), int(value)),) * rank
    elif isinstance(value, (list, tuple)) and rank == 1:
        if len(value) == 2 and all(_is_int(v) for v in value):
            pairs = ((int(value[0]), int(value[1])),)
    elif isinstance(value, (list, tuple)) and len(value) == rank:
        pairs = []
        for v in value:
            if _is_int(v):
                pairs.append((int(v), int(v)))
            elif (
                isinstance(v, (list, tuple))
                and len(v) == 2
                and all(_is_int(e) for e in v)
            ):
                pairs.append((int(v[0]), int(v[1])))
            else:
                pairs = None
                break
    if pairs is None:
        forms = (
            "an int or a pair (before, after)"
            if rank == 1
            else f"an int, {rank} ints, or {rank} pairs (before, after)"
        )
        raise ValueError(
            f"{layer._where()}: expected `{name}` to be {forms}, got {name}={value!r}."
        )
    if any(v < 0 for pair in pairs for v in pair):
        raise ValueError(
            f"{layer._where()}: expected `{name}` values >= 0, got {name}={value!r}."
        )
    return tuple(pairs)


def _spatial_axes(rank: int, data_format: str) -> tuple[int, ...]:
    first = 1 if data_format == "channels_last" else 2
    return tuple(range(first, first + rank))


def _pairs_config(pairs: Pairs) -> list[Any]:
    """`[[before, after], ...]`; 1D layers take (and give) one flat pair."""
    return list(pairs[0]) if len(pairs) == 1 else [list(p) for p in pairs]


class _Spatial(Layer):
    """What ZeroPadding, Cropping and UpSampling share: the data format, the
    spatial axes, and a per-axis output shape."""

    rank: ClassVar[int] = 2
    _keeps_input_dtype = True

    def _set_data_format(self, data_format: str | None) -> None:
        self.data_format = _data_format(self, data_format)
        self.input_spec = _spatial_spec(self.rank, self.data_format)
        self._axes = _spatial_axes(self.rank, self.data_format)

    def _per_axis(
        self, input_shape: Shape, values: Sequence[Any], fn: Callable[[int, Any], int]
    ) -> Shape:
        """`input_shape` with `fn(n, value)` on each spatial axis; None stays None."""
        out = list(input_shape)
        for axis, value in zip(self._axes, values):
            n = out[axis]
            out[axis] = None if n is None else fn(n, value)
        return tuple(out)

    def _config(self, name: str, value: Any) -> dict[str, Any]:
        """Constructor arguments: `name`'s value and the data format."""
        return {**super().get_config(), name: value, "data_format": self.data_format}


class _ZeroPadding(_Spatial):
    """Shared body of ZeroPadding{1,2,3}D."""

    def __init__(self, padding: Any, data_format: str | None, /, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.padding = _pairs(self, "padding", padding, self.rank)
        self._set_data_format(data_format)
        tail = [0, 0] if self.data_format == "channels_last" else []  # channels
        # F.pad takes (before, after) from the last axis backwards.
        self._flat = [*tail, *(v for pair in reversed(self.padding) for v in pair)]

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """Pad the spatial axes with zeros."""
        return F.pad(inputs, self._flat)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Each spatial axis grows by its padding; None stays None."""
        return self._per_axis(input_shape, self.padding, lambda n, p: n + p[0] + p[1])

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return self._config("padding", _pairs_config(self.padding))


class ZeroPadding1D(_ZeroPadding):
    """Adds zeros at the start and end of the time axis.

    Args:
        padding: An int (both ends) or a pair `(before, after)`.
        data_format: `"channels_last"` (default, `(batch, steps, channels)`) or
            `"channels_first"`.

    Input shape:  `(batch, steps, channels)`.
    Output shape: `(batch, before + steps + after, channels)`.

    Example:
        >>> import torch
        >>> ZeroPadding1D((1, 2))(torch.ones(1, 2, 1)).flatten().tolist()
        [0.0, 1.0, 1.0, 0.0, 0.0]
    """

    rank = 1

    def __init__(
        self, padding: Any = 1, data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Adds rows and columns of zeros around images.

    Args:
        padding: An int (all sides), `(rows, cols)` (symmetric per axis), or
            `((top, bottom), (left, right))`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:  `(batch, rows, cols, channels)`.
    Output shape: `(batch, padded_rows, padded_cols, channels)`.

    Example:
        >>> import plait
        >>> ZeroPadding2D(((1, 0), (2, 3)))(plait.Input(shape=(4, 4, 3))).shape
        (None, 5, 9, 3)
    """

    rank = 2

    def __init__(
        self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Adds zeros around volumes.

    Args:
        padding: An int, 3 ints (symmetric per axis), or 3 pairs
            `(before, after)` for `(depth, rows, cols)`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:  `(batch, depth, rows, cols, channels)`.
    Output shape: `(batch, padded_depth, padded_rows, padded_cols, channels)`.

    Example:
        >>> import plait
        >>> ZeroPadding3D(1)(plait.Input(shape=(2, 3, 4, 1))).shape
        (None, 4, 5, 6, 1)
    """

    rank = 3

    def __init__(
        self,
        padding: Any = ((1, 1), (1, 1), (1, 1)),
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(padding, data_format, **kwargs)


class _Cropping(_Spatial):
    """Shared body of Cropping{1,2,3}D."""

    def __init__(
        self, cropping: Any, data_format: str | None, /, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.cropping = _pairs(self, "cropping", cropping, self.rank)
        self._set_data_format(data_format)

    def _check(self, shape: Sequence[int | None]) -> None:
        for axis, (lo, hi) in zip(self._axes, self.cropping):
            n = shape[axis]
            if n is not None and lo + hi >= n:
                raise ValueError(
                    f"{self._where()}: expected cropping {self.cropping} to leave "
                    f"at least one element on each axis, got shape "
                    f"{tuple(shape)}."
                )

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """Crop the spatial axes (a view, no copy)."""
        self._check(tuple(inputs.shape))
        out = inputs
        for axis, (lo, hi) in zip(self._axes, self.cropping):
            out = out.narrow(axis, lo, out.shape[axis] - lo - hi)
        return out

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Each spatial axis shrinks by its cropping; None stays None."""
        self._check(input_shape)
        return self._per_axis(input_shape, self.cropping, lambda n, c: n - c[0] - c[1])

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return self._config("cropping", _pairs_config(self.cropping))


class Cropping1D(_Cropping):
    """Removes steps at the start and end of the time axis.

    Args:
        cropping: An int (both ends) or a pair `(before, after)`.

    Input shape:  `(batch, steps, channels)`.
    Output shape: `(batch, steps - before - after, channels)`.

    Example:
        >>> import torch
        >>> Cropping1D((1, 2))(torch.arange(5.0).reshape(1, 5, 1)).flatten().tolist()
        [1.0, 2.0]
    """

    rank = 1

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any) -> None:
        super().__init__(cropping, None, **kwargs)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        del config["data_format"]
        return config


class Cropping2D(_Cropping):
    """Removes rows and columns at the borders of images.

    Args:
        cropping: An int (all sides), `(rows, cols)` (symmetric per axis), or
            `((top, bottom), (left, right))`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:  `(batch, rows, cols, channels)`.
    Output shape: `(batch, cropped_rows, cropped_cols, channels)`.

    Example:
        >>> import plait
        >>> Cropping2D(((2, 2), (4, 4)))(plait.Input(shape=(28, 28, 3))).shape
        (None, 24, 20, 3)
    """

    rank = 2

    def __init__(
        self,
        cropping: Any = ((0, 0), (0, 0)),
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Removes elements at the borders of volumes.

    Args:
        cropping: An int, 3 ints (symmetric per axis), or 3 pairs
            `(before, after)` for `(depth, rows, cols)`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:  `(batch, depth, rows, cols, channels)`.
    Output shape: `(batch, cropped_depth, cropped_rows, cropped_cols, channels)`.

    Example:
        >>> import plait
        >>> Cropping3D(1)(plait.Input(shape=(4, 5, 6, 2))).shape
        (None, 2, 3, 4, 2)
    """

    rank = 3

    def __init__(
        self,
        cropping: Any = ((1, 1), (1, 1), (1, 1)),
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(cropping, data_format, **kwargs)


class _UpSampling(_Spatial):
    """Shared body of UpSampling{1,2,3}D."""

    def __init__(
        self,
        size: int | Sequence[int],
        data_format: str | None,
        interpolation: str,
        /,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.size = _int_tuple(self, "size", size, self.rank)
        self._set_data_format(data_format)
        smooth = ("nearest", "bilinear", "bicubic")
        choices = smooth if self.rank == 2 else ("nearest",)
        self.interpolation = _choice(self, "interpolation", interpolation, choices)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """Repeat each element `size` times along each spatial axis."""
        if self.interpolation in ("bilinear", "bicubic"):
            x = _to_torch(inputs, self.rank, self.data_format)  # (b, ch, rows, cols)
            rows, cols = x.shape[2] * self.size[0], x.shape[3] * self.size[1]
            # Keras compat: half-pixel centres, no antialiasing (ops.image.resize).
            y = F.interpolate(
                x, size=(rows, cols), mode=self.interpolation, align_corners=False
            )
            return _from_torch(y, self.rank, self.data_format)
        # Nearest: insert a unit axis after each spatial axis, expand it to the
        # factor, and merge the pairs: (b, r, c, ch) -> (b, r, 2, c, 2, ch) -> ...
        view: list[int] = []
        expanded: list[int] = []
        out: list[int] = []
        factors = dict(zip(self._axes, self.size))
        for axis, n in enumerate(inputs.shape):
            s = factors.get(axis)
            view += [n] if s is None else [n, 1]
            expanded += [n] if s is None else [n, s]
            out.append(n if s is None else n * s)
        return inputs.reshape(view).expand(expanded).reshape(out)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Each spatial axis times its factor; None stays None."""
        return self._per_axis(input_shape, self.size, lambda n, s: n * s)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return self._config("size", list(self.size))


class UpSampling1D(_UpSampling):
    """Repeats each time step `size` times.

    Args:
        size: Repetition factor; a positive int.

    Input shape:  `(batch, steps, features)`.
    Output shape: `(batch, steps * size, features)`.

    Example:
        >>> import torch
        >>> UpSampling1D(2)(torch.tensor([[[1.0], [2.0]]])).flatten().tolist()
        [1.0, 1.0, 2.0, 2.0]
    """

    rank = 1

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        super().__init__(size, None, "nearest", **kwargs)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        del config["data_format"]
        config["size"] = self.size[0]
        return config


class UpSampling2D(_UpSampling):
    """Upsamples images by repeating rows and columns, or bilinearly.

    Args:
        size: Factors `(rows, cols)`; an int for both.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        interpolation: `"nearest"` (repeat, exact for any dtype),
            `"bilinear"` or `"bicubic"` (half-pixel centres, as Keras and
            `F.interpolate(align_corners=False)`).

    Input shape:  `(batch, rows, cols, channels)`.
    Output shape: `(batch, rows * size[0], cols * size[1], channels)`.

    Example:
        >>> import torch
        >>> UpSampling2D((1, 2))(torch.tensor([[[[1.0], [2.0]]]])).flatten().tolist()
        [1.0, 1.0, 2.0, 2.0]
    """

    rank = 2

    def __init__(
        self,
        size: int | Sequence[int] = (2, 2),
        data_format: str | None = None,
        interpolation: str = "nearest",
        **kwargs: Any,
    ) -> None:
        super().__init__(size, data_format, interpolation, **kwargs)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {**super().get_config(), "interpolation": self.interpolation}


class UpSampling3D(_UpSampling):
    """Upsamples volumes by repeating elements along depth, rows and columns.

    Args:
        size: Factors `(depth, rows, cols)`; an int for all three.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:  `(batch, depth, rows, cols, channels)`.
    Output shape: `(batch, depth * s0, rows * s1, cols * s2, channels)`.

    Example:
        >>> import plait
        >>> UpSampling3D((1, 2, 3))(plait.Input(shape=(2, 3, 4, 1))).shape
        (None, 2, 6, 12, 1)
    """

    rank = 3

    def __init__(
        self,
        size: int | Sequence[int] = (2, 2, 2),
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(size, data_format, "nearest", **kwargs)
