"""scikit-learn wrappers for plait models (Keras's `keras.wrappers`).

Keras 3's `SKLearnClassifier`, `SKLearnRegressor`, `SKLearnTransformer`, and
Keras 2's `KerasClassifier`, `KerasRegressor` (`build_fn`, `**sk_params`).
Needs scikit-learn 1.6 or later (`validate_data`, estimator tags).
"""

from plait.wrappers.legacy import KerasClassifier as KerasClassifier
from plait.wrappers.legacy import KerasRegressor as KerasRegressor
from plait.wrappers.sklearn import (
    SKLearnClassifier as SKLearnClassifier,
)
from plait.wrappers.sklearn import (
    SKLearnRegressor as SKLearnRegressor,
)
from plait.wrappers.sklearn import (
    SKLearnTransformer as SKLearnTransformer,
)

__all__ = [
    "KerasClassifier",
    "KerasRegressor",
    "SKLearnClassifier",
    "SKLearnRegressor",
    "SKLearnTransformer",
]
