"""The helpers every application shares: argument checks, input, head, weights."""

import re

import numpy as np
import pytest
import torch

import plait
from plait import applications, layers
from plait.applications import common, imagenet_utils
from plait.datasets import files


def test_check_weights_accepts_none_imagenet_and_existing_files(tmp_path):
    path = tmp_path / "w.h5"
    path.write_bytes(b"")
    for weights in (None, "imagenet", str(path)):
        common.check_weights(weights, include_top=True, classes=1000)


def test_check_weights_names_the_bad_argument():
    with pytest.raises(
        ValueError, match=r"`weights` argument .* got weights='nope.h5'"
    ):
        common.check_weights("nope.h5", include_top=False, classes=1000)
    with pytest.raises(ValueError, match=r"`classes` should be 1000; got classes=10"):
        common.check_weights("imagenet", include_top=True, classes=10)
    common.check_weights("imagenet", include_top=False, classes=10)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"input_shape": None, "require_flatten": True}, (224, 224, 3)),
        ({"input_shape": None, "require_flatten": False}, (None, None, 3)),
        ({"input_shape": (64, 80, 3), "require_flatten": False}, (64, 80, 3)),
        ({"input_shape": (64, 80, 1), "require_flatten": True}, (64, 80, 1)),
        (
            {"input_shape": None, "require_flatten": True, "weights": "imagenet"},
            (224, 224, 3),
        ),
    ],
)
def test_obtain_input_shape(kwargs, expected):
    args = {"default_size": 224, "min_size": 32, "data_format": "channels_last"}
    assert common.obtain_input_shape(**args, **kwargs) == expected


def test_obtain_input_shape_channels_first_default():
    shape = common.obtain_input_shape(None, 299, 75, "channels_first", True)
    assert shape == (3, 299, 299)


@pytest.mark.parametrize(
    ("input_shape", "weights", "flatten", "message"),
    [
        ((100, 100, 3), "imagenet", True, r"should be \(224, 224, 3\)"),
        ((100, 100), None, False, "tuple of three integers"),
        ((100, 100, 1), "imagenet", False, "must have 3 channels"),
        ((16, 100, 3), None, False, "at least 32x32"),
        ((None, None, 3), None, True, "static `input_shape`"),
    ],
)
def test_obtain_input_shape_errors(input_shape, weights, flatten, message):
    with pytest.raises(ValueError, match=message):
        common.obtain_input_shape(
            input_shape, 224, 32, "channels_last", flatten, weights
        )


def test_obtain_input_shape_warns_on_unusual_channels():
    with pytest.warns(UserWarning, match="with 5 input channels"):
        assert common.obtain_input_shape(
            (64, 64, 5), 224, 32, "channels_last", False
        ) == (
            64,
            64,
            5,
        )


def test_image_input_uses_the_inputs_a_symbolic_tensor_comes_from():
    a = plait.Input((8, 8, 3))
    x = layers.Rescaling(2.0)(a)
    img, inputs = common.image_input(x, (8, 8, 3))
    assert img is x
    assert inputs is a
    img, inputs = common.image_input(None, (8, 8, 3))
    assert img is inputs
    assert img.shape == (None, 8, 8, 3)


def test_image_input_refuses_data():
    with pytest.raises(ValueError, match=r"symbolic tensor .* got a Tensor"):
        common.image_input(torch.zeros(1, 8, 8, 3), (8, 8, 3))
    with pytest.raises(ValueError, match=r"got a ndarray"):
        applications.VGG16(weights=None, input_tensor=np.zeros((1, 32, 32, 3)))


def test_pool_and_classifier():
    x = plait.Input((4, 4, 6))
    assert common.pool(x, None) is x
    assert common.pool(x, "avg").shape == (None, 6)
    assert common.pool(x, "max").shape == (None, 6)
    with pytest.raises(ValueError, match=r"got pooling='sum'"):
        common.pool(x, "sum")
    with pytest.raises(ValueError, match=r"got classifier_activation='relu'"):
        common.classifier(common.pool(x, "avg"), 10, "relu", "imagenet")
    out = common.classifier(common.pool(x, "avg"), 10, "relu", None)
    assert out.shape == (None, 10)


def test_correct_pad_matches_same_padding_of_a_strided_conv():
    # Even sides pad (0, 1) for a 3x3 kernel, odd sides (1, 1).
    assert common.correct_pad(plait.Input((224, 224, 3)), 3) == ((0, 1), (0, 1))
    assert common.correct_pad(plait.Input((225, 225, 3)), 3) == ((1, 1), (1, 1))
    assert common.correct_pad(plait.Input((None, None, 3)), (5, 5)) == ((1, 2), (1, 2))


