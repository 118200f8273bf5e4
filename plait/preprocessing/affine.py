"""Affine warps of images in NumPy, with the results of `scipy.ndimage.affine_transform`.

`ImageDataGenerator` rotates, shifts, shears and zooms images the way Keras 2 does:
Keras builds one 3x3 matrix about the image centre and hands it to SciPy. plait
resamples without SciPy: `warp` reproduces SciPy's pull-back sampling for spline
orders 0 (nearest) and 1 (linear) and the fill modes `constant`, `nearest`,
`reflect` and `wrap`, including SciPy's particular rules at the borders (a
coordinate outside the image is first folded back into it; `wrap` has period
`n - 1`; `constant` gives `cval` for any coordinate outside `[0, n - 1]`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "FILL_MODES",
    "apply_affine_transform",
    "transform_matrix_offset_center",
    "warp",
]

FILL_MODES = ("constant", "nearest", "reflect", "wrap")


def _fold(c: np.ndarray, n: int, mode: str) -> np.ndarray:
    """SciPy's mapping of sample coordinates outside `[0, n - 1]` back inside."""
    c = c.copy()
    low, high = c < 0, c > n - 1
    if mode == "constant":
        c[low | high] = -1.0
    elif n <= 1:
        c[low | high] = 0.0
    elif mode == "reflect":
        period = 2 * n
        v = c[low]
        v = np.where(v < -period, period * np.trunc(-v / period) + v, v)
        c[low] = np.where(v < -n, v + period, np.where(v > -1e-15, 1e-15, -v) - 1)
        v = c[high]
        v = v - period * np.trunc(v / period)
        c[high] = np.where(v >= n, period - v - 1, v)
    elif mode == "wrap":
        period = n - 1
        v = c[low]
        c[low] = v + period * (np.trunc(-v / period) + 1)
        v = c[high]
        c[high] = v - period * np.trunc(v / period)
    return c


def _index(i: np.ndarray, n: int, mode: str) -> np.ndarray:
    """Integer sample positions outside the image mapped in, as SciPy does.

    SciPy extends the samples with `reflect` (half-sample symmetric) for `reflect`,
    edge values for `nearest`, and `mirror` (whole-sample symmetric) for
    `constant` and `wrap`.
    """
    if n == 1:
        return np.zeros_like(i)
    if mode == "nearest":
        return np.clip(i, 0, n - 1)
    if mode == "reflect":
        i = np.mod(i, 2 * n)
        return np.where(i >= n, 2 * n - 1 - i, i)
    i = np.abs(np.mod(i + (n - 1), 2 * n - 2) - (n - 1))  # mirror
    return i


