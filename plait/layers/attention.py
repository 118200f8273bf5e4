"""Attention layers: Attention (Luong), AdditiveAttention (Bahdanau).

MultiHeadAttention, in `multi_head_attention`, shares the mask helpers here.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from plait.graph.inference import TensorSpec
from plait.layers.base import Layer
from plait.layers.layer_args import attrs_config
from plait.types import Shape

__all__ = ["AdditiveAttention", "Attention"]

# Keras's bias for masked scores (65504 is float16's largest value).
_BIG = 1e9
_BIG_FP16 = 65504.0


def _big(dtype: torch.dtype) -> float:
    return _BIG_FP16 if dtype == torch.float16 else _BIG


def _additive_mask(keep: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Bool mask -> additive float mask: 0 where kept, -1e9 where masked.

    Keras compat: an additive bias (not -inf) gives a fully masked row a softmax
    over its unmasked scores instead of NaN, as Keras's torch backend does.
    """
    bias = torch.zeros(keep.shape, dtype=dtype, device=keep.device)
    return bias.masked_fill(~keep, -_big(dtype))


def _causal(q_len: int, k_len: int, device: torch.device) -> torch.Tensor:
    """`(q_len, k_len)` bool: query i sees keys j <= i."""
    return torch.ones(q_len, k_len, dtype=torch.bool, device=device).tril()


def _shape_of(x: Any) -> Shape | None:
    if x is None:
        return None
    return tuple(x.shape)


