"""examples/fine_tuning.py runs at a tiny size, with Keras's transfer-learning rules.

While the head trains, the frozen base does not move at all; while the whole
model is fine-tuned, the base's kernels move but its BatchNormalization
statistics stay put (the base is called with `training=False`).
"""

import importlib.util
import pathlib

import numpy as np
import pytest

PATH = pathlib.Path(__file__).resolve().parents[2] / "examples" / "fine_tuning.py"


def _example():
    spec = importlib.util.spec_from_file_location("fine_tuning", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _snapshot(base):
    return {w.path: w.detach().clone().numpy() for w in base.weights}


@pytest.mark.slow
def test_fine_tuning_example_freezes_then_fine_tunes():
    example = _example()
    x, y = example.digits(32, samples=16)
    assert x.shape == (16, 32, 32, 3)
    assert x.max() == 255.0
    model, base = example.build(None, 32)
    start = _snapshot(base)
    head = [w.detach().clone() for w in model.layers[-1].weights]
    example.train_head(model, x, y, epochs=1, batch_size=8, verbose=0)
    for path, value in _snapshot(base).items():
        np.testing.assert_array_equal(value, start[path], err_msg=path)
    assert not np.allclose(model.layers[-1].weights[0].detach(), head[0])

    history = example.fine_tune(model, base, x, y, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    tuned = _snapshot(base)
    for path, value in tuned.items():
        if "moving_" in path:
            np.testing.assert_array_equal(value, start[path], err_msg=path)
    assert not np.array_equal(tuned["conv1_conv/kernel"], start["conv1_conv/kernel"])
