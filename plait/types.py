"""Type aliases shared across plait."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Union

import torch

Shape = tuple[int | None, ...]
"""A tensor shape with `None` for dimensions unknown until run time."""

DTypeLike = Union[str, torch.dtype, None]
ActivationLike = Union[str, Callable[[torch.Tensor], torch.Tensor], None]
InitializerLike = Union[str, Callable[..., Any], dict[str, Any], None]
