"""Batch logs that read the device only when a callback looks at them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["LazyLogs"]


class LazyLogs(dict[str, Any]):
    """Batch logs that read the device only when a callback looks at them.

    A `dict` (as Keras gives callbacks) whose content is read on first access
    after each batch (`stale`), so a callback that ignores it never forces a
    host synchronisation.
    """

    def __init__(self, read: Callable[[], dict[str, Any]]) -> None:
        super().__init__()
        self._read = read
        self._stale = True

    @property
    def stale(self) -> bool:
        """Whether a batch ran since the last read; set by the loops."""
        return self._stale

    @stale.setter
    def stale(self, value: bool) -> None:
        self._stale = value
        if value and not dict.__len__(self):
            # Once, at the first batch: readers that look at the dict's own
            # storage (`json.dumps`) then see keys, and so call `items()`.
            self._values()

    def _values(self) -> dict[str, Any]:
        if self._stale:
            values, self._stale = self._read(), False
            dict.clear(self)
            dict.update(self, values)
        return self

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self._values(), key)

    def __iter__(self) -> Iterator[str]:
        return dict.__iter__(self._values())

    def __len__(self) -> int:
        return dict.__len__(self._values())

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self._values(), key)

    def __repr__(self) -> str:
        return dict.__repr__(self._values())

    def __eq__(self, other: object) -> bool:
        return dict.__eq__(self._values(), other)

    def keys(self) -> Any:
        return dict.keys(self._values())

    def values(self) -> Any:
        return dict.values(self._values())

    def items(self) -> Any:
        return dict.items(self._values())

    def get(self, key: str, default: Any = None) -> Any:
        return dict.get(self._values(), key, default)

    def copy(self) -> dict[str, Any]:
        return dict(self.items())
