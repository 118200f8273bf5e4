"""plait: the Keras functional API, native to PyTorch."""

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
