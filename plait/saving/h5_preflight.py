"""Read an HDF5 file's attributes first in a memory-capped child process.

libhdf5 sizes the buffer for a variable-length attribute (Keras's
`model_config`, `training_config`, a layer group's `name`) from a length
stored in the file, and allocates it before it checks that length against
the data: one changed byte in a Keras `.h5` file made it allocate 2 GiB, then
fail. plait's own checks (`keras_h5._H5`) bound what they can see, sizes and
counts, but this allocation happens inside libhdf5.

So before plait reads a file, `preflight` forks a child that opens it and
reads every attribute of every group the loader can reach (hard links only,
at most `MAX_H5_DEPTH` deep, `MAX_GROUPS` groups) with its address space
capped at what it had plus `HEADROOM` bytes, under a time limit. An attribute
the child cannot read (corrupt, or asking for more memory than the cap) is
refused by name, and the parent never reads it. The child shares the
parent's memory (fork), so the check costs a few milliseconds.

Linux only (`os.fork` and `RLIMIT_AS` as Linux enforces them); elsewhere the
check is skipped and the other checks still apply.
"""

from __future__ import annotations

import io
import os
import sys
import time
import warnings
from typing import Any

from plait.saving.keras_h5 import MAX_H5_DEPTH

__all__ = ["HEADROOM", "MAX_GROUPS", "TIMEOUT_S", "preflight"]

HEADROOM = 512 << 20  # bytes the child may allocate beyond what it started with
MAX_GROUPS = 200_000
TIMEOUT_S = 60.0
_MESSAGE = 4096


def _address_space() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _walk(source: str | bytes) -> str:
    """What in the file cannot be read ("" when every attribute reads)."""
    import h5py

    f = h5py.File(io.BytesIO(source) if isinstance(source, bytes) else source, "r")
    stack: list[tuple[Any, int]] = [(f, 0)]
    count = 0
    while stack:
        group, depth = stack.pop()
        count += 1
        if count > MAX_GROUPS:
            return f"the HDF5 file has more than {MAX_GROUPS} groups"
        for key in group.attrs:
            try:
                group.attrs[key]
            except Exception as err:
                return (
                    f"attribute {key!r} of {group.name!r} cannot be read without "
                    f"more than {HEADROOM >> 20} MiB of memory, or at all "
                    f"({type(err).__name__}: {str(err)[:200]})"
                )
        if depth >= MAX_H5_DEPTH:
            continue  # deeper trees (and cycles) are refused by the loader's checks
        for key in group:
            if isinstance(group.get(key, getlink=True), h5py.HardLink):
                item = group[key]
                if isinstance(item, h5py.Group):
                    stack.append((item, depth + 1))
    return ""


def _child(source: str | bytes, out: int) -> None:
    import resource

    message = ""
    try:
        limit = _address_space() + HEADROOM
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        message = _walk(source)
    except BaseException as err:
        message = f"the file cannot be read ({type(err).__name__}: {str(err)[:200]})"
    os.write(out, message.encode("utf-8", "replace")[:_MESSAGE])
    os._exit(0)


def preflight(source: str | bytes, where: str, timeout: float = TIMEOUT_S) -> None:
    """Refuse the HDF5 file (a path or its bytes) when reading its attributes
    would take more memory than `HEADROOM` or more than `timeout` seconds.

    Raises:
        ValueError: naming `where`, what could not be read and why.
    """
    if not sys.platform.startswith("linux"):
        return
    import resource  # noqa: F401

    import h5py  # noqa: F401 - imported here, once, not in every child

    read, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child exits without returning
        os.close(read)
        _child(source, write)
    os.close(write)
    deadline = time.monotonic() + timeout
    status = None
    while status is None:
        done, code = os.waitpid(pid, os.WNOHANG)
        if done:
            status = code
        elif time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            os.close(read)
            raise ValueError(
                f"{where}: reading the HDF5 file's attributes took more than "
                f"{timeout:g} s; refusing it as malformed."
            )
        else:
            time.sleep(0.002)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read(_MESSAGE).decode("utf-8", "replace")
    if message:
        raise ValueError(f"{where}: {message}; refusing the file.")
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        raise ValueError(
            f"{where}: the process reading the HDF5 file's attributes died "
            f"(status {status}); refusing the file as malformed."
        )
