"""DenseNet (Huang et al., 2017): each layer takes every earlier layer's features.

`DenseNet121/169/201(...)` build Keras's graphs with Keras's layer names
(`conv1_conv`, `conv<stage>_block<i>_*`, `pool<stage>_*`, `bn`, `predictions`),
so Keras's weight files load. The three differ only in the number of layers of
their four dense blocks. Channels-last only, as in Keras. Inputs are scaled
with `preprocess_input` (ImageNet's per-channel mean and std, "torch" mode).
"""

from __future__ import annotations

from typing import Any

from plait import layers
from plait.applications import common, imagenet_utils
from plait.applications.imagenet_utils import decode_predictions
from plait.applications.mobilenet import channels
from plait.graph.symbolic import SymbolicTensor
from plait.models import Model

__all__ = [
    "DenseNet121",
    "DenseNet169",
    "DenseNet201",
    "decode_predictions",
    "preprocess_input",
]

# Layers per dense block -> (depth in the file name, Keras's MD5 of the top and
# no-top weight files).
_WEIGHTS = {
    (6, 12, 24, 16): (
        121,
        "9d60b8095a5708f2dcce2bca79d332c7",
        "30ee3e1110167f948a6b9946edeeb738",
    ),
    (6, 12, 32, 32): (
        169,
        "d699b8f76981ab1b30698df4c175e90b",
        "b8c4d4c20dd625c148057b9ff1c1176b",
    ),
    (6, 12, 48, 32): (
        201,
        "1ceb130c1ea1b78c3bf6114dbdfd8807",
        "c13680b51ded0fb44dff2d8f86ac8bb1",
    ),
}
_GROWTH_RATE = 32


def _bn_relu(x: SymbolicTensor, name: str) -> SymbolicTensor:
    # DenseNet's BatchNormalization (epsilon 1.001e-5) then ReLU.
    x = layers.BatchNormalization(axis=-1, epsilon=1.001e-5, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def _conv_block(x: SymbolicTensor, name: str) -> SymbolicTensor:
    # BN-ReLU-1x1 conv (4 x growth) - BN-ReLU-3x3 conv (growth), concatenated
    # to the block's input.
    y = _bn_relu(x, f"{name}_0")
    y = layers.Conv2D(4 * _GROWTH_RATE, 1, use_bias=False, name=f"{name}_1_conv")(y)
    y = _bn_relu(y, f"{name}_1")
    y = layers.Conv2D(
        _GROWTH_RATE, 3, padding="same", use_bias=False, name=f"{name}_2_conv"
    )(y)
    return layers.Concatenate(axis=-1, name=f"{name}_concat")([x, y])


def _transition_block(x: SymbolicTensor, name: str) -> SymbolicTensor:
    # BN-ReLU-1x1 conv halving the channels, then 2x2 average pooling.
    x = _bn_relu(x, name)
    x = layers.Conv2D(channels(x) // 2, 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def _densenet(blocks: tuple[int, int, int, int], args: dict[str, Any]) -> Model:
    # The network the three DenseNet functions build, from their block sizes.
    common.require_channels_last("DenseNet")
    include_top, weights = args["include_top"], args["weights"]
    common.check_weights(weights, include_top, args["classes"])
    shape = common.obtain_input_shape(
        args["input_shape"], 224, 32, "channels_last", include_top, weights
    )
    img, inputs = common.image_input(args["input_tensor"], shape)
    x = layers.ZeroPadding2D(((3, 3), (3, 3)))(img)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = _bn_relu(x, "conv1")
    x = layers.ZeroPadding2D(((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, size in enumerate(blocks, start=2):
        for i in range(1, size + 1):
            x = _conv_block(x, f"conv{stage}_block{i}")
        if stage < 5:
            x = _transition_block(x, f"pool{stage}")
    x = layers.BatchNormalization(axis=-1, epsilon=1.001e-5, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = common.classifier(
            x, args["classes"], args["classifier_activation"], weights
        )
    else:
        pooling = args["pooling"]
        x = common.pool(x, pooling, "avg_pool" if pooling == "avg" else "max_pool")
    model = Model(inputs, x, name=args["name"])

    depth, top_hash, notop_hash = _WEIGHTS[blocks]
    files = common.tf_kernels_files(
        "densenet", f"densenet{depth}", (top_hash, notop_hash)
    )
    common.load_weights(model, weights, lambda: files(include_top))
    return model


def DenseNet121(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "densenet121",
) -> Model:
    """DenseNet121, optionally with Keras's ImageNet weights.

    Args:
        include_top: whether to end with the pooled Dense classifier.
        weights: None, "imagenet" or the path to a Keras weights file.
        input_tensor: a tensor to use as the image input.
        input_shape: the image shape without the batch axis, e.g. (160, 160, 3);
            only with `include_top=False` or no ImageNet weights (the top with
            ImageNet weights takes 224x224). At least 32x32, 3 channels.
        pooling: without the top: None (4D output), "avg" or "max".
        classes: the number of classes of the top.
        classifier_activation: the top's activation (None or "softmax" with
            pretrained weights).
        name: the model's name.

    Returns:
        A functional `plait.Model`.

    Raises:
        ValueError: a bad `weights`, `classes`, `input_shape`, `pooling` or
            `classifier_activation`; the 'channels_first' data format.
    """
    return _densenet((6, 12, 24, 16), locals())


def DenseNet169(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "densenet169",
) -> Model:
    """DenseNet169: `DenseNet121`'s arguments (see there), dense blocks of 6-12-32-32."""
    return _densenet((6, 12, 32, 32), locals())


def DenseNet201(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "densenet201",
) -> Model:
    """DenseNet201: `DenseNet121`'s arguments (see there), dense blocks of 6-12-48-32."""
    return _densenet((6, 12, 48, 32), locals())


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Scale RGB values in [0, 255] to [0, 1], then by ImageNet's mean and std.

    See `plait.applications.imagenet_utils.preprocess_input` (mode "torch").
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="torch")
