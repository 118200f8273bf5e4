"""EfficientNet B0 to B7 (Tan & Le, 2019), with Keras's layer names and weight files.

The eight members share one graph (`_efficientnet`) and one block table
(`_BLOCKS`); they differ by the width and depth coefficients that scale every
stage, the default resolution and the classifier's dropout (`_SIZES`).

Preprocessing is part of the model, as in Keras: `Rescaling(1/255)` then a
`Normalization` whose `mean`, `variance` and `count` are weights (zeros and
ones until Keras's ImageNet file fills them), so inputs are pixels in
`[0, 255]` and this module's `preprocess_input` returns its input unchanged.
With `weights="imagenet"` Keras adds a third layer dividing by the square roots
of ImageNet's standard deviations (its files store the standard deviations
where the variances belong); plait does the same, so the files load as they are.

Every function takes Keras's arguments: `include_top`, `weights` (None,
"imagenet" or a path), `input_tensor`, `input_shape`, `pooling` (None, "avg",
"max"), `classes`, `classifier_activation`, `name`.

Example:
    >>> model = EfficientNetB0(weights=None, include_top=False, input_shape=(32, 32, 3))
    >>> model.output_shape
    (None, 1, 1, 1280)
"""

from __future__ import annotations

import math
from typing import Any

from plait import backend, layers
from plait.applications import common, imagenet_utils
from plait.graph.symbolic import SymbolicTensor
from plait.models import Model

__all__ = [
    "EfficientNetB0",
    "EfficientNetB1",
    "EfficientNetB2",
    "EfficientNetB3",
    "EfficientNetB4",
    "EfficientNetB5",
    "EfficientNetB6",
    "EfficientNetB7",
    "decode_predictions",
    "preprocess_input",
]

_BASE_URL = "https://storage.googleapis.com/keras-applications/"

# Keras's MD5 hashes of its files, (with top, without top), per member.
_HASHES = {
    "b0": ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
    "b1": ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
    "b2": ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
    "b3": ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
    "b4": ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    "b5": ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
    "b6": ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
    "b7": ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}

# (width coefficient, depth coefficient, default size, top dropout) per member.
_SIZES = {
    "b0": (1.0, 1.0, 224, 0.2),
    "b1": (1.0, 1.1, 240, 0.2),
    "b2": (1.1, 1.2, 260, 0.3),
    "b3": (1.2, 1.4, 300, 0.3),
    "b4": (1.4, 1.8, 380, 0.4),
    "b5": (1.6, 2.2, 456, 0.4),
    "b6": (1.8, 2.6, 528, 0.5),
    "b7": (2.0, 3.1, 600, 0.5),
}

# B0's stages: (kernel, repeats, filters in, filters out, expansion, strides);
# every block squeezes-and-excites at ratio 0.25 and skips when shapes allow.
_BLOCKS = (
    (3, 1, 32, 16, 1, 1),
    (3, 2, 16, 24, 6, 2),
    (5, 2, 24, 40, 6, 2),
    (3, 3, 40, 80, 6, 2),
    (5, 3, 80, 112, 6, 1),
    (5, 4, 112, 192, 6, 2),
    (3, 1, 192, 320, 6, 1),
)

# Keras's initializers: He-like truncated normal over fan-out for convolutions,
# a uniform one for the classifier.
CONV_INIT = {
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
}
DENSE_INIT = {
    "class_name": "VarianceScaling",
    "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"},
}

# ImageNet's per-channel standard deviations of pixels in [0, 1].
_IMAGENET_STD = (0.229, 0.224, 0.225)


def channel_axis() -> int:
    """The channel axis of a batch of images in the current data format."""
    return 1 if backend.image_data_format() == "channels_first" else 3


def data_format() -> str:
    """The current image data format, given to each layer explicitly.

    plait's layers default to channels-last whatever `set_image_data_format`
    says, so the application passes the format Keras's layers would read.
    """
    return backend.image_data_format()


