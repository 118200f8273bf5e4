"""Images as PIL images and NumPy arrays: `load_img`, `img_to_array`, `array_to_img`,
`save_img` (Keras 3's `keras.utils` names, also `plait.preprocessing.image`).

Results equal Keras's: the same colour conversions, PIL resampling filters, centre
crop for `keep_aspect_ratio`, and min-max scaling in `array_to_img`. Pillow is an
optional dependency (`pip install "plait[image]"`); it is imported when a function
needs it, so importing this module never fails.

`data_format=None` means `plait.backend.image_data_format()`, read without importing
the backend (utils sit below it): when the backend has not been loaded, the setting
cannot have been changed from Keras's default, `"channels_last"`.
"""

from __future__ import annotations

import io
import pathlib
import sys
import warnings
from typing import Any

import numpy as np
import torch

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img"]

PIL_HINT = "install Pillow: pip install pillow (or pip install 'plait[image]')"

# Keras's names of PIL's resampling filters.
INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")
COLOR_MODES = {"grayscale": 1, "rgb": 3, "rgba": 4}


def pil_image(caller: str) -> Any:
    """`PIL.Image`, or an ImportError naming `caller` and how to install Pillow."""
    try:
        from PIL import Image
    except ImportError as err:
        raise ImportError(
            f"{caller}: expected Pillow to be installed; {PIL_HINT}."
        ) from err
    return Image


def image_data_format(data_format: str | None, caller: str) -> str:
    """`data_format`, or the backend's setting when None; checked."""
    if data_format is None:
        tensor = sys.modules.get("plait.ops._tensor")  # set by plait.backend
        data_format = (
            "channels_last" if tensor is None else tensor.config["image_data_format"]
        )
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{caller}: expected `data_format` 'channels_last' or 'channels_first', "
            f"got {data_format!r}."
        )
    return str(data_format)


def floatx(dtype: Any) -> Any:
    """`dtype`, or Keras's `floatx()` (torch's default float dtype) when None."""
    if dtype is None:
        return str(torch.get_default_dtype()).replace("torch.", "")
    return dtype


def array_to_img(
    x: Any, data_format: str | None = None, scale: bool = True, dtype: Any = None
) -> Any:
    """A 3-D array as a PIL image.

    Args:
        x: One image, `(height, width, channels)` (or channels first), with 1, 3
            or 4 channels.
        data_format: `"channels_last"` or `"channels_first"`; None: the backend's.
        scale: Stretch the values to [0, 255] (min to 0, max to 255) first.
        dtype: Dtype the array is read as; None: `floatx()`.

    Returns:
        A PIL image: mode `"L"` (or `"I"` above 255), `"RGB"` or `"RGBA"`.

    Raises:
        ValueError: an array not of rank 3, or a channel count other than 1, 3, 4.
    """
    data_format = image_data_format(data_format, "array_to_img")
    image = pil_image("array_to_img")
    x = np.asarray(x, dtype=floatx(dtype))
    if x.ndim != 3:
        raise ValueError(
            f"array_to_img: expected one image of rank 3, got shape {x.shape}."
        )
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x /= top
        x *= 255
    channels = x.shape[2]
    if channels in (3, 4):
        return image.fromarray(x.astype("uint8"), "RGB" if channels == 3 else "RGBA")
    if channels == 1:
        if np.max(x) > 255:
            return image.fromarray(x[:, :, 0].astype("int32"), "I")
        return image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(
        f"array_to_img: expected 1, 3 or 4 channels, got {channels} (shape {x.shape})."
    )


def img_to_array(
    img: Any, data_format: str | None = None, dtype: Any = None
) -> np.ndarray:
    """A PIL image (or any 2-D/3-D array-like) as a 3-D array.

    Args:
        img: The image.
        data_format: `"channels_last"` or `"channels_first"`; None: the backend's.
        dtype: Dtype of the array; None: `floatx()`.

    Returns:
        `(height, width, channels)` (or channels first); a grayscale image gets
        one channel.

    Raises:
        ValueError: an image that is neither 2-D nor 3-D.
    """
    data_format = image_data_format(data_format, "img_to_array")
    x = np.asarray(img, dtype=floatx(dtype))
    if x.ndim == 2:
        x = x[None] if data_format == "channels_first" else x[..., None]
    elif x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    else:
        raise ValueError(
            f"img_to_array: expected a 2-D or 3-D image, got shape {x.shape}."
        )
    return x