def _axis(
    c: np.ndarray, n: int, order: int, mode: str
) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Per output point: sample indices, their weights, and whether cval is used."""
    if mode != "nearest":
        c = _fold(c, n, mode)
    outside = (c <= -1.0) if mode != "nearest" else np.zeros(c.shape, dtype=bool)
    if order == 0:
        start = np.floor(c + 0.5).astype(np.int64)
        return [_index(start, n, mode)], [np.ones_like(c)], outside
    start = np.floor(c).astype(np.int64)
    frac = c - start
    indices = [_index(start, n, mode), _index(start + 1, n, mode)]
    return indices, [1.0 - frac, frac], outside


def warp(
    images: np.ndarray,
    matrix: np.ndarray,
    offset: np.ndarray,
    order: int = 1,
    mode: str = "constant",
    cval: float = 0.0,
) -> np.ndarray:
    """Resample 2-D images: `out[..., i, j] = in[..., matrix @ (i, j) + offset]`.

    Args:
        images: `(..., height, width)`; every leading index is warped alike.
        matrix: 2x2 map from output to input coordinates (row, column).
        offset: Length-2 shift added after `matrix`.
        order: 0 (nearest sample) or 1 (linear).
        mode: `"constant"`, `"nearest"`, `"reflect"` or `"wrap"` (SciPy's).
        cval: Value outside the image in `"constant"` mode.

    Returns:
        The warped images, same shape and dtype.

    Raises:
        ValueError: another order or mode.
    """
    if order not in (0, 1):
        raise ValueError(f"warp: expected `order` 0 or 1, got {order!r}.")
    if mode not in FILL_MODES:
        raise ValueError(f"warp: expected `mode` in {FILL_MODES}, got {mode!r}.")
    x = np.asarray(images)
    h, w = x.shape[-2:]
    m = np.asarray(matrix, dtype=np.float64)
    rows, cols = np.meshgrid(
        np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij"
    )
    src_r = offset[0] + rows * m[0, 0] + cols * m[0, 1]
    src_c = offset[1] + rows * m[1, 0] + cols * m[1, 1]
    r_idx, r_w, r_out = _axis(src_r, h, order, mode)
    c_idx, c_w, c_out = _axis(src_c, w, order, mode)
    data = x.astype(np.float64)
    total = np.zeros(x.shape, dtype=np.float64)
    for ri, rw in zip(r_idx, r_w):
        for ci, cw in zip(c_idx, c_w):
            total += data[..., ri, ci] * (rw * cw)
    total = np.where(r_out | c_out, cval, total)
    return total.astype(x.dtype)


def transform_matrix_offset_center(
    matrix: np.ndarray, x: float, y: float
) -> np.ndarray:
    """`matrix` acting about the centre of an `x` by `y` image instead of its corner."""
    ox, oy = float(x) / 2 - 0.5, float(y) / 2 - 0.5
    to_center = np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]])
    back = np.array([[1, 0, -ox], [0, 1, -oy], [0, 0, 1]])
    return to_center @ matrix @ back


def _affine(
    theta: float, tx: float, ty: float, shear: float, zx: float, zy: float
) -> np.ndarray | None:
    """Keras's composed matrix: rotation, then shift, shear and zoom; None if identity."""
    parts = []
    if theta != 0:
        t = np.deg2rad(theta)
        parts.append(
            np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
        )
    if tx != 0 or ty != 0:
        parts.append(np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]]))
    if shear != 0:
        s = np.deg2rad(shear)
        parts.append(np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]]))
    if zx != 1 or zy != 1:
        parts.append(np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]]))
    if not parts:
        return None
    matrix = parts[0]
    for part in parts[1:]:
        matrix = np.dot(matrix, part)
    return matrix


def apply_affine_transform(
    x: Any,
    theta: float = 0,
    tx: float = 0,
    ty: float = 0,
    shear: float = 0,
    zx: float = 1,
    zy: float = 1,
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    order: int = 1,
) -> np.ndarray:
    """Rotate, shift, shear and zoom one image about its centre (Keras's arguments).

    Args:
        x: One image of rank 3.
        theta: Rotation in degrees.
        tx: Shift in x (pixels): along the columns when `row_axis < col_axis`,
            as Keras builds its matrix in (x, y) order; ty: shift in y (rows).
        shear: Shear angle in degrees.
        zx: Zoom in x; zy: in y (above 1 shrinks the image).
        row_axis: Axis of the rows; col_axis: of the columns; channel_axis: of
            the channels (0 or 2). The three are distinct.
        fill_mode: How points outside the image are filled (see `warp`).
        cval: Fill value for `"constant"`.
        order: Interpolation: 0 nearest, 1 linear.

    Returns:
        The transformed image (same shape).

    Raises:
        ValueError: axes that are not 0, 1, 2 each once, channels in the middle,
            or an image not of rank 3.
    """
    x = np.asarray(x)
    if sorted((row_axis, col_axis, channel_axis)) != [0, 1, 2]:
        raise ValueError(
            "apply_affine_transform: expected `row_axis`, `col_axis` and "
            f"`channel_axis` to be 0, 1 and 2 in some order, got {row_axis}, "
            f"{col_axis}, {channel_axis}."
        )
    if x.ndim != 3:
        raise ValueError(
            f"apply_affine_transform: expected one image of rank 3, got shape {x.shape}."
        )
    if channel_axis not in (0, 2):
        raise ValueError(
            f"apply_affine_transform: expected `channel_axis` 0 or 2, got {channel_axis}."
        )
    matrix = _affine(theta, tx, ty, shear, zx, zy)
    if matrix is None:
        return x
    matrix = transform_matrix_offset_center(
        matrix, x.shape[row_axis], x.shape[col_axis]
    )
    planes = np.moveaxis(x, channel_axis, 0)
    if col_axis > row_axis:  # Keras's matrix is in (x, y) = (column, row) order
        matrix = matrix[[1, 0, 2]][:, [1, 0, 2]]
    out = warp(
        planes, matrix[:2, :2], matrix[:2, 2], order=order, mode=fill_mode, cval=cval
    )
    return np.moveaxis(out, 0, channel_axis)
