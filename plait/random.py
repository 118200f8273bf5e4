"""`plait.random`: Keras 3's `keras.random` on torch.

`seed` is, as in Keras, None (draw from torch's global generator: different
every call), an int (the same numbers every call) or a `SeedGenerator` (a
seeded stream: different every call, reproducible from its seed, its state
saved with the layer that owns it). During shape inference the ops create meta
tensors, so a layer may call them in `call`.

Example:
    >>> from plait import random
    >>> a = random.normal((2,), seed=3)
    >>> bool((a == random.normal((2,), seed=3)).all())
    True
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch

from plait.initializers import truncated_normal_
from plait.layers.ops import symbolic_op
from plait.ops._tensor import as_dtype, convert, device, floatx, shape_tuple

__all__ = [
    "SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma",
    "normal", "randint", "shuffle", "truncated_normal", "uniform",
]  # fmt: skip


class SeedGenerator(torch.nn.Module):
    """A stream of seeds: each random op given it draws fresh, reproducible numbers.

    Args:
        seed: The stream's start (an int); None picks one from torch's global RNG.
        name: Optional name.

    Its `state` buffer (`[seed, counter]`) goes into `state_dict`, so a layer
    that owns one resumes its stream after loading.

    Example:
        >>> from plait import random
        >>> g = random.SeedGenerator(1)
        >>> bool((random.uniform((3,), seed=g) == random.uniform((3,), seed=g)).all())
        False
    """

    state: torch.Tensor

    def __init__(
        self, seed: int | None = None, name: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__()
        if seed is None:
            seed = int(torch.randint(0, 2**31 - 1, ()).item())
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise TypeError(
                f"SeedGenerator: expected an int seed or None, got seed={seed!r}."
            )
        self.seed = seed
        self.name = name or "seed_generator"
        self.register_buffer("state", torch.tensor([seed, 0], dtype=torch.int64))

    def next(self, ordered: bool = True) -> int:
        """The next seed of the stream (advances it)."""
        seed, counter = (int(v) for v in self.state.tolist())
        self.state[1] += 1
        return (seed * 1_000_003 + counter) % (2**63 - 1)

    def get_config(self) -> dict[str, Any]:
        """`{"seed": ..., "name": ...}`."""
        return {"seed": self.seed, "name": self.name}


def _seed_value(seed: Any) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed
    raise TypeError(
        f"expected seed to be None, an int or a SeedGenerator, got seed={seed!r}."
    )


@contextlib.contextmanager
def _rng(seed: Any) -> Iterator[None]:
    """torch's global RNG, reseeded from `seed` inside (and restored after) when given."""
    value = _seed_value(seed)
    if value is None:
        yield
        return
    where = device()
    devices = [where] if where is not None and where.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(value)
        yield


def _meta() -> bool:
    where = device()
    return where is not None and where.type == "meta"


def _draw(
    shape: Any,
    dtype: Any,
    default: torch.dtype,
    seed: Any,
    make: Callable[[tuple[int, ...], torch.dtype], torch.Tensor],
) -> torch.Tensor:
    """`make(shape, dtype)` under `seed`; an empty meta tensor in shape inference."""
    dt = as_dtype(dtype) or default
    dims = shape_tuple(shape)
    if _meta():
        return torch.empty(dims, dtype=dt, device="meta")
    with _rng(seed):
        return make(dims, dt)


def normal(
    shape: Any,
    mean: float = 0.0,
    stddev: float = 1.0,
    dtype: Any = None,
    seed: Any = None,
) -> torch.Tensor:
    """Samples of a normal distribution."""
    return _draw(
        shape,
        dtype,
        floatx(),
        seed,
        lambda s, dt: torch.randn(s, dtype=dt, device=device()) * stddev + mean,
    )


def uniform(
    shape: Any,
    minval: float = 0.0,
    maxval: float = 1.0,
    dtype: Any = None,
    seed: Any = None,
) -> torch.Tensor:
    """Samples of a uniform distribution on `[minval, maxval)`."""
    return _draw(
        shape,
        dtype,
        floatx(),
        seed,
        lambda s, dt: (
            torch.rand(s, dtype=dt, device=device()) * (maxval - minval) + minval
        ),
    )


