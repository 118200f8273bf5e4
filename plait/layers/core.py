"""Core layers: Dense, Activation, Embedding, Masking, Lambda."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from plait import activations
from plait.layers.base import Layer
from plait.layers.call_api import same_shape
from plait.layers.input_spec import InputSpec, known_last_axis
from plait.layers.layer_args import (
    add_bias,
    add_fn_weight,
    set_weight_fns,
    weight_fns_config,
)
from plait.types import ActivationLike, InitializerLike, Shape

__all__ = ["Activation", "Dense", "Embedding", "Identity", "Lambda", "Masking"]


def _check_positive_int(layer: Layer, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(
            f"{layer._where()}: expected `{name}` to be a positive int, "
            f"got {name}={value!r}."
        )
    return value


class Dense(Layer):
    """Fully connected layer: `activation(inputs @ kernel + bias)`.

    Args:
        units: Size of the output's last axis; a positive int.
        activation: Name (`"relu"`) or callable for the output; None = identity.
        use_bias: Whether to learn an additive bias.
        kernel_initializer: Name or callable. Default `"glorot_uniform"`.
        bias_initializer: Name or callable. Default `"zeros"`.
        kernel_regularizer: Function of the kernel added to the losses.
        bias_regularizer: Function of the bias added to the losses.
        activity_regularizer: Function of the output added to the losses.
        kernel_constraint: Applied to the kernel after each optimizer step.
        bias_constraint: Applied to the bias after each optimizer step.

    Input shape:  `(batch, ..., input_dim)`
    Output shape: `(batch, ..., units)`
    Weights:      `kernel (input_dim, units)`, `bias (units,)`; Keras layout.

    Example:
        >>> import plait
        >>> Dense(64, activation="relu")(plait.Input(shape=(784,))).shape
        (None, 64)
    """

    def __init__(
        self,
        units: int,
        activation: ActivationLike = None,
        use_bias: bool = True,
        kernel_initializer: InitializerLike = "glorot_uniform",
        bias_initializer: InitializerLike = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = _check_positive_int(self, "units", units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        set_weight_fns(self, ("kernel", "bias"), locals())
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape: Shape) -> None:
        """Create `kernel (input_dim, units)` and `bias (units,)`."""
        in_dim = known_last_axis(self._where(), input_shape)
        self.kernel = add_fn_weight(self, "kernel", (in_dim, self.units))
        self.bias = add_bias(self, (self.units,))
        self.input_spec = InputSpec(min_ndim=2, axes={-1: in_dim})  # later calls match
        self.built = True

    def _pre_activation(self, inputs: torch.Tensor) -> torch.Tensor:
        kernel, bias = self.kernel, self.bias  # one module lookup each
        if inputs.dtype != kernel.dtype:
            inputs = inputs.to(kernel.dtype)
        if bias is not None and inputs.dim() == 2:
            return torch.addmm(bias, inputs, kernel)  # one fused kernel
        out = torch.matmul(inputs, kernel)  # (batch, ..., units)
        return out + bias if bias is not None else out

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """`activation(inputs @ kernel + bias)`."""
        return self.activation(self._pre_activation(inputs))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """`(*input_shape[:-1], units)`."""
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_fns_config(self, ("kernel", "bias")),
        }


class Activation(Layer):
    """Applies an activation function to its input.

    Args:
        activation: Name (`"relu"`, `"softmax"`, ...) or callable.

    Input shape:  any.
    Output shape: same as the input.

    Example:
        >>> import torch
        >>> Activation("relu")(torch.tensor([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """

    def __init__(self, activation: ActivationLike, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def _pre_activation(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """`activation(inputs)`."""
        return self.activation(inputs)

    compute_output_shape = same_shape

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            **super().get_config(),
            "activation": activations.serialize(self.activation),
        }


class Identity(Layer):
    """Returns its input unchanged (a placeholder, e.g. for an optional block).

    Input shape:  any (also nested structures).
    Output shape: same as the input; masks pass through.

    Example:
        >>> import torch
        >>> Identity()(torch.tensor([1.0, 2.0])).tolist()
        [1.0, 2.0]
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs: Any) -> Any:
        """`inputs`."""
        return inputs

    compute_output_shape = same_shape


class Embedding(Layer):
    """Turns integer ids into dense vectors: `embeddings[inputs]`.

    Args:
        input_dim: Vocabulary size: ids are in `[0, input_dim)`.
        output_dim: Size of each vector.
        embeddings_initializer: Default `"uniform"` (uniform in +-0.05).
        embeddings_regularizer: Function of the table added to the losses.
        embeddings_constraint: Applied to the table after each optimizer step.
        mask_zero: Whether id 0 is padding; downstream layers then get a mask.
        input_length: Keras 2: length of the input sequences; gives Sequential's
            first layer its input shape `(input_length,)`.

    Input shape:  `(batch, ...)` of ints.
    Output shape: `(batch, ..., output_dim)`.
    Weights:      `embeddings (input_dim, output_dim)`.

    Example:
        >>> import plait
        >>> x = plait.Input(shape=(100,), dtype="int32")
        >>> Embedding(input_dim=10000, output_dim=512, input_length=100)(x).shape
        (None, 100, 512)
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: InitializerLike = "uniform",
        embeddings_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool = False,
        input_length: int | None = None,
        **kwargs: Any,
    ) -> None:
        if input_length is not None and "input_shape" not in kwargs:
            kwargs.setdefault("batch_input_shape", (None, input_length))
        super().__init__(**kwargs)
        self.input_dim = _check_positive_int(self, "input_dim", input_dim)
        self.output_dim = _check_positive_int(self, "output_dim", output_dim)
        set_weight_fns(self, ("embeddings",), locals())
        self.mask_zero = bool(mask_zero)
        self.input_length = input_length
        self.supports_masking = self.mask_zero

    def build(self, input_shape: Shape) -> None:
        """Create the `(input_dim, output_dim)` table."""
        shape = (self.input_dim, self.output_dim)
        self.embeddings = add_fn_weight(self, "embeddings", shape, "embeddings")
        self.built = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """Look up each id."""
        if inputs.dtype not in (torch.int32, torch.int64):
            inputs = inputs.long()
        return F.embedding(inputs, self.embeddings)

    def compute_mask(
        self, inputs: torch.Tensor, mask: Any = None
    ) -> torch.Tensor | None:
        """`inputs != 0` when `mask_zero`, else None."""
        return inputs != 0 if self.mask_zero else None

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """`(*input_shape, output_dim)`."""
        return (*input_shape, self.output_dim)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        fns = weight_fns_config(self, ("embeddings",))
        config = {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": fns.pop("embeddings_initializer"),
            "mask_zero": self.mask_zero,
            **fns,
        }
        if self.input_length is not None:
            config["input_length"] = self.input_length
            config.pop("batch_input_shape", None)
        return config


class Masking(Layer):
    """Masks time steps whose features all equal `mask_value`.

    Downstream layers that support masking (LSTM, ...) skip those steps.

    Args:
        mask_value: The padding value.

    Input shape:  `(batch, timesteps, features)`.
    Output shape: same; masked steps are zeroed.

    Example:
        >>> import torch
        >>> x = torch.tensor([[[0.0, 0.0], [1.0, 2.0]]])
        >>> Masking()(x)._keras_mask.tolist()
        [[False, True]]
    """

    _keeps_input_dtype = True

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        """Zero the masked steps."""
        keep = (inputs != self.mask_value).any(dim=-1, keepdim=True)
        return inputs * keep.to(inputs.dtype)

    def compute_mask(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        """True where any feature differs from `mask_value`."""
        return (inputs != self.mask_value).any(dim=-1)

    compute_output_shape = same_shape

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {**super().get_config(), "mask_value": self.mask_value}


class Lambda(Layer):
    """Wraps a function of tensors as a layer: `function(inputs, **arguments)`.

    Saving a model keeps only the function's registered name (see
    `plait.saving.register_serializable`); a Python `lambda` cannot be saved.

    Args:
        function: Callable of the input tensor(s).
        output_shape: Output shape (batch left out) or a function of the input
            shape; inferred by running `function` on meta tensors when None.
        mask: A mask, or a function `(inputs, mask) -> mask`.
        arguments: Extra keyword arguments for `function`.

    Example:
        >>> import torch
        >>> Lambda(lambda x: x ** 2)(torch.tensor([3.0])).tolist()
        [9.0]
    """

    def __init__(
        self,
        function: Callable[..., Any],
        output_shape: Any = None,
        mask: Any = None,
        arguments: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(
                f"{self._where()}: expected `function` to be callable, got "
                f"{type(function).__name__}."
            )
        self.function = function
        self.output_shape_spec = output_shape
        self.mask = mask
        self.arguments = dict(arguments or {})
        self.supports_masking = mask is not None

    def call(self, inputs: Any) -> Any:
        """`function(inputs, **arguments)`."""
        return self.function(inputs, **self.arguments)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """`mask(inputs, mask)` if a function was given, else the given mask."""
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def _infer_output_specs(
        self, inputs: Any, args: Any, call_kwargs: Any, flat_in: Any
    ) -> Any:
        spec = self.output_shape_spec
        if spec is None:
            return super()._infer_output_specs(inputs, args, call_kwargs, flat_in)
        from plait.graph.inference import TensorSpec

        in_shape = flat_in[0].shape if len(flat_in) == 1 else [t.shape for t in flat_in]
        shape = (
            spec(in_shape) if callable(spec) else (flat_in[0].shape[0], *tuple(spec))
        )
        return TensorSpec(tuple(shape), self._output_dtype(flat_in))

    def get_config(self) -> dict[str, Any]:
        """The function by its registered name (see `plait.saving`)."""
        from_registry = getattr(self.function, "_plait_registered_name", None)
        if from_registry is None:
            raise ValueError(
                f"{self._where()}: cannot serialize its function "
                f"{getattr(self.function, '__name__', self.function)!r}; a Lambda saves "
                "only a function registered by name: decorate a named function with "
                "@plait.saving.register_serializable() and pass it to Lambda."
            )
        config = {**super().get_config(), "function": from_registry}
        if self.output_shape_spec is not None and not callable(self.output_shape_spec):
            config["output_shape"] = list(self.output_shape_spec)
        if self.arguments:
            config["arguments"] = self.arguments
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Rebuild from `get_config()`, finding the function by its registered name."""
        from plait.layers.serialization import get_registered_object

        name = config.get("function")
        if isinstance(name, str):
            found = get_registered_object(name)
            if found is None:
                raise ValueError(
                    f"Lambda layer '{config.get('name')}': expected `function` to "
                    f"name a registered function, got {name!r}, which is not "
                    "registered; decorate it with "
                    "@plait.saving.register_serializable() and import its module."
                )
            config = {**config, "function": found}
        return cls(**config)
