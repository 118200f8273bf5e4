"""Image ops of `plait.ops.image` that filter or recolour: HSV, blur, edges, patches."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from plait.layers.ops import symbolic_op
from plait.ops._tensor import config, convert, to_float
from plait.ops.image import _channels_first, _restore

__all__ = [
    "extract_patches", "extract_patches_3d", "gaussian_blur", "hsv_to_rgb",
    "rgb_to_hsv", "sobel_edges", "ssim",
]  # fmt: skip


def _three_channels(
    op: str, images: Any, data_format: str | None
) -> tuple[tuple[torch.Tensor, ...], int]:
    """The three colour planes of float `images`, and the channel axis."""
    t = convert(images)
    if not t.is_floating_point():
        raise TypeError(f"ops.image.{op}: expected float images, got dtype {t.dtype}.")
    last = (data_format or config["image_data_format"]) == "channels_last"
    axis = -1 if last else -3
    return torch.unbind(t, dim=axis), axis


@symbolic_op("image.rgb_to_hsv")
def rgb_to_hsv(images: Any, data_format: str | None = None) -> torch.Tensor:
    """RGB in `[0, 1]` to hue, saturation, value, each in `[0, 1]`."""
    (r, g, b), axis = _three_channels("rgb_to_hsv", images, data_format)
    value = torch.maximum(torch.maximum(r, g), b)
    spread = value - torch.minimum(torch.minimum(r, g), b)
    saturation = torch.where(value > 0, spread / torch.where(value > 0, value, 1), 0)
    safe = torch.where(spread > 0, spread, 1)
    hue = torch.where(
        value == r,
        (g - b) / safe,
        torch.where(value == g, (b - r) / safe + 2, (r - g) / safe + 4),
    )
    hue = torch.where(spread > 0, torch.remainder(hue / 6, 1.0), 0)
    return torch.stack([hue, saturation, value], dim=axis)


@symbolic_op("image.hsv_to_rgb")
def hsv_to_rgb(images: Any, data_format: str | None = None) -> torch.Tensor:
    """Hue, saturation, value in `[0, 1]` to RGB in `[0, 1]`."""
    (hue, saturation, value), axis = _three_channels("hsv_to_rgb", images, data_format)
    sector = hue * 6
    # Each channel's share of the hue: a trapezoid over the six sectors.
    shares = [
        torch.clamp(torch.abs(sector - 3) - 1, 0, 1),
        torch.clamp(2 - torch.abs(sector - 2), 0, 1),
        torch.clamp(2 - torch.abs(sector - 4), 0, 1),
    ]
    rgb = [((share - 1) * saturation + 1) * value for share in shares]
    return torch.stack(rgb, dim=axis)


def _gaussian(size: int, sigma: float, dtype: torch.dtype) -> torch.Tensor:
    x = torch.arange(size, dtype=dtype) - (size - 1) / 2
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    return kernel / kernel.sum()


def _pair(value: Any) -> tuple[Any, Any]:
    return (value, value) if isinstance(value, (int, float)) else tuple(value)  # type: ignore[return-value]


@symbolic_op("image.gaussian_blur")
def gaussian_blur(
    images: Any,
    kernel_size: Any = (3, 3),
    sigma: Any = (1.0, 1.0),
    data_format: str | None = None,
) -> torch.Tensor:
    """Blur each channel with a Gaussian kernel (zero padding, same size out).

    As Keras, `kernel_size` and `sigma` are `(horizontal, vertical)`.
    """
    t, last, batched = _channels_first(to_float(convert(images)), data_format)
    (kx, ky), (sx, sy) = _pair(kernel_size), _pair(sigma)
    kernel = torch.outer(
        _gaussian(int(ky), float(sy), t.dtype), _gaussian(int(kx), float(sx), t.dtype)
    ).to(t.device)
    channels = t.shape[1]
    weight = kernel.expand(channels, 1, *kernel.shape)
    out = F.conv2d(t, weight, padding=(int(ky) // 2, int(kx) // 2), groups=channels)
    return _restore(out, last, batched)


@symbolic_op("image.sobel_edges")
def sobel_edges(images: Any, data_format: str | None = None) -> torch.Tensor:
    """Sobel gradients of each channel: `(..., channels, 2)`, vertical then horizontal."""
    t, last, batched = _channels_first(to_float(convert(images)), data_format)
    smooth = torch.tensor([1.0, 2.0, 1.0], dtype=t.dtype, device=t.device)
    slope = torch.tensor([-1.0, 0.0, 1.0], dtype=t.dtype, device=t.device)
    channels = t.shape[1]
    edges = [
        F.conv2d(t, k.expand(channels, 1, 3, 3), padding=1, groups=channels)
        for k in (torch.outer(slope, smooth), torch.outer(smooth, slope))
    ]
    out = torch.stack(edges, dim=-1)  # (n, c, h, w, 2)
    out = out.permute(0, 2, 3, 1, 4) if last else out
    return out if batched else out[0]


@symbolic_op("image.extract_patches")
def extract_patches(
    images: Any,
    size: Any,
    strides: Any = None,
    dilation_rate: int = 1,
    padding: str = "valid",
    data_format: str | None = None,
) -> torch.Tensor:
    """Patches of `size` every `strides` (default: `size`), each flattened.

    Channels-last gives `(..., rows, cols, patch_h * patch_w * channels)`,
    channels-first `(..., patch_h * patch_w * channels, rows, cols)`; a patch's
    values are in (row, column, channel) order, as TensorFlow (and Keras).
    """
    t, last, batched = _channels_first(convert(images), data_format)
    (ph, pw) = _pair(size)
    (sh, sw) = _pair(strides if strides is not None else size)
    (dh, dw) = _pair(dilation_rate)
    n, c, h, w = t.shape
    if padding == "same":
        pad_h = max((-(-h // sh) - 1) * sh + (ph - 1) * dh + 1 - h, 0)
        pad_w = max((-(-w // sw) - 1) * sw + (pw - 1) * dw + 1 - w, 0)
        t = F.pad(t, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
    elif padding != "valid":
        raise ValueError(
            f"ops.image.extract_patches: expected padding 'valid' or 'same', got "
            f"padding={padding!r}."
        )
    source = t if t.is_floating_point() else t.double()
    cols = F.unfold(source, (ph, pw), dilation=(dh, dw), stride=(sh, sw)).to(t.dtype)
    rows = (t.shape[2] - (ph - 1) * dh - 1) // sh + 1
    out = cols.reshape(n, c, ph * pw, rows, -1)
    # (n, rows, cols, ph * pw * c), the channel fastest in either format
    out = out.permute(0, 3, 4, 2, 1).reshape(n, rows, out.shape[-1], -1)
    out = out if last else out.permute(0, 3, 1, 2)
    return out if batched else out[0]


def _triple(value: Any) -> tuple[int, int, int]:
    if isinstance(value, int):
        return (value, value, value)
    return tuple(int(v) for v in value)  # type: ignore[return-value]


@symbolic_op("image.extract_patches_3d")
def extract_patches_3d(
    volumes: Any,
    size: Any,
    strides: Any = None,
    dilation_rate: Any = 1,
    padding: str = "valid",
    data_format: str | None = None,
) -> torch.Tensor:
    """`extract_patches` for `(..., depth, height, width, channels)` volumes."""
    t = convert(volumes)
    last = (data_format or config["image_data_format"]) == "channels_last"
    batched = t.ndim == 5
    t = t if batched else t.unsqueeze(0)
    t = t if last else t.permute(0, 2, 3, 4, 1)  # (n, d, h, w, c)
    sizes, steps = _triple(size), _triple(strides if strides is not None else size)
    rates = _triple(dilation_rate)
    if padding == "same":
        widths: list[int] = []
        for n, p, s, r in zip(t.shape[1:4], sizes, steps, rates):
            total = max((-(-n // s) - 1) * s + (p - 1) * r + 1 - n, 0)
            widths = [total // 2, total - total // 2, *widths]
        t = F.pad(t, [0, 0, *widths])
    elif padding != "valid":
        raise ValueError(
            f"ops.image.extract_patches_3d: expected padding 'valid' or 'same', "
            f"got padding={padding!r}."
        )
    for axis, (p, s, r) in enumerate(zip(sizes, steps, rates), start=1):
        # A window of the dilated span every stride, keeping every r-th entry.
        t = t.unfold(axis, (p - 1) * r + 1, s)[..., ::r]
    # (n, d', h', w', c, pd, ph, pw) -> (n, d', h', w', pd * ph * pw * c)
    out = t.permute(0, 1, 2, 3, 5, 6, 7, 4).reshape(*t.shape[:4], -1)
    out = out if last else out.permute(0, 4, 1, 2, 3)
    return out if batched else out[0]


@symbolic_op("image.ssim")
def ssim(
    image1: Any,
    image2: Any,
    max_val: float = 1.0,
    filter_size: int = 11,
    filter_sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    data_format: str | None = None,
) -> torch.Tensor:
    """Structural similarity of two images (one value per image pair).

    Local means, variances and covariance under a `filter_size` Gaussian window
    (valid positions only), averaged over positions and channels.
    """
    a, _, batched = _channels_first(to_float(convert(image1)), data_format)
    b, _, _ = _channels_first(convert(image2).to(a.dtype), data_format)
    kernel = _gaussian(int(filter_size), float(filter_sigma), a.dtype).to(a.device)
    window = torch.outer(kernel, kernel).expand(a.shape[1], 1, *kernel.shape * 2)

    def local_mean(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, window, groups=a.shape[1])

    mu_a, mu_b = local_mean(a), local_mean(b)
    var_a = local_mean(a * a) - mu_a**2
    var_b = local_mean(b * b) - mu_b**2
    cov = local_mean(a * b) - mu_a * mu_b
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    luminance = (2 * mu_a * mu_b + c1) / (mu_a**2 + mu_b**2 + c1)
    structure = (2 * cov + c2) / (var_a + var_b + c2)
    out = (luminance * structure).mean(dim=(1, 2, 3))
    return out if batched else out[0]
