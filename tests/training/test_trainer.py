"""Tests for compile / fit / evaluate / predict (plait.training.trainer)."""

import os
import warnings

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import plait
from plait.layers import Dense, Dropout, Input, Layer, concatenate
from plait.training import trainer as trainer_mod

GOLDEN = os.path.join(os.path.dirname(__file__), "golden", "mlp_sgd.npz")


def classifier(n_in=4, n_classes=3):
    inputs = Input(shape=(n_in,))
    x = Dense(8, activation="relu")(inputs)
    return plait.Model(inputs, Dense(n_classes, activation="softmax")(x))


def two_outputs(aux_regularizer=None):
    main = Input(shape=(4,), name="main_input")
    aux = Input(shape=(2,), name="aux_input")
    h = Dense(6, activation="relu")(main)
    aux_out = Dense(
        1, activation="sigmoid", kernel_regularizer=aux_regularizer, name="aux_output"
    )(h)
    x = concatenate([h, aux])
    main_out = Dense(1, activation="sigmoid", name="main_output")(x)
    return plait.Model([main, aux], [main_out, aux_out])


def data(n=16, n_in=4, n_classes=3):
    rng = np.random.default_rng(0)
    x = rng.random((n, n_in)).astype("float32")
    labels = rng.integers(0, n_classes, n)
    return x, labels, np.eye(n_classes, dtype="float32")[labels]


def two_output_data(n=16):
    rng = np.random.default_rng(1)
    main = rng.random((n, 4)).astype("float32")
    aux = rng.random((n, 2)).astype("float32")
    labels = rng.integers(0, 2, (n, 1)).astype("float32")
    return main, aux, labels


def weights_of(model):
    return [w.copy() for w in model.get_weights()]


def bce(y, p):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


# ---------------------------------------------------------------- history keys


def test_fit_history_keys_single_output():
    model = classifier()
    model.compile("rmsprop", "categorical_crossentropy", metrics=["accuracy"])
    x, _, y = data()
    hist = model.fit(x, y, epochs=2, batch_size=4, verbose=0, validation_split=0.25)
    assert list(hist.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(v) == 2 for v in hist.history.values())
    assert hist.epoch == [0, 1]
    assert model.history is hist


def test_fit_history_keys_multi_output():
    model = two_outputs()
    model.compile(
        "rmsprop", "binary_crossentropy", loss_weights=[1.0, 0.2], metrics=["accuracy"]
    )
    main, aux, y = two_output_data()
    hist = model.fit([main, aux], [y, y], epochs=1, batch_size=8, verbose=0)
    assert list(hist.history) == [
        "aux_output_accuracy",
        "aux_output_loss",
        "loss",
        "main_output_accuracy",
        "main_output_loss",
    ]


# ---------------------------------------------------------------- loss weighting


def _evaluate_parts(model, main, aux, y):
    return model.evaluate([main, aux], [y, y], batch_size=64, verbose=0)


def test_guide_compile_line_broadcasts_one_loss_with_list_weights():
    model = two_outputs()
    model.compile(
        optimizer="rmsprop", loss="binary_crossentropy", loss_weights=[1.0, 0.2]
    )
    main, aux, y = two_output_data()
    total, main_loss, aux_loss = _evaluate_parts(model, main, aux, y)
    p_main, p_aux = model.predict([main, aux], verbose=0)
    # Keras reports each output's loss unweighted, the total weighted.
    assert main_loss == pytest.approx(bce(y, p_main), abs=1e-5)
    assert aux_loss == pytest.approx(bce(y, p_aux), abs=1e-5)
    assert total == pytest.approx(main_loss + 0.2 * aux_loss, abs=1e-6)
    assert model.metrics_names == ["loss", "main_output_loss", "aux_output_loss"]


def test_dict_loss_and_dict_weights_missing_name_weighs_one():
    model = two_outputs()
    model.compile(
        "rmsprop",
        loss={
            "main_output": "binary_crossentropy",
            "aux_output": "binary_crossentropy",
        },
        loss_weights={"aux_output": 0.5},
    )
    main, aux, y = two_output_data()
    logs = model.evaluate(
        {"main_input": main, "aux_input": aux},
        {"main_output": y, "aux_output": y},
        verbose=0,
        return_dict=True,
    )
    p_main, p_aux = model.predict({"main_input": main, "aux_input": aux}, verbose=0)
    assert logs["main_output_loss"] == pytest.approx(bce(y, p_main), abs=1e-5)
    assert logs["aux_output_loss"] == pytest.approx(bce(y, p_aux), abs=1e-5)
    assert logs["loss"] == pytest.approx(bce(y, p_main) + 0.5 * bce(y, p_aux), abs=1e-5)


