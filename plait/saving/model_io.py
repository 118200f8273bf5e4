"""The `.plait` model file: a zip of JSON architecture and safetensors weights.

Members:

- `metadata.json`: `{"format": "plait", "format_version": 1, "plait_version": ...}`
- `config.json`: `{"class_name", "config"[, "registered_name"][, "compile_config",
  "optimizer_state"]}`; the architecture as pure JSON data.
- `model.safetensors`: the weights keyed by layer-name paths (see `weights`).
- `optimizer.safetensors`: the optimizer's state tensors, when compiled.

Reading checks the archive before trusting it: a bounded number of members, all
with known names, regular files, declared sizes within limits and consistent with
the archive's size, no compression bombs; every member is then checked to be what
its name says. The model is built completely before it is returned, so a bad file
never gives a half-loaded model.
"""

from __future__ import annotations

import json
import os
import stat
import warnings
import zipfile
import zlib
from collections.abc import Callable
from typing import IO, Any

import torch

# Importing these registers the functions that op layers in a file may name.
import plait.backend
import plait.ops
import plait.random  # noqa: F401
from plait.graph.inference import deferred_weights
from plait.layers.serialization import (
    custom_object_scope,
    deserialize_layer,
    serialize_layer,
)
from plait.models.config import graph_size  # (also registers Functional, Sequential)
from plait.models.model import Model
from plait.saving import json_data
from plait.saving.training_state import compile_state, restore_compile
from plait.saving.weights import (
    SafetensorsSource,
    load_weights_from_source,
    weights_to_bytes,
)
from plait.utils.atomic import atomic_write
from plait.utils.shapes import is_shape
from plait.version import __version__

__all__ = ["load_model", "model_from_json", "model_to_json", "save_model"]

FORMAT = "plait"
FORMAT_VERSION = 1
CONFIG, METADATA = "config.json", "metadata.json"
WEIGHTS, OPTIMIZER = "model.safetensors", "optimizer.safetensors"
KERAS_WEIGHTS = "model.weights.h5"
_PLAIT_MEMBERS = frozenset({CONFIG, METADATA, WEIGHTS, OPTIMIZER})
_KERAS_MEMBERS = frozenset({CONFIG, METADATA, KERAS_WEIGHTS})
MAX_MEMBERS = 16
MAX_JSON_BYTES = 64 * 2**20
# A member that inflates more than this ratio past this size is a zip bomb. plait
# and Keras store weights uncompressed (they barely compress); JSON deflates well.
MAX_RATIO, MAX_BINARY_RATIO, RATIO_FLOOR = 100, 10, 4 * 2**20
# The most layers, and layer calls, a model file may describe: building takes
# about 0.2 ms a layer, so a crafted config cannot keep a loader busy for long;
# real models have at most a few thousand layers.
MAX_LAYERS, MAX_CALLS = 50_000, 100_000
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _version() -> str:
    return __version__


# ---------------------------------------------------------------------- saving
def save_model(model: Any, filepath: Any, overwrite: bool = True) -> None:
    """Save a model's architecture and weights to one `.plait` file, atomically.

    The file is a zip of `config.json` (pure JSON data) and `model.safetensors`;
    a compiled model also keeps its compile configuration and optimizer state.
    The zip is written to a temporary file in the same folder and renamed, so a
    failed save leaves any previous file intact.

    Args:
        model: A functional or Sequential plait model (or a registered subclass).
        filepath: Destination, usually `name.plait`.
        overwrite: Whether to replace an existing file.

    Raises:
        ValueError: the model holds something that cannot be saved as data (a
            `Lambda` of an unregistered function, a non-JSON config value); the
            path names a legacy `.h5` file.
    """
    path = os.fspath(filepath)
    if path.endswith((".h5", ".hdf5")):
        raise ValueError(
            f"save: plait does not write legacy HDF5 files; use a '.plait' path, got "
            f"{path!r}."
        )
    if path.endswith(".safetensors"):
        raise ValueError(
            f"save: {path!r} names a weights file; use model.save_weights() for "
            "weights only, or a '.plait' path for the whole model."
        )
    entry = serialize_layer(model)
    build_config = _build_config(model)
    if build_config is not None:
        entry["build_config"] = build_config
    extra, optimizer_tensors = _training_state(model)
    entry.update(extra)
    optimizer_data = None
    if optimizer_tensors or "optimizer_state" in extra:
        from safetensors.torch import save

        optimizer_data = save(optimizer_tensors)
    config = json.dumps(entry).encode("utf-8")
    metadata = json.dumps(
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "plait_version": _version(),
        }
    ).encode("utf-8")
    weights = weights_to_bytes(model)

    def write(f: IO[bytes]) -> None:
        with zipfile.ZipFile(f, "w") as zf:
            zf.writestr(METADATA, metadata, zipfile.ZIP_DEFLATED)
            zf.writestr(CONFIG, config, zipfile.ZIP_DEFLATED)
            # Stored, not deflated: weights barely compress.
            zf.writestr(WEIGHTS, weights, zipfile.ZIP_STORED)
            if optimizer_data is not None:
                zf.writestr(OPTIMIZER, optimizer_data, zipfile.ZIP_STORED)

    atomic_write(filepath, write, overwrite)


