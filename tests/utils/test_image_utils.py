"""Tests for plait.utils.image_utils: load_img, img_to_array, array_to_img, save_img.

Keras's numbers for the same calls are in `tests/preprocessing/test_image_parity.py`;
these check the behaviour around them: types, shapes, formats, the data format
setting and every error message.
"""

import io
import pathlib
import sys

import numpy as np
import pytest

import plait
from plait.utils import array_to_img, img_to_array, load_img, save_img

pytest.importorskip("PIL", reason="image files need Pillow")


def pixels(shape=(4, 6, 3), seed=0):
    return np.random.RandomState(seed).randint(0, 256, shape).astype("float32")


def test_save_and_load_png_round_trips_exactly(tmp_path):
    x = pixels()
    save_img(tmp_path / "x.png", x, scale=False)
    img = load_img(tmp_path / "x.png")
    assert img.size == (6, 4)
    assert img.mode == "RGB"
    np.testing.assert_array_equal(img_to_array(img), x)
    # str and bytes paths and file objects read the same image
    for path in (str(tmp_path / "x.png"), str(tmp_path / "x.png").encode()):
        np.testing.assert_array_equal(img_to_array(load_img(path)), x)
    buffer = io.BytesIO((tmp_path / "x.png").read_bytes())
    np.testing.assert_array_equal(img_to_array(load_img(buffer)), x)


def test_load_img_color_modes_and_sizes(tmp_path):
    save_img(tmp_path / "x.png", pixels(), scale=False)
    assert img_to_array(load_img(tmp_path / "x.png", color_mode="grayscale")).shape == (
        4,
        6,
        1,
    )
    assert img_to_array(load_img(tmp_path / "x.png", color_mode="rgba")).shape == (
        4,
        6,
        4,
    )
    small = load_img(tmp_path / "x.png", target_size=(2, 3), interpolation="bilinear")
    assert img_to_array(small, data_format="channels_first").shape == (3, 2, 3)
    crop = load_img(tmp_path / "x.png", target_size=(4, 4), keep_aspect_ratio=True)
    # the centred 4x4 crop, unchanged by a same-size resize
    np.testing.assert_array_equal(img_to_array(crop), pixels()[:, 1:5])


def test_array_to_img_scales_and_picks_the_mode():
    x = pixels() - 300.0
    img = array_to_img(x)
    out = np.asarray(img)
    assert img.mode == "RGB"
    assert out.min() == 0
    assert out.max() == 255
    assert array_to_img(pixels((4, 6, 4))).mode == "RGBA"
    assert array_to_img(pixels((4, 6, 1))).mode == "L"
    assert array_to_img(pixels((4, 6, 1)) * 10, scale=False).mode == "I"
    first = array_to_img(
        pixels().transpose(2, 0, 1), data_format="channels_first", scale=False
    )
    np.testing.assert_array_equal(np.asarray(first), pixels())


def test_data_format_none_follows_the_backend_setting():
    try:
        plait.backend.set_image_data_format("channels_first")
        assert img_to_array(array_to_img(pixels((3, 4, 6)), scale=False)).shape == (
            3,
            4,
            6,
        )
    finally:
        plait.backend.set_image_data_format("channels_last")
    assert img_to_array(array_to_img(pixels(), scale=False)).shape == (4, 6, 3)


def test_save_img_jpeg_of_rgba_warns_and_saves_rgb(tmp_path):
    with pytest.warns(UserWarning, match="JPEG has no alpha channel"):
        save_img(tmp_path / "x.jpg", pixels((4, 6, 4)))
    assert load_img(tmp_path / "x.jpg", color_mode="rgba").size == (6, 4)
    buffer = io.BytesIO()
    save_img(buffer, pixels(), file_format="png")
    assert buffer.getvalue()[:4] == b"\x89PNG"


def test_image_utils_errors(tmp_path):
    save_img(tmp_path / "x.png", pixels())
    with pytest.raises(TypeError, match=r"load_img: expected a path .* got int"):
        load_img(3)
    with pytest.raises(
        ValueError, match=r"load_img: expected `color_mode` .* got 'cmyk'"
    ):
        load_img(tmp_path / "x.png", color_mode="cmyk")
    with pytest.raises(
        ValueError, match=r"load_img: expected `interpolation` .* got 'cubic'"
    ):
        load_img(tmp_path / "x.png", target_size=(2, 2), interpolation="cubic")
    with pytest.raises(
        ValueError,
        match=r"array_to_img: expected one image of rank 3, got shape \(4, 6\)",
    ):
        array_to_img(np.zeros((4, 6)))
    with pytest.raises(
        ValueError, match="array_to_img: expected 1, 3 or 4 channels, got 2"
    ):
        array_to_img(np.zeros((4, 6, 2)))
    with pytest.raises(
        ValueError, match=r"img_to_array: expected a 2-D or 3-D image, got shape \(4,\)"
    ):
        img_to_array(np.zeros(4))
    with pytest.raises(
        ValueError, match=r"img_to_array: expected `data_format` .* got 'nhwc'"
    ):
        img_to_array(np.zeros((2, 2)), data_format="nhwc")


def test_missing_pillow_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(
        ImportError, match=r"load_img: expected Pillow .* pip install pillow"
    ):
        load_img(tmp_path / "x.png")
    with pytest.raises(ImportError, match="array_to_img: expected Pillow"):
        array_to_img(pixels())


def test_pathlib_paths_resolve(tmp_path, monkeypatch):
    save_img(tmp_path / "x.png", pixels(), scale=False)
    monkeypatch.chdir(tmp_path)
    np.testing.assert_array_equal(
        img_to_array(load_img(pathlib.Path("x.png"))), pixels()
    )
