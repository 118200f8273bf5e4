"""Tests for plait.layers.attention: parity with torch ops and nn.MultiheadAttention."""

import json

import numpy as np
import pytest
import torch

import plait
from plait import layers as L
from tests.layers.cases import LayerCase
from tests.layers.test_layer_cases import check_layer


def _dot_ref(xs, w):
    q, v = xs[0], xs[1]
    k = xs[2] if len(xs) > 2 else v
    scores = q @ k.transpose(-2, -1)
    if w:
        scores = scores * w[0]
    return torch.softmax(scores, -1) @ v


def _concat_ref(xs, w):
    q, v = xs[0], xs[1]
    pairs = torch.tanh(w[0] * (q.unsqueeze(-2) + v.unsqueeze(-3)))
    return torch.softmax(w[1] * pairs.sum(-1), -1) @ v


def _additive_ref(xs, w):
    q, v = xs[0], xs[1]
    k = xs[2] if len(xs) > 2 else v
    pairs = torch.tanh(q.unsqueeze(-2) + k.unsqueeze(-3))
    scores = (pairs * w[0]).sum(-1) if w else pairs.sum(-1)
    return torch.softmax(scores, -1) @ v


ATTENTION_CASES = [
    LayerCase("attention_dot", L.Attention, {}, [(4, 3), (5, 3)], (None, 4, 3), 0,
              _dot_ref),
    LayerCase("attention_scale", L.Attention, {"use_scale": True}, [(4, 3), (5, 3)],
              (None, 4, 3), 1, _dot_ref, ((),)),
    LayerCase("attention_key", L.Attention, {}, [(4, 3), (5, 2), (5, 3)],
              (None, 4, 2), 0, _dot_ref),
    LayerCase("attention_concat", L.Attention, {"score_mode": "concat",
                                                "use_scale": True},
              [(4, 3), (5, 3)], (None, 4, 3), 2, _concat_ref, ((), ())),
    LayerCase("additive_attention", L.AdditiveAttention, {}, [(4, 3), (5, 3)],
              (None, 4, 3), 1, _additive_ref, ((3,),)),
    LayerCase("additive_attention_key_noscale", L.AdditiveAttention,
              {"use_scale": False}, [(4, 3), (5, 2), (5, 3)], (None, 4, 2), 0,
              _additive_ref),
]  # fmt: skip


@pytest.mark.parametrize("case", ATTENTION_CASES, ids=[c.id for c in ATTENTION_CASES])
def test_attention_layer_case(case, tmp_path):
    check_layer(case, tmp_path)


def test_attention_masks_follow_keras():
    q, v = torch.randn(2, 4, 3), torch.randn(2, 5, 3)
    q_mask = torch.tensor([[1, 1, 1, 0], [1, 0, 1, 1]], dtype=torch.bool)
    v_mask = torch.tensor([[1, 1, 0, 1, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    out, weights = L.Attention()(
        [q, v], mask=[q_mask, v_mask], return_attention_scores=True
    )
    scores = q @ v.transpose(1, 2) - 1e9 * (~v_mask).unsqueeze(1).float()
    want_w = torch.softmax(scores, -1)
    torch.testing.assert_close(weights, want_w)
    torch.testing.assert_close(out, (want_w @ v) * q_mask.unsqueeze(-1))
    # The fused path (no scores returned) gives the same output.
    torch.testing.assert_close(L.Attention()([q, v], mask=[q_mask, v_mask]), out)


def test_attention_causal_mask():
    q = torch.randn(2, 4, 3)
    out, weights = L.Attention()(
        [q, q], use_causal_mask=True, return_attention_scores=True
    )
    assert torch.equal(weights.triu(1), torch.zeros(2, 4, 4))
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 4))
    torch.testing.assert_close(L.Attention()([q, q], use_causal_mask=True), out)


def test_attention_returns_scores_symbolically():
    q, v = plait.Input(shape=(4, 3)), plait.Input(shape=(None, 3))
    out, scores = L.AdditiveAttention()([q, v], return_attention_scores=True)
    assert out.shape == (None, 4, 3)
    assert scores.shape == (None, 4, None)


def test_attention_dropout_only_in_training():
    layer = L.Attention(dropout=0.5)
    q, v = torch.randn(2, 4, 3), torch.randn(2, 6, 3)
    torch.testing.assert_close(layer([q, v]), L.Attention()([q, v]))
    assert not torch.allclose(layer([q, v], training=True), layer([q, v]))


def test_attention_takes_masks_from_embeddings_in_a_model():
    q_ids, v_ids = (
        plait.Input(shape=(4,), dtype="int32"),
        plait.Input(shape=(5,), dtype="int32"),
    )
    emb = L.Embedding(10, 3, mask_zero=True)
    attended = L.Attention()([emb(q_ids), emb(v_ids)])
    assert attended._mask is not None  # the query's mask goes on
    model = plait.Model([q_ids, v_ids], attended)
    q = np.array([[1, 2, 3, 0], [4, 5, 0, 0]])
    v = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 6, 0]])
    out = model.predict([q, v], verbose=0)
    eq, ev = emb(torch.from_numpy(q)), emb(torch.from_numpy(v))
    want = L.Attention()([eq, ev], mask=[eq._keras_mask, ev._keras_mask])
    np.testing.assert_allclose(out, want.detach().numpy(), atol=1e-6)


