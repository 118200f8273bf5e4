"""Random image augmentation layers: `RandomFlip`, `RandomCrop`, `RandomContrast`,
`RandomBrightness`.

They act only in training (`training=True`, as `fit` calls them, or a module in
`train()` mode) and are the identity otherwise (`RandomCrop` then crops to its
output size without randomness). The random draws are small (one or a few
numbers per image) and come from the layer's own CPU generator when `seed=` is
given, so a seeded layer gives the same augmentations on every device; without
a seed they come from torch's global generator (`plait.utils.set_random_seed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from plait.layers.base import Layer
from plait.layers.call_api import same_shape
from plait.layers.conv_base import _data_format
from plait.layers.layer_args import attrs_config
from plait.layers.preprocessing.image import (
    _ImageSizeLayer,
    as_float,
    check_image_rank,
    hw_axes,
    resize_images,
)

__all__ = ["RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip"]

_FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


class _Seeded:
    """Uniform draws from a generator seeded with `seed` (global when None)."""

    seed: int | None
    _generator: torch.Generator | None

    def _init_seed(self, seed: int | None) -> None:
        self.seed = seed
        self._generator = None

    def _uniform(
        self,
        shape: Sequence[int],
        low: float,
        high: float,
        like: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Uniform values in `[low, high)`, in `like`'s dtype and on its device
        (float64 on the CPU without `like`)."""
        if self.seed is not None and self._generator is None:
            self._generator = torch.Generator().manual_seed(int(self.seed))
        u = torch.rand(tuple(shape), generator=self._generator, dtype=torch.float64)
        u = u * (high - low) + low
        return u if like is None else u.to(device=like.device, dtype=like.dtype)


def _per_image(x: torch.Tensor) -> tuple[int, ...]:
    """The shape of one value per image, broadcastable against `x`."""
    return (1, 1, 1) if x.ndim == 3 else (x.shape[0], 1, 1, 1)


