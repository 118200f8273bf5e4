"""Data parallel fit/evaluate/predict: 2 processes on CPU (gloo) vs 1 process."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = r"""
import json, os, sys
import numpy as np, torch
torch.set_num_threads(1)
import plait
from plait.callbacks import CSVLogger, ModelCheckpoint
from plait.layers import Dense, Input

from plait import ops


class Hits(plait.metrics.Metric):  # a custom metric, written as Keras's guides do
    def __init__(self, name="hits", **kwargs):
        super().__init__(name=name, **kwargs)
        self.hits = self.add_variable(shape=(), initializer="zeros", name="hits")

    def update_state(self, y_true, y_pred, sample_weight=None):
        right = ops.equal(ops.reshape(y_true, (-1,)), ops.argmax(y_pred, axis=-1))
        self.hits.assign_add(ops.sum(ops.cast(right, "float32")))

    def result(self):
        return self.hits.value


out, shuffle = sys.argv[1], sys.argv[2] == "shuffle"
rank = int(os.environ.get("RANK", "0"))
plait.utils.set_random_seed(rank)  # different initial weights: DDP syncs them
rng = np.random.default_rng(0)
x = rng.normal(size=(33, 5)).astype("float32")  # 33 = 4 * 8 + 1: a last batch of 1
y = rng.integers(0, 3, size=(33,))
i = Input(shape=(5,))
m = plait.Model(i, Dense(3, activation="softmax")(Dense(8, activation="relu")(i)))
m.compile(plait.optimizers.SGD(0.1), "sparse_categorical_crossentropy",
          metrics=["accuracy", Hits()])
seen = []
cb = plait.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(dict(logs)))
hist = m.fit(
    x, y, batch_size=8, epochs=3, shuffle=shuffle, verbose=2,
    validation_data=(x[:11], y[:11]),
    callbacks=[cb, CSVLogger(f"{out}/log_{rank}.csv"),
               ModelCheckpoint(f"{out}/ckpt_{rank}.plait")],
)
ev = m.evaluate(x, y, batch_size=5, verbose=0, return_dict=True)
pred = m.predict(x, batch_size=4, verbose=0)
np.savez(f"{out}/w{rank}.npz", *m.get_weights(), pred=pred)
json.dump({"hist": hist.history, "ev": ev, "seen": seen}, open(f"{out}/r{rank}.json", "w"))
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(tmp_path, name, shuffle, processes, script=SCRIPT, env_extra=None):
    out = tmp_path / name
    out.mkdir()
    code, script = script, tmp_path / f"{name}.py"
    script.write_text(code)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.getcwd()}
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(var, None)
    env["PLAIT_DEVICE"] = "cpu"
    env.update(env_extra or {})
    args = [str(script), str(out), "shuffle" if shuffle else "ordered"]
    if processes > 1:
        launch = ["-m", "torch.distributed.run", f"--nproc_per_node={processes}"]
        launch += ["--master_addr=127.0.0.1", f"--master_port={_free_port()}"]
        args = [*launch, *args]
    done = subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done.stdout


def _load(out, rank):
    weights = np.load(out / f"w{rank}.npz")
    logs = json.loads((out / f"r{rank}.json").read_text())
    return [weights[k] for k in weights.files], logs


def _close(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(u, v) for u, v in zip(a, b))
    return np.allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_two_processes_equal_one(tmp_path):
    single, _ = _run(tmp_path, "single", shuffle=False, processes=1)
    multi, printed = _run(tmp_path, "multi", shuffle=False, processes=2)
    w1, logs1 = _load(single, 0)
    for rank in (0, 1):
        w2, logs2 = _load(multi, rank)
        assert _close(w1, w2)  # weights and every predicted row, in order
        assert _close(logs1, logs2)  # History, evaluate, callbacks' epoch logs
    # Rank 0 alone prints and writes files.
    assert printed.count("Epoch 1/3") == 1
    assert sorted(p.name for p in multi.iterdir() if not p.name.startswith("w")) == [
        "ckpt_0.plait",
        "log_0.csv",
        "r0.json",
        "r1.json",
    ]


@pytest.mark.slow
def test_shuffled_processes_stay_in_step(tmp_path):
    multi, _ = _run(tmp_path, "multi", shuffle=True, processes=2)
    (w0, logs0), (w1, logs1) = _load(multi, 0), _load(multi, 1)
    assert all(np.array_equal(a, b) for a, b in zip(w0, w1))
    assert logs0 == logs1
