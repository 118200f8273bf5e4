"""Image ops of `plait.ops` (`keras.ops.image`), channels-last like Keras."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from plait.layers.ops import symbolic_op
from plait.layers.preprocessing.image import (
    _INTERPOLATIONS,
    check_image_rank,
    check_size,
    resize_images,
)
from plait.ops._tensor import config, convert, missing, to_float

__all__ = ["crop_images", "pad_images", "resize", "rgb_to_grayscale"]


def _channels_first(
    images: torch.Tensor, data_format: str | None
) -> tuple[torch.Tensor, bool, bool]:
    last = (data_format or config["image_data_format"]) == "channels_last"
    batched = images.ndim == 4
    t = images if batched else images.unsqueeze(0)
    return (t.permute(0, 3, 1, 2) if last else t), last, batched


def _restore(t: torch.Tensor, last: bool, batched: bool) -> torch.Tensor:
    t = t.permute(0, 2, 3, 1) if last else t
    return t if batched else t[0]


@symbolic_op("image.resize")
def resize(
    images: Any,
    size: Any,
    interpolation: str = "bilinear",
    antialias: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    fill_mode: str = "constant",
    fill_value: float = 0.0,
    data_format: str | None = None,
) -> torch.Tensor:
    """Resize `(batch, h, w, c)` or `(h, w, c)` images to `size = (height, width)`.

    The same resize as the `Resizing` layer (`resize_images`): Keras's
    interpolations ("nearest" at half-pixel centres), `crop_to_aspect_ratio`
    (the centred box) or `pad_to_aspect_ratio` (`fill_value` bands). Integer
    images come back in their dtype, rounded half to even, as Keras's.
    """
    where = "ops.image.resize"
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(
            f"{where}: expected interpolation in {sorted(_INTERPOLATIONS)}, got "
            f"interpolation={interpolation!r}."
        )
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(
            f"{where}: expected at most one of crop_to_aspect_ratio and "
            "pad_to_aspect_ratio, got both."
        )
    if fill_mode != "constant":
        raise ValueError(f"{where}: expected fill_mode='constant', got {fill_mode!r}.")
    source = convert(images)
    check_image_rank(where, source)
    height, width = check_size(where, height=int(size[0]), width=int(size[1]))
    out = resize_images(
        to_float(source),
        (height, width),
        interpolation,
        antialias,
        crop_to_aspect_ratio,
        pad_to_aspect_ratio,
        fill_value,
        data_format or config["image_data_format"],
    )
    if source.dtype.is_floating_point or source.dtype == torch.bool:
        return out
    # Clamped to the dtype's range where bicubic overshoots.
    info = torch.iinfo(source.dtype)
    return out.round().clamp(info.min, info.max).to(source.dtype)


@symbolic_op("image.rgb_to_grayscale")
def rgb_to_grayscale(images: Any, data_format: str | None = None) -> torch.Tensor:
    """Luma (ITU-R 601: 0.2989 R + 0.5870 G + 0.1140 B), one channel kept."""
    source = convert(images)
    t, last, batched = _channels_first(to_float(source), data_format)
    weights = torch.tensor([0.2989, 0.5870, 0.1140], dtype=t.dtype, device=t.device)
    out = torch.sum(t * weights.reshape(1, 3, 1, 1), dim=1, keepdim=True)
    # Keras compat: int images give int (truncated) luma.
    return _restore(out, last, batched).to(source.dtype)


def _borders(
    height: int,
    width: int,
    top: int | None,
    left: int | None,
    bottom: int | None,
    right: int | None,
    target_height: int | None,
    target_width: int | None,
) -> tuple[int, int, int, int]:
    top = top or 0
    left = left or 0
    bottom = (
        bottom
        if bottom is not None
        else (target_height - height - top if target_height is not None else 0)
    )
    right = (
        right
        if right is not None
        else (target_width - width - left if target_width is not None else 0)
    )
    return top, left, bottom, right


@symbolic_op("image.pad_images")
def pad_images(
    images: Any,
    top_padding: int | None = None,
    left_padding: int | None = None,
    bottom_padding: int | None = None,
    right_padding: int | None = None,
    target_height: int | None = None,
    target_width: int | None = None,
    data_format: str | None = None,
) -> torch.Tensor:
    """Zero-pad images to `target_height x target_width` (or by the given borders)."""
    t, last, batched = _channels_first(convert(images), data_format)
    top, left, bottom, right = _borders(
        t.shape[2],
        t.shape[3],
        top_padding,
        left_padding,
        bottom_padding,
        right_padding,
        target_height,
        target_width,
    )
    return _restore(F.pad(t, [left, right, top, bottom]), last, batched)


@symbolic_op("image.crop_images")
def crop_images(
    images: Any,
    top_cropping: int | None = None,
    left_cropping: int | None = None,
    bottom_cropping: int | None = None,
    right_cropping: int | None = None,
    target_height: int | None = None,
    target_width: int | None = None,
    data_format: str | None = None,
) -> torch.Tensor:
    """Crop images to `target_height x target_width` (or by the given borders)."""
    t, last, batched = _channels_first(convert(images), data_format)
    h, w = t.shape[2], t.shape[3]
    top, left = top_cropping or 0, left_cropping or 0
    height = (
        h - top - (bottom_cropping or 0) if target_height is None else target_height
    )
    width = w - left - (right_cropping or 0) if target_width is None else target_width
    return _restore(t[:, :, top : top + height, left : left + width], last, batched)


NOT_PROVIDED: dict[str, str] = {}


__getattr__ = missing("plait.ops.image", NOT_PROVIDED)

# The filters and warps use the helpers above, hence imported last.
from plait.ops import image_filters, image_warp  # noqa: E402
from plait.ops.image_filters import *  # noqa: E402, F403
from plait.ops.image_warp import *  # noqa: E402, F403

__all__ += image_filters.__all__ + image_warp.__all__
