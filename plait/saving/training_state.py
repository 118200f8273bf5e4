"""A compiled model's training state in a model file: compile config, optimizer state.

The compile configuration is saved as JSON data through the training package's
own `serialize` functions (optimizer, losses, metrics); a loss or metric given
as a custom function saves by its registered name (see
`plait.saving.register_serializable`). The optimizer's state (step count,
moments) goes to `optimizer.safetensors`, its tensors keyed by their path in
the state dict, the rest as JSON. Loading compiles the model again and hands the
state to the optimizer, so training resumes where it stopped.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch

from plait.layers.serialization import check_json, get_registered_object
from plait.saving.weights import SafetensorsSource
from plait.utils.tensor_state import join_tensors as _join_state
from plait.utils.tensor_state import split_tensors as _split_state

__all__ = ["compile_state", "restore_compile"]

# compile() arguments saved as they are (JSON data).
_PLAIN = ("loss_weights", "steps_per_execution", "jit_compile", "run_eagerly")


def _map_spec(spec: Any, fn: Callable[[Any], Any]) -> Any:
    """Apply `fn` to each identifier of a per-output spec (one, list or dict).

    A `{"class_name", "config"}` dict is one (serialized) identifier.
    """
    if isinstance(spec, dict) and "class_name" not in spec:
        return {k: _map_spec(v, fn) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [_map_spec(v, fn) for v in spec]
    return None if spec is None else fn(spec)


def _save_fn(serialize: Callable[[Any], Any], kind: str) -> Callable[[Any], Any]:
    def save(identifier: Any) -> Any:
        if isinstance(identifier, str):
            return identifier
        registered = getattr(identifier, "_plait_registered_name", None)
        if isinstance(registered, str):
            return registered
        if isinstance(identifier, type) or not hasattr(identifier, "get_config"):
            raise ValueError(
                f"cannot save the {kind} {identifier!r}: register the function with "
                "@plait.saving.register_serializable(), or use a built-in name."
            )
        return serialize(identifier)

    return save


def _load_fn(
    deserialize: Callable[..., Any], custom_objects: dict[str, Any] | None
) -> Callable[[Any], Any]:
    def load(data: Any) -> Any:
        if isinstance(data, str):
            found = get_registered_object(data, custom_objects)
            if found is not None:
                return found
            if ">" in data:
                raise ValueError(
                    f"unknown function {data!r} in the compile config; import the "
                    "module that registers it, or pass it in custom_objects."
                )
            return data
        return deserialize(data, custom_objects)

    return load


def _compile_config(model: Any) -> dict[str, Any] | None:
    get_compile_config = getattr(model, "get_compile_config", None)
    if callable(get_compile_config):
        from plait.saving.objects import serialize_keras_object

        # Keras saves what the override returns as serialized objects (a
        # registered function as its entry); `compile_from_config` gets those.
        config: dict[str, Any] = get_compile_config()
        if isinstance(config, dict):
            config = {k: serialize_keras_object(v) for k, v in config.items()}
        return config
    args = getattr(model, "_compile_args", None)
    optimizer = getattr(model, "optimizer", None)
    if not isinstance(args, dict) or not hasattr(optimizer, "get_config"):
        return None
    from plait.losses import losses
    from plait.metrics import metrics
    from plait.optimizers import optimizers

    config = {
        "optimizer": optimizers.serialize(optimizer),  # type: ignore[arg-type]
        "loss": _map_spec(args.get("loss"), _save_fn(losses.serialize, "loss")),
    }
    for key in ("metrics", "weighted_metrics"):
        config[key] = _map_spec(args.get(key), _save_fn(metrics.serialize, "metric"))
    config.update({k: args[k] for k in _PLAIN if k in args})
    return config


def compile_state(model: Any) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Config entries and optimizer tensors of a compiled model (empty if not).

    Raises:
        ValueError: a loss, metric or optimizer setting that cannot be saved as
            data (an unregistered custom function), naming it.
    """
    if not getattr(model, "compiled", False):
        return {}, {}
    config = _compile_config(model)
    if config is None:
        return {}, {}
    entries: dict[str, Any] = {"compile_config": config}
    tensors: dict[str, torch.Tensor] = {}
    optimizer = getattr(model, "optimizer", None)
    if hasattr(optimizer, "state_dict") and hasattr(optimizer, "load_state_dict"):
        state = optimizer.state_dict()  # type: ignore[union-attr]
        entries["optimizer_state"] = _split_state(state, tensors, "optimizer")
    check_json(entries, f"Model {model.name!r} compile state")
    return entries, tensors


def restore_compile(
    model: Any,
    config: Any,
    optimizer_state: Any,
    read_tensors: Callable[[], SafetensorsSource | None],
    custom_objects: dict[str, Any] | None,
) -> None:
    """Compile `model` from a saved compile config and restore its optimizer state."""
    compile_from_config = getattr(model, "compile_from_config", None)
    if callable(compile_from_config):
        compile_from_config(config)
    elif hasattr(model, "compile") and isinstance(config, dict):
        from plait.losses import losses
        from plait.metrics import metrics
        from plait.optimizers import optimizers

        kwargs = {k: config[k] for k in _PLAIN if k in config}
        kwargs["loss"] = _map_spec(
            config.get("loss"), _load_fn(losses.deserialize, custom_objects)
        )
        for key in ("metrics", "weighted_metrics"):
            kwargs[key] = _map_spec(
                config.get(key), _load_fn(metrics.deserialize, custom_objects)
            )
        model.compile(optimizer=optimizers.get(config.get("optimizer")), **kwargs)
    else:
        warnings.warn(
            "load_model: the file holds a compile configuration but this model "
            "cannot be compiled from it; it is returned uncompiled.",
            stacklevel=3,
        )
        return
    optimizer = getattr(model, "optimizer", None)
    if optimizer_state is None or not hasattr(optimizer, "load_state_dict"):
        return
    source = read_tensors()
    if source is None:
        raise ValueError("the file has optimizer state but no optimizer tensors.")
    optimizer.load_state_dict(_join_state(optimizer_state, source))  # type: ignore[union-attr]
