"""The generic recurrent layer `RNN` (a cell over the time axis) and the nested
layer (de)serialization the recurrent layers and wrappers share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from plait.layers.base import Layer
from plait.layers.call_api import _map_shapes
from plait.layers.input_spec import InputSpec, check_input_spec
from plait.layers.layer_args import attrs_config
from plait.layers.rnn_cell_base import BaseRNNCell
from plait.layers.rnn_kernels import _right_padded_lengths, fused_sequence
from plait.types import Shape
from plait.utils import tree
from plait.utils.shapes import format_shape, is_shape

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


def _shape_list(shapes: Any) -> list[Shape]:
    """The shapes of a structure of shapes, flat, in `tree.flatten`'s order."""
    found: list[Shape] = []
    _map_shapes(found.append, shapes)
    return found


def _sizes(size: Any) -> list[tuple[int, ...]]:
    """A cell's `state_size`/`output_size` as a list of per-sample shapes."""
    sizes = list(size) if isinstance(size, (list, tuple)) else [size]
    return [tuple(s) if isinstance(s, (list, tuple)) else (int(s),) for s in sizes]


def _step(xs: Any, t: int) -> Any:
    """Step `t` of each sequence of the structure `xs`."""
    if isinstance(xs, Tensor):
        return xs[:, t]
    return tree.map_structure(lambda a: a[:, t], xs)


