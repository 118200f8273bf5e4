"""MultiHeadAttention (Vaswani et al. 2017), on `F.scaled_dot_product_attention`."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from plait.graph.inference import TensorSpec
from plait.layers.attention import _additive_mask, _big, _causal, _shape_of
from plait.layers.base import Layer
from plait.layers.layer_args import (
    add_bias,
    add_fn_weight,
    attrs_config,
    set_weight_fns,
    weight_fns_config,
)
from plait.types import InitializerLike, Shape

__all__ = ["MultiHeadAttention"]


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al. 2017, "Attention Is All You Need").

    Each head projects the query, key and value, attends with scaled dot
    products (`softmax(q @ k^T / sqrt(key_dim)) @ v`, through
    `F.scaled_dot_product_attention`), and a last projection combines the heads.
    With `query == value` it is self-attention.

    Masks: `attention_mask` (True = may attend), the query's and value's own
    masks (from `Embedding(mask_zero=True)`, ...), and `use_causal_mask` are
    combined. Keras compat: masked scores get a bias of -1e9, so a fully masked
    query row attends uniformly instead of producing NaN.

    Args:
        num_heads: Number of attention heads.
        key_dim: Size of each head's query and key projections.
        value_dim: Size of each head's value projection; `key_dim` when None.
        dropout: Drop rate on the attention weights, in training.
        use_bias: Whether the projections have biases.
        output_shape: Last dim(s) of the output (an int or a tuple); the query's
            last dim when None.
        attention_axes: Axes of the inputs attended over (the time axes by
            default: all but batch and features); others act as batch axes.
        kernel_initializer: Default `"glorot_uniform"`.
        bias_initializer: Default `"zeros"`.
        kernel_regularizer: Name, instance or function of each kernel added to
            the losses.
        bias_regularizer: Likewise for each bias.
        activity_regularizer: Function of the output added to the losses.
        kernel_constraint: Applied to each kernel after each optimizer step.
        bias_constraint: Applied to each bias after each optimizer step.
        seed: Accepted for Keras compatibility (torch's generator is global).
        flash_attention: Accepted for Keras compatibility; torch picks the
            fastest kernel of `F.scaled_dot_product_attention` itself.

    Call arguments:
        query: `(batch, Tq, dim)`.
        value: `(batch, Tv, dim)`.
        key: `(batch, Tv, dim)`; the value when None.
        query_mask: `(batch, Tq)` bools; masked queries attend to nothing.
        value_mask: `(batch, Tv)` bools; masked values get no weight.
        key_mask: `(batch, Tv)` bools, like `value_mask`.
        attention_mask: `(batch, Tq, Tv)` bools; True where query `i` may attend
            to key `j` (broadcast over the heads).
        return_attention_scores: Also return the weights `(batch, heads, Tq, Tv)`.
        training: Apply dropout (None follows `model.train()`).
        use_causal_mask: Query `i` attends only to keys `j <= i` (decoders).
        mask: The query's mask as plait passes it along the graph (plait only).

    Input shape:  query `(batch, Tq, dim)`, value and key `(batch, Tv, dim)`.
    Output shape: `(batch, Tq, output_shape or dim)`.
    Weights:      Keras layout, in this order: `query_kernel (dim, heads,
                  key_dim)`, `query_bias (heads, key_dim)`, `key_kernel`,
                  `key_bias` (the same shapes), `value_kernel (dim, heads,
                  value_dim)`, `value_bias (heads, value_dim)`,
                  `attention_output_kernel (heads, value_dim, out)`,
                  `attention_output_bias (out,)`.

    Example:
        >>> import plait
        >>> x = plait.Input(shape=(10, 16))
        >>> MultiHeadAttention(num_heads=2, key_dim=8)(x, x).shape
        (None, 10, 16)
    """

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        dropout: float = 0.0,
        use_bias: bool = True,
        output_shape: int | tuple[int, ...] | list[int] | None = None,
        attention_axes: int | tuple[int, ...] | list[int] | None = None,
        kernel_initializer: InitializerLike = "glorot_uniform",
        bias_initializer: InitializerLike = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        seed: int | None = None,
        *,
        flash_attention: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        for name, value in (("num_heads", num_heads), ("key_dim", key_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(
                    f"{self._where()}: expected `{name}` to be a positive int, got "
                    f"{name}={value!r}."
                )
        if value_dim is not None and (
            isinstance(value_dim, bool)
            or not isinstance(value_dim, int)
            or value_dim <= 0
        ):
            raise ValueError(
                f"{self._where()}: expected `value_dim` to be a positive int or None, "
                f"got value_dim={value_dim!r}."
            )
        if not 0 <= dropout < 1:
            raise ValueError(
                f"{self._where()}: expected `dropout` in [0, 1), got "
                f"dropout={dropout!r}."
            )
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim or key_dim
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        if isinstance(output_shape, int):
            output_shape = (output_shape,)
        self._output_dims: tuple[int, ...] | None = (
            tuple(int(d) for d in output_shape) if output_shape else None
        )
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        self.attention_axes = list(attention_axes) if attention_axes else None
        set_weight_fns(self, ("kernel", "bias"), locals())
        self.seed = seed
        self.flash_attention = flash_attention
        self.supports_masking = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Keras compat: build from the query's, value's and key's shapes (the base
        # class builds from the first argument's only).
        if not self.built:
            query = args[0] if args else kwargs.get("query")
            value = args[1] if len(args) > 1 else kwargs.get("value")
            key = args[2] if len(args) > 2 else kwargs.get("key")
            if query is None or value is None:
                raise TypeError(
                    f"{self._where()}: expected to be called as (query, value, "
                    "key=None, ...), got no "
                    f"{'query' if query is None else 'value'}."
                )
            self.build(_shape_of(query), _shape_of(value), _shape_of(key))  # type: ignore[arg-type]
            if self._initial_weights is not None:
                self.set_weights(self._initial_weights)
                self._initial_weights = None
        return super().__call__(*args, **kwargs)

    def build(
        self,
        query_shape: Shape,
        value_shape: Shape | None = None,
        key_shape: Shape | None = None,
    ) -> None:
        """Create the four projections' kernels and biases (Keras layout)."""
        value_shape = query_shape if value_shape is None else tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]) or len(key_shape) != len(
            query_shape
        ):
            raise ValueError(
                f"{self._where()}: expected the value and key to agree on every "
                f"axis but the last, and the query to have their rank, got query "
                f"{tuple(query_shape)}, value {tuple(value_shape)}, key "
                f"{tuple(key_shape)}."
            )
        raw = [query_shape[-1], key_shape[-1], value_shape[-1]]
        dims = [d for d in raw if d is not None]
        if len(dims) != 3:
            raise ValueError(
                f"{self._where()}: expected the last axes of query, key and value to "
                f"be known, got {raw}."
            )
        rank = len(query_shape) + 1  # of the projections (batch, ..., heads, dim)
        axes = self.attention_axes or list(range(1, rank - 2))
        attn = sorted(a if a >= 0 else rank - 1 + a for a in axes)
        if not attn or any(not 1 <= a < rank - 2 for a in attn):
            raise ValueError(
                f"{self._where()}: expected `attention_axes` among the non-batch, "
                f"non-feature axes 1..{rank - 3} of the inputs, got "
                f"attention_axes={self.attention_axes}."
            )
        self._attn_axes = attn
        self._batch_axes = [a for a in range(rank - 1) if a not in attn]
        # (batch, ..., heads, dim) -> (batch axes incl. heads, attention axes, dim)
        self._perm = [*self._batch_axes, *attn, rank - 1]
        self._inverse_perm = sorted(range(rank), key=self._perm.__getitem__)
        heads = self.num_heads
        out_dims: tuple[int, ...] = self._output_dims or (dims[0],)
        self._out_dims = out_dims
        for name, dim, size in (
            ("query", dims[0], self.key_dim),
            ("key", dims[1], self.key_dim),
            ("value", dims[2], self.value_dim),
        ):
            self._add_dense(name, (dim, heads, size), (heads, size))
        self._add_dense(
            "attention_output", (heads, self.value_dim, *out_dims), out_dims
        )
        self.built = True

    def _add_dense(
        self, name: str, kernel: tuple[int, ...], bias: tuple[int, ...]
    ) -> None:
        setattr(self, f"{name}_kernel", add_fn_weight(self, f"{name}_kernel", kernel))
        setattr(self, f"{name}_bias", add_bias(self, bias, f"{name}_bias"))

    def _project(
        self, x: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor | None
    ) -> torch.Tensor:
        """`(batch, ..., dim)` -> `(batch, ..., heads, size)` in one matmul."""
        flat = kernel.reshape(kernel.shape[0], -1)  # (dim, heads * size)
        y = (
            x @ flat
            if bias is None
            else torch.addmm(
                bias.reshape(-1), x.reshape(-1, x.shape[-1]), flat
            ).reshape(*x.shape[:-1], -1)
        )
        return y.unflatten(-1, kernel.shape[1:])

    def _to_heads(self, x: torch.Tensor) -> torch.Tensor:
        """`(batch, ..., heads, d)` -> `(*batch axes, heads, T, d)`, T flattened."""
        nb = len(self._batch_axes)
        return x.permute(self._perm).flatten(nb, nb + len(self._attn_axes) - 1)

    def _keep_mask(
        self,
        query: torch.Tensor,
        value: torch.Tensor,
        masks: tuple[torch.Tensor | None, ...],
        attention_mask: torch.Tensor | None,
        use_causal_mask: bool,
    ) -> torch.Tensor | None:
        """Keras's combined bool mask, `(batch, Tq, Tv)`-like (None: no mask)."""
        q_mask, v_mask, k_mask = masks
        keep = None
        parts = [
            q_mask.bool().unsqueeze(-1) if q_mask is not None else None,  # (b, Tq, 1)
            v_mask.bool().unsqueeze(-2) if v_mask is not None else None,  # (b, 1, Tv)
            k_mask.bool().unsqueeze(-2) if k_mask is not None else None,
            attention_mask.bool() if attention_mask is not None else None,
        ]
        if use_causal_mask:
            parts.append(_causal(query.shape[1], value.shape[1], query.device)[None])
        for part in parts:
            if part is not None:
                keep = part if keep is None else keep & part
        return keep

    def _flat_keep(
        self, keep: torch.Tensor, tq: list[int], tk: list[int]
    ) -> torch.Tensor:
        """Keras-shaped mask -> broadcastable to `(*batch axes, Tq_flat, Tk_flat)`."""
        n = len(self._attn_axes)
        rank = len(self._batch_axes) + 2 * n
        while keep.dim() < rank:  # Keras compat: new axes go before the Tq axes
            keep = keep.unsqueeze(-2 * n - 1)
        if n == 1:
            return keep
        lead = keep.shape[: rank - 2 * n]
        return keep.expand(*lead, *tq, *tk).reshape(*lead, math.prod(tq), -1)

    def call(
        self,
        query: torch.Tensor,
        value: torch.Tensor,
        key: torch.Tensor | None = None,
        query_mask: torch.Tensor | None = None,
        value_mask: torch.Tensor | None = None,
        key_mask: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        return_attention_scores: bool = False,
        training: bool | None = None,
        use_causal_mask: bool = False,
        *,
        mask: torch.Tensor | None = None,
    ) -> Any:
        """Project, attend per head, combine the heads."""
        if use_causal_mask and len(self._attn_axes) != 1:
            raise ValueError(
                f"{self._where()}: expected one attention axis with "
                f"use_causal_mask=True, got {len(self._attn_axes)}."
            )
        # Keras compat: each input's own mask applies (on eager tensors it travels
        # as `_keras_mask`); in a graph plait passes the query's as `mask`, which
        # is also the value's and key's in self-attention.
        if query_mask is None:
            query_mask = (
                mask if mask is not None else getattr(query, "_keras_mask", None)
            )
        if value_mask is None:
            value_mask = (
                query_mask if value is query else getattr(value, "_keras_mask", None)
            )
        if key is None:
            key = value
        elif key_mask is None:
            key_mask = query_mask if key is query else getattr(key, "_keras_mask", None)
        dtype = self.query_kernel.dtype
        query, value, key = (t.to(dtype) for t in (query, value, key))
        q = self._project(query, self.query_kernel, self.query_bias)
        k = self._project(key, self.key_kernel, self.key_bias)
        v = self._project(value, self.value_kernel, self.value_bias)
        tq = [q.shape[a] for a in self._attn_axes]
        tk = [k.shape[a] for a in self._attn_axes]
        masks = (query_mask, value_mask, key_mask)
        causal_only = (
            use_causal_mask and attention_mask is None and all(m is None for m in masks)
        )
        keep = None
        if not causal_only or return_attention_scores:
            keep = self._keep_mask(query, value, masks, attention_mask, use_causal_mask)
        if keep is not None:
            keep = self._flat_keep(keep, tq, tk)
        qh, kh, vh = self._to_heads(q), self._to_heads(k), self._to_heads(v)
        dropout = self.dropout if training else 0.0
        scale = 1.0 / math.sqrt(self.key_dim)
        weights = None
        if return_attention_scores:
            scores = (qh * scale) @ kh.transpose(-2, -1)  # (*batch, heads, Tq, Tk)
            if keep is not None:  # Keras's Softmax layer with a mask
                scores = scores.masked_fill(~keep, -_big(scores.dtype))
            weights = torch.softmax(scores, dim=-1)
            if keep is not None:
                weights = weights.masked_fill(~keep, 0.0)
            dropped = F.dropout(weights, dropout, training=True) if dropout else weights
            out = dropped @ vh
        else:
            bias = _additive_mask(keep, qh.dtype) if keep is not None else None
            out = F.scaled_dot_product_attention(
                qh,
                kh,
                vh,
                attn_mask=bias,
                dropout_p=dropout,
                is_causal=causal_only,
                scale=scale,
            )
        nb = len(self._batch_axes)
        out = out.unflatten(nb, tq).permute(self._inverse_perm)  # (b, ..., heads, vd)
        kernel = self.attention_output_kernel
        combined = out.flatten(-2) @ kernel.reshape(-1, math.prod(self._out_dims))
        if self.attention_output_bias is not None:
            combined = combined + self.attention_output_bias.reshape(-1)
        combined = combined.unflatten(-1, self._out_dims)
        if weights is None:
            return combined
        return combined, weights.unflatten(-1, tk).unflatten(nb, tq)

    def compute_output_shape(
        self,
        query_shape: Shape,
        value_shape: Shape | None = None,
        key_shape: Shape | None = None,
    ) -> Shape:
        """`(*query_shape[:-1], *output_shape)`; the query's last dim by default."""
        dims = self._output_dims or (query_shape[-1],)
        return (*query_shape[:-1], *dims)

    def _infer_output_specs(
        self, inputs: Any, args: Any, call_kwargs: dict[str, Any], flat_in: Any
    ) -> Any:
        query = args[0]
        value = args[1] if len(args) > 1 else call_kwargs["value"]
        key = args[2] if len(args) > 2 else call_kwargs.get("key")
        key = value if key is None else key
        dtype = self._output_dtype(flat_in)
        out = TensorSpec(self.compute_output_shape(query.shape), dtype)
        if not call_kwargs.get("return_attention_scores"):
            return out
        q_proj = (*query.shape[:-1], self.num_heads)
        k_proj = (*key.shape[:-1], self.num_heads)
        shape = (
            *(q_proj[a] for a in self._batch_axes),
            *(q_proj[a] for a in self._attn_axes),
            *(k_proj[a] for a in self._attn_axes),
        )
        return (out, TensorSpec(shape, dtype))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        names = ("num_heads", "key_dim", "value_dim", "dropout", "use_bias")
        return {
            **super().get_config(),
            **attrs_config(self, names),
            "output_shape": list(self._output_dims) if self._output_dims else None,
            "attention_axes": self.attention_axes,
            **weight_fns_config(self, ("kernel", "bias")),
            "seed": self.seed,
        }
