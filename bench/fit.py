"""Training throughput: `plait.fit` vs the same math in a hand-written PyTorch loop.

Run: `python bench/fit.py [--threads 1] [--reps 5] [--quick]`. In one process,
for each model of GUIDE.md (by default the MLP of section 1, the headline model
of section 3, the shared-LSTM tweet model of section 4; `--models` takes any
workload of `bench/workloads.py`), it times one epoch of:

- `torch`: an `nn.Module` holding the same weights, trained by a loop written
  as a careful PyTorch user would: tensors on the device once, one `randperm`
  per epoch, index slices, `zero_grad(set_to_none=True)`, forward, the same loss
  (cross-entropy on the logits), `backward`, `torch.optim.RMSprop(lr=1e-3,
  alpha=0.9, eps=1e-7)`, loss and accuracy summed on the device, read once;
- `plait v0`: `model.fit(x, y, batch_size=32, epochs=1, verbose=0)`;
- `plait v1`: the same with `verbose=1`, the progress bar drawn on a terminal
  (a pseudo-terminal drained by a thread, so drawing really happens).

Repetitions are interleaved after a warm-up; the table reports median samples
per second and the plait/torch ratios (above 1.0 = plait faster). Before
timing, one batch through both implementations checks that they compute the
same loss from the same weights ("same math").

Denormal floats are flushed to zero (`torch.set_flush_denormal(True)`) unless
`--keep-denormals` is given: RMSprop's squared-gradient averages of weights
whose gradient is zero (dead ReLU units, unused embedding rows) decay into the
denormal range after a few hundred steps, and torch's RMSprop, which takes
`sqrt(avg)` of them, then runs on the CPU's slow denormal path (2x slower per
step on the MLP) while plait's Keras update, `sqrt(avg + eps)`, does not. That
is a numerical accident, not framework overhead, so it is kept out by default.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/fit.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
from rich.console import Console
from rich.table import Table

import plait
from bench.workloads import BATCH, CLOCKS, Workload, interleaved, terminal_stdout


def run(
    work: Workload, reps: int, clock: str = "wall", stat: str = "median"
) -> dict[str, Any]:
    """Interleaved timings of the three implementations, after one warm-up each."""
    opt = work.torch_optimizer(work.torch, "default")

    def v1() -> None:
        with terminal_stdout():
            work.plait_epoch(1)

    impls = {
        "torch": lambda: work.torch_epoch(work.torch, opt),
        "v0": lambda: work.plait_epoch(0),
        "v1": v1,
    }
    times = interleaved(impls, reps, CLOCKS[clock])
    pick = statistics.median if stat == "median" else min
    return {k: work.n / pick(v) for k, v in times.items()}


def main() -> None:
    """Parse arguments, time each model, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--reps", type=int, default=5, help="timed epochs per impl")
    parser.add_argument(
        "--quick", action="store_true", help="fewer samples (smoke run)"
    )
    parser.add_argument("--models", default="mlp,headline,tweets")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall time, or process CPU time (steadier on a shared machine)",
    )
    parser.add_argument("--stat", choices=["median", "min"], default="median")
    parser.add_argument(
        "--keep-denormals",
        action="store_true",
        help="do not flush denormal floats to zero (see the module docstring)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(not args.keep_denormals)
    plait.utils.set_random_seed(0)
    sizes = {"mlp": 16384, "headline": 1024, "tweets": 256}
    sizes = {k: sizes.get(k, 256) for k in args.models.split(",")}
    if args.quick:
        sizes = {k: max(v // 8, BATCH) for k, v in sizes.items()}
    table = Table(
        title=f"fit throughput, samples/s (batch {BATCH}, {args.threads} thread(s), "
        f"torch {torch.__version__}, {args.stat} of {args.reps}, {args.clock} clock, "
        f"denormals {'kept' if args.keep_denormals else 'flushed'})"
    )
    for col in (
        "model",
        "same math",
        "torch loop",
        "plait verbose=0",
        "ratio",
        "plait verbose=1",
        "ratio",
    ):
        table.add_column(col, justify="left" if col == "model" else "right")
    console = Console()
    for name, n in sizes.items():
        try:
            work = Workload(name, n)
        except ImportError as err:  # e.g. a layer not there yet
            table.add_row(name, "-", f"skipped: {err}", "", "", "", "")
            continue
        diff = work.check_same_math()
        with contextlib.redirect_stdout(io.StringIO()):
            speed = run(work, args.reps, args.clock, args.stat)
        table.add_row(
            name,
            "yes" if diff < 1e-4 else f"no ({diff:.1e})",
            f"{speed['torch']:,.0f}",
            f"{speed['v0']:,.0f}",
            f"{speed['v0'] / speed['torch']:.2f}x",
            f"{speed['v1']:,.0f}",
            f"{speed['v1'] / speed['torch']:.2f}x",
        )
    console.print(table)


if __name__ == "__main__":
    main()