def _where_kept(keep: Tensor, new: Any, old: Any) -> Any:
    """`new` where this step is kept, else `old`, leaf by leaf."""
    got = [
        torch.where(_keep(keep, a), a, b)
        for a, b in zip(tree.flatten(new), tree.flatten(old))
    ]
    return tree.pack_like(new, got)


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

    A cell may take several inputs per step: call the layer on a tuple, list
    or dict of sequences (each `(batch, timesteps, ...)`, the same batch and
    time axes); the cell's `build` gets the structure of step shapes and its
    `call` one step of each, in the same structure. A nested `state_size` /
    `output_size` (`[[u1], [u2, u3]]`) gives several states and outputs.
    Such a layer runs the step loop.

    Call arguments:
        sequences: `(batch, timesteps, ...)`, or a structure of them.
        initial_state: List of initial state tensors (zeros if None).
        mask: `(batch, timesteps)` bools; False steps are skipped (with
            several inputs, the first input's mask).
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
        self.input_spec = None  # `build` checks: one sequence, or a structure
        self._n_states = 0

    # ------------------------------------------------------------------ states
    def _state_shapes(self) -> list[tuple[int, ...]]:
        return _sizes(self.cell.state_size)

    def _output_shapes(self) -> list[tuple[int, ...]] | None:
        """Each output's per-sample shape when the cell has several, else None."""
        size = getattr(self.cell, "output_size", None)
        nested = isinstance(size, (list, tuple)) and any(
            isinstance(s, (list, tuple)) for s in size
        )
        return _sizes(size) if nested else None

    def build(self, input_shape: Any) -> None:
        """Build the cell on one step's shape(s); create the states if stateful.

        `input_shape` is one sequence's shape, or a structure of them when the
        cell takes several inputs per step (each `(batch, timesteps, ...)`).
        """
        shapes = _shape_list(input_shape)
        one = is_shape(input_shape)
        at_least_3 = InputSpec(min_ndim=3, layout="(batch, timesteps, ...)")
        check_input_spec(
            self._where(),
            at_least_3 if one else [at_least_3] * len(shapes),
            shapes,
            [None] * len(shapes),
        )
        step_shape = _map_shapes(lambda s: (s[0], *s[2:]), input_shape)
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell._build_for(step_shape)
        input_shape = shapes[0]
        if self.stateful:
            if input_shape[0] is None:
                raise ValueError(
                    f"{self._where()}: stateful=True needs a fixed batch size, got "
                    f"input shape {format_shape(tuple(input_shape))}; give it with "
                    "Input(batch_shape=...) or batch_input_shape=..."
                )
            self._create_states(int(input_shape[0]))
        specs = [
            InputSpec(
                min_ndim=3,
                axes={} if s[-1] is None else {-1: s[-1]},
                layout="(batch, timesteps, ...)",
            )
            for s in shapes
        ]
        self.input_spec = specs[0] if one else specs
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
        sequences: Any,
        initial_state: Any = None,
        mask: Any = None,
        training: bool | None = None,
    ) -> Any:
        """Run the cell over the sequence(s); see the class docstring."""
        if isinstance(mask, (list, tuple, dict)):
            mask = tree.flatten(mask)[0] if mask else None  # the first input's
        training = bool(training)
        cell = self.cell
        builtin = isinstance(cell, BaseRNNCell)
        weight = cell.kernel if builtin else next(iter(cell.parameters()), None)

        def cast(a: Tensor) -> Tensor:
            return (
                a if weight is None or a.dtype == weight.dtype else a.to(weight.dtype)
            )

        if isinstance(sequences, Tensor):
            x = xs = cast(sequences)
        else:  # a structure of sequences: the cell gets one step of each
            xs = tree.map_structure(cast, sequences)
            x = self._same_steps(tree.flatten(xs))
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
        if xs is x:
            seq, last, states = self._run(x, states, mask, training)
        else:
            seq, last, states = self._loop(xs, states, mask, training)
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

    def _same_steps(self, leaves: list[Any]) -> Tensor:
        """The first of several sequences, once all share batch and time axes."""
        for a in leaves:
            if not isinstance(a, Tensor) or a.dim() < 3:
                raise ValueError(
                    f"{self._where()}: expected each input to be a sequence "
                    "(batch, timesteps, ...), got "
                    f"{format_shape([tuple(getattr(b, 'shape', ())) for b in leaves])}."
                )
        heads = {tuple(a.shape[:2]) for a in leaves}
        if len(heads) > 1:
            raise ValueError(
                f"{self._where()}: expected every input sequence to have the same "
                "(batch, timesteps), got "
                f"{format_shape([tuple(a.shape) for a in leaves])}."
            )
        return leaves[0]  # type: ignore[no-any-return]

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
        self, x: Any, states: list[Tensor], mask: Tensor | None, training: bool
    ) -> tuple[Any, Any, list[Tensor]]:
        """The exact step loop, Keras's semantics for masks.

        `x` is one sequence, or a structure of them stepped together; the
        cell's output may be a structure too (each leaf stacked over time).
        """
        cell = self.cell
        if isinstance(cell, BaseRNNCell):
            xs = cell._project(x, training)  # one matmul for the whole sequence

            def step(x_t: Any, s: list[Tensor]) -> tuple[Any, Any]:
                return cell._recur(x_t, s, training)  # type: ignore[no-any-return]

        else:
            xs = x
            takes_training = isinstance(cell, Layer) and cell._call_flags()[0]
            kw = {"training": training} if takes_training else {}

            def step(x_t: Any, s: list[Tensor]) -> tuple[Any, Any]:
                return cell.call(x_t, s, **kw)  # type: ignore[no-any-return]

        length = tree.flatten(x)[0].shape[1]
        steps = range(length - 1, -1, -1) if self.go_backwards else range(length)
        outputs: list[Any] = []
        prev: Any = None
        for t in steps:
            out, new = step(_step(xs, t), states)
            new = list(new) if isinstance(new, (list, tuple)) else [new]
            if mask is not None:
                m = mask[:, t]
                if self.zero_output_for_mask or prev is None:
                    fill = tree.map_structure(torch.zeros_like, out)
                else:
                    fill = prev
                out = _where_kept(m, out, fill)
                new = _where_kept(m, new, states)
            states, prev = new, out
            if self.return_sequences:
                outputs.append(out)
        if prev is None:
            raise ValueError(
                f"{self._where()}: expected at least one time step, got 0."
            )
        seq = None
        if self.return_sequences:
            per_step = [tree.flatten(o) for o in outputs]
            stacked = [torch.stack(leaf, dim=1) for leaf in zip(*per_step)]
            seq = (
                stacked[0]
                if isinstance(prev, Tensor)
                else tree.pack_like(prev, stacked)
            )
        return seq, prev, states

    # ------------------------------------------------------------------ shapes
    def compute_output_shape(self, input_shape: Any) -> Any:
        """`(batch, units)` or `(batch, time, units)`; plus the states' shapes.

        A cell with several outputs (a nested `output_size`) gives a list of
        them, each with the batch (and time) axes in front.
        """
        input_shape = _shape_list(input_shape)[0]  # batch and time of the first
        batch = input_shape[0]
        states = [(batch, *s) for s in self._state_shapes()]
        size = getattr(self.cell, "output_size", None)
        several = self._output_shapes()
        outs = several or [
            states[0][1:]
            if size is None
            else (tuple(size) if isinstance(size, (list, tuple)) else (size,))
        ]
        lead = (batch, input_shape[1]) if self.return_sequences else (batch,)
        shapes: list[Shape] = [(*lead, *s) for s in outs]
        output: Any = shapes if several is not None else shapes[0]
        return [output, *states] if self.return_state else output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The input mask for sequences, None otherwise; None for each state."""
        if isinstance(mask, (list, tuple, dict)):
            mask = tree.flatten(mask)[0] if mask else None
        out = mask if self.return_sequences else None
        outs = self._output_shapes()
        if outs is not None:
            out = [out] * len(outs)
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
