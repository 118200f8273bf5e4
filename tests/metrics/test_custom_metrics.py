"""Custom metrics written as the Keras 3 guides write them ("Training &
evaluation with the built-in methods", "Customizing what happens in fit";
imports changed): state in `add_variable`/`add_weight`, updated with
`assign_add`, in `compile(metrics=[...])`, `evaluate` and reset per epoch."""

import copy

import numpy as np
import pytest
import torch

import plait as keras
from plait import layers, ops
from tests.guides import get_uncompiled_model, mnist_like


# --- Built-in methods guide: "Custom metrics"
class CategoricalTruePositives(keras.metrics.Metric):
    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(
            shape=(), name="ctp", initializer="zeros"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
        values = ops.cast(values, "float32")
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            values = ops.multiply(values, sample_weight)
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives.value

    def reset_state(self):
        # The state of the metric will be reset at the start of each epoch.
        self.true_positives.assign(0.0)


def _true_positives(model, x, y):
    pred = model.predict(x, verbose=0).argmax(axis=1)
    return float((pred == y[:, 0]).sum())


def test_guide_custom_metric_in_compile_fit_and_evaluate():
    x_train, y_train = mnist_like(96, (96, 1))
    model = get_uncompiled_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[CategoricalTruePositives()],
    )
    history = model.fit(x_train, y_train, batch_size=64, epochs=3, verbose=0)
    counts = history.history["categorical_true_positives"]
    # reset at the start of each epoch: never more than one epoch's samples
    assert len(counts) == 3
    assert all(0 < c <= len(x_train) for c in counts)
    logs = model.evaluate(x_train, y_train, batch_size=32, verbose=0, return_dict=True)
    assert logs["categorical_true_positives"] == _true_positives(
        model, x_train, y_train
    )


def test_guide_custom_metric_alone():
    m = CategoricalTruePositives()
    m.update_state(np.array([[1], [0]]), np.array([[0.1, 0.9], [0.2, 0.8]]))
    assert float(m.result()) == 1.0
    m.update_state(np.array([[1]]), np.array([[0.1, 0.9]]), sample_weight=[0.5])
    assert float(m.result()) == 1.5
    assert [v.name for v in m.variables] == ["ctp"]
    assert m.true_positives.path == "categorical_true_positives/ctp"
    m.reset_state()
    assert float(m.result()) == 0.0


def test_result_is_the_live_variable_as_in_keras():
    m = CategoricalTruePositives()
    m.update_state(np.array([[1]]), np.array([[0.1, 0.9]]))
    first = m.result()
    m.update_state(np.array([[1]]), np.array([[0.1, 0.9]]))
    assert float(first) == 2.0  # the logs of fit read a copy instead


# --- Keras 2 spelling: `add_weight(name, shape, ...)` and the default reset_state
class BinaryTruePositives(keras.metrics.Metric):
    def __init__(self, name="binary_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_weight(name="tp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "bool")
        y_pred = ops.cast(y_pred > 0.5, "bool")
        values = ops.cast(
            ops.logical_and(ops.equal(y_true, True), ops.equal(y_pred, True)),
            self.dtype,
        )
        if sample_weight is not None:
            sample_weight = ops.reshape(ops.cast(sample_weight, self.dtype), (-1, 1))
            values = ops.multiply(values, sample_weight)
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives


def test_keras2_add_weight_and_default_reset_state():
    m = BinaryTruePositives()
    m.update_state(np.array([[1], [1], [0]]), np.array([[0.9], [0.2], [0.8]]))
    assert float(m.result()) == 1.0
    m.reset_state()  # Keras's default: every variable back to zero
    assert float(m.result()) == 0.0


def test_binary_metric_in_compile_with_sample_weights():
    rng = np.random.default_rng(1)
    x = rng.random((40, 4), dtype=np.float32)
    y = (rng.random((40, 1)) > 0.5).astype("float32")
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1, activation="sigmoid")])
    model.compile(
        optimizer="sgd",
        loss="binary_crossentropy",
        weighted_metrics=[BinaryTruePositives()],
    )
    logs = model.evaluate(
        x, y, sample_weight=np.full(40, 2.0), verbose=0, return_dict=True
    )
    pred = model.predict(x, verbose=0) > 0.5
    assert logs["binary_true_positives"] == pytest.approx(
        2.0 * float((pred & (y > 0.5)).sum())
    )


def test_add_variable_shapes_dtypes_and_errors():
    class Counts(keras.metrics.Metric):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.counts = self.add_variable((3,), "zeros", "float64", "sum", "counts")

        def update_state(self, values):
            self.counts.assign_add(ops.sum(ops.one_hot(values, 3), axis=0))

        def result(self):
            return self.counts

    m = Counts(name="counts_metric")
    m.update_state(torch.tensor([0, 2, 2]))
    assert m.result().tolist() == [1.0, 0.0, 2.0]
    assert m.counts.dtype == torch.float64
    assert not m.counts.trainable
    clone = copy.deepcopy(m)
    clone.update_state(torch.tensor([1]))
    assert m.result().tolist() == [1.0, 0.0, 2.0]
    assert clone.counts.path == "counts_metric/counts"
    with pytest.raises(
        TypeError,
        match=r"Counts metric 'counts_metric': add_variable\(\) got \['bogus'\]\.",
    ):
        m.add_variable((1,), bogus=1)


def test_to_moves_variables_in_place():
    m = CategoricalTruePositives()
    variable = m.true_positives
    m.to("meta")
    assert m.true_positives is variable
    assert variable.device.type == "meta"
    m.to("cpu")
    assert variable.path == "categorical_true_positives/ctp"
    assert m.variables == [variable]


@pytest.mark.gpu
def test_custom_metric_follows_the_model_to_the_gpu():
    x_train, y_train = mnist_like(64, (64, 1))
    model = get_uncompiled_model().to("cuda")
    model.compile(
        optimizer="sgd",
        loss="sparse_categorical_crossentropy",
        metrics=[CategoricalTruePositives()],
    )
    logs = model.evaluate(x_train, y_train, verbose=0, return_dict=True)
    assert logs["categorical_true_positives"] == _true_positives(
        model, x_train, y_train
    )
    metric = model._plan.metrics.metrics[0]
    assert metric.true_positives.device.type == "cuda"


class SeenSamples(keras.metrics.Metric):
    def __init__(self, name="seen", **kwargs):
        super().__init__(name=name, **kwargs)
        self.seen = self.add_variable(shape=(), initializer="zeros", name="seen")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.seen.assign_add(ops.shape(y_pred)[0])

    def result(self):
        return self.seen.value


def test_custom_metric_is_reset_each_epoch_and_each_evaluate():
    x, y = mnist_like(40, (40, 1))
    model = get_uncompiled_model()
    model.compile(
        optimizer="sgd",
        loss="sparse_categorical_crossentropy",
        metrics=[SeenSamples()],
    )
    history = model.fit(
        x, y, batch_size=16, epochs=3, validation_data=(x[:8], y[:8]), verbose=0
    )
    assert history.history["seen"] == [40.0, 40.0, 40.0]
    assert history.history["val_seen"] == [8.0, 8.0, 8.0]
    assert model.evaluate(x, y, verbose=0, return_dict=True)["seen"] == 40.0
