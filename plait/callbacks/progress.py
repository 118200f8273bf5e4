"""Keras's progress line, drawn with `rich`.

`verbose=1` draws, for each epoch, the line Keras users know::

    Epoch 1/5
    12/32 ━━━━━━━━━━━━━━━━━━━━ 1s 10ms/step - accuracy: 0.5000 - loss: 0.6900

The bar is redrawn only when `update` is called with `force=True` or at least
`interval` seconds after the last redraw, so that reading the logs (a device
synchronisation) happens a few times a second, never per batch. `verbose=2`
prints one plain line when the epoch ends.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any

__all__ = ["Progbar", "format_logs", "format_time"]


def format_value(value: Any) -> str:
    """Keras's number format: 4 decimals, or scientific notation below 1e-3.

    Example:
        >>> format_value(0.5), format_value(2e-5)
        ('0.5000', '2.0000e-05')
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{v:.4f}" if abs(v) > 1e-3 or v == 0 else f"{v:.4e}"


def format_logs(logs: Mapping[str, Any] | None) -> str:
    """`" - accuracy: 0.5000 - loss: 0.6900"` (Keras order: as given).

    Example:
        >>> format_logs({"loss": 0.25})
        ' - loss: 0.2500'
    """
    if not logs:
        return ""
    return "".join(f" - {k}: {format_value(v)}" for k, v in logs.items())


def format_time(seconds: float) -> str:
    """Keras's ETA / elapsed format: `7s`, `1:05`, `1:01:05`.

    Example:
        >>> format_time(3.2), format_time(65), format_time(3665)
        ('3s', '1:05', '1:01:05')
    """
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    if s >= 60:
        return f"{s // 60}:{s % 60:02d}"
    return f"{s}s"


def format_per_step(seconds: float, unit: str = "step") -> str:
    """`10ms/step`, `2s/step`, `80us/step`.

    Example:
        >>> format_per_step(0.0104)
        '10ms/step'
    """
    if seconds >= 1:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


class Progbar:
    """One progress line for `target` steps.

    Args:
        target: Number of steps, or None when unknown.
        verbose: 1 draws a live `rich` bar; 2 prints one line at the end; 0 nothing.
        unit_name: Word after the time per step.
        interval: Minimum seconds between two redraws.

    Example:
        >>> bar = Progbar(2, verbose=2)
        >>> bar.update(2, {"loss": 0.5}, finalize=True)  # doctest: +ELLIPSIS
        2/2 - 0s - ...us/step - loss: 0.5000
    """

    def __init__(
        self,
        target: int | None,
        verbose: int = 1,
        unit_name: str = "step",
        interval: float = 0.1,
    ) -> None:
        self.target, self.verbose, self.unit = target, verbose, unit_name
        self.interval = interval
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._live: Any = None
        self._finalized = False

    def due(self) -> bool:
        """Whether enough time has passed since the last redraw."""
        return time.perf_counter() - self._last_draw >= self.interval

    def _text(self, current: int, logs: Mapping[str, Any] | None, final: bool) -> Any:
        from rich.text import Text

        elapsed = time.perf_counter() - self.start
        per_step = elapsed / max(current, 1)
        target = self.target
        width = 20
        if target:
            shown = f"{current:>{len(str(target))}}/{target}"
            done = min(width, int(width * current / target))
        else:
            shown, done = f"{current}/Unknown", width if final else 0
        text = Text(shown + " ")
        text.append("━" * done, style="green" if final else "magenta")
        text.append("━" * (width - done), style="grey23")
        if final or not target:
            clock = format_time(elapsed)
        else:
            clock = format_time(per_step * (target - current))
        text.append(f" {clock} {format_per_step(per_step, self.unit)}")
        text.append(format_logs(logs))
        return text

    def update(
        self,
        current: int,
        logs: Mapping[str, Any] | None = None,
        finalize: bool = False,
    ) -> None:
        """Show `current` steps done and `logs`; `finalize` ends the line."""
        self._last_draw = time.perf_counter()
        if self.verbose == 2:
            if finalize and not self._finalized:
                elapsed = time.perf_counter() - self.start
                per = format_per_step(elapsed / max(current, 1), self.unit)
                target = self.target if self.target else current
                line = f"{current}/{target} - {format_time(elapsed)} - {per}"
                print(line + format_logs(logs), flush=True)
                self._finalized = True
            return
        if self.verbose != 1 or self._finalized:
            return
        if self._live is None:
            from rich.console import Console
            from rich.live import Live

            console = Console(file=sys.stdout, highlight=False)
            if not console.is_terminal:  # a log file: only the final line, plainly
                if finalize:
                    print(self._text(current, logs, True).plain, flush=True)
                    self._finalized = True
                return
            self._live = Live(console=console, auto_refresh=False, transient=False)
            self._live.start()
        self._live.update(self._text(current, logs, finalize), refresh=True)
        if finalize:
            self._live.stop()
            self._finalized = True

    def close(self) -> None:
        """Stop drawing (for a loop that ends early)."""
        if self._live is not None and not self._finalized:
            self._live.stop()
            self._finalized = True
