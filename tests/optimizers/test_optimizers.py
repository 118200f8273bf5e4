"""Tests for plait.optimizers.optimizers: Keras update rules, clipping, schedules."""

import copy
import inspect
import json

import numpy as np
import pytest
import torch

from plait.optimizers import optimizers as O
from plait.optimizers import schedules as S

# ---------------------------------------------------------------------------
# Keras 3's update rules (keras/src/optimizers/*.py `update_step`), written out
# in float64 NumPy. Checked against Keras 3.15.1 itself: within 4e-7 (float32).


def keras_sgd(w, grads, lr=0.01, momentum=0.0, nesterov=False, wd=None):
    w, m = w.copy(), np.zeros_like(w)
    for g in grads:
        if wd:
            w = w - w * wd * lr
        if momentum:
            m = momentum * m - lr * g
            w = w + (momentum * m - lr * g if nesterov else m)
        else:
            w = w - lr * g
    return w


def keras_rmsprop(w, grads, lr=0.001, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    w, v, mg, mom = w.copy(), np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        v = rho * v + (1 - rho) * g * g
        if centered:
            mg = rho * mg + (1 - rho) * g
            denominator = v - mg * mg + eps
        else:
            denominator = v + eps
        increment = lr * g / np.sqrt(denominator)
        if momentum:
            mom = momentum * mom + increment
            w = w - mom
        else:
            w = w - increment
    return w


def keras_adam(w, grads, lr=0.001, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, wd=None):
    w, m, v, v_hat = w.copy(), np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        if wd:
            w = w - w * wd * lr
        alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        v_hat = np.maximum(v_hat, v)
        w = w - m * alpha / (np.sqrt(v_hat if amsgrad else v) + eps)
    return w


def keras_adagrad(w, grads, lr=0.001, initial=0.1, eps=1e-7):
    w, acc = w.copy(), np.full_like(w, initial)
    for g in grads:
        acc = acc + g * g
        w = w - lr * g / np.sqrt(acc + eps)
    return w


def keras_adadelta(w, grads, lr=0.001, rho=0.95, eps=1e-7):
    w, acc_g, acc_d = w.copy(), np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        acc_g = rho * acc_g + (1 - rho) * g * g
        delta = -np.sqrt(acc_d + eps) * g / np.sqrt(acc_g + eps)
        acc_d = rho * acc_d + (1 - rho) * delta * delta
        w = w + lr * delta
    return w


def keras_adamax(w, grads, lr=0.001, b1=0.9, b2=0.999, eps=1e-7):
    w, m, u = w.copy(), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        m = m + (g - m) * (1 - b1)
        u = np.maximum(b2 * u, np.abs(g))
        w = w - lr * m / ((1 - b1**t) * (u + eps))
    return w


def keras_nadam(w, grads, lr=0.001, b1=0.9, b2=0.999, eps=1e-7):
    w, m, v, u_product = w.copy(), np.zeros_like(w), np.zeros_like(w), 1.0
    for t, g in enumerate(grads, start=1):
        u_t = b1 * (1 - 0.5 * 0.96**t)
        u_next = b1 * (1 - 0.5 * 0.96 ** (t + 1))
        u_product = u_product * u_t
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
        w = w - m_hat * lr / (np.sqrt(v / (1 - b2**t)) + eps)
    return w


# Typical gradients, and ones of the size of epsilon's square root, where
# epsilon placement shows.
W0 = np.array([0.5, -1.0, 2.0, 0.01])
GRADS = [
    np.array([0.3, -0.2, 0.7, 2.0]),
    np.array([-0.1, 0.4, 0.5, -1.0]),
    np.array([0.2, 0.1, -0.3, 0.5]),
]
TINY = [g * 1e-4 for g in GRADS]


def plait_steps(optimizer, grads, w0=W0):
    w = torch.nn.Parameter(torch.tensor(w0, dtype=torch.float64))
    optimizer.build([w])
    for g in grads:
        w.grad = torch.tensor(g, dtype=torch.float64)
        optimizer.step()
    return w.detach().numpy()


EXACT_CASES = [
    ("sgd", lambda: O.SGD(0.1), lambda g: keras_sgd(W0, g, 0.1)),
    ("sgd_momentum", lambda: O.SGD(0.1, momentum=0.9), lambda g: keras_sgd(W0, g, 0.1, 0.9)),
    ("sgd_nesterov", lambda: O.SGD(0.1, 0.9, nesterov=True), lambda g: keras_sgd(W0, g, 0.1, 0.9, True)),
    ("sgd_nesterov_no_momentum", lambda: O.SGD(0.1, nesterov=True), lambda g: keras_sgd(W0, g, 0.1)),
    ("sgd_weight_decay", lambda: O.SGD(0.1, weight_decay=0.1), lambda g: keras_sgd(W0, g, 0.1, wd=0.1)),
    ("adam_weight_decay", lambda: O.Adam(0.01, weight_decay=0.1, epsilon=0.0), lambda g: keras_adam(W0, g, 0.01, eps=0.0, wd=0.1)),
    ("adamw", lambda: O.AdamW(0.01, weight_decay=0.1, epsilon=0.0), lambda g: keras_adam(W0, g, 0.01, eps=0.0, wd=0.1)),
    ("adam_amsgrad_eps0", lambda: O.Adam(0.01, amsgrad=True, epsilon=0.0), lambda g: keras_adam(W0, g, 0.01, eps=0.0, amsgrad=True)),
    ("rmsprop_eps0", lambda: O.RMSprop(0.01, epsilon=0.0), lambda g: keras_rmsprop(W0, g, 0.01, eps=0.0)),
    ("rmsprop_momentum_centered_eps0", lambda: O.RMSprop(0.01, momentum=0.5, epsilon=0.0, centered=True), lambda g: keras_rmsprop(W0, g, 0.01, momentum=0.5, eps=0.0, centered=True)),
    ("adam", lambda: O.Adam(0.01), lambda g: keras_adam(W0, g, 0.01)),
    ("adam_amsgrad", lambda: O.Adam(0.01, amsgrad=True), lambda g: keras_adam(W0, g, 0.01, amsgrad=True)),
    ("adamw_default_eps", lambda: O.AdamW(0.01), lambda g: keras_adam(W0, g, 0.01, wd=0.004)),
    ("rmsprop", lambda: O.RMSprop(0.01), lambda g: keras_rmsprop(W0, g, 0.01)),
    ("rmsprop_momentum", lambda: O.RMSprop(0.01, momentum=0.5), lambda g: keras_rmsprop(W0, g, 0.01, momentum=0.5)),
    ("rmsprop_centered", lambda: O.RMSprop(0.01, centered=True), lambda g: keras_rmsprop(W0, g, 0.01, centered=True)),
    ("adagrad_eps0", lambda: O.Adagrad(0.1, epsilon=0.0), lambda g: keras_adagrad(W0, g, 0.1, eps=0.0)),
    ("adadelta", lambda: O.Adadelta(1.0), lambda g: keras_adadelta(W0, g, 1.0)),
    ("adamax_eps0", lambda: O.Adamax(0.01, epsilon=0.0), lambda g: keras_adamax(W0, g, 0.01, eps=0.0)),
    ("nadam", lambda: O.Nadam(0.01), lambda g: keras_nadam(W0, g, 0.01)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("make", "keras_rule"),
    [case[1:] for case in EXACT_CASES],
    ids=[case[0] for case in EXACT_CASES],
)
@pytest.mark.parametrize("grads", [GRADS, TINY], ids=["typical", "tiny"])
def test_optimizer_matches_keras_rule(make, keras_rule, grads):
    # Same math as Keras: RMSprop by plait's own kernel, Adam/AdamW by setting
    # torch's epsilon to Keras's each step (or epsilon set to 0, where only its
    # placement differs).
    ours, keras = plait_steps(make(), grads), keras_rule(grads)
    # torch keeps NAdam's momentum product in float32: 1e-10 of drift.
    np.testing.assert_allclose(ours, keras, rtol=1e-9, atol=1e-9)


# Where torch puts epsilon elsewhere than Keras: the largest relative gap of the
# parameter change after 3 steps with Keras's default epsilon 1e-7, for typical
# gradients (|g| 0.1 to 2) and tiny ones (|g| 1e-5 to 2e-4). Measured on torch
# 2.13: Adagrad 2e-7 / 2e-7, Adamax 2e-10 / 2.3e-6. (Adam, AdamW and RMSprop
# now follow Keras exactly: see EXACT_CASES and test_keras_rmsprop.py.)
EPSILON_CASES = [
    ("adagrad", lambda: O.Adagrad(0.1), lambda g: keras_adagrad(W0, g, 0.1), 1e-6, 1e-6),
    ("adamax", lambda: O.Adamax(0.01), lambda g: keras_adamax(W0, g, 0.01), 1e-8, 1e-5),
]  # fmt: skip


@pytest.mark.parametrize(
    ("make", "keras_rule", "typical_gap", "tiny_gap"),
    [case[1:] for case in EPSILON_CASES],
    ids=[case[0] for case in EPSILON_CASES],
)
def test_optimizer_epsilon_placement_gap(make, keras_rule, typical_gap, tiny_gap):
    for grads, bound in ((GRADS, typical_gap), (TINY, tiny_gap)):
        ours = plait_steps(make(), grads) - W0
        keras = keras_rule(grads) - W0
        gap = np.max(np.abs(ours - keras) / np.abs(keras))
        assert gap < bound, (grads is TINY, gap)


def test_rmsprop_epsilon_inside_the_square_root():
    # Keras divides by sqrt(v + eps): with |g| = 1e-4 (v = 1e-9 after one step,
    # below eps) torch.optim.RMSprop's first step was 10x Keras's; plait's is
    # Keras's, as it is for |g| = 0.1.
    for size in (1e-4, 1e-1):
        g = [np.full(4, size)]
        ours = plait_steps(O.RMSprop(0.01), g) - W0
        keras = keras_rmsprop(W0, g, 0.01) - W0
        assert abs(ours[0] / keras[0] - 1.0) < 1e-4


def test_optimizer_uses_fused_or_foreach_kernels_on_cpu():
    w = [torch.nn.Parameter(torch.ones(2))]
    adam = O.Adam()
    adam.build(w)
    assert adam.torch_optimizer.param_groups[0]["fused"] is True
    rmsprop = O.RMSprop()
    rmsprop.build(w)
    assert rmsprop.torch_optimizer.param_groups[0]["foreach"] is True
    assert isinstance(rmsprop.torch_optimizer, O.KerasRMSprop)
    assert rmsprop.torch_optimizer.param_groups[0]["eps"] == 1e-7
    nadam = O.Nadam()
    nadam.build(w)
    assert nadam.torch_optimizer.param_groups[0]["momentum_decay"] == 1.0


def test_build_skips_frozen_and_duplicate_parameters():
    a = torch.nn.Parameter(torch.ones(2))
    frozen = torch.nn.Parameter(torch.ones(2), requires_grad=False)
    opt = O.SGD(0.5)
    opt.build([a, frozen, a])
    assert opt.torch_optimizer.param_groups[0]["params"] == [a]
    a.grad = torch.ones(2)
    opt.step()
    torch.testing.assert_close(a.data, torch.full((2,), 0.5))
    torch.testing.assert_close(frozen.data, torch.ones(2))


def test_step_skips_parameters_without_gradients_and_counts_steps():
    a, b = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    opt = O.SGD(0.5, weight_decay=0.5)
    opt.build([a, b])
    a.grad = torch.ones(2)
    opt.step()
    torch.testing.assert_close(b.data, torch.ones(2))  # no grad: no decay either
    torch.testing.assert_close(a.data, torch.full((2,), 0.25))
    assert opt.iterations == 1
    opt.zero_grad()
    assert a.grad is None
    empty = O.Adam()
    empty.build([])
    empty.step()
    empty.zero_grad()
    assert empty.iterations == 1
    assert empty.torch_optimizer is None
    assert empty.variables == []


def _clip_run(optimizer, grads):
    params = [
        torch.nn.Parameter(torch.zeros(len(g), dtype=torch.float64)) for g in grads
    ]
    optimizer.build(params)
    for p, g in zip(params, grads, strict=True):
        p.grad = torch.tensor(g, dtype=torch.float64)
    optimizer.step()
    return [p.grad.numpy() for p in params]


def test_clipvalue_clips_each_element():
    got = _clip_run(O.SGD(1.0, clipvalue=0.5), [[0.3, -2.0], [0.7]])
    np.testing.assert_allclose(got[0], [0.3, -0.5])
    np.testing.assert_allclose(got[1], [0.5])


def test_clipnorm_clips_each_tensor():
    got = _clip_run(O.SGD(1.0, clipnorm=1.0), [[3.0, 4.0], [0.6, 0.0]])
    np.testing.assert_allclose(got[0], [0.6, 0.8])  # norm 5 -> 1
    np.testing.assert_allclose(got[1], [0.6, 0.0])  # norm 0.6 kept


def test_global_clipnorm_scales_all_tensors_together():
    got = _clip_run(O.SGD(1.0, global_clipnorm=2.5), [[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(got[0], [1.5, 2.0])
    got = _clip_run(O.SGD(1.0, global_clipnorm=10.0), [[3.0, 4.0]])
    np.testing.assert_allclose(got[0], [3.0, 4.0])
    got = _clip_run(O.SGD(1.0, global_clipnorm=1.0), [[np.inf, 1.0]])
    assert np.isnan(got[0]).all()  # Keras compat: a non-finite norm gives NaN


def test_clipping_then_update():
    w = plait_steps(O.SGD(0.1, clipvalue=0.25), [np.array([1.0, -1.0, 0.1, 0.0])])
    np.testing.assert_allclose(w, W0 - 0.1 * np.array([0.25, -0.25, 0.1, 0.0]))


SCHEDULE_CASES = [
    ("exp", S.ExponentialDecay(0.1, 10, 0.5), [0.1, 0.08122524, 0.07071068, 0.06155722, 0.04352752, 0.01767767]),
    ("exp_stair", S.ExponentialDecay(0.1, 10, 0.5, staircase=True), [0.1, 0.1, 0.1, 0.1, 0.05, 0.025]),
    ("inv", S.InverseTimeDecay(0.1, 4, 0.5), [0.1, 0.07272727, 0.06153846, 0.05333333, 0.04, 0.02424243]),
    ("inv_stair", S.InverseTimeDecay(0.1, 4, 0.5, staircase=True), [0.1, 0.1, 0.06666667, 0.06666667, 0.04, 0.025]),
    ("piecewise", S.PiecewiseConstantDecay([3, 7], [1.0, 0.5, 0.1]), [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]),
    ("poly", S.PolynomialDecay(0.1, 10, 0.01, power=2.0), [0.1, 0.0541, 0.0325, 0.0181, 0.01, 0.01]),
    ("poly_cycle", S.PolynomialDecay(0.1, 10, 0.01, power=0.5, cycle=True), [0.1, 0.0852994, 0.07363961, 0.05929504, 0.066921, 0.04674235]),
    ("cosine", S.CosineDecay(0.1, 10, alpha=0.1), [0.1, 0.08145034, 0.055, 0.02854967, 0.01, 0.01]),
    ("cosine_warmup", S.CosineDecay(0.0, 10, warmup_target=0.2, warmup_steps=4), [0.0, 0.15000001, 0.19510566, 0.15877853, 0.0190983, 0.0]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [case[1:] for case in SCHEDULE_CASES],
    ids=[case[0] for case in SCHEDULE_CASES],
)
def test_schedule_matches_keras(schedule, expected):
    got = [schedule(step) for step in (0, 3, 5, 7, 12, 25)]
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    assert schedule(torch.tensor(5)) == pytest.approx(expected[2])
    restored = S.deserialize(json.loads(json.dumps(S.serialize(schedule))))
    assert restored.get_config() == schedule.get_config()


def test_optimizer_applies_schedule_per_step():
    schedule = S.PiecewiseConstantDecay([1], [0.5, 0.25])
    opt = O.SGD(learning_rate=schedule)
    w = torch.nn.Parameter(torch.zeros(1))
    opt.build([w])
    deltas = []
    for _ in range(3):
        assert opt.learning_rate == schedule(opt.iterations)
        before = w.item()
        w.grad = torch.ones(1)
        opt.step()
        deltas.append(before - w.item())
    assert deltas == [0.5, 0.5, 0.25]  # steps 0 and 1 <= boundary 1
    with pytest.raises(
        TypeError,
        match=r"SGD: the learning rate is a PiecewiseConstantDecay schedule, so it cannot be set to a number",
    ):
        opt.learning_rate = 0.1


def test_optimizer_accepts_a_callable_learning_rate():
    rates = iter([0.5, 0.25])
    opt = O.SGD(learning_rate=lambda: next(rates))
    w = torch.nn.Parameter(torch.zeros(1))
    opt.build([w])  # reads the first value
    w.grad = torch.ones(1)
    opt.step()
    assert w.item() == -0.25


def test_learning_rate_is_settable_like_reduce_lr_on_plateau():
    opt = O.Adam(learning_rate=0.01)
    assert opt.learning_rate == 0.01
    opt.learning_rate = 0.5  # before build
    w = torch.nn.Parameter(torch.zeros(2))
    opt.build([w])
    assert opt.torch_optimizer.param_groups[0]["lr"] == 0.5
    opt.learning_rate = 0.001
    assert opt.torch_optimizer.param_groups[0]["lr"] == 0.001
    assert opt.learning_rate == 0.001
    assert opt.get_config()["learning_rate"] == 0.001


def test_state_dict_round_trip_continues_identically():
    def fresh():
        w = torch.nn.Parameter(torch.tensor(W0))
        opt = O.Adam(0.01)
        opt.build([w])
        return w, opt

    w, opt = fresh()
    for g in GRADS[:2]:
        w.grad = torch.tensor(g)
        opt.step()
    state = copy.deepcopy(opt.state_dict())  # torch shares tensors otherwise
    assert state["iterations"] == 2
    w2 = torch.nn.Parameter(w.detach().clone())
    opt2 = O.Adam(0.01)
    opt2.load_state_dict(state)  # before build: applied by build
    opt2.build([w2])
    assert opt2.iterations == 2
    for param, optimizer in ((w, opt), (w2, opt2)):
        param.grad = torch.tensor(GRADS[2])
        optimizer.step()
    torch.testing.assert_close(w, w2)
    assert len(opt.variables) >= 2


@pytest.mark.parametrize(
    "make", [lambda: O.SGD(0.05, momentum=0.9), lambda: O.Adam(0.01)]
)
def test_loaded_state_keeps_this_builds_kernel_choice(make, monkeypatch):
    # A state saved by a fused optimizer, loaded where the parameters cannot
    # take fused kernels (FSDP's sharded ones): the new build's choice stands.
    w = torch.nn.Parameter(torch.tensor(W0))
    opt = make()
    opt.build([w])
    assert opt.torch_optimizer.param_groups[0]["fused"] is True
    w.grad = torch.tensor(GRADS[0])
    opt.step()
    state = copy.deepcopy(opt.state_dict())
    other = make()
    monkeypatch.setattr(type(other), "_impl_kwargs", lambda self: {"foreach": True})
    w2 = torch.nn.Parameter(w.detach().clone())
    other.build([w2])
    other.load_state_dict(state)
    group = other.torch_optimizer.param_groups[0]
    assert not group["fused"]
    assert group["foreach"] is True
    for param, optimizer in ((w, opt), (w2, other)):
        param.grad = torch.tensor(GRADS[1])
        optimizer.step()
    torch.testing.assert_close(w, w2)


def test_load_state_dict_brings_back_a_changed_learning_rate():
    # ReduceLROnPlateau sets the rate; a resumed run must save the same config.
    w = torch.nn.Parameter(torch.tensor(W0))
    opt = O.SGD(0.1)
    opt.build([w])
    opt.learning_rate = 0.025
    opt2 = O.SGD(0.1)
    opt2.build([torch.nn.Parameter(torch.tensor(W0))])
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    assert opt2.learning_rate == 0.025
    assert opt2.get_config() == opt.get_config()


ALL_OPTIMIZERS = [
    O.SGD(0.1, momentum=0.5, nesterov=True, clipnorm=1.0, name="s"),
    O.RMSprop(rho=0.8, momentum=0.1, epsilon=1e-6, centered=True, global_clipnorm=2.0),
    O.Adam(learning_rate=S.ExponentialDecay(0.1, 10, 0.9), amsgrad=True, clipvalue=1.0),
    O.AdamW(weight_decay=0.01, beta_1=0.8),
    O.Adagrad(initial_accumulator_value=0.2, weight_decay=0.1),
    O.Adadelta(rho=0.9),
    O.Adamax(beta_2=0.99),
    O.Nadam(learning_rate=S.CosineDecay(0.1, 100, warmup_target=0.2, warmup_steps=5)),
]


@pytest.mark.parametrize("optimizer", ALL_OPTIMIZERS, ids=lambda o: type(o).__name__)
def test_optimizer_config_round_trip(optimizer):
    config = optimizer.get_config()
    clone = type(optimizer).from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    restored = O.get(json.loads(json.dumps(O.serialize(optimizer))))
    assert type(restored) is type(optimizer)
    assert restored.get_config() == config


@pytest.mark.parametrize(
    ("name", "cls", "learning_rate"),
    [
        ("sgd", O.SGD, 0.01),
        ("rmsprop", O.RMSprop, 0.001),
        ("RMSprop", O.RMSprop, 0.001),
        ("adam", O.Adam, 0.001),
        ("Adam", O.Adam, 0.001),
        ("adamw", O.AdamW, 0.001),
        ("adagrad", O.Adagrad, 0.001),
        ("adadelta", O.Adadelta, 0.001),
        ("adamax", O.Adamax, 0.001),
        ("nadam", O.Nadam, 0.001),
    ],
)
def test_get_resolves_names_with_keras_defaults(name, cls, learning_rate):
    opt = O.get(name)
    assert type(opt) is cls
    assert opt.learning_rate == learning_rate
    assert opt.name == cls.__name__.lower()


def test_rmsprop_defaults_match_keras():
    config = O.RMSprop().get_config()
    assert (config["learning_rate"], config["rho"], config["epsilon"]) == (
        0.001,
        0.9,
        1e-7,
    )
    assert not config["centered"]
    assert config["momentum"] == 0.0


def test_get_wraps_torch_optimizers():
    w = torch.nn.Parameter(torch.ones(2))
    torch_opt = torch.optim.SGD([w], lr=0.5)
    opt = O.get(torch_opt)
    assert isinstance(opt, O.TorchOptimizer)
    assert opt.torch_optimizer is torch_opt
    assert opt.name == "sgd"
    opt.build([w])  # a no-op
    w.grad = torch.ones(2)
    opt.step()
    torch.testing.assert_close(w.data, torch.full((2,), 0.5))
    assert opt.iterations == 1
    opt.learning_rate = 0.1
    assert torch_opt.param_groups[0]["lr"] == 0.1
    opt.zero_grad()
    assert w.grad is None
    assert O.get(opt) is opt
    with pytest.raises(
        NotImplementedError,
        match=r"TorchOptimizer 'sgd': a wrapped torch.optim optimizer has no Keras config",
    ):
        opt.get_config()


@pytest.mark.skipif(hasattr(torch.optim, "Lion"), reason="this torch has Lion")
def test_lion_without_torch_lion_raises_a_clear_error():
    with pytest.raises(
        NotImplementedError, match=r"Lion: torch .* has no torch.optim.Lion"
    ):
        O.Lion()
    with pytest.raises(NotImplementedError, match=r"has no torch.optim.Lion"):
        O.get("lion")


@pytest.mark.skipif(not hasattr(torch.optim, "Lion"), reason="this torch has no Lion")
def test_lion_builds_when_torch_has_it():
    opt = O.get("lion")
    assert plait_steps(opt, GRADS).shape == W0.shape


_COMMON = {"learning_rate", "weight_decay", "clipnorm", "clipvalue", "global_clipnorm"}


@pytest.mark.parametrize("name", sorted(O._TABLE))
def test_optimizer_table_lists_each_class_own_arguments(name):
    """The table's arguments are the signature's, in order, minus the common ones."""
    cls = getattr(O, name)
    params = list(inspect.signature(cls).parameters)
    own = [p for p in params if p not in {*_COMMON, "name", "kwargs"}]
    assert cls._spec is O._TABLE[name]
    assert list(O._TABLE[name].args) == own
    assert params[0] == "learning_rate"
    assert params[-2:] == ["name", "kwargs"]


def test_optimizer_subclass_missing_table_argument():
    class Broken(O.SGD):
        def __init__(self):
            super(O.SGD, self).__init__(0.1, momentum=0.0)

    with pytest.raises(
        TypeError, match=r"^Broken: missing argument\(s\) \['nesterov'\]\.$"
    ):
        Broken()


def test_optimizer_error_messages():
    with pytest.raises(
        ValueError,
        match=r"Unknown optimizer 'adamm'; expected one of \['adadelta', 'adagrad', 'adam', ",
    ):
        O.get("adamm")
    with pytest.raises(
        ValueError,
        match=r"Unknown optimizer class 'Nope'; expected one of \['adadelta'",
    ):
        O.get({"class_name": "Nope", "config": {}})
    with pytest.raises(TypeError, match=r"Expected an optimizer name.*got int 3"):
        O.get(3)
    with pytest.raises(
        ValueError,
        match=r"SGD: expected at most one of `clipnorm`, `clipvalue` and `global_clipnorm`, got clipnorm=1.0, clipvalue=1.0",
    ):
        O.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(
        ValueError,
        match=r"Adam: expected `clipnorm` in \[0.0, inf\], got clipnorm=-1.0",
    ):
        O.Adam(clipnorm=-1.0)
    with pytest.raises(
        TypeError,
        match=r"Adam: expected `learning_rate` to be a float, a LearningRateSchedule or a callable, got learning_rate='fast'",
    ):
        O.Adam(learning_rate="fast")
    with pytest.raises(
        ValueError, match=r"SGD: expected `momentum` in \[0.0, 1.0\], got momentum=1.5"
    ):
        O.SGD(momentum=1.5)
    with pytest.raises(
        ValueError, match=r"Adam: expected `beta_1` in \[0.0, 1.0\], got beta_1=-0.1"
    ):
        O.Adam(beta_1=-0.1)
    with pytest.raises(
        TypeError, match=r"RMSprop: expected `rho` to be a float, got rho='x'"
    ):
        O.RMSprop(rho="x")
    with pytest.raises(
        ValueError, match=r"Adam: argument\(s\) not recognized: \['use_ema'\]"
    ):
        O.Adam(use_ema=True)
    with pytest.raises(ValueError, match=r"Adam: call build\(params\) before step\(\)"):
        O.Adam().step()
    with pytest.raises(
        ValueError,
        match=r"Adam.load_state_dict: expected keys \['iterations', 'optimizer'\], got \['state'\]",
    ):
        O.Adam().load_state_dict({"state": {}})
    with pytest.raises(
        ValueError,
        match=r"PiecewiseConstantDecay: expected one more value than boundaries, got 2 boundaries and 2 values",
    ):
        S.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    with pytest.raises(
        ValueError,
        match=r"ExponentialDecay: expected `decay_steps` > 0, got decay_steps=0",
    ):
        S.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(
        ValueError, match=r"Unknown learning-rate schedule class 'Step'"
    ):
        S.deserialize({"class_name": "Step", "config": {}})
    with pytest.raises(
        NotImplementedError, match=r"subclasses of LearningRateSchedule must implement"
    ):
        S.LearningRateSchedule()(0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: O.SGD(0.1, momentum=0.9, weight_decay=0.1, global_clipnorm=1.0),
        lambda: O.Adam(clipnorm=1.0, weight_decay=0.1),
        lambda: O.RMSprop(clipvalue=0.5),
        lambda: O.Nadam(learning_rate=S.CosineDecay(0.1, 10)),
        lambda: O.AdamW(),
    ],
    ids=["sgd", "adam", "rmsprop", "nadam", "adamw"],
)
def test_optimizer_step_never_syncs_with_the_host(make):
    # Meta tensors have no data: any .item() or host copy of them would raise.
    w = torch.nn.Parameter(torch.zeros(3, device="meta"))
    opt = make()
    opt.build([w])
    for _ in range(2):
        w.grad = torch.zeros(3, device="meta")
        opt.step()
    assert opt.iterations == 2


def test_build_again_keeps_state_for_the_same_parameters():
    w = torch.nn.Parameter(torch.ones(2))
    opt = O.Adam()
    opt.build([w])
    w.grad = torch.ones(2)
    opt.step()
    first = opt.torch_optimizer
    opt.build([w])
    assert opt.torch_optimizer is first
    other = torch.nn.Parameter(torch.ones(3))
    opt.build([w, other])
    assert opt.torch_optimizer is not first
    assert opt.torch_optimizer.param_groups[0]["params"] == [w, other]


def test_step_skips_torch_wrapper_but_runs_registered_hooks():
    w = torch.nn.Parameter(torch.ones(2))
    opt = O.SGD(learning_rate=0.5)
    opt.build([w])
    calls = []
    opt.torch_optimizer.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    opt.torch_optimizer.register_step_post_hook(lambda o, a, k: calls.append("post"))
    w.grad = torch.ones(2)
    opt.step()
    assert calls == ["pre", "post"]
    torch.testing.assert_close(w.detach(), torch.full((2,), 0.5))


def test_step_without_hooks_updates_like_torch():
    a = torch.nn.Parameter(torch.ones(3))
    b = torch.nn.Parameter(torch.ones(3))
    ours = O.RMSprop(0.1)
    ours.build([a])
    theirs = O.RMSprop(0.1)
    theirs.build([b])
    for _ in range(3):
        a.grad, b.grad = torch.full((3,), 0.3), torch.full((3,), 0.3)
        ours.step()
        theirs.torch_optimizer.step()  # through torch's wrapper
    assert torch.equal(a, b)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_clears_every_gradient(set_to_none):
    w = torch.nn.Parameter(torch.ones(2))
    opt = O.Adam()
    opt.build([w])
    w.grad = torch.ones(2)
    opt.zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert w.grad is None
    else:
        assert torch.equal(w.grad, torch.zeros(2))


@pytest.mark.parametrize(
    "kwargs", [{}, {"clipnorm": 0.1}, {"weight_decay": 0.5}, {"clipvalue": 0.05}]
)
def test_apply_gradients_updates_like_step(kwargs):
    a = [torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2))]
    b = [torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2))]
    ours, theirs = O.RMSprop(0.1, **kwargs), O.RMSprop(0.1, **kwargs)
    ours.build(a)
    theirs.build(b)
    assert ours._takes_gradients()
    for step in range(3):
        grads = [torch.full((3,), 0.3 + step), None if step == 1 else torch.ones(2)]
        ours._apply_gradients([None if g is None else g.clone() for g in grads])
        for p, g in zip(b, grads):
            p.grad = g
        theirs.step()
    for p, q in zip(a, b):
        assert torch.equal(p, q)
    assert ours.iterations == 0  # the caller counts steps


def test_takes_gradients_only_with_constant_hyperparameters():
    w = torch.nn.Parameter(torch.ones(2))
    for opt, expected in [
        (O.RMSprop(), True),
        (O.RMSprop(O.ExponentialDecay(0.1, 10, 0.5)), False),
        (O.Adam(), False),  # epsilon set per step
        (O.SGD(), False),  # torch's rule reads .grad
    ]:
        opt.build([w])
        assert opt._takes_gradients() is expected


def test_step_keeps_a_torch_lr_scheduler_informed():
    w = torch.nn.Parameter(torch.ones(2))
    opt = O.RMSprop(0.1)
    opt.build([w])
    scheduler = torch.optim.lr_scheduler.StepLR(opt.torch_optimizer, 1, gamma=0.5)
    w.grad = torch.ones(2)
    opt.step()
    scheduler.step()  # warns (an error here) if it did not see the optimizer step
    assert opt.torch_optimizer.param_groups[0]["lr"] == pytest.approx(0.05)
