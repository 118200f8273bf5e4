"""Keras 3's `keras.dtype_policies` names: `DTypePolicy`, `get`, `serialize`, `deserialize`.

The policies live in `plait.dtype_policies.policy`; how layers run under them in
`plait.dtype_policies.autocast`. Both sit below the layers, which use them.
"""

from __future__ import annotations

from plait.dtype_policies.policy import (
    DTypePolicy,
    deserialize,
    get,
    serialize,
)

__all__ = ["DTypePolicy", "deserialize", "get", "serialize"]
