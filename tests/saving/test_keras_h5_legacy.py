"""Legacy HDF5 (`.h5`) files: Keras 3's legacy writer, Keras 2 layouts, crafted files.

The fixtures under `fixtures/h5/` were written by Keras 3's legacy writer
(`make_keras_h5_fixtures.py`) with Keras's predictions beside them; the
Keras 2 files are written here with h5py in Keras 2's layout (`kernel:0`
names, Keras 2 configs), and so are the crafted ones.
"""

import json
import pathlib
import shutil

import numpy as np
import pytest
import torch

import plait
from plait import layers as L
from plait.models import load_model
from plait.saving import register_serializable

h5py = pytest.importorskip("h5py")

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "h5"
NAMES = ["mlp", "seq_conv", "nested_shared", "rnn"]


def _data(name):
    data = np.load(FIXTURES / f"{name}.npz")
    xs = [data[k] for k in data.files if k.startswith("x:")]
    ys = [data[k] for k in data.files if k.startswith("y:")]
    return (xs if len(xs) > 1 else xs[0]), ys


def _copy(tmp_path, name="mlp.h5"):
    path = tmp_path / name
    shutil.copy(FIXTURES / name, path)
    return path


def _mlp(names=("hidden", "bn", "dropout", "probs")):
    x = plait.Input((6,), name="x")
    h = L.Dense(8, activation="relu", name=names[0])(x)
    h = L.BatchNormalization(name=names[1])(h)
    h = L.Dropout(0.2, name=names[2])(h)
    return plait.Model(x, L.Dense(3, activation="softmax", name=names[3])(h))


# ------------------------------------------------------------------ load_model
@pytest.mark.parametrize("name", NAMES)
def test_fixture_predicts_as_keras(name):
    model = load_model(FIXTURES / f"{name}.h5")
    x, ys = _data(name)
    pred = model.predict(x, verbose=0)
    preds = pred if isinstance(pred, (list, tuple)) else [pred]
    assert len(preds) == len(ys)
    for got, want in zip(preds, ys):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-6)


def test_shared_and_nested_layers_keep_their_structure():
    model = load_model(FIXTURES / "nested_shared.h5")
    shared = model.get_layer("shared")
    assert len(shared._inbound_nodes) == 3
    assert isinstance(model.get_layer("inner"), plait.Model)


def test_compile_configuration_is_restored_and_fit_continues():
    model = load_model(FIXTURES / "nested_shared.h5")
    assert type(model.optimizer).__name__ == "RMSprop"
    assert model.optimizer.get_config()["rho"] == pytest.approx(0.9)
    args = model._compile_args
    assert args["loss"] == ["binary_crossentropy", "mse"]
    assert args["loss_weights"] == [1.0, 0.5]
    assert args["metrics"] == [["accuracy"], ["mae"]]
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(8, 4)), rng.normal(size=(8, 4))]
    y = [rng.integers(0, 2, (8, 1)).astype("float32"), rng.normal(size=(8, 2))]
    before = model.get_weights()
    history = model.fit(x, y, epochs=1, verbose=0)
    assert {"loss", "main_accuracy", "aux_mae"} <= set(history.history)
    assert not np.allclose(before[0], model.get_weights()[0])

    mlp = load_model(FIXTURES / "mlp.h5")
    assert type(mlp.optimizer).__name__ == "Adam"
    assert mlp.optimizer.get_config()["learning_rate"] == pytest.approx(0.01)
    sgd = load_model(FIXTURES / "seq_conv.h5").optimizer.get_config()
    assert sgd["momentum"] == pytest.approx(0.9)


def test_compile_false_leaves_the_model_uncompiled():
    assert not load_model(FIXTURES / "mlp.h5", compile=False).compiled


