"""Small data sets shared by the wrapper tests."""

import pytest
from sklearn.datasets import make_classification, make_regression


@pytest.fixture(scope="module")
def classes():
    """60 samples, 5 features, 3 classes."""
    return make_classification(
        n_samples=60, n_features=5, n_informative=3, n_classes=3, random_state=0
    )


@pytest.fixture(scope="module")
def values():
    """40 samples, 4 features, one target."""
    return make_regression(n_samples=40, n_features=4, random_state=0)
