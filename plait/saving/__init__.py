"""Saving and loading: the `.plait` file, weights, the registry, Keras import, export.

Example:
    >>> import plait
    >>> @plait.saving.register_serializable()
    ... def double(x):
    ...     return 2 * x
    >>> double._plait_registered_name
    'Custom>double'
"""

from plait.layers.serialization import custom_object_scope as custom_object_scope
from plait.layers.serialization import deserialize_layer as deserialize_layer
from plait.layers.serialization import get_registered_name as get_registered_name
from plait.layers.serialization import get_registered_object as get_registered_object
from plait.layers.serialization import register_serializable as register_serializable
from plait.layers.serialization import serialize_layer as serialize_layer
from plait.saving.export import export_model as export_model
from plait.saving.model_io import load_model as load_model
from plait.saving.model_io import model_from_json as model_from_json
from plait.saving.model_io import model_to_json as model_to_json
from plait.saving.model_io import save_model as save_model
from plait.saving.weights import WeightsReport as WeightsReport
from plait.saving.weights import load_weights as load_weights
from plait.saving.weights import save_weights as save_weights