# ------------------------------------------------------------------ load_weights
def test_keras2_weights_file_loads_in_topological_order():
    model = _mlp(("a", "b", "c", "d"))  # other names: matched by order
    report = model.load_weights(FIXTURES / "mlp_weights.h5")
    assert report.missing == report.unexpected == report.mismatched == []
    x, ys = _data("mlp")
    np.testing.assert_allclose(model.predict(x, verbose=0), ys[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["mlp.weights.h5", "mlp.h5"])
def test_keras3_weights_file_and_model_file_load_weights(name):
    model = _mlp()
    model.load_weights(FIXTURES / name)
    x, ys = _data("mlp")
    np.testing.assert_allclose(model.predict(x, verbose=0), ys[0], rtol=1e-5, atol=1e-6)


def test_by_name_loads_matching_layers_and_reports_the_rest():
    x = plait.Input((6,), name="x")
    h = L.Dense(8, activation="relu", name="hidden")(x)
    extra = L.Dense(3, name="new_head")
    model = plait.Model(x, extra(h))
    before = extra.get_weights()
    report = model.load_weights(FIXTURES / "mlp_weights.h5", by_name=True)
    assert report.missing == ["new_head"]
    assert report.unexpected == ["bn", "probs"]
    with h5py.File(FIXTURES / "mlp_weights.h5") as f:
        kernel = f["hidden/hidden/kernel"][()]
    np.testing.assert_array_equal(model.get_layer("hidden").get_weights()[0], kernel)
    np.testing.assert_array_equal(extra.get_weights()[0], before[0])


def test_mismatch_refused_or_skipped_with_a_report():
    x = plait.Input((6,), name="x")
    h = L.Dense(8, activation="relu", name="hidden")(x)
    h = L.BatchNormalization(name="bn")(h)
    model = plait.Model(x, L.Dense(5, name="probs")(h))  # 5 units, the file 3
    before = model.get_weights()
    path = FIXTURES / "mlp_weights.h5"
    with pytest.raises(ValueError, match=r"layer 'probs'.*shapes.*Nothing was loaded"):
        model.load_weights(path, by_name=True)
    np.testing.assert_array_equal(model.get_weights()[0], before[0])
    with pytest.warns(UserWarning, match=r"skipped what does not match.*'probs'"):
        report = model.load_weights(path, by_name=True, skip_mismatch=True)
    assert report.mismatched == [("probs", (8, 3), (8, 5))]
    assert not np.array_equal(model.get_weights()[0], before[0])
    with pytest.raises(
        ValueError, match=r"file has 3 layers with weights, the model 3|shapes"
    ):
        model.load_weights(path)


def test_save_weights_writes_keras3_layout_for_weights_h5(tmp_path):
    model = load_model(FIXTURES / "rnn.h5", compile=False)
    model.save_weights(tmp_path / "w.weights.h5")
    with h5py.File(tmp_path / "w.weights.h5") as f:
        names = set()
        f.visit(names.add)
    assert "layers/bidirectional/forward_layer/cell/vars/0" in names
    assert "layers/gru/cell/vars/2" in names
    other = load_model(FIXTURES / "rnn.h5", compile=False)
    for w in other.weights:
        torch.nn.init.zeros_(w)
    other.load_weights(tmp_path / "w.weights.h5")
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    model.save_weights(tmp_path / "w.safetensors")  # safetensors otherwise
    assert (tmp_path / "w.safetensors").read_bytes()[:1] != b"\x89"


def _wide_mlp():
    # The same layers as _mlp() but a wider output: 'probs' no longer fits.
    x = plait.Input((6,), name="x")
    h = L.Dense(8, activation="relu", name="hidden")(x)
    h = L.BatchNormalization(name="bn")(h)
    h = L.Dropout(0.2, name="dropout")(h)
    return plait.Model(x, L.Dense(5, activation="softmax", name="probs")(h))


def test_weights_h5_mismatch_loads_nothing(tmp_path):
    _mlp().save_weights(tmp_path / "w.weights.h5")
    wide = _wide_mlp()
    before = [w.copy() for w in wide.get_weights()]
    with pytest.raises(
        ValueError,
        match=r"layer 'probs': the file's shapes \[\(8, 3\), \(3,\)\] differ .*"
        r"Nothing was loaded",
    ):
        wide.load_weights(tmp_path / "w.weights.h5")
    for a, b in zip(before, wide.get_weights()):
        np.testing.assert_array_equal(a, b)  # 'hidden' fits but was not set either


def test_weights_h5_skip_mismatch_loads_the_rest_and_reports(tmp_path):
    source = _mlp()
    source.save_weights(tmp_path / "w.weights.h5")
    wide = _wide_mlp()
    probs_before = wide.get_layer("probs").get_weights()
    with pytest.warns(UserWarning, match=r"skipped the layers .* layer 'probs'"):
        report = wide.load_weights(tmp_path / "w.weights.h5", skip_mismatch=True)
    assert report.mismatched == [("probs", (8, 3), (8, 5))]
    for name in ("hidden", "bn"):
        for a, b in zip(
            source.get_layer(name).get_weights(), wide.get_layer(name).get_weights()
        ):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(probs_before, wide.get_layer("probs").get_weights()):
        np.testing.assert_array_equal(a, b)


class Block(plait.layers.Layer):
    def __init__(self):
        super().__init__()
        self.conv = L.Conv2D(2, 3, padding="same")

    def call(self, inputs):
        return inputs + self.conv(inputs)


class _Net(plait.Model):
    """The subclassing guide's ResNet, small: sub-layers held as attributes."""

    def __init__(self):
        super().__init__()
        self.block_1 = Block()
        self.blocks = [Block()]
        self.pool = L.GlobalAveragePooling2D()
        self.classifier = L.Dense(3)

    def call(self, inputs):
        return self.classifier(self.pool(self.blocks[0](self.block_1(inputs))))


def test_subclassed_model_weights_h5_by_attribute_as_keras(tmp_path):
    """Keras 3 writes a subclassed model's sub-layers under their attribute names
    (a list's under `<attr>/<class>`); plait wrote none of them before."""
    x = np.random.default_rng(0).random((2, 4, 4, 2), dtype=np.float32)
    model, twin = _Net(), _Net()
    model(x)
    twin(x)
    model.save_weights(tmp_path / "w.weights.h5")
    with h5py.File(tmp_path / "w.weights.h5") as f:
        names = set()
        f.visit(names.add)
    assert {
        "block_1/conv/vars/0",
        "blocks/block/conv/vars/1",
        "classifier/vars/0",
        "pool/vars",
    } <= names
    twin.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(
        twin.predict(x, verbose=0), model.predict(x, verbose=0)
    )


# ------------------------------------------------------------------ Keras 2 files
def _keras2_file(path, config, weights, training=None):
    """A Keras 2 model file: `weights` is {layer: [(weight name, array)]}."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(config)
        if training is not None:
            f.attrs["training_config"] = json.dumps(training)
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = [n.encode() for n in weights]
        for layer, items in weights.items():
            g = group.create_group(layer)
            g.attrs["weight_names"] = [n.encode() for n, _ in items]
            for n, value in items:
                g.create_dataset(n, data=value)
    return path


def _keras2_sequential(layers):
    return {"class_name": "Sequential", "config": {"name": "seq", "layers": layers}}


def _dense2(name, units, **extra):
    config = {
        "name": name,
        "trainable": True,
        "dtype": "float32",
        "units": units,
        "activation": "linear",
        "use_bias": True,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None,
        "bias_regularizer": None,
        "activity_regularizer": None,
        "kernel_constraint": None,
        "bias_constraint": None,
        **extra,
    }
    return {"class_name": "Dense", "config": config}


def test_keras2_sequential_with_keras2_options_loads(tmp_path):
    rng = np.random.default_rng(1)
    layers = [
        {
            "class_name": "InputLayer",
            "config": {
                "batch_input_shape": [None, 5],
                "dtype": "int32",
                "sparse": False,
                "ragged": False,
                "name": "ids",
            },
        },
        {
            "class_name": "Embedding",
            "config": {
                "name": "emb",
                "input_dim": 10,
                "output_dim": 3,
                "input_length": 5,
                "mask_zero": False,
                "dtype": "float32",
            },
        },
        {
            "class_name": "LSTM",
            "config": {
                "name": "lstm",
                "units": 2,
                "implementation": 2,
                "time_major": False,
                "return_sequences": True,
            },
        },
        {
            "class_name": "LocallyConnected1D",
            "config": {
                "name": "lc",
                "filters": 2,
                "kernel_size": [2],
                "strides": [1],
                "padding": "valid",
                "data_format": "channels_last",
                "implementation": 1,
            },
        },
        {"class_name": "Flatten", "config": {"name": "flat"}},
        _dense2("out", 1),
    ]
    arrays = {
        "emb": [("emb/embeddings:0", rng.normal(size=(10, 3)))],
        "lstm": [
            ("lstm/lstm_cell/kernel:0", rng.normal(size=(3, 8))),
            ("lstm/lstm_cell/recurrent_kernel:0", rng.normal(size=(2, 8))),
            ("lstm/lstm_cell/bias:0", rng.normal(size=(8,))),
        ],
        "lc": [
            ("lc/kernel:0", rng.normal(size=(4, 4, 2))),
            ("lc/bias:0", rng.normal(size=(4, 2))),
        ],
        "flat": [],
        "out": [
            ("out/kernel:0", rng.normal(size=(8, 1))),
            ("out/bias:0", rng.normal(size=(1,))),
        ],
    }
    path = _keras2_file(tmp_path / "k2.h5", _keras2_sequential(layers), arrays)
    model = load_model(path)
    assert model.get_layer("lc").implementation == 1
    flat = [a for items in arrays.values() for _, a in items]
    for got, want in zip(model.get_weights(), flat):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    assert model.predict(np.array([[1, 2, 3, 4, 5]]), verbose=0).shape == (1, 1)


def test_keras2_tensor_call_arguments_load(tmp_path):
    # Keras 2 writes a tensor passed by keyword (MultiHeadAttention's `value`)
    # as a [layer, node, tensor] list in the node's kwargs; Keras 3 passes such
    # a list on as it is, plait reads it as the tensor it names.
    q_in, v_in = plait.Input((4, 6), name="q"), plait.Input((5, 6), name="v")
    mha = L.MultiHeadAttention(num_heads=2, key_dim=3, name="mha")
    reference = plait.Model([q_in, v_in], mha(q_in, value=v_in))
    weights = [(f"mha/w{i}:0", w) for i, w in enumerate(mha.get_weights())]

    def inp(name, steps):
        return {
            "class_name": "InputLayer",
            "name": name,
            "inbound_nodes": [],
            "config": {"batch_input_shape": [None, steps, 6], "name": name},
        }

    mha_config = reference.get_layer("mha").get_config()
    config = {
        "class_name": "Functional",
        "config": {
            "name": "f",
            "layers": [
                inp("q", 4),
                inp("v", 5),
                {
                    "class_name": "MultiHeadAttention",
                    "name": "mha",
                    "config": {
                        k: mha_config[k] for k in ("name", "num_heads", "key_dim")
                    },
                    "inbound_nodes": [[["q", 0, 0, {"value": ["v", 0, 0]}]]],
                },
            ],
            "input_layers": [["q", 0, 0], ["v", 0, 0]],
            "output_layers": [["mha", 0, 0]],
        },
    }
    path = _keras2_file(tmp_path / "mha.h5", config, {"mha": weights})
    model = load_model(path, compile=False)
    rng = np.random.default_rng(0)
    x = [
        rng.standard_normal((2, 4, 6), "float32"),
        rng.standard_normal((2, 5, 6), "float32"),
    ]
    np.testing.assert_allclose(
        model.predict(x, verbose=0), reference.predict(x, verbose=0), atol=1e-6
    )


def test_keras2_cudnn_lstm_file_loads(tmp_path):
    # Keras 2.3's GPU-only layer, removed in Keras 3: its file loads and runs.
    rng = np.random.default_rng(5)
    weights = [
        ("cu_dnnlstm/kernel:0", rng.normal(0, 0.5, (3, 16)).astype("float32")),
        (
            "cu_dnnlstm/recurrent_kernel:0",
            rng.normal(0, 0.5, (4, 16)).astype("float32"),
        ),
        ("cu_dnnlstm/bias:0", rng.normal(0, 0.5, (32,)).astype("float32")),
    ]
    cudnn = {
        "class_name": "CuDNNLSTM",
        "config": {
            "name": "cu_dnnlstm",
            "trainable": True,
            "batch_input_shape": [None, 5, 3],
            "dtype": "float32",
            "return_sequences": False,
            "return_state": False,
            "go_backwards": False,
            "stateful": False,
            "units": 4,
            "kernel_initializer": {
                "class_name": "GlorotUniform",
                "config": {"seed": None},
            },
            "recurrent_initializer": {
                "class_name": "Orthogonal",
                "config": {"gain": 1.0},
            },
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "unit_forget_bias": True,
            "kernel_regularizer": None,
            "recurrent_regularizer": None,
            "bias_regularizer": None,
            "activity_regularizer": None,
            "kernel_constraint": None,
            "recurrent_constraint": None,
            "bias_constraint": None,
        },
    }
    path = _keras2_file(
        tmp_path / "cudnn.h5", _keras2_sequential([cudnn]), {"cu_dnnlstm": weights}
    )
    model = load_model(path, compile=False)
    layer = model.layers[0]
    assert type(layer) is L.CuDNNLSTM
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    reference = L.CuDNNLSTM(4)
    reference_model = plait.Sequential([plait.Input((5, 3)), reference])
    reference.set_weights([w for _, w in weights])
    np.testing.assert_allclose(
        model.predict(x, verbose=0), reference_model.predict(x, verbose=0), rtol=1e-6
    )
    np.testing.assert_array_equal(layer.get_weights()[0], weights[0][1])


def test_keras2_functional_nodes_and_training_config(tmp_path):
    rng = np.random.default_rng(2)
    config = {
        "class_name": "Functional",
        "config": {
            "name": "f",
            "layers": [
                {
                    "class_name": "InputLayer",
                    "name": "x",
                    "inbound_nodes": [],
                    "config": {"batch_input_shape": [None, 3], "name": "x"},
                },
                {**_dense2("d", 2), "name": "d", "inbound_nodes": [[["x", 0, 0, {}]]]},
            ],
            "input_layers": [["x", 0, 0]],
            "output_layers": [["d", 0, 0]],
        },
    }
    training = {
        "loss": {
            "class_name": "MeanSquaredError",
            "config": {"reduction": "auto", "name": "mean_squared_error"},
        },
        "metrics": [
            [
                {
                    "class_name": "MeanMetricWrapper",
                    "config": {
                        "name": "mae",
                        "dtype": "float32",
                        "fn": "mean_absolute_error",
                    },
                }
            ]
        ],
        "weighted_metrics": None,
        "loss_weights": None,
        "optimizer_config": {
            "class_name": "Adam",
            "config": {
                "name": "Adam",
                "learning_rate": 0.005,
                "decay": 0.0,
                "beta_1": 0.9,
                "beta_2": 0.999,
                "epsilon": 1e-07,
                "amsgrad": False,
            },
        },
    }
    kernel, bias = rng.normal(size=(3, 2)), rng.normal(size=(2,))
    arrays = {"x": [], "d": [("d/kernel:0", kernel), ("d/bias:0", bias)]}
    path = _keras2_file(tmp_path / "f.h5", config, arrays, training)
    model = load_model(path)
    x = rng.normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(
        model.predict(x, verbose=0), x @ kernel + bias, rtol=1e-5
    )
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(0.005)
    history = model.fit(x, np.zeros((4, 2)), epochs=1, verbose=0).history
    assert set(history) == {"loss", "mae"}
    training["optimizer_config"]["config"]["use_ema"] = True  # plait has no EMA
    path = _keras2_file(tmp_path / "g.h5", config, arrays, training)
    with pytest.warns(UserWarning, match=r"returned uncompiled.*use_ema"):
        model = load_model(path)
    assert not model.compiled


# ------------------------------------------------------------------ Lambda
def _lambda_file(tmp_path, function, **extra):
    lam = {
        "class_name": "Lambda",
        "config": {"name": "lam", "function": function, "arguments": {}, **extra},
    }
    layers = [
        {
            "class_name": "InputLayer",
            "config": {"batch_input_shape": [None, 2], "name": "x"},
        },
        lam,
    ]
    return _keras2_file(tmp_path / "lam.h5", _keras2_sequential(layers), {"lam": []})


def _double(x):
    return x * 2


def test_lambda_bytecode_refused_unless_passed_by_layer_name(tmp_path):
    code = [
        "4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAfABkARQAUwApAk7pAgAAAKkAKQHaAXhy",
        None,
        None,
    ]
    path = _lambda_file(tmp_path, code, function_type="lambda", module="__main__")
    with pytest.raises(
        ValueError,
        match=r"Lambda layer 'lam': expected its function in custom_objects as 'lam'.*got Python bytecode",
    ):
        load_model(path)
    model = load_model(path, custom_objects={"lam": _double})
    np.testing.assert_allclose(model.predict(np.ones((1, 2)), verbose=0), [[2.0, 2.0]])


def test_lambda_named_function_needs_custom_objects(tmp_path):
    path = _lambda_file(tmp_path, "os_system", function_type="raw", module="os")
    with pytest.raises(
        ValueError,
        match=r"Lambda layer 'lam': expected its function in custom_objects as 'os_system'.*got the function 'os_system'",
    ):
        load_model(path)
    model = load_model(path, custom_objects={"os_system": _double})
    assert model.get_layer("lam").function is _double


def test_lambda_keras3_code_refused(tmp_path):
    function = {
        "class_name": "__lambda__",
        "config": {"code": "AAAA", "defaults": None},
    }
    path = _lambda_file(tmp_path, function)
    with pytest.raises(ValueError, match=r"Lambda layer 'lam'.*Python bytecode"):
        load_model(path)


@register_serializable(package="h5test")
def _registered_double(x):
    return x * 2


def test_lambda_of_a_registered_function_loads(tmp_path):
    path = _lambda_file(tmp_path, "h5test>_registered_double", function_type="raw")
    assert load_model(path).get_layer("lam").function is _registered_double


# ------------------------------------------------------------------ crafted files
def _mutate(tmp_path, fn, name="mlp.h5"):
    path = _copy(tmp_path, name)
    with h5py.File(path, "a") as f:
        fn(f)
    return path


def _replace(group, key, make):
    del group[key]
    make(group, key)


def test_external_link_refused(tmp_path):
    def edit(f):
        _replace(
            f["model_weights"],
            "hidden",
            lambda g, k: g.__setitem__(k, h5py.ExternalLink("/etc/passwd", "/")),
        )

    with pytest.raises(ValueError, match=r"member 'hidden' is a ExternalLink"):
        load_model(_mutate(tmp_path, edit))


def test_soft_link_refused(tmp_path):
    def edit(f):
        _replace(
            f["model_weights/hidden/hidden"],
            "kernel",
            lambda g, k: g.__setitem__(
                k, h5py.SoftLink("/model_weights/probs/probs/kernel")
            ),
        )

    with pytest.raises(
        ValueError, match=r"weight 'hidden/kernel' is missing or a link"
    ):
        load_model(_mutate(tmp_path, edit))


def test_external_storage_refused(tmp_path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.ones((6, 8), "float32").tobytes())

    def edit(f):
        _replace(
            f["model_weights/hidden/hidden"],
            "kernel",
            lambda g, k: g.create_dataset(
                k, shape=(6, 8), dtype="float32", external=[(str(secret), 0, 192)]
            ),
        )

    with pytest.raises(ValueError, match=r"stored outside the file \(external\)"):
        load_model(_mutate(tmp_path, edit))


def test_virtual_dataset_refused(tmp_path):
    def edit(f):
        layout = h5py.VirtualLayout(shape=(6, 8), dtype="float32")
        layout[...] = h5py.VirtualSource(str(tmp_path / "gone.h5"), "x", shape=(6, 8))
        _replace(
            f["model_weights/hidden/hidden"],
            "kernel",
            lambda g, k: g.create_virtual_dataset(k, layout, fillvalue=0),
        )

    with pytest.raises(ValueError, match=r"stored outside the file \(a virtual"):
        load_model(_mutate(tmp_path, edit))


def test_compressed_and_object_datasets_refused(tmp_path):
    def edit(f):
        _replace(
            f["model_weights/hidden/hidden"],
            "kernel",
            lambda g, k: g.create_dataset(
                k, data=np.ones((6, 8), "float32"), compression="gzip"
            ),
        )

    with pytest.raises(ValueError, match=r"not a plain numeric array \(filtered"):
        load_model(_mutate(tmp_path, edit))

    def strings(f):
        _replace(
            f["model_weights/hidden/hidden"],
            "bias",
            lambda g, k: g.create_dataset(k, data=[b"x"] * 8),
        )

    with pytest.raises(ValueError, match=r"not a plain numeric array"):
        load_model(_mutate(tmp_path, strings, "mlp.h5"))


def test_dataset_larger_than_its_storage_refused(tmp_path):
    def edit(f):
        _replace(
            f["model_weights/hidden/hidden"],
            "kernel",
            lambda g, k: g.create_dataset(
                k, shape=(6, 8), dtype="float32", chunks=(1, 8)
            ),
        )  # never written

    with pytest.raises(ValueError, match=r"declares 192 bytes, but the file holds 0"):
        load_model(_mutate(tmp_path, edit))


def test_huge_config_refused_before_memory_is_used(tmp_path):
    def edit(f):
        config = json.loads(f.attrs["model_config"])
        config["config"]["layers"][1]["config"]["units"] = 2**31  # 48 GiB of kernel
        f.attrs["model_config"] = json.dumps(config)

    with pytest.raises(
        ValueError,
        match=r"expected the file to hold the model's weights, got a model of \d+ weight bytes",
    ):
        load_model(_mutate(tmp_path, edit))


def test_attribute_of_the_wrong_type_refused(tmp_path):
    def ref(f):
        f.attrs["model_config"] = f["model_weights"].ref

    with pytest.raises(ValueError, match=r"attribute 'model_config' of '/' has type"):
        load_model(_mutate(tmp_path, ref))

    def numbers(f):
        f["model_weights"].attrs["layer_names"] = np.zeros(3)

    with pytest.raises(ValueError, match=r"'layer_names' is not a list of names"):
        _mlp().load_weights(_mutate(tmp_path, numbers))


def test_malformed_json_and_missing_parts_refused(tmp_path):
    def bad_json(f):
        f.attrs["model_config"] = "{not json"

    with pytest.raises(ValueError, match=r"'model_config' is not valid JSON"):
        load_model(_mutate(tmp_path, bad_json))
    with pytest.raises(ValueError, match=r"expected a 'model_config' attribute"):
        load_model(FIXTURES / "mlp_weights.h5")

    def no_weights(f):
        del f["model_weights/probs"]

    with pytest.raises(ValueError, match=r"no weights group for layer 'probs'"):
        load_model(_mutate(tmp_path, no_weights))


def test_hard_link_cycle_refused(tmp_path):
    def edit(f):
        f["model_weights/hidden/hidden/loop"] = f["model_weights/hidden"]
        names = [b"hidden/loop/hidden/kernel", b"hidden/bias"]
        f["model_weights/hidden"].attrs["weight_names"] = names

    with pytest.raises(ValueError, match=r"a cycle"):
        load_model(_mutate(tmp_path, edit))


def test_unknown_hdf5_weights_file_refused(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.ones(3))
    with pytest.raises(ValueError, match=r"expected Keras's 'layer_names' attribute"):
        _mlp().load_weights(path)


@pytest.mark.keras
def test_keras_reads_the_weights_h5_plait_writes(tmp_path):
    pytest.importorskip("keras")
    import subprocess
    import sys

    model = load_model(FIXTURES / "rnn.h5", compile=False)
    model.save_weights(tmp_path / "w.weights.h5")
    np.savez(tmp_path / "want.npz", *model.get_weights())
    script = f"""
import os
os.environ.setdefault("KERAS_BACKEND", "torch")
import keras, numpy as np
model = keras.models.load_model({str(FIXTURES / "rnn.h5")!r}, compile=False)
for v in model.weights:
    v.assign(np.zeros(v.shape))
model.load_weights({str(tmp_path / "w.weights.h5")!r})
want = np.load({str(tmp_path / "want.npz")!r})
got = model.get_weights()
assert len(got) == len(want.files)
for i, w in enumerate(got):
    np.testing.assert_array_equal(w, want[f"arr_{{i}}"])
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=300)


