"""The benchmark suite: plait against hand-written PyTorch on the GUIDE.md models.

Run: `python -m bench` (or `python bench/run.py`) `[--quick] [--reps 5]
[--threads 1] [--models mlp,headline,...] [--markdown FILE]`.

For each workload of `bench/workloads.py` it builds the model through plait
and as an idiomatic `nn.Module` with the same initial weights, checks that
both compute the same first loss ("same math"), then times, in one process,
in interleaved repetitions after a warm-up:

- train samples/s of one epoch: the hand-written loop with the optimizer as
  the PyTorch docs show it (`torch.optim.RMSprop(lr, alpha=0.9, eps=1e-7)`;
  `torch.optim.Adam(lr, eps=1e-7)`), the hand-written loop with the same
  update kernel plait's `fit` uses (`KerasRMSprop`, Keras's exact RMSprop;
  `torch.optim.Adam(fused=True)`), `plait fit(verbose=0)` and
  `fit(verbose=1)` drawing its progress bar on a (pseudo-)terminal;
- predict samples/s (batches of 32, inference mode, outputs as NumPy);
- batch-1 forward latency (inference mode, output activation applied);
- peak memory of one epoch of training, each side in a fresh subprocess:
  the rise of the resident set size (`VmHWM` after resetting it through
  `/proc/self/clear_refs`) over the size before the epoch.

When Keras 3 imports with the torch backend (it is not a plait dependency:
install it beside torch, e.g. in a second venv that sees this one's packages),
a fourth table compares the same models in Keras, built from the same weights
(`bench/keras_models.py`); `--no-keras` skips it.

Ratios are plait/torch: above 1.0 is plait faster for samples/s, below 1.0 is
plait faster (or smaller) for latency and memory. The machine's load is read
before each workload and a warning printed when other processes compete for
the cores (a busy second core makes multi-threaded torch many times slower
here; one thread per process is the default).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/run.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
from rich.console import Console
from rich.table import Table

import plait
from bench import workloads as wl

console = Console(width=max(Console().width, 160))  # the train table is wide


# ---------------------------------------------------------------- machine


def load_average() -> float:
    """The one-minute load average (0.0 where the OS does not report it)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def check_load(threads: int, own: float = 0.0) -> str | None:
    """A warning when other processes keep the cores busy, else None.

    `own` is how much of the load this process itself adds (about `threads`
    while it has been running for a minute, 0 before it starts working).
    """
    cores = os.cpu_count() or 1
    others = load_average() - own
    if others > max(0.5, cores - threads - 0.5):
        return (
            f"load average {load_average():.2f} on {cores} cores (about "
            f"{max(others, 0):.1f} from other processes): timings are noisy and "
            "ratios less reliable; rerun on an idle machine"
        )
    return None


def machine_notes(threads: int) -> str:
    """Cores, CPU model, load, torch version and threads, for the table captions."""
    model = ""
    with contextlib.suppress(OSError):
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        model = f" ({found.group(1).strip()})" if found else ""
    return (
        f"{os.cpu_count()} cores{model}, load {load_average():.2f}, "
        f"torch {torch.__version__}, {threads} thread(s), batch {wl.BATCH}"
    )


# ---------------------------------------------------------------- memory


def _proc_kb(key: str) -> int:
    text = Path("/proc/self/status").read_text()
    found = re.search(rf"{key}:\s+(\d+) kB", text)
    return int(found.group(1)) if found else 0


def probe_memory(name: str, n: int, impl: str) -> float:
    """MB the resident set rises by during one training epoch (run in a child)."""
    plait.utils.set_random_seed(0)
    work = wl.Workload(name, n)
    module = work.torch
    if impl == "torch":
        opt = work.torch_optimizer(module, "default")
        fn: Callable[[], None] = lambda: work.torch_epoch(module, opt)  # noqa: E731
    else:
        del work.torch, module  # the plait side does not hold the torch model
        fn = work.plait_epoch
    gc.collect()
    before = _proc_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    fn()
    return (_proc_kb("VmHWM") - before) / 1024


