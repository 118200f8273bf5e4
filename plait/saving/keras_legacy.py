"""Legacy HDF5 files (`.h5`) of Keras 2, tf.keras and Keras 3's legacy writer.

A model file holds its architecture as JSON in the root attribute
`model_config`, its compile arguments in `training_config`, and its weights in
the group `model_weights`: one group per layer, named after the layer, whose
attribute `weight_names` lists the layer's datasets (`dense/kernel:0` in Keras 2,
`dense/kernel` in Keras 3) in Keras's legacy order, the layer's trainable weights
then its non-trainable ones. A weights file (`model.save_weights('w.h5')` in
Keras 2) is that group at the root, its layers listed in `layer_names`.

The file is read with h5py only (never pickle), through `keras_h5`'s reader:
hard links only, no external or virtual data, attributes read as bounded data.
The config is translated to Keras 3's form (Keras 2 spellings, `Lambda`
functions) and then built like a `.keras` file's. The model is first built
without memory (meta weights) and must not declare more weight bytes than the
file holds. Nothing named in the file is imported or run: a `Lambda` that
carries code loads only with its function passed in `custom_objects`.

Known limit: h5py's errors on a corrupt file are reported as ValueErrors, but
libhdf5 can spin forever on some corrupted variable-length string attributes
(found by flipping random bytes of a model file); a file from an untrusted
source may therefore hang the loader, though it cannot run code or read other
files.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
import torch

from plait.graph.inference import deferred_weights
from plait.layers.base import Layer
from plait.layers.serialization import (
    custom_object_scope,
    deserialize_layer,
    get_registered_object,
)
from plait.saving import json_data
from plait.saving.keras_h5 import _H5, set_staged
from plait.saving.weights import WeightsReport, _materialise, collect_weights

__all__ = ["load_legacy_model", "load_legacy_weights", "open_h5"]

_MODELS = ("Functional", "Model", "Sequential")
_WRAPPED = ("layer", "backward_layer", "cell")
_RNNS = ("SimpleRNN", "GRU", "LSTM", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
# Keras 2 options that Keras 3 and plait dropped, and change nothing at
# inference or in training (speed, or shapes the graph gives again): dropped
# whatever their value.
_KERAS2_SPEED = {
    "RNN": ("implementation",),
    "Embedding": ("input_length",),
    "MultiHeadAttention": ("query_shape", "key_shape", "value_shape"),
}
# Keras 2 options dropped when they hold the value that changes nothing.
_KERAS2_DEFAULTS = {"fused": (None, True), "groups": (1,), "time_major": (False,)}
# Optimizer options of Keras 2/3 that plait has no use for at these values.
_OPTIMIZER_NOOP = {
    "decay": (0.0, 0),
    "use_ema": (False,),
    "ema_momentum": None,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": (None,),
    "gradient_accumulation_steps": (None, 1),
    "jit_compile": None,
    "is_legacy_optimizer": None,
}


def open_h5(path: str) -> Any:
    """The HDF5 file at `path`, opened read-only with h5py."""
    try:
        import h5py
    except ImportError as err:
        raise ImportError(
            "Reading a Keras '.h5' file needs h5py: pip install h5py "
            "(or pip install 'plait[keras]')."
        ) from err
    from plait.saving.h5_preflight import preflight

    try:
        h5 = h5py.File(path, "r")
    except OSError as err:
        raise ValueError(f"file {path!r} is not a readable HDF5 file ({err}).") from err
    with h5:
        pass
    preflight(path, f"file {path!r}")
    return h5py.File(path, "r")


# ---------------------------------------------------------------- the config
def _lambda(
    config: dict[str, Any], name: Any, custom: dict[str, Any]
) -> dict[str, Any]:
    """A Keras 2 or 3 `Lambda` config whose function is found by name, never run."""
    fn = config.get("function")
    kind = config.get("function_type")
    code = kind == "lambda" or isinstance(fn, list)
    if isinstance(fn, dict):
        code = code or fn.get("class_name") in ("__lambda__", "__bytes__")
        inner = fn.get("config")
        fn = inner if fn.get("class_name") == "function" else None
    key = str(name) if code else fn
    if not isinstance(key, str) or (
        key not in custom and (code or get_registered_object(key) is None)
    ):
        got = "Python bytecode" if code else f"the function {key!r}"
        raise ValueError(
            f"Lambda layer '{name}': expected its function in custom_objects as "
            f"{key!r} (or registered with @plait.saving.register_serializable()), "
            f"got {got} in the file; plait never runs code from a file."
        )
    out = {
        k: v
        for k, v in config.items()
        if k
        not in ("function_type", "module", "output_shape_type", "output_shape_module")
    }
    out["function"] = key
    shape = out.get("output_shape")
    if config.get("output_shape_type") == "lambda" or not (
        shape is None or isinstance(shape, list)
    ):
        out.pop("output_shape", None)  # code: plait infers the shape instead
    return out


def _layer(cls: Any, config: dict[str, Any], custom: dict[str, Any]) -> dict[str, Any]:
    config = dict(config)
    for key in _WRAPPED:
        if isinstance(config.get(key), dict):
            config[key] = legacy_entry(config[key], custom)
    if cls == "InputLayer" and "batch_input_shape" in config:
        config["batch_shape"] = config.pop("batch_input_shape")
    speed = _KERAS2_SPEED.get("RNN" if cls in _RNNS else str(cls), ())
    for key in speed:
        config.pop(key, None)
    for key, noop in _KERAS2_DEFAULTS.items():
        if key in config and config[key] in noop:
            del config[key]
    if cls == "Lambda":
        config = _lambda(config, config.get("name"), custom)
    return config


def legacy_entry(entry: Any, custom: dict[str, Any]) -> Any:
    """A Keras 2 (or Keras 3 legacy) layer entry in the `.keras` dialect."""
    if not isinstance(entry, dict):
        return entry
    cls, config = entry.get("class_name"), entry.get("config")
    if cls == "Sequential" and isinstance(config, list):  # Keras < 2.2.3
        config = {"layers": config}
    if cls in _MODELS and isinstance(config, dict):
        layers = config.get("layers")
        if isinstance(layers, list):
            config = {**config, "layers": [legacy_entry(e, custom) for e in layers]}
        for key in ("input_layers", "output_layers"):  # Keras 2: always lists
            refs = config.get(key)
            if isinstance(refs, list) and len(refs) == 1 and isinstance(refs[0], list):
                config = {**config, key: refs[0]}
    elif isinstance(config, dict):
        config = _layer(cls, config, custom)
    return {**entry, "config": config}


# ---------------------------------------------------------------- the weights
def _names(group: _H5, key: str) -> list[str]:
    value = group.attr(key)
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in values):
        raise ValueError(f"{group.where}: attribute {key!r} is not a list of names.")
    return list(values)


def layer_arrays(weights: _H5, name: str) -> list[np.ndarray]:
    """The arrays of layer `name`, in the file's (Keras's legacy) order."""
    group = weights.child(name)
    if group is None:
        raise ValueError(f"{weights.where}: no weights group for layer {name!r}.")
    return [np.asarray(group.dataset(n)) for n in _names(group, "weight_names")]


def _legacy_order(layer: Layer) -> list[int]:
    """For each weight in `get_weights` order, its index in Keras's legacy order."""
    legacy = [id(w) for w in layer.trainable_weights + layer.non_trainable_weights]
    return [legacy.index(id(w)) for w in layer.weights]


