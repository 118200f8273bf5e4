"""Keras 3 `model.weights.h5`: read it safely and set the weights of a plait model.

Keras names each layer's HDF5 group after its class (`layers/dense`,
`layers/dense_1`, ... in the order of the model's layers, not after the layer's
own name), stores its variables as `vars/0`, `vars/1`, ... and those of
sub-objects below (`lstm/cell/vars/0`, `bidirectional/forward_layer/...`).
plait rebuilds the same names from the Keras config and sets each layer's
weights with `set_weights`, both sides speaking Keras's layouts.
"""

from __future__ import annotations

import functools
import os
import re
import warnings
from collections.abc import Callable, Sequence
from typing import IO, Any, TypeVar

import numpy as np
import torch

from plait.layers.base import Layer
from plait.utils.atomic import atomic_write

__all__ = ["load_h5_weights", "save_h5_weights"]


# Keras's sub-objects in the order Keras creates them (and `get_weights` lists
# them); others follow alphabetically.
_CHILD_ORDER = [
    "cell",
    "forward_layer",
    "backward_layer",
    "layer",
    "query_dense",
    "key_dense",
    "value_dense",
    "output_dense",
]


def _unsupported(where: str, what: str) -> ValueError:
    return ValueError(f"Keras import: {where}: {what}")


def is_op(entry: Any) -> bool:
    """Whether a Keras layer entry is an op (`x + y`, `x[0]`), not a layer."""
    module = entry.get("module") if isinstance(entry, dict) else None
    return isinstance(module, str) and module.startswith("keras.src.ops")


def _snake(name: str) -> str:
    """Keras's `naming.to_snake_case`: `Conv2D` -> `conv2d`."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def _group_names(
    entries: list[dict[str, Any]], sequential: bool
) -> list[tuple[dict[str, Any], str]]:
    """Keras's HDF5 group name of each layer: its class in snake case, numbered.

    Ops are not layers and get no group; a Sequential's input layer neither.
    """
    used: dict[str, int] = {}
    out = []
    for entry in entries:
        if (
            is_op(entry)
            or entry.get("class_name") == "Operator"
            or (sequential and entry.get("class_name") == "InputLayer")
        ):
            continue
        name = _snake(str(entry.get("class_name")))
        if name in used:
            used[name] += 1
            name = f"{name}_{used[name]}"
        else:
            used[name] = 0
        out.append((entry, name))
    return out


# Keras writes a shallow tree (`layers/<name>/<sub-object>/vars/<i>`); anything
# deeper than this is not a Keras weights file and would only cost recursion.
MAX_H5_DEPTH = 32
# Attributes are names and JSON configs: a few thousand layer or weight names.
MAX_ATTR_ITEMS = 1_000_000


_F = TypeVar("_F", bound=Callable[..., Any])


def _read_errors(method: _F) -> _F:
    """Report h5py's errors on a corrupt file as a ValueError naming the file."""

    @functools.wraps(method)
    def wrapper(self: _H5, *args: Any) -> Any:
        try:
            return method(self, *args)
        except (OSError, RuntimeError, KeyError) as err:
            raise ValueError(
                f"{self.where}: the HDF5 file is corrupt or truncated at "
                f"{self.group.name!r} ({type(err).__name__}: {str(err)[:200]})."
            ) from err

    return wrapper  # type: ignore[return-value]