def memory_of(name: str, n: int, threads: int) -> dict[str, float | None]:
    """Peak memory of one epoch for `torch` and `plait`, each in a fresh process."""
    out: dict[str, float | None] = {}
    for impl in ("torch", "plait"):
        cmd = [
            sys.executable,
            "-m",
            "bench.run",
            "--probe-memory",
            f"{name}:{n}:{impl}",
            "--threads",
            str(threads),
        ]
        root = Path(__file__).resolve().parent.parent
        try:
            done = subprocess.run(
                cmd, cwd=root, capture_output=True, text=True, timeout=300, check=True
            )
            out[impl] = float(json.loads(done.stdout.strip().splitlines()[-1])["mb"])
        except (subprocess.SubprocessError, ValueError, KeyError, IndexError):
            out[impl] = None
    return out


# ---------------------------------------------------------------- timing


def per_call(fn: Callable[[], Any], calls: int) -> float:
    """Seconds per call of `fn`, timed over `calls` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def latency(impls: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """Median seconds per call of each, in alternating rounds of ~20 ms each."""
    calls = {}
    for key, fn in impls.items():
        per_call(fn, 5)  # warm-up
        calls[key] = max(5, int(0.02 / max(per_call(fn, 5), 1e-7)))
    times: dict[str, list[float]] = {k: [] for k in impls}
    for _ in range(rounds):
        for key, fn in impls.items():
            times[key].append(per_call(fn, calls[key]))
    return {k: statistics.median(v) for k, v in times.items()}


def measure(
    work: wl.Workload,
    reps: int,
    clock: Callable[[], float],
    jit: bool = True,
    keras: bool = False,
) -> dict[str, Any]:
    """Train, predict and batch-1 timings of one workload (interleaved)."""
    default, kernel = work.torch, work.torch_copy()
    result: dict[str, Any] = {
        "same_math": max(work.check_same_math(default), work.check_same_math(kernel)),
    }
    side = None
    if keras:
        from bench.keras_models import KerasSide

        side = KerasSide(work)  # from the same initial weights as the others
        xs, ys = [t[: wl.BATCH] for t in work.tx], [t[: wl.BATCH] for t in work.ty]
        with torch.no_grad():
            ref = float(work.loss(default(*xs), ys)[0])
        result["keras_same_math"] = abs(side.loss_of_first_batch() - ref)
    opt_default = work.torch_optimizer(default, "default")
    opt_kernel = work.torch_optimizer(kernel, "plait")

    def verbose1() -> None:
        with wl.terminal_stdout():
            work.plait_epoch(1)

    train = {
        "torch_default": lambda: work.torch_epoch(default, opt_default),
        "torch_kernel": lambda: work.torch_epoch(kernel, opt_kernel),
        "v0": lambda: work.plait_epoch(0),
        "v1": verbose1,
    }
    if jit:
        compiled = work.plait_jit()

        def jit_epoch() -> None:
            compiled.fit(work.x, work.y, batch_size=wl.BATCH, epochs=1, verbose=0)

        start = time.perf_counter()
        jit_epoch()  # compiles
        result["jit_first_epoch"] = time.perf_counter() - start
        step = compiled._plan.train_fn  # a plait.training.jit.JitStep
        result["jit_compile"] = sum(getattr(step, "compile_seconds", {}).values())
        result["jit_mode"] = getattr(step, "mode", "?")
        train["jit"] = jit_epoch
    if side is not None:
        train["keras"] = side.epoch
    with contextlib.redirect_stdout(io.StringIO()):
        times = wl.interleaved(train, reps, clock)
    result["train"] = {k: work.n / statistics.median(v) for k, v in times.items()}
    predict = {
        "torch": lambda: work.torch_predict(default),
        "plait": work.plait_predict,
    }
    forward1 = {"torch": work.torch_forward1(default), "plait": work.plait_forward1()}
    if side is not None:
        predict["keras"] = side.predict
        forward1["keras"] = side.forward1()
    times = wl.interleaved(predict, reps, clock)
    result["predict"] = {k: work.n / statistics.median(v) for k, v in times.items()}
    result["forward1"] = latency(forward1, max(5, reps * 2))
    return result


# ---------------------------------------------------------------- tables


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if not a or not b else f"{a / b:.2f}x"


def _num(v: float | None, fmt: str = ",.0f") -> str:
    return "-" if v is None else format(v, fmt)


def tables(rows: dict[str, dict[str, Any]], notes: str, reps: int) -> list[Table]:
    """The train, inference and memory tables."""
    opt_names = "torch.optim default / plait's kernel"
    train = Table(
        title=f"Train samples/s, one epoch, median of {reps} ({notes})",
        caption=f"torch loop: {opt_names} (RMSprop: torch.optim.RMSprop / "
        "KerasRMSprop; Adam: default / fused=True). ratio = plait / torch loop. "
        "plait jit: fit after compile(jit_compile=True); compile s: seconds of "
        "its first (compiling) steps, not in the samples/s, and the jit mode "
        "(graph: forward+backward+update compiled; update: the optimizer "
        "update only). GPU: not measured (no device lent to this run).",
    )
    cols = [
        "model",
        "opt",
        "same math",
        "torch (default opt)",
        "torch (plait's opt)",
        "plait v=0",
        "v0 / default",
        "v0 / plait's opt",
        "plait v=1",
        "v1 / plait's opt",
        "plait jit",
        "jit / default",
        "compile s",
        "load",
    ]
    for c in cols:
        train.add_column(c, justify="left" if c in ("model", "opt") else "right")
    infer = Table(
        title="Inference: predict samples/s (batch 32) and batch-1 forward latency",
        caption="predict ratio = plait / torch samples/s (>= 1.0 target); latency "
        "ratio = plait / torch time (<= 1.1 target).",
    )
    for c in (
        "model",
        "predict torch",
        "predict plait",
        "ratio",
        "batch-1 torch µs",
        "batch-1 plait µs",
        "ratio",
    ):
        infer.add_column(c, justify="left" if c == "model" else "right")
    memory = Table(
        title="Peak memory of one training epoch (resident set rise, MB)",
        caption="Each side in a fresh process; ratio = plait / torch (<= 1.1 target).",
    )
    for c in ("model", "torch MB", "plait MB", "ratio"):
        memory.add_column(c, justify="left" if c == "model" else "right")
    for name, r in rows.items():
        if "error" in r:
            train.add_row(name, "", f"skipped: {r['error']}", *[""] * 11)
            continue
        t = r["train"]
        diff = r["same_math"]
        train.add_row(
            name,
            r["optimizer"],
            "yes" if diff < 1e-4 else f"no ({diff:.1e})",
            _num(t["torch_default"]),
            _num(t["torch_kernel"]),
            _num(t["v0"]),
            _ratio(t["v0"], t["torch_default"]),
            _ratio(t["v0"], t["torch_kernel"]),
            _num(t["v1"]),
            _ratio(t["v1"], t["torch_kernel"]),
            _num(t.get("jit")),
            _ratio(t.get("jit"), t["torch_default"]),
            "-"
            if "jit_compile" not in r
            else f"{r['jit_compile']:.1f} ({r['jit_mode']})",
            f"{r['load']:.2f}",
        )
        p, f = r["predict"], r["forward1"]
        infer.add_row(
            name,
            _num(p["torch"]),
            _num(p["plait"]),
            _ratio(p["plait"], p["torch"]),
            _num(f["torch"] * 1e6, ",.1f"),
            _num(f["plait"] * 1e6, ",.1f"),
            _ratio(f["plait"], f["torch"]),
        )
        m = r.get("memory")
        if m is not None:
            memory.add_row(
                name,
                _num(m["torch"], ",.1f"),
                _num(m["plait"], ",.1f"),
                _ratio(m["plait"], m["torch"]),
            )
    out = [train, infer] + ([memory] if memory.row_count else [])
    with_keras = {k: r for k, r in rows.items() if "keras" in r.get("train", {})}
    if with_keras:
        out.append(_keras_table(with_keras))
    return out


def _keras_table(rows: dict[str, dict[str, Any]]) -> Table:
    """plait against Keras 3 on the torch backend, same models and weights."""
    table = Table(
        title="Keras 3 (torch backend): same models, weights, optimizer and loss",
        caption="ratio = plait / Keras samples/s (latency: plait / Keras time); "
        "Keras's fit and predict with verbose=0, batch 32.",
    )
    for c in (
        "model",
        "same math",
        "keras train",
        "plait v=0 / keras",
        "plait jit / keras",
        "keras predict",
        "plait / keras",
        "keras batch-1 µs",
        "plait / keras",
    ):
        table.add_column(c, justify="left" if c == "model" else "right")
    for name, r in rows.items():
        t, p, f = r["train"], r["predict"], r["forward1"]
        diff = r["keras_same_math"]
        table.add_row(
            name,
            "yes" if diff < 1e-4 else f"no ({diff:.1e})",
            _num(t["keras"]),
            _ratio(t["v0"], t["keras"]),
            _ratio(t.get("jit"), t["keras"]),
            _num(p["keras"]),
            _ratio(p["plait"], p["keras"]),
            _num(f["keras"] * 1e6, ",.1f"),
            _ratio(f["plait"], f["keras"]),
        )
    return table


def markdown(table: Table) -> str:
    """A rich table as a GitHub Markdown table (title and caption as text)."""
    heads = [str(c.header) for c in table.columns]
    cells = [[str(x) for x in c._cells] for c in table.columns]
    lines = [f"**{table.title}**", ""] if table.title else []
    lines.append("| " + " | ".join(heads) + " |")
    lines.append(
        "|"
        + "|".join(" --- " if c.justify == "left" else " ---: " for c in table.columns)
        + "|"
    )
    for row in zip(*cells):
        lines.append("| " + " | ".join(row) + " |")
    if table.caption:
        lines += ["", str(table.caption)]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run each workload, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="~2 minute smoke run")
    parser.add_argument("--reps", type=int, default=None, help="timed repetitions")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--models", default=",".join(wl.WORKLOADS))
    parser.add_argument("--clock", choices=sorted(wl.CLOCKS), default="wall")
    parser.add_argument("--no-memory", action="store_true", help="skip memory probes")
    parser.add_argument(
        "--no-jit", action="store_true", help="skip fit(jit_compile=True)"
    )
    parser.add_argument(
        "--no-keras",
        action="store_true",
        help="skip the Keras 3 columns (run when Keras imports with torch)",
    )
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    parser.add_argument(
        "--keep-denormals",
        action="store_true",
        help="do not flush denormal floats to zero (see bench/fit.py)",
    )
    parser.add_argument("--probe-memory", help=argparse.SUPPRESS)  # name:n:impl
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    with contextlib.suppress(RuntimeError):
        torch.set_num_interop_threads(1)
    torch.set_flush_denormal(not args.keep_denormals)
    if args.probe_memory:
        name, n, impl = args.probe_memory.split(":")
        print(json.dumps({"mb": probe_memory(name, int(n), impl)}))
        return
    reps = args.reps or (3 if args.quick else 5)
    keras = False
    if not args.no_keras:
        from bench.keras_models import available

        keras = available()
    notes = machine_notes(args.threads)
    console.print(f"[bold]plait benchmark suite[/]: {notes}")
    if not keras:
        console.print("Keras 3 (torch backend) not importable: no Keras columns.")
    warning = check_load(args.threads)
    if warning:
        console.print(f"[bold yellow]warning:[/] {warning}")
    rows: dict[str, dict[str, Any]] = {}
    loads = []
    for name in args.models.split(","):
        n = wl.WORKLOADS[name]
        if args.quick:
            n //= wl.QUICK_DIV[name]
        plait.utils.set_random_seed(0)
        load = load_average()
        loads.append(load)
        warning = check_load(args.threads, own=args.threads if rows else 0.0)
        if warning:
            console.print(f"[yellow]warning before {name}:[/] {warning}")
        start = time.perf_counter()
        try:
            work = wl.Workload(name, n)
        except ImportError as err:
            rows[name] = {"error": str(err)}
            continue
        row = measure(
            work, reps, wl.CLOCKS[args.clock], jit=not args.no_jit, keras=keras
        )
        row["optimizer"], row["load"] = work.optimizer, load
        del work
        gc.collect()
        if not args.no_memory:
            row["memory"] = memory_of(name, n, args.threads)
        rows[name] = row
        console.print(f"{name}: {time.perf_counter() - start:.0f} s")
    notes += f", load {min(loads):.2f}-{max(loads):.2f} during the run"
    out = tables(rows, notes, reps)
    for table in out:
        console.print(table)
    if args.markdown:
        args.markdown.write_text("\n".join(markdown(t) for t in out))


if __name__ == "__main__":
    main()
