"""Crafted model files: each must give a clear ValueError, fast, with nothing run."""

import builtins
import io
import json
import os
import pathlib
import re
import struct
import subprocess
import time
import zipfile

import numpy as np
import pytest
import torch
from safetensors.torch import save as st_save

from plait import layers as L
from plait.models import Model, load_model, model_from_json
from plait.saving import model_io

EMPTY_WEIGHTS = st_save({})
META = json.dumps({"format": "plait", "format_version": 1}).encode()


def write_zip(path, members, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def crafted(tmp_path, config, weights=EMPTY_WEIGHTS):
    raw = config if isinstance(config, bytes) else json.dumps(config).encode()
    members = {"metadata.json": META, "config.json": raw, "model.safetensors": weights}
    return write_zip(tmp_path / "evil.plait", members)


def functional(*entries):
    return {
        "class_name": "Functional",
        "config": {
            "name": "m",
            "layers": [
                {
                    "class_name": "InputLayer",
                    "config": {"batch_shape": [None, 2], "name": "x"},
                    "name": "x",
                    "inbound_nodes": [],
                },
                *entries,
            ],
            "input_layers": ["x", 0, 0],
            "output_layers": ["evil", 0, 0],
        },
    }


def evil_layer(**fields):
    call = {"args": [{"__tensor__": ["x", 0, 0]}], "kwargs": {}}
    return {"name": "evil", "inbound_nodes": [call], "config": {}, **fields}


@pytest.fixture
def no_code_runs(monkeypatch):
    """Fail the test if a file makes plait run a shell or evaluate text."""
    ran = []

    def refuse(*args, **kwargs):
        ran.append(args)
        raise AssertionError(f"code ran: {args!r}")

    monkeypatch.setattr(os, "system", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(builtins, "eval", refuse)
    yield
    assert not ran


CLASS_CASES = [
    ({"class_name": "os.system", "config": {"command": "echo pwned"}}, "os.system"),
    (functional(evil_layer(class_name="builtins.eval")), "builtins.eval"),
    (
        functional(evil_layer(class_name="Popen", registered_name="subprocess.Popen")),
        "subprocess.Popen",
    ),
    (
        functional(evil_layer(class_name="system", module="os")),
        r"'module' key \('os'\)",
    ),
    (
        {"module": "keras.src.models.functional", "class_name": "Functional"},
        "'module' key",
    ),
    (
        functional(evil_layer(class_name="Lambda", config={"function": "os.system"})),
        r"unknown function 'os.system'",
    ),
    (
        functional(
            evil_layer(class_name="Lambda", config={"function": "builtins>eval"})
        ),
        r"unknown function 'builtins>eval'",
    ),
    (
        functional(
            evil_layer(
                class_name="Dense", config={"units": 2, "activation": "builtins.eval"}
            )
        ),
        "builtins.eval",
    ),
    (
        functional(
            evil_layer(
                class_name="Dense",
                config={"units": 2, "kernel_initializer": {"class_name": "os.system"}},
            )
        ),
        "os.system",
    ),
]


@pytest.mark.parametrize(("config", "named"), CLASS_CASES)
def test_load_refuses_unknown_names(tmp_path, no_code_runs, config, named):
    path = crafted(tmp_path, config)
    with pytest.raises(ValueError, match=named):
        load_model(path)


def test_load_refuses_declared_1gib_config(tmp_path):
    path = crafted(tmp_path, {"class_name": "Functional", "config": {}})
    data = bytearray(path.read_bytes())
    # Patch config.json's uncompressed size in its local and central headers.
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (pos := data.find(sig, start)) >= 0:
            name_len = struct.unpack_from(
                "<H", data, pos + (26 if offset == 22 else 28)
            )[0]
            name_at = pos + (30 if offset == 22 else 46)
            if data[name_at : name_at + name_len] == b"config.json":
                struct.pack_into("<I", data, pos + offset, 2**30)
            start = pos + 4
    path.write_bytes(bytes(data))
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"config.json' declares 1073741824 bytes"):
        load_model(path)
    assert time.perf_counter() - t0 < 1.0


def test_load_refuses_zip_bomb(tmp_path):
    bomb = bytes(32 * 2**20)  # 32 MiB of zeros deflate to ~32 KiB
    path = write_zip(
        tmp_path / "bomb.plait",
        {"config.json": b"{}", "model.safetensors": bomb},
    )
    assert path.stat().st_size < 2**20
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="zip bomb"):
        load_model(path)
    assert time.perf_counter() - t0 < 1.0


