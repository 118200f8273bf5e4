"""Write Keras 3's results for the numeric preprocessing cases (`cases.py`).

Keras 3 runs `CategoryEncoding`, `Discretization` and `Normalization` on the torch
backend without TensorFlow, except that `Discretization.adapt` asks whether its data
is a `tf.data.Dataset`: the script answers no with a stand-in (its lookup, hashing and text layers need TensorFlow, so
their tests follow Keras's documented examples instead). Not needed at test time:

    KERAS_BACKEND=torch python tests/layers/preprocessing/make_numeric_golden.py
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras
from keras.src.layers.preprocessing import discretization


class _NoTF:
    """Stands in for `tf` where `Discretization.adapt` only asks "is it TF data?"."""

    class data:
        class Dataset:
            pass

    @staticmethod
    def is_tensor(x: object) -> bool:
        return False


discretization.tf = _NoTF

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3]))
import numpy as np  # noqa: E402

from tests.layers.preprocessing.cases import FLOATS, PROBE, run_all  # noqa: E402

GOLDEN = pathlib.Path(__file__).parent / "golden" / "numeric.json"
MODEL = GOLDEN.with_name("numeric_model.keras")


def save_model() -> list:
    """A Keras model with adapted Normalization, Discretization, CategoryEncoding."""
    x = keras.Input(shape=(4,))
    norm = keras.layers.Normalization()
    norm.adapt(FLOATS)
    bins = keras.layers.Discretization(bin_boundaries=[0.0, 1.0])
    y = keras.layers.Dense(2)(norm(x))
    z = keras.layers.CategoryEncoding(num_tokens=3)(bins(x))
    model = keras.Model(x, [y, z])
    model.save(MODEL)
    return [np.round(o.astype("float64"), 5).tolist() for o in model.predict(PROBE)]


if __name__ == "__main__":
    result = {
        "keras_version": keras.__version__,
        "cases": run_all(keras.layers),
        "model_outputs": save_model(),
    }
    GOLDEN.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
