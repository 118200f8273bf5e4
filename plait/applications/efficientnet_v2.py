"""EfficientNetV2 B0 to B3, S, M and L (Tan & Le, 2021), with Keras's names and files.

The members share one graph (`_efficientnet_v2`): a stem, stages of fused
(one full convolution) and depthwise MBConv blocks from the member's table in
`_BLOCKS`, scaled by the width and depth coefficients of `_SIZES`, and
EfficientNet's top. The blocks reuse EfficientNet's pieces (convolution +
BatchNormalization, squeeze-excite, drop-connect residual) with V2's
BatchNormalization momentum of 0.9.

Preprocessing is part of the model unless `include_preprocessing=False`: the
B members rescale pixels in `[0, 255]` to `[0, 1]` and normalize them with
ImageNet's mean and variance (a `Normalization` with given statistics, so no
weights); S, M and L (and B members on inputs without 3 channels) rescale them
to `[-1, 1]`. This module's `preprocess_input` returns its input unchanged.

Every function takes Keras's arguments: `include_top`, `weights` (None,
"imagenet" or a path), `input_tensor`, `input_shape`, `pooling` (None, "avg",
"max"), `classes`, `classifier_activation`, `include_preprocessing`, `name`.

Example:
    >>> model = EfficientNetV2B0(weights=None, include_top=False, input_shape=(32, 32, 3))
    >>> model.output_shape
    (None, 1, 1, 1280)
"""

from __future__ import annotations

import math
from typing import Any

from plait import backend, layers
from plait.applications import common, imagenet_utils
from plait.applications.efficientnet import (
    channel_axis,
    conv_bn,
    head,
    residual,
    squeeze_excite,
)
from plait.graph.symbolic import SymbolicTensor
from plait.models import Model

__all__ = [
    "EfficientNetV2B0",
    "EfficientNetV2B1",
    "EfficientNetV2B2",
    "EfficientNetV2B3",
    "EfficientNetV2L",
    "EfficientNetV2M",
    "EfficientNetV2S",
    "decode_predictions",
    "preprocess_input",
]

_BASE_URL = common.KERAS_WEIGHTS + "efficientnet_v2/"

# Keras's MD5 hashes of its files, (with top, without top), per member.
_HASHES = {
    "b0": ("21ecbf6da12460d5c40bb2f29ceb2188", "893217f2bb855e2983157299931e43ff"),
    "b1": ("069f0534ff22adf035c89e2d9547a9dc", "0e80663031ca32d657f9caa404b6ec37"),
    "b2": ("424e49f28180edbde1e94797771950a7", "1dfe2e7a5d45b6632553a8961ea609eb"),
    "b3": ("1f1fc43bd98a6e4fd8fdfd551e02c7a0", "f6abf7b5849ac99a89b50dd3fd532856"),
    "s": ("e1d88a8495beba45748fedd0cecbe016", "af0682fb74e8c54910f2d4393339c070"),
    "m": ("a3bf6aa3276309f4fc6a34aa114c95cd", "1b8dc055df72dde80d614482840fe342"),
    "l": ("27e6d408b53c7ebc868fefa357689935", "b0b66b5c863aef5b46e8608fe1711615"),
}

# (width coefficient, depth coefficient, default size) per member.
_SIZES = {
    "b0": (1.0, 1.0, 224),
    "b1": (1.0, 1.1, 240),
    "b2": (1.1, 1.2, 260),
    "b3": (1.2, 1.4, 300),
    "s": (1.0, 1.0, 384),
    "m": (1.0, 1.0, 480),
    "l": (1.0, 1.0, 480),
}

# Stages: (kernel, repeats, filters in, filters out, expansion, squeeze-excite
# ratio, strides, fused); B1..B3 scale B0's table.
_B = (
    (3, 1, 32, 16, 1, 0.0, 1, True),
    (3, 2, 16, 32, 4, 0.0, 2, True),
    (3, 2, 32, 48, 4, 0.0, 2, True),
    (3, 3, 48, 96, 4, 0.25, 2, False),
    (3, 5, 96, 112, 6, 0.25, 1, False),
    (3, 8, 112, 192, 6, 0.25, 2, False),
)
_BLOCKS = {
    "b": _B,
    "s": (
        (3, 2, 24, 24, 1, 0.0, 1, True),
        (3, 4, 24, 48, 4, 0.0, 2, True),
        (3, 4, 48, 64, 4, 0.0, 2, True),
        (3, 6, 64, 128, 4, 0.25, 2, False),
        (3, 9, 128, 160, 6, 0.25, 1, False),
        (3, 15, 160, 256, 6, 0.25, 2, False),
    ),
    "m": (
        (3, 3, 24, 24, 1, 0.0, 1, True),
        (3, 5, 24, 48, 4, 0.0, 2, True),
        (3, 5, 48, 80, 4, 0.0, 2, True),
        (3, 7, 80, 160, 4, 0.25, 2, False),
        (3, 14, 160, 176, 6, 0.25, 1, False),
        (3, 18, 176, 304, 6, 0.25, 2, False),
        (3, 5, 304, 512, 6, 0.25, 1, False),
    ),
    "l": (
        (3, 4, 32, 32, 1, 0.0, 1, True),
        (3, 7, 32, 64, 4, 0.0, 2, True),
        (3, 7, 64, 96, 4, 0.0, 2, True),
        (3, 10, 96, 192, 4, 0.25, 2, False),
        (3, 19, 192, 224, 6, 0.25, 1, False),
        (3, 25, 224, 384, 6, 0.25, 2, False),
        (3, 7, 384, 640, 6, 0.25, 1, False),
    ),
}

