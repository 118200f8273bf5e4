"""Weight initializers by Keras name and class (`"glorot_uniform"`, `HeNormal()`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from plait.types import InitializerLike
from plait.utils.registry import Configurable as _Configurable
from plait.utils.registry import Registry

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "get",
    "serialize",
]

Size = tuple[int, ...]


def _fans(shape: Size) -> tuple[float, float]:
    """Keras's fan-in/fan-out for a weight in Keras layout.

    Dense `(in, out)`; conv `(*kernel, in, out)` where each fan is multiplied by the
    receptive field size.
    """
    if len(shape) < 1:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


def _check_dtype(dtype: torch.dtype | None) -> torch.dtype:
    return dtype if dtype is not None else torch.get_default_dtype()


class Initializer(_Configurable):
    """Base class: `initializer(shape, dtype=None)` returns a new tensor."""

    def __call__(self, shape: Size, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Return a tensor of `shape` (Keras layout) and `dtype`."""
        raise NotImplementedError


class _Callable(Initializer):
    """Wraps a user function `fn(shape, dtype=None)`."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def __call__(self, shape: Size, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Call the wrapped function."""
        return torch.as_tensor(self.fn(shape, dtype=_check_dtype(dtype)))


# A layer's initializer is never None: plait rejects it when the layer is made.
_REGISTRY = Registry("initializer", Initializer, wrap=_Callable, allow_none=False)


