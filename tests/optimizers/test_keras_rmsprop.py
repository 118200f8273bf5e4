"""Keras 3's exact RMSprop and Adam updates: `KerasRMSprop` and plait's wrappers."""

import copy

import numpy as np
import pytest
import torch

from plait.optimizers import optimizers as O
from plait.optimizers import schedules as S
from plait.optimizers.keras_rmsprop import KerasRMSprop
from tests.optimizers.test_optimizers import keras_adam, keras_rmsprop

# ---------------------------------------------------------------------------
# Against Keras's update rule in float64 NumPy, 5 steps, for gradients of three
# sizes: ~1 and ~1e-2 (where torch's and Keras's epsilon placements agree) and
# ~1e-5 (where `g**2` is below epsilon=1e-7 and torch's RMSprop step is ~30x).

RNG = np.random.default_rng(7)
W_RANDOM = RNG.standard_normal(64)
SCALES = [1e-5, 1e-2, 1.0]
GRADS_BY_SCALE = {s: [RNG.standard_normal(64) * s for _ in range(5)] for s in SCALES}

RULE_CASES = [
    ("rmsprop", lambda: O.RMSprop(0.01), {"lr": 0.01}, keras_rmsprop),
    ("rmsprop_momentum", lambda: O.RMSprop(0.01, momentum=0.9), {"lr": 0.01, "momentum": 0.9}, keras_rmsprop),
    ("rmsprop_centered", lambda: O.RMSprop(0.01, centered=True), {"lr": 0.01, "centered": True}, keras_rmsprop),
    ("rmsprop_centered_momentum", lambda: O.RMSprop(0.01, rho=0.8, momentum=0.5, centered=True), {"lr": 0.01, "rho": 0.8, "momentum": 0.5, "centered": True}, keras_rmsprop),
    ("adam", lambda: O.Adam(0.01), {"lr": 0.01}, keras_adam),
    ("adam_amsgrad", lambda: O.Adam(0.01, amsgrad=True), {"lr": 0.01, "amsgrad": True}, keras_adam),
    ("adam_betas", lambda: O.Adam(0.01, beta_1=0.5, beta_2=0.9), {"lr": 0.01, "b1": 0.5, "b2": 0.9}, keras_adam),
    ("adamw", lambda: O.AdamW(0.01), {"lr": 0.01, "wd": 0.004}, keras_adam),
]  # fmt: skip


def run(optimizer, grads, w0, dtype=torch.float64):
    """`w` after one `optimizer.step()` per gradient, as float64 NumPy."""
    w = torch.nn.Parameter(torch.tensor(w0, dtype=dtype))
    optimizer.build([w])
    for g in grads:
        w.grad = torch.tensor(g, dtype=dtype)
        optimizer.step()
    return w.detach().double().numpy()


@pytest.mark.parametrize(
    ("make", "kwargs", "rule"),
    [case[1:] for case in RULE_CASES],
    ids=[case[0] for case in RULE_CASES],
)
@pytest.mark.parametrize("scale", SCALES)
def test_update_matches_keras_rule(make, kwargs, rule, scale):
    grads = GRADS_BY_SCALE[scale]
    ours = run(make(), grads, W_RANDOM) - W_RANDOM
    keras = rule(W_RANDOM, grads, **kwargs) - W_RANDOM
    # The update itself (not the parameter) within 1e-6; measured: <= 9e-13.
    np.testing.assert_allclose(ours, keras, rtol=1e-6, atol=0)


def test_rmsprop_tiny_gradients_step_like_keras_not_torch():
    # |g| = 1e-4: v = 1e-9 after one step, below epsilon. Keras's step is
    # lr * g / sqrt(v + eps) = lr * 0.316; torch's g / (sqrt(v) + eps) is 10x.
    w0, g = np.zeros(4), [np.full(4, 1e-4)]
    ours = run(O.RMSprop(0.01), g, w0)
    np.testing.assert_allclose(ours, -0.01 * 1e-4 / np.sqrt(1e-9 + 1e-7), rtol=1e-12)
    w = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    torch_opt = torch.optim.RMSprop([w], lr=0.01, alpha=0.9, eps=1e-7)
    w.grad = torch.full((4,), 1e-4, dtype=torch.float64)
    torch_opt.step()
    assert 9.9 < w[0].item() / ours[0] < 10.1


