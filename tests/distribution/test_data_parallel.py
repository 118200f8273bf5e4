"""Data parallel fit/evaluate/predict: 2 processes on CPU (gloo) vs 1 process."""

import json
import os
import shutil
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch

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


def test_array_batches_gather_only_this_process_rows():
    from plait.training import data, distributed

    source = data.ArrayBatches([torch.arange(10)], [None], [None], 4, shuffle=False)
    source.narrow = lambda index: distributed.narrow(index, 2, 1)
    got = [(b[0][0].tolist(), b[3]) for b in source.epoch()]
    assert got == [([2, 3], 4), ([6, 7], 4), ([9], 2)]  # rank 1's rows, global sizes
    order = torch.tensor([5, 1, 8])
    assert distributed.narrow(order, 2, 0)[0].tolist() == [5, 1]
    # A batch of one row: rank 1 gets a stand-in row (weighted 0).
    assert distributed.narrow(slice(9, 10), 2, 1) == (slice(9, 10), 1)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# What a rank prints when C++ code ends it from a thread at interpreter exit
# (gloo's worker threads can outlive `destroy_process_group` while the
# interpreter shuts down; see pytorch/pytorch#179291). Not plait's numbers.
TEARDOWN_ABORT = "terminate called without an active exception"


class RankAborted(AssertionError):
    """A rank died by std::terminate (SIGABRT) rather than by a Python error."""


