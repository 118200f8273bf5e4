"""Process-wide settings `plait.backend` can change, readable by every part.

Keras's `set_epsilon` and `set_image_data_format` write here; layers read the
image data format when they are made with `data_format=None`, as Keras's do.
"""

from __future__ import annotations

from typing import Any

__all__ = ["config", "image_data_format"]

config: dict[str, Any] = {"epsilon": 1e-7, "image_data_format": "channels_last"}


def image_data_format() -> str:
    """`"channels_last"` (the default) or `"channels_first"`."""
    return str(config["image_data_format"])