class Attention(Layer):
    """Dot-product (Luong-style) attention over `[query, value]` or `[query, value, key]`.

    `scores = query @ key^T` (times a learned scalar `scale` if `use_scale`), a
    softmax over the keys, then `output = weights @ value`. The key defaults
    to the value. Runs `F.scaled_dot_product_attention` unless the scores are
    returned.

    Args:
        use_scale: Learn a scalar that multiplies the scores.
        score_mode: `"dot"` (`query @ key^T`) or `"concat"`
            (`concat_score_weight * sum(tanh(query + key))`).
        dropout: Drop rate on the attention weights, in training.
        seed: Accepted for Keras compatibility (torch's generator is global).

    Call arguments:
        inputs: `[query, value]` or `[query, value, key]`.
        mask: `[query_mask, value_mask]` (bools of shape `(batch, Tq)` and
            `(batch, Tv)`); masked values get no weight, masked queries give 0.
        training: Apply dropout (None follows `model.train()`).
        return_attention_scores: Also return the weights `(batch, Tq, Tv)`.
        use_causal_mask: Query `i` attends only to values `j <= i`.

    Input shape:  query `(batch, Tq, dim)`, value and key `(batch, Tv, dim)`.
    Output shape: `(batch, Tq, dim_value)`.
    Weights:      `scale ()` if `use_scale`; `concat_score_weight ()` in concat mode.

    Example:
        >>> import plait
        >>> q, v = plait.Input(shape=(4, 8)), plait.Input(shape=(6, 8))
        >>> Attention()([q, v]).shape
        (None, 4, 8)
    """

    def __init__(
        self,
        use_scale: bool = False,
        score_mode: str = "dot",
        dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                f"{self._where()}: expected `score_mode` in ('dot', 'concat'), got "
                f"score_mode={score_mode!r}."
            )
        if not 0 <= dropout < 1:
            raise ValueError(
                f"{self._where()}: expected `dropout` in [0, 1), got "
                f"dropout={dropout!r}."
            )
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = float(dropout)
        self.seed = seed
        self.supports_masking = True

    def _check_inputs(self, inputs: Any, what: str = "inputs") -> None:
        if not isinstance(inputs, (list, tuple)) or not 2 <= len(inputs) <= 3:
            got = (
                f"a list of {len(inputs)}"
                if isinstance(inputs, (list, tuple))
                else type(inputs).__name__
            )
            raise ValueError(
                f"{self._where()}: expected {what} as a list [query, value] or "
                f"[query, value, key], got {got}."
            )

    def build(self, input_shape: list[Shape]) -> None:
        """Create `scale` and `concat_score_weight` if used."""
        self._check_inputs(input_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight("scale", (), "ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(
                "concat_score_weight", (), "ones"
            )
        self.built = True

    def _scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        """`(batch, Tq, Tv)` scores of the query against the key."""
        if self.score_mode == "dot":
            scores = query @ key.transpose(-2, -1)
            return scores * self.scale if self.scale is not None else scores
        pairs = query.unsqueeze(-2) + key.unsqueeze(-3)  # (batch, Tq, Tv, dim)
        if self.scale is not None:
            pairs = self.scale * pairs
        weight = self.concat_score_weight
        return torch.tanh(pairs).sum(-1) * (weight if weight is not None else 1.0)

    def call(
        self,
        inputs: list[torch.Tensor],
        mask: list[torch.Tensor | None] | None = None,
        training: bool | None = None,
        return_attention_scores: bool = False,
        use_causal_mask: bool = False,
    ) -> Any:
        """Attend; return the output (and the weights if asked)."""
        self._check_inputs(inputs)
        if mask is not None:
            self._check_inputs(mask, "mask")
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        q_mask = mask[0] if mask is not None else None
        v_mask = mask[1] if mask is not None else None
        keep = None  # bool, broadcastable to (batch, Tq, Tv)
        if v_mask is not None:
            keep = v_mask.bool().unsqueeze(-2)  # (batch, 1, Tv)
        if use_causal_mask:
            causal = _causal(query.shape[-2], key.shape[-2], query.device)
            keep = causal if keep is None else keep & causal
        dropout = self.dropout if training else 0.0
        if self.score_mode == "dot" and not return_attention_scores:
            q = query * self.scale if self.scale is not None else query
            bias = _additive_mask(keep, q.dtype) if keep is not None else None
            out = F.scaled_dot_product_attention(
                q, key, value, attn_mask=bias, dropout_p=dropout, scale=1.0
            )
            weights = None
        else:
            scores = self._scores(query, key)
            if keep is not None:  # Keras compat: subtract, do not replace
                scores = scores - (~keep).to(scores.dtype) * _big(scores.dtype)
            weights = torch.softmax(scores, dim=-1)
            dropped = F.dropout(weights, dropout, training=True) if dropout else weights
            out = dropped @ value
        if q_mask is not None:
            out = out.masked_fill(~q_mask.bool().unsqueeze(-1), 0.0)
        return (out, weights) if return_attention_scores else out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The query's mask."""
        if mask is None:
            return None
        return mask[0]

    def compute_output_shape(self, input_shape: list[Shape]) -> Shape:
        """`(*query_shape[:-1], value_shape[-1])`."""
        self._check_inputs(input_shape)
        return (*input_shape[0][:-1], input_shape[1][-1])

    def _infer_output_specs(
        self, inputs: Any, args: Any, call_kwargs: dict[str, Any], flat_in: Any
    ) -> Any:
        spec = super()._infer_output_specs(inputs, args, call_kwargs, flat_in)
        if not call_kwargs.get("return_attention_scores"):
            return spec
        key = inputs[2] if len(inputs) > 2 else inputs[1]
        scores = (*inputs[0].shape[:-1], key.shape[-2])  # (batch, Tq, Tv)
        return (spec, TensorSpec(scores, spec.dtype))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        names = ("use_scale", "score_mode", "dropout", "seed")
        return {**super().get_config(), **attrs_config(self, names)}


class AdditiveAttention(Attention):
    """Additive (Bahdanau-style) attention over `[query, value]` or `[query, value, key]`.

    `scores = sum(scale * tanh(query_i + key_j))` over the features (`scale` a
    learned vector if `use_scale`, else 1), a softmax over the keys, then
    `output = weights @ value`.

    Args:
        use_scale: Learn a per-feature scale `(dim,)`. Default True.
        dropout: Drop rate on the attention weights, in training.
        seed: Accepted for Keras compatibility (torch's generator is global).

    Call arguments:
        inputs: `[query, value]` or `[query, value, key]`.
        mask: `[query_mask, value_mask]`, as for `Attention`.
        training: Apply dropout (None follows `model.train()`).
        return_attention_scores: Also return the weights `(batch, Tq, Tv)`.
        use_causal_mask: Query `i` attends only to values `j <= i`.

    Input shape:  query `(batch, Tq, dim)`, value and key `(batch, Tv, dim)`.
    Output shape: `(batch, Tq, dim)`.
    Weights:      `scale (dim,)` if `use_scale`.

    Example:
        >>> import plait
        >>> q, v = plait.Input(shape=(4, 8)), plait.Input(shape=(6, 8))
        >>> AdditiveAttention()([q, v]).shape
        (None, 4, 8)
    """

    def __init__(
        self,
        use_scale: bool = True,
        dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(use_scale=use_scale, dropout=dropout, seed=seed, **kwargs)
        self.score_mode = "additive"

    def build(self, input_shape: list[Shape]) -> None:
        """Create `scale (dim,)` if used."""
        self._check_inputs(input_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            dim = input_shape[0][-1]
            if dim is None:
                raise ValueError(
                    f"{self._where()}: expected the query's last axis to be known, "
                    f"got shape {tuple(input_shape[0])}."
                )
            self.scale = self.add_weight("scale", (dim,), "glorot_uniform")
        self.built = True

    def _scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        pairs = torch.tanh(query.unsqueeze(-2) + key.unsqueeze(-3))  # (b, Tq, Tv, d)
        if self.scale is not None:
            pairs = pairs * self.scale
        return pairs.sum(-1)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        del config["score_mode"]
        return config
