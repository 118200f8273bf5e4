"""The generic recurrent layer `RNN` (a cell over the time axis) and the nested
layer (de)serialization the recurrent layers and wrappers share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from plait.layers.base import Layer
from plait.layers.input_spec import InputSpec
from plait.layers.layer_args import attrs_config
from plait.layers.rnn_cell_base import BaseRNNCell
from plait.layers.rnn_kernels import _right_padded_lengths, fused_sequence
from plait.types import Shape
from plait.utils.shapes import format_shape

__all__ = ["RNN", "BaseRNNCell", "fused_sequence", "serialize_layer"]

# `RNN`'s own config entries, in Keras's order.
_RNN_CONFIG = (
    "return_sequences",
    "return_state",
    "go_backwards",
    "stateful",
    "unroll",
    "zero_output_for_mask",
)

Tensor = torch.Tensor


def _keep(mask_t: Tensor, like: Tensor) -> Tensor:
    """`(batch,)` step mask viewed to broadcast against `like` `(batch, ...)`."""
    return mask_t.view(-1, *([1] * (like.dim() - 1)))


def serialize_layer(layer: Any) -> dict[str, Any]:
    """`{"class_name": ..., "config": ...}` for a nested layer or cell."""
    try:  # the saving package adds registered names for custom classes
        from plait.layers.serialization import serialize_layer as serialize
    except ImportError:  # pragma: no cover - saving is optional for layers
        return {"class_name": type(layer).__name__, "config": layer.get_config()}
    return serialize(layer)


def deserialize_layer(config: Any, what: str) -> Any:
    """A layer from `serialize_layer`'s output (a layer instance passes through).

    Classes resolve through plait's registry (`plait.saving`, which honours
    `custom_object_scope`), else among `plait.layers`: a config never names a
    module to import.
    """
    if isinstance(config, Layer):
        return config
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise TypeError(
            f"{what}: expected a layer or a {{'class_name': ..., 'config': ...}} "
            f"dict, got {config!r}."
        )
    try:
        from plait.layers.serialization import deserialize_layer as deserialize
    except ImportError:  # pragma: no cover - saving is optional for layers
        import plait.layers

        cls = getattr(plait.layers, config["class_name"], None)
        if not (isinstance(cls, type) and issubclass(cls, Layer)):
            raise ValueError(
                f"{what}: unknown layer class {config['class_name']!r}."
            ) from None
        return cls.from_config(dict(config.get("config") or {}))
    return deserialize(config)


class RNN(Layer):
    """Runs a cell over the time axis of a sequence: the base of LSTM, GRU, ...

    Each step calls `cell.call(x_t, states)`; masked steps (from
    `Embedding(mask_zero=True)`, `Masking`, or `mask=`) keep the previous states
    and output, as Keras does. Built-in cells run in torch's fused kernels
    (`torch.lstm`, `torch.gru`, `torch.rnn_tanh`) when the configuration allows:
    default activations, no recurrent dropout in training, `unroll=False`, and no
    mask or a right-padded one (`[1, 1, 1, 0, 0]`, run as a packed sequence);
    otherwise an exact step loop computes the same numbers.

    Args:
        cell: A cell: a layer with `call(inputs, states)` returning
            `(output, new_states)` and a `state_size` (int or list of ints);
            optionally `output_size`. A list of cells is stacked
            (`StackedRNNCells`).
        return_sequences: Return the output of every step `(batch, time, units)`
            instead of the last one `(batch, units)`.
        return_state: Also return the final states: `[output, *states]`.
        go_backwards: Process the sequence in reverse; the returned sequence is
            in processing (reversed) order, as in Keras.
        stateful: Start each batch from the final states of the previous one
            (sample `i` continues sample `i`); needs a fixed batch size.
            `reset_states()` zeroes them.
        unroll: Accepted for Keras compatibility; selects the step loop.
        zero_output_for_mask: Output zeros, not the previous output, at masked
            steps (Bidirectional sets it for sequences, as Keras does).

    Call arguments:
        sequences: `(batch, timesteps, ...)`.
        initial_state: List of initial state tensors (zeros if None).
        mask: `(batch, timesteps)` bools; False steps are skipped.
        training: Enables dropout.

    Input shape:  `(batch, timesteps, ...)`.
    Output shape: `(batch, units)`, `(batch, timesteps, units)` with
        `return_sequences`; with `return_state` a list `[output, *states]`.

    Example:
        >>> import torch
        >>> from plait.layers import LSTMCell
        >>> RNN(LSTMCell(4), return_sequences=True)(torch.ones(2, 5, 3)).shape
        torch.Size([2, 5, 4])
    """

    def __init__(
        self,
        cell: Any,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        **kwargs: Any,
    ) -> None:
        if isinstance(cell, dict):
            cell = deserialize_layer(cell, f"{type(self).__name__}(cell=...)")
        if isinstance(cell, (list, tuple)):
            from plait.layers.recurrent_cells import StackedRNNCells

            cell = StackedRNNCells(list(cell))
        if not callable(getattr(cell, "call", None)) or not hasattr(cell, "state_size"):
            raise TypeError(
                f"{type(self).__name__}: expected `cell` to be a cell with a `call` "
                f"method and a `state_size` attribute (e.g. LSTMCell(32)), got "
                f"{type(cell).__name__}."
            )
        self.use_cudnn: Any = kwargs.pop("use_cudnn", "auto")
        if "input_length" in kwargs or (
            "input_dim" in kwargs and "input_shape" not in kwargs
        ):  # Keras 2: LSTM(32, input_length=10, input_dim=64)
            length, dim = (
                kwargs.pop("input_length", None),
                kwargs.pop("input_dim", None),
            )
            kwargs.setdefault("input_shape", (length, dim))
        super().__init__(**kwargs)
        if self.use_cudnn not in ("auto", True, False):
            raise ValueError(
                f"{self._where()}: expected `use_cudnn` in ('auto', True, False), "
                f"got use_cudnn={self.use_cudnn!r}."
            )
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)
        self._n_states = 0

    # ------------------------------------------------------------------ states
    def _state_shapes(self) -> list[tuple[int, ...]]:
        sizes = self.cell.state_size
        sizes = list(sizes) if isinstance(sizes, (list, tuple)) else [sizes]
        return [tuple(s) if isinstance(s, (list, tuple)) else (int(s),) for s in sizes]

    def build(self, input_shape: Shape) -> None:
        """Build the cell on one step's shape; create the states if stateful."""
        step_shape = (input_shape[0], *input_shape[2:])
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell._build_for(step_shape)
        if self.stateful:
            if input_shape[0] is None:
                raise ValueError(
                    f"{self._where()}: stateful=True needs a fixed batch size, got "
                    f"input shape {format_shape(tuple(input_shape))}; give it with "
                    "Input(batch_shape=...) or batch_input_shape=..."
                )
            self._create_states(int(input_shape[0]))
        if input_shape[-1] is not None:
            self.input_spec = InputSpec(
                min_ndim=3, axes={-1: input_shape[-1]}, layout="(batch, timesteps, ...)"
            )
        self.built = True

    def _create_states(self, batch_size: int) -> None:
        like = next(iter(self.cell.parameters()), None)
        device = like.device if like is not None else None
        shapes = self._state_shapes()
        for i, shape in enumerate(shapes):
            zeros = torch.zeros(
                (batch_size, *shape), dtype=self.compute_dtype, device=device
            )
            self.register_buffer(f"state_{i}", zeros, persistent=False)
        self._n_states = len(shapes)

    @property
    def states(self) -> list[Tensor] | None:
        """The kept states of a stateful layer (None otherwise)."""
        if not self._n_states:
            return None
        return [getattr(self, f"state_{i}") for i in range(self._n_states)]

    def reset_states(self, states: Any = None) -> None:
        """Zero the kept states of a stateful layer, or set them to `states`."""
        kept = self.states
        if kept is None:
            raise AttributeError(
                f"{self._where()}: reset_states() needs stateful=True and a built "
                "layer; this layer keeps no states."
            )
        values = states if isinstance(states, (list, tuple)) else [states]
        with torch.no_grad():
            for i, buf in enumerate(kept):
                if states is None:
                    buf.zero_()
                else:
                    buf.copy_(torch.as_tensor(values[i]).to(buf))

    reset_state = reset_states  # Keras 3 name

    def _initial_states(self, x: Tensor, initial_state: Any) -> list[Tensor]:
        batch = x.shape[0]
        if initial_state is not None:
            states = (
                list(initial_state)
                if isinstance(initial_state, (list, tuple))
                else [initial_state]
            )
            want = len(self._state_shapes())
            if len(states) != want:
                raise ValueError(
                    f"{self._where()}: expected `initial_state` to be a list of "
                    f"{want} tensor{'s' if want != 1 else ''} "
                    f"{[(None, *s) for s in self._state_shapes()]}, got {len(states)}."
                )
            return [
                torch.as_tensor(s).to(device=x.device, dtype=x.dtype) for s in states
            ]
        kept = self.states
        if kept is not None:
            if kept[0].shape[0] != batch:
                raise ValueError(
                    f"{self._where()}: a stateful layer expects batches of "
                    f"{kept[0].shape[0]} samples (its states' batch size), got "
                    f"{batch}."
                )
            return [s.clone() for s in kept]  # copies: the buffers change in place
        return [x.new_zeros((batch, *shape)) for shape in self._state_shapes()]

    # ------------------------------------------------------------------ running
    def call(
        self,
        sequences: Tensor,
        initial_state: Any = None,
        mask: Any = None,
        training: bool | None = None,
    ) -> Any:
        """Run the cell over the sequence; see the class docstring."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        training = bool(training)
        x = sequences
        cell = self.cell
        builtin = isinstance(cell, BaseRNNCell)
        weight = cell.kernel if builtin else next(iter(cell.parameters()), None)
        if weight is not None and x.dtype != weight.dtype:
            x = x.to(weight.dtype)
        states = self._initial_states(x, initial_state)
        if mask is not None:
            if tuple(mask.shape[:2]) != tuple(x.shape[:2]) or mask.dim() != 2:
                raise ValueError(
                    f"{self._where()}: expected a mask of shape (batch, timesteps) "
                    f"= {format_shape(tuple(x.shape[:2]))}, got "
                    f"{format_shape(tuple(mask.shape))}."
                )
            mask = mask.bool()
        if builtin:
            cell._forget_dropout_masks()
        seq, last, states = self._run(x, states, mask, training)
        if builtin:
            cell._forget_dropout_masks()  # the next sequence draws new ones
        kept = self.states
        if kept is not None:
            with torch.no_grad():
                for buf, s in zip(kept, states):
                    buf.copy_(s)
        output = seq if self.return_sequences else last
        if self.return_state:
            return [output, *states]
        return output

    def _fused(self, training: bool) -> Callable[..., Any] | None:
        cell = self.cell
        kernel = None
        if isinstance(cell, BaseRNNCell) and not self.unroll and self.use_cudnn:
            kernel = cell._fused_kernel(training) if cell._fused_ok(training) else None
        if kernel is None and self.use_cudnn is True:
            raise ValueError(
                f"{self._where()}: use_cudnn=True, but this configuration needs the "
                "step loop (custom activations, recurrent dropout in training or "
                "unroll=True); pass use_cudnn='auto'."
            )
        return kernel

    def _run(
        self, x: Tensor, states: list[Tensor], mask: Tensor | None, training: bool
    ) -> tuple[Tensor | None, Tensor, list[Tensor]]:
        """`(sequence or None, last output, final states)`."""
        kernel = self._fused(training)
        if kernel is not None and x.device.type != "meta":
            if mask is None:
                return self._run_fused(kernel, x, states, None, training)
            lengths = _right_padded_lengths(mask)
            if lengths is not None:
                full = bool((lengths == x.shape[1]).all())
                return self._run_fused(
                    kernel, x, states, None if full else lengths, training
                )
        return self._loop(x, states, mask, training)

    def _run_fused(
        self,
        kernel: Callable[..., Any],
        x: Tensor,
        states: list[Tensor],
        lengths: Tensor | None,
        training: bool,
    ) -> tuple[Tensor | None, Tensor, list[Tensor]]:
        cell = self.cell
        masks = cell._input_masks(x, training)
        if masks is not None:
            x = x * masks[0]  # one mask for every gate and step (Keras impl. 2)
        params = cell._fused_params()
        hx = [s.unsqueeze(0) for s in states]  # (1, batch, units)
        if lengths is None:
            if self.go_backwards:
                x = x.flip(1)
            seq, final = fused_sequence(kernel, x, None, hx, params)
            states = [s[0] for s in final]
            return seq, states[0], states
        steps = x.shape[1]
        t = torch.arange(steps, device=x.device)
        n = lengths.to(x.device)[:, None]  # (batch, 1)
        if self.go_backwards:  # reverse each row's valid part: a right-padded batch
            idx = torch.where(t < n, n - 1 - t, t)  # (batch, time)
            x = x.gather(1, idx.unsqueeze(-1).expand_as(x))
        seq, final = fused_sequence(
            kernel, x, lengths, hx, params, want_sequence=self.return_sequences
        )
        states = [s[0] for s in final]
        h = states[0]
        if seq is None:
            if self.zero_output_for_mask and not self.go_backwards:
                h = torch.where((n == steps), h, torch.zeros_like(h))
            return None, h, states
        if self.go_backwards:
            # Keras order: the padded steps come first (zeros), then the valid ones.
            src = t - (steps - n)  # (batch, time)
            seq = seq.gather(1, src.clamp(min=0).unsqueeze(-1).expand_as(seq))
            seq = torch.where((src >= 0).unsqueeze(-1), seq, torch.zeros_like(seq))
        elif not self.zero_output_for_mask:  # padded steps repeat the last output
            idx = torch.minimum(t, n - 1)
            seq = seq.gather(1, idx.unsqueeze(-1).expand_as(seq))
        return seq, seq[:, -1], states

    def _loop(
        self, x: Tensor, states: list[Tensor], mask: Tensor | None, training: bool
    ) -> tuple[Tensor | None, Tensor, list[Tensor]]:
        """The exact step loop, Keras's semantics for masks."""
        cell = self.cell
        if isinstance(cell, BaseRNNCell):
            xs = cell._project(x, training)  # one matmul for the whole sequence

            def step(x_t: Tensor, s: list[Tensor]) -> tuple[Tensor, Any]:
                return cell._recur(x_t, s, training)

        else:
            xs = x
            takes_training = isinstance(cell, Layer) and cell._call_flags()[0]
            kw = {"training": training} if takes_training else {}

            def step(x_t: Tensor, s: list[Tensor]) -> tuple[Tensor, Any]:
                return cell.call(x_t, s, **kw)  # type: ignore[no-any-return]

        steps = (
            range(x.shape[1] - 1, -1, -1) if self.go_backwards else range(x.shape[1])
        )
        outputs: list[Tensor] = []
        prev: Tensor | None = None
        for t in steps:
            out, new = step(xs[:, t], states)
            new = list(new) if isinstance(new, (list, tuple)) else [new]
            if mask is not None:
                m = mask[:, t]
                if self.zero_output_for_mask or prev is None:
                    fill = torch.zeros_like(out)
                else:
                    fill = prev
                out = torch.where(_keep(m, out), out, fill)
                new = [torch.where(_keep(m, a), a, b) for a, b in zip(new, states)]
            states, prev = new, out
            if self.return_sequences:
                outputs.append(out)
        seq = torch.stack(outputs, dim=1) if self.return_sequences else None
        if prev is None:
            raise ValueError(
                f"{self._where()}: expected at least one time step, got 0."
            )
        return seq, prev, states

    # ------------------------------------------------------------------ shapes
    def compute_output_shape(self, input_shape: Shape) -> Any:
        """`(batch, units)` or `(batch, time, units)`; plus the states' shapes."""
        batch = input_shape[0]
        states = [(batch, *s) for s in self._state_shapes()]
        size = getattr(self.cell, "output_size", None)
        out: tuple[int | None, ...] = (
            states[0][1:]
            if size is None
            else (tuple(size) if isinstance(size, (list, tuple)) else (size,))
        )
        if self.return_sequences:
            output: Shape = (batch, input_shape[1], *out)
        else:
            output = (batch, *out)
        return [output, *states] if self.return_state else output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The input mask for sequences, None otherwise; None for each state."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * len(self._state_shapes())
        return out

    def _rnn_config(self) -> dict[str, Any]:
        return attrs_config(self, _RNN_CONFIG)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, the cell as `{"class_name", "config"}`."""
        return {
            **super().get_config(),
            "cell": serialize_layer(self.cell),
            **self._rnn_config(),
        }