def _staged(layer: Layer, arrays: list[np.ndarray]) -> list[np.ndarray] | str:
    """`arrays` in `set_weights` order, or why they do not fit `layer`."""
    order = _legacy_order(layer)
    if len(arrays) != len(order):
        return f"the file has {len(arrays)} weights, the layer {len(order)}"
    values = [arrays[i] for i in order]
    want = [tuple(w.shape) for w in layer.get_weights()]
    got = [tuple(v.shape) for v in values]
    if want != got:
        return f"the file's shapes {got} differ from the layer's {want}"
    return values


def _weight_layers(model: Layer) -> list[Layer]:
    return [la for la in getattr(model, "layers", []) if la.weights]


def _check_size(model: Layer, size: int, where: str) -> None:
    """Refuse a model whose weights need more bytes than the file holds."""
    need = sum(
        e.tensor.numel() * e.tensor.element_size() for e in collect_weights(model)
    )
    if need > size:
        raise ValueError(
            f"{where}: expected the file to hold the model's weights, got a model "
            f"of {need} weight bytes in a file of {size} bytes; refusing to build it."
        )
    for e in collect_weights(model):
        if e.tensor.is_meta:
            _materialise(e.tensor, torch.zeros(e.tensor.shape, dtype=e.tensor.dtype))


