"""plait: the Keras functional API, native to PyTorch.

The public API is loaded on first use (PEP 562), so `import plait.graph` or
`import plait.layers` loads only what those packages need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plait import activations as activations
    from plait import applications as applications
    from plait import backend as backend
    from plait import callbacks as callbacks
    from plait import constraints as constraints
    from plait import datasets as datasets
    from plait import distribution as distribution
    from plait import dtype_policies as dtype_policies
    from plait import initializers as initializers
    from plait import layers as layers
    from plait import losses as losses
    from plait import metrics as metrics
    from plait import mixed_precision as mixed_precision
    from plait import models as models
    from plait import ops as ops
    from plait import optimizers as optimizers
    from plait import preprocessing as preprocessing
    from plait import random as random
    from plait import regularizers as regularizers
    from plait import saving as saving
    from plait import utils as utils
    from plait import wrappers as wrappers
    from plait.dtype_policies import DTypePolicy as DTypePolicy
    from plait.layers import Input as Input
    from plait.layers import Layer as Layer
    from plait.layers import Variable as Variable
    from plait.models import Model as Model
    from plait.models import Sequential as Sequential
    from plait.saving import load_model as load_model

from plait.version import __version__ as __version__

_SUBMODULES = (
    "activations", "applications", "backend", "callbacks", "constraints",
    "datasets", "distribution", "dtype_policies", "initializers", "layers", "losses", "metrics",
    "mixed_precision", "models", "ops", "optimizers", "preprocessing", "random",
    "regularizers", "saving", "tree", "utils", "wrappers",
)  # fmt: skip
# Public name -> the subpackage that is it or holds it.
_HOME: dict[str, str] = {
    **{name: name for name in _SUBMODULES},
    "DTypePolicy": "dtype_policies",
    "Input": "layers",
    "Layer": "layers",
    "Model": "models",
    "Sequential": "models",
    "Variable": "layers",
    "load_model": "saving",
}
__all__ = list(_HOME)


def _import(subpackage: str) -> None:
    # One literal import per subpackage: plait never imports a module by a
    # computed name (tests/saving/test_safety.py bans dynamic imports).
    match subpackage:
        case "activations":
            import plait.activations
        case "applications":
            import plait.applications
        case "backend":
            import plait.backend
        case "callbacks":
            import plait.callbacks
        case "constraints":
            import plait.constraints
        case "datasets":
            import plait.datasets
        case "distribution":
            import plait.distribution
        case "dtype_policies":
            import plait.dtype_policies
        case "initializers":
            import plait.initializers
        case "layers":
            import plait.layers
        case "losses":
            import plait.losses
        case "metrics":
            import plait.metrics
        case "mixed_precision":
            import plait.mixed_precision
        case "models":
            import plait.models
        case "ops":
            import plait.ops
        case "optimizers":
            import plait.optimizers
        case "preprocessing":
            import plait.preprocessing
        case "random":
            import plait.random
        case "regularizers":
            import plait.regularizers
        case "saving":
            import plait.saving
        case "tree":
            import plait.tree
        case "utils":
            import plait.utils
        case "wrappers":
            import plait.wrappers


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'plait' has no attribute {name!r}")
    _import(home)  # the import binds plait.<home> in this module's globals
    value = globals()[home] if home == name else getattr(globals()[home], name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
