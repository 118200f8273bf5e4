"""Deterministic image preprocessing layers: `Rescaling`, `Resizing`, `CenterCrop`.

Images are rank-4 batches `(batch, height, width, channels)` (Keras's default
`data_format="channels_last"`) or rank-3 single images; the layers run on the
input's device with torch ops.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from plait.layers.base import Layer
from plait.types import Shape
from plait.utils.settings import image_data_format

__all__ = ["CenterCrop", "Rescaling", "Resizing", "resize_images"]

# Keras's names -> torch's `F.interpolate` modes (Keras's torch backend maps
# "nearest" to "nearest-exact", the half-pixel rule TF uses). "area" is
# torch's adaptive average pooling, which Keras's torch backend lacks.
_INTERPOLATIONS = {
    "bilinear": "bilinear",
    "nearest": "nearest-exact",
    "bicubic": "bicubic",
    "area": "area",
}


def check_data_format(where: str, data_format: str | None) -> str:
    """`data_format`, None meaning the image data format (Keras's default)."""
    if data_format is None:
        return image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{where}: expected `data_format` in ('channels_last', "
            f"'channels_first'), got data_format={data_format!r}."
        )
    return data_format


def check_size(where: str, **sizes: Any) -> tuple[int, ...]:
    """Each of `sizes` as a positive int."""
    out = []
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(
                f"{where}: expected `{name}` a positive int, got {name}={value!r}."
            )
        out.append(value)
    return tuple(out)


def check_image_rank(where: str, x: torch.Tensor) -> None:
    """Refuse anything but a rank-3 image or a rank-4 batch of images."""
    if x.ndim not in (3, 4):
        raise ValueError(
            f"{where}: expected images of rank 3 or 4, got shape {tuple(x.shape)}."
        )


def as_float(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """`x` in the float `dtype` (integer images such as uint8 included)."""
    return x if x.dtype == dtype else x.to(dtype)


def to_nchw(x: torch.Tensor, data_format: str) -> torch.Tensor:
    """A rank-3 or rank-4 image batch as `(N, C, H, W)`."""
    if x.ndim == 3:
        x = x.unsqueeze(0)
    return x.permute(0, 3, 1, 2) if data_format == "channels_last" else x


def from_nchw(x: torch.Tensor, data_format: str, rank: int) -> torch.Tensor:
    """Undo `to_nchw` for an input of rank `rank`."""
    if data_format == "channels_last":
        x = x.permute(0, 2, 3, 1)
    return x.squeeze(0) if rank == 3 else x


def hw_axes(data_format: str, rank: int) -> tuple[int, int]:
    """The height and width axes of an image of `rank`."""
    return (
        (rank - 3, rank - 2) if data_format == "channels_last" else (rank - 2, rank - 1)
    )


def aspect_box(
    height: int, width: int, target_h: int, target_w: int
) -> tuple[int, int, int, int]:
    """The centred `(top, left, h, w)` box of the target's aspect ratio."""
    crop_h = max(min(height, int(float(width * target_h) / target_w)), 1)
    crop_w = max(min(width, int(float(height * target_w) / target_h)), 1)
    return int((height - crop_h) / 2), int((width - crop_w) / 2), crop_h, crop_w


def resize_images(
    images: torch.Tensor,
    size: tuple[int, int],
    interpolation: str = "bilinear",
    antialias: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    fill_value: float = 0.0,
    data_format: str = "channels_last",
) -> torch.Tensor:
    """`images` (rank 3 or 4, float) resized to `size`, as Keras's torch backend does.

    Cropping keeps the centred box of the target's aspect ratio; padding adds
    `fill_value` bands of equal size on both sides (so, like Keras, an odd
    difference loses its last row or column). Antialiasing applies to the
    bilinear and bicubic modes only.
    """
    rank = images.ndim
    x = to_nchw(images, data_format)
    height, width = x.shape[-2], x.shape[-1]
    th, tw = size
    if crop_to_aspect_ratio:
        top, left, ch, cw = aspect_box(height, width, th, tw)
        x = x[:, :, top : top + ch, left : left + cw]
    elif pad_to_aspect_ratio:
        pad_h = max(height, int(float(width * th) / tw))
        pad_w = max(width, int(float(height * tw) / th))
        top, left = int((pad_h - height) / 2), int((pad_w - width) / 2)
        if top > 0 or left > 0:
            x = F.pad(x, (left, left, top, top), value=float(fill_value))
    mode = _INTERPOLATIONS[interpolation]
    smooth = mode in ("bilinear", "bicubic")
    out = F.interpolate(
        x,
        size=(th, tw),
        mode=mode,
        align_corners=False if smooth else None,
        antialias=antialias and smooth,
    )
    return from_nchw(out, data_format, rank)


class Rescaling(Layer):
    """Multiplies the inputs by `scale` and adds `offset`.

    Args:
        scale: The factor (a number, or per-channel values broadcast against
            the last axis).
        offset: The value added after scaling.

    Example:
        >>> Rescaling(1 / 127.5, offset=-1)(torch.tensor([0.0, 255.0])).tolist()
        [-1.0, 1.0]
    """

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """`inputs * scale + offset` in the compute dtype."""
        x = as_float(inputs, self._compute_dtype)
        scale = torch.as_tensor(self.scale, dtype=x.dtype, device=x.device)
        offset = torch.as_tensor(self.offset, dtype=x.dtype, device=x.device)
        return x * scale + offset

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Unchanged."""
        return input_shape

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class _ImageSizeLayer(Layer):
    """A layer mapping images to `(height, width)` images."""

    def __init__(
        self, height: int, width: int, data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.height, self.width = check_size(self._where(), height=height, width=width)
        self.data_format = check_data_format(self._where(), data_format)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The input's shape with the target height and width."""
        shape = list(input_shape)
        if len(shape) not in (3, 4):
            raise ValueError(
                f"{self._where()}: expected images of rank 3 or 4, got shape "
                f"{tuple(input_shape)}."
            )
        h_axis, w_axis = hw_axes(self.data_format, len(shape))
        shape[h_axis], shape[w_axis] = self.height, self.width
        return tuple(shape)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "data_format": self.data_format,
        }


class Resizing(_ImageSizeLayer):
    """Resizes images to `(height, width)`.

    Args:
        height, width: The output size.
        interpolation: "bilinear" (default), "nearest", "bicubic" or "area".
        crop_to_aspect_ratio: Crop the centred box of the target's aspect
            ratio first, so the image is not distorted.
        pad_to_aspect_ratio: Pad with `fill_value` to the target's aspect ratio
            first instead.
        fill_mode: Only "constant".
        fill_value: The padding value.
        antialias: Smooth before downsampling (bilinear and bicubic).
        data_format: "channels_last" (default) or "channels_first".

    Example:
        >>> Resizing(2, 2)(torch.ones(1, 4, 4, 3)).shape
        torch.Size([1, 2, 2, 3])
    """

    def __init__(
        self,
        height: int,
        width: int,
        interpolation: str = "bilinear",
        crop_to_aspect_ratio: bool = False,
        pad_to_aspect_ratio: bool = False,
        fill_mode: str = "constant",
        fill_value: float = 0.0,
        antialias: bool = False,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(height, width, data_format, **kwargs)
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(
                f"{self._where()}: expected `interpolation` in "
                f"{tuple(_INTERPOLATIONS)}, got interpolation={interpolation!r}."
            )
        if fill_mode != "constant":
            raise ValueError(
                f"{self._where()}: expected fill_mode='constant', got "
                f"fill_mode={fill_mode!r}."
            )
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(
                f"{self._where()}: expected at most one of `crop_to_aspect_ratio` "
                "and `pad_to_aspect_ratio`, got both True."
            )
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = fill_mode
        self.fill_value = float(fill_value)
        self.antialias = bool(antialias)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """The resized images."""
        check_image_rank(self._where(), inputs)
        return resize_images(
            as_float(inputs, self._compute_dtype),
            (self.height, self.width),
            self.interpolation,
            self.antialias,
            self.crop_to_aspect_ratio,
            self.pad_to_aspect_ratio,
            self.fill_value,
            self.data_format,
        )

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "antialias": self.antialias,
        }


def center_crop(
    images: torch.Tensor, height: int, width: int, data_format: str
) -> torch.Tensor:
    """The centred `(height, width)` crop; an image smaller than that in either
    side is cropped to the target's aspect ratio and resized (bilinear)."""
    h_axis, w_axis = hw_axes(data_format, images.ndim)
    in_h, in_w = images.shape[h_axis], images.shape[w_axis]
    if in_h >= height and in_w >= width:
        top, left = (in_h - height) // 2, (in_w - width) // 2
        return images.narrow(h_axis, top, height).narrow(w_axis, left, width)
    return resize_images(
        images, (height, width), crop_to_aspect_ratio=True, data_format=data_format
    )


class CenterCrop(_ImageSizeLayer):
    """Crops the centre `(height, width)` of images.

    An image smaller than the target in either side is cropped to the
    target's aspect ratio and resized instead, as in Keras.

    Args:
        height, width: The output size.
        data_format: "channels_last" (default) or "channels_first".

    Example:
        >>> CenterCrop(2, 2)(torch.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0].tolist()
        [[5.0, 6.0], [9.0, 10.0]]
    """

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """The centred crops."""
        check_image_rank(self._where(), inputs)
        x = as_float(inputs, self._compute_dtype)
        return center_crop(x, self.height, self.width, self.data_format)