def test_list_losses_with_dict_weights_map_by_name():
    model = two_outputs()
    model.compile(
        "sgd", loss=["mse", "binary_crossentropy"], loss_weights={"main_output": 3.0}
    )
    main, aux, y = two_output_data()
    logs = model.evaluate([main, aux], [y, y], verbose=0, return_dict=True)
    p_main, p_aux = model.predict([main, aux], verbose=0)
    mse = float(np.mean((y - p_main) ** 2))
    assert logs["main_output_loss"] == pytest.approx(mse, abs=1e-5)
    assert logs["aux_output_loss"] == pytest.approx(bce(y, p_aux), abs=1e-5)
    assert logs["loss"] == pytest.approx(3 * mse + bce(y, p_aux), abs=1e-5)


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("form", ["list", "dict"])
def test_fit_history_reports_output_losses_unweighted_and_the_total_weighted(
    monkeypatch, form, jit
):
    monkeypatch.setattr(torch, "compile", lambda fn, **kwargs: fn)
    # A regularizer would take jit out of its one-graph mode (jit.py).
    model = two_outputs(None if jit else "l2")
    weights = [1.0, 0.2] if form == "list" else {"main_output": 1.0, "aux_output": 0.2}
    model.compile(
        "rmsprop", "binary_crossentropy", loss_weights=weights, jit_compile=jit
    )
    main, aux, y = two_output_data()
    p_main, p_aux = model.predict([main, aux], verbose=0)  # before the one update
    kernel = model.get_layer("aux_output").get_weights()[0]
    extra = 0.0 if jit else 0.01 * float(np.sum(kernel**2))
    targets = [y, y] if form == "list" else {"main_output": y, "aux_output": y}
    hist = model.fit([main, aux], targets, batch_size=16, shuffle=False, verbose=0)
    if jit:
        assert model._plan.train_fn.mode == "graph"
    logs = {k: v[0] for k, v in hist.history.items()}
    assert logs["main_output_loss"] == pytest.approx(bce(y, p_main), abs=1e-5)
    assert logs["aux_output_loss"] == pytest.approx(bce(y, p_aux), abs=1e-5)
    total = bce(y, p_main) + 0.2 * bce(y, p_aux) + extra
    assert logs["loss"] == pytest.approx(total, abs=1e-5)


