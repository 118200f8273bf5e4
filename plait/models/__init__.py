"""Models: `Model(inputs, outputs)`, `Sequential`, and loading."""

from plait.models.cloning import clone_model as clone_model
from plait.models.functional import Functional as Functional
from plait.models.model import Model as Model
from plait.models.sequential import Sequential as Sequential

__all__ = [
    "Functional",
    "Model",
    "Sequential",
    "clone_model",
    "load_model",
    "model_from_json",
    "save_model",
]


def __getattr__(name: str) -> object:
    """`load_model`, `model_from_json` and `save_model` live in plait.saving,
    above the models.

    This is one of the two documented upward imports (docs/ARCHITECTURE.md): the
    guide imports them from here, and saving needs the model classes first.
    """
    if name in ("load_model", "model_from_json", "save_model"):
        from plait.saving import model_io

        return getattr(model_io, name)
    raise AttributeError(f"module 'plait.models' has no attribute {name!r}")
