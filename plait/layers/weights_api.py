"""A layer's weights as Keras sees them: order, layouts, `get_weights`/`set_weights`.

Each layer keeps its own weights' metadata in one table, `_weight_info`
(weight -> `WeightInfo(name, trainable, layout)`, in creation order), filled by
`add_weight`. A model's weights are its own, then its sub-layers' in order,
each shared weight once; every accessor walks the layers once, so the cost is
linear in the number of weights.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import torch

from plait.distribution import sharding
from plait.utils.shapes import format_shape

__all__ = ["Layout", "WeightInfo", "WeightsAPI", "add_weight_arguments"]

Layout = tuple[
    Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]
]
WeightEntries = list[tuple[torch.nn.Parameter, "WeightInfo"]]


# Positional orders of add_weight: plait's (name, shape, initializer first),
# Keras 2's (name, shape, dtype first) and Keras 3's (shape first).
_PLAIT_ORDER = (
    "name", "shape", "initializer", "dtype", "trainable", "regularizer", "constraint"
)  # fmt: skip
_KERAS2_ORDER = (
    "name", "shape", "dtype", "initializer", "regularizer", "trainable", "constraint"
)  # fmt: skip
_KERAS3_ORDER = (
    "shape", "initializer", "dtype", "trainable", "autocast", "regularizer",
    "constraint", "aggregation", "name",
)  # fmt: skip
# Keras arguments plait accepts and has no use for (one device, eager torch).
_IGNORED = ("autocast", "aggregation", "synchronization", "use_resource", "partitioner")


def _is_dtype(x: Any) -> bool:
    """Whether `x` names a dtype (`"float32"`, `torch.float32`, `np.float32`)."""
    if isinstance(x, (torch.dtype, np.dtype)):
        return True
    if isinstance(x, type):
        return issubclass(x, np.generic)
    return isinstance(x, str) and isinstance(getattr(torch, x, None), torch.dtype)


def _positional_order(args: tuple[Any, ...]) -> tuple[str, ...]:
    """Which positional order `args` follow (see `add_weight`)."""
    if args and not isinstance(args[0], (str, type(None))):
        return _KERAS3_ORDER  # a shape first
    third = args[2] if len(args) > 2 else None
    fourth = args[3] if len(args) > 3 else None
    if _is_dtype(third) or (
        third is None and fourth is not None and not _is_dtype(fourth)
    ):
        return _KERAS2_ORDER
    return _PLAIT_ORDER


def add_weight_arguments(
    where: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """`add_weight`'s arguments by name, from any of the three positional orders.

    Returns the keywords `name, shape, initializer, dtype, trainable,
    regularizer, constraint` (None where not given; `trainable` True).
    """
    order = _positional_order(args)
    if len(args) > len(order):
        raise TypeError(
            f"{where}: add_weight() takes at most {len(order)} positional "
            f"arguments, got {len(args)}."
        )
    kwargs = dict(kwargs)
    for key, value in zip(order, args):
        if key in kwargs:
            raise TypeError(f"{where}: add_weight() got multiple values for {key!r}.")
        kwargs[key] = value
    for key in _IGNORED:
        kwargs.pop(key, None)
    out = {k: kwargs.pop(k, None) for k in _PLAIT_ORDER}
    if kwargs:
        raise TypeError(f"{where}: add_weight() got {sorted(kwargs)}.")
    trainable = out["trainable"]
    out["trainable"] = True if trainable is None else bool(trainable)  # Keras 2: None
    return out


class WeightInfo(NamedTuple):
    """What a layer knows about a weight it created (kept only in `_weight_info`).

    `trainable` is what `add_weight` was told (False for a BatchNorm moving
    mean); `requires_grad` also follows `layer.trainable`. `layout` is
    `(to_keras, from_keras)`, None for a weight stored in Keras's layout.
    """

    name: str
    trainable: bool
    layout: Layout | None


def _keras_array(p: torch.nn.Parameter, info: WeightInfo) -> np.ndarray:
    """A weight as a NumPy copy in Keras layout (FSDP: the whole weight)."""
    value = sharding.full(p).detach()
    if info.layout is not None:
        value = info.layout[0](value)
    return value.cpu().numpy().copy()  # type: ignore[no-any-return]


class WeightsAPI:
    """Mixin of `Layer`: the weight lists and `get_weights`/`set_weights`."""

    built: bool
    # Keys are the parameters themselves (hashed by identity), so the table
    # follows them through copy.deepcopy, unlike attributes set on a Parameter.
    _weight_info: dict[torch.nn.Parameter, WeightInfo]

    if TYPE_CHECKING:

        def _sublayers(self) -> Sequence[WeightsAPI]: ...
        def _all_sublayers(self) -> Iterator[WeightsAPI]: ...
        def _where(self) -> str: ...

    def _own_weight_entries(self) -> WeightEntries:
        """`(weight, info)` of this layer's own weights: trainable ones first."""
        items = self._weight_info.items()
        return [e for e in items if e[1].trainable] + [
            e for e in items if not e[1].trainable
        ]

    def _weight_entries(self) -> WeightEntries:
        """`(weight, info)` in `weights` order: own weights, then each
        sub-layer's in order, a shared weight once."""
        entries = self._own_weight_entries()
        seen = {id(p) for p, _ in entries}
        for layer in self._sublayers():
            for p, info in layer._weight_entries():
                if id(p) not in seen:
                    seen.add(id(p))
                    entries.append((p, info))
        return entries

    @property
    def weights(self) -> list[torch.nn.Parameter]:
        """All weights: own trainable, own non-trainable, then sub-layers' (Keras 3 order)."""
        return [p for p, _ in self._weight_entries()]

    @property
    def trainable_weights(self) -> list[torch.nn.Parameter]:
        """Weights updated by training."""
        return [p for p in self.weights if p.requires_grad]

    @property
    def non_trainable_weights(self) -> list[torch.nn.Parameter]:
        """Weights not updated by training (frozen, or statistics)."""
        return [p for p in self.weights if not p.requires_grad]

    @property
    def trainable_variables(self) -> list[torch.nn.Parameter]:
        """Keras 3 name of `trainable_weights`."""
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list[torch.nn.Parameter]:
        """Keras 3 name of `non_trainable_weights`."""
        return self.non_trainable_weights

    @property
    def variables(self) -> list[torch.nn.Parameter]:
        """Keras 3 name of `weights`."""
        return self.weights

    def _layout(self, p: torch.nn.Parameter) -> Layout | None:
        """The layout of a weight this layer created (None for any other)."""
        info = self._weight_info.get(p)
        return info.layout if info is not None else None

    def _owner_layout(self, p: torch.nn.Parameter) -> Layout | None:
        """The layout of one weight of this layer or of any sub-layer."""
        for layer in [self, *self._all_sublayers()]:
            info = layer._weight_info.get(p)
            if info is not None:
                return info.layout
        return None

    def get_weights(self) -> list[np.ndarray]:
        """Weights as NumPy arrays in Keras layout (Dense kernel `(in, out)`)."""
        return [_keras_array(p, info) for p, info in self._weight_entries()]

    def set_weights(self, weights: list[Any]) -> None:
        """Set weights from arrays in Keras layout, checking count and shapes."""
        self._assign_entries(self._weight_entries(), weights)

    def _assign_entries(self, entries: WeightEntries, weights: list[Any]) -> None:
        """Set the weights of `entries` (all, or some) from arrays in Keras layout."""
        if len(weights) != len(entries):
            raise ValueError(
                f"{self._where()}: expected {len(entries)} weight arrays "
                f"{[info.name for _, info in entries]}, got {len(weights)}."
            )
        staged = []
        for (p, info), w in zip(entries, weights):
            lay = info.layout
            value = torch.as_tensor(np.asarray(w))
            want = tuple(lay[0](p.detach()).shape) if lay else tuple(p.shape)
            if tuple(value.shape) != want:
                raise ValueError(
                    f"{self._where()}: weight {info.name!r} expects shape "
                    f"{format_shape(want)}, got {format_shape(tuple(value.shape))}."
                )
            staged.append((p, lay[1](value) if lay else value))
        for p, value in staged:
            sharding.assign(p, value)

    # ------------------------------------------------- Keras's saving hooks
    def save_own_variables(self, store: dict[str, Any]) -> None:
        """Put this layer's own weights (not its sub-layers') into `store` as
        NumPy arrays in Keras layout, under `"0"`, `"1"`, ... in `weights` order.

        Saving calls a layer's override of this (or of `load_own_variables`)
        instead of writing the layer's weights itself; the override may store
        any arrays under any string keys and must restore them in
        `load_own_variables` (Keras 3's hooks).
        """
        for i, (p, info) in enumerate(self._own_weight_entries()):
            store[str(i)] = _keras_array(p, info)

    def load_own_variables(self, store: dict[str, Any]) -> None:
        """Set this layer's own weights from what `save_own_variables` stored."""
        entries = self._own_weight_entries()
        keys = [str(i) for i in range(len(entries))]
        if sorted(store) != sorted(keys):
            raise ValueError(
                f"{self._where()}: expected the stored variables {keys} (its "
                f"weights {[info.name for _, info in entries]}), got "
                f"{sorted(store)}."
            )
        self._assign_entries(entries, [store[k] for k in keys])

    def _saves_own_variables(self) -> bool:
        """Whether the layer's class overrides Keras's variable-saving hooks."""
        cls = type(self)
        return (
            cls.save_own_variables is not WeightsAPI.save_own_variables
            or cls.load_own_variables is not WeightsAPI.load_own_variables
        )

    def count_params(self) -> int:
        """Number of scalars in all weights; the layer must be built."""
        if not self.built:
            raise ValueError(
                f"{self._where()}: count_params() needs the layer built; call it on "
                "an input first (or build(input_shape))."
            )
        return sum(p.numel() for p in self.weights)
