"""Short-time Fourier transforms of `plait.ops` (`stft`, `istft`) on `torch.stft`."""

from __future__ import annotations

from typing import Any

import torch

from plait.layers.ops import symbolic_op
from plait.ops._tensor import convert

__all__ = ["istft", "stft"]

_WINDOWS = {"hann": torch.hann_window, "hamming": torch.hamming_window}


def _window(window: Any, length: int, dtype: torch.dtype, op: str) -> torch.Tensor:
    """Keras's `window`: "hann", "hamming" (periodic), None (ones) or a tensor."""
    if window is None:
        return torch.ones(length, dtype=dtype)
    if isinstance(window, str):
        if window not in _WINDOWS:
            raise ValueError(
                f"ops.{op}: expected window 'hann', 'hamming', None or a tensor, "
                f"got window={window!r}."
            )
        return _WINDOWS[window](length, periodic=True, dtype=dtype)
    win = convert(window).to(dtype)
    if tuple(win.shape) != (length,):
        raise ValueError(
            f"ops.{op}: expected a window of shape ({length},) (sequence_length), "
            f"got shape {tuple(win.shape)}."
        )
    return win


@symbolic_op("stft")
def stft(
    x: Any,
    sequence_length: int,
    sequence_stride: int,
    fft_length: int,
    window: Any = "hann",
    center: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Short-time Fourier transform of the last axis: `(real, imag)`, each
    `(..., frames, fft_length // 2 + 1)`.

    Frames of `sequence_length` samples every `sequence_stride`, windowed (the
    window centred in `fft_length`), reflect-padded by `fft_length // 2` on both
    sides when `center`.
    """
    t = convert(x)
    if t.dtype not in (torch.float32, torch.float64):
        raise TypeError(
            f"ops.stft: expected a float32 or float64 tensor, got dtype {t.dtype}."
        )
    if fft_length < sequence_length:
        raise ValueError(
            f"ops.stft: expected fft_length >= sequence_length, got "
            f"fft_length={fft_length}, sequence_length={sequence_length}."
        )
    win = _window(window, sequence_length, t.dtype, "stft").to(t.device)
    batch = t.shape[:-1]
    spectrum = torch.stft(
        t.reshape(-1, t.shape[-1]),
        n_fft=fft_length,
        hop_length=sequence_stride,
        win_length=sequence_length,
        window=win,
        center=center,
        pad_mode="reflect",
        return_complex=True,
    )
    spectrum = spectrum.transpose(-2, -1).reshape(*batch, -1, fft_length // 2 + 1)
    return spectrum.real, spectrum.imag


@symbolic_op("istft")
def istft(
    x: Any,
    sequence_length: int,
    sequence_stride: int,
    fft_length: int,
    length: int | None = None,
    window: Any = "hann",
    center: bool = True,
) -> torch.Tensor:
    """The inverse of `stft` from `(real, imag)`: overlap-added frames divided by
    the overlap-added squared window, cut to `length` samples when given."""
    real, imag = (convert(part) for part in x)
    spectrum = torch.complex(real, imag)
    win = _window(window, sequence_length, real.dtype, "istft").to(real.device)
    batch = spectrum.shape[:-2]
    spectrum = spectrum.reshape(-1, *spectrum.shape[-2:])
    out = _overlap_add(spectrum, win, sequence_stride, fft_length, center)
    if center:
        out = out[:, fft_length // 2 : out.shape[-1] - fft_length // 2]
    if length is not None:
        out = out[..., :length]
        out = torch.nn.functional.pad(out, (0, length - out.shape[-1]))
    return out.reshape(*batch, -1)


def _fold(frames: torch.Tensor, stride: int) -> torch.Tensor:
    """`(batch, frames, n)` overlap-added every `stride` samples: `(batch, samples)`."""
    batch, count, n = frames.shape
    total = n + stride * (count - 1)
    return torch.nn.functional.fold(
        frames.transpose(-2, -1),
        output_size=(1, total),
        kernel_size=(1, n),
        stride=(1, stride),
    ).reshape(batch, total)


def _overlap_add(
    spectrum: torch.Tensor,
    win: torch.Tensor,
    stride: int,
    fft_length: int,
    center: bool,
) -> torch.Tensor:
    """`(batch, frames, bins)` spectra back to `(batch, samples)` signals.

    Centred frames with a window as long as the FFT divide by the overlap-added
    squared window (torch's `istft`); otherwise, as Keras, by the squared window
    summed over the offsets a stride apart (TensorFlow's `inverse_stft_window_fn`).
    """
    frames = torch.fft.irfft(spectrum, n=fft_length, dim=-1)
    if center and win.numel() == fft_length:
        squares = (win * win).expand(1, frames.shape[-2], fft_length)
        norm = _fold(squares, stride)
        signal = _fold(frames * win, stride)
        return signal / torch.where(norm > 1e-11, norm, 1.0)
    left = (fft_length - win.numel()) // 2
    win = torch.nn.functional.pad(win, (left, fft_length - win.numel() - left))
    squares = torch.nn.functional.pad(win * win, (0, -fft_length % stride))
    denominator = squares.reshape(-1, stride).sum(0).repeat(len(squares) // stride)
    return _fold(frames * (win / denominator[:fft_length]), stride)
