"""Image ops of `plait.ops.image` that resample: `map_coordinates` and the warps."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import torch

from plait.layers.ops import symbolic_op
from plait.ops._tensor import convert, floatx, to_float
from plait.ops.image import _channels_first, _restore
from plait.ops.image_filters import gaussian_blur

__all__ = [
    "affine_transform", "elastic_transform", "map_coordinates", "perspective_transform",
    "scale_and_translate",
]  # fmt: skip

_ORDERS = {"nearest": 0, "bilinear": 1}


def _mirror(index: torch.Tensor, size: int) -> torch.Tensor:
    """Whole-sample symmetric indices (`d c b | a b c d | c b a`)."""
    period = 2 * (size - 1)
    if period == 0:
        return torch.zeros_like(index)
    return (size - 1) - torch.abs(torch.remainder(index, period) - (size - 1))


def _reflect(index: torch.Tensor, size: int) -> torch.Tensor:
    """Half-sample symmetric indices (`c b a | a b c | c b a`)."""
    folded = torch.remainder(index, 2 * size)
    return torch.where(folded < size, folded, 2 * size - 1 - folded)


_FIXES: dict[str, Callable[[torch.Tensor, int], torch.Tensor]] = {
    "constant": lambda i, n: torch.clamp(i, 0, n - 1),
    "nearest": lambda i, n: torch.clamp(i, 0, n - 1),
    "wrap": torch.remainder,
    "mirror": _mirror,
    "reflect": _reflect,
}


def _nodes(coordinate: torch.Tensor, order: int) -> list[tuple[torch.Tensor, Any]]:
    """The integer neighbours of `coordinate` and their interpolation weights."""
    if not coordinate.is_floating_point():
        return [(coordinate.long(), 1.0)]
    if order == 0:
        return [(torch.round(coordinate).long(), 1.0)]
    low = torch.floor(coordinate)
    frac = coordinate - low
    return [(low.long(), 1 - frac), (low.long() + 1, frac)]


def _interpolate(
    data: torch.Tensor,
    coordinates: list[torch.Tensor],
    order: int,
    fill_mode: str,
    fill_value: float,
) -> torch.Tensor:
    """`data` at the (fractional) `coordinates` of its leading axes.

    Axes of `data` past `len(coordinates)` are carried along (channels).
    """
    fix = _FIXES[fill_mode]
    trailing = data.ndim - len(coordinates)
    per_axis = [_nodes(c, order) for c in coordinates]
    parts = []
    for corner in itertools.product(*per_axis):
        index, valid, weight = [], None, 1.0
        for (i, w), size in zip(corner, data.shape):
            index.append(fix(i, size))
            weight = weight * w
            if fill_mode == "constant":
                inside = (i >= 0) & (i < size)
                valid = inside if valid is None else valid & inside
        value = data[tuple(index)]
        if valid is not None:
            value = torch.where(
                valid.reshape(*valid.shape, *[1] * trailing), value, fill_value
            )
        if isinstance(weight, torch.Tensor):
            weight = weight.reshape(*weight.shape, *[1] * trailing)
        parts.append(weight * value)
    out = torch.stack(parts).sum(0)
    if not data.is_floating_point():
        out = torch.round(out) if out.is_floating_point() else out
    return out.to(data.dtype)


def _check(op: str, fill_mode: str, order: int) -> None:
    if fill_mode not in _FIXES:
        raise ValueError(
            f"ops.image.{op}: expected fill_mode in {sorted(_FIXES)}, got "
            f"fill_mode={fill_mode!r}."
        )
    if order not in (0, 1):
        raise ValueError(
            f"ops.image.{op}: expected order 0 (nearest) or 1 (linear), got order={order!r}."
        )


@symbolic_op("image.map_coordinates")
def map_coordinates(
    inputs: Any,
    coordinates: Any,
    order: int,
    fill_mode: str = "constant",
    fill_value: float = 0,
) -> torch.Tensor:
    """`inputs` sampled at `coordinates` (one array per axis), as SciPy's.

    `order` 0 takes the nearest entry, 1 interpolates linearly; points outside
    are filled by `fill_mode`: `constant` (`fill_value`), `nearest`, `wrap`,
    `mirror` or `reflect`.
    """
    _check("map_coordinates", fill_mode, order)
    data = convert(inputs)
    coords = [convert(c) for c in coordinates]
    if len(coords) != data.ndim:
        raise ValueError(
            f"ops.image.map_coordinates: expected one coordinate array per axis of "
            f"inputs ({data.ndim}), got {len(coords)}."
        )
    return _interpolate(data, coords, order, fill_mode, fill_value)


def _warp(
    images: Any,
    transform: torch.Tensor,
    interpolation: str,
    fill_mode: str,
    fill_value: float,
    data_format: str | None,
    op: str,
) -> torch.Tensor:
    """Sample each output pixel `(x, y)` of `images` at its projective image."""
    if interpolation not in _ORDERS:
        raise ValueError(
            f"ops.image.{op}: expected interpolation 'nearest' or 'bilinear', got "
            f"interpolation={interpolation!r}."
        )
    _check(op, fill_mode, _ORDERS[interpolation])
    t, last, batched = _channels_first(convert(images), data_format)
    t = t.permute(0, 2, 3, 1)  # sampled at (batch, y, x), channels carried along
    n, h, w, _ = t.shape
    m = to_float(transform).to(t.device)
    m = (m if m.ndim == 2 else m.unsqueeze(0)).expand(n, 8)
    dtype = m.dtype
    y, x = torch.meshgrid(
        torch.arange(h, dtype=dtype, device=t.device),
        torch.arange(w, dtype=dtype, device=t.device),
        indexing="ij",
    )
    a0, a1, a2, b0, b1, b2, c0, c1 = (m[:, i, None, None] for i in range(8))
    k = c0 * x + c1 * y + 1
    source_x = (a0 * x + a1 * y + a2) / k
    source_y = (b0 * x + b1 * y + b2) / k
    batch = torch.arange(n, device=t.device).reshape(n, 1, 1).expand(n, h, w)
    out = _interpolate(
        t, [batch, source_y, source_x], _ORDERS[interpolation], fill_mode, fill_value
    )
    return _restore(out.permute(0, 3, 1, 2), last, batched)


@symbolic_op("image.affine_transform")
def affine_transform(
    images: Any,
    transform: Any,
    interpolation: str = "bilinear",
    fill_mode: str = "constant",
    fill_value: float = 0,
    data_format: str | None = None,
) -> torch.Tensor:
    """Warp images by `transform = [a0, a1, a2, b0, b1, b2, c0, c1]` (one or per image).

    The output pixel `(x, y)` takes the input at `((a0 x + a1 y + a2) / k,
    (b0 x + b1 y + b2) / k)`, `k = c0 x + c1 y + 1`.
    """
    return _warp(
        images,
        convert(transform),
        interpolation,
        fill_mode,
        fill_value,
        data_format,
        "affine_transform",
    )


def _homography(start: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    """The 8 parameters taking each end point `(x, y)` to its start point `(u, v)`."""
    x, y = end[..., 0], end[..., 1]
    u, v = start[..., 0], start[..., 1]
    zero, one = torch.zeros_like(x), torch.ones_like(x)
    rows_u = torch.stack([x, y, one, zero, zero, zero, -x * u, -y * u], dim=-1)
    rows_v = torch.stack([zero, zero, zero, x, y, one, -x * v, -y * v], dim=-1)
    system = torch.cat([rows_u, rows_v], dim=-2)  # (..., 8, 8)
    target = torch.cat([u, v], dim=-1)
    return torch.linalg.solve(system, target)


@symbolic_op("image.perspective_transform")
def perspective_transform(
    images: Any,
    start_points: Any,
    end_points: Any,
    interpolation: str = "bilinear",
    fill_value: float = 0,
    data_format: str | None = None,
) -> torch.Tensor:
    """Warp images so the 4 `start_points` `(x, y)` land on the `end_points`."""
    start = to_float(convert(start_points)).double()
    end = to_float(convert(end_points)).double()
    transform = _homography(start, end).to(to_float(convert(start_points)).dtype)
    return _warp(
        images,
        transform,
        interpolation,
        "constant",
        fill_value,
        data_format,
        "perspective_transform",
    )


@contextlib.contextmanager
def _seeded(seed: Any) -> Iterator[None]:
    """torch's global RNG, reseeded from `seed` (an int or a `SeedGenerator`) inside."""
    value = seed.next() if hasattr(seed, "next") else seed
    if value is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(value))
        yield


