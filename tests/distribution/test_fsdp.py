"""FSDP (sharded data parallel): 2 processes on CPU (gloo) vs 1 process."""

import json

import numpy as np
import pytest

from tests.distribution.test_data_parallel import _close, _run

SCRIPT = r"""
import io, json, os, sys, warnings
import numpy as np, torch
torch.set_num_threads(1)
import plait
from plait import layers
from plait.callbacks import ModelCheckpoint

out = sys.argv[1]
rank = int(os.environ.get("RANK", "0"))
if "WORLD_SIZE" in os.environ:
    plait.distribution.set_distribution(plait.distribution.FSDP())
plait.utils.set_random_seed(rank)  # different initial weights: rank 0's win
rng = np.random.default_rng(0)
n = 33  # 33 = 4 * 8 + 1: a last batch of 1
tokens = rng.integers(0, 20, size=(n, 6))
dense = rng.normal(size=(n, 5)).astype("float32")
y = rng.integers(0, 3, size=(n,))

t_in = layers.Input(shape=(6,), dtype="int64")
d_in = layers.Input(shape=(5,))
h = layers.Embedding(20, 4)(t_in)
h = layers.Conv1D(4, 3, activation="relu")(h)
h = layers.GRU(5)(h)
inner_in = layers.Input(shape=(5,))
inner = plait.Model(
    inner_in, layers.Dense(4)(layers.Dense(8, activation="relu")(inner_in)),
    name="inner",
)
z = layers.Concatenate()([h, inner(d_in)])
m = plait.Model([t_in, d_in], layers.Dense(3, activation="softmax")(z))
m.compile(plait.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
          metrics=["accuracy"])
x = [tokens, dense]
hist = m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0,
             callbacks=[ModelCheckpoint(f"{out}/ckpt_{rank}.plait")])
kernel = m.layers[-1].kernel
local = kernel.to_local().shape if hasattr(kernel, "to_local") else kernel.shape
ev = m.evaluate(x, y, batch_size=5, verbose=0, return_dict=True)
pred = m.predict(x, batch_size=4, verbose=0)
text = io.StringIO()
m.summary(print_fn=lambda line, **kw: text.write(line + "\n"))
m.save(f"{out}/model_{rank}.plait")
m.save_weights(f"{out}/model_{rank}.weights.safetensors")
trained = m.get_weights()
# load_model (plain weights), then fit sharded: continues like one process.
again = plait.models.load_model(f"{out}/model_{rank}.plait")
more = again.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
# A second compile (a new optimizer) keeps the model sharded and training.
again.compile(plait.optimizers.SGD(0.05), "sparse_categorical_crossentropy")
again.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
# Regularizers on whole (gathered) weights, constraints after each update:
# elementwise on the local rows, a norm over the whole weight; jit_compile
# trains eagerly under FSDP, saying so once.
plait.utils.set_random_seed(rank)
r_in = layers.Input(shape=(5,))
h = layers.Dense(7, kernel_regularizer="l2", bias_regularizer="l1",
                 kernel_constraint=plait.constraints.MaxNorm(0.5, axis=1))(r_in)
r_out = layers.Dense(2, kernel_constraint="non_neg",
                     kernel_regularizer=plait.regularizers.L1L2(0.01, 0.02))(h)
reg = plait.Model(r_in, r_out)
reg.compile(plait.optimizers.Adam(0.05), "mse", jit_compile=True)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    batches = []  # per-batch logs: global, the same on every rank
    seen = plait.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: batches.append(dict(logs)))
    reg_hist = reg.fit(dense, dense[:, :2], batch_size=8, epochs=2, shuffle=False,
                       verbose=0, callbacks=[seen])
    reg.fit(dense, dense[:, :2], batch_size=8, epochs=1, shuffle=False, verbose=0)
reg_ev = reg.evaluate(dense, dense[:, :2], batch_size=8, verbose=0)
# Compiled with (fused) SGD before its first sharded batch: the state the fused
# optimizer had is loaded into one built for the sharded weights, which keeps
# its own kernel choice (torch's fused SGD has no rule for sharded tensors).
s_in = layers.Input(shape=(5,))
sgd = plait.Model(s_in, layers.Dense(2)(s_in))
sgd.compile(plait.optimizers.SGD(0.05, momentum=0.9), "mse")
sgd.fit(dense, dense[:, :2], batch_size=8, epochs=1, shuffle=False, verbose=0)
np.savez(f"{out}/w{rank}.npz", *trained, pred=pred)
np.savez(f"{out}/again{rank}.npz", *again.get_weights())
np.savez(f"{out}/reg{rank}.npz", *reg.get_weights())
json.dump({"hist": hist.history, "ev": ev, "more": more.history,
           "summary": text.getvalue(), "local": list(local),
           "reg": [reg_hist.history, reg_ev, batches], "warned": [str(w.message) for w in caught
                      if "torch" not in w.filename.split(os.sep)]},
          open(f"{out}/r{rank}.json", "w"))
"""


def _arrays(path):
    data = np.load(path)
    return [data[k] for k in data.files]


@pytest.mark.slow
def test_fsdp_two_processes_equal_one(tmp_path):
    single, _ = _run(tmp_path, "single", shuffle=False, processes=1, script=SCRIPT)
    multi, _ = _run(tmp_path, "multi", shuffle=False, processes=2, script=SCRIPT)
    logs1 = json.loads((single / "r0.json").read_text())
    for rank in (0, 1):
        logs2 = json.loads((multi / f"r{rank}.json").read_text())
        # Weights, every predicted row, History, evaluate, summary: as one process.
        assert _close(_arrays(single / "w0.npz"), _arrays(multi / f"w{rank}.npz"))
        assert _close(
            _arrays(single / "again0.npz"), _arrays(multi / f"again{rank}.npz")
        )
        for key in ("hist", "ev", "more"):
            assert _close(logs1[key], logs2[key])
        assert logs2["summary"] == logs1["summary"]
        # The last Dense kernel (9, 3) really is sharded: rank 0 holds 5 rows.
        assert logs2["local"] == [[5, 4][rank], 3]
        # Regularized and constrained weights train as in one process.
        assert _close(_arrays(single / "reg0.npz"), _arrays(multi / f"reg{rank}.npz"))
        assert _close(logs1["reg"], logs2["reg"])
        assert logs2["warned"] == [
            f"Model {logs2['warned'][0].split(chr(39))[1]!r}: compile(jit_compile="
            "True) under FSDP() trains eagerly: torch.compile does not trace the "
            "sharded step."
        ]
    assert logs1["local"] == [9, 3]
    assert logs1["warned"] == []
    # Checkpoints hold the whole weights (written by rank 0 alone).
    assert sorted(p.name for p in multi.glob("ckpt_*")) == ["ckpt_0.plait"]
    import plait

    restored = plait.models.load_model(multi / "ckpt_0.plait")
    saved = plait.models.load_model(single / "model_0.plait")
    assert _close(restored.get_weights(), saved.get_weights())
