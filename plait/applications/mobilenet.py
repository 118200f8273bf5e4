"""MobileNet (Howard et al., 2017): depthwise-separable convolutions, width `alpha`.

`MobileNet(...)` builds Keras's graph with Keras's layer names (`conv1`,
`conv_dw_<i>`, `conv_pw_<i>`, `conv_preds`, ...), so Keras's weight files load.
ImageNet weights exist for `alpha` in 0.25, 0.5, 0.75, 1.0 and square inputs of
128, 160, 192 or 224 pixels; the file is chosen from `alpha`, the input size
and `include_top`, as Keras chooses it (another size gets the 224 weights, with
a warning). Inputs are scaled with `preprocess_input` (to [-1, 1]).
"""

from __future__ import annotations

import warnings
from typing import Any

from plait import backend, layers
from plait.applications import common, imagenet_utils
from plait.graph.symbolic import SymbolicTensor
from plait.models import Model

__all__ = ["MobileNet", "decode_predictions", "preprocess_input"]

BASE_WEIGHTS_PATH = common.KERAS_WEIGHTS + "mobilenet/"
_ALPHA_TEXT = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}
_SIZES = (128, 160, 192, 224)
# (pointwise filters, stride) of the 13 depthwise-separable blocks.
_BLOCKS = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    *((512, 1),) * 5,
    (1024, 2),
    (1024, 1),
)


def channel_axis() -> int:
    """The channels axis of an image batch in the current data format."""
    return 1 if backend.image_data_format() == "channels_first" else -1


def channels(x: SymbolicTensor) -> int:
    """The number of channels of an image batch `x` (known in these networks)."""
    return int(x.shape[channel_axis()])  # type: ignore[arg-type]


def spatial(shape: Any) -> tuple[Any, Any]:
    """(rows, cols) of a per-sample image shape in the current data format."""
    if backend.image_data_format() == "channels_first":
        return shape[1], shape[2]
    return shape[0], shape[1]


def default_size(shape: Any, sizes: tuple[int, ...]) -> int:
    """Keras's default input side: the given square side if it has weights, else 224."""
    if shape is None:
        return 224
    rows, cols = spatial(shape)
    return int(rows) if rows == cols and rows in sizes else 224


def dotless(name: str) -> str:
    """Keras's default model name with `_` for `.` (a plait name has no `.`)."""
    return name.replace(".", "_")


def imagenet_rows(shape: tuple[Any, ...], sizes: tuple[int, ...], weights: Any) -> Any:
    """The input side whose ImageNet weights are loaded (and that names the model).

    With ImageNet weights and a non-square input, or a side with no weight file,
    the 224 weights are used, with a warning, as Keras does.
    """
    rows, cols = spatial(shape)
    if weights == "imagenet" and (rows != cols or rows not in sizes):
        warnings.warn(
            "`input_shape` is undefined or non-square, or `rows` is not in "
            f"{list(sizes)}; got input_shape={shape}. Weights for input shape "
            "(224, 224) will be loaded as the default.",
            stacklevel=3,
        )
        return 224
    return rows