@symbolic_op("image.elastic_transform")
def elastic_transform(
    images: Any,
    alpha: float = 20.0,
    sigma: float = 5.0,
    interpolation: str = "bilinear",
    fill_mode: str = "reflect",
    fill_value: float = 0.0,
    seed: Any = None,
    data_format: str | None = None,
) -> torch.Tensor:
    """Warp images by a random displacement field (Simard et al. 2003).

    Standard-normal displacements times `sigma`, smoothed by a Gaussian of
    `sigma` (kernel `int(6 * sigma) | 1`), scaled by `alpha`; every channel
    of an image moves alike. `seed` (an int or a `SeedGenerator`) makes the
    field reproducible; without one torch's global generator draws it.
    """
    if interpolation not in _ORDERS:
        raise ValueError(
            f"ops.image.elastic_transform: expected interpolation 'nearest' or "
            f"'bilinear', got interpolation={interpolation!r}."
        )
    _check("elastic_transform", fill_mode, _ORDERS[interpolation])
    t, last, batched = _channels_first(convert(images), data_format)
    n, _, h, w = t.shape
    dtype = t.dtype if t.is_floating_point() else floatx()
    with _seeded(seed):
        fields = [torch.randn(n, 1, h, w, dtype=dtype) * sigma for _ in range(2)]
    size = int(6 * sigma) | 1
    dx, dy = (
        gaussian_blur(f.to(t.device), (size, size), (sigma, sigma), "channels_first")[
            :, 0
        ]
        for f in fields
    )
    y, x = torch.meshgrid(
        torch.arange(h, dtype=dtype, device=t.device),
        torch.arange(w, dtype=dtype, device=t.device),
        indexing="ij",
    )
    batch = torch.arange(n, device=t.device).reshape(n, 1, 1).expand(n, h, w)
    out = _interpolate(
        t.permute(0, 2, 3, 1),
        [batch, y + alpha * dy, x + alpha * dx],
        _ORDERS[interpolation],
        fill_mode,
        fill_value,
    )
    return _restore(out.permute(0, 3, 1, 2), last, batched)


