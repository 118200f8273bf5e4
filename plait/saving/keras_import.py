"""Import Keras 3 `.keras` files: their `config.json` and `model.weights.h5`.

The Keras config is translated into plait's config format (the two are close:
plait's follows Keras's), class by class through plait's own registry, and the
model is rebuilt with `deserialize_layer`; then the HDF5 weights (read with
`h5py`, an optional dependency: `pip install h5py`) are set layer by layer
(see `keras_h5`).

Nothing in the file is imported or run: `module` keys are ignored (classes are
found by name in plait), and a `Lambda` holding Python bytecode is refused.
Keras options plait does not implement are refused by name unless they are
left at a value that changes nothing. The masks that Keras writes into its
graph (a `NotEqual` op feeding `mask=` arguments) are dropped: plait's layers
recompute them.
"""

from __future__ import annotations

import inspect
import io
import warnings
from typing import TYPE_CHECKING, Any

from plait.layers.base import _BASE_KWARGS, Layer
from plait.layers.serialization import deserialize_layer, resolve_class
from plait.saving.h5_preflight import preflight
from plait.saving.keras_h5 import _H5, is_op, load_h5_weights

if TYPE_CHECKING:
    from plait.saving.model_io import Archive

__all__ = ["keras_to_plait_config", "load_keras_archive"]

# Keys every plait layer accepts (Layer.__init__ and its _BASE_KWARGS).
_BASE_KEYS = frozenset(
    {"name", "dtype", "trainable", "activity_regularizer", *_BASE_KWARGS}
)
# Keras options that change nothing at inference (or only speed, or the random
# stream), dropped whatever their value.
_IGNORABLE = frozenset({"unroll", "seed", "renorm_momentum", "lora_alpha", "optional"})
_NESTED_LAYER_KEYS = ("layer", "backward_layer", "cell")
_MODELS = ("Functional", "Model", "Sequential")
# Keras ops on symbolic tensors -> plait's `Operator` op.
_BINARY_OPS = {
    "Add": "add",
    "Subtract": "subtract",
    "Multiply": "multiply",
    "Divide": "divide",
    "TrueDivide": "divide",
    "Power": "power",
    "Matmul": "matmul",
}
_UNARY_OPS = {"Negative": "negative", "Absolute": "absolute", "Abs": "absolute"}
_MAX_LISTED = 6


def _unsupported(where: str, what: str) -> ValueError:
    return ValueError(f"Keras import: {where}: {what}")


def _accepted(cls: type) -> set[str]:
    """Constructor keywords of a plait layer class."""
    names: set[str] = set(_BASE_KEYS)
    for klass in cls.__mro__:
        if klass is Layer or not issubclass(klass, Layer):
            break
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names |= {p.name for p in params if p.kind is not p.VAR_KEYWORD}
        # Private bases (`_CellRNN(make_cell, args)`) forward a public class's
        # keywords to the class above them.
        forwards = klass.__name__.startswith("_")
        if not forwards and not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return names


def _object(value: Any, where: str) -> Any:
    """A Keras serialized object (initializer, regularizer, ...) as plait data."""
    if not isinstance(value, dict) or "class_name" not in value:
        return value
    name = value.get("class_name")
    if name == "function":  # a function by name: registered or built-in
        # Keras 3.15 writes registered_name "function" for an unregistered one.
        registered = value.get("registered_name")
        if isinstance(registered, str) and registered != "function":
            return registered
        return value.get("config")
    if name in ("__lambda__", "__bytes__"):
        raise _unsupported(
            where,
            "it holds Python bytecode (a Keras Lambda of a lambda); plait never loads "
            "code from a file. Rebuild the layer in plait with a function registered "
            "by @plait.saving.register_serializable(), then load the weights.",
        )
    if name == "DTypePolicy":
        return _dtype(value, where)
    config = value.get("config") or {}
    if isinstance(config, dict):
        config = {k: _object(v, where) for k, v in config.items() if v is not None}
    return {"class_name": name, "config": config}


