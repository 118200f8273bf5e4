"""State dicts as JSON data plus a flat table of tensors, and back.

Optimizer and callback states mix numbers, lists, dicts with int keys and
tensors. Files keep the data as JSON and the tensors in safetensors; these two
functions split a state into both and join it again. Data only: nothing here
can name code.
"""

from __future__ import annotations

from typing import Any, Protocol

import torch

__all__ = ["TensorSource", "join_tensors", "split_tensors"]


class TensorSource(Protocol):
    """Where `join_tensors` reads tensors: a dict, or a checked file reader."""

    def get(self, key: str) -> Any:
        """The tensor stored under `key`."""
        ...


def split_tensors(value: Any, tensors: dict[str, torch.Tensor], path: str) -> Any:
    """`value` as JSON data, each tensor moved to `tensors` under a path key.

    Example:
        >>> tensors = {}
        >>> split_tensors({"step": 3, "m": torch.ones(2)}, tensors, "opt")
        {'step': 3, 'm': {'__tensor__': 'opt/m'}}
        >>> sorted(tensors)
        ['opt/m']
    """
    if isinstance(value, torch.Tensor):
        tensors[path] = value.detach().cpu().contiguous().clone()
        return {"__tensor__": path}
    if isinstance(value, dict):
        items = [
            [k, split_tensors(v, tensors, f"{path}/{k}")] for k, v in value.items()
        ]
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return dict(items)
        return {"__items__": items}  # int keys (torch's per-parameter state)
    if isinstance(value, (list, tuple)):
        return [split_tensors(v, tensors, f"{path}/{i}") for i, v in enumerate(value)]
    return value


def join_tensors(value: Any, source: TensorSource) -> Any:
    """The inverse of `split_tensors`: tensors read back from `source`.

    Example:
        >>> tensors = {}
        >>> data = split_tensors({0: [torch.zeros(1)]}, tensors, "s")
        >>> join_tensors(data, tensors)
        {0: [tensor([0.])]}
    """
    if isinstance(value, dict):
        if set(value) == {"__tensor__"}:
            return source.get(value["__tensor__"])
        if set(value) == {"__items__"}:
            return {k: join_tensors(v, source) for k, v in value["__items__"]}
        return {k: join_tensors(v, source) for k, v in value.items()}
    if isinstance(value, list):
        return [join_tensors(v, source) for v in value]
    return value
