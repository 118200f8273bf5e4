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
from plait.saving.objects import deserialize_keras_object as deserialize_keras_object
from plait.saving.objects import get_custom_objects as get_custom_objects
from plait.saving.objects import (
    register_keras_serializable as register_keras_serializable,
)
from plait.saving.objects import serialize_keras_object as serialize_keras_object
from plait.saving.weights import WeightsReport as WeightsReport
from plait.saving.weights import load_weights as load_weights
from plait.saving.weights import save_weights as save_weights
