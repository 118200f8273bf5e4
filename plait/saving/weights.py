"""Weights files: `.safetensors` keyed by layer-name paths, in Keras's layouts.

A model's weights are named by the path of layer names leading to them, relative
to the model: `dense_1/kernel`, and for a nested model `encoder/dense/kernel`.
Values are stored in Keras's layout (what `get_weights()` returns: a Dense
kernel is `(in, out)`, a Conv2D kernel `(kh, kw, in, out)`), whatever layout a
layer keeps for speed. The file's metadata keeps the model's weight order, so
weights also load into a model of the same architecture whose layers got other
automatic names (Keras 2's topological loading).
"""

from __future__ import annotations

import itertools
import json
import os
import struct
import warnings
from collections.abc import Callable
from typing import IO, Any, NamedTuple

import torch

from plait.distribution import sharding
from plait.layers.base import Layer, Layout
from plait.saving.own_variables import (
    HOOKS_KEY,
    VARS,
    hook_tensors,
    hooked,
    hooked_layers,
    load_hooks,
    walk,
)
from plait.utils.atomic import atomic_write
from plait.utils.shapes import format_shape

__all__ = [
    "SafetensorsSource",
    "WeightEntry",
    "WeightsReport",
    "atomic_write",
    "collect_weights",
    "load_weights",
    "save_weights",
    "weights_to_bytes",
]

# Itemsize of each safetensors dtype.
_ITEMSIZE = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8, "C64": 8,
}  # fmt: skip
_MAX_HEADER = 100 * 2**20  # the safetensors library's own bound
_ORDER_KEY = "plait_order"
_MAX_LISTED = 8


class WeightEntry(NamedTuple):
    """One saved tensor of a model: its key, the tensor, and its Keras layout."""

    key: str
    tensor: torch.Tensor
    layout: Layout | None


class WeightsReport(NamedTuple):
    """What `load_weights` found: keys missing from the file, unexpected, mis-shaped.

    `mismatched` holds `(key, shape_in_file, shape_in_model)`.
    """

    missing: list[str]
    unexpected: list[str]
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]]


def _own_tensors(module: torch.nn.Module) -> list[tuple[str, torch.Tensor, Any]]:
    """A module's own weights (Keras order for plait layers), then its buffers.

    The weights of a layer that overrides `save_own_variables` or
    `load_own_variables` are left to those hooks (`hooked_layers`).
    """
    out: list[tuple[str, torch.Tensor, Any]] = []
    seen: set[int] = set()
    if isinstance(module, Layer):
        by_path = not hooked(module)
        for w, info in module._own_weight_entries():
            seen.add(id(w))
            if by_path:
                out.append((info.name, w, info.layout))
    for name, p in module._parameters.items():
        if p is not None and id(p) not in seen:
            out.append((name, p, None))
    skip = module._non_persistent_buffers_set
    for name, b in module._buffers.items():
        if b is not None and name not in skip:
            out.append((name, b, None))
    return out


def collect_weights(model: torch.nn.Module) -> list[WeightEntry]:
    """Every weight and persistent buffer of `model` under its path key, in order.

    Layers come in the model's order (each weight once, even if shared), and
    within a layer in `get_weights()` order.

    Example:
        >>> import plait
        >>> x = plait.Input(shape=(3,))
        >>> model = plait.Model(x, plait.layers.Dense(2, name="out")(x))
        >>> [(e.key, tuple(e.tensor.shape)) for e in collect_weights(model)]
        [('out/kernel', (3, 2)), ('out/bias', (2,))]
    """
    out: list[WeightEntry] = []
    seen: set[int] = set()
    for module, prefix in walk(model):
        used: set[str] = set()
        for name, tensor, layout in _own_tensors(module):
            if id(tensor) in seen:
                continue
            seen.add(id(tensor))
            key, i = name, 0
            while key in used:
                i += 1
                key = f"{name}_{i}"
            used.add(key)
            out.append(WeightEntry(prefix + key, tensor, layout))
    return out


