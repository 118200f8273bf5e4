"""What `torch.compile` gives a train step on this machine, variant by variant.

Run: `python bench/compile.py [--models mlp,headline] [--reps 5] [--quick]
[--variants ...]`. For each workload of `bench/workloads.py` it trains the
hand-written `nn.Module` (same data, loss and Keras-exact RMSprop as plait) with
each way of compiling the step below, times one epoch per variant in
interleaved repetitions after the compiling epoch, and prints samples/s, the
ratio to the plain eager loop with `torch.optim`'s default optimizer, and the
compile time (the first epoch's extra seconds). Full batches only, so that
every variant compiles exactly once.

Variants:
- `eager`: the hand-written loop, `torch.optim.RMSprop` (`Adam`) as documented;
- `eager_kernel`: the same loop with plait's update kernel (`KerasRMSprop`);
- `model`: `torch.compile(module)`, eager backward and optimizer;
- `model+opt`: and `torch.compile(opt.step)`;
- `opt`: eager module, `torch.compile(opt.step)` only;
- `step`: `torch.compile` of the whole step function (zero_grad, forward,
  loss, `backward()`, `opt.step()`); dynamo splits it at `backward`;
- `step_autotune`: the same with `mode="max-autotune-no-cudagraphs"`;
- `step_cpp`: the same with `torch._inductor.config.cpp_wrapper = True`;
- `step_ca`: the same with `torch._dynamo.config.compiled_autograd = True`;
- `func`: one graph, `fullgraph=True`: `torch.func.grad_and_value` of
  `functional_call(module)` and the update from the gradient values
  (`KerasRMSprop.step_with_gradients`): what plait's `jit_compile=True` does;
- `plait_jit`: `plait` `fit` after `compile(jit_compile=True)` (its own loop,
  metrics included);
- `plait_jit_unrolled`: the same with recurrent layers traced too
  (`plait.training.jit.MAX_UNROLLED_STEPS` unlimited while the step is made).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/compile.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
from rich.console import Console
from rich.table import Table

import plait
from bench import workloads as wl

VARIANTS = [
    "eager",
    "eager_kernel",
    "model",
    "model+opt",
    "opt",
    "step",
    "step_autotune",
    "step_cpp",
    "step_ca",
    "func",
    "plait_jit",
    "plait_jit_unrolled",
]
Step = Callable[[list[torch.Tensor], list[torch.Tensor]], Any]


@contextlib.contextmanager
def _config(variant: str) -> Any:
    """The global compiler settings a variant needs while it compiles and runs."""
    import torch._dynamo
    import torch._inductor.config as inductor

    from plait.training import jit

    saved = (
        inductor.cpp_wrapper,
        torch._dynamo.config.compiled_autograd,
        jit.MAX_UNROLLED_STEPS,
    )
    inductor.cpp_wrapper = variant == "step_cpp"
    torch._dynamo.config.compiled_autograd = variant == "step_ca"
    if variant == "plait_jit_unrolled":
        jit.MAX_UNROLLED_STEPS = math.inf
    try:
        yield
    finally:
        (
            inductor.cpp_wrapper,
            torch._dynamo.config.compiled_autograd,
            jit.MAX_UNROLLED_STEPS,
        ) = saved


def make_step(work: wl.Workload, variant: str) -> Step:
    """A function `(xs, ys) -> loss` doing one training step the variant's way."""
    module = work.torch_copy()
    module.train()
    opt = work.torch_optimizer(module, "default" if variant == "eager" else "plait")

    def step(xs: list[torch.Tensor], ys: list[torch.Tensor]) -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        loss, _ = work.loss(module(*xs), ys)
        loss.backward()
        opt.step()
        return loss.detach()

    if variant in ("eager", "eager_kernel"):
        return step
    if variant in ("model", "model+opt", "opt"):
        fwd = torch.compile(module) if variant != "opt" else module
        update = torch.compile(opt.step) if variant != "model" else opt.step

        def split(xs: list[torch.Tensor], ys: list[torch.Tensor]) -> torch.Tensor:
            opt.zero_grad(set_to_none=True)
            loss, _ = work.loss(fwd(*xs), ys)
            loss.backward()
            update()
            return loss.detach()

        return split
    if variant.startswith("step"):
        mode = "max-autotune-no-cudagraphs" if variant == "step_autotune" else None
        return torch.compile(step, mode=mode)  # type: ignore[no-any-return]
    if variant == "func":
        return _func_step(work, module, opt)
    raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")


