"""Losses: `plait.losses.BinaryCrossentropy(from_logits=True)`, `"mse"`, ..."""

from plait.training.losses import BinaryCrossentropy as BinaryCrossentropy
from plait.training.losses import CategoricalCrossentropy as CategoricalCrossentropy
from plait.training.losses import CategoricalHinge as CategoricalHinge
from plait.training.losses import CosineSimilarity as CosineSimilarity
from plait.training.losses import Hinge as Hinge
from plait.training.losses import Huber as Huber
from plait.training.losses import KLDivergence as KLDivergence
from plait.training.losses import LogCosh as LogCosh
from plait.training.losses import Loss as Loss
from plait.training.losses import LossFunctionWrapper as LossFunctionWrapper
from plait.training.losses import MeanAbsoluteError as MeanAbsoluteError
from plait.training.losses import (
    MeanAbsolutePercentageError as MeanAbsolutePercentageError,
)
from plait.training.losses import MeanSquaredError as MeanSquaredError
from plait.training.losses import (
    MeanSquaredLogarithmicError as MeanSquaredLogarithmicError,
)
from plait.training.losses import Poisson as Poisson
from plait.training.losses import (
    SparseCategoricalCrossentropy as SparseCategoricalCrossentropy,
)
from plait.training.losses import SquaredHinge as SquaredHinge
from plait.training.losses import binary_crossentropy as binary_crossentropy
from plait.training.losses import categorical_crossentropy as categorical_crossentropy
from plait.training.losses import categorical_hinge as categorical_hinge
from plait.training.losses import cosine_similarity as cosine_similarity
from plait.training.losses import deserialize as deserialize
from plait.training.losses import from_logits_variant as from_logits_variant
from plait.training.losses import get as get
from plait.training.losses import hinge as hinge
from plait.training.losses import huber as huber
from plait.training.losses import kl_divergence as kl_divergence
from plait.training.losses import log_cosh as log_cosh
from plait.training.losses import mean_absolute_error as mean_absolute_error
from plait.training.losses import (
    mean_absolute_percentage_error as mean_absolute_percentage_error,
)
from plait.training.losses import mean_squared_error as mean_squared_error
from plait.training.losses import (
    mean_squared_logarithmic_error as mean_squared_logarithmic_error,
)
from plait.training.losses import poisson as poisson
from plait.training.losses import serialize as serialize
from plait.training.losses import (
    sparse_categorical_crossentropy as sparse_categorical_crossentropy,
)
from plait.training.losses import squared_hinge as squared_hinge