class _RandomImageLayer(_Seeded, Layer):
    """A seeded layer that is the identity outside training."""

    def __init__(
        self, seed: int | None = None, data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._init_seed(seed)
        self.data_format = _data_format(self, data_format)

    def call(self, inputs: torch.Tensor, training: bool | None = True) -> torch.Tensor:
        """The augmented images in training, the inputs otherwise."""
        check_image_rank(self._where(), inputs)
        x = as_float(inputs, self._compute_dtype)
        return self._augment(x) if training else x

    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    compute_output_shape = same_shape

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        names = ("seed", "data_format")
        return {**super().get_config(), **attrs_config(self, names)}


class RandomFlip(_RandomImageLayer):
    """Flips each image at random (probability 1/2) in training.

    Args:
        mode: "horizontal" (left-right), "vertical" (up-down) or
            "horizontal_and_vertical" (default; as in Keras 3, one draw per
            image flips it both ways, i.e. turns it by 180 degrees).
        seed: Seeds the layer's own generator.
        data_format: "channels_last" (default) or "channels_first".

    Example:
        >>> x = torch.arange(4.0).reshape(1, 2, 2, 1)
        >>> torch.equal(RandomFlip()(x, training=False), x)  # identity in inference
        True
        >>> flipped = RandomFlip("horizontal", seed=1)(torch.arange(8.0).reshape(4, 1, 2, 1))
        >>> flipped.flatten(1).tolist()  # called alone: training, as in Keras
        [[1.0, 0.0], [3.0, 2.0], [5.0, 4.0], [7.0, 6.0]]
    """

    def __init__(
        self,
        mode: str = "horizontal_and_vertical",
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed, data_format, **kwargs)
        if mode not in _FLIP_MODES:
            raise ValueError(
                f"{self._where()}: expected `mode` in {_FLIP_MODES}, got mode={mode!r}."
            )
        self.mode = mode

    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        flips = self._uniform(_per_image(x), 0.0, 1.0, x) <= 0.5
        h_axis, w_axis = hw_axes(self.data_format, x.ndim)
        axes = {
            "horizontal": [w_axis],
            "vertical": [h_axis],
            "horizontal_and_vertical": [h_axis, w_axis],
        }[self.mode]
        return torch.where(flips, x.flip(axes), x)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {**super().get_config(), "mode": self.mode}


class RandomCrop(_Seeded, _ImageSizeLayer):
    """Crops a random `(height, width)` window of the images in training.

    One window per call (the same for every image in the batch, as in Keras).
    Outside training, and in training when an image is not larger than the
    target in both sides, the images are cropped to the target's aspect ratio
    around their centre and resized (bilinear) to `(height, width)`.

    Args:
        height, width: The output size.
        seed: Seeds the layer's own generator.
        data_format: "channels_last" (default) or "channels_first".

    Example:
        >>> RandomCrop(2, 3, seed=0)(torch.ones(4, 5, 5, 3), training=True).shape
        torch.Size([4, 2, 3, 3])
    """

    def __init__(
        self,
        height: int,
        width: int,
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(height, width, data_format, **kwargs)
        self._init_seed(seed)

    def call(self, inputs: torch.Tensor, training: bool | None = True) -> torch.Tensor:
        """Random crops in training, centred aspect-ratio crops resized otherwise."""
        check_image_rank(self._where(), inputs)
        x = as_float(inputs, self._compute_dtype)
        h_axis, w_axis = hw_axes(self.data_format, x.ndim)
        in_h, in_w = x.shape[h_axis], x.shape[w_axis]
        if training and in_h > self.height and in_w > self.width:
            starts = self._uniform((2,), 0.0, 1.0)
            top = min(int(starts[0] * (in_h - self.height + 1)), in_h - self.height)
            left = min(int(starts[1] * (in_w - self.width + 1)), in_w - self.width)
            return x.narrow(h_axis, top, self.height).narrow(w_axis, left, self.width)
        if (in_h, in_w) == (self.height, self.width):
            return x
        return resize_images(
            x,
            (self.height, self.width),
            crop_to_aspect_ratio=True,
            data_format=self.data_format,
        )

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {**super().get_config(), "seed": self.seed}


def _factor_range(
    layer: Layer, factor: Any, bounds: tuple[float, float], symmetric: bool
) -> tuple[float, float]:
    """`factor` as `(lower, upper)` within `bounds`: a number `f` means
    `(-f, f)` when `symmetric`, else `(f, f)`; a pair is sorted."""
    ok = isinstance(factor, (int, float)) and not isinstance(factor, bool)
    if ok:
        f = abs(float(factor))
        pair = (-f, f) if symmetric else (f, f)
    elif isinstance(factor, (list, tuple)) and len(factor) == 2:
        lo, hi = sorted(float(v) for v in factor)
        pair = (lo, hi)
    else:
        pair = (bounds[1] + 1.0, 0.0)  # refused below
    if not (bounds[0] <= pair[0] <= pair[1] <= bounds[1]):
        raise ValueError(
            f"{layer._where()}: expected `factor` a number or a pair of numbers "
            f"in [{bounds[0]:g}, {bounds[1]:g}], got factor={factor!r}."
        )
    return pair


def _value_range(layer: Layer, value_range: Any) -> tuple[float, float]:
    if not isinstance(value_range, (list, tuple)) or len(value_range) != 2:
        raise ValueError(
            f"{layer._where()}: expected `value_range` a pair (low, high), got "
            f"value_range={value_range!r}."
        )
    lo, hi = sorted(float(v) for v in value_range)
    return lo, hi


class _RangedImageLayer(_RandomImageLayer):
    """A random layer with a `factor` and a `value_range` the outputs are clipped to."""

    _bounds: tuple[float, float] = (0.0, 1.0)
    _symmetric: bool = False

    def __init__(
        self,
        factor: Any,
        value_range: Sequence[float] = (0, 255),
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed, data_format, **kwargs)
        self.factor = _factor_range(self, factor, self._bounds, self._symmetric)
        self.value_range = _value_range(self, value_range)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "factor": list(self.factor),
            "value_range": list(self.value_range),
        }


class RandomContrast(_RangedImageLayer):
    """Scales each image's deviation from its per-channel mean by a random factor.

    In training, each image gets a factor drawn uniformly from
    `[1 - lower, 1 + upper]`; `(x - mean) * factor + mean` is clipped to
    `value_range`. (Keras 3.15's own code turns a single number `f` into
    `[1, 1 + f]`; this follows its documentation, `[1 - f, 1 + f]`.)

    Args:
        factor: `f` in [0, 1] for `lower = upper = f`, or `(lower, upper)`.
        value_range: The `(low, high)` range of the images' values.
        seed: Seeds the layer's own generator.
        data_format: "channels_last" (default) or "channels_first".

    Example:
        >>> layer = RandomContrast(0.5, value_range=(0, 1), seed=1)
        >>> out = layer(torch.rand(2, 4, 4, 3), training=True)
        >>> bool(out.min() >= 0 and out.max() <= 1)
        True
    """

    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        lower, upper = self.factor
        scale = self._uniform(_per_image(x), 1.0 - lower, 1.0 + upper, x)
        mean = x.mean(dim=hw_axes(self.data_format, x.ndim), keepdim=True)
        low, high = self.value_range
        return ((x - mean) * scale + mean).clamp(low, high)


class RandomBrightness(_RangedImageLayer):
    """Adds a random offset to each image in training.

    Each image gets `delta * (high - low)`, `delta` drawn uniformly from
    `[lower, upper]` and `(low, high)` the `value_range`; the result is clipped
    to `value_range`.

    Args:
        factor: `f` in [0, 1] for `(-f, f)`, or `(lower, upper)` in [-1, 1].
        value_range: The `(low, high)` range of the images' values.
        seed: Seeds the layer's own generator.
        data_format: "channels_last" (default) or "channels_first".

    Example:
        >>> layer = RandomBrightness(0.2, value_range=(0, 1), seed=1)
        >>> out = layer(torch.full((2, 3, 3, 1), 0.5), training=True)
        >>> bool(((out - 0.5).abs() <= 0.2).all())
        True
    """

    _bounds = (-1.0, 1.0)
    _symmetric = True

    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        lower, upper = self.factor
        low, high = self.value_range
        delta = self._uniform(_per_image(x), lower, upper, x) * (high - low)
        return (x + delta).clamp(low, high)
