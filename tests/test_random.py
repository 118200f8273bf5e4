"""plait.random: Keras 3's keras.random (seeds, streams, shapes, dtypes)."""

import numpy as np
import pytest
import torch

import plait
from plait import random


@pytest.mark.parametrize(
    ("fn", "args"),
    [
        (random.normal, ((3, 2),)),
        (random.uniform, ((3, 2),)),
        (random.truncated_normal, ((3, 2),)),
        (random.randint, ((3, 2), 0, 10)),
        (random.gamma, ((3, 2), 2.0)),
        (random.beta, ((3, 2), 2.0, 3.0)),
        (random.binomial, ((3, 2), 5, 0.5)),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_random_int_seed_reproducible_and_unseeded_differs(fn, args):
    a, b = fn(*args, seed=7), fn(*args, seed=7)
    assert a.shape == (3, 2)
    assert torch.equal(a, b)
    torch.manual_seed(0)
    c = fn(*args)
    d = fn(*args)
    assert not torch.equal(c, d) or fn is random.binomial


def test_random_seed_does_not_disturb_global_rng():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    random.normal((4,), seed=1)
    assert torch.equal(torch.rand(3), expected)


def test_random_seed_generator_stream_and_state():
    g = random.SeedGenerator(3)
    first, second = random.uniform((4,), seed=g), random.uniform((4,), seed=g)
    assert not torch.equal(first, second)
    replay = random.SeedGenerator(3)
    assert torch.equal(random.uniform((4,), seed=replay), first)
    restored = random.SeedGenerator(99)
    restored.load_state_dict(g.state_dict())
    assert torch.equal(
        random.uniform((4,), seed=restored), random.uniform((4,), seed=g)
    )
    assert g.get_config() == {"seed": 3, "name": "seed_generator"}


def test_random_seed_generator_rejects_bad_seed():
    with pytest.raises(
        TypeError, match="SeedGenerator: expected an int seed or None, got seed='a'"
    ):
        random.SeedGenerator("a")


def test_random_truncated_normal_within_two_stddev():
    out = random.truncated_normal((1000,), mean=1.0, stddev=0.5, seed=0)
    assert float(out.min()) >= 0.0
    assert float(out.max()) <= 2.0


def test_random_dtypes():
    assert random.randint((2,), 0, 3).dtype == torch.int32
    assert random.normal((2,), dtype="float64").dtype == torch.float64
    assert random.categorical(torch.zeros(2, 3), 5, seed=1).shape == (2, 5)


def test_random_dropout_and_shuffle():
    x = torch.ones(1000)
    out = random.dropout(x, 0.5, seed=1)
    assert set(np.unique(out.numpy())) <= {0.0, 2.0}
    assert 400 < int((out == 0).sum()) < 600
    s = random.shuffle(torch.arange(10), seed=1)
    assert sorted(s.tolist()) == list(range(10))


def test_random_dropout_symbolic_in_model(tmp_path):
    inputs = plait.Input(shape=(4,))
    model = plait.Model(inputs, random.dropout(inputs, 0.5, seed=3))
    x = np.ones((2, 4), "float32")
    out = model.predict(x, verbose=0)
    assert set(np.unique(out)) <= {0.0, 2.0}
    model.save(tmp_path / "d.plait")
    loaded = plait.load_model(tmp_path / "d.plait")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), out)