def load_model_weights(model: Layer, weights: _H5) -> None:
    """Set every layer's weights from a `model_weights` group, by layer name."""
    staged = []
    for layer in _weight_layers(model):
        values = _staged(layer, layer_arrays(weights, layer.name))
        if isinstance(values, str):
            raise ValueError(
                f"{weights.where}: layer {layer.name!r}: {values}; nothing was loaded."
            )
        staged.append((layer, values, False))
    for layer, values, _ in staged:
        layer.set_weights(values)


# ---------------------------------------------------------------- compile
def _plain(value: Any) -> Any:
    """A serialized loss/metric/optimizer without Keras's module keys."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "class_name" in value:
        config = value.get("config")
        if isinstance(config, dict) and config.get("reduction") == "auto":
            config = {**config, "reduction": "sum_over_batch_size"}
        if value.get("class_name") == "function" and isinstance(config, str):
            return config
        return {"class_name": value["class_name"], "config": _plain(config)}
    return {k: _plain(v) for k, v in value.items()}


def _optimizer(value: Any) -> Any:
    if not isinstance(value, dict) or not isinstance(value.get("config"), dict):
        return _plain(value)
    config = {}
    for key, v in value["config"].items():
        noop = _OPTIMIZER_NOOP.get(key, ())
        if key in _OPTIMIZER_NOOP and (noop is None or v in noop):
            continue
        config[key] = _plain(v)
    if value["config"].get("use_ema"):
        config.update(use_ema=True)  # refused by name by plait's optimizer
    return {"class_name": value.get("class_name"), "config": config}


def compile_config(training: dict[str, Any]) -> dict[str, Any]:
    """A Keras `training_config` as plait's compile config (see training_state)."""
    config: dict[str, Any] = {
        "optimizer": _optimizer(training.get("optimizer_config")),
        "loss": _plain(training.get("loss")),
    }
    for key in ("metrics", "weighted_metrics", "loss_weights"):
        if training.get(key) is not None:
            config[key] = _plain(training[key])
    return config


def _restore_compile(
    model: Any, root: _H5, custom_objects: dict[str, Any] | None
) -> None:
    raw = root.attr("training_config")
    if raw is None:
        return
    training = json_data.loads(raw, f"{root.where} 'training_config'")
    if not isinstance(training, dict):
        raise ValueError(f"{root.where}: 'training_config' is not a JSON object.")
    compile_keras(model, training, root.where, custom_objects)


def compile_keras(
    model: Any, training: dict[str, Any], where: str, custom_objects: Any
) -> bool:
    """Compile `model` as a Keras file's compile arguments say (`training_config`
    of a legacy file, `compile_config` of a `.keras` one); warn and return False
    when they cannot be restored (the model stays uncompiled)."""
    from plait.saving.training_state import restore_compile

    try:
        restore_compile(
            model, compile_config(training), None, lambda: None, custom_objects
        )
    except (TypeError, ValueError) as err:
        warnings.warn(
            f"load_model: {where} is returned uncompiled: its compile "
            f"configuration cannot be restored ({err}).",
            stacklevel=5,
        )
        return False
    return True


# ---------------------------------------------------------------- entry points
def load_legacy_model(
    path: str,
    custom_objects: dict[str, Any] | None,
    compile: bool,  # noqa: A002
) -> Any:
    """Build and return the model of a legacy `.h5` model file (see the module)."""
    from plait.models.model import Model
    from plait.saving.keras_import import keras_to_plait_config
    from plait.saving.model_io import check_graph_size

    where = f"model file {path!r}"
    size = os.path.getsize(path)
    with open_h5(path) as f, custom_object_scope(custom_objects):
        root = _H5(f, size, where)
        raw = root.attr("model_config")
        if raw is None:
            raise ValueError(
                f"{where}: expected a 'model_config' attribute, got a file without "
                "one (a weights file?): build the model and call "
                "model.load_weights() on it."
            )
        config = json_data.loads(raw, f"{where} 'model_config'")
        if not isinstance(config, dict):
            raise ValueError(f"{where}: 'model_config' is not a JSON object.")
        check_graph_size(config, where)
        keras3 = str(root.attr("keras_version") or "").startswith("3")
        legacy = legacy_entry(config, dict(custom_objects or {}))
        entry = keras_to_plait_config(legacy, keras3_refs=keras3)
        with deferred_weights():
            model = deserialize_layer(entry, custom_objects)
        if not isinstance(model, Model):
            raise ValueError(f"{where}: 'model_config' describes a layer, not a model.")
        weights = root.child("model_weights")
        if weights is None:
            raise ValueError(f"{where}: expected a 'model_weights' group, got none.")
        _check_size(model, size, where)
        load_model_weights(model, weights)
        if compile:
            _restore_compile(model, root, custom_objects)
            state = root.child("optimizer_weights")
            if state is not None and getattr(model, "optimizer", None) is not None:
                from plait.saving.keras_optimizer import restore_optimizer_weights

                restore_optimizer_weights(model, state)
    return model


