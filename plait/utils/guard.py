"""Training whatever grad mode the caller is in, and Ctrl+C between updates.

`fit` and `train_on_batch` run under `training`: with autograd on and outside
`torch.inference_mode`, so that they work inside `torch.no_grad()` or
`torch.inference_mode()` (tensors they create are ordinary tensors), and they
leave the caller's grad mode as they found it, whatever stops them.
`evaluate` and `test_on_batch` run under `evaluating` (outside inference mode
only), so that the metric state they may create can be trained on later.

While `training` holds, a Ctrl+C (SIGINT) that arrives during an update is
held back until the update is complete: `with HELD:` marks an update (the
weights, the optimizer's state and its `iterations` count), so that an
interrupted run never has weights one step ahead of the count, or half of an
update applied. Outside an update, Ctrl+C acts at once as before.
"""

from __future__ import annotations

import functools
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import Any, ParamSpec, TypeVar

import torch

__all__ = ["HELD", "evaluating", "hold_interrupts", "training", "usable"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

# `signal.getsignal`/`signal.signal` convert handlers to enum members through a
# raised and caught ValueError (~10 µs a call, measured): per `train_on_batch`
# call that is a few percent of a small model's step. Their C functions, which
# the `signal` module wraps, take and return the same values without it.
_signals: Any = getattr(signal, "_signal", signal)
_MAIN = threading.main_thread().ident  # where Python runs signal handlers


class _Held:
    """`with HELD:` around an update; nests. See the module docstring.

    Only updates in the main thread count: Python runs signal handlers there,
    so only there can a Ctrl+C land in the middle of an update.
    """

    def __init__(self) -> None:
        self.busy = 0
        self.pending: tuple[int, FrameType | None] | None = None
        self.previous: Callable[[int, FrameType | None], Any] | None = None

    def __enter__(self) -> None:
        if threading.get_ident() == _MAIN:
            self.busy += 1

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if threading.get_ident() == _MAIN:
            self.busy -= 1
            if self.pending is not None and not self.busy:
                self.release()

    def release(self) -> None:
        """Deliver a held-back signal to the handler `hold_interrupts` replaced."""
        pending, self.pending = self.pending, None
        if pending is not None and self.previous is not None:
            self.previous(*pending)  # Python's default raises KeyboardInterrupt


HELD = _Held()


def _handler(signum: int, frame: FrameType | None) -> None:
    if HELD.busy:
        HELD.pending = (signum, frame)
    elif HELD.previous is not None:
        HELD.previous(signum, frame)


@contextmanager
def hold_interrupts() -> Iterator[None]:
    """Let `with HELD:` blocks hold back SIGINT while this context is open.

    Only where signals arrive (the main thread) and when the current SIGINT
    handler is a Python callable (it is called with the held-back signal).
    """
    if threading.get_ident() != _MAIN:
        yield
        return
    previous = _signals.getsignal(signal.SIGINT)
    if previous is _handler or not callable(previous):
        yield  # already held by an outer call, or nothing to defer to
        return
    HELD.previous = previous
    _signals.signal(signal.SIGINT, _handler)
    try:
        yield
    finally:
        if _signals.getsignal(signal.SIGINT) is _handler:
            _signals.signal(signal.SIGINT, previous)
        try:
            HELD.release()  # a signal held by an update that raised
        finally:
            HELD.previous = None


def training(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run `method` with autograd on, outside inference mode, Ctrl+C held by updates."""

    @functools.wraps(method)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with torch.inference_mode(False), torch.enable_grad(), hold_interrupts():
            return method(*args, **kwargs)

    return run


def evaluating(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run `method` outside inference mode: the metric state it creates is
    ordinary tensors, which a later `fit` can update in place."""

    @functools.wraps(method)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with torch.inference_mode(False):
            return method(*args, **kwargs)

    return run


def usable(t: torch.Tensor) -> torch.Tensor:
    """`t`, copied if it was made in inference mode (autograd cannot save those)."""
    if t.is_inference():
        with torch.inference_mode(False):
            return t.clone()
    return t
