"""Model: predict / predict_on_batch, subclassed models, Model(...) argument errors."""

import numpy as np
import pytest
import torch

import plait
from plait.layers import Dense, Dropout, Input, Layer


def _mlp(name="mlp"):
    x = Input(shape=(4,), name="features")
    h = Dense(8, activation="relu")(x)
    return plait.Model(x, Dense(3, activation="softmax")(h), name=name)


def test_model_predict_returns_one_array():
    model = _mlp()
    data = np.random.rand(10, 4).astype(np.float32)
    out = model.predict(data, verbose=0)
    assert isinstance(out, np.ndarray)
    assert out.shape == (10, 3)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.sum(-1), np.ones(10), rtol=1e-5)
    np.testing.assert_allclose(
        out, model(torch.from_numpy(data)).detach().numpy(), rtol=1e-6
    )


@pytest.mark.parametrize("batch_size", [1, 3, 32, None])
def test_model_predict_batches_concatenate(batch_size):
    model = _mlp()
    data = np.random.rand(7, 4).astype(np.float32)
    full = model.predict_on_batch(data)
    np.testing.assert_allclose(
        model.predict(data, batch_size=batch_size, verbose=0), full, rtol=1e-6
    )


def test_model_predict_steps_limits_batches():
    model = _mlp()
    out = model.predict(np.random.rand(10, 4), batch_size=3, steps=2, verbose=0)
    assert out.shape == (6, 3)


def test_model_predict_accepts_tensor_and_float64():
    model = _mlp()
    data = np.random.rand(3, 4)
    np.testing.assert_allclose(
        model.predict(torch.from_numpy(data).float(), verbose=0),
        model.predict(data, verbose=0),
        rtol=1e-6,
    )


def test_model_predict_list_and_dict_outputs():
    a, b = Input(shape=(2,), name="a"), Input(shape=(2,), name="b")
    s = plait.layers.add([a, b])
    listed = plait.Model([a, b], [s, Dense(1)(s)])
    xa, xb = np.ones((3, 2)), np.full((3, 2), 2.0)
    out = listed.predict([xa, xb], verbose=0)
    assert isinstance(out, list)
    np.testing.assert_allclose(out[0], np.full((3, 2), 3.0))
    dicted = plait.Model({"a": a, "b": b}, {"sum": s})
    out = dicted.predict({"a": xa, "b": xb}, verbose=0)
    assert isinstance(out, dict)
    np.testing.assert_allclose(out["sum"], np.full((3, 2), 3.0))


def test_model_predict_int_input():
    ids = Input(shape=(3,), dtype="int32")
    model = plait.Model(ids, plait.layers.Embedding(10, 2)(ids))
    out = model.predict(np.array([[1, 2, 3]]), verbose=0)
    table = model.layers[1].get_weights()[0]
    np.testing.assert_allclose(out[0], table[[1, 2, 3]])


def test_model_predict_wrong_input_count():
    a, b = Input(shape=(2,), name="a"), Input(shape=(2,), name="b")
    model = plait.Model([a, b], plait.layers.add([a, b]), name="pair")
    with pytest.raises(
        ValueError, match=r"Model 'pair': expected 2 inputs \['a', 'b'\], got 3"
    ):
        model.predict([np.ones((1, 2))] * 3, verbose=0)
    with pytest.raises(
        ValueError, match=r"Model 'pair': expected 2 inputs \['a', 'b'\], got 1"
    ):
        model.predict(np.ones((1, 2)), verbose=0)


def test_model_predict_wrong_feature_size_names_input():
    model = _mlp("clf")
    with pytest.raises(
        ValueError,
        match=r"Model 'clf' input 'features': expected shape \(None, 4\), got \(\d+, 5\)",
    ):
        model.predict(np.ones((6, 5)), verbose=0)


def test_model_predict_mismatched_sample_counts():
    a, b = Input(shape=(2,), name="a"), Input(shape=(2,), name="b")
    model = plait.Model([a, b], plait.layers.add([a, b]), name="pair")
    with pytest.raises(ValueError, match=r"same number of samples.*\[2, 3\]"):
        model.predict([np.ones((2, 2)), np.ones((3, 2))], verbose=0)