def conv_bn(
    x: SymbolicTensor,
    filters: int | None,
    kernel_size: int,
    name: str,
    strides: int = 1,
    padding: str = "same",
    momentum: float = 0.99,
    activation: str | None = None,
    conv_name: str = "conv",
) -> SymbolicTensor:
    """A bias-free convolution, its BatchNormalization, and optionally an activation.

    The layers are named from the prefix `name`: `<name><conv_name>`,
    `<name>bn`, `<name>activation` (`"block1a_expand_"` gives
    `block1a_expand_conv`, `block1a_expand_bn`, `block1a_expand_activation`).
    `filters=None` makes the convolution depthwise.
    """
    if filters is None:
        x = layers.DepthwiseConv2D(
            kernel_size,
            strides=strides,
            padding=padding,
            use_bias=False,
            depthwise_initializer=CONV_INIT,
            data_format=data_format(),
            name=f"{name}{conv_name}",
        )(x)
    else:
        x = layers.Conv2D(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            use_bias=False,
            kernel_initializer=CONV_INIT,
            data_format=data_format(),
            name=f"{name}{conv_name}",
        )(x)
    x = layers.BatchNormalization(
        axis=channel_axis(), momentum=momentum, name=f"{name}bn"
    )(x)
    if activation is not None:
        x = layers.Activation(activation, name=f"{name}activation")(x)
    return x


def squeeze_excite(
    x: SymbolicTensor, filters: int, squeezed: int, activation: str, name: str
) -> SymbolicTensor:
    """Scale `x`'s `filters` channels by gates learned from their global means."""
    se = layers.GlobalAveragePooling2D(data_format(), name=f"{name}se_squeeze")(x)
    shape = (filters, 1, 1) if channel_axis() == 1 else (1, 1, filters)
    se = layers.Reshape(shape, name=f"{name}se_reshape")(se)
    for units, act, part in (
        (squeezed, activation, "reduce"),
        (filters, "sigmoid", "expand"),
    ):
        se = layers.Conv2D(
            units,
            1,
            padding="same",
            activation=act,
            kernel_initializer=CONV_INIT,
            data_format=data_format(),
            name=f"{name}se_{part}",
        )(se)
    return layers.multiply([x, se], name=f"{name}se_excite")


def residual(
    x: SymbolicTensor, inputs: SymbolicTensor, drop_rate: float, name: str
) -> SymbolicTensor:
    """`inputs + x`, whole samples of `x` dropped at `drop_rate` in training."""
    if drop_rate > 0:
        # Keras compat: drop connect is a Dropout whose mask is one value per sample.
        x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(
            x
        )
    return layers.add([x, inputs], name=f"{name}add")


def head(
    x: SymbolicTensor,
    include_top: bool,
    dropout_rate: float,
    pooling: str | None,
    classes: int,
    classifier_activation: Any,
    weights: Any,
) -> SymbolicTensor:
    """The top (pooling, dropout, classifier) or a headless model's pooling."""
    if not include_top:
        pools = {"avg": layers.GlobalAveragePooling2D, "max": layers.GlobalMaxPooling2D}
        if pooling not in pools:
            return common.pool(x, pooling)  # None, or the shared error
        return pools[pooling](data_format(), name=f"{pooling}_pool")(x)
    x = layers.GlobalAveragePooling2D(data_format(), name="avg_pool")(x)
    if dropout_rate > 0:
        x = layers.Dropout(dropout_rate, name="top_dropout")(x)
    common.validate_activation(classifier_activation, weights)
    return layers.Dense(
        classes,
        activation=classifier_activation,
        kernel_initializer=DENSE_INIT,
        name="predictions",
    )(x)


def _round_filters(filters: int, width: float, divisor: int = 8) -> int:
    # Scale by `width`, round to a multiple of `divisor`, never 10% below the scaled value.
    scaled = filters * width
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    return int(rounded + divisor if rounded < 0.9 * scaled else rounded)


def _block(
    inputs: SymbolicTensor,
    drop_rate: float,
    name: str,
    kernel_size: int,
    filters_in: int,
    filters_out: int,
    expand_ratio: int,
    strides: int,
) -> SymbolicTensor:
    # Inverted residual: 1x1 expansion, depthwise conv, squeeze-excite, 1x1 projection.
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = conv_bn(x, filters, 1, f"{name}expand_", activation="swish")
    padding = "same"
    if strides == 2:
        pad = common.correct_pad(x, kernel_size)
        x = layers.ZeroPadding2D(pad, data_format(), name=f"{name}dwconv_pad")(x)
        padding = "valid"
    x = conv_bn(
        x,
        None,
        kernel_size,
        name,
        strides,
        padding,
        activation="swish",
        conv_name="dwconv",
    )
    x = squeeze_excite(x, filters, max(1, int(filters_in * 0.25)), "swish", name)
    x = conv_bn(x, filters_out, 1, f"{name}project_")
    if strides == 1 and filters_in == filters_out:
        x = residual(x, inputs, drop_rate, name)
    return x


