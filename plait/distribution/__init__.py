"""Devices and multi-process training, with Keras 3's `keras.distribution` names.

Under `torchrun --nproc_per_node=N script.py` an unchanged script trains data
parallel: plait creates the process group, wraps the training step in
`DistributedDataParallel`, treats `batch_size` as the global batch and keeps
logs global; only rank 0 prints and writes files. `DataParallel` and
`set_distribution` are there for Keras scripts that spell it out;
`set_distribution(FSDP())` shards the weights, gradients and optimizer state
across the processes (torch's FSDP2) under the same `fit`.

Example:
    >>> import plait
    >>> plait.distribution.set_distribution(plait.distribution.DataParallel())
    >>> type(plait.distribution.distribution()).__name__
    'DataParallel'
    >>> plait.distribution.set_distribution(None)
"""

from __future__ import annotations

from typing import Any

from plait.distribution.devices import default_device as default_device
from plait.distribution.devices import list_devices as list_devices
from plait.distribution.process import initialize as initialize
from plait.distribution.process import is_chief as is_chief
from plait.distribution.process import rank as rank
from plait.distribution.process import world_size as world_size

__all__ = [
    "FSDP",
    "DataParallel",
    "default_device",
    "distribution",
    "initialize",
    "is_chief",
    "list_devices",
    "rank",
    "set_distribution",
    "world_size",
]


class DataParallel:
    """Replicate the model on every process; split each global batch among them.

    What plait does by default under torchrun; setting it says so explicitly
    (Keras 3's spelling). Each process uses its own device (`cuda:LOCAL_RANK`
    or the CPU).

    Args:
        device_mesh: Keras compatibility; plait uses one device per process.
        devices: Keras compatibility (the devices are the processes').
        auto_shard_dataset: Keras compatibility: arrays, DataLoaders and
            generators are always split by plait (each rank computes its slice
            of every global batch).
    """

    def __init__(
        self,
        device_mesh: Any = None,
        devices: Any = None,
        auto_shard_dataset: bool = True,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise TypeError(f"DataParallel(): unexpected argument(s) {sorted(kwargs)}.")
        self.device_mesh = device_mesh
        self.devices = devices
        self.auto_shard_dataset = auto_shard_dataset


class FSDP(DataParallel):
    """Data parallel with sharded weights: torch's FSDP2 (`fully_shard`).

    Like `DataParallel` (the same global batches, the same results as one
    process), but each process keeps only its rows of every weight, of its
    gradient and of its optimizer state: every layer that owns weights
    (Dense, Conv, RNN, Embedding, ...) is one `fully_shard` unit, each nested
    model one more, gathered just before the layer runs and freed after.
    `model` stays the user's plain plait model; `get_weights()`, `save`,
    `save_weights` and `summary()` see the full weights on every process.

    Args:
        reshard_after_forward: Free a layer's gathered weights after its
            forward (torch's default; False keeps them until the backward,
            trading memory for one all-gather per layer).
        device_mesh: Keras compatibility; plait shards over all processes.
        devices: Keras compatibility.
    """

    def __init__(
        self,
        reshard_after_forward: bool = True,
        device_mesh: Any = None,
        devices: Any = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise TypeError(f"FSDP(): unexpected argument(s) {sorted(kwargs)}.")
        super().__init__(device_mesh=device_mesh, devices=devices)
        self.reshard_after_forward = bool(reshard_after_forward)


_current: DataParallel | None = None


def set_distribution(value: DataParallel | None) -> None:
    """Set the distribution `fit` & co. use (None: the default).

    Set it before the first `fit`/`evaluate` of a model: a model is sharded
    (`FSDP`) or replicated once, when it first runs across processes.

    Raises:
        TypeError: for anything but a `DataParallel`, an `FSDP` or None.
    """
    global _current
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError(
            "set_distribution(): expected a plait.distribution.DataParallel, "
            f"FSDP or None, got {type(value).__name__}."
        )
    if value is not None:
        initialize_if_launched()
    _current = value


def initialize_if_launched() -> None:
    """Create the process group now when started by torchrun."""
    from plait.distribution.process import ensure_initialized

    ensure_initialized()


def distribution() -> DataParallel | None:
    """The distribution set with `set_distribution` (None by default)."""
    return _current
