"""Synchronized BatchNormalization and per-rank Dropout streams across 2 processes."""

import numpy as np
import pytest
import torch

from plait.distribution import sync
from tests.distribution.test_data_parallel import _close, _run

SCRIPT = r"""
import os, sys
import numpy as np, torch
torch.set_num_threads(1)
import plait
from plait import layers

out, synced = sys.argv[1], sys.argv[2] == "shuffle"
rank = int(os.environ.get("RANK", "0"))
plait.utils.set_random_seed(0)  # every rank alike: the same Dropout stream
rng = np.random.default_rng(0)
x = (rng.normal(size=(32, 4)) * [1, 2, 3, 4] + [0, 1, -1, 2]).astype("float32")
y = rng.normal(size=(32, 2)).astype("float32")
i = layers.Input(shape=(4,))
h = layers.BatchNormalization(synchronized=synced)(layers.Dense(6)(i))
m = plait.Model(i, layers.Dense(2)(h))
m.compile(plait.optimizers.SGD(0.1), "mse")
m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
mask = layers.Dropout(0.5)(torch.ones(256), training=True)
np.savez(f"{out}/w{rank}.npz", *m.get_weights(), mask=mask.numpy())
"""


def _weights(path):
    data = np.load(path)
    return [data[f"arr_{i}"] for i in range(len(data.files) - 1)]


@pytest.mark.slow
def test_synchronized_batchnorm_equals_one_process(tmp_path):
    single, _ = _run(tmp_path, "single", True, 1, script=SCRIPT)
    synced, _ = _run(tmp_path, "synced", True, 2, script=SCRIPT)
    local, _ = _run(tmp_path, "local", False, 2, script=SCRIPT)
    one = _weights(single / "w0.npz")
    for rank in (0, 1):
        # Statistics over the global batch: weights and moving statistics equal.
        assert _close(one, _weights(synced / f"w{rank}.npz"))
    # Per-process statistics (Keras's default) differ from one process.
    assert not _close(one, _weights(local / "w0.npz"))
    # Dropout masks differ from rank to rank, though all seeded alike.
    masks = [np.load(synced / f"w{rank}.npz")["mask"] for rank in (0, 1)]
    assert not np.array_equal(*masks)


def test_one_process_keeps_its_random_stream():
    torch.manual_seed(3)
    expected = torch.rand(4)
    torch.manual_seed(3)
    sync.offset_random_stream()
    assert torch.equal(torch.rand(4), expected)
    assert not sync.active()