def save_img(
    path: Any,
    x: Any,
    data_format: str | None = None,
    file_format: str | None = None,
    scale: bool = True,
    **kwargs: Any,
) -> None:
    """Save a 3-D array as an image file.

    Args:
        path: File path or writable file object.
        x: The image array (see `array_to_img`).
        data_format: `"channels_last"` or `"channels_first"`; None: the backend's.
        file_format: Format name (`"png"`, `"jpeg"`, ...); None: from the file
            name's extension (needed for file objects).
        scale: Stretch the values to [0, 255] first.
        **kwargs: Passed on to `PIL.Image.Image.save`.

    Warns:
        UserWarning: an RGBA image saved as JPEG is converted to RGB.
    """
    data_format = image_data_format(data_format, "save_img")
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("save_img: JPEG has no alpha channel; saving the image as RGB.")
        img = img.convert("RGB")
    img.save(path, format=file_format or None, **kwargs)


def _open(path: Any, caller: str) -> Any:
    image = pil_image(caller)
    if isinstance(path, io.BytesIO):
        return image.open(path)
    if isinstance(path, (pathlib.Path, bytes, str)):
        if isinstance(path, pathlib.Path):
            path = str(path.resolve())
        with open(path, "rb") as f:  # read whole: no file handle stays open
            return image.open(io.BytesIO(f.read()))
    raise TypeError(
        f"{caller}: expected a path (str, bytes, pathlib.Path) or io.BytesIO, got "
        f"{type(path).__name__}."
    )


def convert(img: Any, color_mode: str, caller: str) -> Any:
    """`img` in `color_mode`: grayscale keeps 8/16/32-bit gray modes as they are."""
    if color_mode == "grayscale":
        return img if img.mode in ("L", "I;16", "I") else img.convert("L")
    if color_mode in ("rgb", "rgba"):
        mode = color_mode.upper()
        return img if img.mode == mode else img.convert(mode)
    raise ValueError(
        f"{caller}: expected `color_mode` 'grayscale', 'rgb' or 'rgba', got "
        f"{color_mode!r}."
    )


def load_img(
    path: Any,
    color_mode: str = "rgb",
    target_size: tuple[int, int] | None = None,
    interpolation: str = "nearest",
    keep_aspect_ratio: bool = False,
) -> Any:
    """Read an image file into a PIL image.

    Args:
        path: File path (str, bytes, `pathlib.Path`) or `io.BytesIO`.
        color_mode: `"grayscale"`, `"rgb"` or `"rgba"`.
        target_size: `(height, width)` to resize to; None keeps the size.
        interpolation: PIL filter for the resize: `"nearest"`, `"bilinear"`,
            `"bicubic"`, `"hamming"`, `"box"` or `"lanczos"`.
        keep_aspect_ratio: Resize the largest centred crop with the target's
            aspect ratio (no distortion) instead of the whole image.

    Returns:
        A PIL image.

    Raises:
        ImportError: Pillow is not installed.
        TypeError: `path` of another type.
        ValueError: an unknown `color_mode` or `interpolation`.
    """
    img = convert(_open(path, "load_img"), color_mode, "load_img")
    if target_size is None:
        return img
    size = (int(target_size[1]), int(target_size[0]))  # PIL: (width, height)
    if img.size == size:
        return img
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"load_img: expected `interpolation` in {INTERPOLATIONS}, got "
            f"{interpolation!r}."
        )
    resample = getattr(pil_image("load_img").Resampling, interpolation.upper())
    if not keep_aspect_ratio:
        return img.resize(size, resample)
    width, height = img.size
    crop_h = min(height, (width * size[1]) // size[0])
    crop_w = min(width, (height * size[0]) // size[1])
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    return img.resize(size, resample, box=(left, top, left + crop_w, top + crop_h))