class _H5:
    """Read-only access to an HDF5 group that follows only hard links.

    Soft and external links (which can point into other files) are refused, and
    so are hard-link cycles, trees deeper than `MAX_H5_DEPTH`, and datasets that
    are filtered (compressed), not numeric, larger than the file, or whose bytes
    do not lie inside the file: HDF5 lets a dataset's raw data live in another
    file (external storage) or be assembled from other files (virtual datasets),
    which would copy any local file into the weights or block on a FIFO.
    """

    def __init__(
        self, group: Any, limit: int, where: str, ancestors: tuple[Any, ...] = ()
    ) -> None:
        self.group, self.limit, self.where = group, limit, where
        self.ancestors = (*ancestors, group.id)
        if len(self.ancestors) > MAX_H5_DEPTH:
            raise ValueError(
                f"{where}: the HDF5 tree is deeper than {MAX_H5_DEPTH} groups at "
                f"{group.name!r}; a Keras weights file is a shallow tree."
            )

    @_read_errors
    def names(self) -> list[str]:
        """The names of the group's members."""
        return list(self.group.keys())

    @_read_errors
    def child(self, key: str) -> _H5 | None:
        """Sub-group `key`, or None when absent."""
        import h5py

        link = self.group.get(key, getlink=True)
        if link is None:
            return None
        if not isinstance(link, h5py.HardLink):
            raise ValueError(
                f"{self.where}: HDF5 member {key!r} is a {type(link).__name__}; only "
                "plain members are read (links may point outside the file)."
            )
        item = self.group[key]
        if not isinstance(item, h5py.Group):
            raise ValueError(f"{self.where}: HDF5 member {key!r} is not a group.")
        # ObjectIDs compare equal when two hard links name the same object.
        if any(item.id == seen for seen in self.ancestors):
            raise ValueError(
                f"{self.where}: HDF5 group {item.name!r} is a hard link to one of "
                "its own parents (a cycle); a Keras weights file is a tree."
            )
        return _H5(item, self.limit, self.where, self.ancestors)

    @_read_errors
    def _check_dataset(self, ds: Any, label: str) -> None:
        """Refuse `ds` unless its raw bytes are plain, numeric and in this file."""
        import h5py

        plist = ds.id.get_create_plist()
        layout = plist.get_layout()
        nbytes = ds.size * ds.dtype.itemsize
        if layout == h5py.h5d.VIRTUAL or plist.get_external_count() > 0:
            kind = "a virtual dataset" if layout == h5py.h5d.VIRTUAL else "external"
            raise ValueError(
                f"{self.where}: weight {label} is stored outside the file ({kind}); "
                "only data inside the file is read."
            )
        if layout not in (h5py.h5d.CONTIGUOUS, h5py.h5d.CHUNKED):
            raise ValueError(
                f"{self.where}: weight {label} has HDF5 layout {layout}; expected a "
                "contiguous or chunked dataset."
            )
        if plist.get_nfilters() > 0 or ds.dtype.kind not in "fiub":
            raise ValueError(
                f"{self.where}: weight {label} ({ds.dtype}, shape {ds.shape}) is "
                "not a plain numeric array (filtered or compressed data is refused)."
            )
        if nbytes > self.limit or ds.id.get_storage_size() < nbytes:
            raise ValueError(
                f"{self.where}: weight {label} ({ds.dtype}, shape {ds.shape}) "
                f"declares {nbytes} bytes, but the file holds "
                f"{ds.id.get_storage_size()} bytes of it (file size {self.limit})."
            )

    @_read_errors
    def attr(self, key: str) -> Any:
        """Attribute `key` as data (a str, a list of str or numbers), or None.

        Only strings and plain numbers are read, at most `MAX_ATTR_ITEMS` of
        them and no more bytes than the file holds: an attribute is data, never
        an object reference or anything h5py would have to interpret.
        """
        import h5py

        if key not in self.group.attrs:
            return None
        aid = self.group.attrs.get_id(key)
        dtype, shape = aid.dtype, aid.shape or ()
        items = 1
        for d in shape:
            items *= d
        text = h5py.check_string_dtype(dtype) is not None
        if not text and (dtype.kind not in "fiub" or dtype.names is not None):
            raise ValueError(
                f"{self.where}: attribute {key!r} of {self.group.name!r} has type "
                f"{dtype}; expected text or numbers."
            )
        if items == 0:  # an empty list (h5py cannot size an empty attribute)
            return []
        if items > MAX_ATTR_ITEMS or aid.get_storage_size() > self.limit:
            raise ValueError(
                f"{self.where}: attribute {key!r} of {self.group.name!r} declares "
                f"{items} items ({aid.get_storage_size()} bytes); expected at most "
                f"{MAX_ATTR_ITEMS} items within the file's {self.limit} bytes."
            )
        try:
            value = self.group.attrs[key]
        except (OSError, RuntimeError, ValueError) as err:  # corrupt attribute data
            raise ValueError(
                f"{self.where}: attribute {key!r} of {self.group.name!r} cannot be "
                f"read ({err})."
            ) from err
        if hasattr(value, "tolist"):
            value = value.tolist()
        if isinstance(value, list):
            value = [v.decode("utf-8") if isinstance(v, bytes) else v for v in value]
        elif isinstance(value, bytes):
            value = value.decode("utf-8")
        if len(str(value)) > self.limit:
            raise ValueError(
                f"{self.where}: attribute {key!r} holds more text than the file's "
                f"{self.limit} bytes."
            )
        return value

    @_read_errors
    def dataset(self, path: str) -> Any:
        """The dataset at `path` (`a/b/kernel:0`, hard links only) as an array."""
        import h5py

        *parts, last = path.split("/")
        group: _H5 | None = self
        for part in parts:
            group = group.child(part) if group is not None else None
        link = group.group.get(last, getlink=True) if group is not None else None
        if group is None or not isinstance(link, h5py.HardLink):
            raise ValueError(f"{self.where}: weight {path!r} is missing or a link.")
        ds = group.group[last]
        if not isinstance(ds, h5py.Dataset):
            raise ValueError(f"{self.where}: weight {path!r} is not a dataset.")
        group._check_dataset(ds, repr(path))
        try:
            return ds[()]
        except (OSError, RuntimeError) as err:  # corrupt chunks or heap
            raise ValueError(
                f"{self.where}: weight {path!r} cannot be read ({err})."
            ) from err

    @_read_errors
    def store(self) -> dict[str, Any]:
        """Every dataset of `vars/` by name: a `load_own_variables` store."""
        vars_group = self.child("vars")
        names = vars_group.names() if vars_group is not None else []
        return {name: self.dataset(f"vars/{name}") for name in names}

    @_read_errors
    def arrays(self) -> list[Any]:
        """The datasets `vars/0`, `vars/1`, ... as NumPy arrays."""
        import h5py

        vars_group = self.child("vars")
        if vars_group is None:
            return []
        out = []
        for i in range(len(vars_group.names())):
            link = vars_group.group.get(str(i), getlink=True)
            ds = (
                vars_group.group.get(str(i))
                if isinstance(link, h5py.HardLink)
                else None
            )
            if not isinstance(ds, h5py.Dataset):
                raise ValueError(f"{self.where}: weight vars/{i} is missing or a link.")
            self._check_dataset(ds, f"vars/{i}")
            out.append(ds[()])
        return out


