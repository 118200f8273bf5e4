"""Layer wrappers: TimeDistributed (a layer at every step), Bidirectional (an RNN both ways)."""

from __future__ import annotations

from typing import Any

import torch

from plait import activations
from plait.graph.inference import TensorSpec, meta_spec
from plait.graph.symbolic import SymbolicTensor
from plait.layers.base import Layer
from plait.layers.call_api import _map_shapes, _overrides
from plait.layers.input_spec import InputSpec, check_input_spec
from plait.layers.rnn import RNN, _shape_list, deserialize_layer, serialize_layer
from plait.layers.rnn_kernels import _right_padded_lengths, fused_sequence
from plait.types import Shape
from plait.utils import tree
from plait.utils.shapes import format_shape, is_shape

__all__ = ["Bidirectional", "TimeDistributed"]

Tensor = torch.Tensor
_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _merged(batch: int | None, steps: int | None) -> int | None:
    return None if batch is None or steps is None else batch * steps


class TimeDistributed(Layer):
    """Applies a layer, or a whole model, to every time step of a sequence.

    Batch and time are merged into one axis, the wrapped layer runs once on
    `(batch * timesteps, ...)`, and the result is split back: one call, no
    loop over time. The wrapped layer keeps one set of weights for all steps.

    Args:
        layer: A layer or a `Model` (e.g. `TimeDistributed(classifier)`).

    Call arguments:
        inputs: `(batch, timesteps, ...)`; each step is one input of `layer`.
        training: Passed to the wrapped layer.
        mask: `(batch, timesteps, ...)`; passed per step to a layer taking masks
            when it has more than two axes, and passed through as the output mask.

    Input shape:  `(batch, timesteps, *step_shape)`.
    Output shape: `(batch, timesteps, *layer_output_shape[1:])`.
    Weights:      The wrapped layer's.

    Example:
        >>> import plait
        >>> from plait.layers import Dense, Input
        >>> inputs = Input(shape=(784,))
        >>> classifier = plait.Model(inputs, Dense(10, activation="softmax")(inputs))
        >>> TimeDistributed(classifier)(Input(shape=(20, 784))).shape
        (None, 20, 10)
    """

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        layer = deserialize_layer(layer, "TimeDistributed(layer=...)")
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise TypeError(
                f"{self._where()}: expected `layer` to be a plait layer or model, "
                f"got {type(layer).__name__}."
            )
        self.layer = layer
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3, layout="(batch, timesteps, ...)")

    def _child_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) < 3:
            raise ValueError(
                f"{self._where()}: expected an input with at least 3 dims "
                f"(batch, timesteps, ...), got shape {format_shape(input_shape)}."
            )
        return (_merged(input_shape[0], input_shape[1]), *input_shape[2:])

    def _check_step(self, child: Shape) -> None:
        """The wrapped layer must accept one step: its input spec, or a model's input."""
        layer = self.layer
        check_input_spec(layer._where(), layer.input_spec, [child], [None])
        model_inputs = getattr(layer, "_flat_inputs", None)
        if model_inputs is not None and len(model_inputs) == 1:
            want = model_inputs[0].shape
            if len(want) != len(child) or any(
                a is not None and b is not None and a != b
                for a, b in zip(want[1:], child[1:])
            ):
                raise ValueError(
                    f"{self._where()}: expected steps of shape {format_shape(want)} "
                    f"(the input of model {layer.name!r}), got steps of shape "
                    f"{format_shape(child)}."
                )

    def build(self, input_shape: Shape) -> None:
        """Build the wrapped layer on one step's shape."""
        child = self._child_shape(input_shape)
        self._check_step(child)
        if not self.layer.built:
            self.layer._build_for(child)
        self.built = True

    def _inner(self, inputs: Tensor, training: Any, mask: Any, pre: bool) -> Any:
        batch, steps = inputs.shape[0], inputs.shape[1]
        flat = inputs.reshape(batch * steps, *inputs.shape[2:])  # (batch * time, ...)
        layer = self.layer
        takes_training, takes_mask = layer._call_flags()
        kwargs: dict[str, Any] = {}
        fn = getattr(layer, "_pre_activation", layer.call) if pre else layer.call
        if takes_training and (not pre or fn is layer.call):
            kwargs["training"] = training
        if takes_mask and mask is not None and mask.dim() > 2 and not pre:
            kwargs["mask"] = mask.reshape(batch * steps, *mask.shape[2:])
        out = fn(flat, **kwargs)
        # (batch * time, ...) -> (batch, time, ...)
        return tree.map_structure(lambda o: o.reshape(batch, steps, *o.shape[1:]), out)

    def call(
        self, inputs: Tensor, training: bool | None = None, mask: Any = None
    ) -> Any:
        """The wrapped layer on `(batch * timesteps, ...)`, reshaped back."""
        return self._inner(inputs, training, mask, pre=False)

    @property
    def activation(self) -> Any:
        """The wrapped layer's final activation (`call = activation(_pre_activation)`)."""
        if hasattr(self.layer, "_pre_activation"):
            return self.layer.activation
        return activations.linear

    def _pre_activation(self, inputs: Tensor, training: bool | None = None) -> Any:
        return self._inner(inputs, training, None, pre=True)

    def compute_output_shape(self, input_shape: Shape) -> Any:
        """The wrapped layer's output shape with the time axis put back."""
        child = self._child_shape(input_shape)
        self._check_step(child)
        layer = self.layer
        if _overrides(layer, "compute_output_shape"):
            out = layer.compute_output_shape(child)
        elif hasattr(layer, "_nested_outputs"):  # a functional model
            out = tree.map_structure(
                lambda t: (child[0], *t.shape[1:]), layer._nested_outputs
            )
        else:  # run the layer on meta tensors
            x = SymbolicTensor(child, self.compute_dtype, f"{self.name}:step")
            kwargs = {"training": False} if layer._call_flags()[0] else {}
            specs = meta_spec(layer.call, layer, (x,), kwargs)
            out = tree.map_structure(
                lambda s: s.shape if isinstance(s, TensorSpec) else s, specs
            )
        return _map_shapes(lambda s: (input_shape[0], input_shape[1], *s[1:]), out)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, the wrapped layer as `{"class_name", "config"}`."""
        return {**super().get_config(), "layer": serialize_layer(self.layer)}


def _copy_rnn(layer: Layer, **overrides: Any) -> Layer:
    """A new layer of the same class and configuration (fresh weights)."""
    return type(layer).from_config({**layer.get_config(), **overrides})


def _removeprefix(name: str, prefix: str) -> str:
    return name[len(prefix) :] if name.startswith(prefix) else name


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy backwards, and merges the two.

    The backward layer's sequence output is flipped back to the input's time
    order before merging, so step `t` of both halves is about input step `t`.
    When both layers are built-in LSTM/GRU/SimpleRNN layers that can use torch's
    fused kernel, and no dropout is active, both directions run in one
    bidirectional kernel call (right-padded masks included).

    Args:
        layer: The recurrent layer (e.g. `LSTM(64, return_sequences=True)`); a copy
            named `forward_<name>` runs forwards.
        merge_mode: `"concat"` (default), `"sum"`, `"mul"`, `"ave"`, or None for a
            list `[forward, backward]`.
        weights: Initial weights: the forward layer's, then the backward one's.
        backward_layer: The layer to run backwards; by default a copy of `layer`
            with `go_backwards` flipped, named `backward_<name>`.

    Call arguments:
        sequences: `(batch, timesteps, features)`.
        initial_state: The forward layer's initial states, then the backward's.
        mask: `(batch, timesteps)` bools.
        training: Passed to both layers.

    Input shape:  `(batch, timesteps, features)`.
    Output shape: The layer's output shape, last axis doubled with `"concat"`;
        with `return_state`, followed by the forward then the backward states.
    Weights:      The forward layer's, then the backward layer's.

    Example:
        >>> import plait
        >>> from plait.layers import LSTM, Input
        >>> Bidirectional(LSTM(8, return_sequences=True))(Input(shape=(5, 3))).shape
        (None, 5, 16)
    """

    def __init__(
        self,
        layer: Layer,
        merge_mode: str | None = "concat",
        weights: list[Any] | None = None,
        backward_layer: Layer | None = None,
        **kwargs: Any,
    ) -> None:
        layer = deserialize_layer(layer, "Bidirectional(layer=...)")
        if backward_layer is not None:
            backward_layer = deserialize_layer(
                backward_layer, "Bidirectional(backward_layer=...)"
            )
        super().__init__(**kwargs)
        for arg, value in (("layer", layer), ("backward_layer", backward_layer)):
            if value is not None and not hasattr(value, "go_backwards"):
                raise TypeError(
                    f"{self._where()}: expected `{arg}` to be a recurrent layer (with "
                    f"`go_backwards`), got {type(value).__name__}."
                )
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"{self._where()}: expected `merge_mode` in {list(_MERGE_MODES)}, "
                f"got merge_mode={merge_mode!r}."
            )
        name = _removeprefix(layer.name, "forward_")
        self.forward_layer = _copy_rnn(layer, name=f"forward_{name}")
        if backward_layer is None:
            name = _removeprefix(layer.name, "backward_")
            backward_layer = _copy_rnn(
                layer, name=f"backward_{name}", go_backwards=not layer.go_backwards
            )
        self.backward_layer = backward_layer
        self._check_pair()
        for sub in (self.forward_layer, self.backward_layer):
            if isinstance(sub, RNN):  # Keras compat: zeros at masked steps
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        if weights:
            half = len(weights) // 2
            self.forward_layer._initial_weights = list(weights[:half])
            self.backward_layer._initial_weights = list(weights[half:])
        self.stateful = bool(getattr(layer, "stateful", False))
        self.return_sequences = bool(getattr(layer, "return_sequences", False))
        self.return_state = bool(getattr(layer, "return_state", False))
        self.supports_masking = True
        self.input_spec = layer.input_spec

    def _check_pair(self) -> None:
        fw, bw = self.forward_layer, self.backward_layer
        if fw.go_backwards == bw.go_backwards:
            raise ValueError(
                f"{self._where()}: expected the forward and backward layers to have "
                f"different `go_backwards`, got {fw.go_backwards} for both."
            )
        for attr in ("stateful", "return_sequences", "return_state"):
            a, b = getattr(fw, attr, False), getattr(bw, attr, False)
            if a != b:
                raise ValueError(
                    f"{self._where()}: expected the forward and backward layers to "
                    f"have the same `{attr}`, got {a} (forward) and {b} (backward)."
                )

    def build(self, input_shape: Shape) -> None:
        """Build both layers on the input shape."""
        if not is_shape(input_shape):
            raise ValueError(
                f"{self._where()}: expected one sequence (batch, timesteps, ...), "
                f"got {len(_shape_list(input_shape))} inputs; a cell that takes "
                "several inputs per step runs in RNN alone, not in Bidirectional."
            )
        self.forward_layer._build_for(input_shape)
        self.backward_layer._build_for(input_shape)
        self.built = True

    def reset_states(self) -> None:
        """Zero the kept states of both layers (stateful layers only)."""
        for layer in (self.forward_layer, self.backward_layer):
            layer.reset_states()

    reset_state = reset_states  # Keras 3 name

    def _n_states(self) -> int:
        fw = self.forward_layer
        return len(fw._state_shapes()) if isinstance(fw, RNN) else 0

    # ------------------------------------------------------------------ calling
    def call(
        self,
        sequences: Tensor,
        initial_state: Any = None,
        mask: Any = None,
        training: bool | None = None,
    ) -> Any:
        """Both directions, merged; see the class docstring."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        fw_state = bw_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            fw_state, bw_state = list(initial_state[:half]), list(initial_state[half:])
        fused = self._call_fused(sequences, fw_state, bw_state, mask, bool(training))
        if fused is not None:
            return fused
        y = self._run(self.forward_layer, sequences, fw_state, mask, training)
        y_rev = self._run(self.backward_layer, sequences, bw_state, mask, training)
        states: list[Tensor] = []
        if self.return_state:
            states = [*y[1:], *y_rev[1:]]
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev.flip(1)  # back to the input's time order
        return self._merge(y, y_rev, states)

    @staticmethod
    def _run(
        layer: Layer, x: Tensor, state: Any, mask: Any, training: bool | None
    ) -> Any:
        takes_training, takes_mask = layer._call_flags()
        kwargs: dict[str, Any] = {}
        if state is not None:
            kwargs["initial_state"] = state
        if takes_mask and mask is not None:
            kwargs["mask"] = mask
        if takes_training:
            kwargs["training"] = training
        return layer.call(x, **kwargs)

    def _merge(self, y: Tensor, y_rev: Tensor, states: list[Tensor]) -> Any:
        mode = self.merge_mode
        if mode is None:
            outputs = [y, y_rev]
        elif mode == "concat":
            outputs = [torch.cat([y, y_rev], dim=-1)]
        elif mode == "sum":
            outputs = [y + y_rev]
        elif mode == "ave":
            outputs = [(y + y_rev) / 2]
        else:
            outputs = [y * y_rev]
        outputs += states
        return outputs if len(outputs) > 1 else outputs[0]

    def _call_fused(
        self,
        x: Tensor,
        fw_state: Any,
        bw_state: Any,
        mask: Tensor | None,
        training: bool,
    ) -> Any:
        """Both directions in one bidirectional kernel call, or None if it cannot."""
        fw, bw = self.forward_layer, self.backward_layer
        if not (isinstance(fw, RNN) and isinstance(bw, RNN)) or self.stateful:
            return None
        if fw.go_backwards or not bw.go_backwards or x.device.type == "meta":
            return None
        if fw.use_cudnn is True or bw.use_cudnn is True:
            return None  # let each layer apply its own check
        kernel = fw._fused(training)
        if kernel is None or bw._fused(training) is not kernel:
            return None
        if fw.cell.units != bw.cell.units:
            return None
        if training and (fw.cell.dropout > 0 or bw.cell.dropout > 0):
            return None  # each direction draws its own input mask
        if (fw.cell.bias is None) != (bw.cell.bias is None):
            return None
        lengths = None
        if mask is not None:
            lengths = _right_padded_lengths(mask.bool())
            if lengths is None:
                return None
            if bool((lengths == x.shape[1]).all()):
                lengths = None
        weight = fw.cell.kernel
        x = x.to(weight.dtype) if x.dtype != weight.dtype else x
        pairs = zip(fw._initial_states(x, fw_state), bw._initial_states(x, bw_state))
        hx = [torch.stack([a, b]) for a, b in pairs]  # (2, batch, units)
        params = fw.cell._fused_params() + bw.cell._fused_params()
        seq, final = fused_sequence(
            kernel, x, lengths, hx, params, True, self.return_sequences
        )
        states = [s[0] for s in final] + [s[1] for s in final]
        states = states if self.return_state else []
        if seq is not None:
            if self.merge_mode == "concat":  # already [forward, backward]
                return [seq, *states] if states else seq
            units = fw.cell.units
            return self._merge(seq[..., :units], seq[..., units:], states)
        return self._merge(final[0][0], final[0][1], states)

    # ------------------------------------------------------------------ shapes
    def compute_output_shape(self, input_shape: Shape) -> Any:
        """The layer's output shape, merged; then the states' shapes."""
        shape = self.forward_layer.compute_output_shape(input_shape)
        states: list[Shape] = []
        if self.return_state:
            shape, states = shape[0], list(shape[1:])
        if self.merge_mode == "concat":
            out = [(*shape[:-1], None if shape[-1] is None else 2 * shape[-1])]
        elif self.merge_mode is None:
            out = [shape, shape]
        else:
            out = [shape]
        out += states + states
        return out if len(out) > 1 else out[0]

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The input mask for sequence outputs; None for the states."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        out = mask if self.return_sequences else None
        masks = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            masks += [None] * (2 * self._n_states())
        return masks if len(masks) > 1 else masks[0]

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments; nested layers as `{"class_name", "config"}`."""
        config = {
            **super().get_config(),
            "layer": serialize_layer(self.forward_layer),
            "merge_mode": self.merge_mode,
        }
        config["backward_layer"] = serialize_layer(self.backward_layer)
        return config
