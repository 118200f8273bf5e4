"""Which device a model trains on, and clear errors when devices are mixed.

The rule (checked in this order):

1. `torch.set_default_device(d)`: the user's choice in code, `d`.
2. The `PLAIT_DEVICE` environment variable, e.g. `PLAIT_DEVICE=cpu` or
   `PLAIT_DEVICE=cuda:1`.
3. Under torchrun with CUDA: `cuda:LOCAL_RANK`, one GPU per process.
4. `cuda` when a GPU is available (as Keras 3 on torch), else `cpu`.

A model is placed there by its first `compile`, `fit`, `evaluate` or
`predict`, unless the user placed it with `model.to(...)`, `.cuda()` or
`.cpu()` before: that always wins, and plait never moves the model again.
"""

from __future__ import annotations

import os
from typing import Any

import torch

__all__ = ["check_one_device", "default_device", "explain_mismatch", "list_devices"]


def _set_default_device() -> torch.device | None:
    """The device given to `torch.set_default_device`, or None if never set."""
    context = getattr(torch, "_GLOBAL_DEVICE_CONTEXT", None)
    if getattr(context, "device_context", None) is not None:
        return torch.get_default_device()
    device = torch.get_default_device()  # a `with torch.device(...)` block
    return None if device.type == "cpu" else device


def default_device() -> torch.device:
    """The device a model is placed on when the user did not choose one.

    Raises:
        ValueError: `PLAIT_DEVICE` names no device, or a CUDA device when CUDA
            is not available.

    Example:
        >>> default_device().type in ("cpu", "cuda")
        True
    """
    chosen = _set_default_device()
    if chosen is not None:
        return chosen
    name = os.environ.get("PLAIT_DEVICE", "").strip()
    if name:
        try:
            device = torch.device(name)
        except RuntimeError as err:
            raise ValueError(
                f"PLAIT_DEVICE: expected a torch device such as 'cpu', 'cuda' or "
                f"'cuda:1', got {name!r}."
            ) from err
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"PLAIT_DEVICE: expected a device of this machine, got {name!r} "
                "but CUDA is not available."
            )
        return device
    if torch.cuda.is_available():
        from plait.distribution.process import launched_by_torchrun, local_rank

        if launched_by_torchrun():
            return torch.device("cuda", local_rank())
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def list_devices(device_type: str | None = None) -> list[str]:
    """The devices of this process, as Keras names them (`"cuda:0"`, `"cpu:0"`).

    Args:
        device_type: `"cpu"`, `"gpu"` or `"cuda"`; None lists the GPUs when there
            are any, else the CPU.

    Example:
        >>> list_devices("cpu")
        ['cpu:0']
    """
    kind = (device_type or ("gpu" if torch.cuda.is_available() else "cpu")).lower()
    if kind in ("gpu", "cuda"):
        return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if kind == "cpu":
        return ["cpu:0"]
    raise ValueError(
        f"list_devices(): expected device_type 'cpu', 'gpu' or 'cuda', got "
        f"{device_type!r}."
    )


def _devices(model: Any) -> set[torch.device]:
    return {t.device for t in (*model.parameters(), *model.buffers())}


def _owners(model: Any) -> dict[torch.device, str]:
    """One sublayer (or weight) name per device holding the model's tensors."""
    found: dict[torch.device, str] = {}
    for name, t in [*model.named_parameters(), *model.named_buffers()]:
        if t.device not in found:
            found[t.device] = name.rsplit(".", 1)[0] if "." in name else name
    return found


def check_one_device(model: Any) -> torch.device:
    """The device of every weight of `model` (the CPU when it has none).

    Raises:
        ValueError: when the weights are on several devices (a layer moved
            alone), naming two of them and a layer on each.
    """
    found = _devices(model)
    if len(found) > 1:
        (d1, l1), (d2, l2) = list(_owners(model).items())[:2]
        raise ValueError(
            f"Model {model.name!r}: expected every weight on one device, got "
            f"'{l1}' on {d1} and '{l2}' on {d2}; move the whole model with "
            "model.to(device)."
        )
    return next(iter(found), torch.device("cpu"))


def explain_mismatch(model: Any, inputs: Any) -> str | None:
    """Why a call failed, when it is a device mix-up; None otherwise."""
    from plait.utils import tree

    found = _devices(model)
    if len(found) > 1:
        try:
            check_one_device(model)
        except ValueError as err:
            return str(err)
    if not found:
        return None
    device = next(iter(found))
    for t in tree.flatten(inputs):
        if isinstance(t, torch.Tensor) and t.device != device:
            return (
                f"Model {model.name!r}: expected inputs on the model's device "
                f"{device}, got a tensor on {t.device}; move it with "
                f"x.to({str(device)!r}) or the model with model.to(...)."
            )
    return None
