"""Models: `Model(inputs, outputs)`, `Sequential`, and loading."""

from plait.models.functional import Functional as Functional
from plait.models.model import Model as Model
from plait.models.sequential import Sequential as Sequential