def test_attention_rejects_bad_inputs_and_arguments():
    with pytest.raises(ValueError, match=r"expected inputs as a list \[query, value\]"):
        L.Attention()(torch.randn(2, 3, 4))
    with pytest.raises(ValueError, match=r"got a list of 1"):
        L.Attention()([torch.randn(2, 3, 4)])
    with pytest.raises(
        ValueError, match=r"expected `score_mode` in \('dot', 'concat'\)"
    ):
        L.Attention(score_mode="additive")
    with pytest.raises(ValueError, match=r"expected `dropout` in \[0, 1\)"):
        L.AdditiveAttention(dropout=1.0)


def test_attention_config_round_trips():
    for layer in (
        L.Attention(use_scale=True, score_mode="concat"),
        L.AdditiveAttention(),
    ):
        config = layer.get_config()
        json.dumps(config)
        assert type(layer).from_config(config).get_config() == config
    assert "score_mode" not in L.AdditiveAttention().get_config()


# --------------------------------------------------------------- MultiHeadAttention
def _mha_and_torch(dim=6, heads=2, bias=True):
    layer = L.MultiHeadAttention(heads, dim // heads, use_bias=bias)
    layer(torch.zeros(1, 1, dim), torch.zeros(1, 1, dim))
    ref = torch.nn.MultiheadAttention(dim, heads, bias=bias, batch_first=True)
    w = [torch.tensor(a) for a in layer.get_weights()]
    kernels = w[0::2] if bias else w
    with torch.no_grad():
        ref.in_proj_weight.copy_(
            torch.cat([k.reshape(dim, dim).T for k in kernels[:3]])
        )
        ref.out_proj.weight.copy_(kernels[3].reshape(dim, dim).T)
        if bias:
            ref.in_proj_bias.copy_(torch.cat([b.reshape(-1) for b in w[1:6:2]]))
            ref.out_proj.bias.copy_(w[7])
    return layer, ref


def test_mha_matches_torch_multihead_attention():
    layer, ref = _mha_and_torch()
    q, v = torch.randn(2, 4, 6), torch.randn(2, 5, 6)
    keep = torch.rand(2, 4, 5) > 0.3
    keep[..., 0] = True
    out, scores = layer(q, v, attention_mask=keep, return_attention_scores=True)
    want, want_scores = ref(q, v, v, attn_mask=~keep.repeat_interleave(2, 0),
                            need_weights=True, average_attn_weights=False)  # fmt: skip
    torch.testing.assert_close(out, want, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(scores, want_scores, atol=1e-5, rtol=1e-5)
    fused = layer(q, v, attention_mask=keep)  # F.scaled_dot_product_attention
    torch.testing.assert_close(fused, want, atol=1e-5, rtol=1e-5)


def test_mha_gradients_match_torch():
    layer, ref = _mha_and_torch(bias=False)
    q = torch.randn(2, 4, 6, requires_grad=True)
    q_ref = q.detach().clone().requires_grad_(True)
    cot = torch.randn(2, 4, 6)
    (layer(q, q, use_causal_mask=True) * cot).sum().backward()
    causal = torch.ones(4, 4, dtype=torch.bool).triu(1)
    (ref(q_ref, q_ref, q_ref, attn_mask=causal)[0] * cot).sum().backward()
    torch.testing.assert_close(q.grad, q_ref.grad, atol=1e-4, rtol=1e-4)
    got = layer.query_kernel.grad.reshape(6, 6).T
    torch.testing.assert_close(got, ref.in_proj_weight.grad[:6], atol=1e-4, rtol=1e-4)
    got = layer.attention_output_kernel.grad.reshape(6, 6).T
    torch.testing.assert_close(got, ref.out_proj.weight.grad, atol=1e-4, rtol=1e-4)


def _mha_reference(layer, q, v, k):
    """Keras's einsum formulation, written out for 3D inputs."""
    w = [torch.tensor(a) for a in layer.get_weights()]
    qp = torch.einsum("btd,dnh->btnh", q, w[0]) + w[1]
    kp = torch.einsum("bsd,dnh->bsnh", k, w[2]) + w[3]
    vp = torch.einsum("bsd,dnh->bsnh", v, w[4]) + w[5]
    scores = torch.einsum("bsnh,btnh->bnts", kp, qp / layer.key_dim**0.5)
    heads = torch.einsum("bnts,bsnh->btnh", torch.softmax(scores, -1), vp)
    return torch.einsum("btnh,nho->bto", heads, w[6]) + w[7]


def test_mha_value_dim_key_and_output_shape():
    layer = L.MultiHeadAttention(3, key_dim=2, value_dim=4, output_shape=5)
    q, v, k = torch.randn(2, 4, 6), torch.randn(2, 5, 3), torch.randn(2, 5, 7)
    out = layer(q, v, k)
    assert out.shape == (2, 4, 5)
    shapes = [w.shape for w in layer.get_weights()]
    assert shapes == [(6, 3, 2), (3, 2), (7, 3, 2), (3, 2), (3, 3, 4), (3, 4),
                      (3, 4, 5), (5,)]  # fmt: skip
    torch.testing.assert_close(
        out, _mha_reference(layer, q, v, k), atol=1e-5, rtol=1e-5
    )


def test_mha_symbolic_shapes_and_scores():
    q, v = plait.Input(shape=(4, 6)), plait.Input(shape=(None, 8))
    layer = L.MultiHeadAttention(2, 3)
    out, scores = layer(q, v, return_attention_scores=True)
    assert out.shape == (None, 4, 6)
    assert scores.shape == (None, 2, 4, None)
    eager, eager_scores = layer(torch.randn(3, 4, 6), torch.randn(3, 7, 8),
                                return_attention_scores=True)  # fmt: skip
    assert eager.shape == (3, 4, 6)
    assert eager_scores.shape == (3, 2, 4, 7)


def test_mha_attention_axes_symbolic_matches_eager():
    layer = L.MultiHeadAttention(2, 3, attention_axes=[1, 2], output_shape=(2, 2))
    sym = layer(plait.Input(shape=(2, 3, 5)), plait.Input(shape=(3, 2, 5)),
                return_attention_scores=True)  # fmt: skip
    eager = layer(torch.randn(1, 2, 3, 5), torch.randn(1, 3, 2, 5),
                  return_attention_scores=True)  # fmt: skip
    assert [s.shape for s in sym] == [(None, 2, 3, 2, 2), (None, 2, 2, 3, 3, 2)]
    assert [tuple(e.shape) for e in eager] == [(1, 2, 3, 2, 2), (1, 2, 2, 3, 3, 2)]


def test_mha_in_a_model_with_mask_input_and_predict():
    x = plait.Input(shape=(4, 6))
    keep = plait.Input(shape=(4, 4), dtype="bool")
    layer = L.MultiHeadAttention(2, 3)
    model = plait.Model([x, keep], layer(x, x, attention_mask=keep))
    data = np.random.default_rng(0).standard_normal((3, 4, 6)).astype("float32")
    mask = np.tril(np.ones((3, 4, 4), bool))
    out = model.predict([data, mask], verbose=0)
    want = layer(torch.from_numpy(data), torch.from_numpy(data), use_causal_mask=True)
    np.testing.assert_allclose(out, want.detach().numpy(), atol=1e-5)


def test_mha_self_attention_masks_padding_from_embedding():
    ids = plait.Input(shape=(5,), dtype="int32")
    x = L.Embedding(10, 4, mask_zero=True)(ids)
    model = plait.Model(ids, L.MultiHeadAttention(2, 2)(x, x))
    a = np.array([[1, 2, 3, 0, 0]])
    b = np.array([[1, 2, 3, 7, 9]])  # same prefix; padded keys would change it
    out_a = model.predict(a, verbose=0)
    with torch.no_grad():
        emb = model.layers[1]
        emb.embeddings[0].fill_(5.0)  # padding's vector changes nothing
    out_a2 = model.predict(a, verbose=0)
    np.testing.assert_allclose(out_a[0, :3], out_a2[0, :3], atol=1e-6)
    assert not np.allclose(out_a[0, :3], model.predict(b, verbose=0)[0, :3])


def test_mha_sgd_step_changes_every_weight():
    x = plait.Input(shape=(3, 4))
    layer = L.MultiHeadAttention(2, 2, value_dim=3)
    model = plait.Model(x, layer(x, x))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = [w.detach().clone() for w in layer.trainable_weights]
    assert len(before) == 8
    (model(torch.randn(2, 3, 4), training=True) * torch.randn(2, 3, 4)).sum().backward()
    opt.step()
    for b, w in zip(before, layer.trainable_weights):
        assert not torch.equal(b, w.detach())


def test_mha_dropout_only_in_training():
    layer = L.MultiHeadAttention(2, 2, dropout=0.5)
    x = torch.randn(2, 3, 4)
    torch.testing.assert_close(layer(x, x), layer(x, x, training=False))
    assert not torch.allclose(layer(x, x, training=True), layer(x, x))


def test_mha_config_round_trips_and_weights_kwarg():
    layer = L.MultiHeadAttention(2, 3, value_dim=4, output_shape=[5], attention_axes=1,
                                 kernel_regularizer="l2", bias_constraint="max_norm")  # fmt: skip
    config = layer.get_config()
    json.dumps(config)
    assert config["kernel_regularizer"] == {"class_name": "L2", "config": {"l2": 0.01}}
    clone = L.MultiHeadAttention.from_config(config)
    assert clone.get_config() == config
    x = torch.randn(2, 3, 6)
    layer(x, x)
    assert len(layer.losses) == 4  # one per kernel
    again = L.MultiHeadAttention(2, 3, value_dim=4, output_shape=5,
                                 weights=layer.get_weights())  # fmt: skip
    torch.testing.assert_close(again(x, x), layer(x, x))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_heads": 0, "key_dim": 2}, r"expected `num_heads` to be a positive int"),
        ({"num_heads": 2, "key_dim": 1.5}, r"expected `key_dim` to be a positive int"),
        ({"num_heads": 2, "key_dim": 2, "value_dim": 0},
         r"expected `value_dim` to be a positive int or None"),
        ({"num_heads": 2, "key_dim": 2, "dropout": -0.1}, r"expected `dropout` in \[0, 1\)"),
    ],
)  # fmt: skip
def test_mha_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        L.MultiHeadAttention(**kwargs)


def test_mha_rejects_bad_calls():
    layer = L.MultiHeadAttention(2, 2)
    with pytest.raises(TypeError, match=r"expected to be called as \(query, value"):
        layer(torch.randn(2, 3, 4))
    with pytest.raises(ValueError, match="expected the value and key to agree"):
        layer(torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 6, 4))
    with pytest.raises(
        ValueError, match=r"expected `attention_axes` among the non-batch"
    ):
        L.MultiHeadAttention(2, 2, attention_axes=3)(
            torch.randn(2, 3, 4), torch.randn(2, 3, 4)
        )
    layer = L.MultiHeadAttention(2, 2, attention_axes=[1, 2])
    x = torch.randn(1, 2, 2, 4)
    with pytest.raises(ValueError, match="expected one attention axis with use_causal"):
        layer(x, x, use_causal_mask=True)
