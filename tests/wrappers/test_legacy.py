"""Keras 2's scikit-learn wrappers: `build_fn` and `sk_params`."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import plait
from plait.callbacks import History
from plait.utils import set_random_seed
from plait.wrappers import KerasClassifier, KerasRegressor


def build_classifier(units=8, classes=3, loss="categorical_crossentropy", features=5):
    set_random_seed(0)
    x = plait.Input((features,))
    hidden = plait.layers.Dense(units, activation="relu")(x)
    out = plait.layers.Dense(classes, activation="softmax")(hidden)
    model = plait.Model(x, out)
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


def build_regressor(units=8):
    set_random_seed(0)
    x = plait.Input((4,))
    hidden = plait.layers.Dense(units, activation="relu")(x)
    model = plait.Model(x, plait.layers.Dense(1)(hidden))
    model.compile(optimizer="adam", loss="mse")
    return model


def test_sk_params_are_split_among_build_fn_fit_and_predict(classes):
    X, y = classes
    labels = np.array([10, 20, 30])[y]
    clf = KerasClassifier(build_classifier, units=5, epochs=2, batch_size=16, verbose=0)
    history = clf.fit(X, labels)
    assert isinstance(history, History)  # Keras 2 returned the History
    assert len(history.history["loss"]) == 2
    assert clf.model.layers[1].units == 5
    assert clf.classes_.tolist() == [10, 20, 30]
    assert clf.n_classes_ == 3
    assert set(clf.predict(X)) <= {10, 20, 30}
    assert clf.predict_proba(X).shape == (60, 3)
    assert 0.0 <= clf.score(X, labels) <= 1.0
    clf.fit(X, labels, epochs=1)  # fit's own arguments win
    assert len(clf.model.history.history["loss"]) == 1


def test_sparse_loss_and_one_hot_targets(classes):
    X, y = classes
    clf = KerasClassifier(
        build_classifier, loss="sparse_categorical_crossentropy", epochs=1, verbose=0
    )
    clf.fit(X, y)
    assert clf.score(X, y) >= 0.0
    onehot = KerasClassifier(build_classifier, epochs=1, verbose=0)
    onehot.fit(X, np.eye(3)[y])
    assert onehot.classes_.tolist() == [0, 1, 2]


def test_sigmoid_output_gives_two_probability_columns():
    X, y = make_classification(n_samples=30, n_features=4, random_state=0)

    def build():
        x = plait.Input((4,))
        model = plait.Model(x, plait.layers.Dense(1, activation="sigmoid")(x))
        model.compile(optimizer="adam", loss="binary_crossentropy")
        return model

    clf = KerasClassifier(build, epochs=1, verbose=0)
    clf.fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (30, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert clf.predict(X).shape == (30,)
    with pytest.raises(ValueError, match=r"metrics=\['accuracy'\], got metrics"):
        clf.score(X, y)


def test_subclass_call_builds_the_model(values):
    X, y = values

    class Net(KerasRegressor):
        def __call__(self, units=4):
            return build_regressor(units)

    reg = Net(units=3, epochs=1, verbose=0)
    reg.fit(X, y)
    assert reg.model.layers[1].units == 3
    assert reg.predict(X).shape == (40,)
    assert reg.score(X, y) <= 0.0  # minus the loss


def test_unknown_sk_param_is_named():
    with pytest.raises(
        ValueError, match=r"\*\*sk_params\): expected arguments .* 'epoch'"
    ):
        KerasClassifier(build_classifier, epoch=3)
    clf = KerasClassifier(build_classifier)
    with pytest.raises(ValueError, match="got 'unitz'"):
        clf.set_params(unitz=3)
    with pytest.raises(TypeError, match=r"KerasRegressor\(build_fn=...\): expected"):
        KerasRegressor(lambda: None).fit(np.zeros((2, 4)), np.zeros(2))


def test_clone_pickle_and_search(classes, values):
    X, y = classes
    clf = KerasClassifier(build_classifier, units=4, epochs=1, verbose=0)
    twin = clone(clf)
    assert twin.get_params() == clf.get_params()
    assert twin is not clf
    clf.fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X), rtol=1e-6)
    pipe = Pipeline([("scale", StandardScaler()), ("net", twin)])
    search = GridSearchCV(pipe, {"net__units": [3, 6]}, cv=2).fit(X, y)
    assert search.best_params_["net__units"] in (3, 6)
    reg = KerasRegressor(build_regressor, epochs=1, verbose=0)
    assert cross_val_score(reg, *values, cv=2).shape == (2,)