def _saved_model(tmp_path, units=2, name="m.plait"):
    x = L.Input(shape=(3,))
    model = Model(x, L.Dense(units, name="d")(x))
    model.save(tmp_path / name)
    return model, tmp_path / name


@pytest.mark.parametrize("keep", [0.5, 0.95, 30])
def test_load_refuses_truncated_file(tmp_path, keep):
    _, path = _saved_model(tmp_path)
    data = path.read_bytes()
    n = int(len(data) * keep) if keep < 1 else keep
    path.write_bytes(data[:n])
    with pytest.raises(ValueError, match="truncated"):
        load_model(path)


def test_load_refuses_corrupt_member(tmp_path):
    _, path = _saved_model(tmp_path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("model.safetensors")
    # Flip the last data byte of the stored weights: the CRC no longer matches.
    at = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[at + info.compress_size - 1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupt"):
        load_model(path)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (b"\x00\x01not json", "'config.json' is not valid JSON"),
        (b"[1, 2]", "is not a JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, "is not valid JSON"),
        (b'{"class_name": "Dense", "config": []}', "expected 'config' to be a dict"),
    ],
)
def test_load_refuses_config_that_is_not_what_it_says(tmp_path, config, message):
    with pytest.raises(ValueError, match=message):
        load_model(crafted(tmp_path, config))


def _safetensors_with_header(header, data):
    head = json.dumps(header).encode()
    return struct.pack("<Q", len(head)) + head + data


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (
            _safetensors_with_header(
                {
                    "d/kernel": {
                        "dtype": "F32",
                        "shape": [1000, 1000],
                        "data_offsets": [0, 24],
                    }
                },
                bytes(24),
            ),
            "header does not describe the data",
        ),
        (struct.pack("<Q", 2**40) + b"{}", "truncated"),
        (b"PK\x03\x04 not safetensors", "not a safetensors file"),
        (_safetensors_with_header({"d/kernel": [1, 2]}, b""), "malformed header"),
        (
            _safetensors_with_header(
                {
                    "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                    "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
                },
                bytes(12),
            ),
            "overlap",
        ),
        (
            _safetensors_with_header(
                {"a": {"dtype": "EVIL", "shape": [1], "data_offsets": [0, 4]}}, bytes(4)
            ),
            "malformed header",
        ),
    ],
)
def test_load_refuses_lying_safetensors(tmp_path, weights, message):
    x = L.Input(shape=(3,))
    config = model_io.serialize_layer(Model(x, L.Dense(2, name="d")(x)))
    with pytest.raises(ValueError, match=message):
        load_model(crafted(tmp_path, config, weights))


def test_load_refuses_weights_that_disagree_with_architecture(tmp_path):
    _, small = _saved_model(tmp_path, units=2, name="small.plait")
    _, large = _saved_model(tmp_path, units=5, name="large.plait")
    with zipfile.ZipFile(small) as zf:
        config = zf.read("config.json")
    with zipfile.ZipFile(large) as zf:
        weights = zf.read("model.safetensors")
    path = crafted(tmp_path, config, weights)
    with pytest.raises(
        ValueError,
        match=r"shape mismatches \(2\): d/kernel: file \(3, 5\), model \(3, 2\)",
    ):
        load_model(path)


def test_load_weights_nothing_half_loaded(tmp_path):
    x = L.Input(shape=(3,))
    model = Model(x, [L.Dense(2, name="a")(x), L.Dense(2, name="b")(x)])
    model.save_weights(tmp_path / "w.safetensors")
    other = Model(x, [L.Dense(2, name="a")(x), L.Dense(4, name="b")(x)])
    before = [w.copy() for w in other.get_weights()]
    with pytest.raises(ValueError, match="Nothing was loaded"):
        other.load_weights(tmp_path / "w.safetensors")
    for w, b in zip(other.get_weights(), before):
        np.testing.assert_array_equal(w, b)


