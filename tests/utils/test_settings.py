"""Layers made with `data_format=None` take `plait.backend.image_data_format()`, as in Keras."""

import pytest

from plait import backend, layers
from plait.utils import settings

IMAGE_LAYERS = [
    lambda: layers.Conv2D(2, 3),
    lambda: layers.SeparableConv2D(2, 3),
    lambda: layers.MaxPooling2D(),
    lambda: layers.AveragePooling2D(),
    lambda: layers.GlobalAveragePooling2D(),
    lambda: layers.GlobalMaxPooling2D(),
    lambda: layers.ZeroPadding2D(1),
    lambda: layers.UpSampling2D(),
    lambda: layers.SpatialDropout2D(0.1),
    lambda: layers.Flatten(),
    lambda: layers.ConvLSTM2D(2, 3).cell,
    lambda: layers.Resizing(4, 4),
]


@pytest.fixture
def channels_first():
    backend.set_image_data_format("channels_first")
    yield
    backend.set_image_data_format("channels_last")


@pytest.mark.parametrize("make", IMAGE_LAYERS)
def test_layers_default_to_the_image_data_format(make, channels_first):
    assert settings.image_data_format() == "channels_first"
    assert make().data_format == "channels_first"


@pytest.mark.parametrize("make", IMAGE_LAYERS)
def test_layers_default_to_channels_last(make):
    assert make().data_format == "channels_last"


def test_channels_first_conv_builds_from_its_input(channels_first):
    x = layers.Input((3, 10, 12))
    assert layers.Conv2D(4, 3, padding="same")(x).shape == (None, 4, 10, 12)
    assert layers.GlobalAveragePooling2D()(x).shape == (None, 3)
