"""Write Keras 3's results of every case in `ops_cases.py` (the ops goldens).

Run with Keras 3 on the torch backend (not needed at test time):

    KERAS_BACKEND=torch python tests/ops/make_ops_golden.py [--out DIR]

Writes `golden/ops.npz` (the results' values, `<case>:<i>` for the i-th
leaf of a case's result) and `golden/ops.json` (per case: the leaves' dtypes
and shapes, or the error Keras raised). `test_ops_golden.py` replays the cases
on plait and compares.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import warnings

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
import keras

from tests.ops.ops_cases import CASES, leaves, run

GOLDEN = pathlib.Path(__file__).parent / "golden"


def _module(namespace: str):
    found = keras
    for part in namespace.split("."):
        found = getattr(found, part)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=pathlib.Path, default=GOLDEN)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    table: dict[str, dict] = {}
    warnings.simplefilter("ignore")
    for case in CASES:
        try:
            result = run(_module(case.namespace), case)
        except (NameError, ImportError):  # a mistake in the cases, not Keras's
            raise
        except Exception as error:  # the golden records it
            table[case.key] = {"error": type(error).__name__}
            continue
        entry: dict[str, list] = {"dtypes": [], "shapes": []}
        for i, (value, dtype) in enumerate(leaves(result)):
            entry["dtypes"].append(dtype)
            entry["shapes"].append(None if value is None else list(value.shape))
            if value is not None:
                arrays[f"{case.key}:{i}"] = value
        table[case.key] = entry
    np.savez_compressed(out / "ops.npz", **arrays)
    meta = {"keras": keras.__version__, "cases": table}
    (out / "ops.json").write_text(json.dumps(meta, indent=0, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