def _arrays(group: _H5 | None, where: str) -> list[Any]:
    """A leaf layer's arrays: its own `vars`, then its sub-objects' (RNN cells)."""
    if group is None:
        return []
    out = group.arrays()
    children = [k for k in group.names() if k != "vars"]
    order = _CHILD_ORDER
    for key in sorted(children, key=lambda k: (order.index(k) if k in order else 9, k)):
        child = group.child(key)
        if child is not None and "layers" in child.names():
            raise _unsupported(where, f"a nested model under {key!r} is not supported.")
        out += _arrays(child, where)
    return out


def _user_children(layer: Layer) -> list[tuple[str, Layer]] | None:
    """A user-written layer's sub-layers by their Keras HDF5 path: the attribute
    name, or `<attribute>/<class in snake case>[_<n>]` for a list of layers.
    None for plait's own layers (their sub-objects follow `_CHILD_ORDER`)."""
    if type(layer).__module__.startswith("plait."):
        return None
    out: list[tuple[str, Layer]] = []
    for key, module in layer._modules.items():
        if isinstance(module, Layer):
            out.append((key, module))
        elif isinstance(module, torch.nn.ModuleList):
            used: dict[str, int] = {}
            for sub in module:
                if isinstance(sub, Layer):
                    name = _snake(type(sub).__name__)
                    used[name] = used.get(name, -1) + 1
                    n = used[name]
                    out.append((f"{key}/{name}" + (f"_{n}" if n else ""), sub))
    return out