def test_attribute_with_too_many_items_refused(tmp_path, monkeypatch):
    from plait.saving import keras_h5

    monkeypatch.setattr(keras_h5, "MAX_ATTR_ITEMS", 4)  # the file lists 5 layers
    with pytest.raises(ValueError, match=r"'layer_names' of '/' declares 5 items"):
        _mlp().load_weights(FIXTURES / "mlp_weights.h5")


KERAS2_CONFIGS = {
    "BatchNormalization": {"name": "bn", "axis": [3], "momentum": 0.99},
    "GRU": {"name": "g", "units": 3, "reset_after": True, "implementation": 2,
            "time_major": False},
    "Bidirectional": {"name": "bi", "merge_mode": "concat", "layer": {
        "class_name": "LSTM", "config": {"name": "l", "units": 2, "implementation": 1}}},
    "MultiHeadAttention": {"name": "mha", "num_heads": 2, "key_dim": 2,
                           "query_shape": [None, 3, 4], "key_shape": [None, 3, 4],
                           "value_shape": [None, 3, 4]},
    "Conv2D": {"name": "c", "filters": 2, "kernel_size": [3, 3], "groups": 1},
    "Embedding": {"name": "e", "input_dim": 5, "output_dim": 2, "input_length": 4},
}  # fmt: skip


