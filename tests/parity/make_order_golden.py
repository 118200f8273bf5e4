"""Write Keras 3's layer and weight order of random functional graphs to `golden/order/`.

Run with a Keras 3 install on the torch backend (not needed by the tests):

    KERAS_BACKEND=torch python tests/parity/make_order_golden.py [--out DIR]

Graphs come from `graph_order.random_spec` (seeded) after one fixed case, and
those Keras rejects are left out. `graphs.npz` holds one JSON `meta`: per graph
its spec, the names of `model.layers` (without the input layers Keras adds for a
graph cut at an inner tensor, `*CLONE`) and, for each of `model.weights`, the
name of the layer that owns it. `test_order_parity.py` rebuilds each in plait.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import random
import sys
import warnings

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))  # the repo root
from tests.parity import graph_order

GOLDEN = pathlib.Path(__file__).parent / "golden" / "order"
N_GRAPHS = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=GOLDEN)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    specs = [graph_order.SHARED_AT_TWO_DEPTHS]
    specs += [graph_order.random_spec(rng) for _ in range(N_GRAPHS)]
    cases = []
    for spec in specs:
        keras.backend.clear_session()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = graph_order.build(spec, keras.Input, keras.Model, keras.layers)
        except ValueError:
            continue  # e.g. an output that is also a cut input
        layers = [la.name for la in model.layers if not la.name.endswith("CLONE")]
        weights = [w.path.split("/")[-2] for w in model.weights]
        cases.append({"spec": spec, "layers": layers, "weights": weights})
    meta = {"keras": keras.__version__, "cases": cases}
    np.savez_compressed(out / "graphs.npz", meta=np.array(json.dumps(meta)))
    print(f"{len(cases)} graphs of {len(specs)} written to {out / 'graphs.npz'}")


if __name__ == "__main__":
    main()