def _dtype(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        value = (value.get("config") or {}).get("name")
    return value  # a policy name (mixed ones too) or a dtype name


def _layer_config(
    cls: type, config: dict[str, Any], where: str, custom: bool
) -> dict[str, Any]:
    accepted = None if custom else _accepted(cls)
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key in _NESTED_LAYER_KEYS and isinstance(value, dict):
            out[key] = _entry(value, where)
        elif key == "dtype":
            out[key] = _dtype(value, where)
        elif accepted is not None and key not in accepted:
            if value is not None and value is not False and key not in _IGNORABLE:
                raise _unsupported(
                    where,
                    f"option {key}={value!r} is not supported by plait's "
                    f"{cls.__name__}.",
                )
        else:
            out[key] = _object(value, f"{where} option {key!r}")
    return out


def _arg(value: Any, where: str) -> Any:
    """A Keras call argument (with `__keras_tensor__` refs) as plait node data."""
    if isinstance(value, list):
        return [_arg(v, where) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("class_name")
    config = value.get("config") or {}
    if kind == "__keras_tensor__":
        return {"__tensor__": config.get("keras_history")}
    if kind == "__tuple__":
        return {"__tuple__": _arg(config.get("value", []), where)}
    if "class_name" in value:
        raise _unsupported(where, f"call argument of kind {kind!r} is not supported.")
    return {k: _arg(v, where) for k, v in value.items()}


def _nodes(nodes: Any, where: str) -> list[dict[str, Any]]:
    out = []
    for node in nodes or []:
        if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
            kwargs = {
                k: v
                for k, v in (node.get("kwargs") or {}).items()
                # Masks are recomputed by plait. `training` too is left out:
                # Keras writes each layer's call default there (True for the
                # random augmentation layers) and lets the model's own
                # `training` (fit, evaluate, predict) override it; kept, it
                # would pin augmentation on in predict.
                if k not in ("mask", "training")
            }
            args = _arg(node.get("args", []), where)
            out.append({"args": args, "kwargs": _arg(kwargs, where)})
        elif isinstance(node, list):  # Keras 2: [[name, node, tensor, kwargs], ...]
            refs = [{"__tensor__": list(r[:3])} for r in node]
            kwargs = node[0][3] if node and len(node[0]) > 3 else {}
            arg = refs[0] if len(refs) == 1 else refs
            out.append({"args": [arg], "kwargs": _arg(kwargs or {}, where)})
        else:
            raise _unsupported(where, f"unreadable inbound node {node!r}.")
    return out


def _key(value: Any, where: str) -> Any:
    """A Keras `GetItem` key as plait's `Operator` key data."""
    if isinstance(value, list):
        return {"tuple": [_key(v, where) for v in value]}
    if isinstance(value, dict):
        kind, config = value.get("class_name"), value.get("config") or {}
        if kind == "__slice__":
            return {
                "slice": [config.get("start"), config.get("stop"), config.get("step")]
            }
        if kind in ("__ellipsis__", "ellipsis"):
            return {"ellipsis": True}
        raise _unsupported(where, f"index of kind {kind!r} is not supported.")
    if value is None or isinstance(value, int):
        return value
    raise _unsupported(where, f"index {value!r} is not supported.")


def _op_entry(entry: dict[str, Any], where: str) -> dict[str, Any]:
    """A Keras op node (`x + y`, `x[:, 0]`) as a plait `Operator` layer entry."""
    kind, name = str(entry.get("class_name")), entry.get("name")
    raw = entry.get("inbound_nodes") or []
    key = None
    if kind == "GetItem" and len(raw) == 1 and isinstance(raw[0], dict):
        raw_args = list(raw[0].get("args") or [])
        if len(raw_args) != 2:
            raise _unsupported(
                where, f"expected (tensor, key) arguments, got {raw_args!r}."
            )
        key = _key(raw_args[1], where)
        raw = [{**raw[0], "args": raw_args[:1]}]
    nodes = _nodes(raw, where)
    known = kind == "GetItem" or kind in _BINARY_OPS or kind in _UNARY_OPS
    if not known or len(nodes) != 1:
        return {"class_name": f"{kind} (Keras op)", "config": {}, "name": name,
                "inbound_nodes": nodes}  # fmt: skip
    args = nodes[0]["args"]
    config: dict[str, Any] = {"name": name}
    if kind == "GetItem":
        config.update(op="getitem", key=key)
    elif kind in _UNARY_OPS:
        config["op"] = _UNARY_OPS[kind]
        args = args[:1]
    else:
        config["op"] = _BINARY_OPS[kind]
        a, b = args[0], args[1]
        if isinstance(a, dict) and isinstance(b, dict):
            args = [[a, b]]
        elif isinstance(a, dict):
            config["operand"], args = b, [a]
        else:
            config.update(operand=a, reverse=True)
            args = [b]
    node = {"args": args, "kwargs": nodes[0]["kwargs"]}
    return {"class_name": "Operator", "config": config, "name": name,
            "inbound_nodes": [node]}  # fmt: skip


def _entry(entry: Any, where: str) -> dict[str, Any]:
    """A Keras layer entry as a plait one (unknown classes are kept, to list them)."""
    if not isinstance(entry, dict):
        raise _unsupported(where, f"expected a layer entry, got {entry!r}.")
    if is_op(entry):
        return _op_entry(entry, f"op {entry.get('name')!r} ({entry.get('class_name')})")
    class_name = entry.get("class_name")
    config = entry.get("config") or {}
    name = entry.get("name", config.get("name") if isinstance(config, dict) else None)
    here = f"layer {name!r} ({class_name})"
    registered = entry.get("registered_name")
    registered = registered if registered not in (None, class_name) else None
    out: dict[str, Any] = {"class_name": class_name}
    if registered is not None:
        out["registered_name"] = registered
    if isinstance(entry.get("shared_object_id"), int):
        out["shared_object_id"] = entry["shared_object_id"]
    if class_name in ("Functional", "Model"):
        out["config"] = _functional(config, here)
    elif class_name == "Sequential":
        out["config"] = _sequential(config, here)
    else:
        try:
            cls = resolve_class(class_name, registered)
        except ValueError:
            out["config"] = {"name": name}  # listed by _unknown_classes
        else:
            custom = cls.__module__.split(".")[0] != "plait"
            out["config"] = _layer_config(cls, config, here, custom)
    if "inbound_nodes" in entry:
        out["name"] = name
        out["inbound_nodes"] = _nodes(entry["inbound_nodes"], here)
    return out


def _refs(value: Any) -> list[str]:
    """Names of the layers a node structure refers to."""
    out, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("__tensor__")
            if isinstance(ref, list) and ref and isinstance(ref[0], str):
                out.append(ref[0])
            else:
                stack.extend(item.values())
        elif isinstance(item, list):
            if len(item) == 3 and isinstance(item[0], str):  # an input/output ref
                out.append(item[0])
            else:
                stack.extend(item)
    return out


def _prune(entries: list[dict[str, Any]], outputs: Any, inputs: Any) -> list[Any]:
    """Drop the layers no output depends on (Keras's mask ops, once masks are gone)."""
    by_name = {e.get("name"): e for e in entries}
    keep = set(_refs(inputs))
    stack = _refs(outputs)
    while stack:
        name = stack.pop()
        if name in keep or name not in by_name:
            keep.add(name)
            continue
        keep.add(name)
        stack.extend(_refs(by_name[name].get("inbound_nodes", [])))
    return [e for e in entries if e.get("name") in keep]


def _keras2_tensor_kwargs(value: Any, names: set[str]) -> Any:
    """Keras 2's tensor call arguments (`[layer, node, tensor]` lists naming a
    layer of the model, e.g. MultiHeadAttention's `value`) as Keras 3 refs."""
    if isinstance(value, dict):
        return {k: _keras2_tensor_kwargs(v, names) for k, v in value.items()}
    if not isinstance(value, list):
        return value
    if (
        len(value) == 3
        and value[0] in names
        and all(isinstance(i, int) and not isinstance(i, bool) for i in value[1:])
    ):
        return {"class_name": "__keras_tensor__", "config": {"keras_history": value}}
    return [_keras2_tensor_kwargs(v, names) for v in value]


def _keras2_nodes(layers: list[Any]) -> list[Any]:
    """The layer entries with Keras 2 inbound nodes' tensor kwargs made refs."""
    names = {str(e.get("name")) for e in layers if isinstance(e, dict)}
    out = []
    for entry in layers:
        nodes = entry.get("inbound_nodes") if isinstance(entry, dict) else None
        if isinstance(nodes, list) and any(isinstance(n, list) for n in nodes):
            entry = {**entry, "inbound_nodes": [
                [[*ref[:3], _keras2_tensor_kwargs(ref[3], names)]
                 if isinstance(ref, list) and len(ref) > 3 else ref for ref in node]
                if isinstance(node, list) else node
                for node in nodes
            ]}  # fmt: skip
        out.append(entry)
    return out


def _functional(config: dict[str, Any], where: str) -> dict[str, Any]:
    entries = [_entry(e, where) for e in _keras2_nodes(config.get("layers", []))]
    inputs, outputs = config.get("input_layers"), config.get("output_layers")
    return {
        "name": config.get("name"),
        "trainable": config.get("trainable", True),
        "layers": _prune(entries, outputs, inputs),
        "input_layers": inputs,
        "output_layers": outputs,
    }


def _sequential(config: dict[str, Any], where: str) -> dict[str, Any]:
    entries = [_entry(e, where) for e in config.get("layers", [])]
    build_shape = config.get("build_input_shape")
    has_input = entries and entries[0]["class_name"] == "InputLayer"
    if not has_input and isinstance(build_shape, list):
        input_entry = {
            "class_name": "InputLayer",
            "config": {"batch_shape": build_shape},
        }
        entries.insert(0, input_entry)
    return {
        "name": config.get("name"),
        "trainable": config.get("trainable", True),
        "layers": entries,
    }


def _unknown_classes(entry: dict[str, Any]) -> list[str]:
    """`'Class (layer name)'` for each translated entry whose class plait lacks."""
    out: list[str] = []
    stack: list[Any] = [entry]
    while stack:
        item = stack.pop()
        if not isinstance(item, dict):
            continue
        config = item.get("config") or {}
        try:
            resolve_class(item.get("class_name"), item.get("registered_name"))
        except ValueError:
            out.append(f"{item.get('class_name')} (layer {config.get('name')!r})")
        if item.get("class_name") in _MODELS:
            stack.extend(config.get("layers") or [])
        stack.extend(config.get(k) for k in _NESTED_LAYER_KEYS)
    return out


def _nested_model_refs(entry: dict[str, Any]) -> None:
    """Keras 3 numbers a nested graph model's calls in a model's `input_layers`
    and `output_layers` from 1 (its node 0 is the one made when it was built;
    call arguments count from 0): as plait's, from 0. In place, recursively."""
    stack = [entry]
    while stack:
        item = stack.pop()
        config = item.get("config")
        if item.get("class_name") not in _MODELS or not isinstance(config, dict):
            continue
        layers = [e for e in config.get("layers") or [] if isinstance(e, dict)]
        stack.extend(layers)
        if item.get("class_name") == "Sequential":
            continue
        graphs = {
            e.get("name")
            for e in layers
            if e.get("class_name") in ("Functional", "Model")
        }
        for key in ("input_layers", "output_layers"):
            config[key] = _shift_refs(config.get(key), graphs)


def _shift_refs(value: Any, graphs: set[Any]) -> Any:
    """`value`'s `[name, node, tensor]` refs to `graphs` one node lower."""
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        if value[0] in graphs and isinstance(value[1], int) and value[1] > 0:
            return [value[0], value[1] - 1, value[2]]
        return value
    if isinstance(value, list):
        return [_shift_refs(v, graphs) for v in value]
    if isinstance(value, dict):
        return {k: _shift_refs(v, graphs) for k, v in value.items()}
    return value


def keras_to_plait_config(
    config: dict[str, Any], keras3_refs: bool = True
) -> dict[str, Any]:
    """A Keras 3 `config.json` object as a plait model entry.

    Args:
        config: The model's config.
        keras3_refs: Whether the config was written by Keras 3, whose
            `output_layers` count a nested graph model's calls from 1
            (`_nested_model_refs`); tf.keras 2 counts them from 0.

    Raises:
        ValueError: naming every layer plait has no class for (after dropping
            Keras's mask ops), or the first unsupported option.
    """
    entry = _entry(config, "the model")
    if keras3_refs:
        _nested_model_refs(entry)
    missing = sorted(set(_unknown_classes(entry)))
    if missing:
        more = len(missing) - _MAX_LISTED
        listed = ", ".join(missing[:_MAX_LISTED]) + (
            f" and {more} more" if more > 0 else ""
        )
        raise ValueError(
            f"Keras import: the model uses layers plait does not have: {listed}. "
            "Pass plait implementations in custom_objects={'ClassName': cls} to "
            "import it."
        )
    return entry


def load_keras_archive(
    archive: Archive,
    custom_objects: dict[str, Any] | None,
    compile: bool = True,  # noqa: A002
) -> Any:
    """Build the plait model of a Keras 3 `.keras` archive and load its weights;
    with `compile`, compile it as the file says and restore its optimizer's
    state (Adam, AdamW, SGD, RMSprop, Adagrad), so `fit` continues as Keras's."""
    try:
        import h5py
    except ImportError as err:
        raise ImportError(
            "Loading a Keras '.keras' file needs h5py: pip install h5py "
            "(or pip install 'plait[keras]')."
        ) from err
    from plait.saving.model_io import KERAS_WEIGHTS, METADATA, check_graph_size

    where = archive.where
    if METADATA in archive.infos:
        meta = archive.read_json(METADATA)
        version = meta.get("keras_version") if isinstance(meta, dict) else None
        if not isinstance(version, str) or not version.startswith("3."):
            raise ValueError(
                f"{where}: not a Keras 3 file (keras_version={version!r})."
            )
    config = archive.read_json("config.json")
    if not isinstance(config, dict):
        raise ValueError(f"{where}: 'config.json' is not a JSON object.")
    check_graph_size(config, where)
    model = deserialize_layer(keras_to_plait_config(config), custom_objects)
    data = archive.read(KERAS_WEIGHTS)
    try:
        h5 = h5py.File(io.BytesIO(data), "r")
    except OSError as err:
        raise ValueError(
            f"{where}: {KERAS_WEIGHTS!r} is not an HDF5 file ({err})."
        ) from err
    h5.close()
    preflight(data, f"{where} {KERAS_WEIGHTS!r}")
    h5 = h5py.File(io.BytesIO(data), "r")
    with h5:
        load_h5_weights(model, config, h5, len(data), where)
        training = config.get("compile_config")
        if compile and isinstance(training, dict) and training:  # {}: uncompiled
            root = _H5(h5, len(data), where)
            _compile(model, training, root, custom_objects)
    return model


def _compile(
    model: Any, training: dict[str, Any], root: Any, custom_objects: Any
) -> None:
    """Compile `model` from a Keras 3 `compile_config` and restore the
    optimizer's variables (`optimizer/vars/<i>` of the weights file)."""
    from plait.saving.keras_legacy import compile_keras
    from plait.saving.keras_optimizer import keras3_variable_names, restore_state

    where = root.where
    # Keras compiles a config without an optimizer with compile()'s default.
    legacy = {**training, "optimizer_config": training.get("optimizer") or "rmsprop"}
    if not compile_keras(model, legacy, where, custom_objects):
        return
    group = root.child("optimizer")
    store = group.store() if group is not None else {}
    optimizer = getattr(model, "optimizer", None)
    if not store or optimizer is None:
        return
    kind = type(optimizer).__name__
    opt_config = (training.get("optimizer") or {}).get("config") or {}
    paths = [w.path for w in model.trainable_weights]
    names = keras3_variable_names(kind, opt_config, paths)
    arrays = [store[str(i)] for i in range(len(store)) if str(i) in store]
    if names is None or len(names) != len(arrays) or len(arrays) != len(store):
        warnings.warn(
            f"load_model: {where}: the optimizer's state was not restored (plait "
            f"does not know the order of a {kind}'s {len(store)} variables); "
            f"training continues with a fresh {kind}.",
            stacklevel=4,
        )
        return
    restore_state(model, names, arrays, where)
