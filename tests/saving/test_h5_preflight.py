"""HDF5 attributes are read first in a memory-capped child (plait.saving.h5_preflight).

The crafted file below is a real Keras `.h5` file with one byte changed: the top
byte of the stored length of the `training_config` string, which makes libhdf5
allocate about 2 GiB before it notices the length is wrong.
"""

import os
import pathlib
import struct
import subprocess
import sys
import time

import h5py
import pytest

from plait.saving import h5_preflight, load_model

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "h5" / "mlp.h5"
ROOT = pathlib.Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the preflight runs on Linux only"
)


def _inflated(tmp_path):
    """mlp.h5 with the training_config string's stored length raised to ~2 GiB."""
    data = bytearray(FIXTURE.read_bytes())
    with h5py.File(FIXTURE) as f:
        length = len(f.attrs["training_config"])
    heap = data.find(b"GCOL")
    # A variable-length value is stored as (length u32, heap address u64, index u32).
    prefix = struct.pack("<I", length) + struct.pack("<Q", heap)
    at = data.find(prefix)
    assert at > 0
    assert data.find(prefix, at + 1) == -1
    data[at + 3] = 0x7E  # length 0x7E000000 + length
    path = tmp_path / "inflated.h5"
    path.write_bytes(bytes(data))
    return path


def test_inflated_attribute_is_refused_by_name(tmp_path):
    path = _inflated(tmp_path)
    with pytest.raises(
        ValueError,
        match=r"attribute 'training_config' of '/' cannot be read .*refusing the file",
    ):
        load_model(path)


def test_preflight_takes_bytes_too(tmp_path):
    data = _inflated(tmp_path).read_bytes()
    with pytest.raises(ValueError, match=r"^in memory: attribute 'training_config'"):
        h5_preflight.preflight(data, "in memory")
    h5_preflight.preflight(FIXTURE.read_bytes(), "in memory")  # a sound file passes


@pytest.mark.slow
def test_the_loading_process_never_allocates_it(tmp_path):
    path = _inflated(tmp_path)
    script = (
        "import sys\n"
        "from plait.saving import load_model\n"
        "try:\n"
        f"    load_model({str(path)!r})\n"
        "except ValueError as err:\n"
        "    print(err)\n"
        # VmHWM, the peak of this process's own memory (ru_maxrss would carry
        # over the size of the pytest process it was forked from).
        "print(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    peak_kib = int(out.stdout.split()[-1])
    assert peak_kib < 1_500_000, out.stdout  # without the preflight: over 2.2 GB


def test_slow_reads_time_out(monkeypatch):
    monkeypatch.setattr(h5_preflight, "_walk", lambda source: time.sleep(30) or "")
    start = time.monotonic()
    with pytest.raises(ValueError, match=r"f.h5: reading .* took more than 0.5 s"):
        h5_preflight.preflight(str(FIXTURE), "f.h5", timeout=0.5)
    assert time.monotonic() - start < 20


def test_a_child_that_dies_refuses_the_file(monkeypatch):
    monkeypatch.setattr(h5_preflight, "_walk", lambda source: os._exit(3))
    with pytest.raises(ValueError, match=r"f.h5: the process reading .* died"):
        h5_preflight.preflight(str(FIXTURE), "f.h5")