def _run(tmp_path, name, shuffle, processes, script=SCRIPT, env_extra=None, retry=True):
    """Run `script` in 1 process or under torchrun; `(out folder, stdout)`.

    A run that a rank's C++ abort ended (`TEARDOWN_ABORT`) is run once more when
    `retry` (the script must then be safe to rerun from scratch); any other
    failure, or a second abort, fails the test with the ranks' stderr.
    """
    out = tmp_path / name
    code, script = script, tmp_path / f"{name}.py"
    script.write_text(code)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.getcwd()}
    env["PYTHONFAULTHANDLER"] = "1"  # a rank that aborts prints where it was
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(var, None)
    env["PLAIT_DEVICE"] = "cpu"
    env.update(env_extra or {})
    for attempt in (1, 2):
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        args = [str(script), str(out), "shuffle" if shuffle else "ordered"]
        if processes > 1:
            launch = ["-m", "torch.distributed.run", f"--nproc_per_node={processes}"]
            launch += ["--master_addr=127.0.0.1", f"--master_port={_free_port()}"]
            args = [*launch, *args]
        done = subprocess.run(
            [sys.executable, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        if done.returncode == 0:
            return out, done.stdout
        aborted = TEARDOWN_ABORT in done.stderr
        if not (aborted and retry and attempt == 1):
            raise (RankAborted if aborted else AssertionError)(done.stderr[-3000:])
        # Not a warning (the suite turns warnings into errors): on stderr, which
        # pytest shows with a failure, and in $PLAIT_TEST_ABORT_LOG if set.
        report = f"{name}: a rank aborted in C++; run again. Its stderr:\n{done.stderr}"
        print(report, file=sys.stderr)
        if os.environ.get("PLAIT_TEST_ABORT_LOG"):
            with open(os.environ["PLAIT_TEST_ABORT_LOG"], "a") as log:
                log.write(report + "\n")
    raise AssertionError("unreachable")


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


LOGS_SCRIPT = r"""
import json, os, sys
import numpy as np, torch
torch.set_num_threads(1)
import plait
from plait.layers import Dense, Input

out = sys.argv[1]
rank = int(os.environ.get("RANK", "0"))
rng = np.random.default_rng(0)
x = rng.normal(size=(32, 5)).astype("float32")
y = rng.integers(0, 3, size=(32,))


class Custom(plait.Model):  # custom steps return the process's own running logs
    def train_step(self, data):
        logs = super().train_step(data)
        return {"loss": logs["loss"], "acc": logs["accuracy"]}

    def test_step(self, data):
        return {"mean_loss": super().test_step(data)["loss"]}


class Record(plait.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = {"train": [], "test": []}

    def on_train_batch_end(self, batch, logs):
        self.seen["train"].append(dict(logs))

    def on_test_batch_end(self, batch, logs):
        self.seen["test"].append(dict(logs))


def build(cls):
    plait.utils.set_random_seed(0)
    i = Input(shape=(5,))
    m = cls(i, Dense(3, activation="softmax")(Dense(8, activation="relu")(i)))
    m.compile(plait.optimizers.SGD(0.1), "sparse_categorical_crossentropy",
              metrics=["accuracy"])
    return m


result = {}
for name, cls in (("plain", plait.Model), ("custom", Custom)):
    record = Record()
    # The custom model's batch logs are read on rank 0 alone: every rank
    # still joins the all-reduce of each logged batch.
    cbs = [record] if name == "plain" or rank == 0 else []
    m = build(cls)
    hist = m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0,
                 validation_data=(x[:16], y[:16]), callbacks=cbs)
    ev = m.evaluate(x, y, batch_size=8, verbose=0, return_dict=True, callbacks=cbs)
    result[name] = {"hist": hist.history, "ev": ev, "seen": record.seen}
json.dump(result, open(f"{out}/r{rank}.json", "w"))
"""


@pytest.mark.slow
def test_batch_and_custom_step_logs_are_global(tmp_path):
    single, _ = _run(tmp_path, "single", False, 1, script=LOGS_SCRIPT)
    multi, _ = _run(tmp_path, "multi", False, 2, script=LOGS_SCRIPT)
    one = json.loads((single / "r0.json").read_text())
    ranks = [json.loads((multi / f"r{r}.json").read_text()) for r in (0, 1)]
    assert len(one["plain"]["seen"]["train"]) == 8  # 4 batches x 2 epochs
    assert len(one["plain"]["seen"]["test"]) == 2 * 2 + 4  # validation, evaluate
    for logs in ranks:
        # Per-batch logs (the running values) are the single process's on
        # every rank; a custom step's returned logs are averaged.
        assert _close(logs["plain"], one["plain"])
        assert _close(logs["custom"]["hist"], one["custom"]["hist"])
        assert _close(logs["custom"]["ev"], one["custom"]["ev"])
    assert _close(ranks[0]["custom"]["seen"], one["custom"]["seen"])
    assert ranks[1]["custom"]["seen"] == {"train": [], "test": []}


CONV_SCRIPT = r"""
import os, sys, warnings
import numpy as np, torch
torch.set_num_threads(1)
import plait
from plait import layers

warnings.simplefilter("error")  # DDP's C++ warnings too (raised in backward)
out = sys.argv[1]
rank = int(os.environ.get("RANK", "0"))
rng = np.random.default_rng(0)
x = rng.normal(size=(64, 8, 8, 3)).astype("float32")
y = rng.normal(size=(64, 8, 8, 4)).astype("float32")
plait.utils.set_random_seed(0)
i = layers.Input(shape=(8, 8, 3))
m = plait.Model(i, layers.Conv2D(4, 3, padding="same")(layers.Conv2D(5, 1)(i)))
m.compile(plait.optimizers.SGD(0.1), "mse")
# 16 rows a process: the backward gives the 1x1 kernel channels-last strides.
m.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
np.savez(f"{out}/w{rank}.npz", *m.get_weights())
"""


@pytest.mark.slow
def test_one_by_one_convolution_has_no_stride_warning(tmp_path):
    single, _ = _run(tmp_path, "single", False, 1, script=CONV_SCRIPT)
    multi, _ = _run(tmp_path, "multi", False, 2, script=CONV_SCRIPT)
    one = np.load(single / "w0.npz")
    for rank in (0, 1):
        two = np.load(multi / f"w{rank}.npz")
        assert _close([one[k] for k in one.files], [two[k] for k in two.files])


JIT_SCRIPT = r"""
import json, os, sys
import numpy as np, torch
torch.set_num_threads(1)
import plait
from plait.layers import LSTM, Dense, Input, Reshape

out = sys.argv[1]
rank = int(os.environ.get("RANK", "0"))
rng = np.random.default_rng(0)
x = rng.normal(size=(40, 5)).astype("float32")  # batches 16, 16, 8
y = rng.integers(0, 3, size=(40,))
result, weights = {}, []
for name, opt, reg in (("fused", "rmsprop", None), ("adam", "adam", None),
                       ("penalties", "rmsprop", "l2"), ("update", "rmsprop", None)):
    plait.utils.set_random_seed(0)
    i = Input(shape=(5,))
    if name == "update":  # a recurrent layer: the update alone is compiled
        h = LSTM(4)(Reshape((5, 1))(i))
    else:
        h = Dense(8, activation="relu", kernel_regularizer=reg)(i)
    m = plait.Model(i, Dense(3, activation="softmax")(h))
    m.compile(opt, "sparse_categorical_crossentropy", metrics=["accuracy"],
              jit_compile=True)
    hist = m.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    step = m._plan.train_fn
    result[name] = {"hist": hist.history, "mode": step.mode,
                    "compiled": len(step.compile_seconds), "failed": step.failed}
    weights += m.get_weights()
np.savez(f"{out}/w{rank}.npz", *weights)
json.dump(result, open(f"{out}/r{rank}.json", "w"))
"""


@pytest.mark.slow
def test_jit_compile_under_ddp_equals_one_process(tmp_path):
    single, _ = _run(tmp_path, "single", False, 1, script=JIT_SCRIPT)
    multi, _ = _run(tmp_path, "multi", False, 2, script=JIT_SCRIPT)
    w1, one = _load(single, 0)
    assert [one[k]["mode"] for k in one] == ["graph", "graph", "graph", "update"]
    for rank in (0, 1):
        w2, two = _load(multi, rank)
        assert _close(w1, w2)
        for name in one:  # compiled once (the last, smaller batch runs eagerly)
            assert two[name]["compiled"] == 1
            assert not two[name]["failed"]
            assert two[name]["mode"] == one[name]["mode"]
            assert _close(two[name]["hist"], one[name]["hist"])


ABORT_ONCE = r"""
import os, sys
out, marker = sys.argv[1], os.environ["PLAIT_TEST_MARKER"]
open(f"{out}/ran", "w").close()
if not os.path.exists(marker) or os.environ.get("PLAIT_TEST_ALWAYS"):
    open(marker, "w").close()
    sys.stderr.write("terminate called without an active exception\n")
    sys.stderr.flush()
    os.abort()
"""


def test_a_rank_aborted_in_cpp_is_run_once_more_and_only_once(tmp_path, capsys):
    marker = {"PLAIT_TEST_MARKER": str(tmp_path / "aborted_once")}
    out, _ = _run(tmp_path, "once", False, 1, script=ABORT_ONCE, env_extra=marker)
    assert "once: a rank aborted in C++; run again" in capsys.readouterr().err
    assert (out / "ran").exists()
    always = {**marker, "PLAIT_TEST_ALWAYS": "1"}
    with pytest.raises(RankAborted, match="terminate called"):
        _run(tmp_path, "always", False, 1, script=ABORT_ONCE, env_extra=always)
    assert capsys.readouterr().err.count("always: a rank aborted") == 1
    with pytest.raises(RankAborted):  # no second run without `retry`
        _run(
            tmp_path,
            "no_retry",
            False,
            1,
            script=ABORT_ONCE,
            env_extra=always,
            retry=False,
        )
    assert "no_retry" not in capsys.readouterr().err


CUSTOM_STEP_SCRIPT = r"""
import json, os, sys
import numpy as np, torch
torch.set_num_threads(1)
import plait
from plait.layers import Dense, Input
# Keras's "customizing fit() with torch" guide: its own backward(), apply().
from tests.keras_guides.test_custom_train_step_in_torch import CustomModel as Custom

out, rows = sys.argv[1], int(os.environ["PLAIT_TEST_ROWS"])
rank = int(os.environ.get("RANK", "0"))
plait.utils.set_random_seed(rank)  # different initial weights: fit syncs them
rng = np.random.default_rng(0)
x = rng.normal(size=(rows, 5)).astype("float32")
y = rng.normal(size=(rows, 2)).astype("float32")
i = Input(shape=(5,))
m = Custom(i, Dense(2)(Dense(8, activation="relu")(i)))
m.compile(plait.optimizers.Adam(0.01), "mse")
hist = m.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
np.savez(f"{out}/w{rank}.npz", *m.get_weights())
json.dump({"hist": hist.history}, open(f"{out}/r{rank}.json", "w"))
"""


@pytest.mark.slow
@pytest.mark.parametrize("rows", [32, 33])  # 33: a last batch of 1, rank 1 empty
def test_custom_train_step_with_its_own_backward_equals_one_process(tmp_path, rows):
    env = {"PLAIT_TEST_ROWS": str(rows)}
    single, _ = _run(
        tmp_path, "single", False, 1, script=CUSTOM_STEP_SCRIPT, env_extra=env
    )
    multi, _ = _run(
        tmp_path, "multi", False, 2, script=CUSTOM_STEP_SCRIPT, env_extra=env
    )
    want, logs = _load(single, 0)
    for rank in (0, 1):
        got, multi_logs = _load(multi, rank)
        assert _close(want, got)  # every process applied the global batch's update
        if rows == 32:  # even slices: the mean of the processes' losses is global
            assert _close(logs, multi_logs)
