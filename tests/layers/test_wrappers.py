"""TimeDistributed and Bidirectional."""

import numpy as np
import pytest
import torch

import plait
from plait import layers as L
from plait.layers.rnn import RNN

ATOL = {"atol": 1e-5, "rtol": 1e-5}
GRAD_ATOL = {"atol": 1e-4, "rtol": 1e-4}
RIGHT_PADDED = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]]).bool()
HOLES = torch.tensor([[1, 0, 1, 1, 0], [0, 1, 1, 1, 1], [1, 1, 0, 0, 1]]).bool()


# ---------------------------------------------------------------- TimeDistributed
def test_time_distributed_dense_matches_per_step_dense():
    dense = L.Dense(3, activation="tanh")
    layer = L.TimeDistributed(dense)
    x = torch.randn(2, 4, 5)
    out = layer(x)
    assert out.shape == (2, 4, 3)
    for t in range(4):
        torch.testing.assert_close(out[:, t], dense(x[:, t]), **ATOL)
    assert layer.weights == dense.weights
    assert {k for k, _ in layer.named_parameters()} == {"layer.kernel", "layer.bias"}


def test_time_distributed_applies_a_guide_classifier():
    inputs = plait.Input(shape=(784,))
    x = L.Dense(64, activation="relu")(inputs)
    classifier = plait.Model(inputs, L.Dense(10, activation="softmax")(x))
    sequences = plait.Input(shape=(20, 784))
    processed = L.TimeDistributed(classifier)(sequences)
    assert processed.shape == (None, 20, 10)
    model = plait.Model(sequences, processed)
    data = np.random.rand(2, 20, 784).astype("float32")
    out = model.predict(data, verbose=0)
    np.testing.assert_allclose(
        out[:, 7], classifier.predict(data[:, 7], verbose=0), 1e-5
    )
    assert len(model.get_weights()) == 4  # the classifier's, shared


def test_time_distributed_vision_model_video_shapes():
    vision = plait.Sequential(
        [
            L.Conv2D(
                4, (3, 3), activation="relu", padding="same", input_shape=(8, 8, 3)
            ),
            L.Conv2D(4, (2, 2), strides=2),
            L.Flatten(),
        ]
    )
    video = plait.Input(shape=(100, 224, 224, 3))
    wrapped = L.TimeDistributed(vision)
    assert wrapped.compute_output_shape((None, 5, 8, 8, 3)) == (None, 5, 64)
    small = plait.Input(shape=(5, 8, 8, 3))
    encoded = L.LSTM(6)(wrapped(small))
    model = plait.Model(small, encoded)
    assert model.predict(np.random.rand(2, 5, 8, 8, 3), verbose=0).shape == (2, 6)
    with pytest.raises(ValueError, match=r"expected steps of shape \(None, 8, 8, 3\)"):
        wrapped(video)  # the vision model takes 8x8 frames


def test_time_distributed_shapes_from_meta_inference():
    layer = L.TimeDistributed(L.Flatten())
    assert layer(plait.Input(shape=(3, 4, 5))).shape == (None, 3, 20)
    assert layer(torch.randn(2, 3, 4, 5)).shape == (2, 3, 20)


def test_time_distributed_passes_training_and_mask():
    layer = L.TimeDistributed(L.Dropout(0.5))
    x = torch.ones(2, 3, 4)
    torch.testing.assert_close(layer(x), x)
    assert not torch.equal(layer(x, training=True), x)
    inputs = plait.Input(shape=(None,), dtype="int32")
    x = L.Embedding(10, 3, mask_zero=True)(inputs)
    y = L.TimeDistributed(L.Dense(4))(x)
    assert y._mask is not None  # passed through to the LSTM
    model = plait.Model(inputs, L.LSTM(2)(y))
    ids = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 6, 7]])
    out = model.predict(ids, verbose=0)
    np.testing.assert_allclose(out[:1], model.predict(ids[:1, :2], verbose=0), 1e-5)


def test_time_distributed_logits_split():
    layer = L.TimeDistributed(L.Dense(3, activation="softmax"))
    x = torch.randn(2, 4, 5)
    out = layer(x)
    torch.testing.assert_close(layer.activation(layer._pre_activation(x)), out)


