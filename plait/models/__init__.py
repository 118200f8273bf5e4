"""Models: `Model(inputs, outputs)`, `Sequential`, and loading."""

from plait.models.cloning import clone_model as clone_model
from plait.models.functional import Functional as Functional
from plait.models.model import Model as Model
from plait.models.sequential import Sequential as Sequential
from plait.saving.model_io import load_model as load_model
from plait.saving.model_io import model_from_json as model_from_json