def _keras_value(entry: WeightEntry) -> torch.Tensor:
    value = sharding.full(entry.tensor).detach()  # FSDP: whole
    if entry.layout is not None:
        value = entry.layout[0](value)
    return value


def weights_to_bytes(model: torch.nn.Module) -> bytes:
    """The model's weights as the bytes of a `.safetensors` file."""
    from safetensors.torch import save

    entries = collect_weights(model)
    tensors = {e.key: _keras_value(e).cpu().contiguous().clone() for e in entries}
    hooked = hooked_layers(model)
    tensors.update(hook_tensors(hooked))
    metadata = {
        "format": "pt",
        "layout": "keras",
        _ORDER_KEY: json.dumps([e.key for e in entries]),
        HOOKS_KEY: json.dumps([prefix for prefix, _ in hooked]),
    }
    data: bytes = save(tensors, metadata=metadata)
    return data


def _plait_layer(model: torch.nn.Module, what: str) -> Layer:
    """`model` if it is a plait layer (Keras's HDF5 layouts follow its layers)."""
    if not isinstance(model, Layer):
        raise TypeError(
            f"{what}: expected a plait model or layer for a Keras HDF5 file, got "
            f"{type(model).__name__}."
        )
    return model


def save_weights(model: torch.nn.Module, filepath: Any, overwrite: bool = True) -> None:
    """Save the weights of `model` to a `.safetensors` file, atomically.

    A path ending in `.weights.h5` gets Keras 3's weights file instead (its
    `model.save_weights` layout, which Keras 3 and plait load).

    Args:
        model: A plait model or layer.
        filepath: Path ending in `.safetensors` (or `.weights.h5`).
        overwrite: Whether to replace an existing file.

    Raises:
        ValueError: the path does not end in `.safetensors`.
    """
    if os.fspath(filepath).endswith(".weights.h5"):
        from plait.saving.keras_h5 import save_h5_weights

        save_h5_weights(_plait_layer(model, "save_weights"), filepath, overwrite)
        return
    if not os.fspath(filepath).endswith(".safetensors"):
        raise ValueError(
            f"save_weights: expected a path ending in '.safetensors' (or Keras 3's "
            f"'.weights.h5'), got "
            f"{os.fspath(filepath)!r}. To save the whole model use model.save("
            "'name.plait')."
        )
    data = weights_to_bytes(model)

    def write(f: IO[bytes]) -> None:
        f.write(data)

    atomic_write(filepath, write, overwrite)


# ---------------------------------------------------------------------- reading
def parse_header(
    head: bytes, data_len: int, where: str
) -> tuple[dict[str, tuple[str, tuple[int, ...]]], dict[str, str]]:
    """Check a safetensors header against the file's data size.

    Args:
        head: The JSON header bytes.
        data_len: Number of bytes after the header.
        where: The file, for error messages.

    Returns:
        `({key: (dtype, shape)}, metadata)`.

    Raises:
        ValueError: the header is not JSON, or a tensor's dtype, shape or byte
            range disagree with each other or with the data.
    """
    try:
        header = json.loads(head.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise ValueError(
            f"{where}: the safetensors header is not JSON ({err})."
        ) from err
    if not isinstance(header, dict):
        raise ValueError(f"{where}: the safetensors header is not a JSON object.")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(v, str) for v in metadata.values()
    ):
        raise ValueError(f"{where}: the safetensors metadata is not a str -> str map.")
    tensors: dict[str, tuple[str, tuple[int, ...]]] = {}
    spans = []
    for key, info in header.items():
        ok = isinstance(info, dict) and info.get("dtype") in _ITEMSIZE
        shape = info.get("shape") if ok else None
        offsets = info.get("data_offsets") if ok else None
        ok = (
            ok
            and isinstance(shape, list)
            and all(isinstance(d, int) and d >= 0 for d in shape)
            and isinstance(offsets, list)
            and len(offsets) == 2
            and all(isinstance(o, int) for o in offsets)
        )
        if not ok:
            raise ValueError(
                f"{where}: tensor {key!r} has a malformed header entry {info!r}."
            )
        dims = tuple(int(d) for d in shape or [])
        begin, end = (int(o) for o in offsets or [0, 0])
        nbytes = _numel(dims) * _ITEMSIZE[info["dtype"]]
        if not 0 <= begin <= end <= data_len or end - begin != nbytes:
            raise ValueError(
                f"{where}: the header says tensor {key!r} is {info['dtype']} of shape "
                f"{format_shape(dims)} ({nbytes} bytes) at bytes "
                f"[{begin}, {end}), but the file's data holds {data_len} bytes: the "
                "header does not describe the data (a corrupt or crafted file)."
            )
        spans.append((begin, end, key))
        tensors[key] = (info["dtype"], dims)
    spans.sort()
    for (_, end, key), (begin, _, other) in itertools.pairwise(spans):
        if begin < end:
            raise ValueError(f"{where}: tensors {key!r} and {other!r} overlap.")
    return tensors, metadata