# ---------------------------------------------------------------------------
# Against Keras 3.15.1 itself (torch backend): parameters after 4 steps of
# `keras.optimizers.*(2**-7)`; the learning rate (and AdamW's decay, 2**-8) are
# powers of two so that Keras's float32 learning-rate variable holds them
# exactly. Per element the gradients are ~1, ~1e-3, ~5e-6 and ~1e-4, and the
# last step is small so that AMSGrad's maximum matters.

K_W0 = [0.5, -1.0, 2.0, 0.01]
K_GRADS = [
    [0.3, -2e-3, 7e-6, 2e-4],
    [-0.1, 4e-3, 5e-6, -1e-4],
    [0.2, 1e-3, -3e-6, 5e-5],
    [0.0, 0.0, 1e-6, 0.0],
]
K_LR = 2**-7
KERAS_FLOAT64 = {
    "rmsprop": [0.46933256985359084, -1.0052504913862885, 1.999752953727966, 0.006361476618852337],
    "rmsprop_momentum": [0.4467818409889884, -1.005032556161556, 1.9995460524777815, 0.0033291987127169625],
    "rmsprop_centered": [0.46734548626446054, -1.00470062225129, 1.9997529526376012, 0.006352008646160589],
    "rmsprop_centered_momentum": [0.4046200997766641, -0.9913229584304895, 1.9991866462248176, -0.0024449530083220346],
    "adam": [0.4804898984744291, -1.0009611639904497, 1.9833685724461338, -0.004514879646426266],
    "adam_amsgrad": [0.48049182865787354, -1.000959835508363, 1.9833685724461338, -0.004513819577096373],
    "adamw": [0.4804299159585342, -1.0008395398942527, 1.9831253655912113, -0.0045151909080189175],
    "nadam": [0.48818741002569394, -1.001233052229875, 1.9871408286138927, 0.002298550233950275],
}  # fmt: skip
KERAS_FLOAT32 = {
    "rmsprop": [0.4693325459957123, -1.0052504539489746, 1.9997529983520508, 0.006361476611346006],
    "rmsprop_momentum": [0.44678181409835815, -1.0050325393676758, 1.999545931816101, 0.0033291992731392384],
    "rmsprop_centered": [0.4673454761505127, -1.0047006607055664, 1.9997529983520508, 0.006352008320391178],
    "rmsprop_centered_momentum": [0.40462011098861694, -0.9913229942321777, 1.9991865158081055, -0.0024449529591947794],
}  # fmt: skip
KERAS_MAKERS = {
    "rmsprop": lambda: O.RMSprop(K_LR),
    "rmsprop_momentum": lambda: O.RMSprop(K_LR, momentum=0.5),
    "rmsprop_centered": lambda: O.RMSprop(K_LR, centered=True),
    "rmsprop_centered_momentum": lambda: O.RMSprop(K_LR, momentum=0.9, centered=True),
    "adam": lambda: O.Adam(K_LR),
    "adam_amsgrad": lambda: O.Adam(K_LR, amsgrad=True),
    "adamw": lambda: O.AdamW(K_LR, weight_decay=2**-8),
    "nadam": lambda: O.Nadam(K_LR),
}


@pytest.mark.parametrize("name", sorted(KERAS_FLOAT64))
def test_matches_real_keras_float64(name):
    ours = run(KERAS_MAKERS[name](), K_GRADS, K_W0) - K_W0
    keras = np.array(KERAS_FLOAT64[name]) - K_W0
    # Measured: 0 for RMSprop, 1.2e-16 for Adam/AdamW, 7e-8 for Nadam (torch
    # keeps NAdam's momentum product in float32).
    np.testing.assert_allclose(ours, keras, rtol=1e-6, atol=0)


