"""Training speed under dtype policies: float32 vs mixed_bfloat16 (and mixed_float16).

Run: `python bench/mixed_precision.py [--threads 1] [--reps 3] [--samples 4096]`.
Trains the MLP of GUIDE.md section 1 (784 -> 64 -> 64 -> 10, RMSprop,
categorical cross-entropy on the logits) for one epoch on random data, once per
policy and batch size, after a warm-up epoch; prints the median samples per
second and the ratio to float32 (above 1.0 = faster than float32).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # `python bench/mixed_precision.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch

import plait
from plait import mixed_precision
from plait.layers import Activation, Dense, Input

POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")


def _model(policy: str) -> plait.Model:
    mixed_precision.set_global_policy(policy)
    try:
        inputs = Input(shape=(784,))
        x = Dense(64, activation="relu")(inputs)
        x = Dense(64, activation="relu")(x)
        outputs = Activation("softmax", dtype="float32")(Dense(10)(x))
        model = plait.Model(inputs, outputs)
    finally:
        mixed_precision.set_global_policy(None)
    model.compile("rmsprop", "categorical_crossentropy", metrics=["accuracy"])
    return model


def _rate(policy: str, batch: int, samples: int, reps: int) -> float:
    rng = np.random.default_rng(0)
    x = rng.random((samples, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, samples)]
    model = _model(policy)
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)  # warm-up
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        times.append(time.perf_counter() - start)
    return samples / statistics.median(times)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 256])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), CPU")
    print(f"{'batch':>6} {'policy':>15} {'samples/s':>10} {'vs float32':>10}")
    for batch in args.batches:
        base = None
        for policy in POLICIES:
            rate = _rate(policy, batch, args.samples, args.reps)
            base = base or rate
            print(f"{batch:>6} {policy:>15} {rate:>10.0f} {rate / base:>10.2f}")


if __name__ == "__main__":
    main()
