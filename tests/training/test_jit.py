"""The compiled train step (`compile(jit_compile=True)`), traced but not compiled.

`torch.compile` is replaced by the identity here, so these tests run the exact
functions `JitStep` hands to the compiler (functional forward/backward, update
from gradient values) in milliseconds. A real compile is in the slow tests.
"""

import warnings

import numpy as np
import pytest
import torch

import plait
from plait.layers import LSTM, Dense, Embedding, Input
from plait.training import jit as jit_mod


@pytest.fixture
def no_compiler(monkeypatch):
    monkeypatch.setattr(torch, "compile", lambda fn, **kwargs: fn)


def mlp():
    inputs = Input(shape=(4,))
    x = Dense(8, activation="relu")(inputs)
    return plait.Model(inputs, Dense(3, activation="softmax")(x))


def data(n=20):
    rng = np.random.default_rng(0)
    x = rng.random((n, 4)).astype("float32")
    return x, np.eye(3, dtype="float32")[rng.integers(0, 3, n)]


def train(build, optimizer, jit, x, y, **fit):
    plait.utils.set_random_seed(3)
    model = build()
    model.compile(optimizer, "categorical_crossentropy", jit_compile=jit)
    hist = model.fit(x, y, batch_size=8, shuffle=False, verbose=0, **fit)
    return model, hist.history["loss"]


