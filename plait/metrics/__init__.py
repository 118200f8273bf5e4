"""Metrics: `plait.metrics.AUC()`, `"accuracy"`, ...; stateful, on the device."""

from plait.metrics.metrics import AUC as AUC
from plait.metrics.metrics import Accuracy as Accuracy
from plait.metrics.metrics import BinaryAccuracy as BinaryAccuracy
from plait.metrics.metrics import BinaryCrossentropy as BinaryCrossentropy
from plait.metrics.metrics import CategoricalAccuracy as CategoricalAccuracy
from plait.metrics.metrics import CategoricalCrossentropy as CategoricalCrossentropy
from plait.metrics.metrics import CategoricalHinge as CategoricalHinge
from plait.metrics.metrics import CosineSimilarity as CosineSimilarity
from plait.metrics.metrics import F1Score as F1Score
from plait.metrics.metrics import FalseNegatives as FalseNegatives
from plait.metrics.metrics import FalsePositives as FalsePositives
from plait.metrics.metrics import FBetaScore as FBetaScore
from plait.metrics.metrics import Hinge as Hinge
from plait.metrics.metrics import KLDivergence as KLDivergence
from plait.metrics.metrics import LogCoshError as LogCoshError
from plait.metrics.metrics import Mean as Mean
from plait.metrics.metrics import MeanAbsoluteError as MeanAbsoluteError
from plait.metrics.metrics import (
    MeanAbsolutePercentageError as MeanAbsolutePercentageError,
)
from plait.metrics.metrics import MeanMetricWrapper as MeanMetricWrapper
from plait.metrics.metrics import MeanSquaredError as MeanSquaredError
from plait.metrics.metrics import (
    MeanSquaredLogarithmicError as MeanSquaredLogarithmicError,
)
from plait.metrics.metrics import Metric as Metric
from plait.metrics.metrics import Poisson as Poisson
from plait.metrics.metrics import Precision as Precision
from plait.metrics.metrics import Recall as Recall
from plait.metrics.metrics import RootMeanSquaredError as RootMeanSquaredError
from plait.metrics.metrics import (
    SparseCategoricalAccuracy as SparseCategoricalAccuracy,
)
from plait.metrics.metrics import (
    SparseCategoricalCrossentropy as SparseCategoricalCrossentropy,
)
from plait.metrics.metrics import (
    SparseTopKCategoricalAccuracy as SparseTopKCategoricalAccuracy,
)
from plait.metrics.metrics import SquaredHinge as SquaredHinge
from plait.metrics.metrics import Sum as Sum
from plait.metrics.metrics import TopKCategoricalAccuracy as TopKCategoricalAccuracy
from plait.metrics.metrics import TrueNegatives as TrueNegatives
from plait.metrics.metrics import TruePositives as TruePositives
from plait.metrics.metrics import accuracy as accuracy
from plait.metrics.metrics import binary_accuracy as binary_accuracy
from plait.metrics.metrics import categorical_accuracy as categorical_accuracy
from plait.metrics.metrics import deserialize as deserialize
from plait.metrics.metrics import get as get
from plait.metrics.metrics import resolve_accuracy as resolve_accuracy
from plait.metrics.metrics import serialize as serialize
from plait.metrics.metrics import (
    sparse_categorical_accuracy as sparse_categorical_accuracy,
)
from plait.metrics.metrics import (
    sparse_top_k_categorical_accuracy as sparse_top_k_categorical_accuracy,
)
from plait.metrics.metrics import (
    top_k_categorical_accuracy as top_k_categorical_accuracy,
)