def _triangle(x: torch.Tensor) -> torch.Tensor:
    return torch.clamp(1 - x, min=0)


def _keys_cubic(x: torch.Tensor) -> torch.Tensor:
    near = ((1.5 * x - 2.5) * x) * x + 1
    far = ((-0.5 * x + 2.5) * x - 4) * x + 2
    return torch.where(x < 1, near, torch.where(x < 2, far, 0))


def _lanczos(radius: int) -> Callable[[torch.Tensor], torch.Tensor]:
    def kernel(x: torch.Tensor) -> torch.Tensor:
        safe = torch.where(x > 1e-3, x, 1.0)
        value = (
            radius * torch.sin(torch.pi * safe) * torch.sin(torch.pi * safe / radius)
        )
        value = torch.where(x > 1e-3, value / (torch.pi**2 * safe**2), 1.0)
        return torch.where(x > radius, 0.0, value)

    return kernel


_KERNELS = {
    **dict.fromkeys(("linear", "bilinear", "trilinear", "triangle"), _triangle),
    **dict.fromkeys(("cubic", "bicubic", "tricubic"), _keys_cubic),
    "lanczos3": _lanczos(3),
    "lanczos5": _lanczos(5),
}


def _resample_weights(
    size_in: int,
    size_out: int,
    scale: torch.Tensor,
    shift: torch.Tensor,
    kernel: Callable[[torch.Tensor], torch.Tensor],
    antialias: bool,
) -> torch.Tensor:
    """`(size_in, size_out)` weights of each input entry in each output entry."""
    dtype = scale.dtype
    centre = (torch.arange(size_out, dtype=dtype) + 0.5 - shift) / scale - 0.5
    stretch = (
        torch.clamp(1 / scale, min=1.0) if antialias else torch.ones((), dtype=dtype)
    )
    distance = torch.abs(centre[None, :] - torch.arange(size_in, dtype=dtype)[:, None])
    weights = kernel(distance / stretch)
    total = weights.sum(dim=0, keepdim=True)
    usable = torch.abs(total) > 1000 * torch.finfo(dtype).eps
    weights = torch.where(usable, weights / torch.where(total != 0, total, 1), 0)
    inside = (centre >= -0.5) & (centre <= size_in - 0.5)
    return torch.where(inside[None, :], weights, 0)


@symbolic_op("image.scale_and_translate")
def scale_and_translate(
    images: Any,
    output_shape: Any,
    scale: Any,
    translation: Any,
    spatial_dims: Any,
    method: str,
    antialias: bool = True,
) -> torch.Tensor:
    """Resample the `spatial_dims` of `images` to `output_shape` (JAX's op).

    Output entry `i` of a dim reads the input around `(i + 0.5 - translation)
    / scale - 0.5` with the `method` kernel (linear, cubic, lanczos3,
    lanczos5), widened by `1 / scale` when downscaling with `antialias`.
    """
    if method not in _KERNELS:
        raise ValueError(
            f"ops.image.scale_and_translate: expected method in {sorted(_KERNELS)}, "
            f"got method={method!r}."
        )
    t = convert(images)
    out = to_float(t)
    scales = to_float(convert(scale)).to(out.dtype).reshape(-1).cpu()
    shifts = to_float(convert(translation)).to(out.dtype).reshape(-1).cpu()
    for k, dim in enumerate(int(d) for d in spatial_dims):
        weights = _resample_weights(
            out.shape[dim],
            int(output_shape[dim]),
            scales[k],
            shifts[k],
            _KERNELS[method],
            antialias,
        ).to(out.device)
        out = torch.movedim(
            torch.tensordot(torch.movedim(out, dim, -1), weights, 1), -1, dim
        )
    return out
