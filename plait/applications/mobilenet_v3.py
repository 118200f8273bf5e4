"""MobileNetV3 (Howard et al., 2019): MobileNetV2 blocks with squeeze-excite and hard-swish.

`MobileNetV3Small(...)` and `MobileNetV3Large(...)` build Keras's graphs with
Keras's layer names (`conv`, `expanded_conv_<i>_*`, `conv_1`, `conv_2`,
`logits`), so Keras's weight files load. As in Keras, the model scales its
input itself (a `Rescaling` layer from [0, 255] to [-1, 1]) unless
`include_preprocessing=False`, so `preprocess_input` passes images through.
ImageNet weights exist for `alpha` 0.75 and 1.0 (1.0 only when `minimalistic`),
trained on 224x224 inputs. `minimalistic` drops squeeze-excite, hard-swish and
5x5 kernels. Hard-sigmoid and hard-swish are computed as Keras computes them:
`relu6(x + 3) / 6` and `x * relu6(x + 3) / 6`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from plait import backend, layers
from plait.applications import common
from plait.applications.mobilenet import (
    channels,
    decode_predictions,
    spatial,
)
from plait.applications.mobilenet_v2 import batch_norm, given_shape, make_divisible
from plait.graph.symbolic import SymbolicTensor
from plait.models import Model

__all__ = [
    "MobileNetV3Large",
    "MobileNetV3Small",
    "decode_predictions",
    "preprocess_input",
]

BASE_WEIGHTS_PATH = common.KERAS_WEIGHTS + "mobilenet_v3/"
# Keras's MD5s of the (top, no-top) weight files of each published configuration.
WEIGHTS_HASHES = {
    "large_224_0.75_float": (
        "765b44a33ad4005b3ac83185abf1d0eb",
        "40af19a13ebea4e2ee0c676887f69a2e",
    ),
    "large_224_1.0_float": (
        "59e551e166be033d707958cf9e29a6a7",
        "07fb09a5933dd0c8eaafa16978110389",
    ),
    "large_minimalistic_224_1.0_float": (
        "675e7b876c45c57e9e63e6d90a36599c",
        "ec5221f64a2f6d1ef965a614bdae7973",
    ),
    "small_224_0.75_float": (
        "cb65d4e5be93758266aa0a7f2c6708b7",
        "ebdb5cc8e0b497cd13a7c275d475c819",
    ),
    "small_224_1.0_float": (
        "8768d4c2e7dee89b9d02b2d03d65d862",
        "d3e8ec802a04aa4fc771ee12a9a9b836",
    ),
    "small_minimalistic_224_1.0_float": (
        "99cd97fb2fcdad2bf028eb838de69e37",
        "cde8136e733e811080d9fcd8a252f7e4",
    ),
}

# The blocks of each model: (expansion, filters, wide kernel, stride,
# squeeze-excite, hard-swish). "Wide" kernels are 5x5 (3x3 when minimalistic);
# squeeze-excite and hard-swish are dropped when minimalistic.
_SMALL = (
    (1, 16, False, 2, True, False),
    (72 / 16, 24, False, 2, False, False),
    (88 / 24, 24, False, 1, False, False),
    (4, 40, True, 2, True, True),
    (6, 40, True, 1, True, True),
    (6, 40, True, 1, True, True),
    (3, 48, True, 1, True, True),
    (3, 48, True, 1, True, True),
    (6, 96, True, 2, True, True),
    (6, 96, True, 1, True, True),
    (6, 96, True, 1, True, True),
)
_LARGE = (
    (1, 16, False, 1, False, False),
    (4, 24, False, 2, False, False),
    (3, 24, False, 1, False, False),
    (3, 40, True, 2, True, False),
    (3, 40, True, 1, True, False),
    (3, 40, True, 1, True, False),
    (6, 80, False, 2, False, True),
    (2.5, 80, False, 1, False, True),
    (2.3, 80, False, 1, False, True),
    (2.3, 80, False, 1, False, True),
    (6, 112, False, 1, True, True),
    (6, 112, False, 1, True, True),
    (6, 160, True, 2, True, True),
    (6, 160, True, 1, True, True),
    (6, 160, True, 1, True, True),
)
_SE_RATIO = 0.25

Activation = Callable[[SymbolicTensor], SymbolicTensor]


def _relu(x: SymbolicTensor) -> SymbolicTensor:
    return layers.ReLU()(x)


def _hard_sigmoid(x: SymbolicTensor) -> SymbolicTensor:
    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def _hard_swish(x: SymbolicTensor) -> SymbolicTensor:
    return layers.Activation("hard_swish")(x)


def _se_block(inputs: SymbolicTensor, filters: int, prefix: str) -> SymbolicTensor:
    # Squeeze-excite: the channels rescaled by a gate computed from their means.
    x = layers.GlobalAveragePooling2D(
        keepdims=True, name=f"{prefix}squeeze_excite_avg_pool"
    )(inputs)
    x = layers.Conv2D(
        make_divisible(filters * _SE_RATIO),
        1,
        padding="same",
        name=f"{prefix}squeeze_excite_conv",
    )(x)
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(
        filters, 1, padding="same", name=f"{prefix}squeeze_excite_conv_1"
    )(x)
    x = _hard_sigmoid(x)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, x])


def _inverted_res_block(
    x: SymbolicTensor,
    expansion: float,
    filters: int,
    kernel_size: int,
    stride: int,
    se: bool,
    activation: Activation,
    block_id: int,
) -> SymbolicTensor:
    # MobileNetV2's block with an optional squeeze-excite before the projection.
    shortcut = x
    in_filters = channels(x)
    expanded = make_divisible(in_filters * expansion)
    prefix = f"expanded_conv_{block_id}_" if block_id else "expanded_conv_"
    if block_id:
        x = layers.Conv2D(
            expanded, 1, padding="same", use_bias=False, name=f"{prefix}expand"
        )(x)
        x = activation(batch_norm(x, f"{prefix}expand_bn"))
    if stride == 2:
        pad = common.correct_pad(x, kernel_size)
        x = layers.ZeroPadding2D(pad, name=f"{prefix}depthwise_pad")(x)
    x = layers.DepthwiseConv2D(
        kernel_size,
        strides=stride,
        padding="same" if stride == 1 else "valid",
        use_bias=False,
        name=f"{prefix}depthwise",
    )(x)
    x = activation(batch_norm(x, f"{prefix}depthwise_bn"))
    if se:
        x = _se_block(x, expanded, prefix)
    x = layers.Conv2D(
        filters, 1, padding="same", use_bias=False, name=f"{prefix}project"
    )(x)
    x = batch_norm(x, f"{prefix}project_bn")
    if stride == 1 and in_filters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


def _input_shape(input_shape: Any, input_tensor: Any) -> tuple[Any, ...]:
    # The input shape (free spatial size by default), at least 32x32.
    shape = given_shape(input_shape, input_tensor)
    if shape is None:
        first = backend.image_data_format() == "channels_first"
        shape = (3, None, None) if first else (None, None, 3)
    shape = tuple(shape)
    if any(side is not None and side < 32 for side in spatial(shape)):
        raise ValueError(f"Input size must be at least 32x32; got input_shape={shape}.")
    return shape


def _check_imagenet(alpha: float, minimalistic: bool, shape: tuple[Any, ...]) -> None:
    if alpha not in ((1.0,) if minimalistic else (0.75, 1.0)):
        raise ValueError(
            "MobileNetV3: with weights='imagenet', expected alpha 0.75 or 1.0 "
            f"(1.0 when minimalistic), got alpha={alpha!r} with "
            f"minimalistic={minimalistic!r}."
        )
    rows, cols = spatial(shape)
    if rows != cols or rows != 224:
        warnings.warn(
            "`input_shape` is undefined or non-square, or `rows` is not 224; got "
            f"input_shape={shape}. Weights for input shape (224, 224) will be "
            "loaded as the default.",
            stacklevel=4,
        )


def _mobilenet_v3(
    blocks: tuple[tuple[Any, ...], ...],
    last_point_ch: int,
    model_type: str,
    args: dict[str, Any],
) -> Model:
    # The network both MobileNetV3 functions build, from their blocks table.
    alpha, minimalistic = args["alpha"], args["minimalistic"]
    include_top, weights = args["include_top"], args["weights"]
    common.check_weights(weights, include_top, args["classes"])
    shape = _input_shape(args["input_shape"], args["input_tensor"])
    if weights == "imagenet":
        _check_imagenet(alpha, minimalistic, shape)
    img, inputs = common.image_input(args["input_tensor"], shape)
    activation = _relu if minimalistic else _hard_swish
    x = img
    if args["include_preprocessing"]:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False, name="conv")(x)
    x = activation(batch_norm(x, "conv_bn"))
    for block_id, (expansion, filters, wide, stride, se, swish) in enumerate(blocks):
        x = _inverted_res_block(
            x,
            expansion,
            make_divisible(filters * alpha),
            5 if wide and not minimalistic else 3,
            stride,
            se and not minimalistic,
            activation if swish else _relu,
            block_id,
        )
    last_conv_ch = make_divisible(channels(x) * 6)
    if alpha > 1.0:
        last_point_ch = make_divisible(last_point_ch * alpha)
    x = layers.Conv2D(last_conv_ch, 1, padding="same", use_bias=False, name="conv_1")(x)
    x = activation(batch_norm(x, "conv_1_bn"))
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Conv2D(last_point_ch, 1, padding="same", name="conv_2")(x)
        x = activation(x)
        if args["dropout_rate"] > 0:
            x = layers.Dropout(args["dropout_rate"])(x)
        x = layers.Conv2D(args["classes"], 1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        common.validate_activation(args["classifier_activation"], weights)
        x = layers.Activation(args["classifier_activation"], name="predictions")(x)
    else:
        pooling = args["pooling"]
        x = common.pool(x, pooling, name="avg_pool" if pooling == "avg" else "max_pool")
    model = Model(inputs, x, name=args["name"])

    def imagenet() -> tuple[str, str, str]:
        kind = f"{model_type}_minimalistic" if minimalistic else model_type
        config = f"{kind}_224_{float(alpha)}_float"
        top, no_top = WEIGHTS_HASHES[config]
        fname = f"weights_mobilenet_v3_{config}"
        fname += ".h5" if include_top else "_no_top_v2.h5"
        return fname, BASE_WEIGHTS_PATH + fname, top if include_top else no_top

    common.load_weights(model, weights, imagenet)
    return model


def MobileNetV3Small(
    input_shape: Any = None,
    alpha: float = 1.0,
    minimalistic: bool = False,
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    classes: int = 1000,
    pooling: str | None = None,
    dropout_rate: float = 0.2,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "MobileNetV3Small",
) -> Model:
    """MobileNetV3Small, optionally with Keras's ImageNet weights.

    Args:
        input_shape: the image shape without the batch axis; any size of at
            least 32x32 (spatial size free by default); ImageNet weights were
            trained at 224x224.
        alpha: the width multiplier: each layer's filters times `alpha`
            (rounded to a multiple of 8).
        minimalistic: no squeeze-excite, hard-swish or 5x5 convolutions.
        include_top: whether to end with the classifier (1x1 convolutions).
        weights: None, "imagenet" or the path to a Keras weights file.
        input_tensor: a tensor to use as the image input.
        classes: the number of classes of the top.
        pooling: without the top: None (4D output), "avg" or "max".
        dropout_rate: the dropout rate before the top's last layer.
        classifier_activation: the top's activation (None or "softmax" with
            pretrained weights).
        include_preprocessing: whether the model rescales [0, 255] inputs to
            [-1, 1] itself (a `Rescaling` layer).
        name: the model's name.

    Returns:
        A functional `plait.Model`.

    Raises:
        ValueError: a bad `weights`, `classes`, `input_shape`, `pooling` or
            `classifier_activation`; `input_shape` unlike `input_tensor`'s shape;
            with ImageNet weights, an `alpha` Keras publishes no weights for.
    """
    return _mobilenet_v3(_SMALL, 1024, "small", locals())


def MobileNetV3Large(
    input_shape: Any = None,
    alpha: float = 1.0,
    minimalistic: bool = False,
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    classes: int = 1000,
    pooling: str | None = None,
    dropout_rate: float = 0.2,
    classifier_activation: Any = "softmax",
    include_preprocessing: bool = True,
    name: str = "MobileNetV3Large",
) -> Model:
    """MobileNetV3Large, optionally with Keras's ImageNet weights.

    Takes the arguments of `MobileNetV3Small` (see there); the large model has
    15 blocks and a 1280-channel top.
    """
    return _mobilenet_v3(_LARGE, 1280, "large", locals())


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """`x` unchanged: MobileNetV3 models rescale their input themselves.

    The model's `Rescaling` layer takes [0, 255] pixels (see
    `include_preprocessing`); this function is kept for the API's symmetry.
    """
    return x
