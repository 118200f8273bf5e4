"""Layers under mixed policies: symbolic and eager dtypes, float32 opt-outs."""

import numpy as np
import pytest
import torch

import plait
from plait import layers as L
from plait import mixed_precision


def _mlp():
    inputs = L.Input(shape=(4,))
    hidden = L.Dense(8, activation="relu")(inputs)
    logits = L.Dense(3)(hidden)
    outputs = L.Activation("softmax", dtype="float32")(logits)
    return plait.Model(inputs, outputs), hidden, logits, outputs


@pytest.mark.parametrize("name", ["mixed_float16", "mixed_bfloat16"])
def test_symbolic_outputs_carry_compute_dtype(name):
    mixed_precision.set_global_policy(name)
    model, hidden, logits, outputs = _mlp()
    compute = mixed_precision.Policy(name)._compute
    assert hidden.dtype == logits.dtype == compute
    assert outputs.dtype == torch.float32  # the float32 Activation
    x = torch.rand(2, 4)
    assert plait.Model(model.inputs, logits)(x).dtype == compute
    assert model(x).dtype == torch.float32
    assert {p.dtype for p in model.parameters()} == {torch.float32}


def test_float32_activation_inside_mixed_model_computes_in_float32():
    mixed_precision.set_global_policy("mixed_bfloat16")
    model, *_ = _mlp()
    x = torch.rand(2, 4)
    probs = model(x)
    logits = plait.Model(model.inputs, model.layers[2].output)(x)
    torch.testing.assert_close(probs, torch.softmax(logits.float(), -1))


@pytest.mark.parametrize("name", ["mixed_float16", "mixed_bfloat16"])
def test_embedding_and_recurrent_layers_match_symbolic_dtypes(name):
    mixed_precision.set_global_policy(name)
    inputs = L.Input(shape=(5,), dtype="int32")
    tensors = [L.Embedding(10, 4)(inputs)]
    tensors.append(L.LSTM(4, return_sequences=True)(tensors[-1]))
    tensors.append(L.LayerNormalization()(tensors[-1]))
    tensors.append(L.Conv1D(3, 2)(tensors[-1]))
    x = torch.randint(0, 10, (2, 5))
    for t in tensors:
        assert (
            plait.Model(inputs, t)(x).dtype
            == t.dtype
            == mixed_precision.Policy(name)._compute
        )


def test_user_autocast_applies_to_float32_model():
    model, *_ = _mlp()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        hidden = plait.Model(model.inputs, model.layers[1].output)(torch.rand(2, 4))
    assert hidden.dtype == torch.bfloat16  # plait leaves a user's region alone


def test_float32_nested_model_in_mixed_model_computes_in_float32():
    inner_in = L.Input(shape=(4,))
    inner = plait.Model(inner_in, L.Dense(3)(inner_in))
    mixed_precision.set_global_policy("mixed_bfloat16")
    inputs = L.Input(shape=(4,))
    outputs = inner(L.Dense(4)(inputs))
    model = plait.Model(inputs, outputs)
    assert model(torch.rand(2, 4)).dtype == torch.float32


@pytest.mark.parametrize("name", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_model_trains_on_cpu(name):
    mixed_precision.set_global_policy(name)
    model, *_ = _mlp()
    model.compile(
        optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"]
    )
    x = np.random.rand(32, 4).astype("float32")
    y = np.eye(3, dtype="float32")[(x.sum(1) > 2).astype(int)]
    history = model.fit(x, y, epochs=4, batch_size=8, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0]
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert model._plan.loss_tracker.result().dtype == torch.float32


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_model_trains_with_jit_compile(name):
    mixed_precision.set_global_policy(name)
    model, *_ = _mlp()
    model.compile(
        optimizer="rmsprop", loss="categorical_crossentropy", jit_compile=True
    )
    x = np.random.rand(32, 4).astype("float32")
    y = np.eye(3, dtype="float32")[(x.sum(1) > 2).astype(int)]
    losses = model.fit(x, y, epochs=4, batch_size=8, verbose=0).history["loss"]
    assert model._plan.train_fn.mode == "graph"
    assert not model._plan.train_fn.failed
    assert losses[-1] < losses[0]


def test_save_and_load_keep_the_policy(tmp_path):
    mixed_precision.set_global_policy("mixed_float16")
    model, *_ = _mlp()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.fit(
        np.ones((4, 4), "float32"), np.eye(3, dtype="float32")[[0, 1, 2, 0]], verbose=0
    )
    model.save(tmp_path / "m.plait")
    mixed_precision.set_global_policy(None)
    loaded = plait.load_model(tmp_path / "m.plait")
    names = [layer.dtype_policy.name for layer in loaded.layers[1:]]
    assert names == ["mixed_float16", "mixed_float16", "float32"]
    assert type(loaded.optimizer).__name__ == "LossScaleOptimizer"
    assert loaded.optimizer.loss_scale == model.optimizer.loss_scale
    x = torch.rand(2, 4)
    torch.testing.assert_close(loaded(x), model(x))
