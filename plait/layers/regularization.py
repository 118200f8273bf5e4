"""Regularization layers: Dropout, SpatialDropout*, Gaussian noise/dropout, AlphaDropout, ActivityRegularization."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from plait import regularizers
from plait.layers.base import Layer
from plait.layers.input_spec import InputSpec
from plait.types import Shape
from plait.utils.settings import image_data_format

__all__ = [
    "ActivityRegularization",
    "AlphaDropout",
    "Dropout",
    "GaussianDropout",
    "GaussianNoise",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
]


class Dropout(Layer):
    """Zeroes a fraction `rate` of the inputs in training and scales the rest up.

    Only active when called with `training=True` (as `fit` does) or when the
    module is in training mode (`model.train()`); identity otherwise.

    Args:
        rate: Fraction of the inputs to drop, in `[0, 1)`.
        noise_shape: Shape of the drop mask, broadcast to the input; `None`
            entries take the input's size (e.g. `(None, 1, None)` drops the same
            features at every time step).
        seed: Accepted for Keras compatibility; torch's generator is global
            (seed it with `plait.utils.set_random_seed`).

    Example:
        >>> import torch
        >>> Dropout(0.5)(torch.ones(2, 2)).tolist()
        [[1.0, 1.0], [1.0, 1.0]]
    """

    _keeps_input_dtype = True

    def __init__(
        self,
        rate: float,
        noise_shape: Any = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(
                f"{self._where()}: expected `rate` in [0, 1), got rate={rate!r}."
            )
        self.rate = float(rate)
        self.noise_shape = tuple(noise_shape) if noise_shape is not None else None
        self.seed = seed
        self.supports_masking = True

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        """Drop at random when training."""
        if not training or self.rate == 0.0:
            return inputs
        if self.noise_shape is None:
            return F.dropout(inputs, self.rate, training=True)
        keep = _keep_mask(inputs, self.rate, self.noise_shape)
        return inputs * keep / (1.0 - self.rate)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Unchanged."""
        return input_shape

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config: dict[str, Any] = {**super().get_config(), "rate": self.rate}
        if self.noise_shape is not None:
            config["noise_shape"] = list(self.noise_shape)
        if self.seed is not None:
            config["seed"] = self.seed
        return config


def _keep_mask(
    inputs: torch.Tensor, rate: float, shape: Sequence[int | None] | None
) -> torch.Tensor:
    """Ones kept with probability `1 - rate`, zeros elsewhere, of `shape` (None
    entries, or no shape at all, take the input's sizes)."""
    sizes = inputs.shape if shape is None else shape
    full = [s if n is None else n for n, s in zip(sizes, inputs.shape)]
    keep = torch.empty(full, device=inputs.device, dtype=inputs.dtype)
    return keep.bernoulli_(1.0 - rate)


def _check_rate(layer: Layer, name: str, value: Any) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not 0 <= value < 1:
        raise ValueError(
            f"{layer._where()}: expected `{name}` in [0, 1), got {name}={value!r}."
        )
    return float(value)


def _channels_format(layer: Layer, data_format: str | None) -> str:
    if data_format is None:
        return image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{layer._where()}: expected `data_format` in ('channels_last', "
            f"'channels_first'), got data_format={data_format!r}."
        )
    return data_format


