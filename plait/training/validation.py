"""Checks of `fit` / `evaluate` arguments and data, run before any weight changes.

The step plan (steps.py) is built from the first batch a model ever sees; these
checks hold every later call to the same standard, before its loop starts:
the loop arguments, the number of samples, the targets' shapes against the
outputs and their losses, and integer class ids against the output width.
Array data is checked whole (one device read for the class ids); a DataLoader
or generator is checked on the first batch of the call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from plait.losses import functions as loss_functions
from plait.metrics import accuracies as acc
from plait.training import compile_utils as cu
from plait.training import data as data_utils

__all__ = [
    "check_batch",
    "check_loop_args",
    "check_source",
    "check_targets",
    "check_validation_freq",
]

# Functions that index the class axis with the targets: their ids must be in range.
_SPARSE = (
    loss_functions.sparse_categorical_crossentropy,
    acc.sparse_categorical_accuracy,
    acc.sparse_top_k_categorical_accuracy,
)


def check_loop_args(what: str, **args: Any) -> None:
    """Each of `args` (batch sizes, step counts) is None or a positive int.

    Raises:
        ValueError: naming the first argument that is not.

    Example:
        >>> check_loop_args("fit", batch_size=0)
        Traceback (most recent call last):
        ...
        ValueError: fit(batch_size=...): expected a positive int or None, got 0.
    """
    for name, value in args.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(
                f"{what}({name}=...): expected a positive int or None, got {value!r}."
            )


def check_validation_freq(freq: Any) -> None:
    """`validation_freq` is a positive int or a collection of positive epochs.

    Example:
        >>> check_validation_freq(0)
        Traceback (most recent call last):
        ...
        ValueError: fit(validation_freq=...): expected a positive int (validate every N epochs) or a list of epoch numbers from 1, got 0.
    """
    items = [freq] if isinstance(freq, int) else freq
    ok = isinstance(items, (list, tuple, set, frozenset, range)) and all(
        isinstance(e, int) and not isinstance(e, bool) and e >= 1 for e in items
    )
    if not ok or isinstance(freq, bool):
        raise ValueError(
            "fit(validation_freq=...): expected a positive int (validate every N "
            f"epochs) or a list of epoch numbers from 1, got {freq!r}."
        )


def check_targets(
    what: str,
    names: list[str],
    losses: Sequence[Any],
    ys: Sequence[torch.Tensor | None],
    pred_shapes: Sequence[Any],
) -> None:
    """Every output with a loss has targets whose shape fits the loss and output.

    Raises:
        ValueError: naming the call, the output, and the expected and given shapes.

    Example:
        >>> from plait.losses import losses
        >>> check_targets("fit", ["out"], [losses.get("mse")], [torch.zeros(4, 1)],
        ...               [(None, 2)])
        Traceback (most recent call last):
        ...
        ValueError: fit: Output 'out' (loss 'mean_squared_error'): expected targets of shape (None, 2), got (4, 1).
    """
    for name, loss, y, pred in zip(names, losses, ys, pred_shapes):
        if loss is None:
            continue
        if y is None:
            raise ValueError(
                f"{what}: output {name!r} has a loss but no targets were given "
                f"for it; the outputs are {names}."
            )
        if pred is None:
            continue
        try:
            cu.check_target_shape(name, loss, tuple(y.shape), pred)
        except ValueError as err:
            raise ValueError(f"{what}: {err}") from None


def _config(item: Any) -> dict[str, Any]:
    """A loss's or metric's settings (`axis`, `ignore_class`, ...)."""
    return {**getattr(item, "_fn_kwargs", {}), **getattr(item, "__dict__", {})}


def _reads_class_ids(item: Any) -> bool:
    """Whether a loss or metric indexes the last axis with the targets."""
    fn = getattr(item, "fn", None) or getattr(item, "_fn", None)
    config = _config(item)
    return (
        fn in _SPARSE
        and config.get("axis", -1) == -1
        and not config.get("from_sorted_ids")  # then the last axis holds k ids
    )


def _ignored_class(items: list[Any]) -> Any:
    """The `ignore_class` of the first loss or metric that has one, else None."""
    for item in items:
        ignore = _config(item).get("ignore_class")
        if ignore is not None:
            return ignore
    return None


def _check_class_ids(
    what: str, name: str, y: torch.Tensor, classes: int, ignore: Any
) -> None:
    bad = (y < 0) | (y >= classes)
    if ignore is not None:
        bad &= y != ignore
    if not bool(bad.any()):  # the one device read of the call
        return
    first = tuple(int(i) for i in bad.nonzero()[0].tolist())
    value = y[first].item()
    allowed = f"0 to {classes - 1}" + ("" if ignore is None else f" or {ignore}")
    raise ValueError(
        f"{what}: output {name!r} has {classes} classes, so its integer labels must "
        f"be {allowed}; got {value!r} at index {first[0] if len(first) == 1 else first}"
        f" ({int(bad.sum())} labels out of range)."
    )


def _output_specs(model: Any) -> tuple[list[str], list[Any], list[Any]] | None:
    """`(names, losses, output shapes)` of a compiled model, None if not known yet."""
    names = model._known_output_names()
    if names is None:
        return None
    plan = model._plan
    if plan is not None:
        losses = [None if o is None else o.compiled_loss for o in plan.out_losses]
    else:
        losses = model._expand(names)["losses"]
    shapes: list[Any] | None = model._output_shapes()
    return names, losses, [None] * len(names) if shapes is None else shapes


def check_batch(model: Any, batch: data_utils.Batch, what: str) -> None:
    """Targets of `batch` against the compiled model: shapes and class ids."""
    specs = _output_specs(model)
    if specs is None:
        return  # the first batch of a subclassed model: the plan checks it
    names, losses, shapes = specs
    _, ys, _ = batch
    check_targets(what, names, losses, ys, shapes)
    readers: list[list[Any]] = [[loss] for loss in losses]
    if model._plan is not None:
        for slot in model._plan.metrics.slots:
            readers[slot.index].append(slot.metric)
    for name, y, shape, items in zip(names, ys, shapes, readers):
        classes = shape[-1] if shape else None
        if y is None or classes is None or y.dtype in (torch.bool, torch.complex64):
            continue
        if any(_reads_class_ids(item) for item in items):
            _check_class_ids(what, name, y, classes, _ignored_class(items))


def check_source(model: Any, source: Any, what: str) -> None:
    """Check a data source of `fit` / `evaluate` before its loop runs.

    Array data: at least one sample, and every target (`check_batch`), now.
    A DataLoader or generator: its first batch of this call, when it arrives.

    Raises:
        ValueError: naming `what`, before any weight changes.
    """
    if isinstance(source, data_utils.ArrayBatches):
        if source.n == 0:
            raise ValueError(
                f"{what}: expected at least one sample, got arrays of 0 samples."
            )
        check_batch(model, (source.xs, source.ys, source.sws), what)
        return
    standardize: Callable[..., data_utils.Batch] = source.standardize

    def first_checked(element: Any) -> data_utils.Batch:
        batch = standardize(element)
        source.standardize = standardize  # later batches go straight through
        check_batch(model, batch, what)
        return batch

    source.standardize = first_checked
