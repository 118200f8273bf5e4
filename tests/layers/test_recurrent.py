"""Recurrent layers: parity with torch.nn, fused vs loop paths, masks, states, graphs."""

import numpy as np
import pytest
import torch
from torch import nn

import plait
from plait import layers as L
from plait.layers.rnn import RNN

ATOL = {"atol": 1e-5, "rtol": 1e-5}
GRAD_ATOL = {"atol": 1e-4, "rtol": 1e-4}
RIGHT_PADDED = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]]).bool()
HOLES = torch.tensor([[1, 0, 1, 1, 0], [0, 1, 1, 1, 1], [1, 1, 0, 0, 1]]).bool()


def _keras_grads(layer):
    out = []
    for p in layer.weights:
        lay = layer._owner_layout(p)
        out.append(lay[0](p.grad) if lay else p.grad)
    return out


def _gru_keras(w):
    r, z, n = w.chunk(3, 0)  # torch order -> Keras z, r, h
    return torch.cat([z, r, n], 0)


def _torch_reference(kind, units, features, **kw):
    """A torch.nn module and its weights in Keras layout."""
    if kind == "LSTM":
        m = nn.LSTM(features, units, batch_first=True)
    elif kind == "GRU":
        m = nn.GRU(features, units, batch_first=True)
    else:
        m = nn.RNN(features, units, batch_first=True, **kw)
    with torch.no_grad():
        for p in m.parameters():
            p.uniform_(-0.5, 0.5)
    w_ih, w_hh, b_ih, b_hh = m.weight_ih_l0, m.weight_hh_l0, m.bias_ih_l0, m.bias_hh_l0
    if kind == "GRU":
        weights = [
            _gru_keras(w_ih).T,
            _gru_keras(w_hh).T,
            torch.stack([_gru_keras(b_ih), _gru_keras(b_hh)]),
        ]
    else:
        weights = [w_ih.T, w_hh.T, b_ih + b_hh]
    return m, [w.detach().numpy() for w in weights]


def _torch_grads(kind, m):
    w_ih, w_hh = m.weight_ih_l0.grad, m.weight_hh_l0.grad
    if kind == "GRU":
        b = torch.stack([_gru_keras(m.bias_ih_l0.grad), _gru_keras(m.bias_hh_l0.grad)])
        return [_gru_keras(w_ih).T, _gru_keras(w_hh).T, b]
    return [w_ih.T, w_hh.T, m.bias_ih_l0.grad]


TORCH_CASES = [
    ("LSTM", {}, {}),
    ("GRU", {}, {}),
    ("SimpleRNN", {}, {}),
    ("SimpleRNN", {"activation": "relu"}, {"nonlinearity": "relu"}),
]