def _build_config(model: Any) -> dict[str, Any] | None:
    """A subclassed model's `{"input_shape": ...}` (batch None), as Keras writes it.

    Its config alone does not make its weights: the loader calls the model on
    inputs of these shapes first (`_build_from_config`).
    """
    shapes = model._build_shapes
    if type(model)._config_has_layers or shapes is None:
        return None

    def batchless(value: Any) -> Any:
        if is_shape(value):
            return [None, *value[1:]] if value else []
        if isinstance(value, (list, tuple)):
            return [batchless(v) for v in value]
        return None

    return {"input_shape": batchless(shapes)}


def _build_from_config(model: Any, build_config: Any, where: str) -> None:
    """Build a subclassed model by calling it on meta inputs of the saved shapes."""
    shape = build_config.get("input_shape") if isinstance(build_config, dict) else None
    if shape is None or model.built:
        return

    def meta(value: Any) -> Any:
        if is_shape(value):
            return torch.zeros([1 if d is None else d for d in value], device="meta")
        if isinstance(value, list):
            return [meta(v) for v in value]
        raise ValueError(f"{where}: expected 'build_config' shapes, got {value!r}.")

    with torch.no_grad():
        model(meta(shape))


def _training_state(model: Any) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    try:
        return compile_state(model)
    except (TypeError, ValueError, NotImplementedError) as err:
        warnings.warn(
            f"save: model {getattr(model, 'name', '')!r} is saved without its compile "
            f"configuration and optimizer state: {err}",
            stacklevel=3,
        )
        return {}, {}


def model_to_json(model: Any, **kwargs: Any) -> str:
    """The architecture as a JSON string; `kwargs` go to `json.dumps`."""
    return json.dumps(serialize_layer(model), **kwargs)


def model_from_json(
    json_string: str, custom_objects: dict[str, Any] | None = None
) -> Any:
    """A new model (fresh weights) from `model.to_json()`.

    Example:
        >>> import plait
        >>> x = plait.Input(shape=(4,))
        >>> model = plait.Model(x, plait.layers.Dense(2)(x))
        >>> model_from_json(model.to_json()).output_shape
        (None, 2)
    """
    if not isinstance(json_string, (str, bytes)):
        raise TypeError(f"expected a JSON str, got {type(json_string).__name__}.")
    config = json_data.loads(json_string, "model_from_json: the string")
    if isinstance(config, dict):
        config = {k: v for k, v in config.items() if k != "compile_config"}
    return deserialize_layer(config, custom_objects)


# ---------------------------------------------------------------------- reading
class Archive:
    """A checked zip archive: its members, read with size limits.

    Args:
        path: The file.
        allowed: Names the archive may hold.
        where: Name of the file for error messages.
    """

    def __init__(
        self, zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], where: str
    ):
        self.zf, self.infos, self.where = zf, infos, where

    def read(self, name: str, limit: int | None = None) -> bytes:
        """The bytes of member `name`, checked against its CRC and `limit`."""
        info = self.infos.get(name)
        if info is None:
            raise ValueError(f"{self.where}: the archive has no {name!r}.")
        if limit is not None and info.file_size > limit:
            raise ValueError(
                f"{self.where}: {name!r} declares {info.file_size} bytes, more than "
                f"the {limit} allowed."
            )
        try:
            with self.zf.open(info) as f:
                data = f.read()
        except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as err:
            raise ValueError(
                f"{self.where}: {name!r} is corrupt or truncated ({err})."
            ) from err
        if len(data) != info.file_size:
            raise ValueError(f"{self.where}: {name!r} is truncated.")
        return data

    def reader(self, name: str) -> Callable[[int | None], bytes]:
        """`reader(n)`: the first `n` bytes of member `name`; `reader(None)`: all."""

        def read(n: int | None) -> bytes:
            if n is None:
                return self.read(name)
            try:
                with self.zf.open(self.infos[name]) as f:
                    return f.read(n)
            except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as err:
                raise ValueError(
                    f"{self.where}: {name!r} is corrupt or truncated ({err})."
                ) from err

        return read

    def read_json(self, name: str) -> Any:
        """Member `name` parsed as JSON."""
        return json_data.loads(
            self.read(name, MAX_JSON_BYTES), f"{self.where}: {name!r}"
        )


