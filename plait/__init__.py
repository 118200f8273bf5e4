"""plait: the Keras functional API, native to PyTorch.

The public API is loaded on first use (PEP 562), so `import plait.graph` or
`import plait.layers` loads only what those packages need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plait import activations as activations
    from plait import backend as backend
    from plait import callbacks as callbacks
    from plait import constraints as constraints
    from plait import initializers as initializers
    from plait import layers as layers
    from plait import losses as losses
    from plait import metrics as metrics
    from plait import models as models
    from plait import ops as ops
    from plait import optimizers as optimizers
    from plait import random as random
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
    "activations", "backend", "callbacks", "constraints", "initializers", "layers",
    "losses", "metrics", "models", "ops", "optimizers", "random", "regularizers",
    "saving", "utils",
)  # fmt: skip
__all__ = [*_SUBMODULES, "Input", "Layer", "Model", "Sequential", "load_model"]


def _load(name: str) -> Any:
    # One explicit import per name: plait never imports a module by a computed name.
    if name == "activations":
        import plait.activations as activations_module

        return activations_module
    elif name == "callbacks":
        import plait.callbacks as callbacks_module

        return callbacks_module
    elif name == "constraints":
        import plait.constraints as constraints_module

        return constraints_module
    elif name == "initializers":
        import plait.initializers as initializers_module

        return initializers_module
    elif name == "layers":
        import plait.layers as layers_module

        return layers_module
    elif name == "losses":
        import plait.losses as losses_module

        return losses_module
    elif name == "metrics":
        import plait.metrics as metrics_module

        return metrics_module
    elif name == "models":
        import plait.models as models_module

        return models_module
    elif name == "ops":
        import plait.ops as ops_module

        return ops_module
    elif name == "random":
        import plait.random as random_module

        return random_module
    elif name == "backend":
        import plait.backend as backend_module

        return backend_module
    elif name == "optimizers":
        import plait.optimizers as optimizers_module

        return optimizers_module
    elif name == "regularizers":
        import plait.regularizers as regularizers_module

        return regularizers_module
    elif name == "saving":
        import plait.saving as saving_module

        return saving_module
    elif name == "utils":
        import plait.utils as utils_module

        return utils_module
    elif name in ("Input", "Layer"):
        import plait.layers as layers_package

        return getattr(layers_package, name)
    elif name in ("Model", "Sequential"):
        import plait.models as models_package

        return getattr(models_package, name)
    elif name == "load_model":
        import plait.saving as saving_package

        return saving_package.load_model
    raise AttributeError(f"module 'plait' has no attribute {name!r}")


def __getattr__(name: str) -> Any:
    value = _load(name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
