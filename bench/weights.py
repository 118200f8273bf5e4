"""`get_weights`/`set_weights` cost against depth: must grow linearly.

Run: `python bench/weights.py [--layers 10,200,2000] [--reps 5]`. Builds a
chain Model of `n` `Dense(4)` layers for each `n`, times `get_weights()` and
`set_weights()` (median of `--reps` runs after a warm-up) and prints, per
depth, the seconds of each, the microseconds per layer of both together, and
the ratio of its time to the previous depth's time times the depth ratio:
about 1 when the cost is linear; at most 2 for 2,000 layers against 10 times
200 is the acceptance of issue 10 (it was 25 before the weight metadata moved
into one table per layer: 42 s to `get_weights` 2,000 layers here).
"""

from __future__ import annotations

import argparse
import functools
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # `python bench/weights.py`: make `plait` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

import plait


def _chain(n: int) -> plait.Model:
    x = plait.Input(shape=(4,))
    y = x
    for _ in range(n):
        y = plait.layers.Dense(4)(y)
    return plait.Model(x, y)


def _median_s(fn: Callable[[], object], reps: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(reps):
        gc.collect()  # no collection left over from the previous run
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default="10,200,2000")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    depths = sorted(int(n) for n in args.layers.split(","))
    torch.set_num_threads(1)
    header = ("layers", "get_weights s", "set_weights s", "µs/layer", "ratio")
    print(" ".join(f"{h:>14}" for h in header))
    prev: tuple[int, float] | None = None
    for n in depths:
        model = _chain(n)
        weights = model.get_weights()
        get_s = _median_s(model.get_weights, args.reps)
        set_s = _median_s(functools.partial(model.set_weights, weights), args.reps)
        total = get_s + set_s
        # Time against the previous depth's time scaled by the depth ratio.
        ratio = f"{total / (prev[1] * n / prev[0]):.2f}" if prev else "-"
        row = (f"{n}", f"{get_s:.4f}", f"{set_s:.4f}", f"{total / n * 1e6:.1f}", ratio)
        print(" ".join(f"{c:>14}" for c in row))
        prev = (n, total)
    print(
        "ratio: get+set time against the previous row's times its depth ratio "
        "(1 when linear; issue 10 accepts <= 2 for 2000 vs 10x200)."
    )


if __name__ == "__main__":
    main()