@pytest.mark.parametrize("cls", list(KERAS2_CONFIGS))
def test_keras2_layer_options_translate(cls):
    from plait.layers.serialization import deserialize_layer
    from plait.saving.keras_import import keras_to_plait_config
    from plait.saving.keras_legacy import legacy_entry

    entry = legacy_entry({"class_name": cls, "config": KERAS2_CONFIGS[cls]}, {})
    layer = deserialize_layer(keras_to_plait_config(entry))
    assert type(layer).__name__ == cls


def test_truncated_or_corrupted_files_give_a_value_error(tmp_path):
    """Interrupted downloads, and 19 files with 20 random bytes changed each.

    The corrupted files stop before the 20th of this stream: it flips a byte
    that makes libhdf5 itself spin while decoding a variable-length string
    attribute, a denial of service plait cannot stop from Python (noted in
    `keras_legacy`'s docstring).
    """
    data = (FIXTURES / "mlp.h5").read_bytes()
    path = tmp_path / "bad.h5"
    for i in range(1, 21):
        path.write_bytes(data[: len(data) * i // 21])
        with pytest.raises(ValueError, match=r"corrupt or truncated|not a readable"):
            load_model(path)
    rng = np.random.default_rng(5)
    for _ in range(19):
        buf = bytearray(data)
        for j in rng.integers(0, len(buf), 20):
            buf[j] = int(rng.integers(0, 256))
        path.write_bytes(bytes(buf))
        with pytest.raises(ValueError, match=r"."):  # never OSError or RuntimeError
            load_model(path)
