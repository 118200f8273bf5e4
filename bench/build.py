"""Building applications (`weights=None`): plait's truncated normal vs torch's.

Run: `python bench/build.py [--models EfficientNetB0,EfficientNetB7,ResNet50]
[--reps 3]`. Each model is built `--reps` times with plait's initializers as
they are (`initializers.truncated_normal_`, which redraws only the draws that
fall beyond two standard deviations) and with the same fill done by torch's
`torch.nn.init.trunc_normal_` (which redraws the whole tensor each round),
alternating in one run (`workloads.interleaved`), one thread; prints the
median seconds of each and their ratio.
Most of an application's build time is drawing its initial weights. ResNet50
(glorot_uniform kernels) draws no truncated normals: a control at about 1x.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/build.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

import plait.applications
from bench.workloads import interleaved
from plait import initializers


def _torch_fill(
    t: torch.Tensor, mean: float, stddev: float, generator: Any = None
) -> torch.Tensor:
    low, high = mean - 2 * stddev, mean + 2 * stddev
    return torch.nn.init.trunc_normal_(t, mean, stddev, low, high, generator=generator)


def _with_fill(fill: Callable[..., Any], build: Callable[[], Any]) -> Callable[[], Any]:
    """`build()` with `fill` as the initializers' truncated-normal fill."""

    def run() -> Any:
        kept = initializers.truncated_normal_
        initializers.truncated_normal_ = fill
        try:
            return build()
        finally:
            initializers.truncated_normal_ = kept

    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="EfficientNetB0,EfficientNetB7,ResNet50")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    header = ("model", "plait s", "torch fill s", "torch / plait")
    print(" ".join(f"{h:>16}" for h in header))
    for name in args.models.split(","):
        application = getattr(plait.applications, name)

        def build(app: Any = application) -> Any:
            return app(weights=None)

        runs = interleaved(
            {"plait": build, "torch": _with_fill(_torch_fill, build)}, args.reps
        )
        times = {k: statistics.median(v) for k, v in runs.items()}
        row = (
            name,
            f"{times['plait']:.2f}",
            f"{times['torch']:.2f}",
            f"{times['torch'] / times['plait']:.2f}x",
        )
        print(" ".join(f"{c:>16}" for c in row))


if __name__ == "__main__":
    main()