def _func_step(work: wl.Workload, module: torch.nn.Module, opt: Any) -> Step:
    """Forward, backward and update in one graph (plait's jit_compile approach)."""
    params = dict(module.named_parameters())
    names = list(params)

    def loss_of(p: dict[str, torch.Tensor], xs: Any, ys: Any) -> torch.Tensor:
        out = torch.func.functional_call(module, p, tuple(xs))
        return work.loss(out, ys)[0]  # type: ignore[no-any-return]

    def step(xs: list[torch.Tensor], ys: list[torch.Tensor]) -> torch.Tensor:
        detached = {k: v.detach() for k, v in params.items()}
        grads, loss = torch.func.grad_and_value(loss_of)(detached, xs, ys)
        if hasattr(opt, "step_with_gradients"):
            opt.step_with_gradients([[grads[k] for k in names]])
        else:  # Adam: a functional update of torch's would be needed
            raise TypeError("the func variant needs KerasRMSprop")
        return loss

    return torch.compile(step, fullgraph=True)  # type: ignore[no-any-return]


def epoch_fn(work: wl.Workload, step: Step) -> Callable[[], None]:
    """One epoch of full batches through `step` (loss summed on the device)."""
    n = work.n - work.n % wl.BATCH

    def run() -> None:
        perm = torch.randperm(work.n)
        total = torch.zeros(())
        for start in range(0, n, wl.BATCH):
            idx = perm[start : start + wl.BATCH]
            total += step([t[idx] for t in work.tx], [t[idx] for t in work.ty])
        total.item()

    return run


def main() -> None:
    """Parse arguments, compile and time every variant, print one table per model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mlp,headline")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    warnings.filterwarnings("ignore")  # dynamo's notes on record_function etc.
    console = Console(width=max(Console().width, 120))
    for name in args.models.split(","):
        n = wl.WORKLOADS[name] // (wl.QUICK_DIV[name] if args.quick else 1)
        plait.utils.set_random_seed(0)
        work = wl.Workload(name, n)
        epochs: dict[str, Callable[[], None]] = {}
        compile_s: dict[str, float] = {}
        for variant in args.variants.split(","):
            if variant.startswith("plait_jit"):
                model = work.plait_jit()

                def fit(model: Any = model, work: wl.Workload = work) -> None:
                    model.fit(work.x, work.y, batch_size=wl.BATCH, verbose=0)

                run = fit
            else:
                with _config(variant):
                    try:
                        run = epoch_fn(work, make_step(work, variant))
                    except TypeError as err:
                        console.print(f"{name} {variant}: skipped ({err})")
                        continue
            with _config(variant):
                start = time.perf_counter()
                try:
                    run()
                except Exception as err:  # a variant torch cannot compile here
                    console.print(f"{name} {variant}: failed ({err!s:.200})")
                    continue
                compile_s[variant] = time.perf_counter() - start
            epochs[variant] = run
            console.print(f"{name} {variant}: first epoch {compile_s[variant]:.1f} s")
        times: dict[str, list[float]] = {k: [] for k in epochs}
        for _ in range(args.reps):
            for variant, run in epochs.items():
                with _config(variant):
                    times[variant].append(wl.timed(run))
        speed = {k: work.n / statistics.median(v) for k, v in times.items()}
        base = speed.get("eager")
        table = Table(
            title=f"{name}: train samples/s by way of compiling (n={work.n}, "
            f"median of {args.reps}, torch {torch.__version__}, "
            f"{args.threads} thread(s))"
        )
        for col in ("variant", "samples/s", "vs eager", "compile s"):
            table.add_column(col, justify="left" if col == "variant" else "right")
        for variant, value in speed.items():
            extra = compile_s[variant] - work.n / value
            table.add_row(
                variant,
                f"{value:,.0f}",
                "-" if base is None else f"{value / base:.2f}x",
                f"{max(extra, 0.0):.1f}",
            )
        console.print(table)


if __name__ == "__main__":
    main()
