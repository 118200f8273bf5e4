"""Tests for plait.saving.model_io: .plait round trips of the GUIDE's models."""

import json
import os
import zipfile

import numpy as np
import pytest
import torch

import plait
from plait import layers as L
from plait.models import Model, Sequential, load_model
from plait.saving import model_io
from plait.utils import tree

RNG = np.random.default_rng(0)


def _x(*shape, dtype="float32"):
    return RNG.standard_normal(shape).astype(dtype)


def _ids(*shape, high=10):
    return RNG.integers(1, high, size=shape).astype("int32")


def _same(a, b):
    fa, fb = tree.flatten(a), tree.flatten(b)
    assert len(fa) == len(fb)
    for u, v in zip(fa, fb):
        np.testing.assert_array_equal(u, v)


def roundtrip(model, x, tmp_path, **load_kwargs):
    path = tmp_path / "m.plait"
    model.save(path)
    loaded = load_model(path, **load_kwargs)
    _same(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert type(loaded) is type(model)
    return loaded


def test_save_mlp_roundtrip(tmp_path):
    from plait.examples.guide import mlp

    model = mlp()
    loaded = roundtrip(model, _x(3, 784), tmp_path)
    assert [layer.name for layer in loaded.layers] == [
        layer.name for layer in model.layers
    ]
    assert loaded.get_config() == model.get_config()


def test_save_multi_input_multi_output_named(tmp_path):
    main_input = L.Input(shape=(6,), dtype="int32", name="main_input")
    x = L.Embedding(output_dim=4, input_dim=10, input_length=6)(main_input)
    lstm_out = L.LSTM(3)(x)
    aux_output = L.Dense(1, activation="sigmoid", name="aux_output")(lstm_out)
    aux_input = L.Input(shape=(5,), name="aux_input")
    x = L.concatenate([lstm_out, aux_input])
    x = L.Dense(4, activation="relu")(x)
    main_output = L.Dense(1, activation="sigmoid", name="main_output")(x)
    model = Model(inputs=[main_input, aux_input], outputs=[main_output, aux_output])
    loaded = roundtrip(model, [_ids(3, 6), _x(3, 5)], tmp_path)
    assert loaded.input_names == ["main_input", "aux_input"]
    assert loaded.output_names == ["main_output", "aux_output"]
    out = loaded.predict({"main_input": _ids(2, 6), "aux_input": _x(2, 5)}, verbose=0)
    assert [o.shape for o in out] == [(2, 1), (2, 1)]


def test_save_shared_layer_at_different_depths(tmp_path):
    x = L.Input(shape=(4,))
    d = L.Dense(4, name="shared")
    y = d(d(x)) + x  # node 0 at depth 2, node 1 at depth 1
    z = d(y)
    model = Model(x, [z, 2 * y, y[:, 0:2]])
    loaded = roundtrip(model, _x(3, 4), tmp_path)
    assert len(loaded.get_layer("shared").inbound_nodes) == 3
    assert len(loaded.get_layer("shared").weights) == 2


def test_save_shared_lstm_tweets(tmp_path):
    tweet_a, tweet_b = L.Input(shape=(5, 3)), L.Input(shape=(5, 3))
    shared_lstm = L.LSTM(4)
    merged = L.concatenate([shared_lstm(tweet_a), shared_lstm(tweet_b)], axis=-1)
    model = Model([tweet_a, tweet_b], L.Dense(1, activation="sigmoid")(merged))
    roundtrip(model, [_x(2, 5, 3), _x(2, 5, 3)], tmp_path)


def test_save_nested_model_called_twice(tmp_path):
    digit = L.Input(shape=(6,))
    vision = Model(digit, L.Dense(3, activation="relu")(digit), name="vision")
    a, b = L.Input(shape=(6,)), L.Input(shape=(6,))
    out = L.Dense(1)(L.concatenate([vision(a), vision(b)]))
    model = Model([a, b], out)
    loaded = roundtrip(model, [_x(2, 6), _x(2, 6)], tmp_path)
    inner = loaded.get_layer("vision")
    assert isinstance(inner, plait.models.Functional)
    # node 0 is the nested model's own; the outer model called it twice more
    assert len(inner.inbound_nodes) == 3


def test_save_layer_shared_by_nested_and_outer(tmp_path):
    shared = L.Dense(4, name="sh")
    inner_in = L.Input(shape=(4,))
    inner = Model(inner_in, shared(inner_in), name="inner")
    a = L.Input(shape=(4,), name="a")
    model = Model(a, L.Add()([inner(a), shared(a)]))
    loaded = roundtrip(model, _x(2, 4), tmp_path)
    assert loaded.get_layer("sh") is loaded.get_layer("inner").get_layer("sh")


def test_save_sequential_variants(tmp_path):
    model = Sequential([L.Dense(3, input_shape=(5,)), L.Dropout(0.5), L.Dense(2)])
    roundtrip(model, _x(3, 5), tmp_path)
    model = Sequential([L.Input(shape=(5,), name="seq_in"), L.Dense(3)])
    loaded = roundtrip(model, _x(3, 5), tmp_path)
    assert loaded.inputs[0].name == "seq_in"
    model = Sequential([L.Dense(3)])
    model(_x(2, 7))  # built by a call
    roundtrip(model, _x(3, 7), tmp_path)


def test_save_unbuilt_sequential(tmp_path):
    model = Sequential([L.Dense(3), L.Dense(2)], name="later")
    model.save(tmp_path / "m.plait")
    loaded = load_model(tmp_path / "m.plait")
    assert not loaded.built
    assert [la.units for la in loaded.layers] == [3, 2]


def test_save_dict_inputs_and_outputs(tmp_path):
    a, b = L.Input(shape=(3,), name="a"), L.Input(shape=(2,), name="b")
    h = L.concatenate([a, b])
    model = Model({"b": b, "a": a}, {"y": L.Dense(2)(h), "z": L.Dense(1)(h)})
    loaded = roundtrip(model, {"a": _x(2, 3), "b": _x(2, 2)}, tmp_path)
    assert loaded.input_names == ["b", "a"]
    assert loaded.output_names == ["y", "z"]


def test_save_nested_structures_round_trip(tmp_path):
    a = L.Input(shape=(3,))
    model = Model([a], [L.Dense(2)(a)])
    loaded = roundtrip(model, [_x(2, 3)], tmp_path)
    assert isinstance(loaded.input, list)
    assert isinstance(loaded.output, list)


def test_save_masks_recompute(tmp_path):
    ids = L.Input(shape=(5,), dtype="int32")
    x = L.Embedding(10, 3, mask_zero=True)(ids)
    model = Model(ids, L.Dense(2)(x))
    loaded = roundtrip(model, _ids(2, 5), tmp_path)
    data = torch.tensor([[1, 2, 0, 0, 0], [3, 0, 0, 0, 0]], dtype=torch.int32)
    assert torch.equal(model.compute_mask(data), loaded.compute_mask(data))


def test_save_operators_and_constants(tmp_path):
    x = L.Input(shape=(4,))
    y = (2.0 - x) * x / 3 + torch.ones(4) @ torch.eye(4) + abs(-x) ** 2
    model = Model(x, [y[:, 1:3], y[..., None]])
    roundtrip(model, _x(2, 4), tmp_path)


@plait.saving.register_serializable(package="tests")
class Scale(L.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1],), "ones")

    def call(self, inputs):
        return inputs * self.w * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class Shift(L.Layer):  # not registered: loads through custom_objects
    def call(self, inputs):
        return inputs + 1.0


