"""Losses: `plait.losses.BinaryCrossentropy(from_logits=True)`, `"mse"`, ..."""

from plait.losses.losses import BinaryCrossentropy as BinaryCrossentropy
from plait.losses.losses import CategoricalCrossentropy as CategoricalCrossentropy
from plait.losses.losses import CategoricalHinge as CategoricalHinge
from plait.losses.losses import CosineSimilarity as CosineSimilarity
from plait.losses.losses import Hinge as Hinge
from plait.losses.losses import Huber as Huber
from plait.losses.losses import KLDivergence as KLDivergence
from plait.losses.losses import LogCosh as LogCosh
from plait.losses.losses import Loss as Loss
from plait.losses.losses import LossFunctionWrapper as LossFunctionWrapper
from plait.losses.losses import MeanAbsoluteError as MeanAbsoluteError
from plait.losses.losses import (
    MeanAbsolutePercentageError as MeanAbsolutePercentageError,
)
from plait.losses.losses import MeanSquaredError as MeanSquaredError
from plait.losses.losses import (
    MeanSquaredLogarithmicError as MeanSquaredLogarithmicError,
)
from plait.losses.losses import Poisson as Poisson
from plait.losses.losses import (
    SparseCategoricalCrossentropy as SparseCategoricalCrossentropy,
)
from plait.losses.losses import SquaredHinge as SquaredHinge
from plait.losses.losses import binary_crossentropy as binary_crossentropy
from plait.losses.losses import categorical_crossentropy as categorical_crossentropy
from plait.losses.losses import categorical_hinge as categorical_hinge
from plait.losses.losses import cosine_similarity as cosine_similarity
from plait.losses.losses import deserialize as deserialize
from plait.losses.losses import from_logits_variant as from_logits_variant
from plait.losses.losses import get as get
from plait.losses.losses import hinge as hinge
from plait.losses.losses import huber as huber
from plait.losses.losses import kl_divergence as kl_divergence
from plait.losses.losses import log_cosh as log_cosh
from plait.losses.losses import mean_absolute_error as mean_absolute_error
from plait.losses.losses import (
    mean_absolute_percentage_error as mean_absolute_percentage_error,
)
from plait.losses.losses import mean_squared_error as mean_squared_error
from plait.losses.losses import (
    mean_squared_logarithmic_error as mean_squared_logarithmic_error,
)
from plait.losses.losses import poisson as poisson
from plait.losses.losses import serialize as serialize
from plait.losses.losses import (
    sparse_categorical_crossentropy as sparse_categorical_crossentropy,
)
from plait.losses.losses import squared_hinge as squared_hinge