def truncated_normal(
    shape: Any,
    mean: float = 0.0,
    stddev: float = 1.0,
    dtype: Any = None,
    seed: Any = None,
) -> torch.Tensor:
    """Normal samples redrawn until within two standard deviations of `mean`."""

    def make(s: tuple[int, ...], dt: torch.dtype) -> torch.Tensor:
        out = torch.empty(s, dtype=dt, device=device())
        return truncated_normal_(out, 0.0, 1.0) * stddev + mean

    return _draw(shape, dtype, floatx(), seed, make)


def randint(
    shape: Any, minval: int, maxval: int, dtype: Any = "int32", seed: Any = None
) -> torch.Tensor:
    """Integers drawn uniformly from `[minval, maxval)`."""
    return _draw(
        shape,
        dtype,
        torch.int32,
        seed,
        lambda s, dt: torch.randint(int(minval), int(maxval), s, device=device()).to(
            dt
        ),
    )


def gamma(
    shape: Any, alpha: float, dtype: Any = None, seed: Any = None
) -> torch.Tensor:
    """Samples of a Gamma(`alpha`, 1) distribution."""
    return _draw(
        shape,
        dtype,
        floatx(),
        seed,
        lambda s, dt: torch._standard_gamma(
            torch.full(s, float(alpha), dtype=dt, device=device())
        ),
    )


def beta(
    shape: Any, alpha: Any, beta: Any, dtype: Any = None, seed: Any = None
) -> torch.Tensor:
    """Samples of a Beta(`alpha`, `beta`) distribution."""

    def make(s: tuple[int, ...], dt: torch.dtype) -> torch.Tensor:
        a = torch._standard_gamma(convert(alpha, dt).expand(s).contiguous())
        b = torch._standard_gamma(convert(beta, dt).expand(s).contiguous())
        return a / (a + b)

    return _draw(shape, dtype, floatx(), seed, make)


def binomial(
    shape: Any, counts: Any, probabilities: Any, dtype: Any = None, seed: Any = None
) -> torch.Tensor:
    """Numbers of successes in `counts` trials of probability `probabilities`."""

    def make(s: tuple[int, ...], dt: torch.dtype) -> torch.Tensor:
        n = convert(counts, dt).expand(s).contiguous()
        return torch.binomial(n, convert(probabilities, dt).expand(s).contiguous())

    return _draw(shape, dtype, floatx(), seed, make)


@symbolic_op("random.categorical")
def categorical(
    logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None
) -> torch.Tensor:
    """`num_samples` class ids per row of `(batch, classes)` `logits`."""
    t = convert(logits)
    dt = as_dtype(dtype) or torch.int32
    if t.is_meta:
        return torch.empty((t.shape[0], num_samples), dtype=dt, device="meta")
    with _rng(seed):
        probs = torch.softmax(
            t.to(floatx()) if not t.is_floating_point() else t, dim=-1
        )
        return torch.multinomial(probs, num_samples, replacement=True).to(dt)


@symbolic_op("random.dropout")
def dropout(
    inputs: Any, rate: float, noise_shape: Any = None, seed: Any = None
) -> torch.Tensor:
    """Zero entries with probability `rate`, scale the rest by `1 / (1 - rate)`."""
    t = convert(inputs)
    if t.is_meta or rate == 0:
        return t
    shape = (
        tuple(t.shape)
        if noise_shape is None
        else tuple(
            t.shape[i] if d is None else int(d) for i, d in enumerate(noise_shape)
        )
    )
    with _rng(seed):
        keep = torch.rand(shape, device=t.device) >= rate
    return torch.where(keep, t / (1.0 - rate), torch.zeros_like(t))


@symbolic_op("random.shuffle")
def shuffle(x: Any, axis: int = 0, seed: Any = None) -> torch.Tensor:
    """`x` with its entries along `axis` randomly permuted."""
    t = convert(x)
    if t.is_meta:
        return t
    with _rng(seed):
        order = torch.randperm(t.shape[axis], device=t.device)
    return torch.index_select(t, axis, order)