def test_save_custom_layers(tmp_path):
    x = L.Input(shape=(3,))
    model = Model(x, Shift()(Scale(3.0)(x)))
    with torch.no_grad():
        model.layers[1].w.copy_(torch.tensor([1.0, 2.0, 3.0]))
    model.save(tmp_path / "m.plait")
    with pytest.raises(
        ValueError, match=r"unknown layer class 'Shift'.*custom_objects"
    ):
        load_model(tmp_path / "m.plait")
    roundtrip(model, _x(2, 3), tmp_path, custom_objects={"Shift": Shift})
    entry = model.get_config()["layers"][1]
    assert entry["registered_name"] == "tests>Scale"


@plait.saving.register_serializable(package="tests")
def cube(x):
    return x**3


@plait.saving.register_serializable(package="tests")
def scaled_tanh(x):
    return 2 * torch.tanh(x)


def test_save_lambda_and_activation_by_registered_name(tmp_path):
    x = L.Input(shape=(3,))
    y = L.Lambda(cube)(L.Dense(3, activation=scaled_tanh)(x))
    model = Model(x, y)
    loaded = roundtrip(model, _x(2, 3), tmp_path)
    assert loaded.layers[2].function is cube
    assert loaded.layers[1].activation is scaled_tanh


def test_save_lambda_of_python_lambda_refuses(tmp_path):
    x = L.Input(shape=(3,))
    model = Model(x, L.Lambda(lambda t: t * 2)(x))
    with pytest.raises(ValueError, match=r"register_serializable"):
        model.save(tmp_path / "m.plait")
    assert not os.listdir(tmp_path)  # nothing written, no temp file left


def _chain(n):
    x = L.Input(shape=(2,))
    y = x
    for _ in range(n):
        y = L.Activation("relu")(y)
    return Model(x, y)


def test_save_deep_chain_without_recursion(tmp_path):
    # Deeper than Python's recursion limit (1000): every walk is iterative.
    model = _chain(1_500)
    model.save(tmp_path / "m.plait")
    assert len(load_model(tmp_path / "m.plait").layers) == 1_501


