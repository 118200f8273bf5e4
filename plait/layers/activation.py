"""Activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax, ThresholdedReLU."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from plait import constraints, initializers, regularizers
from plait.layers.base import Layer
from plait.layers.call_api import same_shape
from plait.layers.input_spec import InputSpec
from plait.layers.layer_args import attrs_config
from plait.types import InitializerLike, Shape

__all__ = ["ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax", "ThresholdedReLU"]


def _check_non_negative(layer: Layer, name: str, value: Any) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or value < 0:
        raise ValueError(
            f"{layer._where()}: expected `{name}` to be a float >= 0, "
            f"got {name}={value!r}."
        )
    return float(value)


def _large_negative(dtype: torch.dtype) -> float:
    """Keras's stand-in for minus infinity: -1e9, or -3e4 where float16 overflows."""
    return -3e4 if dtype == torch.float16 else -1e9


class _Elementwise(Layer):
    """A weightless layer applied element by element: shape and mask pass through."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    compute_output_shape = same_shape


class ReLU(_Elementwise):
    """Rectified linear unit with Keras's options.

    `max_value` if `x >= max_value`; `x` if `threshold < x < max_value`;
    `negative_slope * (x - threshold)` otherwise.

    Args:
        max_value: Largest output (a float >= 0); None = no limit.
        negative_slope: Slope below the threshold (a float >= 0).
        threshold: Inputs at or below it are damped (a float >= 0).

    Input shape:  any.
    Output shape: same as the input.

    Example:
        >>> import torch
        >>> ReLU(max_value=5.0)(torch.tensor([-10.0, 3.0, 10.0])).tolist()
        [0.0, 3.0, 5.0]
        >>> ReLU(negative_slope=0.5)(torch.tensor([-10.0, 3.0])).tolist()
        [-5.0, 3.0]
    """

    def __init__(
        self,
        max_value: float | None = None,
        negative_slope: float = 0.0,
        threshold: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if max_value is not None:
            max_value = _check_non_negative(self, "max_value", max_value)
        self.max_value = max_value
        self.negative_slope = _check_non_negative(
            self, "negative_slope", negative_slope
        )
        self.threshold = _check_non_negative(self, "threshold", threshold)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """The clipped, leaky, thresholded ReLU."""
        slope, threshold, top = self.negative_slope, self.threshold, self.max_value
        if threshold == 0.0 and (slope == 0.0 or top is None):
            if slope != 0.0:
                return F.leaky_relu(inputs, slope)
            if top is None:
                return torch.relu(inputs)
            return F.relu6(inputs) if top == 6.0 else inputs.clamp(0.0, top)
        # General case, as Keras: the part above the threshold, clipped, minus
        # the slope times the part below it.
        out = torch.where(inputs > threshold, inputs, torch.zeros_like(inputs))
        if top is not None:
            out = out.clamp(0.0, top)
        if slope != 0.0:
            out = out - slope * torch.relu(threshold - inputs)
        return out

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        names = ("max_value", "negative_slope", "threshold")
        return {**super().get_config(), **attrs_config(self, names)}


class LeakyReLU(_Elementwise):
    """`x` if `x >= 0` else `negative_slope * x`.

    Args:
        negative_slope: Slope for negative inputs (a float >= 0). Default 0.3,
            Keras's (the `"leaky_relu"` activation defaults to 0.2).
        alpha: Keras 2's name of `negative_slope`; wins if given.

    Input shape:  any.
    Output shape: same as the input.

    Example:
        >>> import torch
        >>> LeakyReLU()(torch.tensor([-1.0, 2.0])).tolist()
        [-0.30000001192092896, 2.0]
    """

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        if "alpha" in kwargs:  # Keras compat: Keras 2 spelled it `alpha`
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = _check_non_negative(
            self, "negative_slope", negative_slope
        )

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """`F.leaky_relu`."""
        return F.leaky_relu(inputs, self.negative_slope)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {**super().get_config(), "negative_slope": self.negative_slope}


class PReLU(Layer):
    """Leaky ReLU with a learned slope per element: `x` if `x >= 0` else `alpha * x`.

    Args:
        alpha_initializer: Initial slopes. Default `"zeros"` (a plain ReLU).
        alpha_regularizer: Name, instance or function of `alpha` added to the losses.
        alpha_constraint: Applied to `alpha` after each optimizer step.
        shared_axes: Axes (1 = first non-batch axis) along which one slope is
            shared; e.g. `[1, 2]` for one slope per channel of `(batch, h, w, c)`
            images.

    Input shape:  `(batch, ...)`.
    Output shape: same as the input.
    Weights:      `alpha` of the input shape without batch, shared axes set to 1.

    Example:
        >>> import torch
        >>> layer = PReLU(alpha_initializer="ones", shared_axes=[1])
        >>> layer(torch.tensor([[[-2.0, 3.0]]])).tolist()
        [[[-2.0, 3.0]]]
        >>> tuple(layer.alpha.shape)
        (1, 2)
    """

    def __init__(
        self,
        alpha_initializer: InitializerLike = "zeros",
        alpha_regularizer: Any = None,
        alpha_constraint: Any = None,
        shared_axes: int | list[int] | tuple[int, ...] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, int):
            self.shared_axes = [shared_axes]
        else:
            self.shared_axes = list(shared_axes)
        self.supports_masking = True

    def build(self, input_shape: Shape) -> None:
        """Create `alpha`, one slope per non-shared element."""
        ndim = len(input_shape)
        shared = set(self.shared_axes or [])
        bad = [a for a in shared if not 1 <= a < ndim]
        if bad:
            raise ValueError(
                f"{self._where()}: expected `shared_axes` in [1, {ndim}) for an "
                f"input with {ndim} dims, got shared_axes={self.shared_axes}."
            )
        raw = [1 if i in shared else input_shape[i] for i in range(1, ndim)]
        shape = [d for d in raw if d is not None]
        if len(shape) != len(raw):
            raise ValueError(
                f"{self._where()}: expected every non-shared axis to be known, got "
                f"input shape {tuple(input_shape)}; share the unknown axes with "
                "`shared_axes`."
            )
        self.alpha = self.add_weight(
            "alpha",
            tuple(shape),
            self.alpha_initializer,
            regularizer=self.alpha_regularizer,
            constraint=self.alpha_constraint,
        )
        axes = {i: d for i, d in enumerate(shape, 1) if i not in shared}
        self.input_spec = InputSpec(ndim=ndim, axes=axes)
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """`relu(x) - alpha * relu(-x)` (Keras's formula, same gradients)."""
        return torch.relu(inputs) - self.alpha * torch.relu(-inputs)

    compute_output_shape = same_shape

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        }


