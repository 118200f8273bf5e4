"""InceptionV3 (Szegedy et al., 2015: https://arxiv.org/abs/1512.00567), as Keras builds it.

A stem of plain convolutions, then Inception modules `mixed0` ... `mixed10`:
parallel branches of factorized convolutions (1x7 then 7x1, ...) and pooling,
concatenated along the channels. Each convolution is Conv2D (no bias),
BatchNormalization (no scale) and ReLU, unnamed as in Keras (`conv2d_1`, ...),
created in Keras's order so the weights line up with Keras's files.
Inputs are scaled to [-1, 1] (`preprocess_input`, shared by `xception`,
`inception_resnet_v2` and `resnet_v2`).
"""

from __future__ import annotations

from typing import Any

from plait import backend, layers
from plait.applications import common, imagenet_utils
from plait.graph.symbolic import SymbolicTensor
from plait.models import Model

__all__ = ["InceptionV3", "decode_predictions", "preprocess_input"]

_HASHES = ("9a0d58056eeedaa3f26cb7ebd46da564", "bcbd6486424b2319ff4ef7d526e38f63")
Kernel = int | tuple[int, int]


def channel_axis() -> int:
    """The channels axis of a 4D image tensor in the current data format."""
    return 1 if backend.image_data_format() == "channels_first" else 3


def conv_bn(
    x: SymbolicTensor,
    filters: int,
    kernel: Kernel,
    strides: int = 1,
    padding: str = "same",
    name: str | None = None,
) -> SymbolicTensor:
    """Conv2D (no bias), BatchNormalization (no scale), ReLU: the Inception unit.

    Named `name`, `name_bn`, `name_ac` when `name` is given (Keras's
    InceptionResNetV2 names), else auto-named as all of InceptionV3's are.
    """
    x = layers.Conv2D(
        filters, kernel, strides=strides, padding=padding, use_bias=False, name=name
    )(x)
    bn = None if name is None else f"{name}_bn"
    x = layers.BatchNormalization(axis=channel_axis(), scale=False, name=bn)(x)
    return layers.Activation("relu", name=None if name is None else f"{name}_ac")(x)


def chain(x: SymbolicTensor, *specs: tuple[int, Kernel]) -> SymbolicTensor:
    """`conv_bn` units one after the other, each `(filters, kernel)`."""
    for filters, kernel in specs:
        x = conv_bn(x, filters, kernel)
    return x


def reduce(x: SymbolicTensor, *specs: tuple[int, Kernel]) -> SymbolicTensor:
    """A `chain` whose last unit has stride 2 and no padding."""
    return conv_bn(chain(x, *specs[:-1]), *specs[-1], strides=2, padding="valid")


def concat(branches: list[SymbolicTensor], name: str | None) -> SymbolicTensor:
    """The branches concatenated along the channels."""
    return layers.Concatenate(axis=channel_axis(), name=name)(branches)


def _pool_branch(x: SymbolicTensor, filters: int) -> SymbolicTensor:
    x = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
    return conv_bn(x, filters, 1)


def _block_35(x: SymbolicTensor, pool_filters: int, name: str) -> SymbolicTensor:
    # 1x1 | 1x1-5x5 | 1x1-3x3-3x3 | avgpool-1x1, at 35x35 for 299x299 inputs.
    return concat(
        [
            chain(x, (64, 1)),
            chain(x, (48, 1), (64, 5)),
            chain(x, (64, 1), (96, 3), (96, 3)),
            _pool_branch(x, pool_filters),
        ],
        name,
    )


def _block_17(x: SymbolicTensor, c7: int, name: str) -> SymbolicTensor:
    # 7x7 convolutions factorized into 1x7 and 7x1, with `c7` inner filters.
    return concat(
        [
            chain(x, (192, 1)),
            chain(x, (c7, 1), (c7, (1, 7)), (192, (7, 1))),
            chain(x, (c7, 1), (c7, (7, 1)), (c7, (1, 7)), (c7, (7, 1)), (192, (1, 7))),
            _pool_branch(x, 192),
        ],
        name,
    )


def _block_8(x: SymbolicTensor, i: int) -> SymbolicTensor:
    # Expanded filter bank: 3x3 split into parallel 1x3 and 3x1 outputs.
    def split(y: SymbolicTensor, name: str | None) -> SymbolicTensor:
        return concat([conv_bn(y, 384, (1, 3)), conv_bn(y, 384, (3, 1))], name)

    return concat(
        [
            chain(x, (320, 1)),
            split(chain(x, (384, 1)), f"mixed9_{i}"),
            split(chain(x, (448, 1), (384, 3)), None),
            _pool_branch(x, 192),
        ],
        f"mixed{9 + i}",
    )


def _reduction(
    x: SymbolicTensor,
    a: list[tuple[int, Kernel]],
    b: list[tuple[int, Kernel]],
    name: str,
) -> SymbolicTensor:
    # Two conv branches ending in a strided 3x3, and a strided max pooling.
    branches = [reduce(x, *a), reduce(x, *b)]
    pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    return concat([*branches, pool], name)


def stem(x: SymbolicTensor) -> SymbolicTensor:
    """Five units and two max poolings: 299x299 images to 35x35 (InceptionResNetV2's too)."""
    x = conv_bn(x, 32, 3, 2, "valid")
    x = conv_bn(x, 32, 3, padding="valid")
    x = conv_bn(x, 64, 3)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = conv_bn(x, 80, 1, padding="valid")
    x = conv_bn(x, 192, 3, padding="valid")
    return layers.MaxPooling2D((3, 3), strides=(2, 2))(x)


def _body(x: SymbolicTensor) -> SymbolicTensor:
    x = stem(x)
    for i, pool_filters in enumerate((32, 64, 64)):
        x = _block_35(x, pool_filters, f"mixed{i}")
    x = _reduction(x, [(384, 3)], [(64, 1), (96, 3), (96, 3)], "mixed3")
    for i, c7 in enumerate((128, 160, 160, 192)):
        x = _block_17(x, c7, f"mixed{4 + i}")
    x = _reduction(
        x,
        [(192, 1), (320, 3)],
        [(192, 1), (192, (1, 7)), (192, (7, 1)), (192, 3)],
        "mixed8",
    )
    for i in range(2):
        x = _block_8(x, i)
    return x


def InceptionV3(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "inception_v3",
) -> Model:
    """InceptionV3: a convolutional stem and eleven Inception modules.

    The arguments, return value and errors are `plait.applications.VGG16`'s,
    but the top is global average pooling ("avg_pool") and the classifier, the
    default input is 299x299 and the smallest 75x75. Inputs are scaled by
    `plait.applications.inception_v3.preprocess_input`.

    Example:
        >>> from plait.applications import InceptionV3
        >>> model = InceptionV3(weights=None, include_top=False,
        ...                     input_shape=(75, 75, 3))
        >>> model.output_shape
        (None, 1, 1, 2048)
    """
    return common.imagenet_model(
        _body,
        **locals(),  # the arguments above, by name
        default_size=299,
        min_size=75,
        files=common.tf_kernels_files("inception_v3", "inception_v3", _HASHES),
    )


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Scale RGB values in [0, 255] to [-1, 1] ("tf" mode of `imagenet_utils`)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The `top` ImageNet classes of each row of `preds` (see `imagenet_utils`)."""
    return imagenet_utils.decode_predictions(preds, top=top)
