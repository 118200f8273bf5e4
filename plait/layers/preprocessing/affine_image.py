"""Random affine image layers: `RandomRotation`, `RandomTranslation`, `RandomZoom`.

Each image in training is resampled through a random affine map (Keras's
8-number projective form `[a0, a1, a2, b0, b1, b2, 0, 0]`: output pixel `(x, y)`
reads input point `(a0 x + a1 y + a2, b0 x + b1 y + b2)`), with nearest or
bilinear interpolation and Keras's fill modes for points outside the image.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from plait.layers.base import Layer
from plait.layers.conv_base import _choice
from plait.layers.layer_args import attrs_config
from plait.layers.preprocessing.image import from_nchw, hw_axes, to_nchw
from plait.layers.preprocessing.random_image import _RandomImageLayer

__all__ = ["RandomRotation", "RandomTranslation", "RandomZoom", "affine_transform"]

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_AFFINE_INTERPOLATIONS = ("nearest", "bilinear")


def _fix_index(index: torch.Tensor, size: int, fill_mode: str) -> torch.Tensor:
    """Integer sample positions mapped into `[0, size)` by `fill_mode`."""
    if fill_mode == "wrap":
        return index % size
    if fill_mode == "reflect":  # d c b a | a b c d | d c b a
        period = 2 * size
        folded = index % period
        return torch.where(folded < size, folded, period - 1 - folded)
    return index.clamp(0, size - 1)  # "nearest"; "constant" masks them later


def _nodes(coord: torch.Tensor, interpolation: str) -> list[tuple[torch.Tensor, Any]]:
    """Integer neighbours of `coord` and their interpolation weights."""
    if interpolation == "nearest":
        return [(torch.round(coord).long(), 1.0)]
    lower = torch.floor(coord)
    upper_weight = coord - lower
    return [(lower.long(), 1.0 - upper_weight), (lower.long() + 1, upper_weight)]


def affine_transform(
    images: torch.Tensor,
    transform: torch.Tensor,
    interpolation: str = "bilinear",
    fill_mode: str = "constant",
    fill_value: float = 0.0,
    data_format: str = "channels_last",
) -> torch.Tensor:
    """`images` (rank 3 or 4) resampled through per-image affine `transform`s
    (`(batch, 8)` or `(8,)`, Keras's layout; the last two entries must be 0)."""
    rank = images.ndim
    x = to_nchw(images, data_format).permute(0, 2, 3, 1)  # (N, H, W, C)
    n, height, width = x.shape[:3]
    t = transform.reshape(-1, 8).to(device=x.device, dtype=torch.float64)
    t = t.expand(n, 8) if t.shape[0] == 1 else t
    ys = torch.arange(height, device=x.device, dtype=torch.float64)[:, None]
    xs = torch.arange(width, device=x.device, dtype=torch.float64)[None, :]
    a0, a1, a2, b0, b1, b2 = (t[:, i, None, None] for i in range(6))
    src_x = a0 * xs + a1 * ys + a2  # (N, H, W)
    src_y = b0 * xs + b1 * ys + b2
    batch = torch.arange(n, device=x.device)[:, None, None]
    out = torch.zeros_like(x)
    for iy, wy in _nodes(src_y, interpolation):
        for ix, wx in _nodes(src_x, interpolation):
            values = x[
                batch,
                _fix_index(iy, height, fill_mode),
                _fix_index(ix, width, fill_mode),
            ]
            if fill_mode == "constant":
                inside = (iy >= 0) & (iy < height) & (ix >= 0) & (ix < width)
                values = torch.where(inside[..., None], values, fill_value)
            weight = wy * wx
            if isinstance(weight, torch.Tensor):
                values = values * weight[..., None].to(x.dtype)
            out = out + values
    return from_nchw(out.permute(0, 3, 1, 2), data_format, rank)


def _pair(layer: Layer, name: str, factor: Any) -> tuple[float, float]:
    """A factor as `(lower, upper)` within [-1, 1]: a number `f` is `(-f, f)`."""
    number = isinstance(factor, (int, float)) and not isinstance(factor, bool)
    if number:
        pair = (-abs(float(factor)), abs(float(factor)))
    elif isinstance(factor, (list, tuple)) and len(factor) == 2:
        lo, hi = sorted(float(v) for v in factor)
        pair = (lo, hi)
    else:
        pair = (2.0, 2.0)  # refused below
    if not -1.0 <= pair[0] <= pair[1] <= 1.0:
        raise ValueError(
            f"{layer._where()}: expected `{name}` a number or a pair of numbers "
            f"in [-1, 1], got {name}={factor!r}."
        )
    return pair


class _AffineImageLayer(_RandomImageLayer):
    """A random layer resampling each image through a random affine map."""

    def __init__(
        self,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed, data_format, **kwargs)
        self.fill_mode = _choice(self, "fill_mode", fill_mode, _FILL_MODES)
        self.interpolation = _choice(
            self, "interpolation", interpolation, _AFFINE_INTERPOLATIONS
        )
        self.fill_value = float(fill_value)

    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        n = 1 if x.ndim == 3 else x.shape[0]
        h_axis, w_axis = hw_axes(self.data_format, x.ndim)
        height, width = x.shape[h_axis], x.shape[w_axis]
        transform = self._transforms(n, height, width, x)
        return affine_transform(
            x,
            transform,
            self.interpolation,
            self.fill_mode,
            self.fill_value,
            self.data_format,
        )

    def _transforms(
        self, n: int, height: int, width: int, like: torch.Tensor
    ) -> torch.Tensor:
        raise NotImplementedError

    def _draw(self, n: int, bounds: tuple[float, float]) -> torch.Tensor:
        """`n` uniform float64 draws in `bounds` on the CPU."""
        return self._uniform((n,), bounds[0], bounds[1])

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        names = ("fill_mode", "interpolation", "fill_value")
        return {**super().get_config(), **attrs_config(self, names)}


def _affine(*columns: torch.Tensor | float, n: int) -> torch.Tensor:
    """`(n, 8)` transforms from six columns (numbers or `(n,)` tensors)."""
    cols = [torch.as_tensor(c, dtype=torch.float64).expand(n) for c in columns]
    zeros = torch.zeros(n, dtype=torch.float64)
    return torch.stack([*cols, zeros, zeros], dim=1)


class RandomRotation(_AffineImageLayer):
    """Rotates each image about its centre by a random angle in training.

    Args:
        factor: A fraction of a full turn: `f` for angles in `[-f, f] * 360`
            degrees, or `(lower, upper)` (counter-clockwise for positive).
        fill_mode: How points outside the image are filled: "reflect"
            (default), "wrap", "constant" (`fill_value`) or "nearest".
        interpolation: "bilinear" (default) or "nearest".
        seed: Seeds the layer's own generator.
        fill_value: The value of "constant" filling.
        data_format: "channels_last" (default) or "channels_first".

    Example:
        >>> layer = RandomRotation(0.1, seed=0)
        >>> layer(torch.rand(2, 5, 5, 3), training=True).shape
        torch.Size([2, 5, 5, 3])
    """

    def __init__(self, factor: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.factor = _pair(self, "factor", factor)

    def _transforms(
        self, n: int, height: int, width: int, like: torch.Tensor
    ) -> torch.Tensor:
        angle = self._draw(n, self.factor) * 2.0 * math.pi
        cos, sin = torch.cos(angle), torch.sin(angle)
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        return _affine(
            cos, -sin, cx - cx * cos + cy * sin, sin, cos, cy - cx * sin - cy * cos, n=n
        )

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {**super().get_config(), "factor": list(self.factor)}


class RandomTranslation(_AffineImageLayer):
    """Shifts each image by a random offset in training.

    Args:
        height_factor: A fraction of the height: `f` for vertical shifts in
            `[-f, f] * height`, or `(lower, upper)` (positive moves down).
        width_factor: The same for horizontal shifts (positive moves right).
        fill_mode, interpolation, seed, fill_value, data_format: As in
            `RandomRotation`.

    Example:
        >>> layer = RandomTranslation(0.2, 0.2, fill_mode="constant", seed=0)
        >>> layer(torch.rand(2, 5, 5, 3), training=True).shape
        torch.Size([2, 5, 5, 3])
    """

    def __init__(
        self, height_factor: Any, width_factor: Any, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._height_range = _pair(self, "height_factor", height_factor)
        self._width_range = _pair(self, "width_factor", width_factor)

    def _transforms(
        self, n: int, height: int, width: int, like: torch.Tensor
    ) -> torch.Tensor:
        dy = self._draw(n, self._height_range) * height
        dx = self._draw(n, self._width_range) * width
        return _affine(1.0, 0.0, -dx, 0.0, 1.0, -dy, n=n)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        names = ("height_factor", "width_factor")
        return {**super().get_config(), **attrs_config(self, names)}


class RandomZoom(_AffineImageLayer):
    """Zooms each image about its centre by a random amount in training.

    Args:
        height_factor: `f` for vertical zooms drawn from `[-f, f]`, or
            `(lower, upper)`, in (-1, 1]: the image's height shrinks by
            `1 + value` (positive zooms out, negative zooms in).
        width_factor: The same horizontally; None (default) zooms both ways
            by the same amount, keeping the aspect ratio.
        fill_mode, interpolation, seed, fill_value, data_format: As in
            `RandomRotation`.

    Example:
        >>> layer = RandomZoom((-0.3, -0.1), seed=0)
        >>> layer(torch.rand(2, 5, 5, 3), training=True).shape
        torch.Size([2, 5, 5, 3])
    """

    def __init__(
        self, height_factor: Any, width_factor: Any = None, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._height_range = self._zoom_pair("height_factor", height_factor)
        self._width_range = (
            None
            if width_factor is None
            else self._zoom_pair("width_factor", width_factor)
        )

    def _zoom_pair(self, name: str, factor: Any) -> tuple[float, float]:
        pair = _pair(self, name, factor)
        if pair[0] <= -1.0:
            raise ValueError(
                f"{self._where()}: expected `{name}` in (-1, 1] (a zoom of -1 "
                f"empties the image), got {name}={factor!r}."
            )
        return pair

    def _transforms(
        self, n: int, height: int, width: int, like: torch.Tensor
    ) -> torch.Tensor:
        zh = 1.0 + self._draw(n, self._height_range)
        wide = self._width_range
        zw = zh if wide is None else 1.0 + self._draw(n, wide)
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        return _affine(zw, 0.0, cx * (1.0 - zw), 0.0, zh, cy * (1.0 - zh), n=n)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        names = ("height_factor", "width_factor")
        return {**super().get_config(), **attrs_config(self, names)}
