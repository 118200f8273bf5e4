"""Tests for plait.saving.keras_import: Keras 3 `.keras` files predict as in Keras.

The fixtures come from `make_keras_fixtures.py` (Keras 3.15, torch backend) with
Keras's own predictions recorded next to them, so these tests need no Keras.
"""

import io
import json
import os
import pathlib
import threading
import zipfile

import numpy as np
import pytest

from plait.models import load_model
from plait.utils import tree

h5py = pytest.importorskip("h5py")

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
NAMES = ["mlp", "multi_io", "seq_conv", "lstm", "wrappers", "zoo", "nested", "augment"]


def _recorded(name):
    rec = np.load(FIXTURES / f"{name}.npz")
    xs = {k[2:]: rec[k] for k in rec.files if k.startswith("x:")}
    ys = {k[2:]: rec[k] for k in rec.files if k.startswith("y:")}
    return (xs if len(xs) > 1 else next(iter(xs.values()))), ys


def _by_key(out):
    if isinstance(out, dict):
        return out
    return {str(i): o for i, o in enumerate(out if isinstance(out, list) else [out])}


@pytest.mark.parametrize("name", NAMES)
def test_keras_file_predicts_like_keras(name):
    model = load_model(FIXTURES / f"{name}.keras")
    xs, ys = _recorded(name)
    got = _by_key(model.predict(xs, verbose=0))
    assert sorted(got) == sorted(ys)
    for key, want in ys.items():
        np.testing.assert_allclose(got[key], want, rtol=1e-5, atol=1e-5)


