"""The download cache: where files live, how they are fetched and checked.

Files are cached in `$PLAIT_HOME/<subdir>` when `PLAIT_HOME` is set, else in
`~/.plait/<subdir>`: `datasets` for `plait.datasets`, `models` for the weights
of `plait.applications`. A file is used only after its hash matches the one pinned
here (SHA-256; MD5 where Keras pins only an MD5, for the two word-index JSON
files); a valid cached file is never downloaded again. A few of Keras's files
have no published hash (the MobileNet and MobileNetV2 weights): with
`file_hash=None` a cached file is used as it is and a download is kept unchecked,
as Keras does. Downloads go through
`urllib` with a timeout and are written atomically (`plait.utils.atomic`): the
hash is checked on the temporary file, so a bad or partial download never takes
the cached file's place. Offline, the error names the URL and the path at which
to place the file by hand.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from pathlib import Path
from typing import IO

from plait.utils.atomic import atomic_write

__all__ = ["cache_dir", "get_file"]

# Keras's datasets bucket: the canonical home of Keras's prepared files.
KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
TIMEOUT_S = 60.0
_CHUNK = 1 << 20


def cache_dir(cache_subdir: str = "datasets") -> Path:
    """The folder files are cached in (`$PLAIT_HOME/<cache_subdir>` or `~/.plait/...`)."""
    home = os.environ.get("PLAIT_HOME")
    root = Path(home).expanduser() if home else Path.home() / ".plait"
    return root / cache_subdir


def _hasher(file_hash: str) -> hashlib._Hash:
    if len(file_hash) == 64:
        return hashlib.sha256()
    if len(file_hash) == 32:
        return hashlib.md5(usedforsecurity=False)
    raise ValueError(
        f"get_file: expected a SHA-256 (64 hex digits) or MD5 (32) file_hash, "
        f"got {file_hash!r}."
    )


def file_digest(path: Path, file_hash: str) -> str:
    """The hex digest of `path` in the algorithm `file_hash` is written in."""
    h = _hasher(file_hash)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _download(origin: str, path: Path, file_hash: str | None) -> None:
    def write(out: IO[bytes]) -> None:
        h = None if file_hash is None else _hasher(file_hash)
        with urllib.request.urlopen(origin, timeout=TIMEOUT_S) as response:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                if h is not None:
                    h.update(chunk)
                out.write(chunk)
        if (
            h is not None
            and file_hash is not None
            and h.hexdigest() != file_hash.lower()
        ):
            raise ValueError(
                f"get_file: the file downloaded from {origin} has hash "
                f"{h.hexdigest()}, expected {file_hash}; it was not kept. Retry, or "
                f"place a valid copy at {path}."
            )

    atomic_write(path, write)


def get_file(
    fname: str, origin: str, file_hash: str | None, cache_subdir: str = "datasets"
) -> Path:
    """The cached, verified file `fname` (under `cache_dir(cache_subdir)`), fetched from `origin`.

    `file_hash=None` (a file Keras publishes no hash for) skips the check.

    Raises:
        ValueError: the downloaded file's hash is not `file_hash` (it is not kept).
        OSError: the file is missing or invalid and `origin` cannot be reached; the
            message names the URL and the path to place the file at.
    """
    path = cache_dir(cache_subdir) / fname
    stale = ""
    if path.exists():
        if file_hash is None:
            return path
        digest = file_digest(path, file_hash)
        if digest == file_hash.lower():
            return path
        stale = f" The file there has hash {digest}, expected {file_hash}."
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _download(origin, path, file_hash)
    except OSError as error:
        raise OSError(
            f"get_file: could not download {origin} ({error}).{stale} Download it "
            f"by hand and place it at {path}."
        ) from error
    return path
