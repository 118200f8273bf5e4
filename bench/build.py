"""Building applications (`weights=None`): plait's truncated normal vs torch's.

Run: `python bench/build.py [--models EfficientNetB0,EfficientNetB7,ResNet50]
[--reps 3]`. Each model is built `--reps` times with plait's initializers as
they are (`initializers.truncated_normal_`, which redraws only the draws that
fall beyond two standard deviations) and with the same fill done by torch's
`torch.nn.init.trunc_normal_` (which redraws the whole tensor each round), in
one run, one thread; prints the median seconds of each and their ratio.
Most of an application's build time is drawing its initial weights. ResNet50
(glorot_uniform kernels) draws no truncated normals: a control at about 1x.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

import plait.applications
from plait import initializers


def _torch_fill(
    t: torch.Tensor, mean: float, stddev: float, generator: Any = None
) -> torch.Tensor:
    low, high = mean - 2 * stddev, mean + 2 * stddev
    return torch.nn.init.trunc_normal_(t, mean, stddev, low, high, generator=generator)


def _median_s(build: Callable[[], Any], reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        build()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="EfficientNetB0,EfficientNetB7,ResNet50")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    plait_fill = initializers.truncated_normal_
    header = ("model", "plait s", "torch fill s", "torch / plait")
    print(" ".join(f"{h:>16}" for h in header))
    for name in args.models.split(","):
        build = getattr(plait.applications, name)
        times = {}
        for label, fill in (("plait", plait_fill), ("torch", _torch_fill)):
            initializers.truncated_normal_ = fill
            try:
                build(weights=None)  # warm-up
                times[label] = _median_s(lambda b=build: b(weights=None), args.reps)
            finally:
                initializers.truncated_normal_ = plait_fill
        row = (
            name,
            f"{times['plait']:.2f}",
            f"{times['torch']:.2f}",
            f"{times['torch'] / times['plait']:.2f}x",
        )
        print(" ".join(f"{c:>16}" for c in row))


if __name__ == "__main__":
    main()
