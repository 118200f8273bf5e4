"""`PreprocessingLayer`: the base of the layers that read host data (strings, lists)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from plait.graph.symbolic import SymbolicTensor
from plait.layers.base import Layer
from plait.utils.strings import StringTensor, as_string_array, is_string_data

__all__ = ["PreprocessingLayer", "host_values"]


def host_values(x: Any) -> np.ndarray:
    """`x` on the host: strings as an object array of `str`, numbers as NumPy."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, StringTensor) or is_string_data(x):
        return as_string_array(x)
    arr = np.asarray(x)
    return as_string_array(arr) if is_string_data(arr) else arr


class PreprocessingLayer(Layer):
    """A layer whose inputs may be strings or Python lists and whose outputs need no grad.

    Plain Python lists given to a single-input layer become arrays first (Keras
    takes `layer([["a"], ["b"]])`). The outputs go to the device the layer was
    moved to (`model.to("cuda")` moves the layer's empty `_device_anchor` buffer
    along), so the layers after it run where the model runs. The output dtype
    is the layer's own, whatever the input's.
    """

    _single_input: ClassVar[bool] = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.register_buffer("_device_anchor", torch.empty(0), persistent=False)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if (
            self._single_input
            and args
            and isinstance(args[0], (list, tuple))
            and not any(isinstance(v, SymbolicTensor) for v in args[0])
        ):
            args = (host_values(args[0]), *args[1:])
        return super().__call__(*args, **kwargs)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """`cls(**config)`, ignoring Keras's derived `vocabulary_size` entry."""
        config = {k: v for k, v in config.items() if k != "vocabulary_size"}
        return cls(**config)

    def _output_dtype(self, inputs: list[SymbolicTensor]) -> torch.dtype:
        return self._compute_dtype

    def _to_device(self, array: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
        """A host result as a tensor of `dtype` on the layer's device."""
        t = torch.as_tensor(np.ascontiguousarray(array)).to(dtype)
        return t.to(self._device_anchor.device)
