"""Training under any grad mode, with nothing trainable, and under Ctrl+C (guard.py)."""

import signal

import numpy as np
import pytest
import torch

import plait
from plait.layers import Dense, Input
from plait.utils import guard

NOT_TRAINABLE = "does not have any trainable weights"


@pytest.fixture
def no_compiler(monkeypatch):
    monkeypatch.setattr(torch, "compile", lambda fn, **kwargs: fn)


@pytest.fixture
def python_sigint():
    """SIGINT raises KeyboardInterrupt (Python's default), whatever runs the tests."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def model_and_data(optimizer="sgd", jit=False):
    inputs = Input(shape=(4,))
    model = plait.Model(inputs, Dense(2, name="out")(inputs))
    model.compile(optimizer, "mse", jit_compile=jit)
    rng = np.random.default_rng(0)
    x = rng.random((8, 4)).astype("float32")
    y = rng.random((8, 2)).astype("float32")
    return model, x, y


def weights_of(model):
    return [w.copy() for w in model.get_weights()]


def changed(before, model):
    return [not np.array_equal(a, b) for a, b in zip(before, model.get_weights())]


# ---------------------------------------------------------------- grad mode


@pytest.mark.parametrize("mode", [torch.no_grad, torch.inference_mode])
def test_guard_fit_trains_inside_no_grad_and_inference_mode(mode):
    model, x, y = model_and_data()
    before = weights_of(model)
    with mode():
        hist = model.fit(x, y, batch_size=4, epochs=2, verbose=0)
        assert not torch.is_grad_enabled()  # the caller's mode is kept
        loss = model.train_on_batch(x, y)
    assert all(changed(before, model))
    assert model.optimizer.iterations == 5
    assert np.isfinite(hist.history["loss"]).all()
    assert np.isfinite(loss)
    assert torch.is_grad_enabled()


def test_guard_fit_inside_no_grad_with_jit_compile(no_compiler):
    model, x, y = model_and_data("rmsprop", jit=True)
    before = weights_of(model)
    with torch.no_grad():
        model.fit(x, y, batch_size=4, verbose=0)
    assert model._plan.train_fn.mode == "graph"
    assert all(changed(before, model))
    assert model.optimizer.iterations == 2


def test_guard_fit_on_tensors_made_in_inference_mode():
    model, x, y = model_and_data()
    with torch.inference_mode():
        tx, ty = torch.tensor(x), torch.tensor(y)
    model.fit(tx, ty, batch_size=4, shuffle=False, verbose=0)
    assert model.optimizer.iterations == 2


def test_guard_evaluate_in_inference_mode_then_fit():
    model, x, y = model_and_data()
    with torch.inference_mode():
        first = model.evaluate(x, y, verbose=0)
        assert model.test_on_batch(x, y) == pytest.approx(first)
    model.fit(x, y, batch_size=4, verbose=0)  # updates the metric state in place
    assert model.evaluate(x, y, verbose=0) < first


# ---------------------------------------------------------------- nothing trainable


@pytest.mark.parametrize("jit", [False, True])
def test_guard_fit_with_nothing_trainable_warns_and_reports_the_loss(no_compiler, jit):
    model, x, y = model_and_data("rmsprop", jit=jit)
    model.trainable = False
    model.compile("rmsprop", "mse", jit_compile=jit)
    before = weights_of(model)
    with pytest.warns(UserWarning, match=NOT_TRAINABLE):
        hist = model.fit(x, y, batch_size=8, verbose=0)
    with pytest.warns(UserWarning, match=NOT_TRAINABLE):
        batch_loss = model.train_on_batch(x, y)
    expected = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
    assert hist.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    assert batch_loss == pytest.approx(expected, rel=1e-5)
    assert not any(changed(before, model))
    assert model.optimizer.iterations == 0


# ---------------------------------------------------------------- Ctrl+C


def test_guard_interrupt_inside_the_optimizer_step_restores_grad_mode():
    model, x, y = model_and_data()
    model.fit(x, y, batch_size=8, verbose=0)  # builds the torch optimizer
    before = weights_of(model)

    def interrupted(*args, **kwargs):  # torch's step turns grad mode off first
        torch.set_grad_enabled(False)
        raise KeyboardInterrupt

    model.optimizer.torch_optimizer.step = interrupted
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=8, verbose=0)
    assert torch.is_grad_enabled()
    assert model.optimizer.iterations == 1  # the interrupted update never happened
    assert not any(changed(before, model))
    with pytest.raises(KeyboardInterrupt):
        model.train_on_batch(x, y)
    assert torch.is_grad_enabled()


def _ctrl_c_after(fn):
    def run(*args, **kwargs):
        result = fn(*args, **kwargs)
        signal.raise_signal(signal.SIGINT)  # lands before `fn`'s caller goes on
        return result

    return run


def test_guard_ctrl_c_during_an_update_waits_until_it_is_counted(python_sigint):
    model, x, y = model_and_data("adam")
    model.fit(x, y, batch_size=8, verbose=0)
    torch_opt = model.optimizer.torch_optimizer
    torch_opt.step = _ctrl_c_after(torch_opt.step)
    before = weights_of(model)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=4, epochs=3, verbose=0)
    assert all(changed(before, model))  # one update applied, and counted
    assert model.optimizer.iterations == 2
    assert torch_opt.state[torch_opt.param_groups[0]["params"][0]]["step"] == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):
        model.train_on_batch(x, y)
    assert model.optimizer.iterations == 3


def test_guard_ctrl_c_during_a_compiled_update_waits_until_it_is_counted(
    no_compiler, python_sigint
):
    model, x, y = model_and_data("rmsprop", jit=True)
    model.fit(x, y, batch_size=8, verbose=0)
    assert model._plan.train_fn.fused_update
    torch_opt = model.optimizer.torch_optimizer
    torch_opt.step_with_gradients = _ctrl_c_after(torch_opt.step_with_gradients)
    before = weights_of(model)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=8, epochs=3, verbose=0)
    assert all(changed(before, model))
    assert model.optimizer.iterations == 2


def test_guard_ctrl_c_between_updates_acts_at_once(python_sigint):
    model, x, y = model_and_data()

    class CtrlC(plait.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            signal.raise_signal(signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=4, epochs=3, verbose=0, callbacks=[CtrlC()])
    assert model.optimizer.iterations == 1
    assert guard.HELD.busy == 0
    assert guard.HELD.pending is None
