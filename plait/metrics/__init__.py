"""Metrics: `plait.metrics.AUC()`, `"accuracy"`, ...; stateful, on the device."""

from plait.training.metrics import AUC as AUC
from plait.training.metrics import Accuracy as Accuracy
from plait.training.metrics import BinaryAccuracy as BinaryAccuracy
from plait.training.metrics import BinaryCrossentropy as BinaryCrossentropy
from plait.training.metrics import CategoricalAccuracy as CategoricalAccuracy
from plait.training.metrics import CategoricalCrossentropy as CategoricalCrossentropy
from plait.training.metrics import CategoricalHinge as CategoricalHinge
from plait.training.metrics import CosineSimilarity as CosineSimilarity
from plait.training.metrics import F1Score as F1Score
from plait.training.metrics import FalseNegatives as FalseNegatives
from plait.training.metrics import FalsePositives as FalsePositives
from plait.training.metrics import FBetaScore as FBetaScore
from plait.training.metrics import Hinge as Hinge
from plait.training.metrics import KLDivergence as KLDivergence
from plait.training.metrics import LogCoshError as LogCoshError
from plait.training.metrics import Mean as Mean
from plait.training.metrics import MeanAbsoluteError as MeanAbsoluteError
from plait.training.metrics import (
    MeanAbsolutePercentageError as MeanAbsolutePercentageError,
)
from plait.training.metrics import MeanMetricWrapper as MeanMetricWrapper
from plait.training.metrics import MeanSquaredError as MeanSquaredError
from plait.training.metrics import (
    MeanSquaredLogarithmicError as MeanSquaredLogarithmicError,
)
from plait.training.metrics import Metric as Metric
from plait.training.metrics import Poisson as Poisson
from plait.training.metrics import Precision as Precision
from plait.training.metrics import Recall as Recall
from plait.training.metrics import RootMeanSquaredError as RootMeanSquaredError
from plait.training.metrics import (
    SparseCategoricalAccuracy as SparseCategoricalAccuracy,
)
from plait.training.metrics import (
    SparseCategoricalCrossentropy as SparseCategoricalCrossentropy,
)
from plait.training.metrics import (
    SparseTopKCategoricalAccuracy as SparseTopKCategoricalAccuracy,
)
from plait.training.metrics import SquaredHinge as SquaredHinge
from plait.training.metrics import Sum as Sum
from plait.training.metrics import TopKCategoricalAccuracy as TopKCategoricalAccuracy
from plait.training.metrics import TrueNegatives as TrueNegatives
from plait.training.metrics import TruePositives as TruePositives
from plait.training.metrics import accuracy as accuracy
from plait.training.metrics import binary_accuracy as binary_accuracy
from plait.training.metrics import categorical_accuracy as categorical_accuracy
from plait.training.metrics import deserialize as deserialize
from plait.training.metrics import get as get
from plait.training.metrics import resolve_accuracy as resolve_accuracy
from plait.training.metrics import serialize as serialize
from plait.training.metrics import (
    sparse_categorical_accuracy as sparse_categorical_accuracy,
)
from plait.training.metrics import (
    sparse_top_k_categorical_accuracy as sparse_top_k_categorical_accuracy,
)
from plait.training.metrics import (
    top_k_categorical_accuracy as top_k_categorical_accuracy,
)
