"""Connectionist temporal classification: `ctc_loss` and `ctc_decode` (greedy, beam)."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from plait.layers.ops import symbolic_op
from plait.ops._tensor import convert

__all__ = ["ctc_decode", "ctc_loss"]


def _logits(output: Any) -> torch.Tensor:
    t = convert(output)
    return t if t.dtype in (torch.float32, torch.float64) else t.to(torch.float32)


@symbolic_op("ctc_loss")
def ctc_loss(
    target: Any,
    output: Any,
    target_length: Any,
    output_length: Any,
    mask_index: int = 0,
) -> torch.Tensor:
    """CTC loss per sample: `-log p(target | output)`.

    `target` is `(batch, max_label_length)` class ids, `output` the
    `(batch, max_length, num_classes)` logits (not softmaxed); `mask_index`
    is the blank class.
    """
    log_probs = torch.log_softmax(_logits(output), dim=-1).transpose(0, 1)
    return F.ctc_loss(
        log_probs,
        convert(target).to(torch.long),
        convert(output_length).to(torch.long),
        convert(target_length).to(torch.long),
        blank=int(mask_index),
        reduction="none",
    )


_STRATEGIES = ("greedy", "beam_search")


@symbolic_op("ctc_decode")
def ctc_decode(
    inputs: Any,
    sequence_lengths: Any,
    strategy: str = "greedy",
    beam_width: int = 100,
    top_paths: int = 1,
    merge_repeated: bool = True,
    mask_index: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode `(batch, max_length, num_classes)` logits into label sequences.

    Returns `(decoded, scores)`: `decoded` is `(top_paths, batch, max_length)`
    int32 ids padded with -1; `scores` is `(batch, top_paths)`. Greedy decoding
    takes the best class per step, merges repeats (unless `merge_repeated` is
    False) and drops the blank `mask_index`; its score is minus the sum of the
    chosen logits. Beam search (CTC prefix search over `beam_width` prefixes)
    returns the `top_paths` likeliest sequences and their log-probabilities.
    """
    if strategy not in _STRATEGIES:
        raise ValueError(
            f"ops.ctc_decode: expected strategy in {_STRATEGIES}, got strategy={strategy!r}."
        )
    logits = _logits(inputs)
    lengths = convert(sequence_lengths).reshape(-1).tolist()
    batch, max_length, _ = logits.shape
    if strategy == "greedy":
        found = [
            _greedy(logits[b, : int(n)], merge_repeated, mask_index)
            for b, n in enumerate(lengths)
        ]
        results = [[path] for path, _ in found]
        scores = [[score] for _, score in found]
        top_paths = 1
    else:
        log_probs = torch.log_softmax(logits, dim=-1)
        beams = [
            _beam_search(log_probs[b, : int(n)], beam_width, top_paths, mask_index)
            for b, n in enumerate(lengths)
        ]
        results = [[path for path, _ in best] for best in beams]
        scores = [[score for _, score in best] for best in beams]
    decoded = torch.full((top_paths, batch, max_length), -1, dtype=torch.int32)
    for b, paths in enumerate(results):
        for k, path in enumerate(paths):
            decoded[k, b, : len(path)] = torch.tensor(path, dtype=torch.int32)
    return decoded.to(logits.device), torch.tensor(
        scores, dtype=logits.dtype, device=logits.device
    )


def _greedy(
    logits: torch.Tensor, merge_repeated: bool, blank: int
) -> tuple[list[int], float]:
    best, ids = logits.max(dim=-1)
    path: list[int] = []
    previous = None
    for c in ids.tolist():
        if c != blank and not (merge_repeated and c == previous):
            path.append(c)
        previous = c
    return path, -float(best.sum())


def _add(a: float, b: float) -> float:
    """`log(exp(a) + exp(b))`."""
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    high = max(a, b)
    return high + math.log1p(math.exp(-abs(a - b)))


def _beam_search(
    log_probs: torch.Tensor, beam_width: int, top_paths: int, blank: int
) -> list[tuple[list[int], float]]:
    """CTC prefix beam search; each prefix keeps (ends in blank, ends in a label)."""
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, -math.inf)}
    for step in log_probs.tolist():
        grown: dict[tuple[int, ...], list[float]] = {}
        for prefix, (p_blank, p_label) in beams.items():
            total = _add(p_blank, p_label)
            here = grown.setdefault(prefix, [-math.inf, -math.inf])
            here[0] = _add(here[0], total + step[blank])
            if prefix:  # the last label repeated without a blank: same prefix
                here[1] = _add(here[1], p_label + step[prefix[-1]])
            for c, p in enumerate(step):
                if c == blank:
                    continue
                longer = grown.setdefault((*prefix, c), [-math.inf, -math.inf])
                # A repeat of the last label needs a blank between.
                source = p_blank if prefix and c == prefix[-1] else total
                longer[1] = _add(longer[1], source + p)
        ranked = sorted(grown.items(), key=lambda kv: -_add(*kv[1]))
        beams = {prefix: (pb, pl) for prefix, (pb, pl) in ranked[:beam_width]}
    best = sorted(beams.items(), key=lambda kv: -_add(*kv[1]))[:top_paths]
    return [(list(prefix), _add(*scores)) for prefix, scores in best]
