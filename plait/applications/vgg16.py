"""VGG16 (Simonyan & Zisserman, 2015: https://arxiv.org/abs/1409.1556), as Keras builds it.

Five blocks of 3x3 "same" convolutions with ReLU, each closed by a 2x2 max
pooling, then (with `include_top`) two 4096-unit Dense layers and the
classifier. The layer names (`block1_conv1`, ..., `fc1`, `fc2`, `predictions`)
are Keras's, so Keras's published weight files load. `vgg19` shares the builder.
"""

from __future__ import annotations

from typing import Any

from plait import layers
from plait.applications import common, imagenet_utils
from plait.graph.symbolic import SymbolicTensor
from plait.models import Model

__all__ = ["VGG16", "decode_predictions", "preprocess_input"]

_FILTERS = (64, 128, 256, 512, 512)
# Keras's hashes of the weight files: (with the top, without it).
_HASHES = {
    "vgg16": ("64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc"),
    "vgg19": ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6"),
}


def vgg(family: str, convs: tuple[int, ...], **kwargs: Any) -> Model:
    """A VGG with `convs[i]` convolutions in block i+1; `kwargs` are the application's."""

    def body(x: SymbolicTensor) -> SymbolicTensor:
        for block, (filters, n) in enumerate(zip(_FILTERS, convs), start=1):
            for i in range(1, n + 1):
                x = layers.Conv2D(
                    filters,
                    (3, 3),
                    activation="relu",
                    padding="same",
                    name=f"block{block}_conv{i}",
                )(x)
            x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(
                x
            )
        return x

    def top(x: SymbolicTensor) -> SymbolicTensor:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        return layers.Dense(4096, activation="relu", name="fc2")(x)

    return common.imagenet_model(
        body,
        default_size=224,
        min_size=32,
        files=common.tf_kernels_files(family, family, _HASHES[family]),
        top=top,
        **kwargs,
    )


def VGG16(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "vgg16",
) -> Model:
    """VGG16: 13 convolutions in five blocks, then three Dense layers.

    Args:
        include_top: whether to end with the Dense layers `fc1`, `fc2` and the
            classifier (then the input must be 224x224 with ImageNet weights,
            and a fixed size otherwise).
        weights: None (random), "imagenet" (Keras's ImageNet weights, fetched
            once into the models cache and checked by hash) or the path of a
            Keras weight file (`.h5` or `.weights.h5`).
        input_tensor: a tensor to build the model on (a symbolic tensor: the
            model takes the Inputs it comes from), instead of a new Input.
        input_shape: the image shape without the batch axis, e.g. (200, 200, 3);
            at least 32x32. Without the top the spatial size may be None.
        pooling: without the top, None (4D feature maps), "avg" or "max"
            (global pooling to a 2D tensor).
        classes: the classifier's units (1000 with ImageNet weights).
        classifier_activation: the classifier's activation; None or "softmax"
            with pretrained weights.
        name: the model's name.

    Returns:
        A functional `plait.Model`. Its input takes images scaled by
        `plait.applications.vgg16.preprocess_input`.

    Raises:
        ValueError: a bad `weights`, `classes`, `input_shape`, `pooling` or
            `classifier_activation`, naming it and what was got.

    Example:
        >>> from plait.applications import VGG16
        >>> model = VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
        >>> model.output_shape
        (None, 1, 1, 512)
    """
    return vgg("vgg16", (2, 2, 3, 3, 3), **locals())  # the arguments, by name


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Caffe-style scaling: RGB to BGR, minus ImageNet's mean pixel (see `imagenet_utils`)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The `top` ImageNet classes of each row of `preds` (see `imagenet_utils`)."""
    return imagenet_utils.decode_predictions(preds, top=top)