def _separable_block(
    x: SymbolicTensor, filters: int, strides: int, depth_multiplier: int, block_id: int
) -> SymbolicTensor:
    # Block `block_id`: a depthwise 3x3 (a strided one padded bottom-right, as
    # TF's 'same') and a pointwise 1x1, each followed by BN and ReLU6.
    padding = "same"
    if strides != 1:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
        padding = "valid"
    x = layers.DepthwiseConv2D(
        3,
        strides=strides,
        padding=padding,
        depth_multiplier=depth_multiplier,
        use_bias=False,
        name=f"conv_dw_{block_id}",
    )(x)
    x = layers.BatchNormalization(axis=channel_axis(), name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(
        filters, 1, padding="same", use_bias=False, name=f"conv_pw_{block_id}"
    )(x)
    x = layers.BatchNormalization(axis=channel_axis(), name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def _check_imagenet(alpha: float, depth_multiplier: int) -> None:
    if depth_multiplier != 1:
        raise ValueError(
            "MobileNet: with weights='imagenet', expected depth_multiplier=1, got "
            f"depth_multiplier={depth_multiplier!r}."
        )
    if alpha not in _ALPHA_TEXT:
        raise ValueError(
            "MobileNet: with weights='imagenet', expected alpha to be one of "
            f"0.25, 0.5, 0.75 or 1.0, got alpha={alpha!r}."
        )


def MobileNet(
    input_shape: Any = None,
    alpha: float = 1.0,
    depth_multiplier: int = 1,
    dropout: float = 1e-3,
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str | None = None,
) -> Model:
    """MobileNet, optionally with Keras's ImageNet weights.

    Args:
        input_shape: the image shape without the batch axis, e.g. (160, 160, 3);
            only with `include_top=False` or no ImageNet weights (the top with
            ImageNet weights takes 224x224). At least 32x32, 3 channels.
        alpha: the width multiplier: each layer's filters times `alpha`.
        depth_multiplier: the depthwise convolutions' depth multiplier.
        dropout: the dropout rate before the classifier.
        include_top: whether to end with the classifier (a 1x1 conv).
        weights: None, "imagenet" or the path to a Keras weights file.
        input_tensor: a tensor to use as the image input.
        pooling: without the top: None (4D output), "avg" or "max".
        classes: the number of classes of the top.
        classifier_activation: the top's activation (None or "softmax" with
            pretrained weights).
        name: the model's name; default Keras's `mobilenet_<alpha>_<rows>` with
            `_` for `.` (plait names hold no `.`): `mobilenet_1_00_224`.

    Returns:
        A functional `plait.Model`.

    Raises:
        ValueError: a bad `weights`, `classes`, `input_shape`, `pooling` or
            `classifier_activation`; with ImageNet weights, `alpha` not in
            (0.25, 0.5, 0.75, 1.0) or `depth_multiplier` not 1.
    """
    common.check_weights(weights, include_top, classes)
    input_shape = common.obtain_input_shape(
        input_shape,
        default_size(input_shape, _SIZES),
        32,
        backend.image_data_format(),
        include_top,
        weights,
    )
    if weights == "imagenet":
        _check_imagenet(alpha, depth_multiplier)
    rows = imagenet_rows(input_shape, _SIZES, weights)
    img, inputs = common.image_input(input_tensor, input_shape)
    x = layers.Conv2D(
        int(32 * alpha), 3, strides=2, padding="same", use_bias=False, name="conv1"
    )(img)
    x = layers.BatchNormalization(axis=channel_axis(), name="conv1_bn")(x)
    x = layers.ReLU(6.0, name="conv1_relu")(x)
    for block_id, (filters, strides) in enumerate(_BLOCKS, start=1):
        x = _separable_block(
            x, int(filters * alpha), strides, depth_multiplier, block_id
        )
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, 1, padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        common.validate_activation(classifier_activation, weights)
        x = layers.Activation(classifier_activation, name="predictions")(x)
    else:
        x = common.pool(x, pooling)
    model = Model(inputs, x, name=name or dotless(f"mobilenet_{alpha:0.2f}_{rows}"))

    def imagenet() -> tuple[str, str, None]:
        top = "" if include_top else "_no_top"
        fname = f"mobilenet_{_ALPHA_TEXT[alpha]}_{rows}_tf{top}.h5"
        return fname, BASE_WEIGHTS_PATH + fname, None  # Keras pins no hash

    common.load_weights(model, weights, imagenet)
    return model


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Scale RGB values in [0, 255] to [-1, 1], as MobileNet was trained.

    See `plait.applications.imagenet_utils.preprocess_input` (mode "tf").
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The `top` ImageNet classes of each prediction (see `imagenet_utils`)."""
    return imagenet_utils.decode_predictions(preds, top=top)
