"""The processes of a run: torchrun's environment, the default process group.

`torchrun` starts one process per device with `RANK`, `WORLD_SIZE`,
`LOCAL_RANK`, `MASTER_ADDR` and `MASTER_PORT` set. When they are and no
process group exists, plait creates the default group the first time it needs
one (NCCL when the model's device is CUDA, each rank on `cuda:LOCAL_RANK`; gloo
otherwise). A group the user created with `torch.distributed` is used as it is.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable
from typing import Any

import torch

__all__ = [
    "ensure_initialized",
    "initialize",
    "is_chief",
    "launched_by_torchrun",
    "rank",
    "world_size",
]

_TORCHRUN_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


def launched_by_torchrun() -> bool:
    """True when torchrun's environment variables are all set.

    Example:
        >>> import os
        >>> launched_by_torchrun() == all(v in os.environ for v in _TORCHRUN_VARS)
        True
    """
    return all(v in os.environ for v in _TORCHRUN_VARS)


def _group_ready() -> bool:
    dist = torch.distributed
    return bool(dist.is_available() and dist.is_initialized())


def local_rank() -> int:
    """This process's index on its machine (`LOCAL_RANK`, 0 when not set)."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def rank() -> int:
    """This process's index in the run (0 for a single process).

    Read from the process group, or from torchrun's `RANK` before the group
    exists.
    """
    return _from_group_or_env(torch.distributed.get_rank, "RANK", 0)


def world_size() -> int:
    """The number of processes in the run (1 for a single process)."""
    return _from_group_or_env(torch.distributed.get_world_size, "WORLD_SIZE", 1)


def _from_group_or_env(ask_group: Callable[[], int], env: str, alone: int) -> int:
    """The process group's answer, else torchrun's `env` variable, else `alone`."""
    if _group_ready():
        return int(ask_group())
    if launched_by_torchrun():
        return int(os.environ[env])
    return alone


def is_chief() -> bool:
    """True on the process that prints progress and writes files (rank 0)."""
    return rank() == 0


def ensure_initialized() -> bool:
    """Create the default process group under torchrun if none exists yet.

    Returns:
        Whether a process group exists now.
    """
    if _group_ready():
        return True
    if not launched_by_torchrun() or not torch.distributed.is_available():
        return False
    _init_group()
    return True


def _init_group() -> None:
    from plait.distribution.devices import default_device

    device = default_device()
    dist = torch.distributed
    if device.type == "cuda":
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", device_id=device)
    else:
        dist.init_process_group("gloo")
    atexit.register(_destroy)


def _destroy() -> None:
    if _group_ready():
        torch.distributed.destroy_process_group()


def initialize(
    job_addresses: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    **kwargs: Any,
) -> None:
    """Join a multi-process run (Keras's `keras.distribution.initialize`).

    Under torchrun nothing needs to be given: the environment says it all (and
    plait would initialise on first use anyway). Otherwise give the
    coordinator's `"host:port"` (the first of a comma-separated list), the
    number of processes and this process's index.

    Args:
        job_addresses: `"host:port"` of process 0 (Keras's spelling).
        num_processes: Processes in the run.
        process_id: This process's index, from 0.
        **kwargs: Keras compatibility; none are supported.

    Raises:
        TypeError: unknown keyword arguments.
        ValueError: when neither torchrun's environment nor all three
            arguments say how to reach the other processes.
    """
    if kwargs:
        raise TypeError(f"initialize(): unexpected argument(s) {sorted(kwargs)}.")
    if job_addresses is not None:
        host, _, port = job_addresses.split(",")[0].strip().rpartition(":")
        os.environ.setdefault("MASTER_ADDR", host or "127.0.0.1")
        os.environ.setdefault("MASTER_PORT", port)
    if num_processes is not None:
        os.environ.setdefault("WORLD_SIZE", str(num_processes))
    if process_id is not None:
        os.environ.setdefault("RANK", str(process_id))
        os.environ.setdefault("LOCAL_RANK", str(process_id))
    if not ensure_initialized():
        missing = [v for v in _TORCHRUN_VARS if v not in os.environ]
        raise ValueError(
            "initialize(): expected torchrun's environment or job_addresses, "
            f"num_processes and process_id, got no value for {missing}."
        )