class SafetensorsSource:
    """The tensors of a `.safetensors` file or bytes, with a validated header.

    Args:
        data: The file's bytes, or None to read `path` or use `reader`.
        path: The file to read lazily (memory-mapped) when `data` is None.
        where: Name of the file for error messages.
        reader: `reader(n)` gives the first `n` bytes of a file of `size` bytes,
            `reader(None)` all of them: the header is read at once, the data
            only when a tensor is first asked for (an archive member).
        size: The size of the file `reader` reads.
    """

    def __init__(
        self,
        data: bytes | None,
        path: str | None,
        where: str,
        reader: Callable[[int | None], bytes] | None = None,
        size: int | None = None,
    ) -> None:
        self.where = where
        self._path = path
        self._data = data
        self._reader = reader
        self._loaded: dict[str, torch.Tensor] | None = None
        if data is not None:
            size = len(data)
            head = self._head(data[:8], size)
            header_bytes = data[8 : 8 + head]
        elif reader is not None and size is not None:
            # Only the header now; the data when a tensor is first asked for.
            head = self._head(reader(8), size)
            header_bytes = reader(8 + head)[8:]
        elif path is not None:
            size = os.path.getsize(path)
            with open(path, "rb") as f:
                head = self._head(f.read(8), size)
                header_bytes = f.read(head)
        else:
            raise ValueError(f"{where}: expected bytes or a path, got neither.")
        self.tensors, self.metadata = parse_header(header_bytes, size - 8 - head, where)

    def _head(self, first: bytes, size: int) -> int:
        if len(first) < 8:
            raise ValueError(f"{self.where}: not a safetensors file (too short).")
        (n,) = struct.unpack("<Q", first)
        if n > min(size - 8, _MAX_HEADER):
            raise ValueError(
                f"{self.where}: not a safetensors file, or a truncated one (its "
                f"header claims {n} bytes, the file has {size})."
            )
        return int(n)

    def order(self) -> list[str] | None:
        """The saving model's weight order, if the file recorded it."""
        raw = self.metadata.get(_ORDER_KEY)
        if raw is None:
            return None
        try:
            order = json.loads(raw)
        except json.JSONDecodeError:
            return None
        if not isinstance(order, list) or sorted(order) != sorted(self.plain_keys()):
            return None
        return order

    def plain_keys(self) -> list[str]:
        """The keys of weights saved by path (not by a layer's own hook)."""
        return [k for k in self.tensors if VARS not in k]

    def get(self, key: str) -> torch.Tensor:
        """Load one tensor."""
        if self._data is None and self._loaded is None and self._reader is not None:
            self._data = self._reader(None)
        try:
            if self._path is None:
                if self._loaded is None:
                    from safetensors.torch import load

                    self._loaded = load(self._data or b"")
                    self._data = None  # the tensors hold the values now
                return self._loaded[key]
            from safetensors import safe_open

            with safe_open(self._path, framework="pt") as f:  # type: ignore[no-untyped-call]
                tensor: torch.Tensor = f.get_tensor(key)
                return tensor
        except Exception as err:  # the library raises its own error types
            raise ValueError(
                f"{self.where}: cannot read tensor {key!r}: {err}"
            ) from err

    def nbytes(self) -> int:
        """Bytes of all the file's tensors."""
        return sum(_ITEMSIZE[d] * _numel(s) for d, s in self.tensors.values())


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _match(
    entries: list[WeightEntry], source: SafetensorsSource, by_name: bool
) -> tuple[dict[str, str], WeightsReport]:
    """Model key -> file key, and the report of what did not match."""
    file_keys = source.plain_keys()
    model_keys = [e.key for e in entries]
    pairs = {k: k for k in model_keys if k in source.tensors}
    if by_name:
        # Match the rest by their last `layer/weight` part, when unambiguous.
        tails: dict[str, list[str]] = {}
        for k in file_keys:
            tails.setdefault("/".join(k.split("/")[-2:]), []).append(k)
        taken = set(pairs.values())
        for k in model_keys:
            if k not in pairs:
                tail = "/".join(k.split("/")[-2:])
                cands = [c for c in tails.get(tail, []) if c not in taken]
                if len(cands) == 1:
                    pairs[k] = cands[0]
                    taken.add(cands[0])
    elif len(pairs) < len(model_keys) or len(file_keys) != len(model_keys):
        # Keras 2's topological loading: same architecture, other layer names.
        order = source.order()
        if order is not None and len(order) == len(entries):
            shapes = [tuple(_keras_value(e).shape) for e in entries]
            if all(source.tensors[k][1] == s for k, s in zip(order, shapes)):
                pairs = dict(zip(model_keys, order))
    used = set(pairs.values())
    missing = [k for k in model_keys if k not in pairs]
    unexpected = [k for k in file_keys if k not in used]
    mismatched = []
    for e in entries:
        if e.key in pairs:
            file_shape = source.tensors[pairs[e.key]][1]
            shape = tuple(_keras_value(e).shape)
            if file_shape != shape:
                mismatched.append((e.key, file_shape, shape))
    return pairs, WeightsReport(missing, unexpected, mismatched)