def _stem(x: SymbolicTensor, weights: Any) -> SymbolicTensor:
    # Pixels in [0, 255] to ImageNet-normalized values, as Keras's graph does it.
    x = layers.Rescaling(1.0 / 255.0)(x)
    x = layers.Normalization(axis=channel_axis())(x)
    if weights == "imagenet":
        # Keras compat: its files hold the standard deviations as `variance`, so
        # Normalization divides by sqrt(std) and this layer by sqrt(std) again.
        x = layers.Rescaling([1.0 / math.sqrt(s) for s in _IMAGENET_STD])(x)
    return x


def _efficientnet(
    member: str,
    *,
    include_top: bool,
    weights: Any,
    input_tensor: Any,
    input_shape: Any,
    pooling: str | None,
    classes: int,
    classifier_activation: Any,
    name: str,
) -> Model:
    # The graph shared by B0..B7, scaled by the member's coefficients.
    width, depth, default_size, dropout_rate = _SIZES[member]
    common.check_weights(weights, include_top, classes)
    shape = common.obtain_input_shape(
        input_shape,
        default_size=default_size,
        min_size=32,
        data_format=backend.image_data_format(),
        require_flatten=include_top,
        weights=weights,
    )
    img, inputs = common.image_input(input_tensor, shape)
    x = _stem(img, weights)
    pad = common.correct_pad(x, 3)
    x = layers.ZeroPadding2D(pad, data_format(), name="stem_conv_pad")(x)
    x = conv_bn(
        x, _round_filters(32, width), 3, "stem_", 2, "valid", activation="swish"
    )
    stages = [(row, math.ceil(depth * row[1])) for row in _BLOCKS]
    total = float(sum(repeats for _, repeats in stages))
    index = 0
    for stage, ((kernel, _, f_in, f_out, expand, strides), repeats) in enumerate(
        stages
    ):
        f_in, f_out = _round_filters(f_in, width), _round_filters(f_out, width)
        for j in range(repeats):
            x = _block(
                x,
                0.2 * index / total,
                f"block{stage + 1}{chr(ord('a') + j)}_",
                kernel,
                f_in if j == 0 else f_out,
                f_out,
                expand,
                strides if j == 0 else 1,
            )
            index += 1
    x = conv_bn(x, _round_filters(1280, width), 1, "top_", activation="swish")
    x = head(
        x, include_top, dropout_rate, pooling, classes, classifier_activation, weights
    )
    model = Model(inputs, x, name=name)

    files = common.top_or_notop_file(_BASE_URL, name, include_top, _HASHES[member])
    common.load_weights(model, weights, files)
    return model


def EfficientNetB0(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb0",
) -> Model:
    """EfficientNet-B0: 224x224 by default (see the module docstring for the arguments)."""
    return _efficientnet("b0", **locals())


def EfficientNetB1(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb1",
) -> Model:
    """EfficientNet-B1: 240x240 by default (see the module docstring for the arguments)."""
    return _efficientnet("b1", **locals())


def EfficientNetB2(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb2",
) -> Model:
    """EfficientNet-B2: 260x260 by default (see the module docstring for the arguments)."""
    return _efficientnet("b2", **locals())


def EfficientNetB3(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb3",
) -> Model:
    """EfficientNet-B3: 300x300 by default (see the module docstring for the arguments)."""
    return _efficientnet("b3", **locals())


def EfficientNetB4(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb4",
) -> Model:
    """EfficientNet-B4: 380x380 by default (see the module docstring for the arguments)."""
    return _efficientnet("b4", **locals())


def EfficientNetB5(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb5",
) -> Model:
    """EfficientNet-B5: 456x456 by default (see the module docstring for the arguments)."""
    return _efficientnet("b5", **locals())


def EfficientNetB6(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb6",
) -> Model:
    """EfficientNet-B6: 528x528 by default (see the module docstring for the arguments)."""
    return _efficientnet("b6", **locals())


def EfficientNetB7(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "efficientnetb7",
) -> Model:
    """EfficientNet-B7: 600x600 by default (see the module docstring for the arguments)."""
    return _efficientnet("b7", **locals())


# Keras's module functions: EfficientNet preprocesses inside the model.
preprocess_input = common.preprocess_input_unchanged
decode_predictions = imagenet_utils.decode_predictions