class ELU(_Elementwise):
    """Exponential linear unit: `x` if `x > 0` else `alpha * (exp(x) - 1)`.

    Args:
        alpha: Scale of the negative part. Default 1.0.

    Input shape:  any.
    Output shape: same as the input.

    Example:
        >>> import torch
        >>> [round(v, 4) for v in ELU()(torch.tensor([-1.0, 2.0])).tolist()]
        [-0.6321, 2.0]
    """

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """`F.elu`."""
        return F.elu(inputs, self.alpha)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(_Elementwise):
    """Softmax over `axis`, with masked positions given probability 0.

    As in Keras, masked logits are replaced by -1e9 before the softmax, and the
    masked outputs are set to 0 afterwards (so an all-masked row is all zeros
    rather than uniform).

    Args:
        axis: Axis, or list of axes, to normalize over. Default -1.

    Call arguments:
        inputs: The logits.
        mask: Boolean (or 0/1) tensor broadcastable to `inputs`, aligned on the
            right; True (or > 0.5) keeps a position.

    Input shape:  any.
    Output shape: same as the input.

    Example:
        >>> import torch
        >>> x = torch.tensor([[1.0, 1.0, 5.0]])
        >>> Softmax()(x, mask=torch.tensor([[True, True, False]])).tolist()
        [[0.5, 0.5, 0.0]]
    """

    def __init__(
        self, axis: int | list[int] | tuple[int, ...] = -1, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.axis = axis if isinstance(axis, int) else list(axis)

    def call(
        self, inputs: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Masked softmax."""
        if mask is not None:
            self._check_mask(inputs, mask)
            if mask.dtype != torch.bool:
                mask = mask > 0.5
            inputs = inputs.masked_fill(~mask, _large_negative(inputs.dtype))
        if isinstance(self.axis, int):
            out = torch.softmax(inputs, dim=self.axis)
        else:  # several axes at once: exp(x - logsumexp(x))
            out = torch.exp(inputs - torch.logsumexp(inputs, self.axis, keepdim=True))
        if mask is not None:
            out = out.masked_fill(~mask, 0.0)
        return out

    def _check_mask(self, inputs: Any, mask: Any) -> None:
        """Keras's rule: the mask broadcasts to the inputs, aligned on the right."""
        shape, mask_shape = tuple(inputs.shape), tuple(mask.shape)
        ok = len(mask_shape) <= len(shape) and all(
            m in (1, i) or None in (m, i)
            for m, i in zip(reversed(mask_shape), reversed(shape))
        )
        if not ok:
            raise ValueError(
                f"{self._where()}: expected a mask broadcastable to the inputs "
                f"{shape} (aligned on the right), got mask shape {mask_shape}."
            )

    def _infer_output_specs(
        self, inputs: Any, args: Any, call_kwargs: dict[str, Any], flat_in: Any
    ) -> Any:
        # Check the mask when the graph is built, not only when it runs.
        if call_kwargs.get("mask") is not None:
            self._check_mask(inputs, call_kwargs["mask"])
        return super()._infer_output_specs(inputs, args, call_kwargs, flat_in)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {**super().get_config(), "axis": self.axis}


class ThresholdedReLU(_Elementwise):
    """`x` if `x > theta` else 0 (Keras 2's layer).

    Args:
        theta: The threshold, a float >= 0. Default 1.0.

    Input shape:  any.
    Output shape: same as the input.

    Example:
        >>> import torch
        >>> ThresholdedReLU(theta=1.0)(torch.tensor([0.5, 1.0, 2.0])).tolist()
        [0.0, 0.0, 2.0]
    """

    def __init__(self, theta: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.theta = _check_non_negative(self, "theta", theta)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """`F.threshold`: inputs at or below `theta` become 0."""
        return F.threshold(inputs, self.theta, 0.0)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {**super().get_config(), "theta": self.theta}
