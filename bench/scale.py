"""Scaling out on the CPU: `fit` in 1 and 2 processes, float32 and mixed_bfloat16.

Run: `python bench/scale.py [--reps 3] [--quick] [--models mlp,inception]`.

For each workload of `bench/workloads.py` named (by default the MLP of
GUIDE.md section 1 at batch 256 and the Inception towers of section 6 at
batch 32) and each policy (`float32`, `mixed_bfloat16`), it trains the
unchanged plait model with `fit` in 1 process, then in 2 processes started
with `torch.multiprocessing` as torchrun would start them (its environment
variables set, so plait creates the gloo group and trains data parallel with
the same global batch). Every process runs one torch thread. Each timing is an
epoch of `fit(verbose=0)` between two barriers, after a warm-up epoch; the
table reports the median samples per second and:

- scaling efficiency = (2-process samples/s) / (2 x 1-process samples/s)
  (1.0 = perfect; the target is >= 0.85 on Inception);
- mixed_bfloat16 / float32 samples/s in the same number of processes.

The machine's other load is printed with the table: two processes need two
idle cores, and any other work on the machine lowers the 2-process column.
So the table also gives the efficiency on CPU time: samples per CPU-second of
the busiest process (`time.process_time`), which other processes' load does
not dilute; it measures what data parallelism costs in work (the duplicated
per-step overhead and the all-reduce), not whether the cores were free.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/scale.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
import torch.multiprocessing as mp

# name -> (batch size, samples per epoch, samples per epoch with --quick)
SCALE_WORKLOADS = {
    "mlp": (256, 32768, 8192),
    "inception": (32, 128, 64),
}
POLICIES = ("float32", "mixed_bfloat16")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(rank: int, world: int, port: int, job: dict[str, Any], out: str) -> None:
    """One process: build the workload, time `fit` epochs, write its times."""
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.set_flush_denormal(True)  # as bench/fit.py: keep denormal stalls out
    os.environ["PLAIT_DEVICE"] = "cpu"
    if world > 1:  # what torchrun sets; plait then joins the group itself
        os.environ.update(
            RANK=str(rank),
            LOCAL_RANK=str(rank),
            WORLD_SIZE=str(world),
            LOCAL_WORLD_SIZE=str(world),
            MASTER_ADDR="127.0.0.1",
            MASTER_PORT=str(port),
        )
    from bench.workloads import Workload
    from plait import mixed_precision

    mixed_precision.set_global_policy(job["policy"])
    try:
        work = Workload(job["name"], job["n"])
    finally:
        mixed_precision.set_global_policy(None)
    model = work.plait

    def barrier() -> None:
        if world > 1:
            torch.distributed.barrier()

    def epoch() -> tuple[float, float]:
        barrier()
        start, cpu = time.perf_counter(), time.process_time()
        model.fit(work.x, work.y, batch_size=job["batch"], epochs=1, verbose=0)
        cpu = time.process_time() - cpu
        barrier()
        return time.perf_counter() - start, cpu

    epoch()  # warm-up (and, in 2 processes, the group and DDP set-up)
    times = [epoch() for _ in range(job["reps"])]
    wall = statistics.median(t[0] for t in times)
    cpu = statistics.median(t[1] for t in times)
    Path(out, f"{rank}.json").write_text(json.dumps({"wall": wall, "cpu": cpu}))
    if world > 1:
        torch.distributed.destroy_process_group()


def measure(
    name: str, policy: str, world: int, reps: int, quick: bool
) -> tuple[float, float]:
    """Samples per second of `fit` on `name` under `policy` in `world` processes:
    `(per wall second, per CPU second of the busiest process)`."""
    batch, n, n_quick = SCALE_WORKLOADS[name]
    job = {
        "name": name,
        "policy": policy,
        "batch": batch,
        "n": n_quick if quick else n,
        "reps": reps,
    }
    with tempfile.TemporaryDirectory() as out:
        mp.spawn(_worker, args=(world, _free_port(), job, out), nprocs=world)
        found = [json.loads(Path(out, f"{r}.json").read_text()) for r in range(world)]
    n = job["n"]
    return n / found[0]["wall"], n / max(f["cpu"] for f in found)


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> None:
    """Print the scale table (markdown)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smaller epochs")
    parser.add_argument("--models", default=",".join(SCALE_WORKLOADS))
    parser.add_argument("--policies", default=",".join(POLICIES))
    args = parser.parse_args(argv)
    names = args.models.split(",")
    policies = args.policies.split(",")
    print(
        f"torch {torch.__version__}, CPU, {os.cpu_count()} cores, one thread per "
        f"process, gloo; load before: {_load()}"
    )
    print(
        "| model | batch | policy | 1 proc samples/s | 2 procs samples/s "
        "| scaling efficiency | efficiency on CPU time | vs float32 (1 proc) "
        "| vs float32 (2 procs) | load |"
    )
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in names:
        base: tuple[float, float] | None = None
        for policy in policies:
            one, one_cpu = measure(name, policy, 1, args.reps, args.quick)
            two, two_cpu = measure(name, policy, 2, args.reps, args.quick)
            base = base or (one, two)
            print(
                f"| {name} | {SCALE_WORKLOADS[name][0]} | {policy} | {one:,.1f} "
                f"| {two:,.1f} | {two / (2 * one):.2f} "
                f"| {two_cpu / (2 * one_cpu):.2f} | {one / base[0]:.2f}x "
                f"| {two / base[1]:.2f}x | {_load()} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
