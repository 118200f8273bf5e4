"""The GPU check in one go: the `gpu` tests, then a GPU column of the benchmark.

Run on a CUDA machine: `python bench/gpu.py --out gpu.md [--quick] [--reps 3]`.

1. `pytest -m gpu` (every test marked `gpu`), with a timeout; its summary
   line goes into the report.
2. For the six workloads of `bench/workloads.py`, in float32 and
   mixed_bfloat16, samples per second of one training epoch on the GPU of:
   - `torch`: the hand-written loop of `bench/workloads.py` on the GPU (data
     tensors on the device once, `randperm`, index slices, `zero_grad`, the
     loss on the logits, `backward`, `step`; bf16 through `torch.autocast`),
     with the documented `torch.optim` optimizer (`default`) and with the
     update kernel plait runs (`plait's opt`);
   - `plait`: `fit(verbose=0)` on the same data already on the GPU;
   - `plait jit`: the same after `compile(jit_compile=True)`, timed after its
     first (compiling) epoch.
   Each timing is one epoch between `torch.cuda.synchronize()` calls, median
   of `--reps` after a warm-up epoch; a cell that fails shows the error.

The table (markdown) is printed and written to `--out`. Without CUDA the
script stops at once with a message and exit status 2. Expect 3-6 minutes
(most of it compiling the jit steps; `--no-jit` skips them, `--quick` runs
smaller epochs).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/gpu.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ("float32", "mixed_bfloat16")
NO_CUDA = 2  # exit status without a GPU


def _no_cuda_message() -> str:
    return (
        "bench/gpu.py: expected a machine with CUDA, got none "
        f"(torch {torch.__version__}, torch.cuda.is_available() is False); "
        "run it on a GPU machine. The CPU benchmarks are `python -m bench` and "
        "`python bench/scale.py`."
    )


def run_gpu_tests(timeout: int) -> str:
    """`pytest -m gpu` in a subprocess; its last line (the summary) or the timeout."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["-m", "gpu", "tests"]
    try:
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return f"pytest -m gpu: timed out after {timeout} s"
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    failures = [line for line in lines if line.startswith(("FAILED", "ERROR"))]
    summary = lines[-1] if lines else done.stderr.strip()[-300:]
    return "\n".join([f"pytest -m gpu (exit {done.returncode}): {summary}", *failures])


def _epoch_rate(fn: Callable[[], Any], n: int, reps: int) -> float:
    """Samples per second of `fn` (one epoch of `n` samples): median after a warm-up."""
    fn()
    times = []
    for _ in range(reps):
        torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return n / statistics.median(times)


def torch_epoch(
    work: Any, module: Any, opt: Any, data: tuple[list[Any], list[Any]], bf16: bool
) -> None:
    """The hand-written loop of `bench/workloads.py`, on the GPU."""
    from bench.workloads import BATCH

    tx, ty = data
    n = int(tx[0].shape[0])
    device = tx[0].device
    module.train()
    total = torch.zeros((), device=device)
    correct_sum = torch.zeros((), dtype=torch.long, device=device)
    perm = torch.randperm(n, device=device)
    for start in range(0, n, BATCH):
        idx = perm[start : start + BATCH]
        xs = [t[idx] for t in tx]
        ys = [t[idx] for t in ty]
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            loss, correct = work.loss(module(*xs), ys)
        loss.backward()
        opt.step()
        total += loss.detach().float() * idx.shape[0]
        if correct is not None:
            correct_sum += correct
    _ = (total / n).item(), (correct_sum.float() / n).item()


def measure(name: str, policy: str, n: int, reps: int, jit: bool) -> dict[str, Any]:
    """Samples/s of each implementation on one workload and policy (or the error)."""
    from bench.workloads import BATCH, Workload
    from plait import mixed_precision

    mixed_precision.set_global_policy(policy)
    try:
        work = Workload(name, n)
    finally:
        mixed_precision.set_global_policy(None)
    device = torch.device("cuda")
    bf16 = policy != "float32"
    data = ([t.to(device) for t in work.tx], [t.to(device) for t in work.ty])
    px = [torch.from_numpy(a).to(device) for a in work.x]  # plait's layout
    py = [torch.from_numpy(a).to(device) for a in work.y]
    row: dict[str, Any] = {}

    def cell(key: str, fn: Callable[[], Any]) -> None:
        try:
            row[key] = _epoch_rate(fn, n, reps)
        except Exception as err:  # one failing cell must not end the check
            row[key] = f"failed: {type(err).__name__}: {str(err)[:80]}"

    for kind in ("default", "plait"):
        module = work.torch_copy().to(device)
        opt = work.torch_optimizer(module, kind)
        cell(
            f"torch {kind}", lambda m=module, o=opt: torch_epoch(work, m, o, data, bf16)
        )
    if jit:
        compiled = work.plait_jit()  # before `fit` changes the weights
    work.plait.to(device)

    def fit(model: Any) -> Callable[[], Any]:
        return lambda: model.fit(px, py, batch_size=BATCH, epochs=1, verbose=0)

    cell("plait", fit(work.plait))
    if jit:
        compiled.to(device)
        cell("plait jit", fit(compiled))
    return row


def _fmt(value: Any) -> str:
    return f"{value:,.0f}" if isinstance(value, float) else str(value or "-")


def _ratio(a: Any, b: Any) -> str:
    ok = isinstance(a, float) and isinstance(b, float)
    return f"{a / b:.2f}x" if ok else "-"


def table(rows: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    """The markdown table of the measured rows."""
    lines = [
        "| model | policy | torch (default opt) | torch (plait's opt) | plait "
        "| plait / default | plait / plait's opt | plait jit | jit / default |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (name, policy), r in rows.items():
        default, own = r.get("torch default"), r.get("torch plait")
        eager, jit = r.get("plait"), r.get("plait jit")
        lines.append(
            f"| {name} | {policy} | {_fmt(default)} | {_fmt(own)} | {_fmt(eager)} "
            f"| {_ratio(eager, default)} | {_ratio(eager, own)} | {_fmt(jit)} "
            f"| {_ratio(jit, default)} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the GPU tests and the GPU column; print and write the report."""
    from bench.workloads import QUICK_DIV, WORKLOADS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="file for the report")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smaller epochs")
    parser.add_argument("--models", default=",".join(WORKLOADS))
    parser.add_argument("--no-jit", action="store_true", help="skip jit_compile")
    parser.add_argument("--skip-tests", action="store_true")
    parser.add_argument("--test-timeout", type=int, default=240)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print(_no_cuda_message(), file=sys.stderr)
        return NO_CUDA
    started = time.perf_counter()
    name = torch.cuda.get_device_name()
    report = [f"GPU: {name}, torch {torch.__version__}, CUDA {torch.version.cuda}"]
    if not args.skip_tests:
        report.append(run_gpu_tests(args.test_timeout))
        print(report[-1], flush=True)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for model in args.models.split(","):
        n = WORKLOADS[model] // (QUICK_DIV[model] if args.quick else 1)
        for policy in POLICIES:
            rows[model, policy] = measure(model, policy, n, args.reps, not args.no_jit)
            print(f"{model} {policy}: {rows[model, policy]}", flush=True)
    report += ["", "**Train samples/s on the GPU, one epoch, batch 32**", ""]
    report += table(rows)
    report.append(f"\n(the whole check took {time.perf_counter() - started:.0f} s)")
    text = "\n".join(report) + "\n"
    print(text)
    Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
