"""Image preprocessing layers: Keras 3 goldens (make_image_golden.py) for the
deterministic ones; seeding, inference identity, ranges and statistics for the
random ones."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from plait import layers as L

GOLDEN = np.load(Path(__file__).parent / "golden" / "image.npz")
CASES = sorted({k.split("__")[0] for k in GOLDEN.files})
BUILD = {
    "rescaling": lambda: L.Rescaling(1 / 127.5, offset=-1.0),
    "center_crop": lambda: L.CenterCrop(3, 4),
    "center_crop_up": lambda: L.CenterCrop(8, 5),
    "resize_crop_aspect": lambda: L.Resizing(4, 4, crop_to_aspect_ratio=True),
    "resize_pad_aspect": lambda: L.Resizing(
        4, 8, pad_to_aspect_ratio=True, fill_value=2.5
    ),
}
for _interp in ("bilinear", "nearest", "bicubic"):
    for _h, _w in ((3, 4), (11, 9)):
        BUILD[f"resize_{_interp}_{_h}x{_w}"] = lambda h=_h, w=_w, i=_interp: L.Resizing(
            h, w, interpolation=i
        )
    BUILD[f"resize_{_interp}_antialias"] = lambda i=_interp: L.Resizing(
        3, 2, interpolation=i, antialias=True
    )

# Random layers with a degenerate range are deterministic (called in training).
for _fill in ("reflect", "wrap", "constant", "nearest"):
    _kw = {"fill_mode": _fill, "fill_value": 0.5}
    for _interp in ("bilinear", "nearest"):
        BUILD[f"rotation_{_fill}_{_interp}"] = lambda kw=_kw, i=_interp: (
            L.RandomRotation((0.1, 0.1), interpolation=i, **kw)
        )
    BUILD[f"translation_{_fill}"] = lambda kw=_kw: L.RandomTranslation(
        (0.3, 0.3), (-0.45, -0.45), interpolation="nearest", **kw
    )
    BUILD[f"zoom_out_{_fill}"] = lambda kw=_kw: L.RandomZoom(
        (0.4, 0.4), (0.25, 0.25), interpolation="nearest", **kw
    )
BUILD["zoom_in"] = lambda: L.RandomZoom((-0.3, -0.3))


def test_every_golden_has_a_layer():
    assert set(CASES) == set(BUILD)


@pytest.mark.parametrize("name", CASES)
def test_matches_keras(name):
    x = torch.from_numpy(GOLDEN[f"{name}__x"])
    out = BUILD[name]()(x, training=True)
    np.testing.assert_allclose(out.numpy(), GOLDEN[f"{name}__y"], rtol=1e-5, atol=1e-4)


KERAS_CONFIGS = json.loads(
    (Path(__file__).parent / "golden" / "image_configs.json").read_text()
)


@pytest.mark.parametrize("cls", sorted(KERAS_CONFIGS))
def test_loads_keras_configs(cls):
    config = KERAS_CONFIGS[cls]
    layer = getattr(L, cls).from_config(config)
    mine = layer.get_config()
    for key, value in config.items():
        if key not in ("name", "dtype"):
            assert mine[key] == value, key
    out = layer(torch.rand(2, 4, 4, 3), training=True)
    assert tuple(out.shape) == layer.compute_output_shape((2, 4, 4, 3))


def test_area_is_average_pooling():
    x = torch.rand(2, 6, 8, 3)
    out = L.Resizing(3, 2, interpolation="area")(x)
    ref = F.avg_pool2d(x.permute(0, 3, 1, 2), (2, 4)).permute(0, 2, 3, 1)
    torch.testing.assert_close(out, ref)


def test_channels_first_and_unbatched():
    x = torch.rand(2, 7, 6, 3)
    layer = L.Resizing(4, 5, data_format="channels_first")
    out = layer(x.permute(0, 3, 1, 2))
    torch.testing.assert_close(out.permute(0, 2, 3, 1), L.Resizing(4, 5)(x))
    torch.testing.assert_close(L.CenterCrop(3, 3)(x[0]), L.CenterCrop(3, 3)(x)[0])
    for cls in (L.RandomContrast, L.RandomBrightness):
        last = cls(0.5, value_range=(0, 1), seed=4)(x, training=True)
        first = cls(0.5, value_range=(0, 1), seed=4, data_format="channels_first")
        torch.testing.assert_close(
            first(x.permute(0, 3, 1, 2), training=True).permute(0, 2, 3, 1), last
        )


def test_integer_images_become_float():
    x = torch.randint(0, 256, (1, 4, 4, 3), dtype=torch.uint8)
    out = L.Rescaling(1 / 255)(x)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, x.float() / 255)


def test_symbolic_shapes_and_config_round_trip():
    inp = L.Input((32, 24, 3))
    for layer, shape in [
        (L.Resizing(8, 6), (None, 8, 6, 3)),
        (L.CenterCrop(5, 7), (None, 5, 7, 3)),
        (L.RandomCrop(9, 10, seed=1), (None, 9, 10, 3)),
        (L.RandomFlip("horizontal", seed=3), (None, 32, 24, 3)),
        (L.Rescaling(0.5), (None, 32, 24, 3)),
    ]:
        assert tuple(layer(inp).shape) == shape
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (
            lambda: L.Resizing(2, 2, interpolation="lanczos3"),
            "expected `interpolation`",
        ),
        (
            lambda: L.Resizing(2, 2, fill_mode="reflect"),
            "expected fill_mode='constant'",
        ),
        (
            lambda: L.Resizing(
                2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True
            ),
            "at most one of",
        ),
        (lambda: L.CenterCrop(0, 2), "expected `height` a positive int"),
        (lambda: L.Resizing(2, 2, data_format="nhwc"), "expected data_format in"),
        (lambda: L.RandomFlip("diagonal"), "expected `mode`"),
        (lambda: L.RandomContrast(1.5), r"expected `factor` .* in \[0, 1\]"),
        (lambda: L.RandomBrightness((-2, 0.5)), r"in \[-1, 1\]"),
        (lambda: L.RandomBrightness(0.1, value_range=5), "expected `value_range`"),
        (lambda: L.RandomRotation(1.5), r"expected `factor` .* in \[-1, 1\]"),
        (lambda: L.RandomTranslation(0.1, (0, 2)), "expected `width_factor`"),
        (lambda: L.RandomZoom(-1.0), r"expected `height_factor` in \(-1, 1\]"),
        (lambda: L.RandomZoom(0.1, fill_mode="mirror"), "expected fill_mode in"),
        (
            lambda: L.RandomRotation(0.1, interpolation="bicubic"),
            "expected interpolation in",
        ),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_rank():
    with pytest.raises(
        ValueError, match=r"expected images of rank 3 or 4, got shape \(4, 4\)"
    ):
        L.CenterCrop(2, 2)(torch.ones(4, 4))


RANDOM = [
    lambda: L.RandomFlip(seed=7),
    lambda: L.RandomContrast(0.5, value_range=(0, 1), seed=7),
    lambda: L.RandomBrightness(0.3, value_range=(0, 1), seed=7),
    lambda: L.RandomCrop(5, 4, seed=7),
    lambda: L.RandomRotation(0.2, seed=7),
    lambda: L.RandomTranslation(0.3, 0.3, seed=7),
    lambda: L.RandomZoom(0.3, seed=7),
]


@pytest.mark.parametrize("make", RANDOM)
def test_random_layers_are_seeded_and_identity_at_inference(make):
    x = torch.rand(16, 8, 8, 3)
    a, b = make(), make()
    first = [a(x, training=True) for _ in range(3)]
    second = [b(x, training=True) for _ in range(3)]
    for u, v in zip(first, second):
        torch.testing.assert_close(u, v, rtol=0, atol=0)
    assert not torch.equal(first[0], first[1])  # successive calls differ
    # Called alone, mode never set: training by default (Keras's `training=True`).
    fresh = make()
    assert not torch.equal(fresh(x), b(x, training=False))
    a.eval()  # in a model's predict/evaluate, or after eval(): inference
    if isinstance(a, L.RandomCrop):
        torch.testing.assert_close(a(x), L.Resizing(5, 4, crop_to_aspect_ratio=True)(x))
    else:
        assert torch.equal(a(x), x)
        assert torch.equal(a(x, training=False), x)


def test_random_flip_flips_half_the_images():
    x = torch.rand(400, 3, 4, 1)
    out = L.RandomFlip("horizontal", seed=0)(x, training=True)
    flipped = (out == x.flip(2)).flatten(1).all(1)
    kept = (out == x).flatten(1).all(1)
    assert bool((flipped | kept).all())
    assert 160 < int(flipped.sum()) < 240
    both = L.RandomFlip(seed=0)(x, training=True)
    assert bool(
        ((both == x.flip(1, 2)).flatten(1).all(1) | (both == x).flatten(1).all(1)).all()
    )


def test_random_contrast_scales_around_the_mean():
    x = torch.rand(300, 6, 6, 3) * 0.2 + 0.4  # no clipping
    out = L.RandomContrast((0.2, 0.5), value_range=(0, 1), seed=0)(x, training=True)
    mean = x.mean(dim=(1, 2), keepdim=True)
    ratio = ((out - mean) / (x - mean)).flatten(1)
    per_image = ratio.median(1).values
    torch.testing.assert_close(
        ratio, per_image[:, None].expand_as(ratio), rtol=1e-3, atol=1e-3
    )
    assert 0.8 <= float(per_image.min()) < 0.9
    assert 1.4 < float(per_image.max()) <= 1.5
    torch.testing.assert_close(out.mean(dim=(1, 2)), x.mean(dim=(1, 2)))


def test_random_brightness_shifts_and_clips():
    x = torch.full((500, 2, 2, 3), 100.0)
    out = L.RandomBrightness(0.2, seed=0)(x, training=True)  # value_range (0, 255)
    delta = (out - x)[:, 0, 0, 0]
    assert bool(((out - x) == delta[:, None, None, None]).all())
    assert float(delta.abs().max()) <= 0.2 * 255 + 1e-3
    assert abs(float(delta.mean())) < 5
    assert float(delta.std()) > 20
    top = L.RandomBrightness((0.9, 1.0), seed=0)(x, training=True)
    assert torch.equal(top, torch.full_like(x, 255.0))


def test_random_crop_windows_are_crops():
    x = torch.arange(10 * 12, dtype=torch.float32).reshape(1, 10, 12, 1)
    layer = L.RandomCrop(4, 5, seed=2)
    starts = set()
    for _ in range(60):
        out = layer(x, training=True)[0, :, :, 0]
        top, left = divmod(int(out[0, 0]), 12)
        torch.testing.assert_close(out, x[0, top : top + 4, left : left + 5, 0])
        starts.add((top, left))
    assert {t for t, _ in starts} == set(range(7))
    assert {w for _, w in starts} == set(range(8))


def test_unseeded_layers_follow_the_global_seed():
    x = torch.rand(8, 5, 5, 3)
    torch.manual_seed(3)
    a = L.RandomBrightness(0.5, value_range=(0, 1))(x, training=True)
    torch.manual_seed(3)
    b = L.RandomBrightness(0.5, value_range=(0, 1))(x, training=True)
    assert torch.equal(a, b)


def test_in_a_model_training_mode_switches_augmentation():
    inp = L.Input((8, 8, 3))
    out = L.RandomFlip(seed=1)(L.Rescaling(2.0)(inp))
    model = __import__("plait").Model(inp, out)
    x = torch.rand(32, 8, 8, 3)
    assert not torch.equal(model(x), 2 * x)  # nothing said: the layer's default (Keras)
    torch.testing.assert_close(model(x, training=False), 2 * x)
    torch.testing.assert_close(model.predict(x.numpy(), verbose=0), 2 * x.numpy())
    model.eval()  # a mode set: it holds
    torch.testing.assert_close(model(x), 2 * x)
    assert not torch.equal(model(x, training=True), 2 * x)


def test_affine_layers_preserve_content():
    x = torch.rand(6, 9, 9, 3)
    # A full turn, a shift by a whole image with wrapping, and no zoom: identity.
    turn = L.RandomRotation((1.0, 1.0), interpolation="nearest")(x, training=True)
    torch.testing.assert_close(turn, x)
    wrap = L.RandomTranslation((1.0, 1.0), (-1.0, -1.0), fill_mode="wrap")
    torch.testing.assert_close(wrap(x, training=True), x)
    torch.testing.assert_close(L.RandomZoom((0.0, 0.0))(x, training=True), x)
    quarter = L.RandomRotation((0.25, 0.25), interpolation="nearest")(x, training=True)
    torch.testing.assert_close(quarter, torch.rot90(x, 1, dims=(1, 2)))
    shift = L.RandomTranslation((0.0, 0.0), (1 / 9, 1 / 9), fill_mode="constant")
    moved = shift(x, training=True)
    torch.testing.assert_close(moved[:, :, 1:], x[:, :, :-1])
    assert bool((moved[:, :, 0] == 0).all())


def test_affine_draws_are_per_image():
    x = torch.ones(64, 5, 5, 1)
    out = L.RandomZoom(0.5, fill_mode="constant", seed=0)(x, training=True)
    coverage = out.mean(dim=(1, 2, 3))
    assert len(set(coverage.tolist())) > 5
    assert float(coverage.min()) < 1.0
    assert float(coverage.max()) == 1.0  # zooming in leaves no fill


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize(
    "make",
    [
        *RANDOM,
        lambda: L.Resizing(5, 3, interpolation="bicubic", antialias=True),
        lambda: L.CenterCrop(3, 5),
        lambda: L.Rescaling(0.5, 1.0),
    ],
)
def test_runs_on_the_input_device_with_the_cpu_results(make):
    x = torch.rand(4, 8, 8, 3)
    cpu = make()(x, training=True)
    cuda = make()(x.cuda(), training=True)
    assert cuda.device.type == "cuda"
    torch.testing.assert_close(cuda.cpu(), cpu, rtol=1e-4, atol=1e-4)
