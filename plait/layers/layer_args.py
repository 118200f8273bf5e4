"""Constructor-argument helpers shared by the layer families.

- `attrs_config(layer, names)`: the config entries that are attributes as they are.
- `forwarded(locals())`: a per-rank class's `__init__` arguments as keywords for
  its shared base (the per-rank classes keep Keras's signatures; the base takes
  keywords only).
- The `<weight>_initializer` / `_regularizer` / `_constraint` block that Dense,
  the convolutions and the attention layers take per weight: resolved with
  `initializers.get` / `regularizers.get` / `constraints.get`
  (`set_weight_fns`), used to create the weight (`add_fn_weight`, `add_bias`)
  and serialized back in Keras's config order (`weight_fns_config`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from plait import constraints, initializers, regularizers
from plait.layers.base import Layer, Layout

_KINDS = ("initializer", "regularizer", "constraint")
_GET: dict[str, Callable[[Any], Any]] = {
    "initializer": initializers.get,
    "regularizer": regularizers.get,
    "constraint": constraints.get,
}
_SERIALIZE: dict[str, Callable[[Any], Any]] = {
    "initializer": initializers.serialize,
    "regularizer": regularizers.serialize,
    "constraint": constraints.serialize,
}


def forwarded(args: dict[str, Any]) -> dict[str, Any]:
    """An `__init__`'s `locals()` (taken first thing) as keywords for `super()`.

    `self` (and the `__class__` cell of `super()`) are dropped and `**kwargs`
    is merged in.
    """
    named = {k: v for k, v in args.items() if k not in ("self", "__class__", "kwargs")}
    return {**named, **args.get("kwargs", {})}


def attrs_config(layer: Any, names: Sequence[str]) -> dict[str, Any]:
    """`{name: layer.<name>}` for each of `names`, in order: a config's plain entries."""
    return {name: getattr(layer, name) for name in names}


def weight_fn_names(weights: Sequence[str]) -> list[str]:
    """`<weight>_initializer`, `_regularizer`, `_constraint` for each weight."""
    return [f"{w}_{kind}" for w in weights for kind in _KINDS]


def set_weight_fns(layer: Layer, weights: Sequence[str], args: dict[str, Any]) -> None:
    """Set `<weight>_initializer/_regularizer/_constraint` of each of `weights` on
    `layer`, taken from `args` (an `__init__`'s `locals()`) and resolved by kind.
    """
    for key in weight_fn_names(weights):
        setattr(layer, key, _GET[key.rsplit("_", 1)[1]](args[key]))


def weight_fns_config(
    layer: Layer, weights: Sequence[str], activity: bool = True
) -> dict[str, Any]:
    """The weights' functions as JSON data, in Keras's order.

    The initializers, then the regularizers (`activity_regularizer` after the
    weights' when `activity`), then the constraints; None stays None.
    """
    regularized = [*weights, "activity"] if activity else list(weights)
    keys = [
        *(f"{w}_initializer" for w in weights),
        *(f"{w}_regularizer" for w in regularized),
        *(f"{w}_constraint" for w in weights),
    ]
    return {k: _SERIALIZE[k.rsplit("_", 1)[1]](getattr(layer, k)) for k in keys}


def add_fn_weight(
    layer: Layer,
    name: str,
    shape: tuple[int, ...],
    fns: str = "kernel",
    layout: Layout | None = None,
) -> torch.nn.Parameter:
    """`layer.add_weight` with the layer's `<fns>_initializer/_regularizer/_constraint`."""
    return layer.add_weight(
        name,
        shape,
        getattr(layer, f"{fns}_initializer"),
        regularizer=getattr(layer, f"{fns}_regularizer"),
        constraint=getattr(layer, f"{fns}_constraint"),
        layout=layout,
    )


def add_bias(
    layer: Layer, shape: tuple[int, ...], name: str = "bias"
) -> torch.nn.Parameter | None:
    """The `bias` weight if `layer.use_bias`, else None."""
    if not layer.use_bias:  # type: ignore[attr-defined]
        return None
    return add_fn_weight(layer, name, shape, "bias")
