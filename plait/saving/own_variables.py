"""Keras 3's `save_own_variables`/`load_own_variables` hooks in weights files.

A layer whose class overrides either hook saves its own weights through them:
`save_own_variables(store)` fills a dict of arrays, kept in the safetensors
data under `<layer path>/@vars/<key>` (the file's `plait_hooks` metadata lists
those layers in the model's order), and loading hands the same dict to
`load_own_variables(store)`. Other layers' weights are saved by path
(`plait.saving.weights`); the default hooks (`Layer.save_own_variables`) store
a layer's weights as `"0"`, `"1"`, ... in `weights` order, as Keras does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

import numpy as np
import torch

from plait.layers.base import Layer

__all__ = [
    "HOOKS_KEY",
    "VARS",
    "hook_tensors",
    "hooked",
    "hooked_layers",
    "load_hooks",
    "walk",
]

HOOKS_KEY = "plait_hooks"  # the hooked layers' key prefixes, in the model's order
VARS = "@vars/"  # `<layer path>/@vars/<key>`: what a layer's own hook stored


def hooked(module: torch.nn.Module) -> bool:
    """Whether `module` saves its own weights through Keras's hooks."""
    return isinstance(module, Layer) and module._saves_own_variables()


def walk(model: torch.nn.Module) -> list[tuple[torch.nn.Module, str]]:
    """`(module, "path/")` of `model` and every sub-module: depth-first, parents
    before children, children in order (a module reached twice: both times)."""
    out = []
    stack: list[tuple[torch.nn.Module, str]] = [(model, "")]
    while stack:
        module, prefix = stack.pop()
        out.append((module, prefix))
        children = [(n, c) for n, c in module._modules.items() if c is not None]
        stack.extend((child, f"{prefix}{n}/") for n, child in reversed(children))
    return out


def hooked_layers(model: torch.nn.Module) -> list[tuple[str, Layer]]:
    """`(key prefix, layer)` of each layer (once) that saves its own weights
    through `save_own_variables`/`load_own_variables`."""
    out: list[tuple[str, Layer]] = []
    seen: set[int] = set()
    for module, prefix in walk(model):
        if hooked(module) and id(module) not in seen:
            seen.add(id(module))
            out.append((prefix + VARS, cast(Layer, module)))
    return out


def hook_tensors(hooked: list[tuple[str, Layer]]) -> dict[str, torch.Tensor]:
    """What each of `hooked_layers(model)` stores with `save_own_variables`,
    by file key."""
    out = {}
    for prefix, layer in hooked:
        store: dict[str, Any] = {}
        layer.save_own_variables(store)
        for key, value in store.items():
            try:
                tensor = torch.as_tensor(np.asarray(value))
            except (TypeError, ValueError, RuntimeError) as err:
                raise ValueError(
                    f"{layer._where()}: save_own_variables stored {key!r} as "
                    f"{type(value).__name__}, which is not a numeric array ({err})."
                ) from err
            out[prefix + str(key)] = tensor.detach().cpu().contiguous().clone()
    return out


def _saved_hooks(source: Any) -> list[str]:
    """The key prefixes of the saving model's hooked layers, in its order."""
    prefixes = {k[: k.index(VARS) + len(VARS)] for k in source.tensors if VARS in k}
    try:
        order = json.loads(source.metadata.get(HOOKS_KEY, "[]"))
    except json.JSONDecodeError:
        order = None
    if not isinstance(order, list) or sorted(order) != sorted(prefixes):
        return sorted(prefixes)
    return [str(p) for p in order]


def load_hooks(
    model: torch.nn.Module,
    source: Any,
    skip_mismatch: bool,
    materialise: Callable[[torch.Tensor, torch.Tensor], None],
) -> list[str]:
    """Give each hooked layer what its `save_own_variables` stored (from a
    `SafetensorsSource`); returns the layers the file has nothing for (their
    weights are left as they are). `materialise` makes a meta weight real."""
    missing = []
    hooked = hooked_layers(model)
    saved = _saved_hooks(source)
    order = {p: p for p, _ in hooked}  # by path; in the saved order as a fallback
    if len(saved) == len(hooked) and any(p not in saved for p in order):
        order = dict(zip(order, saved))
    for prefix, layer in hooked:
        keys = [k for k in source.tensors if k.startswith(order[prefix])]
        if not keys:
            missing.append(prefix)
            continue
        store = {k[len(order[prefix]) :]: source.get(k).numpy() for k in keys}
        with torch.no_grad():  # a file's build left the weights on meta
            for p, _ in layer._own_weight_entries():
                if p.is_meta:
                    materialise(p, torch.zeros(p.shape, dtype=p.dtype))
        layer.load_own_variables(store)
    if missing and not skip_mismatch:
        raise ValueError(
            f"{source.where}: no stored variables for the layers at {missing} (their "
            "save_own_variables output); pass skip_mismatch=True to keep their "
            "weights as they are."
        )
    return missing