def _entry(layer: Layer) -> dict[str, Any]:
    """What `_write`/`_load_weights` need of a sub-layer: a model's config."""
    from plait.layers.serialization import serialize_layer
    from plait.models.functional import Functional

    return serialize_layer(layer) if isinstance(layer, Functional) else {}


# (layer, arrays, own): `own` sets only the layer's own weights (a user-written
# layer whose sub-layers are staged apart), else all of `get_weights`; `own`
# None: `arrays` is the store the layer's `load_own_variables` override gets.
_Staged = list[tuple[Layer, Any, bool | None]]


def _load_weights(
    layer: Layer,
    entry: dict[str, Any],
    group: _H5 | None,
    seen: set[int],
    staged: _Staged,
) -> None:
    """Stage `layer`'s arrays from its Keras HDF5 group (recursing into models)."""
    from plait.models.functional import Functional

    if id(layer) in seen:
        return
    seen.add(id(layer))
    where = f"layer {layer.name!r}"
    config = entry.get("config") or {}
    if isinstance(layer, Functional):
        sequential = entry.get("class_name") == "Sequential"
        layers_group = group.child("layers") if group is not None else None
        by_name = {la.name: la for la in layer._sublayers()}
        for sub_entry, h5_name in _group_names(config.get("layers", []), sequential):
            name = sub_entry.get("name") or (sub_entry.get("config") or {}).get("name")
            sub_group = (
                layers_group.child(h5_name) if layers_group is not None else None
            )
            sub = by_name.get(str(name))
            if sub is None:  # pruned from the graph: mask ops and the like
                continue
            _load_weights(sub, sub_entry, sub_group, seen, staged)
        return
    children = _user_children(layer)
    if children is not None:  # Keras: own vars, then each sub-layer by attribute
        if layer._saves_own_variables():
            staged.append((layer, group.store() if group is not None else {}, None))
        else:
            own = group.arrays() if group is not None else []
            if own or layer._own_weight_entries():
                staged.append((layer, own, True))
        for path, child in children:
            at = group
            for part in path.split("/"):
                at = at.child(part) if at is not None else None
            _load_weights(child, _entry(child), at, seen, staged)
        return
    # Wrappers of whole models (TimeDistributed(model)) recurse into the model.
    wrapped = {
        "layer": config.get("layer"),
        "forward_layer": config.get("layer"),
        "backward_layer": config.get("backward_layer") or config.get("layer"),
    }
    subs = {k: getattr(layer, k, None) for k in wrapped}
    if group is not None and any(isinstance(m, Functional) for m in subs.values()):
        for key, wrapped_entry in wrapped.items():
            inner = subs[key]
            if isinstance(inner, Layer) and isinstance(wrapped_entry, dict):
                _load_weights(inner, wrapped_entry, group.child(key), seen, staged)
        return
    arrays = _arrays(group, where)
    if arrays or layer.weights:
        staged.append((layer, arrays, False))


def _misfit(layer: Layer, arrays: Any, own: bool | None) -> str | None:
    """Why `arrays` cannot be `layer`'s weights (`own`: its own ones), or None."""
    if own is None:  # the layer's own `load_own_variables` checks its store
        return None if arrays else "the file stores no variables for it"
    if own:
        want = [
            tuple(info.layout[0](p.detach()).shape if info.layout else p.shape)
            for p, info in layer._own_weight_entries()
        ]
    else:
        want = [tuple(w.shape) for w in layer.get_weights()]
    got = [tuple(a.shape) for a in arrays]
    if len(got) != len(want):
        return f"the file has {len(got)} weights, the layer {len(want)}"
    if got != want:
        return f"the file's shapes {got} differ from the layer's {want}"
    return None