@pytest.mark.parametrize(
    ("members", "message"),
    [
        (
            {"config.json": b"{}", "evil.py": b"import os"},
            "unexpected member 'evil.py'",
        ),
        ({"config.json": b"{}", "../config.json": b"{}"}, "unexpected member"),
        ({f"m{i}": b"" for i in range(20)}, "at most 16"),
        ({"model.safetensors": EMPTY_WEIGHTS}, "no 'config.json'"),
    ],
)
def test_load_refuses_bad_members(tmp_path, members, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        load_model(write_zip(tmp_path / "bad.plait", members))


def test_load_refuses_links_and_folders(tmp_path):
    for attr, name in (
        (0o120777 << 16, "config.json"),
        (0o040755 << 16 | 0x10, "config.json/"),
    ):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            info = zipfile.ZipInfo(name)
            info.external_attr = attr
            zf.writestr(info, b"/etc/passwd")
        path = tmp_path / "link.plait"
        path.write_bytes(buf.getvalue())
        with pytest.raises(ValueError, match=r"regular file|unexpected member"):
            load_model(path)


def test_load_refuses_broken_hdf5_and_non_zip(tmp_path):
    path = tmp_path / "old.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    with pytest.raises(ValueError, match="not a readable HDF5 file"):
        load_model(path)
    path = tmp_path / "x.plait"
    path.write_bytes(b"just text")
    with pytest.raises(ValueError, match="not a zip"):
        load_model(path)


def test_load_refuses_newer_format(tmp_path):
    _, path = _saved_model(tmp_path)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["metadata.json"] = json.dumps(
        {"format": "plait", "format_version": 99}
    ).encode()
    with pytest.raises(ValueError, match="newer than this plait reads"):
        load_model(write_zip(tmp_path / "new.plait", members))


_BANNED = [
    (r"\bimport pickle\b|\bfrom pickle\b|\bpickle\.(loads?|Unpickler)\b", "pickle"),
    (r"\bmarshal\b", "marshal"),
    (r"\bdill\b|\bcloudpickle\b", "dill/cloudpickle"),
    (r"(?<![\w.])eval\(", "eval("),
    (r"(?<![\w.])exec\(", "exec("),
    (
        r"torch\.load\((?![^)]*weights_only\s*=\s*True)",
        "torch.load( without weights_only=True",
    ),
    (r"\b__import__\(|\bimportlib\b", "dynamic imports"),
]


def test_repo_has_no_code_loading_primitives():
    root = pathlib.Path(__file__).resolve().parents[2] / "plait"
    found = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text()
        for pattern, what in _BANNED:
            for m in re.finditer(pattern, text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{path.relative_to(root.parent)}:{line}: {what}")
    assert not found, "\n".join(found)


def test_unknown_class_message_teaches(tmp_path):
    x = L.Input(shape=(2,))
    model = Model(x, L.Dense(2)(x))
    config = json.loads(model.to_json())
    config["config"]["layers"][1]["class_name"] = "MyDense"
    with pytest.raises(
        ValueError,
        match=r"custom_objects=\{'MyDense': MyDense\}.*register_serializable",
    ):
        load_model(crafted(tmp_path, config))
    assert torch.is_tensor(torch.zeros(1))


def _rewrite_config(path, edit):
    """Rewrite the `config.json` text of the archive at `path` with `edit(text)`."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["config.json"] = edit(members["config.json"].decode()).encode()
    write_zip(path, members)


@pytest.mark.parametrize("value", ["Infinity", "-1", "1.5", "true", '"7"'])
def test_load_refuses_bad_optimizer_iterations(tmp_path, value):
    x = L.Input(shape=(3,))
    model = Model(x, L.Dense(2)(x))
    model.compile("adam", "mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    path = tmp_path / "m.plait"
    model.save(path)
    _rewrite_config(
        path, lambda t: t.replace('"iterations": 1', f'"iterations": {value}')
    )
    with pytest.raises(ValueError, match=r"expected 'iterations' to be a non-negative"):
        load_model(path)


@pytest.mark.parametrize("depth", [150, 5000])
def test_load_refuses_over_deep_config(tmp_path, depth):
    _, path = _saved_model(tmp_path)
    deep = "[" * depth + "1" + "]" * depth
    _rewrite_config(path, lambda t: t.replace('"units": 2', f'"units": {deep}'))
    with pytest.raises(
        ValueError, match=r"config.json'.*(nested more than 100|not valid)"
    ):
        load_model(path)
    with pytest.raises(
        ValueError, match=r"model_from_json.*(nested more than|not valid)"
    ):
        model_from_json(
            _saved_model(tmp_path)[0]
            .to_json()
            .replace('"units": 2', f'"units": {deep}')
        )


def _big_dense_config(units=16_000):
    x = {
        "class_name": "InputLayer",
        "config": {"batch_shape": [None, units], "name": "x"},
        "name": "x",
        "inbound_nodes": [],
    }
    config = functional(evil_layer(class_name="Dense", config={"units": units}))
    config["config"]["layers"][0] = x
    return config


def test_load_builds_no_weight_the_file_lacks(tmp_path, monkeypatch):
    # A 1 KB file declaring a 16,000 x 16,000 Dense: 1 GB of weights it lacks.
    from plait import initializers

    path = crafted(tmp_path, _big_dense_config())
    assert path.stat().st_size < 1024
    made = []
    real_get = initializers.get

    def spy(identifier):
        init = real_get(identifier)

        def run(shape, dtype=None):
            made.append(tuple(shape))
            return init(shape, dtype=dtype)

        return run

    monkeypatch.setattr(initializers, "get", spy)
    with pytest.raises(
        ValueError,
        match=r"evil.plait' model.safetensors does not match model 'm': expected the "
        r"model's 2 weights \(1024064000 bytes\), got 0 tensors \(0 bytes\)",
    ):
        load_model(path)
    assert made == []  # no weight was initialized, let alone allocated


_PEAK_RSS = """
import sys
from plait.models import load_model

def peak():  # VmHWM: this process's own peak (ru_maxrss carries the parent's)
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))

