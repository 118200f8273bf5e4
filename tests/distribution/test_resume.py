"""Resume after a kill: 2 processes (DDP and FSDP) end like the uninterrupted run."""

import json

import numpy as np
import pytest

from tests.distribution.test_data_parallel import RankAborted, _close, _run

SCRIPT = r"""
import json, os, signal, sys
import numpy as np, torch
torch.set_num_threads(1)
import plait
from plait import layers
from plait.callbacks import BackupAndRestore, LambdaCallback

out, mode = sys.argv[1], os.environ["PLAIT_TEST_MODE"]
rank = int(os.environ.get("RANK", "0"))
kill_at = int(os.environ.get("PLAIT_TEST_KILL_AT", "-1"))
if mode == "fsdp" and "WORLD_SIZE" in os.environ:
    plait.distribution.set_distribution(plait.distribution.FSDP())
plait.utils.set_random_seed(rank)
rng = np.random.default_rng(0)
x = rng.normal(size=(30, 5)).astype("float32")
y = rng.integers(0, 3, size=(30,))
i = layers.Input(shape=(5,))
m = plait.Model(i, layers.Dense(3, activation="softmax")(layers.Dense(8, activation="relu")(i)))
m.compile(plait.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
          metrics=["accuracy"])

def stop(epoch, logs):
    if epoch == kill_at and rank == int(os.environ.get("WORLD_SIZE", "1")) - 1:
        os.kill(os.getpid(), signal.SIGKILL)  # the last rank dies mid-run

backup = os.environ.get("PLAIT_TEST_BACKUP", os.path.dirname(out) + "/backup")
hist = m.fit(x, y, batch_size=8, epochs=5, shuffle=True, verbose=0,
             callbacks=[BackupAndRestore(backup),
                        LambdaCallback(on_epoch_begin=stop)])
np.savez(f"{out}/w{rank}.npz", *m.get_weights())
json.dump(hist.history, open(f"{out}/r{rank}.json", "w"))
"""


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["ddp", "fsdp"])
def test_resume_after_a_killed_rank_equals_an_uninterrupted_run(tmp_path, mode):
    # The three runs share a backup; a C++ abort of a rank (see RankAborted)
    # in the resumed run restarts the whole story in a fresh folder, once.
    try:
        _story(tmp_path / "first", mode)
    except RankAborted:
        _story(tmp_path / "second", mode)


def _story(tmp_path, mode):
    tmp_path.mkdir()
    env = {"PLAIT_TEST_MODE": mode}
    # The uninterrupted reference: 2 processes, shuffled as the resumed run is,
    # with a backup of its own (so it can be rerun).
    alone = {**env, "PLAIT_TEST_BACKUP": str(tmp_path / "one_backup")}
    one, _ = _run(tmp_path, "one", True, 2, script=SCRIPT, env_extra=alone)
    kill = {**env, "PLAIT_TEST_KILL_AT": "3"}
    with pytest.raises(AssertionError, match=r"SIGKILL|Signal 9|exitcode"):
        _run(tmp_path, "killed", True, 2, script=SCRIPT, env_extra=kill, retry=False)
    assert (tmp_path / "backup" / "backup.pt").exists()
    resumed, _ = _run(
        tmp_path, "resumed", True, 2, script=SCRIPT, env_extra=env, retry=False
    )
    ref = [np.load(one / "w0.npz")[f"arr_{k}"] for k in range(4)]
    for rank in (0, 1):
        got = [np.load(resumed / f"w{rank}.npz")[f"arr_{k}"] for k in range(4)]
        assert _close(ref, got)
        history = json.loads((resumed / f"r{rank}.json").read_text())
        full = json.loads((one / "r0.json").read_text())
        assert _close(history, {k: v[3:] for k, v in full.items()})
    assert not (tmp_path / "backup" / "backup.pt").exists()  # deleted when done
