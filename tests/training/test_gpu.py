"""CUDA paths against the CPU: run by `pytest -m gpu` (and `bench/gpu.py`).

TF32 is turned off where a test compares numerics, so that float32 on the GPU
is float32 (cuDNN uses TF32 for convolutions and RNNs by default).
"""

import numpy as np
import pytest
import torch

import plait
from plait import mixed_precision
from plait.layers import LSTM, Conv2D, Dense, GlobalAveragePooling2D, Input

pytestmark = pytest.mark.gpu


@pytest.fixture
def no_tf32():
    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    saved = cudnn.allow_tf32, matmul.allow_tf32
    cudnn.allow_tf32 = matmul.allow_tf32 = False
    yield
    cudnn.allow_tf32, matmul.allow_tf32 = saved


def _outputs_and_grads(model, x):
    model.zero_grad(set_to_none=True)
    out = model(x)
    (out.float() ** 2).sum().backward()
    grads = [p.grad.detach().cpu().numpy() for p in model.parameters()]
    return out.detach().cpu().numpy(), grads


def _cpu_and_cuda(build, x):
    torch.manual_seed(0)
    model = build()
    cpu = _outputs_and_grads(model, x)
    model.to("cuda")
    return cpu, _outputs_and_grads(model, x.to("cuda"))


def _assert_close(a, b, tol):
    np.testing.assert_allclose(a[0], b[0], rtol=tol, atol=tol)
    for ga, gb in zip(a[1], b[1]):
        np.testing.assert_allclose(ga, gb, rtol=tol, atol=tol)


@pytest.mark.parametrize("return_sequences", [False, True])
def test_cudnn_lstm_matches_the_cpu_to_1e_4(no_tf32, return_sequences):
    def build():
        i = Input(shape=(12, 5))
        return plait.Model(i, LSTM(8, return_sequences=return_sequences)(i))

    x = torch.randn(4, 12, 5)
    cpu, cuda = _cpu_and_cuda(build, x)
    _assert_close(cpu, cuda, 1e-4)


def test_channels_last_conv_on_cuda_matches_the_cpu(no_tf32):
    def build():
        i = Input(shape=(9, 9, 3))  # (batch, rows, cols, channels)
        x = Conv2D(6, 3, padding="same", activation="relu")(i)
        x = Conv2D(4, 1)(x)
        return plait.Model(i, Dense(2)(GlobalAveragePooling2D()(x)))

    x = torch.rand(5, 9, 9, 3)
    cpu, cuda = _cpu_and_cuda(build, x)
    _assert_close(cpu, cuda, 1e-4)


def test_mixed_float16_fit_on_cuda_scales_the_loss_and_skips_bad_steps():
    mixed_precision.set_global_policy("mixed_float16")
    i = Input(shape=(4,))
    model = plait.Model(i, Dense(3)(Dense(16, activation="relu")(i)))
    model.compile("adam", "mse")
    assert type(model.optimizer).__name__ == "LossScaleOptimizer"
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 4), "float32"), rng.random((64, 3), "float32")
    losses = model.fit(x, y, epochs=5, batch_size=16, verbose=0).history["loss"]
    assert {p.device.type for p in model.parameters()} == {"cuda"}
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert model(torch.rand(2, 4, device="cuda")).dtype == torch.float16
    assert all(np.isfinite(losses))
    assert losses[-1] < losses[0]
    scale = model.optimizer.loss_scale
    before = [w.copy() for w in model.get_weights()]
    model.fit(x[:16], y[:16], sample_weight=np.full(16, np.inf, "float32"), verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # the step was skipped
    assert model.optimizer.loss_scale == scale / 2


def test_predict_on_cuda_returns_host_numpy_for_every_output_structure():
    i = Input(shape=(3,))
    model = plait.Model(i, [Dense(2)(i), Dense(1)(i)])
    outs = model.predict(np.ones((5, 3), "float32"), verbose=0)
    assert {p.device.type for p in model.parameters()} == {"cuda"}
    assert [type(o) for o in outs] == [np.ndarray, np.ndarray]
    assert [o.shape for o in outs] == [(5, 2), (5, 1)]
    single = model.predict_on_batch(np.ones((2, 3), "float32"))
    assert all(isinstance(o, np.ndarray) for o in single)