def test_model_predict_on_batch():
    model = _mlp()
    data = np.random.rand(5, 4).astype(np.float32)
    out = model.predict_on_batch(data)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, model.predict(data, verbose=0), rtol=1e-6)


class _ModeSpy(Layer):
    seen: list = []

    def call(self, inputs, training=None):
        type(self).seen.append((torch.is_inference_mode_enabled(), training))
        return inputs


def test_model_predict_runs_in_inference_mode_and_not_training():
    x = Input(shape=(2,))
    model = plait.Model(x, _ModeSpy()(Dropout(0.9)(x)))
    model.train()
    _ModeSpy.seen = []
    data = np.ones((4, 2), np.float32)
    np.testing.assert_array_equal(model.predict(data, verbose=0), data)
    model.predict_on_batch(data)
    assert _ModeSpy.seen
    assert all(mode for mode, _ in _ModeSpy.seen)
    assert all(training is False for _, training in _ModeSpy.seen)


def test_model_predict_verbose_prints_progress(capsys):
    _mlp().predict(np.ones((4, 4)), verbose=1)
    _mlp().predict(np.ones((4, 4)), verbose=0)


# ---------------------------------------------------------------- construction
def test_model_constructor_rejects_non_symbolic():
    with pytest.raises(
        TypeError,
        match=r"^Model\(inputs=\.\.\.\): expected SymbolicTensor\(s\) from plait\.Input\(\) "
        r"or from calling layers on them, got ndarray of shape \(10, 784\)\.$",
    ):
        plait.Model(inputs=np.zeros((10, 784)), outputs=Dense(1)(Input(shape=(3,))))


def test_model_constructor_keyword_and_positional_forms():
    x = Input(shape=(3,))
    y = Dense(2)(x)
    for model in (
        plait.Model(x, y),
        plait.Model(inputs=x, outputs=y),
        plait.Model(x, outputs=y),
    ):
        assert model.output is y


class _Subclassed(plait.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = Dense(4, activation="relu")
        self.out = Dense(2)

    def call(self, inputs):
        return self.out(self.hidden(inputs))


def test_model_subclassed_eager_and_predict():
    model = _Subclassed(name="sub")
    data = np.random.rand(3, 5).astype(np.float32)
    out = model.predict(data, verbose=0)
    assert out.shape == (3, 2)
    assert [layer.name for layer in model.layers] == [model.hidden.name, model.out.name]
    assert len(model.weights) == 4


def test_model_rejects_single_positional_argument():
    with pytest.raises(TypeError, match="unexpected positional arguments"):
        plait.Model(Input(shape=(2,)))


def test_model_subclassed_symbolic_call():
    model = _Subclassed()
    x = Input(shape=(5,))
    y = model(x)
    assert y.shape == (None, 2)
    outer = plait.Model(x, y)
    assert outer.predict(np.ones((2, 5)), verbose=0).shape == (2, 2)


def test_model_is_torch_module():
    model = _mlp()
    assert isinstance(model, torch.nn.Module)
    assert isinstance(model, plait.Layer)
    assert not model.training
    assert sum(p.numel() for p in model.parameters()) == model.count_params()


def test_model_subclass_calling_functional_init_becomes_functional():
    from plait.models.functional import Functional

    class Classifier(plait.Model):
        def __init__(self, units):
            inputs = plait.Input(shape=(4,))
            outputs = plait.layers.Dense(units)(inputs)
            super().__init__(inputs=inputs, outputs=outputs, name="classifier")
            self.units = units

    model = Classifier(3)
    assert isinstance(model, Functional)
    assert model.name == "classifier"
    assert model.units == 3
    assert model.output_shape == (None, 3)
    x = np.ones((2, 4), dtype="float32")
    dense = model.layers[1]
    expected = x @ dense.get_weights()[0] + dense.get_weights()[1]
    np.testing.assert_allclose(
        model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6
    )


def test_models_save_model_is_saving_save_model(tmp_path):
    import numpy as np

    inputs = plait.Input((3,))
    model = plait.Model(inputs, plait.layers.Dense(2)(inputs))
    plait.models.save_model(model, tmp_path / "m.keras")
    again = plait.models.load_model(tmp_path / "m.keras")
    x = np.ones((1, 3), "float32")
    np.testing.assert_array_equal(
        again.predict(x, verbose=0), model.predict(x, verbose=0)
    )
