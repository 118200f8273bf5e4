"""Function transforms of `plait.ops`: `custom_gradient`, `jvp`, `vectorize`.

They take and return Python functions, so they run eagerly (inside a custom
layer's `call`, for instance); a saved model never holds them.
"""

from __future__ import annotations

import functools
import inspect
import re
import warnings
from collections.abc import Callable
from typing import Any

import torch

from plait.ops._tensor import convert

__all__ = ["custom_gradient", "jvp", "vectorize"]


def _call_grad(
    grad_fn: Callable[..., Any], args: tuple[Any, ...], upstream: Any
) -> Any:
    """Keras's two `grad_fn` styles: `grad(*args, upstream)` or `grad(upstream)`."""
    try:
        inspect.signature(grad_fn).bind(*args, upstream=upstream)
    except TypeError:
        return grad_fn(upstream)
    return grad_fn(*args, upstream=upstream)


class _CustomGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, f: Callable[..., Any], *args: Any) -> Any:
        output, grad_fn = f(*args)
        ctx.grad_fn, ctx.args = grad_fn, args
        return output

    @staticmethod
    def backward(ctx: Any, *upstream: Any) -> Any:
        grads = _call_grad(
            ctx.grad_fn, ctx.args, upstream[0] if len(upstream) == 1 else upstream
        )
        grads = tuple(grads) if isinstance(grads, (list, tuple)) else (grads,)
        tensors = [isinstance(a, torch.Tensor) for a in ctx.args]
        # `grad_fn` gives one gradient per tensor argument, in order.
        it = iter(grads)
        return (None, *(next(it, None) if t else None for t in tensors))


def custom_gradient(f: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate `f(*args) -> (output, grad_fn)` to use `grad_fn` as its gradient.

    `grad_fn` gets the output's upstream gradient, as `grad_fn(*args,
    upstream=...)` when it takes an `upstream` argument, else `grad_fn(upstream)`,
    and returns one gradient per tensor argument.

    Example:
        >>> import torch
        >>> from plait import ops
        >>> @ops.custom_gradient
        ... def clipped_identity(x):
        ...     return x, lambda upstream: ops.clip(upstream, -0.1, 0.1)
        >>> x = torch.tensor([1.0], requires_grad=True)
        >>> (5 * clipped_identity(x)).sum().backward()
        >>> x.grad
        tensor([0.1000])
    """

    @functools.wraps(f)
    def wrapper(*args: Any) -> Any:
        return _CustomGradient.apply(f, *args)

    return wrapper


def jvp(
    fun: Callable[..., Any], primals: Any, tangents: Any, has_aux: bool = False
) -> Any:
    """Forward-mode derivative: `(fun(*primals), J(primals) @ tangents)` (`torch.func.jvp`).

    With `has_aux`, `fun` returns `(output, aux)` and the result gains `aux`.
    """
    with warnings.catch_warnings():
        # torch's first forward-mode call scripts its decompositions, which warns.
        warnings.filterwarnings(
            "ignore", "`torch.jit.script` is deprecated", DeprecationWarning
        )
        return torch.func.jvp(
            fun,
            tuple(convert(p) for p in primals),
            tuple(convert(t) for t in tangents),
            has_aux=has_aux,
        )


_CORE = re.compile(r"\(([^()]*)\)")


def _core_dims(signature: str | None, count: int) -> tuple[list[int], int]:
    """The number of core dims of each input, and the output count, of a signature."""
    if signature is None:
        return [0] * count, 1
    inputs, outputs = signature.replace(" ", "").split("->")
    dims = [len([d for d in g.split(",") if d]) for g in _CORE.findall(inputs)]
    if len(dims) != count:
        raise ValueError(
            f"ops.vectorize: expected {len(dims)} vectorized arguments for "
            f"signature {signature!r}, got {count}."
        )
    return dims, len(_CORE.findall(outputs))


def vectorize(
    pyfunc: Callable[..., Any],
    *,
    excluded: set[int | str] | None = None,
    signature: str | None = None,
) -> Callable[..., Any]:
    """NumPy's `vectorize` on `torch.vmap`: `pyfunc` over the broadcast loop axes.

    Without `signature`, `pyfunc` sees scalars; with one (`"(n),(n)->()"`), it
    sees blocks with the named core axes. Arguments in `excluded` (positions
    or names) are passed as they are.
    """
    skip = set(excluded or ())

    @functools.wraps(pyfunc)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        fixed = {i: a for i, a in enumerate(args) if i in skip}
        fixed_kw = {k: v for k, v in kwargs.items() if k in skip}
        names = [k for k in kwargs if k not in skip]
        moving = [convert(a) for i, a in enumerate(args) if i not in skip]
        moving += [convert(kwargs[k]) for k in names]
        core, _ = _core_dims(signature, len(moving))
        loops = [t.shape[: t.ndim - c] for t, c in zip(moving, core)]
        loop = torch.broadcast_shapes(*loops)
        moving = [t.expand(*loop, *t.shape[t.ndim - c :]) for t, c in zip(moving, core)]

        def inner(*values: Any) -> Any:
            positional = list(values[: len(values) - len(names)])
            full = [
                fixed[i] if i in fixed else positional.pop(0) for i in range(len(args))
            ]
            named = dict(zip(names, values[len(values) - len(names) :]))
            return pyfunc(*full, **named, **fixed_kw)

        mapped = inner
        for _ in loop:
            mapped = torch.vmap(mapped)
        return mapped(*moving)

    return wrapper
