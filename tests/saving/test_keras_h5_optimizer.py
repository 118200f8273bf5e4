"""A Keras `.h5` or `.keras` model file's optimizer state: `fit` continues as Keras's did.

The fixtures (make_keras_h5_optimizer_fixtures.py) are models Keras trained 3
steps and saved, with the weights Keras reached after 2 more steps on `x2`.
"""

import pathlib

import h5py
import numpy as np
import pytest

from plait.saving import load_model

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "h5opt"
CASES = sorted(p.stem for p in FIXTURES.glob("*.h5"))


def _continue(model, data):
    model.fit(data["x2"], data["y2"], batch_size=4, epochs=1, shuffle=False, verbose=0)


@pytest.mark.parametrize("case", CASES)
def test_fit_continues_as_keras(case):
    data = np.load(FIXTURES / f"{case}.npz")
    model = load_model(FIXTURES / f"{case}.h5")
    assert model.optimizer.iterations == 3
    _continue(model, data)
    assert model.optimizer.iterations == 5
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(
            w, data[f"w{i}"], rtol=1e-4, atol=2e-6, err_msg=f"w{i}"
        )


@pytest.mark.parametrize("case", CASES)
def test_keras3_file_fit_continues_as_keras(case):
    # The same state saved by Keras 3's own writer: compile config in
    # config.json, the optimizer's variables unnamed in optimizer/vars.
    data = np.load(FIXTURES / f"{case}.npz")
    model = load_model(FIXTURES / f"{case}.keras")
    assert type(model.optimizer).__name__.lower() in case.replace("_", "")
    assert model.optimizer.iterations == 3
    _continue(model, data)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(
            w, data[f"w{i}"], rtol=1e-4, atol=2e-6, err_msg=f"w{i}"
        )


def test_keras3_file_loads_uncompiled_when_asked():
    model = load_model(FIXTURES / "adam.keras", compile=False)
    assert model.optimizer is None


def test_fresh_optimizer_would_not_continue_as_keras():
    # The state matters: with Adam's moments dropped the weights end elsewhere.
    data = np.load(FIXTURES / "adam.npz")
    model = load_model(FIXTURES / "adam.h5")
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    _continue(model, data)
    assert not np.allclose(model.get_weights()[0], data["w0"], atol=1e-4)


def _edited(tmp_path, case, edit):
    path = tmp_path / f"{case}.h5"
    path.write_bytes((FIXTURES / f"{case}.h5").read_bytes())
    with h5py.File(path, "r+") as f:
        edit(f["optimizer_weights"])
    return path


def test_missing_slot_warns_and_starts_afresh(tmp_path):
    def drop(group):
        names = [
            n
            for n in group.attrs["weight_names"]
            if "probs_bias_velocity" not in str(n)
        ]
        group.attrs["weight_names"] = names

    path = _edited(tmp_path, "adam", drop)
    with pytest.warns(UserWarning, match=r"'exp_avg_sq' slot for weight 'probs/bias'"):
        model = load_model(path)
    assert model.optimizer.iterations == 0
    np.testing.assert_array_equal(
        model.get_weights()[0], load_model(FIXTURES / "adam.h5").get_weights()[0]
    )


def test_misshapen_slot_warns(tmp_path):
    def reshape(group):
        name = next(
            n for n in group.attrs["weight_names"] if "hidden_kernel_momentum" in str(n)
        )
        del group[name]
        group[name] = np.zeros((2, 2), "float32")

    with pytest.warns(UserWarning, match=r"'hidden/kernel' has shape \(2, 2\)"):
        load_model(_edited(tmp_path, "adam", reshape))


def test_keras2_slot_names(tmp_path):
    # tf.keras 2 names: Adam/iter:0 and Adam/<layer>/<weight>/m:0.
    def rename(group):
        renamed = []
        for n in group.attrs["weight_names"]:
            n = n.decode() if isinstance(n, bytes) else str(n)
            rest = n.split("/", 1)[1]
            if rest == "iteration":
                new = "Adam/iter:0"
            elif rest == "learning_rate":
                new = "Adam/learning_rate:0"
            else:
                layer, weight, slot = rest.split("_", 2)
                new = f"Adam/{layer}/{weight}/{ {'momentum': 'm', 'velocity': 'v'}[slot] }:0"
            group.create_dataset(new.replace(" ", ""), data=group[n][()])
            renamed.append(new.replace(" ", ""))
        group.attrs["weight_names"] = renamed

    path = _edited(tmp_path, "adam", rename)
    data = np.load(FIXTURES / "adam.npz")
    model = load_model(path)
    assert model.optimizer.iterations == 3
    _continue(model, data)
    np.testing.assert_allclose(model.get_weights()[0], data["w0"], rtol=1e-4, atol=2e-6)
