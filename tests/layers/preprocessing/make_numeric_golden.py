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
from tests.layers.preprocessing.cases import run_all  # noqa: E402

GOLDEN = pathlib.Path(__file__).parent / "golden" / "numeric.json"

if __name__ == "__main__":
    result = {"keras_version": keras.__version__, "cases": run_all(keras.layers)}
    GOLDEN.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
