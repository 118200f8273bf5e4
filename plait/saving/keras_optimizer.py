"""The optimizer state of a Keras `.h5` model file, restored into plait's optimizer.

Keras saves a compiled model's optimizer variables in `optimizer_weights`: the
step count and, per trainable weight, its slots (Adam's moments, SGD's
momentum, ...), named after the weight:

- Keras 3's legacy writer: `adam/hidden_kernel_momentum` (the weight's path with
  `/` as `_`, then the slot);
- tf.keras 2's optimizers: `Adam/hidden/kernel/m:0` and, from 2.11,
  `Adam/m/hidden/kernel:0`.

Slots are matched to the model's weights by these names, converted to the
layout plait stores the weight in, and to the state of the torch optimizer
that plait's optimizer drives (`_SLOTS`), so that `fit` continues as Keras's
would. SGD's momentum is kept with the learning rate inside by Keras and
without it by torch: it is divided by `-learning_rate`. The state is restored
all or nothing: when a slot is missing or has the wrong shape, or the
optimizer is one whose state plait does not map, `load_model` warns and the
optimizer starts afresh (the weights are loaded all the same).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import torch

from plait.saving.keras_h5 import _H5

__all__ = ["keras3_variable_names", "restore_optimizer_weights", "restore_state"]

# plait optimizer class -> torch state key -> slot names (Keras 3's, Keras 2's).
_ADAM: dict[str, tuple[str, ...]] = {
    "exp_avg": ("momentum", "m"),
    "exp_avg_sq": ("velocity", "v"),
    "max_exp_avg_sq": ("velocity_hat", "vhat"),
}
_SLOTS: dict[str, dict[str, tuple[str, ...]]] = {
    "Adam": _ADAM,
    "AdamW": _ADAM,
    "SGD": {"momentum_buffer": ("momentum",)},
    "RMSprop": {
        "square_avg": ("velocity", "rms"),
        "grad_avg": ("average_gradient", "mg"),
        "momentum_buffer": ("momentum",),
    },
    "Adagrad": {"sum": ("accumulator",)},
}
# The torch optimizers that keep a per-weight step count.
_COUNTS_STEPS = {"Adam", "AdamW", "Adagrad"}
_STEP_NAMES = ("iteration", "iter")


def _split(name: str, slots: set[str], paths: dict[str, str]) -> tuple[str, str] | None:
    """(weight path, slot) that a Keras optimizer variable name stands for."""
    rest = re.sub(r":\d+$", "", name).split("/", 1)[-1]  # drop the optimizer's name
    parts = rest.split("/")
    if len(parts) > 1 and parts[-1] in slots and "/".join(parts[:-1]) in paths:
        return "/".join(parts[:-1]), parts[-1]  # Keras 2: dense/kernel/m
    if len(parts) > 1 and parts[0] in slots and "/".join(parts[1:]) in paths:
        return "/".join(parts[1:]), parts[0]  # tf.keras 2.11+: m/dense/kernel
    for slot in sorted(slots, key=len, reverse=True):  # Keras 3: dense_kernel_m
        flat = rest[: -len(slot) - 1]
        if rest.endswith("_" + slot) and flat in paths:
            return paths[flat], slot
    return None


def _state(
    model: Any, optimizer: Any, names: list[str], arrays: list[np.ndarray]
) -> tuple[int, dict[int, dict[str, torch.Tensor]]] | str:
    """The step count and torch per-parameter state, or why they cannot be had."""
    kind = type(optimizer).__name__
    table = _SLOTS.get(kind)
    if table is None:
        return f"plait does not map the state of a {kind} optimizer"
    params = optimizer._params
    weights = {w.path: w for w in model.trainable_weights}
    paths = {path.replace("/", "_"): path for path in weights}
    paths.update({path: path for path in weights})
    slot_key = {s: key for key, names_ in table.items() for s in names_}
    found: dict[tuple[str, str], np.ndarray] = {}
    iterations = None
    for name, value in zip(names, arrays):
        tail = re.sub(r":\d+$", "", name).rsplit("/", 1)[-1]
        if tail in _STEP_NAMES:
            iterations = int(np.asarray(value).reshape(-1)[0])
            continue
        hit = _split(name, set(slot_key), paths)
        if hit is not None:
            found[(hit[0], slot_key[hit[1]])] = value
    if iterations is None or iterations < 0:
        return "the file has no step count"
    keys = {key for _, key in found}
    index = {id(p): i for i, p in enumerate(params)}
    state: dict[int, dict[str, torch.Tensor]] = {}
    for path, w in weights.items():
        if id(w) not in index:
            continue
        entry: dict[str, torch.Tensor] = {}
        for key in keys:
            if (path, key) not in found:
                return f"the file has no {key!r} slot for weight {path!r}"
            value = found[(path, key)]
            layout = model._owner_layout(w)
            tensor = torch.as_tensor(np.asarray(value), dtype=w.dtype)
            if layout is not None:
                tensor = layout[1](tensor)
            if tuple(tensor.shape) != tuple(w.shape):
                return (
                    f"slot {key!r} of weight {path!r} has shape "
                    f"{tuple(value.shape)}, the weight {tuple(w.shape)}"
                )
            if kind == "SGD":
                tensor = tensor / -optimizer.learning_rate
            entry[key] = tensor.contiguous()
        if entry and kind in _COUNTS_STEPS:
            entry["step"] = torch.tensor(float(iterations))
        if entry:
            state[index[id(w)]] = entry
    return iterations, state


def keras3_variable_names(
    kind: str, config: dict[str, Any], paths: list[str]
) -> list[str] | None:
    """The names of a Keras 3 optimizer's variables, in the order its `.keras`
    file stores them (`optimizer/vars/0`, `1`, ...) unnamed: the step count,
    the learning rate (unless a schedule), then the slots of the trainable
    weights (`paths`, in the model's order) as each optimizer makes them.
    None for an optimizer whose order plait does not know."""
    flat = [p.replace("/", "_") for p in paths]

    def each(*slots: str) -> list[str]:  # the slots of one weight, weight by weight
        return [f"opt/{w}_{s}" for w in flat for s in slots]

    names = ["opt/iteration"]
    if not isinstance(config.get("learning_rate"), dict):
        names.append("opt/learning_rate")
    if kind in ("Adam", "AdamW"):
        names += each("momentum", "velocity")
        names += each("velocity_hat") if config.get("amsgrad") else []
    elif kind == "SGD":
        names += each("momentum") if config.get("momentum") else []
    elif kind == "RMSprop":
        names += each("velocity")
        names += each("momentum") if config.get("momentum") else []
        names += each("average_gradient") if config.get("centered") else []
    elif kind == "Adagrad":
        names += each("accumulator")
    else:
        return None
    return names


def restore_optimizer_weights(model: Any, group: _H5) -> None:
    """Give `model.optimizer` the state saved in the `optimizer_weights` group.

    Warns, leaving the optimizer as it is, when the state does not fit.
    """
    names = group.attr("weight_names")
    if not isinstance(names, list) or not names:
        return
    arrays = [group.dataset(str(n)) for n in names]
    restore_state(model, [str(n) for n in names], arrays, group.where)


def restore_state(model: Any, names: list[str], arrays: list[Any], where: str) -> None:
    """Give `model.optimizer` the state of Keras optimizer variables `names`.

    Warns, leaving the optimizer as it is, when the state does not fit.
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return
    optimizer.build(list(model.parameters()))
    torch_opt = optimizer.torch_optimizer
    found: tuple[int, dict[int, dict[str, torch.Tensor]]] | str
    found = "the optimizer has no trainable weights"
    if torch_opt is not None:
        found = _state(model, optimizer, names, arrays)
    if isinstance(found, str):
        warnings.warn(
            f"load_model: {where}: the optimizer's state was not restored "
            f"({found}); training continues with a fresh {type(optimizer).__name__}.",
            stacklevel=4,
        )
        return
    iterations, state = found
    saved = torch_opt.state_dict()
    saved["state"] = state
    optimizer.load_state_dict({"iterations": iterations, "optimizer": saved})