class _SpatialDropout(Dropout):
    """Drops whole feature maps: one draw per (sample, channel)."""

    _rank: int = 1

    def __init__(
        self,
        rate: float,
        data_format: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = _channels_format(self, data_format)
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        """Zero whole channels at random when training."""
        if not training or self.rate == 0.0:
            return inputs
        n, ndim = inputs.shape[0], inputs.dim()
        if self.data_format == "channels_last":  # mask (n, 1, ..., 1, channels)
            shape = (n, *[1] * (ndim - 2), inputs.shape[-1])
        else:  # mask (n, channels, 1, ..., 1)
            shape = (n, inputs.shape[1], *[1] * (ndim - 2))
        keep = _keep_mask(inputs, self.rate, shape).div_(1.0 - self.rate)
        return inputs * keep

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        if self._rank > 1:
            config["data_format"] = self.data_format
        return config


class SpatialDropout1D(_SpatialDropout):
    """Dropout of whole feature channels of sequences, in training only.

    Where neighbouring time steps are strongly correlated, plain dropout barely
    regularizes; this drops each channel of each sample for all steps at once
    and scales the rest by `1 / (1 - rate)`.

    Args:
        rate: Fraction of the channels to drop, in `[0, 1)`.
        seed: Accepted for Keras compatibility (torch's generator is global).

    Call arguments:
        inputs: `(batch, timesteps, channels)`.
        training: Drop only when True (None follows `model.train()`).

    Input shape:  `(batch, timesteps, channels)`.
    Output shape: same as the input.

    Example:
        >>> import torch
        >>> SpatialDropout1D(0.5)(torch.ones(1, 2, 2)).tolist()
        [[[1.0, 1.0], [1.0, 1.0]]]
    """

    _rank = 1

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Dropout of whole feature maps of images, in training only.

    Each channel of each sample is dropped for all pixels at once and the rest
    scaled by `1 / (1 - rate)`.

    Args:
        rate: Fraction of the channels to drop, in `[0, 1)`.
        data_format: `"channels_last"` (default, `(batch, rows, cols, channels)`)
            or `"channels_first"`.
        seed: Accepted for Keras compatibility (torch's generator is global).

    Call arguments:
        inputs: A 4D tensor.
        training: Drop only when True (None follows `model.train()`).

    Input shape:  `(batch, rows, cols, channels)` (channels_last).
    Output shape: same as the input.

    Example:
        >>> import torch
        >>> SpatialDropout2D(0.5)(torch.ones(1, 1, 1, 2)).tolist()
        [[[[1.0, 1.0]]]]
    """

    _rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Dropout of whole feature volumes of 3D data, in training only.

    Args:
        rate: Fraction of the channels to drop, in `[0, 1)`.
        data_format: `"channels_last"` (default,
            `(batch, dim1, dim2, dim3, channels)`) or `"channels_first"`.
        seed: Accepted for Keras compatibility (torch's generator is global).

    Call arguments:
        inputs: A 5D tensor.
        training: Drop only when True (None follows `model.train()`).

    Input shape:  `(batch, dim1, dim2, dim3, channels)` (channels_last).
    Output shape: same as the input.

    Example:
        >>> import torch
        >>> SpatialDropout3D(0.5)(torch.ones(1, 1, 1, 1, 2)).shape
        torch.Size([1, 1, 1, 1, 2])
    """

    _rank = 3


class _Noise(Layer):
    """A random layer active in training only: the output has the input's shape,
    `seed` is kept for Keras, and the config holds `_amount` (rate or stddev)."""

    _amount = "rate"

    def __init__(self, seed: int | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self.supports_masking = True

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Unchanged."""
        return input_shape

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        amount = getattr(self, self._amount)
        return {**super().get_config(), self._amount: amount, "seed": self.seed}


class GaussianNoise(_Noise):
    """Adds zero-mean Gaussian noise of standard deviation `stddev`, in training only.

    Args:
        stddev: Standard deviation of the noise, a float >= 0.
        seed: Accepted for Keras compatibility (torch's generator is global).

    Call arguments:
        inputs: Any float tensor.
        training: Add noise only when True (None follows `model.train()`).

    Input shape:  any.
    Output shape: same as the input.

    Example:
        >>> import torch
        >>> GaussianNoise(0.1)(torch.zeros(2)).tolist()
        [0.0, 0.0]
    """

    _amount = "stddev"

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed, **kwargs)
        ok = isinstance(stddev, (int, float)) and not isinstance(stddev, bool)
        if not ok or stddev < 0:
            raise ValueError(
                f"{self._where()}: expected `stddev` to be a float >= 0, got "
                f"stddev={stddev!r}."
            )
        self.stddev = float(stddev)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        """`inputs + stddev * N(0, 1)` when training."""
        if not training or self.stddev == 0.0:
            return inputs
        return inputs + self.stddev * torch.randn_like(inputs)


class GaussianDropout(_Noise):
    """Multiplies by Gaussian noise of mean 1, in training only.

    The noise has standard deviation `sqrt(rate / (1 - rate))`, the variance
    that dropout with this `rate` would add.

    Args:
        rate: Equivalent drop probability, in `[0, 1)`.
        seed: Accepted for Keras compatibility (torch's generator is global).

    Call arguments:
        inputs: Any float tensor.
        training: Apply noise only when True (None follows `model.train()`).

    Input shape:  any.
    Output shape: same as the input.

    Example:
        >>> import torch
        >>> GaussianDropout(0.2)(torch.ones(2)).tolist()
        [1.0, 1.0]
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed, **kwargs)
        self.rate = _check_rate(self, "rate", rate)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        """`inputs * N(1, rate / (1 - rate))` when training."""
        if not training or self.rate == 0.0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * (1.0 + stddev * torch.randn_like(inputs))


# SELU's constants (Klambauer et al. 2017, "Self-Normalizing Neural Networks").
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class AlphaDropout(_Noise):
    """Dropout that keeps SELU activations' mean and variance, in training only.

    Dropped inputs are set to SELU's negative saturation `-alpha * scale`
    instead of 0, then an affine map `a * x + b` restores zero mean and unit
    variance (Klambauer et al. 2017). Pair it with `activation="selu"`.

    Args:
        rate: Drop probability, in `[0, 1)`.
        noise_shape: Shape of the drop mask, broadcast to the input; `None`
            entries take the input's size.
        seed: Accepted for Keras compatibility (torch's generator is global).

    Call arguments:
        inputs: Any float tensor.
        training: Drop only when True (None follows `model.train()`).

    Input shape:  any.
    Output shape: same as the input.

    Example:
        >>> import torch
        >>> AlphaDropout(0.2)(torch.ones(2)).tolist()
        [1.0, 1.0]
    """

    def __init__(
        self,
        rate: float,
        noise_shape: Any = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed, **kwargs)
        self.rate = _check_rate(self, "rate", rate)
        self.noise_shape = tuple(noise_shape) if noise_shape is not None else None

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        """`a * (kept ? x : -alpha * scale) + b` when training."""
        if not training or self.rate == 0.0:
            return inputs
        keep = _keep_mask(inputs, self.rate, self.noise_shape)
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1.0 - self.rate) * (1.0 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        return a * (inputs * keep + alpha_p * (1.0 - keep)) + b

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        if self.noise_shape is not None:
            config["noise_shape"] = list(self.noise_shape)
        return config


class ActivityRegularization(Layer):
    """Identity that adds `l1 * sum(|x|) + l2 * sum(x ** 2)` to the losses.

    Keras compat: the penalty is divided by the batch size (Keras 2 and 3), so
    its weight against the (mean) loss does not depend on the batch size. It is
    added on every call (read it in `layer.losses` / `model.losses`).

    Args:
        l1: L1 factor, a float >= 0.
        l2: L2 factor, a float >= 0.

    Input shape:  any.
    Output shape: same as the input.

    Example:
        >>> import torch
        >>> layer = ActivityRegularization(l1=0.5)
        >>> _ = layer(torch.ones(2, 3))
        >>> [float(loss) for loss in layer.losses]
        [1.5]
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._penalty = regularizers.L1L2(l1=l1, l2=l2)
        self.l1, self.l2 = self._penalty.l1, self._penalty.l2
        self.supports_masking = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """Add the penalty; return the inputs unchanged."""
        penalty = self._penalty(inputs)
        if inputs.dim() > 0 and inputs.shape[0] > 0:
            penalty = penalty / inputs.shape[0]
        self.add_loss(penalty)
        return inputs

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Unchanged."""
        return input_shape

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}
