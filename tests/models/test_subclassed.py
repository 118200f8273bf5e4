"""The subclassed model of Keras's guides (`class MLP(keras.Model)` with layers
in `__init__` and a `call`), with the imports changed: it trains, summarises,
and saves its weights."""

import numpy as np
import pytest
import torch

import plait as keras


class MLP(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense_1 = keras.layers.Dense(64, activation="relu")
        self.dense_2 = keras.layers.Dense(10)

    def call(self, inputs):
        x = self.dense_1(inputs)
        return self.dense_2(x)


def _data():
    rng = np.random.default_rng(0)
    return rng.random((64, 32)).astype("float32"), rng.integers(0, 10, 64)


def _trained():
    mlp = MLP()
    mlp.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    x, y = _data()
    history = mlp.fit(x, y, epochs=3, verbose=0)
    return mlp, history


def test_mlp_trains_and_summarises():
    mlp, history = _trained()
    assert history.history["loss"][-1] < history.history["loss"][0]
    lines = []
    mlp.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "2,112" in text  # each Dense's parameters
    assert "650" in text
    assert "Total params: 2,762" in text


def test_mlp_save_and_load_model_rebuilds_its_weights(tmp_path):
    mlp, _ = _trained()
    x, _ = _data()
    path = tmp_path / "mlp.plait"
    mlp.save(path)
    loaded = keras.saving.load_model(path, custom_objects={"MLP": MLP})
    assert isinstance(loaded, MLP)
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), mlp.predict(x, verbose=0), rtol=1e-6
    )
    # It trains on from the file (compile state restored).
    loaded.fit(x, _data()[1], epochs=1, verbose=0)


def test_mlp_save_weights_load_weights_into_a_built_twin(tmp_path):
    mlp, _ = _trained()
    x, _ = _data()
    path = tmp_path / "mlp.weights.safetensors"
    mlp.save_weights(path)
    twin = MLP()
    twin(torch.zeros(1, 32))  # build it, as in Keras
    twin.load_weights(path)
    np.testing.assert_allclose(
        twin.predict(x, verbose=0), mlp.predict(x, verbose=0), rtol=1e-6
    )


def test_build_config_records_the_first_input_shape(tmp_path):
    import json
    import zipfile

    mlp = MLP()
    mlp(torch.zeros(5, 32))
    path = tmp_path / "m.plait"
    mlp.save(path)
    with zipfile.ZipFile(path) as zf:
        config = json.loads(zf.read("config.json"))
    assert config["build_config"] == {"input_shape": [None, 32]}
    from plait.saving import model_io

    with pytest.raises(ValueError, match="here: expected 'build_config' shapes"):
        model_io._build_from_config(MLP(), {"input_shape": "bad"}, "here")