@_REGISTRY.register("zeros")
class Zeros(Initializer):
    """All zeros.

    Example:
        >>> Zeros()((2,)).tolist()
        [0.0, 0.0]
    """

    def __call__(self, shape: Size, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Return zeros."""
        return torch.zeros(shape, dtype=_check_dtype(dtype))


@_REGISTRY.register("ones")
class Ones(Initializer):
    """All ones.

    Example:
        >>> Ones()((2,)).tolist()
        [1.0, 1.0]
    """

    def __call__(self, shape: Size, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Return ones."""
        return torch.ones(shape, dtype=_check_dtype(dtype))


@_REGISTRY.register("constant")
class Constant(Initializer):
    """Every element equal to `value`, or `value` (an array) broadcast to the shape.

    Example:
        >>> Constant(0.5)((2,)).tolist()
        [0.5, 0.5]
        >>> Constant([1.0, 0.0])((2, 2)).tolist()
        [[1.0, 0.0], [1.0, 0.0]]
    """

    def __init__(self, value: Any = 0.0) -> None:
        self.value = value

    def __call__(self, shape: Size, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Return a constant tensor."""
        dtype = _check_dtype(dtype)
        if np.ndim(self.value) == 0:
            return torch.full(shape, float(self.value), dtype=dtype)
        value = torch.as_tensor(np.asarray(self.value), dtype=dtype)
        try:
            return value.broadcast_to(tuple(shape)).clone()
        except RuntimeError as err:
            raise ValueError(
                f"Constant: a value of shape {tuple(value.shape)} cannot fill a "
                f"weight of shape {tuple(shape)}."
            ) from err

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (an array value as nested lists)."""
        if np.ndim(self.value) == 0:
            return {"value": self.value}
        return {"value": np.asarray(self.value).tolist()}


class _Seeded(Initializer):
    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed

    def _generator(self) -> torch.Generator | None:
        if self.seed is None:
            return None
        return torch.Generator().manual_seed(int(self.seed))


@_REGISTRY.register("random_normal", "normal")
class RandomNormal(_Seeded):
    """Normal draws with `mean` and `stddev` (Keras default stddev 0.05)."""

    def __init__(
        self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None
    ):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape: Size, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Return normal draws."""
        t = torch.empty(shape, dtype=_check_dtype(dtype))
        return t.normal_(self.mean, self.stddev, generator=self._generator())

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments."""
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


@_REGISTRY.register("uniform", "random_uniform")
class RandomUniform(_Seeded):
    """Uniform draws in `[minval, maxval)` (Keras default +-0.05)."""

    def __init__(
        self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None
    ) -> None:
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape: Size, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Return uniform draws."""
        t = torch.empty(shape, dtype=_check_dtype(dtype))
        return t.uniform_(self.minval, self.maxval, generator=self._generator())

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments."""
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def truncated_normal_(
    t: torch.Tensor,
    mean: float,
    stddev: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Fill `t` with normal draws, each one beyond two `stddev` of `mean` drawn
    again until it lands within (exact rejection sampling, Keras's truncated
    normal). Only the rejected draws are drawn again, about 4.6% a round, so it
    costs about one pass of `normal_`; torch's `trunc_normal_` redraws the
    whole tensor each round.

    Example:
        >>> t = truncated_normal_(torch.empty(10_000), 0.0, 1.0)
        >>> bool(t.abs().max() <= 2.0)
        True
    """
    if t.is_meta:
        return t
    with torch.no_grad():
        work = (
            t
            if t.is_contiguous()
            else torch.empty_like(t, memory_format=torch.contiguous_format)
        )
        flat = work.view(-1).normal_(mean, stddev, generator=generator)
        bad = ((flat - mean).abs() > 2 * stddev).nonzero().squeeze(1)
        while bad.numel():
            again = torch.empty(bad.numel(), dtype=t.dtype, device=t.device)
            again.normal_(mean, stddev, generator=generator)
            flat[bad] = again
            bad = bad[(again - mean).abs() > 2 * stddev]
        if work is not t:
            t.copy_(work)
    return t


@_REGISTRY.register("truncated_normal")
class TruncatedNormal(_Seeded):
    """Normal draws re-drawn beyond two standard deviations."""

    def __init__(
        self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None
    ):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape: Size, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Return truncated normal draws."""
        t = torch.empty(shape, dtype=_check_dtype(dtype))
        return truncated_normal_(t, self.mean, self.stddev, self._generator())

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments."""
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


@_REGISTRY.register("variance_scaling")
class VarianceScaling(_Seeded):
    """Draws scaled by the fans of the weight: `scale / n` variance.

    Args:
        scale: Positive scaling factor.
        mode: `"fan_in"`, `"fan_out"` or `"fan_avg"`.
        distribution: `"truncated_normal"`, `"untruncated_normal"` or `"uniform"`.
        seed: Optional int for reproducible draws.
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "normal", "uniform")

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
    ) -> None:
        super().__init__(seed)
        if scale <= 0:
            raise ValueError(
                f"VarianceScaling: expected scale > 0, got scale={scale!r}."
            )
        if mode not in self._MODES:
            raise ValueError(
                f"VarianceScaling: expected mode in {self._MODES}, got mode={mode!r}."
            )
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(
                f"VarianceScaling: expected distribution in {self._DISTRIBUTIONS}, "
                f"got distribution={distribution!r}."
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape: Size, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Return scaled draws."""
        fan_in, fan_out = _fans(tuple(shape))
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
        scale = self.scale / max(1.0, n[self.mode])
        t = torch.empty(shape, dtype=_check_dtype(dtype))
        gen = self._generator()
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * scale)
            return t.uniform_(-limit, limit, generator=gen)
        if self.distribution in ("untruncated_normal", "normal"):
            return t.normal_(0.0, math.sqrt(scale), generator=gen)
        # Std of a unit normal truncated to [-2, 2]; Keras divides it out.
        stddev = math.sqrt(scale) / 0.87962566103423978
        return truncated_normal_(t, 0.0, stddev, gen)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments."""
        return {k: getattr(self, k) for k in ("scale", "mode", "distribution", "seed")}


class _FixedVarianceScaling(VarianceScaling):
    _ARGS: tuple[float, str, str] = (1.0, "fan_in", "truncated_normal")

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(*self._ARGS, seed=seed)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments."""
        return {"seed": self.seed}


@_REGISTRY.register("glorot_uniform")
class GlorotUniform(_FixedVarianceScaling):
    """Uniform in `+-sqrt(6 / (fan_in + fan_out))`; Keras's default kernel init."""

    _ARGS = (1.0, "fan_avg", "uniform")


@_REGISTRY.register("glorot_normal")
class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal with stddev `sqrt(2 / (fan_in + fan_out))`."""

    _ARGS = (1.0, "fan_avg", "truncated_normal")


@_REGISTRY.register("he_uniform")
class HeUniform(_FixedVarianceScaling):
    """Uniform in `+-sqrt(6 / fan_in)`."""

    _ARGS = (2.0, "fan_in", "uniform")


@_REGISTRY.register("he_normal")
class HeNormal(_FixedVarianceScaling):
    """Truncated normal with stddev `sqrt(2 / fan_in)`."""

    _ARGS = (2.0, "fan_in", "truncated_normal")


@_REGISTRY.register("lecun_uniform")
class LecunUniform(_FixedVarianceScaling):
    """Uniform in `+-sqrt(3 / fan_in)`."""

    _ARGS = (1.0, "fan_in", "uniform")


@_REGISTRY.register("lecun_normal")
class LecunNormal(_FixedVarianceScaling):
    """Truncated normal with stddev `sqrt(1 / fan_in)`."""

    _ARGS = (1.0, "fan_in", "truncated_normal")


@_REGISTRY.register("orthogonal")
class Orthogonal(_Seeded):
    """A (semi-)orthogonal matrix times `gain`; Keras's LSTM recurrent init."""

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape: Size, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Return an orthogonal matrix reshaped to `shape`."""
        rows = math.prod(shape[:-1]) if len(shape) > 1 else 1
        flat = torch.empty((rows, shape[-1]), dtype=_check_dtype(dtype))
        torch.nn.init.orthogonal_(flat, gain=self.gain, generator=self._generator())
        return flat.reshape(shape)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments."""
        return {"gain": self.gain, "seed": self.seed}


@_REGISTRY.register("identity")
class Identity(Initializer):
    """`gain` times the identity matrix (2-D weights only)."""

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def __call__(self, shape: Size, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Return `gain * eye`."""
        if len(shape) != 2:
            raise ValueError(
                f"Identity initializer: expected a 2-D shape, got {tuple(shape)}."
            )
        return self.gain * torch.eye(*shape, dtype=_check_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments."""
        return {"gain": self.gain}


# Keras's lower-case names of the classes (`initializers.glorot_uniform(seed=1)`).
constant, identity, ones, zeros = Constant, Identity, Ones, Zeros
glorot_normal, glorot_uniform = GlorotNormal, GlorotUniform
he_normal, he_uniform = HeNormal, HeUniform
lecun_normal, lecun_uniform = LecunNormal, LecunUniform
orthogonal, random_normal, random_uniform = Orthogonal, RandomNormal, RandomUniform
truncated_normal, variance_scaling = TruncatedNormal, VarianceScaling


def get(identifier: InitializerLike) -> Initializer:
    """Resolve a name (`"glorot_uniform"`), a config dict, a class, or an instance.

    A plain function `fn(shape, dtype=None)` is wrapped as an `Initializer`.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
        TypeError: for anything else.
    """
    return _REGISTRY.get(identifier)  # type: ignore[no-any-return]


def serialize(init: Initializer) -> dict[str, Any]:
    """A JSON config `{"class_name": ..., "config": ...}` for a built-in initializer."""
    data = _REGISTRY.serialize(init)
    if not isinstance(data, dict):  # a registered name, which loading cannot resolve
        raise ValueError(
            f"cannot serialize initializer {init!r}: not a built-in class."
        )
    return data