def test_time_distributed_config_round_trip_and_sgd():
    layer = L.TimeDistributed(L.Dense(3), name="td")
    inputs = plait.Input(shape=(4, 5))
    model = plait.Model(inputs, layer(inputs))
    clone = L.TimeDistributed.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    before = [w.copy() for w in model.get_weights()]
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    (model(torch.randn(2, 4, 5), training=True) ** 2).sum().backward()
    opt.step()
    assert all(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))


def test_time_distributed_errors():
    with pytest.raises(TypeError, match="expected a layer or a"):
        L.TimeDistributed(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match=r"expected input with at least 3 dims"):
        L.TimeDistributed(L.Dense(2))(plait.Input(shape=(4,)))


# ---------------------------------------------------------------- Bidirectional
def test_bidirectional_names_and_weights():
    layer = L.Bidirectional(L.LSTM(3, name="enc"))
    assert layer.forward_layer.name == "forward_enc"
    assert layer.backward_layer.name == "backward_enc"
    assert layer.backward_layer.go_backwards
    layer.build((None, 5, 4))
    assert [w.shape for w in layer.get_weights()] == [(4, 12), (3, 12), (12,)] * 2


def _manual(layer, x, mask=None):
    """The two halves run separately and merged by hand."""
    kw = {"mask": mask} if mask is not None else {}
    fw = layer.forward_layer(x, **kw)
    bw = layer.backward_layer(x, **kw)
    if layer.return_sequences:
        bw = bw.flip(1)
    return fw, bw


@pytest.mark.parametrize(
    ("mode", "merge"),
    [
        ("concat", lambda a, b: torch.cat([a, b], -1)),
        ("sum", lambda a, b: a + b),
        ("mul", lambda a, b: a * b),
        ("ave", lambda a, b: (a + b) / 2),
        (None, lambda a, b: [a, b]),
    ],
)
@pytest.mark.parametrize("seq", [True, False])
def test_bidirectional_merge_modes(mode, merge, seq):
    layer = L.Bidirectional(L.GRU(3, return_sequences=seq), merge_mode=mode)
    x = torch.randn(2, 5, 4)
    out = layer(x)
    want = merge(*_manual(layer, x))
    if mode is None:
        for a, b in zip(out, want):
            torch.testing.assert_close(a, b, **ATOL)
    else:
        torch.testing.assert_close(out, want, **ATOL)
    sym = layer(plait.Input(shape=(5, 4)))
    sym = sym if isinstance(sym, list) else [sym]
    eager = out if isinstance(out, list) else [out]
    assert [(2, *s.shape[1:]) for s in sym] == [tuple(e.shape) for e in eager]


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize(
    "mask", [None, RIGHT_PADDED, HOLES], ids=["none", "pad", "holes"]
)
@pytest.mark.parametrize("seq", [True, False])
def test_bidirectional_single_kernel_call_matches_two_layers(kind, mask, seq):
    fused = L.Bidirectional(
        getattr(L, kind)(3, return_sequences=seq, return_state=True)
    )
    x = torch.randn(3, 5, 4)
    fused.build(tuple(x.shape))
    split = L.Bidirectional.from_config(fused.get_config())
    split.build(tuple(x.shape))
    split.set_weights(fused.get_weights())
    for sub in (split.forward_layer, split.backward_layer):
        sub.use_cudnn = False
    kw = {"mask": mask} if mask is not None else {}
    grads = []
    outs = []
    for layer in (fused, split):
        xi = x.clone().requires_grad_(True)
        out = layer(xi, **kw)
        sum((o**2).sum() for o in out).backward()
        outs.append(out)
        grads.append([xi.grad] + [p.grad for p in layer.weights])
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b, **ATOL)
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, **GRAD_ATOL)


def test_bidirectional_uses_one_kernel_call(monkeypatch):
    import plait.layers.rnn_kernels as rnn

    calls = []
    real = rnn.call_fused_kernel

    def count(*args, **kwargs):
        calls.append(args[-1] if len(args) > 6 else kwargs.get("bidirectional"))
        return real(*args, **kwargs)

    monkeypatch.setattr(rnn, "call_fused_kernel", count)
    L.Bidirectional(L.LSTM(3, return_sequences=True))(torch.randn(2, 5, 4))
    assert calls == [True]