@pytest.mark.slow
def test_save_10000_layer_chain(tmp_path):
    loaded = roundtrip(_chain(10_000), _x(2, 2), tmp_path)
    assert len(loaded.layers) == 10_001


def test_save_is_atomic(tmp_path, monkeypatch):
    x = L.Input(shape=(3,))
    model = Model(x, L.Dense(2)(x))
    path = tmp_path / "m.plait"
    model.save(path)
    before = path.read_bytes()
    other = Model(x, L.Dense(5)(x))
    calls = []
    real = zipfile.ZipFile.writestr

    def failing(self, name, data, *args, **kwargs):
        calls.append(name)
        if name == model_io.WEIGHTS:
            raise OSError("disk full")  # after config.json was written
        return real(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    with pytest.raises(OSError, match="disk full"):
        other.save(path)
    assert model_io.CONFIG in calls
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.plait"]


def test_save_overwrite_false(tmp_path):
    x = L.Input(shape=(3,))
    model = Model(x, L.Dense(2)(x))
    model.save(tmp_path / "m.plait")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        model.save(tmp_path / "m.plait", overwrite=False)


def test_save_rejects_h5_and_safetensors_paths(tmp_path):
    x = L.Input(shape=(3,))
    model = Model(x, L.Dense(2)(x))
    with pytest.raises(ValueError, match="HDF5"):
        model.save(tmp_path / "m.h5")
    with pytest.raises(ValueError, match="save_weights"):
        model.save(tmp_path / "m.safetensors")


def test_archive_layout(tmp_path):
    x = L.Input(shape=(3,))
    model = Model(x, L.Dense(2, name="d")(x))
    model.save(tmp_path / "m.plait")
    with zipfile.ZipFile(tmp_path / "m.plait") as zf:
        assert zf.namelist() == ["metadata.json", "config.json", "model.safetensors"]
        meta = json.loads(zf.read("metadata.json"))
        config = json.loads(zf.read("config.json"))
    assert meta["format"] == "plait"
    assert meta["format_version"] == 1
    assert config["class_name"] == "Functional"
    assert config["config"]["output_layers"] == ["d", 0, 0]


def test_to_json_and_model_from_json():
    x = L.Input(shape=(3,), name="x")
    model = Model(x, L.Dense(2, name="d")(x), name="net")
    text = model.to_json()
    again = plait.models.model_from_json(text)
    assert again.get_config() == model.get_config()
    assert json.loads(text)["config"]["name"] == "net"
    with pytest.raises(ValueError, match="not valid JSON"):
        plait.models.model_from_json("{nope")


def test_load_model_entry_points():
    assert plait.load_model is load_model is plait.saving.load_model


def test_compiled_model_resumes(tmp_path):
    x = L.Input(shape=(3,))
    model = Model(x, [L.Dense(1, name="y")(x), L.Dense(2, name="z")(x)])
    model.compile(
        optimizer=plait.optimizers.Adam(learning_rate=0.01),
        loss=["mse", plait.losses.Huber(delta=0.5)],
        metrics={"y": ["mae"]},
        loss_weights=[1.0, 0.3],
    )
    data, targets = _x(8, 3), [_x(8, 1), _x(8, 2)]
    model.fit(data, targets, epochs=2, verbose=0, shuffle=False)
    model.save(tmp_path / "m.plait")
    with zipfile.ZipFile(tmp_path / "m.plait") as zf:
        assert "optimizer.safetensors" in zf.namelist()
    loaded = load_model(tmp_path / "m.plait")
    assert loaded.compiled
    assert loaded.optimizer.iterations == model.optimizer.iterations
    model.fit(data, targets, epochs=1, verbose=0, shuffle=False)
    loaded.fit(data, targets, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not load_model(tmp_path / "m.plait", compile=False).compiled


@plait.saving.register_serializable(package="tests")
def doubled_mse(y_true, y_pred):
    return 2 * ((y_true - y_pred) ** 2).mean(dim=-1)


def test_compiled_with_registered_loss(tmp_path):
    x = L.Input(shape=(3,))
    model = Model(x, L.Dense(1)(x))
    model.compile(optimizer="sgd", loss=doubled_mse)
    model.save(tmp_path / "m.plait")
    loaded = load_model(tmp_path / "m.plait")
    assert loaded.compiled
    assert loaded.evaluate(_x(4, 3), _x(4, 1), verbose=0) >= 0


def test_compiled_with_unregistered_loss_saves_without_compile_state(tmp_path):
    x = L.Input(shape=(3,))
    model = Model(x, L.Dense(1)(x))
    model.compile(optimizer="sgd", loss=lambda t, p: ((t - p) ** 2).mean(dim=-1))
    with pytest.warns(UserWarning, match="without its compile configuration"):
        model.save(tmp_path / "m.plait")
    assert not load_model(tmp_path / "m.plait").compiled