def _report(
    model: Layer, weights: _H5, by_name: bool
) -> tuple[list[tuple[Layer, list[np.ndarray], bool]], WeightsReport, list[str]]:
    """Pairs of (layer, arrays) to set and the report of what does not match."""
    names = _names(weights, "layer_names")
    model_layers = _weight_layers(model)
    missing: list[str] = []
    unexpected: list[str] = []
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = []
    problems: list[str] = []
    if by_name:
        in_file = set(names)
        pairs = [(la, la.name) for la in model_layers if la.name in in_file]
        missing = [la.name for la in model_layers if la.name not in in_file]
        used = {la.name for la in model_layers}
        unexpected = [n for n in names if n not in used and layer_arrays(weights, n)]
    else:
        filled = [n for n in names if layer_arrays(weights, n)]
        if len(filled) != len(model_layers):
            problems.append(
                f"the file has {len(filled)} layers with weights, the model "
                f"{len(model_layers)}"
            )
        pairs = list(zip(model_layers, filled))
        missing = [la.name for la in model_layers[len(filled) :]]
        unexpected = filled[len(model_layers) :]
    staged = []
    for layer, name in pairs:
        arrays = layer_arrays(weights, name)
        values = _staged(layer, arrays)
        if isinstance(values, str):
            problems.append(f"layer {layer.name!r} (file {name!r}): {values}")
            file_shape = tuple(arrays[0].shape) if arrays else ()
            model_shape = tuple(layer.get_weights()[0].shape)
            mismatched.append((layer.name, file_shape, model_shape))
        else:
            staged.append((layer, values, False))
    return staged, WeightsReport(missing, unexpected, mismatched), problems


def load_legacy_weights(
    model: Layer, path: str, skip_mismatch: bool, by_name: bool
) -> WeightsReport:
    """Load a Keras 2 weights file (or a legacy model file's weights) into `model`.

    Layers are matched in order (Keras 2's topological loading: the layers
    that have weights, in the model's order and the file's), or by layer name
    with `by_name`. Nothing is loaded when something does not match, unless
    `skip_mismatch` (then the rest loads, with a warning).
    """
    where = f"weights file {path!r}"
    with open_h5(path) as f:
        root = _H5(f, os.path.getsize(path), where)
        weights = (
            root.child("model_weights") if "model_weights" in root.names() else root
        )
        if weights is None or weights.attr("layer_names") is None:
            raise ValueError(
                f"{where}: expected Keras's 'layer_names' attribute, got an HDF5 file "
                "without it: not a Keras weights file."
            )
        staged, report, problems = _report(model, weights, by_name)
    name = getattr(model, "name", type(model).__name__)
    set_staged(
        staged,
        problems,
        skip_mismatch,
        refusal=f"{where} does not match model {name!r}",
        skipped=f"{where}: skipped what does not match model {name!r}",
        hint=" Pass skip_mismatch=True to load the layers that match, or "
        "by_name=True to match layers by name.",
    )
    return report


def load_h5_weights_file(
    model: Layer, path: str, skip_mismatch: bool, by_name: bool
) -> WeightsReport:
    """`load_weights` of an HDF5 file: Keras 2's layout, or Keras 3's `.weights.h5`."""
    with open_h5(path) as f:
        # Keras 3 files hold `layers/` (models of layers) or `vars/` and the
        # sub-layers' groups (subclassed models); Keras 2's list `layer_names`.
        keras3 = "layer_names" not in f.attrs and ("layers" in f or "vars" in f)
    if not keras3:
        return load_legacy_weights(model, path, skip_mismatch, by_name)
    if by_name:
        raise ValueError(
            f"load_weights: expected by_name=False for Keras 3 weights file {path!r} "
            "(its layers are stored by position, not name), got by_name=True."
        )
    from plait.layers.serialization import serialize_layer
    from plait.saving.keras_h5 import load_h5_weights

    where = f"weights file {path!r}"
    with open_h5(path) as f:
        mismatched = load_h5_weights(
            model,
            serialize_layer(model),
            f,
            os.path.getsize(path),
            where,
            skip_mismatch,
        )
    return WeightsReport([], [], mismatched)
