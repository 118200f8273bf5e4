"""Random functional graphs, built the same way with Keras or plait, to compare orders.

A spec is JSON data: how many inputs, shared `Dense` layers and shared nested models
to make, then a list of calls, each on earlier tensors (tensor `i` is the `i`-th
input or call result), the outputs, intermediate tensors given as extra model
inputs (a graph cut) and unused inputs. `make_order_golden.py` records, for each,
Keras 3's `model.layers` and the layer owning each of `model.weights`;
`test_order_parity.py` requires plait's to be the same.
"""

from __future__ import annotations

import random
from typing import Any

# x -> shared(x) ... shared(add([other(x), shared(x)])): the shared layer's first
# call is as deep as `other`, and it is met first walking back from the output, so
# Keras lists it (and its weights) before `other`.
SHARED_AT_TWO_DEPTHS: dict[str, Any] = {
    "n_in": 1,
    "n_dense": 2,
    "n_sub": 0,
    "calls": [
        ["dense", 0, 0, 1],
        ["dense", 0, 0, 0],
        ["add", 2, 1, 0],
        ["dense", 3, 0, 1],
    ],
    "outputs": [4],
    "cut_inputs": [],
    "unused": 0,
}


def random_spec(rng: random.Random) -> dict[str, Any]:
    """A random graph: 1-2 inputs, 1-3 shared Dense layers, 0-1 nested models."""
    n_in, n_dense, n_sub = rng.randint(1, 2), rng.randint(1, 3), rng.randint(0, 1)
    calls: list[list[Any]] = []
    n = n_in
    for _ in range(rng.randint(2, 9)):
        r = rng.random()
        if r < 0.5 or (r < 0.7 and not n_sub):
            calls.append(["dense", rng.randrange(n), 0, rng.randrange(n_dense)])
        elif r < 0.7:
            calls.append(["sub", rng.randrange(n), 0, rng.randrange(n_sub)])
        else:
            calls.append(["add", rng.randrange(n), rng.randrange(n), 0])
        n += 1
    more = [rng.randrange(n_in, n) for _ in range(rng.randint(0, 2))]
    outputs = sorted({n - 1, *more})
    cut = [rng.randrange(n_in, n)] if rng.random() < 0.15 else []
    return {
        "n_in": n_in,
        "n_dense": n_dense,
        "n_sub": n_sub,
        "calls": calls,
        "outputs": outputs,
        "cut_inputs": [i for i in cut if i not in outputs],
        "unused": int(rng.random() < 0.15),
    }


def build(spec: dict[str, Any], input_fn: Any, model_cls: Any, layers: Any) -> Any:
    """Build `spec` with `Input`, `Model` and the `layers` module of Keras or plait."""
    tensors = [input_fn(shape=(4,), name=f"in{i}") for i in range(spec["n_in"])]
    inputs = list(tensors)
    dense = [layers.Dense(4, name=f"d{i}") for i in range(spec["n_dense"])]
    subs = []
    for j in range(spec["n_sub"]):
        x = input_fn(shape=(4,), name=f"sub{j}_in")
        h = layers.Dense(4, name=f"sub{j}_a")(x)
        h2 = layers.Dense(4, name=f"sub{j}_b")(h)
        subs.append(
            model_cls(x, layers.Add(name=f"sub{j}_add")([h, h2]), name=f"sub{j}")
        )
    for kind, a, b, k in spec["calls"]:
        if kind == "dense":
            tensors.append(dense[k](tensors[a]))
        elif kind == "sub":
            tensors.append(subs[k](tensors[a]))
        else:
            add = layers.Add(name=f"add{len(tensors)}")
            tensors.append(add([tensors[a], tensors[b]]))
    inputs += [tensors[i] for i in spec["cut_inputs"]]
    inputs += [input_fn(shape=(4,), name=f"unused{i}") for i in range(spec["unused"])]
    return model_cls(inputs, [tensors[i] for i in spec["outputs"]])