before = peak()
try:
    load_model(sys.argv[1])
except ValueError:
    pass
print((peak() - before) // 1024)
"""


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="Linux only")
def test_load_of_crafted_small_file_stays_small_in_memory(tmp_path):
    import sys

    path = crafted(tmp_path, _big_dense_config())
    out = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert int(out.stdout) < 100  # MiB; building the Dense took 1 GB


def test_load_matches_weights_before_reading_them(tmp_path, monkeypatch):
    _, small = _saved_model(tmp_path, units=2, name="small.plait")
    _, large = _saved_model(tmp_path, units=5, name="large.plait")
    with zipfile.ZipFile(small) as zf:
        config = zf.read("config.json")
    with zipfile.ZipFile(large) as zf:
        weights = zf.read("model.safetensors")
    path = crafted(tmp_path, config, weights)
    read = []
    real = model_io.Archive.read
    monkeypatch.setattr(
        model_io.Archive,
        "read",
        lambda self, name, limit=None: read.append(name) or real(self, name, limit),
    )
    with pytest.raises(ValueError, match=r"d/kernel: file \(3, 5\), model \(3, 2\)"):
        load_model(path)
    assert "model.safetensors" not in read


def _chain_entries(n):
    entries = []
    for i in range(n):
        src = "x" if i == 0 else f"r{i - 1}"
        call = {"args": [{"__tensor__": [src, 0, 0]}], "kwargs": {}}
        name = "evil" if i == n - 1 else f"r{i}"
        entries.append({"class_name": "ReLU", "config": {}, "name": name})
        entries[-1]["inbound_nodes"] = [call]
    return entries


def test_load_refuses_too_many_layers(tmp_path, monkeypatch):
    path = crafted(tmp_path, functional(*_chain_entries(model_io.MAX_LAYERS)))

    def refuse(*args, **kwargs):
        raise AssertionError("the model was built")

    monkeypatch.setattr(model_io, "deserialize_layer", refuse)
    limits = "at most 50000 layers and 100000 layer calls"
    with pytest.raises(ValueError, match=rf"evil.plait': expected a model of {limits}"):
        load_model(path)


def test_load_refuses_too_many_calls(tmp_path, monkeypatch):
    call = {"args": [{"__tensor__": ["x", 0, 0]}], "kwargs": {}}
    entry = evil_layer(class_name="ReLU", inbound_nodes=[call] * 100_001)
    members = {"config.json": json.dumps(functional(entry)), "model.safetensors": b""}
    path = write_zip(tmp_path / "evil.plait", members, zipfile.ZIP_STORED)
    monkeypatch.setattr(model_io, "deserialize_layer", None)
    with pytest.raises(ValueError, match=r"got 3 layers and 100001 calls"):
        load_model(path)


def test_load_refuses_weights_that_inflate_tenfold(tmp_path):
    data = bytearray(8 * 2**20)
    data[::64] = (
        np.random.default_rng(0)
        .integers(1, 256, len(data[::64]), dtype=np.uint8)
        .tobytes()
    )
    path = write_zip(
        tmp_path / "b.plait", {"config.json": b"{}", "model.safetensors": data}
    )
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("model.safetensors")
    assert 10 < info.file_size / info.compress_size < 100  # passed the old check
    with pytest.raises(ValueError, match=r"expected at most 10 times its compressed"):
        load_model(path)
