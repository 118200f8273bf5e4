"""Inference and training entry points shared by every model: predict, compile, fit."""

from __future__ import annotations

from typing import Any

import torch

from plait.training import data as data_utils
from plait.utils import tree

__all__ = ["Trainer"]


def _to_numpy(t: Any) -> Any:
    return None if t is None else t.detach().cpu().numpy()


class Trainer:
    """Mixin of `Model`: `predict`, `predict_on_batch` (and training, in its issue)."""

    def __init__(self) -> None:
        self.compiled = False
        self.stop_training = False

    def _model_device(self) -> torch.device:
        for p in self.parameters():  # type: ignore[attr-defined]
            return p.device  # type: ignore[no-any-return]
        return torch.device("cpu")

    def _prepare_x(self, x: Any) -> Any:
        device = self._model_device()
        if isinstance(x, dict):
            return {k: data_utils.to_tensors(v, device) for k, v in x.items()}
        return data_utils.to_tensors(x, device)

    def predict_on_batch(self, x: Any) -> Any:
        """Outputs for one batch, as NumPy arrays (one array, a list, or a dict)."""
        xs = self._prepare_x(x)
        with torch.inference_mode():
            out = self(xs, training=False)  # type: ignore[operator]
        return tree.map_structure(_to_numpy, out)

    def predict(
        self,
        x: Any,
        batch_size: int | None = 32,
        verbose: Any = "auto",
        steps: int | None = None,
        callbacks: Any = None,
    ) -> Any:
        """Outputs for all samples of `x`, computed in batches, as NumPy arrays.

        Args:
            x: NumPy array or tensor; a list of them (one per input); or a dict by
                input name.
            batch_size: Samples per batch (32 when None).
            verbose: 0 silent, 1 progress bar, 'auto' (a bar on a terminal).
            steps: Number of batches to run; all by default.
            callbacks: Accepted for Keras compatibility.

        Returns:
            One array for a one-output model, a list for several, a dict for dict
            outputs.

        Raises:
            ValueError: wrong number of inputs, mismatched sample counts or a wrong
                feature size, naming the input.
        """
        xs = self._prepare_x(x)
        n = data_utils.num_samples(xs, f"Model {self.name!r}.predict(x)")  # type: ignore[attr-defined]
        batch_size = batch_size or 32
        chunks: list[Any] = []
        show = verbose == 1 or (verbose == "auto" and _interactive())
        total = (n + batch_size - 1) // batch_size
        if steps is not None:
            total = min(total, steps)
        progress = _progress(show, total, "predict")
        with torch.inference_mode(), progress as bar:
            task = bar.add_task("predict", total=total) if bar is not None else None
            for i, sl in enumerate(data_utils.batch_slices(n, batch_size)):
                if i >= total:
                    break
                batch = _take(xs, sl)
                chunks.append(self(batch, training=False))  # type: ignore[operator]
                if bar is not None:
                    bar.advance(task)
        flat_chunks = [tree.flatten(c) for c in chunks]
        joined = [
            torch.cat([c[i] for c in flat_chunks]).cpu().numpy()
            for i in range(len(flat_chunks[0]))
        ]
        return tree.pack_like(chunks[0], joined)


def _take(data: Any, index: Any) -> Any:
    """The rows `index` of every tensor in `data`."""
    return tree.map_structure(lambda t: t[index], data)


def _interactive() -> bool:
    import sys

    return sys.stdout.isatty()


class _NoBar:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: Any) -> None:
        return None


def _progress(show: bool, total: int, label: str) -> Any:
    if not show:
        return _NoBar()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress(
        f"[bold]{label}[/]",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
    )