@pytest.mark.parametrize("name", sorted(KERAS_FLOAT32))
def test_rmsprop_matches_real_keras_float32(name):
    # Bit for bit on CPU; a float32 parameter near 2 holds an update of 3e-4 to
    # only ~1e-3 relative, so the parameters are compared, not the updates.
    ours = run(KERAS_MAKERS[name](), K_GRADS, K_W0, dtype=torch.float32)
    np.testing.assert_allclose(ours, KERAS_FLOAT32[name], rtol=1e-6, atol=0)


def test_adamax_epsilon_residual_is_documented():
    # torch adds epsilon inside the infinity norm's max, Keras after it; no
    # per-step scalar makes them equal. Keras 3.15.1, same run as above:
    keras = np.array([0.48404319115962086, -0.9981253717937906, 1.9804381147606853, -0.0024656335934210814])  # fmt: skip
    ours = run(O.Adamax(K_LR), K_GRADS, K_W0)
    gap = np.abs((ours - K_W0) - (keras - K_W0)) / np.abs(keras - K_W0)
    assert gap[0] < 1e-9  # |g| ~ 1
    assert 5e-6 < gap[2] < 2e-5  # |g| ~ 5e-6: measured 1.0e-5


# ---------------------------------------------------------------------------
# The plait wrappers around it: state, clipping, schedules, learning rate.


def test_rmsprop_builds_keras_rmsprop_with_foreach():
    w = torch.nn.Parameter(torch.ones(2))
    opt = O.RMSprop(rho=0.8, momentum=0.5, epsilon=1e-6, centered=True)
    opt.build([w])
    assert isinstance(opt.torch_optimizer, KerasRMSprop)
    group = opt.torch_optimizer.param_groups[0]
    assert (group["rho"], group["momentum"], group["eps"]) == (0.8, 0.5, 1e-6)
    assert group["centered"] is True
    assert group["foreach"] is True


@pytest.mark.parametrize(
    "make",
    [
        lambda: O.RMSprop(0.01, momentum=0.5, centered=True),
        lambda: O.Adam(0.01),
        lambda: O.AdamW(0.01, amsgrad=True),
    ],
    ids=["rmsprop", "adam", "adamw"],
)
def test_state_dict_round_trip_continues_identically(make):
    grads = GRADS_BY_SCALE[1e-5]
    uninterrupted = run(make(), grads, W_RANDOM)
    w = torch.nn.Parameter(torch.tensor(W_RANDOM))
    opt = make()
    opt.build([w])
    for g in grads[:2]:
        w.grad = torch.tensor(g)
        opt.step()
    state = copy.deepcopy(opt.state_dict())
    w2 = torch.nn.Parameter(w.detach().clone())
    opt2 = make()
    opt2.load_state_dict(state)  # before build: applied by build
    opt2.build([w2])
    assert opt2.iterations == 2
    for g in grads[2:]:
        w2.grad = torch.tensor(g)
        opt2.step()
    np.testing.assert_array_equal(w2.detach().numpy(), uninterrupted)


def test_rmsprop_state_names_and_variables():
    w = torch.nn.Parameter(torch.ones(3))
    opt = O.RMSprop(momentum=0.5, centered=True)
    opt.build([w])
    w.grad = torch.ones(3)
    opt.step()
    state = opt.torch_optimizer.state[w]
    assert sorted(state) == ["grad_avg", "momentum_buffer", "square_avg"]
    assert len(opt.variables) == 3
    plain = O.RMSprop()
    plain.build([w])
    plain.step()
    assert sorted(plain.torch_optimizer.state[w]) == ["square_avg"]