def _describe(report: WeightsReport) -> str:
    def listed(keys: list[str]) -> str:
        more = f" and {len(keys) - _MAX_LISTED} more" if len(keys) > _MAX_LISTED else ""
        return f"{keys[:_MAX_LISTED]}{more}"

    lines = []
    if report.missing:
        lines.append(
            f"missing from the file ({len(report.missing)}): {listed(report.missing)}"
        )
    if report.unexpected:
        lines.append(
            f"unexpected in the file ({len(report.unexpected)}): {listed(report.unexpected)}"
        )
    if report.mismatched:
        shown = [
            f"{k}: file {format_shape(a)}, model {format_shape(b)}"
            for k, a, b in report.mismatched[:_MAX_LISTED]
        ]
        lines.append(f"shape mismatches ({len(report.mismatched)}): {'; '.join(shown)}")
    return "\n  ".join(lines)


def load_weights_from_source(
    model: torch.nn.Module,
    source: SafetensorsSource,
    skip_mismatch: bool = False,
    by_name: bool = False,
) -> WeightsReport:
    """Load `source` into `model` (see `load_weights`); all or nothing unless skipping."""
    entries = collect_weights(model)
    pairs, report = _match(entries, source, by_name)
    problems = bool(report.mismatched) or (
        not by_name and bool(report.missing or report.unexpected)
    )
    name = getattr(model, "name", type(model).__name__)
    if problems and not skip_mismatch:
        model_bytes = sum(e.tensor.numel() * e.tensor.element_size() for e in entries)
        raise ValueError(
            f"{source.where} does not match model {name!r}: expected the model's "
            f"{len(entries)} weights ({model_bytes} bytes), got {len(source.tensors)} "
            f"tensors ({source.nbytes()} bytes):\n  {_describe(report)}\n"
            "Nothing was loaded. Pass skip_mismatch=True to load the weights that "
            "match, or by_name=True to match by layer name."
        )
    if problems:
        warnings.warn(
            f"{source.where}: skipped weights that do not match model {name!r}:\n  "
            f"{_describe(report)}",
            stacklevel=3,
        )
    bad = {k for k, _, _ in report.mismatched}
    staged = []
    for e in entries:
        if e.key not in pairs or e.key in bad:
            continue
        value = source.get(pairs[e.key])
        value = value.to(e.tensor.dtype)
        if e.layout is not None:
            value = e.layout[1](value)
        if tuple(value.shape) != tuple(e.tensor.shape):
            raise ValueError(
                f"{source.where}: weight {e.key!r} converts to shape "
                f"{format_shape(tuple(value.shape))}, the model holds "
                f"{format_shape(tuple(e.tensor.shape))}."
            )
        staged.append((e.tensor, value))
    unhooked = load_hooks(model, source, skip_mismatch or by_name, _materialise)
    if unhooked and not by_name:
        report.missing.extend(unhooked)
        warnings.warn(
            f"{source.where}: no stored variables for the layers at {unhooked}; "
            "their weights were left as they are.",
            stacklevel=3,
        )
    with torch.no_grad():
        for tensor, value in staged:
            if tensor.is_meta:
                _materialise(tensor, value)
            else:
                tensor.copy_(value)
    return report


