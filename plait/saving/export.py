"""Export for inference: ONNX through `torch.onnx.export`, `.pt2` through `torch.export`."""

from __future__ import annotations

import contextlib
import os
import warnings
from typing import Any

import torch

from plait.utils.atomic import atomic_write, atomic_write_path

__all__ = ["export_model"]

_FORMATS = {".onnx": "onnx", ".pt2": "pt2"}


class _Inference(torch.nn.Module):
    """The model as a module of flat tensors in, a tuple of tensors out, inference mode."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        n = len(self.model._flat_outputs)
        return tuple(self.model._run_flat(*inputs, False)[:n])


def _example_inputs(model: Any) -> tuple[torch.Tensor, ...]:
    """Small tensors of the inputs' shapes; unknown dims get 2 (as the batch)."""
    out = []
    for t in model._flat_inputs:
        shape = [2 if d is None else d for d in t.shape]
        if t.dtype.is_floating_point:
            out.append(torch.randn(shape, dtype=t.dtype))
        else:
            out.append(torch.zeros(shape, dtype=t.dtype))
    return tuple(out)


def _dynamic_shapes(model: Any) -> tuple[dict[int, Any], ...]:
    """Every None dim of each input is dynamic; the batch is one shared `batch` dim."""
    batch = torch.export.Dim("batch")
    shapes = []
    for i, t in enumerate(model._flat_inputs):
        dims: dict[int, Any] = {}
        for axis, d in enumerate(t.shape):
            if d is None:
                dims[axis] = batch if axis == 0 else torch.export.Dim(f"x{i}_dim{axis}")
        shapes.append(dims)
    return tuple(shapes)


def export_model(model: Any, filepath: Any, format: str | None = None) -> None:  # noqa: A002
    """Export a functional model for inference, with a dynamic batch dimension.

    Args:
        model: A built functional or Sequential plait model.
        filepath: Destination; the format comes from its suffix when `format` is
            None: `.onnx` (ONNX, through `torch.onnx.export`; needs the `onnx`
            package) or `.pt2` (`torch.export`, reloaded with
            `torch.export.load(path).module()`).
        format: `"onnx"` or `"pt2"`, to override the suffix.

    The exported program takes the model's inputs as separate positional tensors
    (in `model.inputs` order, named by `model.input_names` in ONNX) and returns its
    outputs as a tuple, computed in inference mode (dropout off).

    Raises:
        ValueError: an unknown format, or a model that is not a built graph model.
    """
    path = os.fspath(filepath)
    if format is None:
        format = _FORMATS.get(os.path.splitext(path)[1].lower())  # noqa: A001
    if format not in ("onnx", "pt2"):
        raise ValueError(
            f"export: expected a path ending in '.onnx' or '.pt2', or format='onnx' "
            f"or 'pt2', got filepath={path!r}, format={format!r}."
        )
    if not hasattr(model, "_run_flat") or not getattr(model, "built", False):
        raise ValueError(
            f"export: expected a built functional or Sequential model, got "
            f"{type(model).__name__} {getattr(model, 'name', '')!r}."
        )
    module = _Inference(model).eval()
    args = _example_inputs(model)
    # `forward(*inputs)` has one var-positional parameter: its shapes are one tuple.
    dynamic = (_dynamic_shapes(model),)
    if format == "pt2":
        program = torch.export.export(module, args, dynamic_shapes=dynamic)
        atomic_write(path, lambda f: torch.export.save(program, f))
        return
    _export_onnx(model, module, args, dynamic, path)


def _export_onnx(
    model: Any, module: torch.nn.Module, args: Any, dynamic: Any, path: str
) -> None:
    input_names = list(model.input_names)
    output_names = list(model.output_names)
    try:
        import onnxscript  # noqa: F401  # the exporter torch uses by default

        use_dynamo = True
    except ImportError:
        use_dynamo = False

    def write(tmp: str) -> None:
        with warnings.catch_warnings(), contextlib.redirect_stdout(None):
            # torch's exporters warn about their own internals; not the user's concern.
            warnings.simplefilter("ignore")
            if use_dynamo:
                options = {"dynamic_shapes": dynamic, "external_data": False}
                options["verbose"] = False
            else:
                names = input_names + output_names
                options = {"dynamic_axes": {n: {0: "batch"} for n in names}}
                options["dynamo"] = False
            torch.onnx.export(
                module,
                args,
                tmp,
                input_names=input_names,
                output_names=output_names,
                **options,
            )

    atomic_write_path(path, write, suffix=".onnx")