def open_archive(path: str) -> Archive:
    """Open and check a model archive (plait's or Keras 3's).

    Raises:
        ValueError: not a zip, truncated, too many or unknown members, links or
            folders, encrypted members, oversized or bomb-like members.
    """
    where = f"model file {path!r}"
    size = os.path.getsize(path)
    try:
        zf = zipfile.ZipFile(path)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        ValueError,
    ) as err:
        raise ValueError(
            f"{where} is not a model archive (not a zip, or truncated): {err}."
        ) from err
    infos_list = zf.infolist()
    if len(infos_list) > MAX_MEMBERS:
        zf.close()
        raise ValueError(
            f"{where} has {len(infos_list)} members; a model file has at most "
            f"{MAX_MEMBERS}."
        )
    infos: dict[str, zipfile.ZipInfo] = {}
    keras = KERAS_WEIGHTS in {i.filename for i in infos_list}
    allowed = _KERAS_MEMBERS if keras else _PLAIT_MEMBERS
    try:
        for info in infos_list:
            _check_member(info, allowed, infos, size, where)
            infos[info.filename] = info
        if CONFIG not in infos:
            raise ValueError(f"{where} has no {CONFIG!r}; it is not a model file.")
    except ValueError:
        zf.close()
        raise
    return Archive(zf, infos, where)


def _check_member(
    info: zipfile.ZipInfo,
    allowed: frozenset[str],
    seen: dict[str, zipfile.ZipInfo],
    size: int,
    where: str,
) -> None:
    name = info.filename
    if name not in allowed:
        raise ValueError(
            f"{where} holds an unexpected member {name!r}; a model file holds only "
            f"{sorted(allowed)}."
        )
    if name in seen:
        raise ValueError(f"{where} holds {name!r} twice.")
    mode = info.external_attr >> 16
    if info.is_dir() or stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        raise ValueError(f"{where}: member {name!r} is not a regular file.")
    if info.flag_bits & 0x1:
        raise ValueError(f"{where}: member {name!r} is encrypted.")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ValueError(f"{where}: member {name!r} uses an unsupported compression.")
    if info.header_offset + info.compress_size > size:
        raise ValueError(
            f"{where}: member {name!r} declares more data than the file holds "
            "(truncated or corrupt)."
        )
    if name.endswith(".json") and info.file_size > MAX_JSON_BYTES:
        raise ValueError(
            f"{where}: {name!r} declares {info.file_size} bytes; JSON members are "
            f"limited to {MAX_JSON_BYTES} bytes."
        )
    if (
        info.compress_type == zipfile.ZIP_STORED
        and info.file_size != info.compress_size
    ):
        raise ValueError(f"{where}: stored member {name!r} has inconsistent sizes.")
    ratio = MAX_RATIO if name.endswith(".json") else MAX_BINARY_RATIO
    if info.file_size > RATIO_FLOOR and info.file_size > ratio * max(
        info.compress_size, 1
    ):
        raise ValueError(
            f"{where}: member {name!r} inflates from {info.compress_size} to "
            f"{info.file_size} bytes, expected at most {ratio} times its compressed "
            "size (a zip bomb?); refusing to read it."
        )


def check_graph_size(config: Any, where: str) -> None:
    """Refuse a model config of more than `MAX_LAYERS` layers or `MAX_CALLS` calls."""

    layers, calls = graph_size(config)
    if layers > MAX_LAYERS or calls > MAX_CALLS:
        raise ValueError(
            f"{where}: expected a model of at most {MAX_LAYERS} layers and "
            f"{MAX_CALLS} layer calls, got {layers} layers and {calls} calls in "
            f"{CONFIG!r}; refusing to build it."
        )


