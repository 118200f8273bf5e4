"""MobileNetV2 (Sandler et al., 2018): inverted residual blocks with linear bottlenecks.

`MobileNetV2(...)` builds Keras's graph with Keras's layer names (`Conv1`,
`expanded_conv_*`, `block_<i>_*`, `Conv_1`, `predictions`), so Keras's weight
files load. ImageNet weights exist for `alpha` in 0.35, 0.5, 0.75, 1.0, 1.3, 1.4
and square inputs of 96, 128, 160, 192 or 224 pixels; the file is chosen from
`alpha`, the input size and `include_top`, as Keras chooses it (another size gets
the 224 weights, with a warning). Inputs are scaled with `preprocess_input`.
"""

from __future__ import annotations

from typing import Any

from plait import backend, layers
from plait.applications import common
from plait.applications.mobilenet import (
    channel_axis,
    channels,
    decode_predictions,
    default_size,
    dotless,
    imagenet_rows,
    preprocess_input,
)
from plait.graph.symbolic import SymbolicTensor
from plait.models import Model

__all__ = ["MobileNetV2", "decode_predictions", "preprocess_input"]

BASE_WEIGHTS_PATH = common.KERAS_WEIGHTS + "mobilenet_v2/"
_ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
_SIZES = (96, 128, 160, 192, 224)
# (output filters, stride, expansion) of the 17 inverted residual blocks.
_BLOCKS = (
    (16, 1, 1),
    (24, 2, 6),
    (24, 1, 6),
    (32, 2, 6),
    *((32, 1, 6),) * 2,
    (64, 2, 6),
    *((64, 1, 6),) * 3,
    *((96, 1, 6),) * 3,
    (160, 2, 6),
    *((160, 1, 6),) * 2,
    (320, 1, 6),
)


def make_divisible(value: float, divisor: int = 8) -> int:
    """`value` rounded to a multiple of `divisor`, never below `divisor` or 90% of it."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def batch_norm(x: SymbolicTensor, name: str) -> SymbolicTensor:
    """The MobileNetV2/V3 BatchNormalization (epsilon 1e-3, momentum 0.999)."""
    return layers.BatchNormalization(
        axis=channel_axis(), epsilon=1e-3, momentum=0.999, name=name
    )(x)


def given_shape(input_shape: Any, input_tensor: Any) -> Any:
    """The per-sample input shape: `input_shape`, else a symbolic `input_tensor`'s.

    Raises:
        ValueError: both are given and their widths differ.
    """
    if input_tensor is None or not backend.is_keras_tensor(input_tensor):
        return input_shape
    shape = tuple(input_tensor.shape[1:])
    if input_shape is not None and tuple(input_shape)[-2] != shape[-2]:
        raise ValueError(
            "expected `input_shape` to match the shape of `input_tensor`, got "
            f"input_shape={tuple(input_shape)} and an input_tensor of shape "
            f"{tuple(input_tensor.shape)}."
        )
    return shape if input_shape is None else input_shape


def _inverted_res_block(
    x: SymbolicTensor, filters: int, stride: int, expansion: int, block_id: int
) -> SymbolicTensor:
    # Expand (1x1, except in block 0), depthwise 3x3, project (1x1, linear);
    # a residual add when the shape is kept.
    inputs = x
    in_channels = channels(x)
    prefix = f"block_{block_id}_" if block_id else "expanded_conv_"
    if block_id:
        x = layers.Conv2D(
            expansion * in_channels, 1, use_bias=False, name=f"{prefix}expand"
        )(x)
        x = batch_norm(x, f"{prefix}expand_BN")
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(x)
    if stride == 2:
        pad = common.correct_pad(x, 3)
        x = layers.ZeroPadding2D(pad, name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(
        3,
        strides=stride,
        padding="same" if stride == 1 else "valid",
        use_bias=False,
        name=f"{prefix}depthwise",
    )(x)
    x = batch_norm(x, f"{prefix}depthwise_BN")
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    x = layers.Conv2D(filters, 1, use_bias=False, name=f"{prefix}project")(x)
    x = batch_norm(x, f"{prefix}project_BN")
    if in_channels == filters and stride == 1:
        x = layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def MobileNetV2(
    input_shape: Any = None,
    alpha: float = 1.0,
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str | None = None,
) -> Model:
    """MobileNetV2, optionally with Keras's ImageNet weights.

    Args:
        input_shape: the image shape without the batch axis, e.g. (160, 160, 3);
            only with `include_top=False` or no ImageNet weights (the top with
            ImageNet weights takes 224x224). At least 32x32, 3 channels.
        alpha: the width multiplier: each layer's filters times `alpha`
            (rounded to a multiple of 8).
        include_top: whether to end with the pooled Dense classifier.
        weights: None, "imagenet" or the path to a Keras weights file.
        input_tensor: a tensor to use as the image input.
        pooling: without the top: None (4D output), "avg" or "max".
        classes: the number of classes of the top.
        classifier_activation: the top's activation (None or "softmax" with
            pretrained weights).
        name: the model's name; default Keras's `mobilenetv2_<alpha>_<rows>`
            with `_` for `.` (plait names hold no `.`): `mobilenetv2_1_00_224`.

    Returns:
        A functional `plait.Model`.

    Raises:
        ValueError: a bad `weights`, `classes`, `input_shape`, `pooling` or
            `classifier_activation`; `input_shape` unlike `input_tensor`'s shape;
            with ImageNet weights, `alpha` with no published weights.
    """
    common.check_weights(weights, include_top, classes)
    size = default_size(given_shape(input_shape, input_tensor), _SIZES)
    input_shape = common.obtain_input_shape(
        input_shape, size, 32, backend.image_data_format(), include_top, weights
    )
    if weights == "imagenet" and alpha not in _ALPHAS:
        raise ValueError(
            "MobileNetV2: with weights='imagenet', expected alpha to be one of "
            f"{', '.join(map(str, _ALPHAS))}, got alpha={alpha!r}."
        )
    rows = imagenet_rows(input_shape, _SIZES, weights)
    img, inputs = common.image_input(input_tensor, input_shape)
    x = layers.Conv2D(
        make_divisible(32 * alpha),
        3,
        strides=2,
        padding="same",
        use_bias=False,
        name="Conv1",
    )(img)
    x = batch_norm(x, "bn_Conv1")
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        filters = make_divisible(int(filters * alpha))
        x = _inverted_res_block(x, filters, stride, expansion, block_id)
    last = make_divisible(1280 * alpha) if alpha > 1.0 else 1280
    x = layers.Conv2D(last, 1, use_bias=False, name="Conv_1")(x)
    x = batch_norm(x, "Conv_1_bn")
    x = layers.ReLU(6.0, name="out_relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        x = common.classifier(x, classes, classifier_activation, weights)
    else:
        x = common.pool(x, pooling)
    model = Model(inputs, x, name=name or dotless(f"mobilenetv2_{alpha:0.2f}_{rows}"))

    def imagenet() -> tuple[str, str, None]:
        top = "" if include_top else "_no_top"
        fname = (
            "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_"
            f"{float(alpha)}_{rows}{top}.h5"
        )
        return fname, BASE_WEIGHTS_PATH + fname, None  # Keras pins no hash

    common.load_weights(model, weights, imagenet)
    return model
