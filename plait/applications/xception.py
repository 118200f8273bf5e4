"""Xception (Chollet, 2017: https://arxiv.org/abs/1610.02357), as Keras builds it.

Depthwise-separable convolutions throughout: an entry flow of three strided
blocks with 1x1 convolution shortcuts, eight middle blocks with identity
shortcuts, and an exit flow. Layer names are Keras's (`block2_sepconv1`, ...);
the shortcut convolutions and their BatchNormalizations are unnamed in Keras
(`conv2d`, `batch_normalization`, ...) and made in Keras's order here, so the
weights line up with Keras's files. Inputs are scaled to [-1, 1].
"""

from __future__ import annotations

from typing import Any

from plait import backend, layers
from plait.applications import common
from plait.applications.inception_v3 import decode_predictions as decode_predictions
from plait.applications.inception_v3 import preprocess_input as preprocess_input
from plait.graph.symbolic import SymbolicTensor
from plait.models import Model

__all__ = ["Xception", "decode_predictions", "preprocess_input"]

_HASHES = ("0a58e3b7378bc2990ea3b43d5981f1f6", "b0042744bf5b25fce3cb969f33bebb97")


def _bn(x: SymbolicTensor, name: str | None = None) -> SymbolicTensor:
    axis = 1 if backend.image_data_format() == "channels_first" else -1
    return layers.BatchNormalization(axis=axis, name=name)(x)


def _relu(x: SymbolicTensor, name: str) -> SymbolicTensor:
    return layers.Activation("relu", name=name)(x)


def _sep(x: SymbolicTensor, filters: int, name: str) -> SymbolicTensor:
    # A 3x3 separable convolution and its BatchNormalization.
    x = layers.SeparableConv2D(
        filters, (3, 3), padding="same", use_bias=False, name=name
    )(x)
    return _bn(x, f"{name}_bn")


def _down(
    x: SymbolicTensor, block: int, filters: tuple[int, int], pre_act: bool
) -> SymbolicTensor:
    # Two separable convs, a strided max pooling, plus a strided 1x1 shortcut.
    name = f"block{block}"
    residual = layers.Conv2D(
        filters[1], (1, 1), strides=(2, 2), padding="same", use_bias=False
    )(x)
    residual = _bn(residual)
    if pre_act:
        x = _relu(x, f"{name}_sepconv1_act")
    x = _sep(x, filters[0], f"{name}_sepconv1")
    x = _sep(_relu(x, f"{name}_sepconv2_act"), filters[1], f"{name}_sepconv2")
    x = layers.MaxPooling2D(
        (3, 3), strides=(2, 2), padding="same", name=f"{name}_pool"
    )(x)
    return layers.add([x, residual])


def _middle(x: SymbolicTensor, block: int) -> SymbolicTensor:
    residual = x
    for i in (1, 2, 3):
        name = f"block{block}_sepconv{i}"
        x = _sep(_relu(x, f"{name}_act"), 728, name)
    return layers.add([x, residual])


def _body(x: SymbolicTensor) -> SymbolicTensor:
    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(
        x
    )
    x = _relu(_bn(x, "block1_conv1_bn"), "block1_conv1_act")
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = _relu(_bn(x, "block1_conv2_bn"), "block1_conv2_act")
    x = _down(x, 2, (128, 128), pre_act=False)
    x = _down(x, 3, (256, 256), pre_act=True)
    x = _down(x, 4, (728, 728), pre_act=True)
    for block in range(5, 13):
        x = _middle(x, block)
    x = _down(x, 13, (728, 1024), pre_act=True)
    x = _relu(_sep(x, 1536, "block14_sepconv1"), "block14_sepconv1_act")
    return _relu(_sep(x, 2048, "block14_sepconv2"), "block14_sepconv2_act")


def Xception(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "xception",
) -> Model:
    """Xception: 36 convolutions, most of them depthwise-separable, in 14 blocks.

    The arguments, return value and errors are `InceptionV3`'s, with inputs of
    at least 71x71 (299x299 with the top and ImageNet weights); inputs are
    scaled by `plait.applications.xception.preprocess_input`.

    Example:
        >>> from plait.applications import Xception
        >>> model = Xception(weights=None, include_top=False, pooling="avg",
        ...                  input_shape=(71, 71, 3))
        >>> model.output_shape
        (None, 2048)
    """
    return common.imagenet_model(
        _body,
        **locals(),  # the arguments above, by name
        default_size=299,
        min_size=71,
        files=common.tf_kernels_files("xception", "xception", _HASHES),
    )