@pytest.mark.parametrize(
    ("make", "kwargs", "rule"),
    [
        (lambda: O.RMSprop(0.01, clipnorm=1.0), {"lr": 0.01}, keras_rmsprop),
        (lambda: O.Adam(0.01, clipnorm=1.0), {"lr": 0.01}, keras_adam),
    ],
    ids=["rmsprop", "adam"],
)
def test_clipnorm_then_keras_update(make, kwargs, rule):
    grads = [g * 10 for g in GRADS_BY_SCALE[1.0]]  # norms ~80: all clipped to 1
    clipped = [g / np.linalg.norm(g) for g in grads]
    ours = run(make(), grads, W_RANDOM) - W_RANDOM
    keras = rule(W_RANDOM, clipped, **kwargs) - W_RANDOM
    np.testing.assert_allclose(ours, keras, rtol=1e-6, atol=0)


def test_rmsprop_learning_rate_property_and_schedule():
    opt = O.RMSprop(learning_rate=0.01)
    w = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    opt.build([w])
    opt.learning_rate = 0.5
    assert opt.torch_optimizer.param_groups[0]["lr"] == 0.5
    w.grad = torch.ones(2, dtype=torch.float64)
    opt.step()  # v = 0.1: step 0.5 / sqrt(0.1 + 1e-7)
    np.testing.assert_allclose(w.detach().numpy(), -0.5 / np.sqrt(0.1 + 1e-7))

    schedule = S.PiecewiseConstantDecay([0], [0.5, 0.25])
    scheduled, manual = O.RMSprop(schedule), O.RMSprop(0.5)
    a = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    b = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    scheduled.build([a])
    manual.build([b])
    for lr in (0.5, 0.25, 0.25):
        manual.learning_rate = lr
        for p, o in ((a, scheduled), (b, manual)):
            p.grad = torch.ones(2, dtype=torch.float64)
            o.step()
    assert scheduled.torch_optimizer.param_groups[0]["lr"] == 0.25
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_adam_sets_keras_epsilon_per_step():
    w = torch.nn.Parameter(torch.zeros(2))
    opt = O.Adam(epsilon=1e-7, beta_2=0.99)
    opt.build([w])
    for t in (1, 2, 3):
        w.grad = torch.ones(2)
        opt.step()
        eps = opt.torch_optimizer.param_groups[0]["eps"]
        assert eps == pytest.approx(1e-7 / np.sqrt(1 - 0.99**t), rel=1e-15)
    assert opt.get_config()["epsilon"] == 1e-7


# ---------------------------------------------------------------------------
# KerasRMSprop as a torch optimizer of its own.


def test_keras_rmsprop_docstring_example():
    w = torch.nn.Parameter(torch.tensor([10.0]))
    opt = KerasRMSprop([w], lr=0.1)
    w.grad = w.detach().clone()
    assert opt.step() is None
    assert w.item() == pytest.approx(9.683772, abs=1e-6)  # Keras's own example


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"momentum": 0.9}, {"centered": True}, {"momentum": 0.5, "centered": True}],
    ids=["plain", "momentum", "centered", "both"],
)
def test_keras_rmsprop_foreach_and_single_tensor_agree(kwargs):
    def steps(foreach):
        torch.manual_seed(0)
        params = [
            torch.nn.Parameter(torch.randn(5, 3)),
            torch.nn.Parameter(torch.randn(4, dtype=torch.float64)),
            torch.nn.Parameter(torch.randn(2)),  # never gets a gradient
        ]
        opt = KerasRMSprop(params, lr=0.01, foreach=foreach, **kwargs)
        for _ in range(3):
            for p in params[:2]:
                p.grad = torch.randn_like(p) * 1e-4
            opt.step()
        assert params[2] not in opt.state
        return [p.detach() for p in params]

    for a, b in zip(steps(None), steps(False), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=0)


def test_keras_rmsprop_closure_and_param_groups():
    a = torch.nn.Parameter(torch.ones(2))
    b = torch.nn.Parameter(torch.ones(2))
    opt = KerasRMSprop([{"params": [a]}, {"params": [b], "lr": 0.1}], lr=0.01)

    def closure():
        opt.zero_grad()
        loss = (a.sum() + b.sum()) * 1.0
        loss.backward()
        return loss

    assert opt.step(closure).item() == 4.0
    step = 1.0 / np.sqrt(0.1 + 1e-7)
    np.testing.assert_allclose(a.detach().numpy(), 1 - 0.01 * step, rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), 1 - 0.1 * step, rtol=1e-6)


