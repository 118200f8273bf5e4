"""Atomic writes: no partial files, no temporaries left by killed writers, umask modes."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest
import torch

from plait import layers as L
from plait.callbacks import files as callbacks_io
from plait.models import Model
from plait.utils import atomic


def _model():
    x = L.Input(shape=(3,))
    return Model(x, L.Dense(2, name="d")(x))


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _temp_name(target, pid):
    return f".{target}.{atomic._host()}-{pid}.0123456789ab.tmp"


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


def test_save_removes_temporaries_of_dead_writers_only(tmp_path):
    dead = tmp_path / _temp_name("m.plait", _dead_pid())
    live = tmp_path / _temp_name("m.plait", os.getppid())
    other_target = tmp_path / _temp_name("other.plait", _dead_pid())
    for p in (dead, live, other_target):
        p.write_bytes(b"partial")
    _model().save(tmp_path / "m.plait")
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["m.plait", live.name, other_target.name]
    )


def test_save_weights_removes_temporaries_of_dead_writers(tmp_path):
    dead = tmp_path / _temp_name("w.safetensors", _dead_pid())
    dead.write_bytes(b"partial")
    _model().save_weights(tmp_path / "w.safetensors")
    assert os.listdir(tmp_path) == ["w.safetensors"]


_KILLED_SAVE = """
import sys, time, zipfile
from plait import layers as L
from plait.models import Model

real = zipfile.ZipFile.writestr

def slow(self, name, data, *args, **kwargs):
    real(self, name, data, *args, **kwargs)
    if name == "model.safetensors":
        print("writing", flush=True)
        time.sleep(60)

zipfile.ZipFile.writestr = slow
x = L.Input(shape=(3,))
Model(x, L.Dense(200, name="d")(x)).save(sys.argv[1])
"""


@pytest.mark.slow
def test_save_after_killed_saves_leaves_one_file(tmp_path):
    path = tmp_path / "m.plait"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for _ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(_KILLED_SAVE), str(path)],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"writing\n"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        # Each killed save leaves its partial temporary; the next save removes it.
        (left,) = os.listdir(tmp_path)
        assert left.startswith(".m.plait.")
        assert left.endswith(".tmp")
    _model().save(path)
    assert os.listdir(tmp_path) == ["m.plait"]


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_new_files_get_the_mode_open_gives(tmp_path, umask, mask):
    umask(mask)
    model = _model()
    model.save(tmp_path / "m.plait")
    model.save_weights(tmp_path / "w.safetensors")
    callbacks_io._atomic_write(
        str(tmp_path / "backup.pt"), lambda tmp: torch.save({"a": 1}, tmp)
    )
    for name in ("m.plait", "w.safetensors", "backup.pt"):
        assert os.stat(tmp_path / name).st_mode & 0o777 == 0o666 & ~mask, name


def test_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "m.plait"
    model = _model()
    model.save(path)
    os.chmod(path, 0o640)
    model.save(path)
    assert os.stat(path).st_mode & 0o777 == 0o640


def test_failed_path_write_leaves_nothing(tmp_path):
    def fail(tmp):
        with open(tmp, "wb") as f:
            f.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic.atomic_write_path(tmp_path / "x.bin", fail)
    assert os.listdir(tmp_path) == []


def test_atomic_write_checks_target(tmp_path):
    (tmp_path / "x.bin").write_bytes(b"old")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        atomic.atomic_write(tmp_path / "x.bin", lambda f: f.write(b"new"), False)
    with pytest.raises(FileNotFoundError, match="no folder"):
        atomic.atomic_write(tmp_path / "no" / "x.bin", lambda f: f.write(b""))