def _materialise(tensor: torch.Tensor, value: torch.Tensor) -> None:
    """Make a meta weight (see `deferred_weights`) a real one holding `value`.

    The weight stays the same Python object (layers, optimizers and shared
    layers refer to it), with its attributes; it lands on the default device.
    """
    real = torch.empty(tensor.shape, dtype=tensor.dtype)
    real.copy_(value)
    if isinstance(tensor, torch.nn.Parameter):
        # Its own class (a layer's Variable), which swap_tensors swaps too.
        real = type(tensor)(real, requires_grad=tensor.requires_grad)
    real.__dict__.update(tensor.__dict__)
    torch.utils.swap_tensors(tensor, real)


def load_weights(
    model: torch.nn.Module,
    filepath: Any,
    skip_mismatch: bool = False,
    by_name: bool = False,
) -> WeightsReport:
    """Load weights saved by `save_weights` (or from a `.plait` model file).

    By default every weight of the model must be in the file with its shape,
    matched by its path (`dense_1/kernel`); if the names differ but the file
    holds the same architecture's weights in the same order (a model built
    again, whose layers got other automatic names), they load in order. When
    nothing can be matched this way, nothing is loaded and a `ValueError` lists
    the missing, unexpected and mis-shaped keys.

    Args:
        model: The model (or layer) to load into.
        filepath: A `.safetensors` file, a `.plait` file saved by `model.save`,
            a Keras 2 weights file or legacy model file (`.h5`, layers matched
            in order, or by name with `by_name`) or a Keras 3 `.weights.h5`.
        skip_mismatch: Load what matches; skip (with a warning) the rest.
        by_name: Match by layer name only: a weight `encoder/dense/kernel` may
            load from `dense/kernel`; layers absent from the file keep their
            weights (Keras 2's `by_name=True`).

    Returns:
        A `WeightsReport` of missing, unexpected and mis-shaped keys.

    Raises:
        ValueError: a malformed file, or weights that do not match (see above).
    """
    path = os.fspath(filepath)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_weights: no file {path!r}.")
    import zipfile

    with open(path, "rb") as f:
        hdf5 = f.read(8) == b"\x89HDF\r\n\x1a\n"
    if hdf5:
        from plait.saving.keras_legacy import load_h5_weights_file

        layer = _plait_layer(model, "load_weights")
        return load_h5_weights_file(layer, path, skip_mismatch, by_name)
    if zipfile.is_zipfile(path):
        from plait.saving.model_io import read_archive_weights

        source = read_archive_weights(path)
    else:
        source = SafetensorsSource(None, path, f"weights file {path!r}")
    return load_weights_from_source(model, source, skip_mismatch, by_name)