def test_bidirectional_return_state_and_initial_state():
    layer = L.Bidirectional(L.LSTM(3, return_state=True))
    x = torch.randn(2, 5, 4)
    out, fh, _fc, bh, _bc = layer(x)
    torch.testing.assert_close(out, torch.cat([fh, bh], -1))
    states = [torch.randn(2, 3) for _ in range(4)]
    out2 = layer(x, initial_state=states)
    fw = layer.forward_layer(x, initial_state=states[:2])
    torch.testing.assert_close(out2[1], fw[1], **ATOL)
    sym = layer(plait.Input(shape=(5, 4)))
    assert [t.shape for t in sym] == [(None, 6)] + [(None, 3)] * 4


def test_bidirectional_mask_flows_to_next_layer():
    inputs = plait.Input(shape=(None,), dtype="int32")
    x = L.Embedding(20, 4, mask_zero=True)(inputs)
    x = L.Bidirectional(L.LSTM(3, return_sequences=True))(x)
    assert x._mask is not None
    model = plait.Model(inputs, L.Bidirectional(L.GRU(2), merge_mode="sum")(x))
    ids = np.array([[3, 4, 5, 0, 0], [1, 2, 3, 4, 5]])
    got = model.predict(ids, verbose=0)
    np.testing.assert_allclose(
        got[:1], model.predict(ids[:1, :3], verbose=0), atol=1e-5
    )


def test_bidirectional_custom_backward_layer_and_weights():
    fw = L.LSTM(3, return_sequences=True)
    bw = L.LSTM(3, activation="relu", return_sequences=True, go_backwards=True)
    layer = L.Bidirectional(fw, backward_layer=bw)
    assert layer.backward_layer is bw
    out = layer(torch.randn(2, 5, 4))
    assert out.shape == (2, 5, 6)
    weights = layer.get_weights()
    again = L.Bidirectional(L.LSTM(3, return_sequences=True), weights=weights)
    again.build((None, 5, 4))
    for a, b in zip(again.get_weights(), weights):
        np.testing.assert_array_equal(a, b)


def test_bidirectional_config_round_trip_in_model():
    inputs = plait.Input(shape=(5, 4))
    layer = L.Bidirectional(L.SimpleRNN(3, return_sequences=True), merge_mode="ave")
    model = plait.Model(inputs, L.Dense(1)(layer(inputs)))
    config = layer.get_config()
    clone = L.Bidirectional.from_config(config)
    assert clone.get_config() == config
    assert model.predict(np.random.rand(2, 5, 4), verbose=0).shape == (2, 5, 1)
    before = [w.copy() for w in model.get_weights()]
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    (model(torch.randn(2, 5, 4), training=True) ** 2).sum().backward()
    opt.step()
    assert all(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))


def test_bidirectional_dropout_runs_each_direction():
    layer = L.Bidirectional(L.LSTM(3, dropout=0.5))
    x = torch.randn(2, 5, 4)
    torch.testing.assert_close(layer(x), layer(x))
    assert not torch.allclose(layer(x, training=True), layer(x))
    assert all(isinstance(m, RNN) for m in (layer.forward_layer, layer.backward_layer))


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (
            lambda: L.Bidirectional(L.LSTM(2), merge_mode="max"),
            ValueError,
            r"expected `merge_mode` in \['concat', 'sum', 'mul', 'ave', None\]",
        ),
        (
            lambda: L.Bidirectional(L.Dense(2)),
            TypeError,
            r"expected `layer` to be a recurrent layer",
        ),
        (
            lambda: L.Bidirectional(L.LSTM(2), backward_layer=L.LSTM(2)),
            ValueError,
            "different `go_backwards`",
        ),
        (
            lambda: L.Bidirectional(
                L.LSTM(2),
                backward_layer=L.LSTM(2, go_backwards=True, return_state=True),
            ),
            ValueError,
            "the same `return_state`",
        ),
    ],
)
def test_bidirectional_rejects_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bidirectional_stateful_keeps_and_resets_states():
    layer = L.Bidirectional(L.GRU(2, stateful=True, return_sequences=True))
    x = torch.randn(2, 3, 4)
    first = layer(x)
    assert not torch.allclose(layer(x), first)
    layer.reset_states()
    torch.testing.assert_close(layer(x), first)