def test_dict_loss_leaves_missing_outputs_untrained():
    model = two_outputs()
    with pytest.warns(UserWarning, match=r"\['aux_output'\] have no loss"):
        model.compile("sgd", loss={"main_output": "binary_crossentropy"})
    aux_layer = model.get_layer("aux_output")
    before = [w.copy() for w in aux_layer.get_weights()]
    main, aux, y = two_output_data()
    hist = model.fit(
        {"main_input": main, "aux_input": aux}, {"main_output": y}, epochs=1, verbose=0
    )
    for a, b in zip(before, aux_layer.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert "aux_output_loss" not in hist.history


# ---------------------------------------------------------------- errors


def test_compile_errors_name_the_problem():
    model = two_outputs()
    with pytest.raises(ValueError, match="expected a list of 2 losses"):
        model.compile("rmsprop", loss=["mse"])
    with pytest.raises(ValueError, match=r"unknown output name\(s\) \['main'\]"):
        model.compile("rmsprop", loss="mse", loss_weights={"main": 2.0})
    with pytest.raises(ValueError, match="Unknown loss 'msee'"):
        model.compile("rmsprop", loss="msee")
    with pytest.raises(ValueError, match="Unknown metric 'acuracy'"):
        model.compile("rmsprop", loss="mse", metrics=["acuracy"])
    with pytest.raises(ValueError, match="Unknown optimizer 'rmsprob'"):
        model.compile("rmsprob", loss="mse")
    with pytest.raises(
        TypeError, match=r"unexpected argument\(s\) \['sample_weight_mode'\]"
    ):
        model.compile("rmsprop", loss="mse", sample_weight_mode="temporal")


def test_fit_before_compile_is_an_error():
    model = classifier()
    x, _, y = data()
    with pytest.raises(
        RuntimeError, match=r"call compile\(optimizer, loss, \.\.\.\) before fit"
    ):
        model.fit(x, y)


@pytest.mark.parametrize(
    ("make_args", "match"),
    [
        (
            lambda m, a, y: ([m], [y, y]),
            r"expected 2 inputs \['main_input', 'aux_input'\], got 1",
        ),
        (lambda m, a, y: ([m, a], y), r"expected 2 target arrays.*got a single array"),
        (lambda m, a, y: ([m, a], [y, y, y]), r"expected 2 target arrays.*got 3"),
        (
            lambda m, a, y: ([m, a[:-1]], [y, y]),
            r"same number of samples, got \{'x': \[16, 15\]",
        ),
        (
            lambda m, a, y: ([m, a], {"main_output": y, "aux": y}),
            r"unknown output name\(s\) \['aux'\]",
        ),
        (
            lambda m, a, y: ([m, a], {"main_output": y}),
            r"output 'aux_output' has a loss but no targets",
        ),
        (
            lambda m, a, y: ([m, a], [y, np.zeros((16, 3))]),
            r"Output 'aux_output'.*expected targets of shape \(None, 1\), got \(16, 3\)",
        ),
        (
            lambda m, a, y: ([m[:, :3], a], [y, y]),
            r"input 'main_input': expected shape \(None, 4\), got \(16, 3\)",
        ),
    ],
    ids=[
        "inputs",
        "single-target",
        "three-targets",
        "counts",
        "unknown-name",
        "missing-target",
        "target-shape",
        "input-shape",
    ],
)
def test_fit_rejects_bad_data_before_any_weight_changes(make_args, match):
    model = two_outputs()
    model.compile("sgd", "binary_crossentropy")
    before = weights_of(model)
    main, aux, y = two_output_data()
    x_arg, y_arg = make_args(main, aux, y)
    with pytest.raises(ValueError, match=match):
        model.fit(x_arg, y_arg, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_categorical_crossentropy_with_integer_labels_says_what_to_use():
    model = classifier()
    model.compile("sgd", "categorical_crossentropy")
    x, labels, _ = data()
    with pytest.raises(
        ValueError, match=r"sparse_categorical_crossentropy.*to_categorical\(y, 3\)"
    ):
        model.fit(x, labels, verbose=0)


def test_sparse_labels_train_with_sparse_categorical_crossentropy():
    model = classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, labels, _ = data()
    hist = model.fit(x, labels, epochs=1, verbose=0)
    assert set(hist.history) == {"accuracy", "loss"}


# ---------------------------------------------------------------- numbers


def test_metrics_and_loss_match_numpy():
    model = classifier()
    model.compile(
        plait.optimizers.SGD(learning_rate=0.0),
        "categorical_crossentropy",
        metrics=["accuracy", "mae"],
    )
    x, labels, y = data(n=20)
    hist = model.fit(x, y, batch_size=6, epochs=1, shuffle=False, verbose=0)
    p = model.predict(x, verbose=0)
    ce = -np.log(np.clip(p[np.arange(20), labels], 1e-7, 1))
    assert hist.history["loss"][0] == pytest.approx(ce.mean(), abs=1e-5)
    assert hist.history["accuracy"][0] == pytest.approx(np.mean(p.argmax(1) == labels))
    assert hist.history["mae"][0] == pytest.approx(np.abs(p - y).mean(), abs=1e-6)
    loss, acc, _mae = model.evaluate(x, y, verbose=0)
    assert (loss, acc) == pytest.approx(
        (ce.mean(), np.mean(p.argmax(1) == labels)), abs=1e-5
    )


def test_class_weight_and_sample_weight_math():
    model = classifier()
    model.compile(plait.optimizers.SGD(learning_rate=0.0), "categorical_crossentropy")
    x, labels, y = data(n=12)
    p = model.predict(x, verbose=0)
    ce = -np.log(p[np.arange(12), labels])
    cw = {0: 2.0, 1: 0.5}
    w_cls = np.array([cw.get(int(c), 1.0) for c in labels])
    sw = np.linspace(0.1, 1.2, 12).astype("float32")
    hist = model.fit(x, y, batch_size=12, class_weight=cw, verbose=0)
    assert hist.history["loss"][0] == pytest.approx((w_cls * ce).sum() / 12, abs=1e-5)
    hist = model.fit(x, y, batch_size=12, sample_weight=sw, verbose=0)
    assert hist.history["loss"][0] == pytest.approx((sw * ce).sum() / 12, abs=1e-5)
    hist = model.fit(x, y, batch_size=12, sample_weight=sw, class_weight=cw, verbose=0)
    assert hist.history["loss"][0] == pytest.approx(
        (sw * w_cls * ce).sum() / 12, abs=1e-5
    )


def test_loss_from_logits_equals_the_probability_loss():
    model = classifier()
    model.compile("sgd", "categorical_crossentropy")
    x, _, y = data()
    loss = model.evaluate(x, y, verbose=0)
    plan = model._plan
    assert plan.entries[0].activation is plait.activations.softmax
    p = torch.from_numpy(model.predict(x, verbose=0))
    expected = plait.losses.CategoricalCrossentropy()(torch.from_numpy(y), p)
    assert loss == pytest.approx(float(expected), abs=1e-6)


def test_validation_split_takes_the_last_samples_exactly():
    model = classifier()
    model.compile(plait.optimizers.SGD(learning_rate=0.0), "categorical_crossentropy")
    x, _, y = data(n=10)
    hist = model.fit(x, y, validation_split=0.3, batch_size=3, verbose=0)
    # floor(10 * 0.7) = 7 training samples, the last 3 validate.
    assert hist.history["loss"][0] == pytest.approx(
        model.evaluate(x[:7], y[:7], verbose=0), abs=1e-6
    )
    assert hist.history["val_loss"][0] == pytest.approx(
        model.evaluate(x[7:], y[7:], verbose=0), abs=1e-6
    )


def test_validation_data_and_validation_freq():
    model = classifier()
    model.compile("sgd", "categorical_crossentropy")
    x, _, y = data()
    hist = model.fit(
        x, y, epochs=3, validation_data=(x, y), validation_freq=2, verbose=0
    )
    assert len(hist.history["loss"]) == 3
    assert len(hist.history["val_loss"]) == 1


def test_dict_and_list_data_train_identically():
    main, aux, y = two_output_data()
    results = []
    for as_dict in (False, True):
        plait.utils.set_random_seed(3)
        model = two_outputs()
        model.compile("rmsprop", "binary_crossentropy", loss_weights=[1.0, 0.2])
        plait.utils.set_random_seed(4)
        if as_dict:
            model.fit(
                {"main_input": main, "aux_input": aux},
                {"main_output": y, "aux_output": y},
                batch_size=4,
                verbose=0,
            )
        else:
            model.fit([main, aux], [y, y], batch_size=4, verbose=0)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def _fit_from(source_kind):
    plait.utils.set_random_seed(5)
    model = classifier()
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    x, _, y = data()
    if source_kind == "arrays":
        hist = model.fit(x, y, batch_size=4, shuffle=False, verbose=0)
    elif source_kind == "loader":
        ds = TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
        hist = model.fit(DataLoader(ds, batch_size=4), verbose=0)
    elif source_kind == "dataset":
        ds = TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
        hist = model.fit(ds, batch_size=4, shuffle=False, verbose=0)
    else:
        hist = model.fit(
            ((x[i : i + 4], y[i : i + 4]) for i in range(0, 16, 4)), verbose=0
        )
    return model.get_weights(), hist.history


@pytest.mark.parametrize("kind", ["loader", "dataset", "generator"])
def test_dataloader_dataset_and_generator_sources_match_arrays(kind):
    ref_w, ref_h = _fit_from("arrays")
    w, h = _fit_from(kind)
    for a, b in zip(ref_w, w):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert h["loss"] == pytest.approx(ref_h["loss"], abs=1e-6)


def test_loader_with_sample_weights_and_y_argument_error():
    model = classifier()
    model.compile("sgd", "categorical_crossentropy")
    x, _, y = data()
    ds = TensorDataset(torch.from_numpy(x), torch.from_numpy(y), torch.ones(16))
    model.fit(DataLoader(ds, batch_size=8), verbose=0)
    with pytest.raises(ValueError, match="`y` and `sample_weight` must be None"):
        model.fit(DataLoader(ds, batch_size=8), y, verbose=0)
    with pytest.raises(ValueError, match=r"validation_split=\.\.\.\) needs array data"):
        model.fit(DataLoader(ds, batch_size=8), validation_split=0.5, verbose=0)


class Probe(Layer):
    """Records the `training` flag of every call."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, inputs, training=None):
        self.seen.append(bool(training))
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


def test_training_flag_is_true_only_in_fit_steps():
    inputs = Input(shape=(4,))
    probe = Probe()
    out = Dense(3, activation="softmax")(Dropout(0.5)(probe(inputs)))
    model = plait.Model(inputs, out)
    model.compile("sgd", "categorical_crossentropy")
    x, _, y = data()
    probe.seen.clear()
    model.fit(x, y, batch_size=8, validation_data=(x, y), verbose=0)
    assert probe.seen == [True, True, False, False]  # 2 training, 2 validation batches
    assert not model.training
    probe.seen.clear()
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert probe.seen == [False, False]


def test_regularization_add_loss_and_constraints():
    inputs = Input(shape=(4,))
    dense = Dense(
        3,
        kernel_regularizer=plait.regularizers.L2(0.1),
        kernel_constraint=plait.constraints.NonNeg(),
    )

    class AddsLoss(Layer):
        def call(self, x):
            self.add_loss(x.abs().mean())
            return x

        def compute_output_shape(self, input_shape):
            return input_shape

    model = plait.Model(inputs, AddsLoss()(dense(inputs)))
    model.compile(plait.optimizers.SGD(learning_rate=0.0), "mse")
    x, _, y = data()
    loss = model.evaluate(x, y, batch_size=16, verbose=0)
    kernel = model.get_weights()[0]
    p = model.predict(x, verbose=0)
    expected = np.mean((p - y) ** 2) + 0.1 * np.sum(kernel**2) + np.abs(p).mean()
    assert loss == pytest.approx(expected, abs=1e-5)
    model.compile(plait.optimizers.SGD(learning_rate=1.0), "mse")
    model.fit(x, -10 * y, verbose=0)
    assert (model.get_weights()[0] >= 0).all()


def test_train_and_test_on_batch():
    model = classifier()
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    x, _, y = data()
    before = weights_of(model)
    loss, acc = model.train_on_batch(x, y)
    assert not np.allclose(before[0], model.get_weights()[0])
    logs = model.test_on_batch(x, y, return_dict=True)
    assert set(logs) == {"accuracy", "loss"}
    assert isinstance(loss, float)
    assert 0 <= acc <= 1
    model.compile("sgd", "categorical_crossentropy")
    assert isinstance(model.test_on_batch(x, y), float)


def test_evaluate_returns_loss_alone_or_a_list_or_a_dict():
    model = classifier()
    model.compile("sgd", "categorical_crossentropy")
    x, _, y = data()
    assert isinstance(model.evaluate(x, y, verbose=0), float)
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    assert len(model.evaluate(x, y, verbose=0)) == 2
    assert set(model.evaluate(x, y, verbose=0, return_dict=True)) == {
        "accuracy",
        "loss",
    }


def test_custom_train_step_is_used_by_fit():
    calls = []

    class Custom(plait.models.Functional):
        def train_step(self, data):
            calls.append(len(data))
            return super().train_step(data)

    inputs = Input(shape=(4,))
    model = Custom(inputs, Dense(3, activation="softmax")(inputs))
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    x, _, y = data()
    hist = model.fit(x, y, batch_size=8, verbose=0)
    assert calls == [2, 2]  # (x, y): no sample weights, as in Keras
    assert set(hist.history) == {"accuracy", "loss"}


def test_subclassed_model_trains_and_evaluates():
    class Sub(plait.Model):
        def __init__(self):
            super().__init__()
            self.hidden = Dense(8, activation="relu")
            self.out = Dense(3, activation="softmax")

        def call(self, x, training=None):
            return self.out(self.hidden(x))

    model = Sub()
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    x, _, y = data()
    hist = model.fit(x, y, epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2
    assert len(model.evaluate(x, y, verbose=0)) == 2


def test_sequential_builds_from_the_data():
    model = plait.Sequential(
        [Dense(8, activation="relu"), Dense(3, activation="softmax")]
    )
    model.compile("rmsprop", "categorical_crossentropy", metrics=["accuracy"])
    x, _, y = data()
    model.fit(x, y, epochs=1, verbose=0)
    assert model.predict(x, verbose=0).shape == (16, 3)


def test_steps_per_epoch_and_stop_training():
    model = classifier()
    model.compile("sgd", "categorical_crossentropy")
    x, _, y = data()
    seen = []
    cb = plait.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: seen.append(b)
    )
    model.fit(
        x, y, batch_size=4, steps_per_epoch=2, epochs=2, callbacks=[cb], verbose=0
    )
    assert seen == [0, 1, 0, 1]

    class Stop(plait.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    hist = model.fit(x, y, batch_size=4, epochs=5, callbacks=[Stop()], verbose=0)
    assert len(hist.history["loss"]) == 1


def test_steps_per_execution_spaces_the_batch_callbacks():
    model = classifier()
    model.compile("sgd", "categorical_crossentropy", steps_per_execution=2)
    x, _, y = data()
    seen = []
    cb = plait.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: seen.append(b)
    )
    model.fit(x, y, batch_size=4, callbacks=[cb], verbose=0)
    assert seen == [1, 3]


def test_batch_logs_are_read_lazily(monkeypatch):
    model = classifier()
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    x, _, y = data()
    reads = []
    original = trainer_mod.Trainer._read_logs

    def counting(self):
        reads.append(1)
        return original(self)

    monkeypatch.setattr(trainer_mod.Trainer, "_read_logs", counting)
    cb = plait.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: None)
    model.fit(x, y, batch_size=2, epochs=2, callbacks=[cb], verbose=0)
    # Once per epoch end, plus once at the first batch of the run (so that the
    # logs dict has its keys for readers such as json); never per batch.
    assert len(reads) == 3


def test_verbose_outputs(capsys):
    model = classifier()
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    x, _, y = data()
    model.fit(x, y, epochs=2, batch_size=4, verbose=2)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2"
    assert out[1].startswith("4/4 - ")
    assert "/step - accuracy: " in out[1]
    assert " - loss: " in out[1]
    model.fit(x, y, epochs=1, batch_size=4, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/1" in out
    assert "4/4 ━━━━━━━━━━━━━━━━━━━━" in out
    model.fit(x, y, epochs=1, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


def test_jit_compile_falls_back_to_eager_with_a_warning(monkeypatch):
    def broken(fn, **kwargs):
        def run(*args):
            raise RuntimeError("no compiler here")

        return run

    monkeypatch.setattr(torch, "compile", broken)
    model = classifier()
    model.compile("sgd", "categorical_crossentropy", jit_compile=True)
    x, _, y = data()
    with pytest.warns(UserWarning, match="torch.compile failed.*training eagerly"):
        hist = model.fit(x, y, epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2


def test_predict_with_a_loader_and_dict_outputs():
    inputs = Input(shape=(4,))
    model = plait.Model(inputs, {"a": Dense(2)(inputs), "b": Dense(1)(inputs)})
    x, _, _ = data()
    out = model.predict(
        DataLoader(TensorDataset(torch.from_numpy(x)), batch_size=5), verbose=0
    )
    assert out["a"].shape == (16, 2)
    assert out["b"].shape == (16, 1)


# ---------------------------------------------------------------- Keras parity


def test_mlp_one_sgd_epoch_matches_keras():
    golden = np.load(GOLDEN)
    rng = np.random.RandomState(0)  # the same draws as golden/make_golden.py
    x = rng.rand(256, 784).astype("float32")
    labels = rng.randint(10, size=256)
    y = np.eye(10, dtype="float32")[labels]
    weights = [
        (rng.rand(784, 64).astype("float32") - 0.5) * 0.1,
        (rng.rand(64).astype("float32") - 0.5) * 0.1,
        (rng.rand(64, 64).astype("float32") - 0.5) * 0.4,
        (rng.rand(64).astype("float32") - 0.5) * 0.1,
        (rng.rand(64, 10).astype("float32") - 0.5) * 0.4,
        (rng.rand(10).astype("float32") - 0.5) * 0.1,
    ]
    from plait.examples.guide import mlp

    model = mlp()
    model.set_weights(weights)
    model.compile(
        optimizer=plait.optimizers.SGD(learning_rate=0.1),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    hist = model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(hist.history["loss"], golden["history_loss"], atol=1e-5)
    np.testing.assert_allclose(
        hist.history["accuracy"], golden["history_accuracy"], atol=1e-6
    )
    np.testing.assert_allclose(
        model.evaluate(x, y, verbose=0), golden["evaluate"], atol=1e-5
    )
    np.testing.assert_allclose(
        model.predict(x[:16], verbose=0), golden["predict"], atol=1e-5
    )
    trained = model.get_weights()
    np.testing.assert_allclose(trained[0].sum(0), golden["kernel0_colsum"], atol=1e-4)
    np.testing.assert_allclose(trained[0][:16], golden["kernel0_rows"], atol=1e-5)
    rest = np.concatenate([w.ravel() for w in trained[1:]])
    np.testing.assert_allclose(rest, golden["rest"], atol=1e-5)


# ---------------------------------------------------------------- slow


@pytest.mark.slow
def test_jit_compile_trains_like_eager():
    results = []
    for jit in (False, True):
        plait.utils.set_random_seed(7)
        model = classifier()
        model.compile("sgd", "categorical_crossentropy", jit_compile=jit)
        x, _, y = data()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.slow
def test_guide_mlp_learns_the_digits():
    from sklearn.datasets import load_digits

    from plait.examples.guide import mlp

    digits = load_digits()
    x = np.zeros((len(digits.data), 784), dtype="float32")
    x[:, :64] = digits.data / 16.0
    y = plait.utils.to_categorical(digits.target, 10)
    model = mlp()
    model.compile(
        optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"]
    )
    hist = model.fit(x, y, epochs=10, batch_size=32, validation_split=0.2, verbose=0)
    assert hist.history["val_accuracy"][-1] > 0.85


def test_output_masks_leave_padded_steps_out_of_loss_and_metrics():
    from plait.layers import LSTM, Embedding

    inputs = Input(shape=(5,), dtype="int32")
    h = LSTM(3, return_sequences=True)(Embedding(10, 4, mask_zero=True)(inputs))
    model = plait.Model(inputs, Dense(1, activation="sigmoid")(h))
    model.compile(
        plait.optimizers.SGD(learning_rate=0.0),
        "binary_crossentropy",
        metrics=["accuracy"],
    )
    rng = np.random.default_rng(0)
    x = rng.integers(1, 10, (6, 5)).astype("int32")
    x[:, 3:] = 0  # two padded steps per sequence
    y = rng.integers(0, 2, (6, 5, 1)).astype("float32")
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    p = model.predict(x, verbose=0)[:, :3]
    kept = y[:, :3]
    assert logs["loss"] == pytest.approx(bce(kept, p), abs=1e-5)
    assert logs["accuracy"] == pytest.approx(np.mean((p > 0.5) == kept), abs=1e-6)


def test_predict_takes_nested_python_lists_as_one_array_per_input():
    from plait.layers import Dense, Input, add

    seq = plait.Sequential([Dense(2)])
    assert seq.predict([[1.0, 2.0], [3.0, 4.0]], verbose=0).shape == (2, 2)
    a, b = Input(shape=(2,)), Input(shape=(2,))
    model = plait.Model([a, b], add([a, b]))
    np.testing.assert_allclose(model.predict([[[1, 2]], [[3, 4]]], verbose=0), [[4, 6]])


# ---------------------------------------------------------------- predict paths


def test_predict_array_outputs_match_the_model_call_in_its_structure():
    inputs = Input(shape=(4,))
    model = plait.Model(inputs, {"a": Dense(2)(inputs), "b": Dense(1)(inputs)})
    x, _, _ = data(n=11)
    out = model.predict(x, batch_size=4, verbose=0)
    with torch.no_grad():
        ref = model(torch.from_numpy(x))
    assert sorted(out) == ["a", "b"]
    for k in out:
        np.testing.assert_allclose(out[k], ref[k].numpy(), rtol=1e-6, atol=1e-6)
    multi = two_outputs()
    xs = [np.ones((5, 4), "float32"), np.zeros((5, 2), "float32")]
    main, aux = multi.predict(xs, batch_size=2, verbose=0)
    assert main.shape == (5, 1)
    assert aux.shape == (5, 1)


def test_predict_runs_the_model_call_when_a_forward_hook_is_set():
    model = classifier()
    calls = []
    model.register_forward_hook(lambda m, args, out: calls.append(1))
    x, _, _ = data(n=10)
    model.predict(x, batch_size=4, verbose=0)
    assert len(calls) == 3  # one per batch, as with Model.__call__