@pytest.mark.parametrize("optimizer", ["rmsprop", "adam", "sgd"])
def test_jit_graph_step_trains_like_eager(no_compiler, optimizer):
    x, y = data()
    eager, eager_loss = train(mlp, optimizer, False, x, y, epochs=2)
    model, loss = train(mlp, optimizer, True, x, y, epochs=2)
    step = model._plan.train_fn
    assert step.mode == "graph"
    assert step.fused_update == (optimizer == "rmsprop")  # Adam: eps per step
    np.testing.assert_allclose(loss, eager_loss, rtol=1e-5)
    for a, b in zip(model.get_weights(), eager.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert model.optimizer.iterations == eager.optimizer.iterations == 6


def test_jit_partial_last_batch_runs_eagerly_without_a_new_signature(no_compiler):
    x, y = data(20)  # batches of 8, 8 and 4
    model, _ = train(mlp, "rmsprop", True, x, y, epochs=2)
    step = model._plan.train_fn
    assert len(step.compile_seconds) == 1
    ((shapes, *_),) = step.compile_seconds
    assert shapes[0] == (8, 4)
    assert step.batch_size == 8


def test_jit_compiles_at_most_max_signatures(no_compiler, monkeypatch):
    monkeypatch.setattr(jit_mod, "MAX_SIGNATURES", 2)
    inputs = Input(shape=(None, 2))
    pooled = plait.layers.GlobalAveragePooling1D()(inputs)
    model = plait.Model(inputs, Dense(3, activation="softmax")(pooled))
    model.compile("rmsprop", "categorical_crossentropy", jit_compile=True)
    y = np.eye(3, dtype="float32")[[0, 1, 2, 0]]
    for steps in (3, 4, 5, 6):
        model.fit(np.ones((4, steps, 2), "float32"), y, verbose=0)
    assert len(model._plan.train_fn.compile_seconds) == 2


def recurrent():
    ids = Input(shape=(5,), dtype="int32")
    h = LSTM(4)(Embedding(10, 3)(ids))
    return plait.Model(ids, Dense(3, activation="softmax")(h))


@pytest.mark.parametrize(
    ("max_steps", "mode"), [(0, "update"), (4, "update"), (5, "graph")]
)
def test_jit_recurrent_model_is_traced_only_up_to_max_unrolled_steps(
    no_compiler, monkeypatch, max_steps, mode
):
    monkeypatch.setattr(jit_mod, "MAX_UNROLLED_STEPS", max_steps)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 10, (16, 5)).astype("int32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 16)]
    eager, eager_loss = train(recurrent, "rmsprop", False, x, y)
    model, loss = train(recurrent, "rmsprop", True, x, y)
    assert model._plan.train_fn.mode == mode
    np.testing.assert_allclose(loss, eager_loss, rtol=1e-6)
    for a, b in zip(model.get_weights(), eager.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_jit_unrolled_steps_counts_every_recurrent_call():
    assert jit_mod._unrolled_steps(mlp()) == 0
    assert jit_mod._unrolled_steps(recurrent()) == 5
    a, b = Input(shape=(7, 2)), Input(shape=(3, 2))
    shared = LSTM(2)
    model = plait.Model([a, b], plait.layers.concatenate([shared(a), shared(b)]))
    assert jit_mod._unrolled_steps(model) == 10
    free = Input(shape=(None, 2))
    assert jit_mod._unrolled_steps(plait.Model(free, LSTM(2)(free))) == float("inf")
    wrapped = plait.layers.Bidirectional(LSTM(2))(free)
    assert jit_mod._unrolled_steps(plait.Model(free, wrapped)) == float("inf")


def test_jit_multi_output_masks_and_loss_weights_like_eager(no_compiler):
    def build():
        ids = Input(shape=(6,), dtype="int32")
        seq = Embedding(12, 4, mask_zero=True)(ids)
        pooled = plait.layers.GlobalAveragePooling1D()(seq)
        main = Dense(1, activation="sigmoid", name="main")(pooled)
        aux = Dense(1, activation="sigmoid", name="aux")(pooled)
        return plait.Model(ids, [main, aux])

    rng = np.random.default_rng(2)
    x = rng.integers(0, 12, (16, 6)).astype("int32")
    y = rng.integers(0, 2, (16, 1)).astype("float32")
    losses = []
    for jit in (False, True):
        plait.utils.set_random_seed(5)
        model = build()
        model.compile(
            "rmsprop",
            "binary_crossentropy",
            loss_weights=[1.0, 0.2],
            metrics=["accuracy"],
            jit_compile=jit,
        )
        hist = model.fit(x, [y, y], batch_size=8, shuffle=False, verbose=0)
        losses.append({k: v[0] for k, v in hist.history.items()})
    assert model._plan.train_fn.mode == "graph"
    assert losses[0].keys() == losses[1].keys()
    for k in losses[0]:
        assert losses[1][k] == pytest.approx(losses[0][k], rel=1e-5)


def test_jit_failure_warns_once_and_trains_eagerly(monkeypatch):
    def broken(fn, **kwargs):
        def run(*args):
            raise RuntimeError("no compiler here")

        return run

    monkeypatch.setattr(torch, "compile", broken)
    x, y = data()
    with pytest.warns(UserWarning, match="torch.compile failed") as caught:
        model, _ = train(mlp, "rmsprop", True, x, y, epochs=2)
    assert len(caught) == 1
    assert model._plan.train_fn.failed
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, y, batch_size=8, verbose=0)


def mlp_l2():
    inputs = Input(shape=(4,))
    x = Dense(8, activation="relu", kernel_regularizer="l2")(inputs)
    return plait.Model(inputs, Dense(3, "softmax", bias_regularizer="l1")(x))


@pytest.mark.slow
@pytest.mark.parametrize("build", [mlp, mlp_l2])
def test_jit_real_compile_matches_eager(build):
    x, y = data()
    eager, eager_loss = train(build, "rmsprop", False, x, y, epochs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, loss = train(build, "rmsprop", True, x, y, epochs=2)
    step = model._plan.train_fn
    assert not step.failed
    assert step.mode == "graph"
    assert step.compile_seconds
    np.testing.assert_allclose(loss, eager_loss, rtol=1e-5)
    for a, b in zip(model.get_weights(), eager.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_jit_optimizer_over_foreign_parameters_compiles_the_update_only(no_compiler):
    model = mlp()
    extra = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.SGD([*model.parameters(), extra], lr=0.1)
    model.compile(opt, "categorical_crossentropy", jit_compile=True)
    x, y = data()
    model.fit(x, y, batch_size=8, verbose=0)
    assert model._plan.train_fn.mode == "update"


def test_jit_graph_step_updates_batchnorm_statistics_like_eager(no_compiler):
    def build():
        inputs = Input(shape=(4,))
        x = plait.layers.BatchNormalization()(Dense(6)(inputs))
        return plait.Model(inputs, Dense(3, activation="softmax")(x))

    x, y = data()
    eager, eager_loss = train(build, "rmsprop", False, x, y, epochs=2)
    model, loss = train(build, "rmsprop", True, x, y, epochs=2)
    assert model._plan.train_fn.mode == "graph"
    np.testing.assert_allclose(loss, eager_loss, rtol=1e-5)
    for a, b in zip(model.get_weights(), eager.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)  # moving stats too


@pytest.mark.parametrize("optimizer", ["rmsprop", "adam"])
def test_jit_weight_regularizers_train_in_the_graph_like_eager(no_compiler, optimizer):
    # The penalties read the differentiated weights (a kernel stored in torch's
    # layout is seen in Keras's), so their gradients are in the graph's.
    def build():
        inputs = Input(shape=(6, 4))
        x = plait.layers.Conv1D(5, 3, kernel_regularizer="l2")(inputs)
        x = plait.layers.Flatten()(x)
        frozen = Dense(4, kernel_regularizer=plait.regularizers.L1(0.05))
        x = frozen(x)
        frozen.trainable = False  # its constant penalty still counts
        out = Dense(3, "softmax", kernel_regularizer="l1_l2", bias_regularizer="l2")
        return plait.Model(inputs, out(x))

    rng = np.random.default_rng(1)
    x = rng.random((20, 6, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 20)]
    eager, eager_loss = train(build, optimizer, False, x, y, epochs=2)
    model, loss = train(build, optimizer, True, x, y, epochs=2)
    assert model._plan.train_fn.mode == "graph"
    assert len(model._plan.regularizers) == 4
    np.testing.assert_allclose(loss, eager_loss, rtol=1e-5)
    for a, b in zip(model.get_weights(), eager.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
