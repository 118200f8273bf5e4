"""The generated forward: straight-line code, freed intermediates, sharing, masks."""

import numpy as np
import pytest
import torch

import plait
from plait.layers import Dense, Embedding, Input, Layer, add, concatenate


def _code(model, **kwargs):
    return model._program(False, **kwargs).__self__.code


def _statements(code):
    lines = [ln.strip() for ln in code.strip().splitlines()]
    return [ln for ln in lines if ln and not ln.startswith(("def ", "return"))]


def test_executor_code_is_one_line_per_layer():
    x = Input(shape=(4,))
    h = x
    for _ in range(5):
        h = Dense(3)(h)
    model = plait.Model(x, h)
    code = _code(model)
    statements = _statements(code)
    assert len(statements) == 5
    for keyword in ("for ", "while ", "if ", "[id("):
        assert keyword not in code


def test_executor_frees_intermediates_after_last_use():
    x = Input(shape=(4,))
    a = Dense(3)(x)
    b = Dense(3)(a)
    c = Dense(3)(b)
    code = _code(plait.Model(x, add([a, c])))
    statements = _statements(code)
    # x0 is freed by the first layer, `a` only by the add that reads it last.
    assert statements[0].endswith("x0 = None")
    assert "= None" not in statements[1]
    assert "= None" in statements[-1]
    assert sum("= None" in s for s in statements) >= 3


def test_executor_program_is_built_once_per_model():
    x = Input(shape=(2,))
    model = plait.Model(x, Dense(2)(x))
    model(torch.ones(1, 2))
    first = model._program(False)
    model(torch.ones(3, 2))
    assert model._program(False) is first


def test_executor_shared_layer_runs_twice_with_one_weight_set():
    a, b = Input(shape=(3,), name="a"), Input(shape=(3,), name="b")
    shared = Dense(2, name="shared")
    model = plait.Model([a, b], concatenate([shared(a), shared(b)]))
    assert len(model.weights) == 2
    assert len(_statements(_code(model))) == 3
    xa, xb = np.random.rand(2, 3), np.random.rand(2, 3)
    out = model.predict([xa, xb], verbose=0)
    k, bias = shared.get_weights()
    np.testing.assert_allclose(
        out, np.concatenate([xa @ k + bias, xb @ k + bias], 1), rtol=1e-5
    )


class _SplitHalves(Layer):
    def call(self, inputs):
        half = inputs.shape[-1] // 2
        return [inputs[..., :half], inputs[..., half:]]


class _DictOut(Layer):
    def call(self, inputs):
        return {"double": inputs * 2, "neg": -inputs}


def test_executor_multi_output_layer():
    x = Input(shape=(4,))
    left, right = _SplitHalves()(x)
    assert left.shape == right.shape == (None, 2)
    model = plait.Model(x, [right, left])
    data = np.arange(8, dtype=np.float32).reshape(2, 4)
    r, lft = model.predict(data, verbose=0)
    np.testing.assert_array_equal(lft, data[:, :2])
    np.testing.assert_array_equal(r, data[:, 2:])


def test_executor_dict_output_layer():
    x = Input(shape=(2,))
    out = _DictOut()(x)
    assert set(out) == {"double", "neg"}
    model = plait.Model(x, out["neg"] + out["double"])
    data = np.array([[1.0, 2.0]], np.float32)
    np.testing.assert_allclose(model.predict(data, verbose=0), data)


class _MaskedMean(Layer):
    """Mean over time of the unmasked steps; records what mask it saw."""

    def call(self, inputs, mask=None):
        if mask is None:
            return inputs.mean(dim=1)
        w = mask.to(inputs.dtype).unsqueeze(-1)
        return (inputs * w).sum(1) / w.sum(1).clamp(min=1)


def test_executor_mask_flows_from_embedding_to_mask_consumer():
    ids = Input(shape=(4,), dtype="int32")
    emb = Embedding(10, 3, mask_zero=True)
    e = emb(ids)
    assert e._mask is not None
    assert e._mask.shape == (None, 4)
    out = _MaskedMean()(e)
    model = plait.Model(ids, out)
    data = np.array([[1, 2, 0, 0], [3, 0, 0, 0]], np.int32)
    table = emb.get_weights()[0]
    expected = np.stack([table[[1, 2]].mean(0), table[[3]].mean(0)])
    np.testing.assert_allclose(model.predict(data, verbose=0), expected, rtol=1e-5)
    # Without mask_zero the padding steps count.
    unmasked = table[data].mean(1)
    assert not np.allclose(unmasked, expected)


