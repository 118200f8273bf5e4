"""Keras 3's `Variable`, and the `save_own_variables`/`load_own_variables` hooks."""

import warnings

import numpy as np
import pytest
import torch
from safetensors import safe_open

import plait
from plait import layers
from plait.layers.variables import Variable

pytestmark = pytest.mark.usefixtures("clean_registry")


# ----------------------------------------------------------------- Variable
def test_variable_keras_constructor_values_dtypes_and_names():
    v = plait.Variable(np.arange(3.0))  # NumPy's float64 kept, as Keras
    assert v.dtype == torch.float64
    assert v.trainable
    assert v.name == "variable"
    assert plait.Variable(0.5).dtype == torch.float32
    assert plait.Variable(np.ones(2), dtype="float16").dtype == torch.float16
    z = plait.Variable("zeros", shape=(2, 3), name="z", trainable=False)
    assert (z.name, z.trainable, tuple(z.shape)) == ("z", False, (2, 3))
    assert float(z.sum()) == 0.0
    ones = plait.Variable(plait.initializers.Ones(), (2,), "float64")
    assert ones.dtype == torch.float64
    assert ones.numpy().tolist() == [1.0, 1.0]
    assert not plait.Variable(np.arange(3)).trainable  # integers never train
    # torch's form still makes a Parameter of the data as it is
    t = Variable(torch.ones(2, dtype=torch.float64), False)
    assert t.dtype == torch.float64
    assert not t.requires_grad


def test_variable_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"initializer \('zeros'\) needs the `shape`"):
        plait.Variable("zeros")
    with pytest.raises(ValueError, match=r"has shape \(3,\), but shape=\(2,\)"):
        plait.Variable(np.zeros(3), shape=(2,))


class Scaled(layers.Dense):
    """The guide's layer: a Dense times a variable made in `__init__`."""

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.scale = plait.Variable(
            np.full((units,), 2.0), name="scale", dtype="float32"
        )

    def call(self, inputs):
        return super().call(inputs) * self.scale


def test_variable_attribute_is_a_weight_that_trains_freezes_and_copies():
    layer = Scaled(2, name="s")
    layer.build((None, 3))
    assert [w.path for w in layer.weights] == ["s/scale", "s/kernel", "s/bias"]
    assert len(layer.get_weights()) == 3
    layer.trainable = False
    assert not any(w.requires_grad for w in layer.weights)
    layer.trainable = True
    assert all(w.requires_grad for w in layer.weights)

    # Built by the first batch after compile: the optimizer takes every weight.
    model = plait.Sequential([Scaled(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).random((16, 3)).astype("float32")
    model.fit(x, x[:, :1], epochs=2, verbose=0)
    assert len(model.optimizer._params) == 3
    assert not np.allclose(model.layers[0].scale.numpy(), 2.0)


# ---------------------------------------------------------- default hooks
def test_default_hooks_store_keras_layout_and_check_what_they_get():
    conv = layers.Conv2D(4, 3)
    conv.build((None, 8, 8, 2))
    store = {}
    conv.save_own_variables(store)
    assert sorted(store) == ["0", "1"]
    assert store["0"].shape == (3, 3, 2, 4)  # Keras's layout, not torch's
    np.testing.assert_array_equal(store["0"], conv.get_weights()[0])
    other = layers.Conv2D(4, 3)
    other.build((None, 8, 8, 2))
    other.load_own_variables(store)
    np.testing.assert_array_equal(other.get_weights()[0], store["0"])
    with pytest.raises(ValueError, match=r"expected the stored variables \['0', '1'\]"):
        other.load_own_variables({"0": store["0"]})


# ------------------------------------------------------------ custom hooks
class Hooked(Scaled):
    """Keras's guide: the hooks save the variable apart and restore everything."""

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["variables"] = self.scale.numpy()

    def load_own_variables(self, store):
        self.scale.assign(store["variables"])
        for i, v in enumerate(self.weights):
            v.assign(store[f"{i}"])


def hooked_model():
    return plait.Sequential([plait.Input((3,)), Hooked(2), layers.Dense(1)])


def test_custom_hooks_round_trip_through_a_model_file(tmp_path):
    plait.saving.register_keras_serializable("test")(Hooked)
    model = hooked_model()
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(1).random((8, 3)).astype("float32")
    model.fit(x, x[:, :1], verbose=0)
    model.save(tmp_path / "m.keras")
    restored = plait.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(
        restored.layers[0].scale.numpy(), model.layers[0].scale.numpy()
    )
    np.testing.assert_allclose(
        restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6
    )
    restored.fit(x, x[:, :1], verbose=0)  # optimizer state matched its weights


def test_custom_hooks_in_weights_files_match_by_order_when_names_differ(tmp_path):
    model = hooked_model()
    model.save_weights(tmp_path / "w.safetensors")
    with safe_open(tmp_path / "w.safetensors", "pt") as f:
        keys = set(f.keys())
    prefix = f"{model.layers[0].name}/@vars/"
    assert {f"{prefix}{k}" for k in ("0", "1", "2", "variables")} <= keys
    again = hooked_model()  # other automatic layer names
    assert again.layers[0].name != model.layers[0].name
    again.load_weights(tmp_path / "w.safetensors")
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_hook_that_stores_no_array_is_refused_by_name(tmp_path):
    class Bad(layers.Dense):
        def save_own_variables(self, store):
            store["vocab"] = {"a": 1}

    model = plait.Sequential([plait.Input((3,)), Bad(2, name="bad")])
    with pytest.raises(ValueError, match=r"layer 'bad'.*stored 'vocab' as dict"):
        model.save_weights(tmp_path / "w.safetensors")


def test_file_without_a_hooked_layers_variables(tmp_path):
    from safetensors.torch import load_file, save_file

    model = hooked_model()
    model.save_weights(tmp_path / "w.safetensors")
    tensors = load_file(tmp_path / "w.safetensors")
    with safe_open(tmp_path / "w.safetensors", "pt") as f:
        metadata = f.metadata()
    kept = {k: v for k, v in tensors.items() if "@vars/" not in k}
    save_file(
        kept, tmp_path / "w.safetensors", metadata={**metadata, "plait_hooks": "[]"}
    )
    with pytest.raises(ValueError, match=r"no stored variables for the layers at"):
        model.load_weights(tmp_path / "w.safetensors")
    kept = model.layers[0].get_weights()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = model.load_weights(tmp_path / "w.safetensors", skip_mismatch=True)
    assert any("no stored variables" in str(w.message) for w in caught)
    assert f"{model.layers[0].name}/@vars/" in report.missing
    for a, b in zip(model.layers[0].get_weights(), kept, strict=True):
        np.testing.assert_array_equal(a, b)


def test_custom_hooks_in_keras_weights_h5_files(tmp_path):
    pytest.importorskip("h5py")
    import h5py

    model = hooked_model()
    model.save_weights(tmp_path / "w.weights.h5")
    with h5py.File(tmp_path / "w.weights.h5") as f:
        names = []
        f.visit(names.append)
    assert any(n.endswith("vars/variables") for n in names)  # as Keras writes it
    again = hooked_model()
    again.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(
        again.layers[0].scale.numpy(), model.layers[0].scale.numpy()
    )
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0))
