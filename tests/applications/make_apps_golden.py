"""Write Keras 3 reference predictions of the applications, for test_golden.py.

Run with a Keras 3 install on the torch backend (not needed at test time):

    KERAS_BACKEND=torch python tests/applications/make_apps_golden.py [--out DIR]

The cases are listed in `cases_*.py` beside this script, each a list `CASES` of
`(case id, application name, constructor kwargs, batch shape)`. For each, the
Keras application is built with `weights=None`, filled with `golden.fill`'s
seeded weights and run on `golden.batch`; `golden/<case>.npz` keeps the batch
`x`, the prediction `y` and a JSON `meta` (name, kwargs, Keras's weight paths
and shapes, Keras's version).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras
import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import golden  # noqa: E402


def cases() -> list[tuple[str, str, dict, tuple[int, ...]]]:
    """Every case of every `cases_*.py` file, in file order."""
    found = []
    for path in sorted(HERE.glob("cases_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found.extend(module.CASES)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(golden.GOLDEN))
    parser.add_argument("--only", default=None, help="a case id prefix")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for case_id, name, kwargs, shape in cases():
        if args.only and not case_id.startswith(args.only):
            continue
        keras.backend.clear_session()  # auto-named layers start again at `<name>`
        model = getattr(keras.applications, name)(weights=None, **kwargs)
        paths = [v.path for v in model.weights]
        shapes = [tuple(v.shape) for v in model.weights]
        model.set_weights(golden.fill(paths, shapes))
        x = golden.batch(shape)
        y = np.asarray(model.predict(x, verbose=0))
        meta = {
            "name": name,
            "kwargs": kwargs,
            "paths": paths,
            "shapes": shapes,
            "keras": keras.__version__,
        }
        np.savez_compressed(out / f"{case_id}.npz", x=x, y=y, meta=json.dumps(meta))
        print(case_id, y.shape)


if __name__ == "__main__":
    main()