@pytest.mark.parametrize("use_cudnn", ["auto", False], ids=["fused", "loop"])
@pytest.mark.parametrize(
    ("kind", "kwargs", "torch_kw"), TORCH_CASES, ids=["lstm", "gru", "rnn", "rnn_relu"]
)
def test_recurrent_matches_torch_nn(kind, kwargs, torch_kw, use_cudnn):
    m, weights = _torch_reference(kind, 4, 3, **torch_kw)
    layer = getattr(L, kind)(4, return_sequences=True, return_state=True, **kwargs)
    layer.use_cudnn = use_cudnn
    layer.build((None, 5, 3))
    layer.set_weights(weights)
    x = torch.randn(2, 5, 3, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_(True)
    h0 = torch.randn(2, 4)
    if kind == "LSTM":
        c0 = torch.randn(2, 4)
        out, h, c = layer(x, initial_state=[h0, c0])
        ref, (h_ref, c_ref) = m(x_ref, (h0[None], c0[None]))
        torch.testing.assert_close(c, c_ref[0], **ATOL)
        extra = (c**2).sum(), (c_ref**2).sum()
    else:
        out, h = layer(x, initial_state=[h0])
        ref, h_ref = m(x_ref, h0[None])
        extra = 0, 0
    torch.testing.assert_close(out, ref, **ATOL)
    torch.testing.assert_close(h, h_ref[0], **ATOL)
    ((out**2).sum() + (h**2).sum() + extra[0]).backward()
    ((ref**2).sum() + (h_ref**2).sum() + extra[1]).backward()
    torch.testing.assert_close(x.grad, x_ref.grad, **GRAD_ATOL)
    for got, want in zip(_keras_grads(layer), _torch_grads(kind, m)):
        torch.testing.assert_close(got, want, **GRAD_ATOL)


def _pair(kind, **kwargs):
    """The same layer twice, same weights: default (fused) and loop path."""
    fused = getattr(L, kind)(4, **kwargs)
    fused.build((None, 5, 3))
    loop = type(fused).from_config(fused.get_config())
    loop.use_cudnn = False
    loop.build((None, 5, 3))
    loop.set_weights(fused.get_weights())
    return fused, loop


def _run(layer, x, **kw):
    out = layer(x, **kw)
    outs = out if isinstance(out, list) else [out]
    sum((o**2).sum() for o in outs).backward()
    return outs, [g.clone() for g in _keras_grads(layer)]


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize(
    "config",
    [
        {},
        {"return_sequences": True},
        {"go_backwards": True, "return_sequences": True},
        {"return_state": True, "mask": RIGHT_PADDED},
        {"return_sequences": True, "mask": RIGHT_PADDED},
        {"return_sequences": True, "go_backwards": True, "mask": RIGHT_PADDED},
        {"zero_output_for_mask": True, "return_sequences": True, "mask": RIGHT_PADDED},
        {"zero_output_for_mask": True, "mask": RIGHT_PADDED},
        {"return_sequences": True, "mask": HOLES},
    ],
    ids=[
        "last",
        "seq",
        "backwards",
        "state_padded",
        "seq_padded",
        "backwards_padded",
        "zero_seq_padded",
        "zero_last_padded",
        "holes",
    ],
)
def test_recurrent_fused_and_loop_paths_agree(kind, config):
    config = dict(config)
    mask = config.pop("mask", None)
    fused, loop = _pair(kind, **config)
    x = torch.randn(3, 5, 3)
    kw = {"mask": mask} if mask is not None else {}
    xa, xb = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    outs_a, grads_a = _run(fused, xa, **kw)
    outs_b, grads_b = _run(loop, xb, **kw)
    for a, b in zip(outs_a, outs_b):
        torch.testing.assert_close(a, b, **ATOL)
    torch.testing.assert_close(xa.grad, xb.grad, **GRAD_ATOL)
    for a, b in zip(grads_a, grads_b):
        torch.testing.assert_close(a, b, **GRAD_ATOL)


def _forbid_loop(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("the step loop ran")

    monkeypatch.setattr(RNN, "_loop", fail)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
def test_recurrent_default_config_runs_fused_kernel(kind, monkeypatch):
    layer = getattr(L, kind)(4, return_sequences=True, go_backwards=True)
    layer(torch.randn(3, 5, 3))
    _forbid_loop(monkeypatch)
    layer(torch.randn(3, 5, 3))
    layer(torch.randn(3, 5, 3), mask=RIGHT_PADDED)
    with pytest.raises(AssertionError, match="the step loop ran"):
        layer(torch.randn(3, 5, 3), mask=HOLES)


def test_recurrent_loop_configs(monkeypatch):
    x = torch.randn(2, 5, 3)
    for layer in (
        L.GRU(4, reset_after=False),
        L.LSTM(4, activation="relu"),
        L.LSTM(4, unroll=True),
        L.SimpleRNN(4, activation="sigmoid"),
    ):
        layer(x)
        _forbid_loop(monkeypatch)
        with pytest.raises(AssertionError, match="the step loop ran"):
            layer(x)
        monkeypatch.undo()


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("mask_source", ["mask", "embedding"])
def test_recurrent_right_padded_batch_matches_unpadded_runs(
    kind, go_backwards, mask_source
):
    lengths = [3, 5, 1]
    ids = torch.randint(1, 9, (3, 5))
    for i, n in enumerate(lengths):
        ids[i, n:] = 0
    emb = L.Embedding(9, 3, mask_zero=True)
    layer = getattr(L, kind)(4, go_backwards=go_backwards, return_state=True)
    x = emb(ids)
    if mask_source == "mask":
        out, *states = layer(x.detach(), mask=ids != 0)
    else:
        out, *states = layer(x)  # the mask travels on the tensor
    for i, n in enumerate(lengths):
        one, *one_states = layer(x[i : i + 1, :n])
        torch.testing.assert_close(out[i : i + 1], one, **ATOL)
        for s, t in zip(states, one_states):
            torch.testing.assert_close(s[i : i + 1], t, **ATOL)


def test_recurrent_masked_sequence_repeats_last_output():
    layer = L.LSTM(4, return_sequences=True)
    seq = layer(torch.randn(3, 5, 3), mask=RIGHT_PADDED)
    torch.testing.assert_close(seq[0, 3], seq[0, 2])
    torch.testing.assert_close(seq[2, 4], seq[2, 0])


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
def test_recurrent_go_backwards_is_reversed_input(kind):
    fwd = getattr(L, kind)(4, return_sequences=True)
    x = torch.randn(2, 5, 3)
    fwd(x)
    bwd = type(fwd).from_config({**fwd.get_config(), "go_backwards": True})
    bwd(x)
    bwd.set_weights(fwd.get_weights())
    torch.testing.assert_close(bwd(x), fwd(x.flip(1)), **ATOL)


@pytest.mark.parametrize(
    ("kind", "n_states"), [("LSTM", 2), ("GRU", 1), ("SimpleRNN", 1)]
)
def test_recurrent_return_state(kind, n_states):
    layer = getattr(L, kind)(4, return_state=True)
    out = layer(torch.randn(2, 5, 3))
    assert isinstance(out, list)
    assert len(out) == 1 + n_states
    torch.testing.assert_close(out[0], out[1])  # the output is h
    sym = getattr(L, kind)(4, return_sequences=True, return_state=True)(
        plait.Input(shape=(5, 3))
    )
    assert [t.shape for t in sym] == [(None, 5, 4)] + [(None, 4)] * n_states


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
def test_recurrent_stateful_continues_across_batches(kind):
    x = torch.randn(2, 6, 3)
    stateful = getattr(L, kind)(4, stateful=True, return_sequences=True)
    first = stateful(x[:, :3])
    second = stateful(x[:, 3:])
    whole = type(stateful).from_config({**stateful.get_config(), "stateful": False})
    whole(x)
    whole.set_weights(stateful.get_weights())
    torch.testing.assert_close(torch.cat([first, second], 1), whole(x), **ATOL)
    stateful.reset_states()
    assert all(bool((s == 0).all()) for s in stateful.states)
    torch.testing.assert_close(stateful(x[:, :3]), first, **ATOL)
    with pytest.raises(ValueError, match="expects batches of 2 samples"):
        stateful(torch.randn(3, 3, 3))


def test_recurrent_stateful_trains_and_predicts():
    inputs = plait.Input(batch_shape=(2, 4, 3))
    model = plait.Model(inputs, L.LSTM(4, stateful=True)(inputs))
    x = np.random.rand(2, 4, 3).astype("float32")
    a = model.predict(x, verbose=0)
    b = model.predict(x, verbose=0)
    assert not np.allclose(a, b)  # the second batch started from the first's states
    layer = model.layers[-1]
    layer.reset_states()
    np.testing.assert_allclose(model.predict(x, verbose=0), a, atol=1e-6)
    out = model(torch.tensor(x), training=True)  # grad mode after inference mode
    out.sum().backward()
    assert layer.cell.kernel.grad is not None


def test_recurrent_stateful_needs_batch_size():
    with pytest.raises(ValueError, match="stateful=True needs a fixed batch size"):
        L.LSTM(4, stateful=True)(plait.Input(shape=(5, 3)))
    with pytest.raises(AttributeError, match="keeps no states"):
        L.LSTM(4).reset_states()


@pytest.mark.parametrize(
    "layer",
    [
        L.LSTM(3),
        L.GRU(3, return_sequences=True),
        L.SimpleRNN(3, return_state=True),
        L.GRU(2, reset_after=False, return_sequences=True, return_state=True),
        L.RNN(L.LSTMCell(2), return_state=True),
        L.ConvLSTM2D(2, 3, return_sequences=True),
        L.ConvLSTM2D(2, (2, 3), strides=2, padding="same", return_state=True),
        L.ConvLSTM1D(2, 3, data_format="channels_first"),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_recurrent_symbolic_shape_equals_eager(layer):
    shape = {"ConvLSTM2D": (4, 7, 6, 2), "ConvLSTM1D": (4, 2, 7)}.get(
        type(layer).__name__, (5, 4)
    )
    sym = layer(plait.Input(shape=shape))
    eager = layer(torch.randn(2, *shape))
    sym, eager = (v if isinstance(v, list) else [v] for v in (sym, eager))
    assert [(2, *s.shape[1:]) for s in sym] == [tuple(e.shape) for e in eager]


@pytest.mark.parametrize(
    "layer",
    [
        L.LSTM(3, dropout=0.1, unit_forget_bias=False, go_backwards=True),
        L.GRU(3, reset_after=False, recurrent_activation="hard_sigmoid"),
        L.SimpleRNN(3, activation="relu", use_bias=False, return_state=True),
        L.LSTM(3, use_cudnn=False, zero_output_for_mask=True),
        L.RNN(L.GRUCell(3), return_sequences=True),
        L.LSTMCell(3, recurrent_dropout=0.2),
        L.ConvLSTM2D(2, 3, padding="same", dilation_rate=2),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_recurrent_config_round_trips(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (L.LSTM(3, return_sequences=True), (5, 4)),
        (L.GRU(3, reset_after=False), (5, 4)),
        (L.SimpleRNN(3), (5, 4)),
        (L.ConvLSTM2D(2, 3, padding="same"), (3, 5, 5, 2)),
        (L.RNN(L.LSTMCell(3)), (5, 4)),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, L.Layer) else "",
)
def test_recurrent_sgd_step_changes_every_weight(layer, shape):
    inputs = plait.Input(shape=shape)
    model = plait.Model(inputs, layer(inputs))
    before = [w.copy() for w in model.get_weights()]
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    out = model(torch.randn(2, *shape), training=True)
    (out**2).sum().backward()
    opt.step()
    for a, b in zip(before, model.get_weights()):
        assert not np.allclose(a, b)


def test_lstm_weights_in_keras_layout():
    layer = L.LSTM(4)
    layer.build((None, 5, 3))
    kernel, recurrent, bias = layer.get_weights()
    assert (kernel.shape, recurrent.shape, bias.shape) == ((3, 16), (4, 16), (16,))
    np.testing.assert_array_equal(bias[4:8], 1.0)  # unit_forget_bias
    np.testing.assert_array_equal(bias[:4], 0.0)
    assert tuple(layer.cell.kernel.shape) == (16, 3)  # torch's weight_ih layout
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(4), atol=1e-5)
    weights = [np.random.rand(*w.shape).astype("float32") for w in layer.get_weights()]
    layer.set_weights(weights)
    for a, b in zip(layer.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"weight 'kernel' expects shape \(3, 16\)"):
        layer.set_weights([np.zeros((16, 3)), *weights[1:]])


def test_gru_weights_in_keras_layout():
    layer = L.GRU(2, reset_after=False)
    layer.build((None, 5, 3))
    assert [w.shape for w in layer.get_weights()] == [(3, 6), (2, 6), (6,)]
    weights = [np.random.rand(*w.shape).astype("float32") for w in layer.get_weights()]
    layer.set_weights(weights)
    for a, b in zip(layer.get_weights(), weights):
        np.testing.assert_array_equal(a, b)


def test_recurrent_cell_step_matches_layer():
    layer = L.LSTM(4, return_state=True)
    x = torch.randn(2, 1, 3)
    out, _h, c = layer(x)
    step, (_h1, c1) = layer.cell(x[:, 0], [torch.zeros(2, 4), torch.zeros(2, 4)])
    torch.testing.assert_close(step, out, **ATOL)
    torch.testing.assert_close(c1, c, **ATOL)


class MinimalRNNCell(L.Layer):
    """Keras's example of a custom cell."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units))
        self.recurrent_kernel = self.add_weight("recurrent", (self.units, self.units))
        self.built = True

    def call(self, inputs, states):
        output = inputs @ self.kernel + states[0] @ self.recurrent_kernel
        return output, [output]


def test_rnn_runs_a_custom_cell():
    layer = L.RNN(MinimalRNNCell(4), return_sequences=True)
    x = torch.randn(2, 5, 3)
    out = layer(x, mask=HOLES[:2])
    h = torch.zeros(2, 4)
    k, u = layer.cell.kernel, layer.cell.recurrent_kernel
    for t in range(5):
        new = x[:, t] @ k + h @ u
        h = torch.where(HOLES[:2, t, None], new, h)
        torch.testing.assert_close(out[:, t], h, **ATOL)
    assert L.RNN(MinimalRNNCell(4))(plait.Input(shape=(5, 3))).shape == (None, 4)


def test_recurrent_dropout_only_in_training():
    layer = L.LSTM(4, dropout=0.5, recurrent_dropout=0.5)
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(layer(x), layer(x))
    assert not torch.allclose(layer(x, training=True), layer(x))


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
def test_recurrent_input_dropout_same_on_both_paths(kind):
    fused, loop = _pair(kind, dropout=0.5, return_sequences=True)
    x = torch.randn(2, 5, 3)
    torch.manual_seed(1)
    a = fused(x, training=True)
    torch.manual_seed(1)
    b = loop(x, training=True)
    torch.testing.assert_close(a, b, **ATOL)


def test_recurrent_initial_state_as_symbolic_kwarg():
    x = plait.Input(shape=(5, 3))
    h, c = plait.Input(shape=(4,)), plait.Input(shape=(4,))
    out = L.LSTM(4)(x, initial_state=[h, c])
    model = plait.Model([x, h, c], out)
    xs = [np.random.rand(2, *s).astype("float32") for s in ((5, 3), (4,), (4,))]
    got = model.predict(xs, verbose=0)
    layer = model.layers[-1]
    want = layer(torch.tensor(xs[0]), initial_state=[torch.tensor(v) for v in xs[1:]])
    np.testing.assert_allclose(got, want.detach().numpy(), atol=1e-6)
    assert not np.allclose(got, layer(torch.tensor(xs[0])).detach().numpy())


def test_recurrent_masked_model_predicts_like_unpadded_runs():
    inputs = plait.Input(shape=(None,), dtype="int32")
    x = L.Embedding(20, 3, mask_zero=True)(inputs)
    x = L.LSTM(4, return_sequences=True)(x)  # passes the mask on
    model = plait.Model(inputs, L.GRU(3)(x))
    ids = np.array([[3, 4, 5, 0, 0, 0], [7, 1, 2, 3, 4, 5]])
    got = model.predict(ids, verbose=0)
    np.testing.assert_allclose(
        got[:1], model.predict(ids[:1, :3], verbose=0), atol=1e-5
    )
    assert model.outputs[0]._mask is None


def test_guide_headline_model_builds_and_predicts():
    main_input = plait.Input(shape=(100,), dtype="int32", name="main_input")
    x = L.Embedding(output_dim=512, input_dim=10000, input_length=100)(main_input)
    lstm_out = L.LSTM(32)(x)
    auxiliary_output = L.Dense(1, activation="sigmoid", name="aux_output")(lstm_out)
    auxiliary_input = plait.Input(shape=(5,), name="aux_input")
    x = L.concatenate([lstm_out, auxiliary_input])
    for _ in range(3):
        x = L.Dense(64, activation="relu")(x)
    main_output = L.Dense(1, activation="sigmoid", name="main_output")(x)
    model = plait.Model(
        inputs=[main_input, auxiliary_input], outputs=[main_output, auxiliary_output]
    )
    headline = np.random.randint(1, 10000, size=(3, 100))
    main, aux = model.predict([headline, np.random.rand(3, 5)], verbose=0)
    assert main.shape == aux.shape == (3, 1)


def test_guide_shared_lstm_tweet_model():
    tweet_a, tweet_b = plait.Input(shape=(140, 256)), plait.Input(shape=(140, 256))
    shared_lstm = L.LSTM(64)
    merged = L.concatenate([shared_lstm(tweet_a), shared_lstm(tweet_b)], axis=-1)
    predictions = L.Dense(1, activation="sigmoid")(merged)
    model = plait.Model(inputs=[tweet_a, tweet_b], outputs=predictions)
    assert len(model.get_weights()) == 5  # one LSTM's three weights + Dense's two
    assert shared_lstm.get_output_at(1).shape == (None, 64)
    data = np.random.randint(0, 2, size=(2, 140, 256)).astype("float32")
    assert model.predict([data, data], verbose=0).shape == (2, 1)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: L.LSTM(0), ValueError, "expected `units` to be a positive int"),
        (lambda: L.GRU(2, dropout=1.5), ValueError, r"expected `dropout` in \[0, 1\)"),
        (lambda: L.LSTM(2, use_cudnn="yes"), ValueError, "expected `use_cudnn` in"),
        (lambda: L.RNN(L.Dense(2)), TypeError, "a `call` method and a `state_size`"),
        (lambda: L.LSTM(2, foo=1), TypeError, "unexpected keyword argument"),
        (
            lambda: L.ConvLSTM2D(2, 3, padding="causal"),
            ValueError,
            r"expected padding in \('valid', 'same'\)",
        ),
        (
            lambda: L.ConvLSTM2D(2, 3, strides=2, dilation_rate=2),
            ValueError,
            "expected `strides` or `dilation_rate` to be 1",
        ),
        (lambda: L.ConvLSTM2D(2, (3, 3, 3)), ValueError, "expected `kernel_size`"),
    ],
)
def test_recurrent_rejects_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_recurrent_call_errors():
    layer = L.LSTM(4)
    x = torch.randn(2, 5, 3)
    with pytest.raises(ValueError, match="expected `initial_state` to be a list of 2"):
        layer(x, initial_state=[torch.zeros(2, 4)])
    with pytest.raises(ValueError, match=r"expected a mask of shape \(batch, times"):
        layer(x, mask=torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"expected input with 3 dims"):
        layer(plait.Input(shape=(5,)))
    with pytest.raises(ValueError, match="expected input last axis 3"):
        layer(plait.Input(shape=(5, 2)))
    with pytest.raises(ValueError, match="use_cudnn=True, but this configuration"):
        L.LSTM(2, activation="relu", use_cudnn=True)(x)


def test_rnn_stacked_cells_match_stacked_layers():
    stacked = L.RNN([L.LSTMCell(4), L.GRUCell(3)], return_sequences=True)
    assert isinstance(stacked.cell, L.StackedRNNCells)
    x = torch.randn(2, 5, 3)
    out = stacked(x, mask=HOLES[:2])
    first, second = L.LSTM(4, return_sequences=True), L.GRU(3, return_sequences=True)
    first(x)
    second(first(x))
    first.set_weights(stacked.get_weights()[:3])
    second.set_weights(stacked.get_weights()[3:])
    torch.testing.assert_close(
        out, second(first(x, mask=HOLES[:2]), mask=HOLES[:2]), **ATOL
    )
    sym = L.RNN([L.LSTMCell(4), L.GRUCell(3)], return_state=True)(
        plait.Input(shape=(5, 3))
    )
    assert [t.shape for t in sym] == [(None, 3), (None, 4), (None, 4), (None, 3)]
    clone = L.RNN.from_config(stacked.get_config())
    assert clone.get_config() == stacked.get_config()
    with pytest.raises(TypeError, match="expected a non-empty list of cells"):
        L.StackedRNNCells([])


def test_conv_lstm2d_channels_first_equals_channels_last():
    last = L.ConvLSTM2D(2, 3, padding="same", return_sequences=True)
    first = L.ConvLSTM2D(
        2, 3, padding="same", data_format="channels_first", return_sequences=True
    )
    x = torch.randn(2, 3, 5, 6, 4)  # (batch, time, rows, cols, channels)
    out = last(x)
    first(x.permute(0, 1, 4, 2, 3))
    first.set_weights(last.get_weights())
    torch.testing.assert_close(
        first(x.permute(0, 1, 4, 2, 3)), out.permute(0, 1, 4, 2, 3), **ATOL
    )
    assert [w.shape for w in last.get_weights()] == [(3, 3, 4, 8), (3, 3, 2, 8), (8,)]


def test_conv_lstm2d_mask_backwards_and_dropout():
    layer = L.ConvLSTM2D(2, 3, go_backwards=True, dropout=0.3, recurrent_dropout=0.3)
    x = torch.randn(3, 5, 6, 6, 2)
    out = layer(x, mask=RIGHT_PADDED)
    one = layer(x[:1, :3])
    torch.testing.assert_close(out[:1], one, **ATOL)
    assert not torch.allclose(layer(x, training=True), layer(x))
    assert out.shape == (3, 4, 4, 2)


def test_time_distributed_guide_video_shape():
    vision = plait.Sequential(
        [L.Conv2D(2, (8, 8), strides=8, input_shape=(224, 224, 3)), L.Flatten()]
    )
    video = plait.Input(shape=(100, 224, 224, 3))
    encoded = L.TimeDistributed(vision)(video)
    assert encoded.shape == (None, 100, 28 * 28 * 2)
    assert L.LSTM(256)(encoded).shape == (None, 256)


def test_recurrent_keras2_input_length_and_input_dim():
    model = plait.Sequential([L.LSTM(4, input_length=10, input_dim=3)])
    assert model.layers[0].get_input_shape_at(0) == (None, 10, 3)
    assert model.output_shape == (None, 4)
