"""`model.add_loss(symbolic_tensor)` on a functional model (tf.keras's way): the
term is computed from the graph at every forward pass and trained on."""

import numpy as np
import pytest

import plait as keras
from plait import layers, ops


def _model():
    inputs = keras.Input((4,))
    hidden = layers.Dense(3, name="hidden")(inputs)
    outputs = layers.Dense(1, name="out")(hidden)
    model = keras.Model(inputs, outputs)
    model.add_loss(ops.mean(ops.square(hidden)))
    return model, keras.Model(inputs, hidden)


def _x():
    return np.random.default_rng(0).random((8, 4), dtype=np.float32)


def test_symbolic_loss_is_computed_at_each_call(fresh_names):
    model, hidden = _model()
    assert model.layers[-1].name == "add_loss"
    assert model.losses == []
    x = _x()
    model(x)
    expected = np.mean(hidden.predict(x, verbose=0) ** 2)
    assert len(model.losses) == 1
    assert float(model.losses[0].detach()) == pytest.approx(expected, rel=1e-6)
    model(x[:2])
    assert len(model.losses) == 1  # reset at each call


def test_symbolic_loss_is_added_to_the_training_loss():
    model, hidden = _model()
    x, y = _x(), np.zeros((8, 1), "float32")
    model.compile(optimizer="adam", loss="mse")
    term = np.mean(hidden.predict(x, verbose=0) ** 2)
    mse = np.mean(model.predict(x, verbose=0) ** 2)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(mse + term, rel=1e-5)
    model.compile(optimizer="sgd")  # no compiled loss: the term alone is trained on
    history = model.fit(x, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][0] == pytest.approx(term, rel=1e-5)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_symbolic_loss_survives_save_and_load(tmp_path):
    model, _ = _model()
    x = _x()
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    model(x)
    loaded(x)
    assert len(loaded.losses) == 1
    assert float(loaded.losses[0].detach()) == float(model.losses[0].detach())


def test_symbolic_loss_from_another_graph_is_refused():
    model, _ = _model()
    other = keras.Input((4,))
    with pytest.raises(ValueError, match=r"add_loss expected a tensor computed from"):
        model.add_loss(ops.mean(other))
    model(_x())
    assert len(model.losses) == 1  # the model is as it was
