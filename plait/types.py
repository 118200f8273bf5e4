"""Type aliases shared across plait."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

Shape = tuple[int | None, ...]
"""A tensor shape with `None` for dimensions unknown until run time."""

DTypeLike = str | torch.dtype | None
ActivationLike = str | Callable[[torch.Tensor], torch.Tensor] | None
InitializerLike = str | Callable[..., Any] | dict[str, Any] | None