def test_load_weights_offline_names_url_and_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PLAIT_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise OSError("offline")

    monkeypatch.setattr(files.urllib.request, "urlopen", offline)
    inputs = plait.Input((4,))
    model = plait.Model(inputs, layers.Dense(2)(inputs), name="tiny")
    entry = ("tiny.h5", "https://example.invalid/tiny.h5", "0" * 32)
    expected = re.escape(str(tmp_path / "models" / "tiny.h5"))
    with pytest.raises(OSError, match=rf"https://example.invalid/tiny.h5.*{expected}"):
        common.load_weights(model, "imagenet", lambda: entry)
    with pytest.raises(ValueError, match="tiny: Keras publishes no ImageNet weights"):
        common.load_weights(model, "imagenet", None)


def test_load_weights_from_a_path_and_from_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("PLAIT_HOME", str(tmp_path))
    inputs = plait.Input((4,))
    model = plait.Model(inputs, layers.Dense(2, name="d")(inputs))
    path = tmp_path / "m.weights.h5"
    model.save_weights(str(path))
    before = [w.copy() for w in model.get_weights()]
    model.set_weights([np.zeros_like(w) for w in before])
    common.load_weights(model, str(path), None)
    np.testing.assert_array_equal(model.get_weights()[0], before[0])
    cached = tmp_path / "models" / "m.weights.h5"
    cached.parent.mkdir()
    cached.write_bytes(path.read_bytes())
    md5 = files.file_digest(cached, "0" * 32)
    model.set_weights([np.zeros_like(w) for w in before])
    common.load_weights(
        model, "imagenet", lambda: ("m.weights.h5", "https://x.invalid", md5)
    )
    np.testing.assert_array_equal(model.get_weights()[0], before[0])


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_preprocess_input_numpy_tensor_and_symbolic_agree(mode, data_format):
    rng = np.random.default_rng(0)
    shape = (2, 5, 5, 3) if data_format == "channels_last" else (2, 3, 5, 5)
    x = rng.uniform(0, 255, shape).astype("float32")
    # The reference, written out per channel.
    axis = -1 if data_format == "channels_last" else 1
    channels = np.moveaxis(x, axis, 0).astype("float64")
    if mode == "tf":
        ref = channels / 127.5 - 1
    elif mode == "torch":
        mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
        ref = np.stack([(channels[i] / 255 - mean[i]) / std[i] for i in range(3)])
    else:
        mean = [103.939, 116.779, 123.68]
        ref = np.stack([channels[2 - i] - mean[i] for i in range(3)])
    ref = np.moveaxis(ref, 0, axis)
    out = imagenet_utils.preprocess_input(x.copy(), data_format=data_format, mode=mode)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-4)
    out_t = imagenet_utils.preprocess_input(torch.tensor(x), data_format, mode)
    np.testing.assert_allclose(out_t.numpy(), ref, rtol=1e-5, atol=1e-4)
    inputs = plait.Input(shape[1:])
    model = plait.Model(
        inputs, imagenet_utils.preprocess_input(inputs, data_format, mode)
    )
    np.testing.assert_allclose(model.predict(x, verbose=0), ref, rtol=1e-5, atol=1e-4)


def test_preprocess_input_numpy_float_is_scaled_in_place_and_ints_become_float():
    x = np.full((1, 1, 1, 3), 255.0, dtype="float32")
    out = imagenet_utils.preprocess_input(x, mode="tf")
    assert out is x
    assert x.max() == 1.0
    ints = np.full((1, 1, 3), 255, dtype="uint8")
    assert imagenet_utils.preprocess_input(ints, mode="tf").dtype == np.float32


def test_preprocess_input_errors():
    x = np.zeros((1, 2, 2, 3), "float32")
    with pytest.raises(ValueError, match=r"mode to be one of .* got mode='keras'"):
        imagenet_utils.preprocess_input(x, mode="keras")
    with pytest.raises(ValueError, match=r"got data_format='nhwc'"):
        imagenet_utils.preprocess_input(x, data_format="nhwc")


def test_decode_predictions_from_the_cached_index(monkeypatch, tmp_path):
    monkeypatch.setenv("PLAIT_HOME", str(tmp_path))
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    path = tmp_path / "models" / "imagenet_class_index.json"
    path.parent.mkdir()
    path.write_text(__import__("json").dumps(index))
    monkeypatch.setattr(
        imagenet_utils, "CLASS_INDEX_MD5", files.file_digest(path, "0" * 32)
    )
    monkeypatch.setattr(imagenet_utils, "_class_index", None)
    preds = np.zeros((2, 1000), "float32")
    preds[0, [7, 3, 999]] = [0.5, 0.3, 0.2]
    preds[1, 42] = 1.0
    out = imagenet_utils.decode_predictions(preds, top=3)
    assert [c for c, _, _ in out[0]] == ["n00000007", "n00000003", "n00000999"]
    assert out[0][0][1] == "class_7"
    assert out[0][0][2] == pytest.approx(0.5)
    assert out[1][0][:2] == ("n00000042", "class_42")
    with pytest.raises(ValueError, match=r"shape \(samples, 1000\), got .* \(2, 10\)"):
        imagenet_utils.decode_predictions(np.zeros((2, 10)))