def test_keras_rmsprop_never_syncs_with_the_host():
    # Meta tensors have no data: any .item() or host copy of them would raise.
    w = torch.nn.Parameter(torch.zeros(3, device="meta"))
    opt = KerasRMSprop([w], momentum=0.5, centered=True)
    for _ in range(2):
        w.grad = torch.zeros(3, device="meta")
        opt.step()
    assert opt.state[w]["square_avg"].device.type == "meta"


def test_keras_rmsprop_errors():
    w = torch.nn.Parameter(torch.ones(2))
    with pytest.raises(
        TypeError, match=r"KerasRMSprop: expected `lr` to be a Python float"
    ):
        KerasRMSprop([w], lr=torch.tensor(0.1))
    with pytest.raises(
        ValueError, match=r"KerasRMSprop: expected `rho` in \[0.0, 1.0\], got rho=1.5"
    ):
        KerasRMSprop([w], rho=1.5)
    with pytest.raises(TypeError, match=r"KerasRMSprop: expected `eps` to be a float"):
        KerasRMSprop([w], eps="small")
    ints = torch.ones(2, dtype=torch.int64)
    with pytest.raises(
        TypeError,
        match=r"expected floating-point parameters, got one of dtype torch.int64",
    ):
        KerasRMSprop([ints])
    opt = KerasRMSprop([w])
    w.grad = torch.ones(2).to_sparse()
    with pytest.raises(
        RuntimeError, match=r"KerasRMSprop does not support sparse gradients"
    ):
        opt.step()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("centered", [False, True])
def test_keras_rmsprop_cuda_matches_cpu(centered):
    grads = GRADS_BY_SCALE[1e-5]
    cpu = run(O.RMSprop(0.01, momentum=0.5, centered=centered), grads, W_RANDOM)
    w = torch.nn.Parameter(torch.tensor(W_RANDOM, device="cuda"))
    other = torch.nn.Parameter(torch.tensor(W_RANDOM))  # a second device
    opt = O.RMSprop(0.01, momentum=0.5, centered=centered)
    opt.build([w, other])
    for g in grads:
        w.grad, other.grad = torch.tensor(g, device="cuda"), torch.tensor(g)
        opt.step()
    np.testing.assert_allclose(w.detach().cpu().numpy(), cpu, rtol=1e-12)
    np.testing.assert_allclose(other.detach().numpy(), cpu, rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"momentum": 0.9}, {"centered": True}, {"momentum": 0.5, "centered": True}],
    ids=["plain", "momentum", "centered", "both"],
)
def test_keras_rmsprop_large_cpu_tensors_update_in_slices_bit_for_bit(
    kwargs, monkeypatch
):
    from plait.optimizers import keras_rmsprop as optimizers_keras

    def steps(chunk, foreach):
        monkeypatch.setattr(optimizers_keras, "_CHUNK", chunk)
        torch.manual_seed(0)
        params = [
            torch.nn.Parameter(torch.randn(70, 3)),  # 210 elements: 3 slices
            torch.nn.Parameter(torch.randn(5)),  # small: multi-tensor kernels
            torch.nn.Parameter(torch.randn(3, 70).t()),  # not contiguous: whole
        ]
        opt = KerasRMSprop(params, lr=0.01, foreach=foreach, **kwargs)
        for _ in range(3):
            for p in params:
                p.grad = torch.randn_like(p) * 1e-3
            opt.step()
        return [p.detach() for p in params]

    whole = steps(1 << 30, None)
    for sliced in (steps(64, None), steps(64, False)):
        for a, b in zip(sliced, whole, strict=True):
            assert torch.equal(a, b)
