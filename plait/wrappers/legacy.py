"""Keras 2's scikit-learn wrappers: `KerasClassifier`, `KerasRegressor`.

`KerasClassifier(build_fn=None, **sk_params)`: `build_fn` returns a compiled
model; each of `sk_params` goes to whichever of `build_fn`, `Model.fit`,
`Model.predict` and `Model.evaluate` accepts an argument of that name (to all
that do). Without `build_fn`, the subclass's `__call__` builds the model.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from plait.models import Model, Sequential
from plait.wrappers._state import as_float, pack, unpack


def _accepts(fn: Callable[..., Any], name: str) -> bool:
    parameters = inspect.signature(fn).parameters
    return name in parameters and parameters[name].kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )


class BaseWrapper(BaseEstimator):
    """What Keras 2's two wrappers share: `sk_params`, building, fitting.

    Args:
        build_fn: A callable returning a compiled model (a function, or an
            object with `__call__`); None to use the subclass's `__call__`.
        **sk_params: Arguments of `build_fn`, `fit`, `predict`, `evaluate`.

    Raises:
        ValueError: a name in `sk_params` that none of them accepts.
    """

    def __init__(self, build_fn: Any = None, **sk_params: Any) -> None:
        self.build_fn = build_fn
        self.sk_params = sk_params
        self.check_params(sk_params)

    def _builder(self) -> Callable[..., Any]:
        if self.build_fn is None:
            return self.__call__  # type: ignore[operator]
        if inspect.isfunction(self.build_fn) or inspect.ismethod(self.build_fn):
            return self.build_fn  # type: ignore[no-any-return]
        return self.build_fn.__call__  # type: ignore[no-any-return]

    def check_params(self, params: dict[str, Any]) -> None:
        """Raise ValueError for a name in `params` that nothing accepts."""
        functions: list[Callable[..., Any]] = [
            Sequential.fit,
            Sequential.predict,
            Sequential.evaluate,
            self._builder(),
        ]
        for name in params:
            if not any(_accepts(fn, name) for fn in functions):
                raise ValueError(
                    f"{type(self).__name__}(**sk_params): expected arguments of "
                    f"build_fn, fit, predict or evaluate, got {name!r}."
                )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """`sk_params` and `build_fn` (the objects themselves, for `clone`)."""
        return {**self.sk_params, "build_fn": self.build_fn}

    def set_params(self, **params: Any) -> BaseWrapper:
        """Update `sk_params` (checked as in the constructor)."""
        self.check_params(params)
        self.sk_params.update(params)
        return self

    def filter_sk_params(
        self, fn: Callable[..., Any], override: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The `sk_params` that `fn` accepts, updated with `override`."""
        found = {k: v for k, v in self.sk_params.items() if _accepts(fn, k)}
        found.update(override or {})
        return found

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"[:N_CHAR_MAX]

    def _loss_name(self) -> Any:
        loss = self.model._compile_args.get("loss")
        return getattr(loss, "__name__", loss)

    def fit(self, x: Any, y: Any, **kwargs: Any) -> Any:
        """Build the model and train it on `x`, `y`.

        Args:
            x: Inputs, array-like of shape `(n_samples, n_features)`.
            y: Targets. With the `"categorical_crossentropy"` loss, class
                indices are one-hot encoded first.
            **kwargs: Arguments of `Model.fit`, over those in `sk_params`.

        Returns:
            The `History` of `Model.fit` (as Keras 2 returned).
        """
        builder = self._builder()
        model = builder(**self.filter_sk_params(builder))
        if not isinstance(model, Model):
            raise TypeError(
                f"{type(self).__name__}(build_fn=...): expected a callable "
                f"returning a compiled Model, got {model!r}."
            )
        self.model = model
        y = np.asarray(y)
        if self._loss_name() == "categorical_crossentropy" and y.ndim != 2:
            y = np.eye(int(y.max()) + 1, dtype=np.float32)[y.astype(int)]
        fit_args = self.filter_sk_params(Sequential.fit, kwargs)
        return self.model.fit(as_float(x), y, **fit_args)

    def __getstate__(self) -> dict[str, Any]:
        return pack(dict(super().__getstate__()))

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(unpack(state))


