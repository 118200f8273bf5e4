"""ResNet50/101/152 (He et al., 2015: https://arxiv.org/abs/1512.03385), as Keras builds them.

One builder serves both families: `resnet` (v1, post-activation bottleneck
blocks, Caffe-style input scaling) and `resnet_v2` (pre-activation blocks,
inputs scaled to [-1, 1]). A depth is a table row: how many blocks each of the
four stages `conv2` ... `conv5` has. Layer names (`conv1_conv`,
`conv2_block1_0_conv`, ..., `post_bn`, `predictions`) are Keras's, so Keras's
published weight files load.
"""

from __future__ import annotations

from typing import Any

from plait import backend, layers
from plait.applications import common
from plait.applications.vgg16 import decode_predictions as decode_predictions
from plait.applications.vgg16 import preprocess_input as preprocess_input
from plait.graph.symbolic import SymbolicTensor
from plait.models import Model

__all__ = [
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "decode_predictions",
    "preprocess_input",
]

# Blocks per stage (conv2 .. conv5) of each depth.
DEPTHS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
# Keras's hashes of the weight files: (with the top, without it).
_HASHES = {
    "resnet50": (
        "2cb95161c43110f7111970584f804107",
        "4d473c1dd8becc155b73f8504c6f6626",
    ),
    "resnet101": (
        "f1aeb4b969a6efcfb50fad2f0c20cfc5",
        "88cf7a10940856eca736dc7b7e228a21",
    ),
    "resnet152": (
        "100835be76be38e30d865e96f2aaae62",
        "ee4c566cf9a93f14d82f913c2dc6dd0c",
    ),
    "resnet50v2": (
        "3ef43a0b657b3be2300d5770ece849e0",
        "fac2f116257151a9d068a22e544a4917",
    ),
    "resnet101v2": (
        "6343647c601c52e1368623803854d971",
        "c0ed64b8031c3730f411d2eb4eea35b5",
    ),
    "resnet152v2": (
        "a49b44d1979771252814e80f8ec446f9",
        "ed17cf2e0169df9d443503ef94b23b33",
    ),
}


def _bn(x: SymbolicTensor, name: str) -> SymbolicTensor:
    axis = 1 if backend.image_data_format() == "channels_first" else 3
    return layers.BatchNormalization(axis=axis, epsilon=1.001e-5, name=name)(x)


def _conv(
    x: SymbolicTensor, filters: int, kernel: int, name: str, **kw: Any
) -> SymbolicTensor:
    return layers.Conv2D(filters, kernel, name=name, **kw)(x)


def _block_v1(
    x: SymbolicTensor, filters: int, stride: int, conv_shortcut: bool, name: str
) -> SymbolicTensor:
    # Post-activation bottleneck: 1x1 (strided), 3x3, 1x1 (4x filters), add, relu.
    if conv_shortcut:
        shortcut = _conv(x, 4 * filters, 1, f"{name}_0_conv", strides=stride)
        shortcut = _bn(shortcut, f"{name}_0_bn")
    else:
        shortcut = x
    x = _conv(x, filters, 1, f"{name}_1_conv", strides=stride)
    x = layers.Activation("relu", name=f"{name}_1_relu")(_bn(x, f"{name}_1_bn"))
    x = _conv(x, filters, 3, f"{name}_2_conv", padding="same")
    x = layers.Activation("relu", name=f"{name}_2_relu")(_bn(x, f"{name}_2_bn"))
    x = _bn(_conv(x, 4 * filters, 1, f"{name}_3_conv"), f"{name}_3_bn")
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def _block_v2(
    x: SymbolicTensor, filters: int, stride: int, conv_shortcut: bool, name: str
) -> SymbolicTensor:
    # Pre-activation bottleneck: bn-relu first; the stride is on the 3x3 conv.
    preact = _bn(x, f"{name}_preact_bn")
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)
    if conv_shortcut:
        shortcut = _conv(preact, 4 * filters, 1, f"{name}_0_conv", strides=stride)
    else:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = _conv(preact, filters, 1, f"{name}_1_conv", use_bias=False)
    x = layers.Activation("relu", name=f"{name}_1_relu")(_bn(x, f"{name}_1_bn"))
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = _conv(x, filters, 3, f"{name}_2_conv", strides=stride, use_bias=False)
    x = layers.Activation("relu", name=f"{name}_2_relu")(_bn(x, f"{name}_2_bn"))
    x = _conv(x, 4 * filters, 1, f"{name}_3_conv")
    return layers.Add(name=f"{name}_out")([shortcut, x])


def _stage(
    x: SymbolicTensor, filters: int, blocks: int, stride: int, v2: bool, name: str
) -> SymbolicTensor:
    # v1 strides (and projects) in its first block, v2 strides in its last one
    # and projects in its first.
    for i in range(1, blocks + 1):
        block = f"{name}_block{i}"
        if v2:
            s = stride if i == blocks else 1
            x = _block_v2(x, filters, s, conv_shortcut=i == 1, name=block)
        else:
            s = stride if i == 1 else 1
            x = _block_v1(x, filters, s, conv_shortcut=i == 1, name=block)
    return x


def resnet(depth: int, v2: bool, **kwargs: Any) -> Model:
    """ResNet `depth` (50, 101, 152), v1 or v2; `kwargs` are the application's."""
    family = f"resnet{depth}{'v2' if v2 else ''}"

    def body(x: SymbolicTensor) -> SymbolicTensor:
        x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(x)
        x = _conv(x, 64, 7, "conv1_conv", strides=2)
        if not v2:
            x = layers.Activation("relu", name="conv1_relu")(_bn(x, "conv1_bn"))
        x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
        x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
        for stage, (filters, blocks) in enumerate(
            zip((64, 128, 256, 512), DEPTHS[depth])
        ):
            # v1: the first stage keeps the size; v2: the last one does.
            keep = stage == (3 if v2 else 0)
            x = _stage(x, filters, blocks, 1 if keep else 2, v2, f"conv{stage + 2}")
        if v2:
            x = layers.Activation("relu", name="post_relu")(_bn(x, "post_bn"))
        return x

    return common.imagenet_model(
        body,
        default_size=224,
        min_size=32,
        files=common.tf_kernels_files("resnet", family, _HASHES[family]),
        pool_names=True,
        **kwargs,
    )


def ResNet50(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "resnet50",
) -> Model:
    """ResNet50: a 7x7 stem, then 3, 4, 6 and 3 bottleneck blocks.

    The arguments, return value and errors are `plait.applications.VGG16`'s,
    but the top is global average pooling ("avg_pool") and the classifier, and
    the optional pooling layers are named "avg_pool" and "max_pool" as in
    Keras. Inputs are scaled by `plait.applications.resnet.preprocess_input`.

    Example:
        >>> from plait.applications import ResNet50
        >>> model = ResNet50(weights=None, include_top=False, pooling="avg",
        ...                  input_shape=(32, 32, 3))
        >>> model.output_shape
        (None, 2048)
    """
    return resnet(50, False, **locals())  # the arguments, by name


def ResNet101(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "resnet101",
) -> Model:
    """ResNet101: `ResNet50` with 23 blocks in stage `conv4`; the same arguments."""
    return resnet(101, False, **locals())  # the arguments, by name


def ResNet152(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "resnet152",
) -> Model:
    """ResNet152: `ResNet50` with 8 blocks in `conv3`, 36 in `conv4`; the same arguments."""
    return resnet(152, False, **locals())  # the arguments, by name