@pytest.mark.usefixtures("clean_registry")
def test_keras_file_with_custom_activation_functions():
    # Keras saves an unregistered function by its name (found through
    # custom_objects) and a registered one by "package>name".
    import plait

    def doubled(x):
        return x * 2.0

    @plait.saving.register_keras_serializable(package="fixtures")
    def tripled(x):
        return x * 3.0

    path = FIXTURES / "activations.keras"
    with pytest.raises(ValueError, match=r"Unknown activation 'doubled'"):
        load_model(path)
    model = load_model(path, custom_objects={"doubled": doubled})
    xs, ys = _recorded("activations")
    np.testing.assert_allclose(
        model.predict(xs, verbose=0), ys["0"], rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("name", ["multi_io", "wrappers"])
def test_keras_import_then_plait_roundtrip(name, tmp_path):
    model = load_model(FIXTURES / f"{name}.keras")
    model.save(tmp_path / "m.plait")
    again = load_model(tmp_path / "m.plait")
    xs, _ = _recorded(name)
    for a, b in zip(
        tree.flatten(model.predict(xs, verbose=0)),
        tree.flatten(again.predict(xs, verbose=0)),
    ):
        np.testing.assert_array_equal(a, b)


def test_keras_structure_is_kept():
    model = load_model(FIXTURES / "multi_io.keras")
    assert model.input_names == ["ids", "feats"]
    assert model.output_names == ["main", "aux"]
    assert len(model.get_layer("shared").inbound_nodes) == 3
    lstm = load_model(FIXTURES / "lstm.keras")
    assert "not_equal" not in [layer.name for layer in lstm.layers]  # mask op dropped


def _edit(tmp_path, name, edit_config=None, edit_h5=None, meta=None):
    with zipfile.ZipFile(FIXTURES / f"{name}.keras") as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    if edit_config is not None:
        config = json.loads(members["config.json"])
        edit_config(config)
        members["config.json"] = json.dumps(config).encode()
    if edit_h5 is not None:
        buf = io.BytesIO(members["model.weights.h5"])
        with h5py.File(buf, "r+") as f:
            edit_h5(f)
        members["model.weights.h5"] = buf.getvalue()
    if meta is not None:
        members["metadata.json"] = json.dumps(meta).encode()
    path = tmp_path / "edited.keras"
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    return path


def _layer(config, name):
    return next(e for e in config["config"]["layers"] if e["name"] == name)


def test_keras_unsupported_layers_are_named(tmp_path):
    def edit(config):
        _layer(config, "dense")["class_name"] = "FancyDense"
        _layer(config, "probs")["class_name"] = "Sparkle"

    with pytest.raises(
        ValueError, match=r"does not have: FancyDense \(layer 'dense'\), Sparkle"
    ):
        load_model(_edit(tmp_path, "mlp", edit))


def test_keras_module_keys_import_nothing(tmp_path):
    def edit(config):
        entry = _layer(config, "dense")
        entry.update(module="os", class_name="system")

    with pytest.raises(ValueError, match=r"system \(layer 'dense'\)"):
        load_model(_edit(tmp_path, "mlp", edit))


def test_keras_lambda_bytecode_refused(tmp_path):
    def edit(config):
        entry = _layer(config, "dense")
        entry["class_name"] = "Lambda"
        entry["config"] = {
            "name": "dense",
            "function": {"class_name": "__lambda__", "config": {"code": "4wEAAA=="}},
        }

    with pytest.raises(ValueError, match="bytecode"):
        load_model(_edit(tmp_path, "mlp", edit))


def test_keras_unsupported_option_is_named(tmp_path):
    def edit(config):
        _layer(config, "dense")["config"]["lora_rank"] = 4

    with pytest.raises(ValueError, match=r"option lora_rank=4 is not supported"):
        load_model(_edit(tmp_path, "mlp", edit))


def test_keras_h5_links_refused(tmp_path):
    def edit(f):
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = h5py.ExternalLink("/etc/passwd", "/")

    with pytest.raises(ValueError, match="missing or a link"):
        load_model(_edit(tmp_path, "mlp", edit_h5=edit))

    def edit_group(f):
        del f["layers/dense"]
        f["layers/dense"] = h5py.SoftLink("/layers/dense_1")

    with pytest.raises(ValueError, match="SoftLink"):
        load_model(_edit(tmp_path, "mlp", edit_h5=edit_group))


def _replace_kernel(f, make):
    """Replace `dense`'s kernel with the dataset `make(group, name, shape, dtype)`."""
    ds = f["layers/dense/vars/0"]
    shape, dtype = ds.shape, ds.dtype
    del f["layers/dense/vars/0"]
    make(f["layers/dense/vars"], "0", shape, dtype)


def test_keras_h5_external_storage_refused(tmp_path):
    # The dataset's bytes would be read from a local file: its content must not
    # become kernel values.
    secret = tmp_path / "secret.bin"

    def make(group, name, shape, dtype):
        np.full(shape, 7.0, dtype).tofile(secret)
        nbytes = int(np.prod(shape)) * dtype.itemsize
        group.create_dataset(
            name, shape=shape, dtype=dtype, external=[(str(secret), 0, nbytes)]
        )

    path = _edit(tmp_path, "mlp", edit_h5=lambda f: _replace_kernel(f, make))
    with pytest.raises(
        ValueError, match=r"vars/0 is stored outside the file \(external"
    ):
        load_model(path)


def test_keras_h5_external_fifo_refused_before_reading(tmp_path):
    # Reading a FIFO would block load_model forever: refused before any read.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def make(group, name, shape, dtype):
        nbytes = int(np.prod(shape)) * dtype.itemsize
        group.create_dataset(
            name, shape=shape, dtype=dtype, external=[(str(fifo), 0, nbytes)]
        )

    path = _edit(tmp_path, "mlp", edit_h5=lambda f: _replace_kernel(f, make))

    def unblock():  # should the check regress, the test fails instead of hanging
        with open(fifo, "wb") as w:
            w.write(b"\0" * 4096)

    timer = threading.Timer(20.0, unblock)
    timer.daemon = True
    timer.start()
    try:
        with pytest.raises(ValueError, match="stored outside the file"):
            load_model(path)
    finally:
        timer.cancel()


def test_keras_h5_virtual_dataset_refused(tmp_path):
    # A virtual dataset whose source is missing would load as its fill value.
    def make(group, name, shape, dtype):
        layout = h5py.VirtualLayout(shape=shape, dtype=dtype)
        layout[...] = h5py.VirtualSource(str(tmp_path / "gone.h5"), "x", shape=shape)
        group.create_virtual_dataset(name, layout, fillvalue=0)

    path = _edit(tmp_path, "mlp", edit_h5=lambda f: _replace_kernel(f, make))
    with pytest.raises(ValueError, match=r"stored outside the file \(a virtual"):
        load_model(path)


def test_keras_h5_unwritten_and_filtered_datasets_refused(tmp_path):
    def unwritten(group, name, shape, dtype):
        group.create_dataset(name, shape=shape, dtype=dtype, chunks=True)

    path = _edit(tmp_path, "mlp", edit_h5=lambda f: _replace_kernel(f, unwritten))
    with pytest.raises(ValueError, match=r"declares \d+ bytes, but the file holds 0"):
        load_model(path)

    def shuffled(group, name, shape, dtype):
        group.create_dataset(name, data=np.ones(shape, dtype), shuffle=True)

    path = _edit(tmp_path, "mlp", edit_h5=lambda f: _replace_kernel(f, shuffled))
    with pytest.raises(ValueError, match="filtered or compressed data is refused"):
        load_model(path)


def test_keras_h5_hard_link_cycle_refused(tmp_path):
    def edit(f):
        f["layers/dense/loop"] = f["layers/dense"]

    with pytest.raises(ValueError, match=r"hard link to one of its own parents"):
        load_model(_edit(tmp_path, "mlp", edit_h5=edit))


def test_keras_h5_deep_tree_refused(tmp_path):
    def edit(f):
        f.create_group("layers/dense/x" + "/x" * 40)

    with pytest.raises(ValueError, match=r"HDF5 tree is deeper than 32 groups"):
        load_model(_edit(tmp_path, "mlp", edit_h5=edit))


@pytest.mark.parametrize("depth", [150, 5000])
def test_keras_over_deep_config_refused(tmp_path, depth):
    # 150 parses but would exhaust the stack of the config walkers; 5000 is
    # too deep for the JSON parser itself. Both are one clear ValueError.
    def edit(config):
        _layer(config, "dense")["inbound_nodes"][0]["args"] = ["DEEP"]

    path = _edit(tmp_path, "mlp", edit_config=edit)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    deep = "[" * depth + "1" + "]" * depth
    members["config.json"] = members["config.json"].replace(b'"DEEP"', deep.encode())
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    with pytest.raises(ValueError, match=r"config.json'.*(nested more than|not valid)"):
        load_model(path)


def test_keras_h5_wrong_shapes_refused(tmp_path):
    def edit(f):
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = np.zeros((3, 3), "float32")

    with pytest.raises(
        ValueError, match=r"weights do not fit: layer 'dense': the file's shapes"
    ):
        load_model(_edit(tmp_path, "mlp", edit_h5=edit))


def test_keras_2_metadata_refused(tmp_path):
    path = _edit(tmp_path, "mlp", meta={"keras_version": "2.15.0"})
    with pytest.raises(ValueError, match="not a Keras 3 file"):
        load_model(path)
