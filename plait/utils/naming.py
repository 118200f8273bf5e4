"""Unique, Keras-style auto names: `dense`, `dense_1`, `dense_2`, ..."""

from __future__ import annotations

import re
from collections import defaultdict

__all__ = ["reset_uids", "to_snake_case", "unique_name", "validate_name"]

_counts: defaultdict[str, int] = defaultdict(int)


def to_snake_case(name: str) -> str:
    """`Conv2DTranspose` -> `conv2d_transpose`, `LSTM` -> `lstm`, as Keras names layers."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def unique_name(prefix: str) -> str:
    """Return `prefix` the first time, then `prefix_1`, `prefix_2`, ..."""
    count = _counts[prefix]
    _counts[prefix] += 1
    return prefix if count == 0 else f"{prefix}_{count}"


def reset_uids() -> None:
    """Forget every name handed out (Keras's `clear_session`)."""
    _counts.clear()


def validate_name(name: object, what: str) -> str:
    """Check a user-given name: a non-empty string without `/` or `.`.

    `/` separates path parts in saved files and `.` separates them in torch's
    `state_dict` keys, so neither may appear inside one name.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"{what}: expected `name` to be a non-empty str, got {name!r}.")
    if "/" in name or "." in name:
        raise ValueError(
            f"{what}: expected a name without '/' or '.', got name={name!r}."
        )
    return name
