"""Keras 3's `keras.dtype_policies` names: `DTypePolicy`, `get`, `serialize`, `deserialize`.

The policies live in `plait.mixed_precision.policy`.
"""

from __future__ import annotations

from plait.mixed_precision.policy import (
    DTypePolicy,
    deserialize,
    get,
    serialize,
)

__all__ = ["DTypePolicy", "deserialize", "get", "serialize"]
