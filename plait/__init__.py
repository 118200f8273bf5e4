"""plait: the Keras functional API, native to PyTorch.

The public API is loaded on first use (PEP 562), so `import plait.graph` or
`import plait.layers` loads only what those packages need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plait import activations as activations
    from plait import callbacks as callbacks
    from plait import constraints as constraints
    from plait import initializers as initializers
    from plait import layers as layers
    from plait import losses as losses
    from plait import metrics as metrics
    from plait import models as models
    from plait import optimizers as optimizers
    from plait import regularizers as regularizers
    from plait import saving as saving
    from plait import utils as utils
    from plait.layers import Input as Input
    from plait.layers import Layer as Layer
    from plait.models import Model as Model
    from plait.models import Sequential as Sequential
    from plait.saving import load_model as load_model

__version__ = "0.1.0"

_SUBMODULES = (
    "activations", "callbacks", "constraints", "initializers", "layers", "losses",
    "metrics", "models", "optimizers", "regularizers", "saving", "utils",
)  # fmt: skip
# Public name -> the module it is, or holds it. Only these fixed names are
# imported: plait never imports a module named by a caller or a file.
_LAZY: dict[str, str] = {
    **{name: f"plait.{name}" for name in _SUBMODULES},
    "Input": "plait.layers",
    "Layer": "plait.layers",
    "Model": "plait.models",
    "Sequential": "plait.models",
    "load_model": "plait.saving",
}
__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'plait' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if name in _SUBMODULES else getattr(module, name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