def load_h5_weights(
    model: Layer,
    config: dict[str, Any],
    h5: Any,
    size: int,
    where: str,
    skip_mismatch: bool = False,
) -> list[tuple[str, tuple[int, ...], tuple[int, ...]]]:
    """Set the weights of `model` (built from `config`) from the open HDF5 file.

    Every layer's arrays are read and checked before any is set: when one does
    not fit, nothing is loaded (ValueError naming the layer), unless
    `skip_mismatch`, which loads the layers that fit, warns, and returns the
    others as `(layer name, first shape in file, first shape in model)`.
    """
    staged: _Staged = []
    _load_weights(model, config, _H5(h5, size, where), set(), staged)
    fit: _Staged = []
    problems: list[str] = []
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = []
    for layer, arrays, own in staged:
        why = _misfit(layer, arrays, own)
        if why is None:
            fit.append((layer, arrays, own))
            continue
        problems.append(f"layer {layer.name!r}: {why}")
        file_shape = tuple(arrays[0].shape) if arrays else ()
        model_shape = tuple(layer.get_weights()[0].shape) if layer.weights else ()
        mismatched.append((layer.name, file_shape, model_shape))
    set_staged(
        fit,
        problems,
        skip_mismatch,
        refusal=f"Keras import: {where}: the file's weights do not fit",
        skipped=f"{where}: skipped the layers whose weights do not fit",
    )
    return mismatched


def set_staged(
    staged: Sequence[tuple[Layer, Any, bool | None]],
    problems: list[str],
    skip_mismatch: bool,
    refusal: str,
    skipped: str,
    hint: str = "",
) -> None:
    """Set the staged weights, all or none: with problems, refuse (ValueError
    "<refusal>: <problems>. Nothing was loaded.<hint>") unless `skip_mismatch`,
    which warns ("<skipped>: <problems>") and sets the rest."""
    if problems and not skip_mismatch:
        raise ValueError(
            f"{refusal}: " + "; ".join(problems) + ". Nothing was loaded." + hint
        )
    if problems:
        warnings.warn(f"{skipped}: " + "; ".join(problems), stacklevel=5)
    for layer, arrays, own in staged:
        if own is None:
            layer.load_own_variables(arrays)
        elif own:
            layer._assign_entries(layer._own_weight_entries(), arrays)
        else:
            layer.set_weights(arrays)


def _write(layer: Layer, entry: dict[str, Any], group: Any) -> None:
    """Write `layer`'s weights under `group` as Keras 3 does (see `_load_weights`)."""
    from plait.models.functional import Functional

    config = entry.get("config") or {}
    if isinstance(layer, Functional):
        layers_group = group.create_group("layers")
        sequential = entry.get("class_name") == "Sequential"
        by_name = {la.name: la for la in layer._sublayers()}
        for sub_entry, h5_name in _group_names(config.get("layers", []), sequential):
            name = sub_entry.get("name") or (sub_entry.get("config") or {}).get("name")
            sub = by_name.get(str(name))
            if sub is not None:
                _write(sub, sub_entry, layers_group.create_group(h5_name))
        group.create_group("vars").attrs["name"] = layer.name
        return
    own = group.create_group("vars")
    own.attrs["name"] = layer.name
    store: dict[str, Any] = {}
    layer.save_own_variables(store)  # "0", "1", ... unless the layer overrides it
    for key, value in store.items():
        own.create_dataset(str(key), data=np.asarray(value))
    children = _user_children(layer)
    for path, user_child in children or []:
        _write(user_child, _entry(user_child), group.create_group(path))
    for key in _CHILD_ORDER if children is None else []:
        child = getattr(layer, key, None)
        if isinstance(child, Layer) and child.weights:
            child_entry = config.get(key)
            if not isinstance(child_entry, dict):
                child_entry = {}
            _write(child, child_entry, group.create_group(key))


def save_h5_weights(model: Layer, filepath: Any, overwrite: bool = True) -> None:
    """Save `model`'s weights as Keras 3's `.weights.h5` file, atomically.

    Layers go to `layers/<class in snake case>[_<n>]/vars/<i>` in the model's
    order, sub-objects (RNN cells, the two layers of `Bidirectional`) below
    their layer, as Keras 3 writes them; Keras 3 and plait load the file.
    """
    import h5py

    from plait.layers.serialization import serialize_layer

    entry = serialize_layer(model)

    def write(f: IO[bytes]) -> None:
        with h5py.File(f, "w") as h5:
            _write(model, entry, h5)

    atomic_write(os.fspath(filepath), write, overwrite)
