"""Atomic file writes: a temporary file in the same folder, renamed into place.

Every file plait writes (`model.save`, `save_weights`, exports, checkpoints and
backups) goes through here, so:

- a write that fails or is killed midway leaves any previous file intact;
- the temporary file is named after its target and its writer,
  `.<name>.<host>-<pid>.<random>.tmp`, and the next write of the same target
  removes the temporaries of writers on this host that no longer run (a save
  killed ten times does not leave ten partial copies behind);
- a new file gets the mode a plain `open()` gives (`0o666` less the umask);
  a replaced file keeps its mode.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
from collections.abc import Callable
from typing import IO, Any

__all__ = ["atomic_write", "atomic_write_path", "remove_stale_temporaries"]

# Long names are cut in temporary names so that these stay within NAME_MAX.
_MAX_BASE = 180


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:32] or "host"


def _temp_pattern(base: str, suffix: str) -> re.Pattern[str]:
    host = re.escape(_host())
    return re.compile(
        rf"\.{re.escape(base[:_MAX_BASE])}\.{host}-(\d+)\.[0-9a-f]+\.tmp"
        rf"{re.escape(suffix)}"
    )


def _alive(pid: int) -> bool:
    """Whether process `pid` runs (on POSIX; elsewhere, assumed to)."""
    if os.name != "posix" or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it runs, as another user
        return True
    return True


def remove_stale_temporaries(path: str, suffix: str = "") -> list[str]:
    """Delete the temporaries of `path` left by writers of this host that are gone.

    Returns:
        The paths removed.
    """
    folder, base = os.path.split(os.path.abspath(path))
    pattern = _temp_pattern(base, suffix)
    removed: list[str] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = pattern.fullmatch(name)
        if match is None or _alive(int(match.group(1))):
            continue
        stale = os.path.join(folder, name)
        with contextlib.suppress(OSError):
            os.unlink(stale)
            removed.append(stale)
    return removed


def _create_temp(path: str, suffix: str) -> tuple[int, str]:
    folder, base = os.path.split(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        name = (
            f".{base[:_MAX_BASE]}.{_host()}-{os.getpid()}.{secrets.token_hex(6)}"
            f".tmp{suffix}"
        )
        tmp = os.path.join(folder, name)
        try:
            # 0o666: the kernel takes the umask off, as for a plain open().
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue


def _target(filepath: Any, overwrite: bool) -> str:
    path = os.path.abspath(os.fspath(filepath))
    if not overwrite and os.path.exists(path):
        raise FileExistsError(
            f"{os.fspath(filepath)!r} exists; pass overwrite=True to replace it."
        )
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot save to {path!r}: no folder {folder!r}.")
    return path


def _fsync(path: str, directory: bool = False) -> None:
    if directory and os.name != "posix":
        return
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError:
        if directory:
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:  # some file systems cannot sync a folder
            raise
    finally:
        os.close(fd)


def _through_temp(
    path: str, fill: Callable[[IO[bytes], str], None], suffix: str
) -> None:
    mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else None
    remove_stale_temporaries(path, suffix)
    fd, tmp = _create_temp(path, suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            fill(f, tmp)
        _fsync(tmp)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync(os.path.dirname(path), directory=True)


def atomic_write(
    filepath: Any, write: Callable[[IO[bytes]], None], overwrite: bool = True
) -> None:
    """Write a file through `write(f)` on a temporary file, then rename it.

    Raises:
        FileExistsError: the file exists and `overwrite` is False.
        FileNotFoundError: the folder does not exist.

    Example:
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> atomic_write(os.path.join(folder, "a.bin"), lambda f: f.write(b"hi"))
        >>> os.listdir(folder)
        ['a.bin']
    """
    _through_temp(_target(filepath, overwrite), lambda f, _: write(f), "")


def atomic_write_path(
    filepath: Any,
    write: Callable[[str], None],
    overwrite: bool = True,
    suffix: str = "",
) -> None:
    """Like `atomic_write`, for writers that take a path: `write(temporary_path)`.

    Args:
        filepath: The file to write.
        write: Writes the whole file at the path it is given.
        overwrite: Whether to replace an existing file.
        suffix: Ending of the temporary name, for writers that need one (`.onnx`).
    """
    _through_temp(_target(filepath, overwrite), lambda _, tmp: write(tmp), suffix)