def read_archive_weights(path: str) -> SafetensorsSource:
    """The weights of a `.plait` file, for `load_weights`."""
    archive = open_archive(path)
    with archive.zf:
        if KERAS_WEIGHTS in archive.infos:
            raise ValueError(
                f"{archive.where} is a Keras file; load it with plait.models.load_model."
            )
        return SafetensorsSource(
            archive.read(WEIGHTS), None, f"{archive.where} weights"
        )


def load_model(
    filepath: Any,
    custom_objects: dict[str, Any] | None = None,
    compile: bool = True,  # noqa: A002
    safe_mode: bool = True,
) -> Any:
    """Load a model saved by `model.save` (`.plait`), a Keras 3 `.keras` file, or
    a legacy `.h5` file of Keras 2, tf.keras or Keras 3's legacy writer.

    Classes and functions resolve only through plait's own classes, the
    registry of `@plait.saving.register_serializable()` objects and
    `custom_objects`; nothing named in the file is imported or run.

    Args:
        filepath: The file.
        custom_objects: Name -> class or function, for custom layers and the
            functions of `Lambda` layers that are not registered.
        compile: Whether to restore the compile configuration and optimizer
            state of a model saved compiled (an `.h5` file's compile
            configuration: optimizer, losses, metrics, loss weights).
        safe_mode: Accepted for Keras compatibility; plait files are always
            loaded safely (they cannot hold code), whatever its value.

    Returns:
        The model, with its weights.

    Raises:
        ValueError: a malformed, oversized or crafted file; an unknown class or
            function; weights that do not match the architecture. Nothing is
            half-loaded: no model is returned.
    """
    path = os.fspath(filepath)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_model: no file {path!r}.")
    with open(path, "rb") as f:
        head = f.read(8)
    if head == _HDF5_SIGNATURE:
        from plait.saving.keras_legacy import load_legacy_model

        return load_legacy_model(path, custom_objects, compile)
    archive = open_archive(path)
    with archive.zf, custom_object_scope(custom_objects):
        if KERAS_WEIGHTS in archive.infos:
            from plait.saving.keras_import import load_keras_archive

            return load_keras_archive(archive, custom_objects, compile)
        return _load_plait(archive, custom_objects, compile)


def _load_plait(
    archive: Archive,
    custom_objects: dict[str, Any] | None,
    compile: bool,  # noqa: A002
) -> Any:
    where = archive.where
    if METADATA in archive.infos:
        meta = archive.read_json(METADATA)
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError(f"{where}: {METADATA!r} does not describe a plait file.")
        version = meta.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ValueError(
                f"{where}: format version {version!r} is newer than this plait "
                f"reads ({FORMAT_VERSION}); upgrade plait."
            )
    config = archive.read_json(CONFIG)
    if not isinstance(config, dict):
        raise ValueError(f"{where}: {CONFIG!r} is not a JSON object.")
    compile_config = config.pop("compile_config", None)
    optimizer_state = config.pop("optimizer_state", None)
    if WEIGHTS not in archive.infos:
        raise ValueError(f"{where} has no {WEIGHTS!r}.")
    check_graph_size(config, where)
    # The header now, the data once the model is known to match it.
    weights = SafetensorsSource(
        None,
        None,
        f"{where} {WEIGHTS}",
        archive.reader(WEIGHTS),
        archive.infos[WEIGHTS].file_size,
    )
    # Built with meta weights: a config cannot make the loader allocate what the
    # file does not hold; the weights are made from the file's values.
    with deferred_weights():
        model = deserialize_layer(config, custom_objects)
        if "build_config" in config and isinstance(model, Model):
            _build_from_config(model, config["build_config"], where)

    if not isinstance(model, Model):
        raise ValueError(
            f"{where}: {CONFIG!r} describes a {type(model).__name__} layer, not a model."
        )
    load_weights_from_source(model, weights)
    if compile and compile_config is not None:

        def read_tensors() -> SafetensorsSource | None:
            if OPTIMIZER not in archive.infos:
                return None
            data = archive.read(OPTIMIZER)
            return SafetensorsSource(data, None, f"{where} {OPTIMIZER}")

        restore_compile(
            model, compile_config, optimizer_state, read_tensors, custom_objects
        )
    return model
