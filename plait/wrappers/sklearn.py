"""Keras 3's scikit-learn wrappers: `SKLearnClassifier`, `SKLearnRegressor`,
`SKLearnTransformer` (`keras.wrappers`).

Each wraps a compiled model, or a callable that builds one from the training
data, as a scikit-learn estimator: it can be cloned (`sklearn.base.clone`),
pickled (fitted too: the model travels as the bytes of its `.plait` file), put
in a `Pipeline` and searched with `GridSearchCV`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    TransformerMixin,
)
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from plait.models import Functional, Model
from plait.wrappers._state import as_float, clone_compiled, pack, unpack


class SKLearnBase(BaseEstimator):
    """What the three Keras 3 wrappers share: building, fitting, pickling.

    Args:
        model: A compiled `Model`, or a callable returning one. A model is
            cloned (fresh weights, same compile settings) before each fit,
            unless `warm_start=True`. A callable is called as
            `model(X=X, y=y, **model_kwargs)` with the training data (for the
            classifier, `y` one-hot encoded) and must return a compiled model.
        warm_start: Whether to keep training the model of the previous fit
            instead of building a new one.
        model_kwargs: Keyword arguments for `model`, when it is a callable.
        fit_kwargs: Keyword arguments for `Model.fit`; those given to `fit`
            itself take precedence.

    Attributes:
        model_: The fitted model.
        history_: The `History.history` dict of the last fit.
    """

    def __init__(
        self,
        model: Any,
        warm_start: bool = False,
        model_kwargs: dict[str, Any] | None = None,
        fit_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def _target(self, y: Any, reset: bool) -> Any:
        return y

    def _build(self, X: np.ndarray, y: Any) -> Model:
        name = type(self).__name__
        if isinstance(self.model, Model):
            if self.warm_start:
                return self.model
            if not isinstance(self.model, Functional):
                raise TypeError(
                    f"{name}(model=...): expected a functional or Sequential model "
                    "to clone (or warm_start=True, or a callable), got the "
                    f"subclassed model {type(self.model).__name__}."
                )
            return clone_compiled(self.model)
        if not callable(self.model):
            raise TypeError(
                f"{name}(model=...): expected a compiled Model or a callable "
                f"returning one, got {self.model!r}."
            )
        built = self.model(X=X, y=y, **(self.model_kwargs or {}))
        if not isinstance(built, Model):
            raise TypeError(
                f"{name}(model=...): expected the callable to return a Model, "
                f"got {built!r}."
            )
        return built

    def fit(self, X: Any, y: Any, **kwargs: Any) -> SKLearnBase:
        """Build (unless warm-starting) and train the model on `X`, `y`.

        Args:
            X: Array-like of shape `(n_samples, n_features)`.
            y: Targets, array-like of shape `(n_samples,)` or
                `(n_samples, n_outputs)`.
            **kwargs: Keyword arguments for `Model.fit`, over `fit_kwargs`.

        Returns:
            The wrapper itself.
        """
        X, y = validate_data(self, X, y, multi_output=True, reset=True)
        X = as_float(X)
        y = self._target(y, reset=True)
        if not (self.warm_start and hasattr(self, "model_")):
            self.model_ = self._build(X, y)
        history = self.model_.fit(X, y, **{**(self.fit_kwargs or {}), **kwargs})
        self.history_ = history.history
        return self

    def _predict_raw(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = as_float(validate_data(self, X, reset=False))
        return np.asarray(self.model_.predict(X, verbose=0))

    def __getstate__(self) -> dict[str, Any]:
        return pack(dict(super().__getstate__()))

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(unpack(state))


class SKLearnClassifier(ClassifierMixin, SKLearnBase):
    """scikit-learn classifier wrapping a plait model (Keras 3's API).

    The targets are one-hot encoded before fitting: the model should end in
    `n_classes` units (softmax) and be compiled with a categorical loss.
    `predict` returns the class with the highest output; `predict_proba`
    returns the model's output.

    Attributes:
        classes_: The class labels, sorted.

    Example:
        >>> import plait
        >>> from sklearn.datasets import make_classification
        >>> def build(X, y):
        ...     x = plait.Input((X.shape[1],))
        ...     out = plait.layers.Dense(y.shape[1], activation="softmax")(x)
        ...     model = plait.Model(x, out)
        ...     model.compile(optimizer="adam", loss="categorical_crossentropy")
        ...     return model
        >>> X, y = make_classification(n_samples=40, n_features=4, random_state=0)
        >>> clf = SKLearnClassifier(build, fit_kwargs={"epochs": 2, "verbose": 0})
        >>> clf.fit(X, y).predict(X[:3]).shape, clf.classes_.tolist()
        ((3,), [0, 1])
    """

    def _target(self, y: Any, reset: bool) -> Any:
        y = column_or_1d(y, warn=True)  # one target: a column warns, as in sklearn
        check_classification_targets(y)
        if reset:
            self._encoder = OneHotEncoder(sparse_output=False, dtype=np.float32)
            self._encoder.fit(y.reshape(-1, 1))
            self.classes_ = self._encoder.categories_[0]
        return self._encoder.transform(y.reshape(-1, 1))

    def predict_proba(self, X: Any) -> np.ndarray:
        """The model's output for `X`: one column per class."""
        return self._predict_raw(X)

    def predict(self, X: Any) -> np.ndarray:
        """The most likely class label of each sample of `X`."""
        proba = self.predict_proba(X)
        result: np.ndarray = self.classes_[np.argmax(proba, axis=1)]
        return result


class SKLearnRegressor(RegressorMixin, SKLearnBase):
    """scikit-learn regressor wrapping a plait model (Keras 3's API).

    A 1-D target is trained as one column and predicted as 1-D again.
    """

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _target(self, y: Any, reset: bool) -> Any:
        y = as_float(y)
        if reset:
            self._target_1d = y.ndim == 1
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def predict(self, X: Any) -> np.ndarray:
        """The model's predictions for `X`, as float64 (as sklearn regressors give)."""
        out = self._predict_raw(X).astype(np.float64)
        if self._target_1d and out.ndim == 2 and out.shape[1] == 1:
            out = out[:, 0]
        return out


class SKLearnTransformer(TransformerMixin, SKLearnBase):
    """scikit-learn transformer wrapping a plait model (Keras 3's API).

    `fit` trains the model on `X`, `y` (a 1-D `y` as one column);
    `transform` returns the model's output.
    """

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # plait computes in float32
        return tags

    def _target(self, y: Any, reset: bool) -> Any:
        y = as_float(y)
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def fit(self, X: Any, y: Any = None, **kwargs: Any) -> SKLearnTransformer:
        """Train the model on `X`, `y` (see `SKLearnBase.fit`)."""
        if y is None:
            raise ValueError(
                "SKLearnTransformer.fit(y=...): expected targets to train the "
                "model on, got None."
            )
        super().fit(X, y, **kwargs)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """The model's output for `X`."""
        return self._predict_raw(X)