def test_executor_mask_flows_through_passthrough_layers():
    ids = Input(shape=(4,), dtype="int32")
    e = Embedding(10, 3, mask_zero=True)(ids)
    h = Dense(3)(e)  # Dense supports masking: passes it through
    h = plait.layers.Dropout(0.5)(h)
    assert h._mask is e._mask
    model = plait.Model(ids, _MaskedMean()(h))
    assert model.predict(np.array([[1, 0, 0, 0]]), verbose=0).shape == (1, 3)


def test_executor_eager_mask_is_attached_to_model_outputs():
    ids = Input(shape=(3,), dtype="int32")
    e = Embedding(5, 2, mask_zero=True)(ids)
    model = plait.Model(ids, e)
    out = model(torch.tensor([[1, 0, 2]]))
    assert out._keras_mask.tolist() == [[True, False, True]]


def test_executor_logits_program_returns_pre_activation():
    x = Input(shape=(3,))
    dense = Dense(4, activation="softmax")
    y = dense(x)
    model = plait.Model(x, y)
    prog = model._program(False, frozenset({id(y)}))
    data = torch.randn(2, 3)
    (logits,) = prog(data, False)
    expected = data @ dense.kernel + dense.bias
    torch.testing.assert_close(logits, expected)
    torch.testing.assert_close(torch.softmax(logits, -1), model(data))
    # The softmax nobody reads is not computed.
    assert "softmax" not in prog.__self__.code


def test_executor_logits_program_keeps_activation_for_other_consumers():
    x = Input(shape=(3,))
    y = Dense(4, activation="sigmoid")(x)
    z = Dense(2)(y)
    model = plait.Model(x, [y, z])
    prog = model._program(False, frozenset({id(y)}))
    data = torch.randn(2, 3)
    logits, second = prog(data, False)
    torch.testing.assert_close(torch.sigmoid(logits), model(data)[0])
    torch.testing.assert_close(second, model(data)[1])


def test_executor_training_flag_reaches_layers():
    x = Input(shape=(100,))
    model = plait.Model(x, plait.layers.Dropout(0.5)(x))
    data = torch.ones(2, 100)
    torch.testing.assert_close(model(data), data)
    dropped = model(data, training=True)
    assert (dropped == 0).any()
    assert set(dropped.unique().tolist()) <= {0.0, 2.0}


def test_executor_nested_model_runs_its_own_program():
    inner_in = Input(shape=(3,))
    inner = plait.Model(inner_in, Dense(2, name="inner_dense")(inner_in), name="inner")
    x = Input(shape=(3,))
    model = plait.Model(x, Dense(1)(inner(x)))
    assert len(_statements(_code(model))) >= 2
    out = model.predict(np.ones((2, 3)), verbose=0)
    assert out.shape == (2, 1)


@pytest.mark.parametrize("n", [1, 3])
def test_executor_constant_kwargs_are_bound(n):
    class Scale(Layer):
        def call(self, inputs, factor=1.0):
            return inputs * factor

    x = Input(shape=(2,))
    y = Scale()(x, factor=float(n))
    model = plait.Model(x, y)
    np.testing.assert_allclose(model.predict(np.ones((1, 2)), verbose=0), [[n, n]])


def test_masks_enter_nested_models_symbolically_and_eagerly():
    import numpy as np

    import plait
    from plait.layers import LSTM, Embedding, Input

    tokens = Input(shape=(None,), dtype="int32")
    sequence = Input(shape=(None, 8))
    encoder = plait.Model(sequence, LSTM(4)(sequence))
    embedding = Embedding(20, 8, mask_zero=True)
    nested = plait.Model(tokens, encoder(embedding(tokens)))
    flat = plait.Model(tokens, encoder.layers[-1](embedding(tokens)))
    ids = np.array([[1, 2, 3, 0, 0], [4, 5, 0, 0, 0]])
    padded = nested.predict(ids, verbose=0)
    np.testing.assert_allclose(padded, flat.predict(ids, verbose=0), atol=1e-6)
    # The mask reached the nested LSTM: padding changes nothing.
    alone = nested.predict(np.array([[4, 5]]), verbose=0)
    np.testing.assert_allclose(alone[0], padded[1], atol=1e-6)


def test_nested_model_called_with_training_false_stays_in_inference():
    """`base(x, training=False)` keeps the base's BatchNormalization in inference
    mode while the outer model trains (the transfer-learning guide's pattern)."""
    base = plait.Sequential(
        [plait.Input((3,)), plait.layers.Dense(4), plait.layers.BatchNormalization()]
    )
    inputs = plait.Input((3,))
    outputs = plait.layers.Dense(1)(base(inputs, training=False))
    model = plait.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    moving = [w.detach().clone() for w in base.layers[1].non_trainable_weights]
    x = np.random.default_rng(0).random((8, 3), dtype=np.float32)
    model.fit(x, np.ones((8, 1)), verbose=0)
    for before, after in zip(moving, base.layers[1].non_trainable_weights):
        assert torch.equal(before, after.detach())