class KerasClassifier(ClassifierMixin, BaseWrapper):
    """Keras 2's scikit-learn classifier API for a plait model.

    Attributes:
        classes_: The class labels (`0..n-1` for one-hot `y`).
        n_classes_: Their number.
    """

    def fit(self, x: Any, y: Any, **kwargs: Any) -> Any:
        """Train on `x` and the labels `y` (indices into `classes_` for the model)."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            self.classes_ = np.arange(y.shape[1])
        elif y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1):
            self.classes_ = np.unique(y)
            y = np.searchsorted(self.classes_, y.reshape(-1))
        else:
            raise ValueError(
                f"KerasClassifier.fit(y=...): expected labels of shape (n,), "
                f"(n, 1) or one-hot (n, classes), got shape {y.shape}."
            )
        self.n_classes_ = len(self.classes_)
        return super().fit(x, y, **kwargs)

    def predict_proba(self, x: Any, **kwargs: Any) -> np.ndarray:
        """Class probabilities; a single sigmoid `p` becomes `[1 - p, p]`."""
        kwargs = self.filter_sk_params(Sequential.predict, kwargs)
        probs = np.asarray(self.model.predict(as_float(x), **kwargs))
        if probs.shape[1] == 1:
            probs = np.hstack([1 - probs, probs])
        return probs

    def predict(self, x: Any, **kwargs: Any) -> np.ndarray:
        """Class labels: argmax of the outputs, or a sigmoid output over 0.5."""
        kwargs = self.filter_sk_params(Sequential.predict, kwargs)
        proba = np.asarray(self.model.predict(as_float(x), **kwargs))
        if proba.shape[-1] > 1:
            index = proba.argmax(axis=-1)
        else:
            index = (proba[..., 0] > 0.5).astype(np.int32)
        result: np.ndarray = self.classes_[index]
        return result

    def score(self, x: Any, y: Any, **kwargs: Any) -> float:  # type: ignore[override]
        """The model's `accuracy` metric on `x`, `y` (from `Model.evaluate`).

        Raises:
            ValueError: the model was not compiled with an accuracy metric.
        """
        y = np.searchsorted(self.classes_, np.asarray(y))
        kwargs = self.filter_sk_params(Sequential.evaluate, kwargs)
        if self._loss_name() == "categorical_crossentropy" and y.ndim != 2:
            y = np.eye(self.n_classes_, dtype=np.float32)[y]
        outputs = self.model.evaluate(as_float(x), y, **kwargs)
        if not isinstance(outputs, list):
            outputs = [outputs]
        for name, output in zip(self.model.metrics_names, outputs):
            if name in ("accuracy", "acc"):
                return float(output)
        raise ValueError(
            "KerasClassifier.score(): expected a model compiled with "
            f"metrics=['accuracy'], got metrics {self.model.metrics_names}."
        )


class KerasRegressor(RegressorMixin, BaseWrapper):
    """Keras 2's scikit-learn regressor API for a plait model."""

    def predict(self, x: Any, **kwargs: Any) -> np.ndarray:
        """The model's predictions, squeezed."""
        kwargs = self.filter_sk_params(Sequential.predict, kwargs)
        return np.squeeze(np.asarray(self.model.predict(as_float(x), **kwargs)))

    def score(self, x: Any, y: Any, **kwargs: Any) -> float:  # type: ignore[override]
        """Minus the model's loss on `x`, `y` (greater is better, for sklearn)."""
        kwargs = self.filter_sk_params(Sequential.evaluate, kwargs)
        loss = self.model.evaluate(as_float(x), as_float(y), **kwargs)
        if isinstance(loss, list):
            return -float(loss[0])
        return -float(loss)