_MOMENTUM = 0.9  # V2's BatchNormalization momentum (V1 keeps Keras's 0.99)


def _round_filters(filters: int, width: float, divisor: int = 8) -> int:
    # Scale by `width` and round to a multiple of `divisor` (at least 8).
    return int(max(divisor, int(filters * width + divisor / 2) // divisor * divisor))


def _block(
    inputs: SymbolicTensor,
    drop_rate: float,
    name: str,
    row: tuple[Any, ...],
) -> SymbolicTensor:
    # One MBConv (1x1 expansion, depthwise) or fused MBConv (full expansion conv)
    # block; both squeeze-excite when asked and project with a 1x1 conv.
    kernel, _, f_in, f_out, expand, se_ratio, strides, fused = row
    filters = f_in * expand
    x = inputs
    if expand != 1:
        size, step = (kernel, strides) if fused else (1, 1)
        x = conv_bn(
            x, filters, size, f"{name}expand_", step, "same", _MOMENTUM, "swish"
        )
    if not fused:
        x = conv_bn(
            x, None, kernel, name, strides, "same", _MOMENTUM, "swish", "dwconv2"
        )
    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, filters, max(1, int(f_in * se_ratio)), "swish", name)
    # A fused block without expansion does its one strided conv here.
    size, step = (kernel, strides) if fused and expand == 1 else (1, 1)
    activation = "swish" if fused and expand == 1 else None
    x = conv_bn(x, f_out, size, f"{name}project_", step, "same", _MOMENTUM, activation)
    if strides == 1 and f_in == f_out:
        x = residual(x, inputs, drop_rate, name)
    return x


def _preprocess(x: SymbolicTensor, member: str, channels: Any) -> SymbolicTensor:
    # The B members normalize as EfficientNet (V1) did; the others map to [-1, 1].
    if member.startswith("b") and channels == 3:
        x = layers.Rescaling(scale=1.0 / 255)(x)
        return layers.Normalization(
            mean=[0.485, 0.456, 0.406],
            variance=[0.229**2, 0.224**2, 0.225**2],
            axis=channel_axis(),
        )(x)
    return layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)


def _efficientnet_v2(
    member: str,
    *,
    include_top: bool,
    weights: Any,
    input_tensor: Any,
    input_shape: Any,
    pooling: str | None,
    classes: int,
    classifier_activation: Any,
    include_preprocessing: bool,
    name: str,
) -> Model:
    # The graph shared by every member, from its table and coefficients.
    width, depth, default_size = _SIZES[member]
    table = _BLOCKS[member[0]]
    common.check_weights(weights, include_top, classes)
    shape = common.obtain_input_shape(
        input_shape,
        default_size=default_size,
        min_size=32,
        data_format=backend.image_data_format(),
        require_flatten=include_top,
        weights=weights,
    )
    x, inputs = common.image_input(input_tensor, shape)
    if include_preprocessing:
        x = _preprocess(x, member, shape[channel_axis() - 1])
    stem = _round_filters(table[0][2], width)
    x = conv_bn(x, stem, 3, "stem_", 2, "same", _MOMENTUM, "swish")
    # Keras compat: drop rates grow over the table's repeats, before rounding.
    total = float(sum(row[1] for row in table))
    index = 0
    for stage, row in enumerate(table):
        f_in, f_out = _round_filters(row[2], width), _round_filters(row[3], width)
        for j in range(math.ceil(depth * row[1])):
            scaled = (*row[:2], f_in if j == 0 else f_out, f_out, *row[4:])
            if j > 0:
                scaled = (*scaled[:6], 1, scaled[7])  # only the first block strides
            name_j = f"block{stage + 1}{chr(ord('a') + j)}_"
            x = _block(x, 0.2 * index / total, name_j, scaled)
            index += 1
    top = _round_filters(1280, width)
    x = conv_bn(x, top, 1, "top_", 1, "same", _MOMENTUM, "swish")
    x = head(x, include_top, 0.2, pooling, classes, classifier_activation, weights)
    model = Model(inputs, x, name=name)
    files = common.top_or_notop_file(_BASE_URL, name, include_top, _HASHES[member])
    common.load_weights(model, weights, files)
    return model


def EfficientNetV2B0(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-b0",
) -> Model:
    """EfficientNetV2-B0: 224x224 by default (see the module docstring)."""
    return _efficientnet_v2("b0", **locals())


def EfficientNetV2B1(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-b1",
) -> Model:
    """EfficientNetV2-B1: 240x240 by default (see the module docstring)."""
    return _efficientnet_v2("b1", **locals())


def EfficientNetV2B2(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-b2",
) -> Model:
    """EfficientNetV2-B2: 260x260 by default (see the module docstring)."""
    return _efficientnet_v2("b2", **locals())


def EfficientNetV2B3(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-b3",
) -> Model:
    """EfficientNetV2-B3: 300x300 by default (see the module docstring)."""
    return _efficientnet_v2("b3", **locals())


def EfficientNetV2S(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-s",
) -> Model:
    """EfficientNetV2-S: 384x384 by default (see the module docstring)."""
    return _efficientnet_v2("s", **locals())


def EfficientNetV2M(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-m",
) -> Model:
    """EfficientNetV2-M: 480x480 by default (see the module docstring)."""
    return _efficientnet_v2("m", **locals())


def EfficientNetV2L(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "efficientnetv2-l",
) -> Model:
    """EfficientNetV2-L: 480x480 by default (see the module docstring)."""
    return _efficientnet_v2("l", **locals())


# Keras's module functions: EfficientNetV2 preprocesses inside the model.
preprocess_input = common.preprocess_input_unchanged
decode_predictions = imagenet_utils.decode_predictions
