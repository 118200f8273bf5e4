"""LossScaleOptimizer: scaling, skipped steps, growth, compile's auto-wrapping."""

import numpy as np
import pytest
import torch

import plait
from plait import layers as L
from plait import mixed_precision
from plait.optimizers.optimizers import SGD


def _opt(**kwargs):
    w = torch.nn.Parameter(torch.ones(2))
    opt = mixed_precision.LossScaleOptimizer(SGD(0.1), **kwargs)
    opt.build([w])
    return w, opt


def test_loss_scale_skips_step_on_inf_and_halves_scale():
    w, opt = _opt()
    assert opt.loss_scale == 2.0**15
    opt.scale_loss((w * 1.0).sum()).backward()
    w.grad[0] = float("inf")
    opt.step()
    assert w.detach().tolist() == [1.0, 1.0]
    assert opt.loss_scale == 2.0**14
    assert opt.iterations == 0


def test_loss_scale_unscales_and_grows_after_good_steps():
    w, opt = _opt(initial_scale=8.0, dynamic_growth_steps=2)
    for _ in range(2):
        opt.zero_grad()
        opt.scale_loss((w * 1.0).sum()).backward()
        opt.step()
    torch.testing.assert_close(w.detach(), torch.tensor([0.8, 0.8]))
    assert opt.loss_scale == 16.0
    assert opt.iterations == 2


def test_loss_scale_rejects_bad_arguments():
    with pytest.raises(ValueError, match="expected `initial_scale` to be a positive"):
        mixed_precision.LossScaleOptimizer(SGD(), initial_scale=0)
    with pytest.raises(ValueError, match="expected `dynamic_growth_steps`"):
        mixed_precision.LossScaleOptimizer(SGD(), dynamic_growth_steps=0)
    with pytest.raises(TypeError, match="would scale the loss twice"):
        mixed_precision.LossScaleOptimizer(mixed_precision.LossScaleOptimizer(SGD()))


def _model():
    inputs = L.Input(shape=(3,))
    return plait.Model(inputs, L.Dense(1)(inputs))


def test_compile_wraps_optimizer_under_mixed_float16_only():
    mixed_precision.set_global_policy("mixed_bfloat16")
    model = _model()
    model.compile(optimizer="sgd", loss="mse")
    assert type(model.optimizer).__name__ == "SGD"
    mixed_precision.set_global_policy("mixed_float16")
    model = _model()
    model.compile(optimizer="sgd", loss="mse")
    assert type(model.optimizer).__name__ == "LossScaleOptimizer"
    model.compile(optimizer="sgd", loss="mse", auto_scale_loss=False)
    assert type(model.optimizer).__name__ == "SGD"


def test_fit_skips_step_with_inf_gradients():
    mixed_precision.set_global_policy("mixed_float16")
    model = _model()
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    x, y = np.ones((4, 3), "float32"), np.ones((4, 1), "float32")
    model.fit(x, y, sample_weight=np.full(4, np.inf, "float32"), verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.loss_scale == 2.0**14
    model.fit(x, y, verbose=0)  # a finite step updates again
    assert not np.array_equal(before[0], model.get_weights()[0])
