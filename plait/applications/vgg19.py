"""VGG19 (Simonyan & Zisserman, 2015), as Keras builds it: VGG16 with 16 convolutions.

Blocks 3 to 5 have four convolutions instead of three (`block3_conv4`, ...);
the rest, the weight layout and the input scaling are VGG16's (`vgg16`).
"""

from __future__ import annotations

from typing import Any

from plait.applications.vgg16 import decode_predictions as decode_predictions
from plait.applications.vgg16 import preprocess_input as preprocess_input
from plait.applications.vgg16 import vgg
from plait.models import Model

__all__ = ["VGG19", "decode_predictions", "preprocess_input"]


def VGG19(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "vgg19",
) -> Model:
    """VGG19: 16 convolutions in five blocks, then three Dense layers.

    The arguments, return value and errors are `VGG16`'s; the ImageNet weights
    are Keras's VGG19 files. Inputs are scaled by
    `plait.applications.vgg19.preprocess_input` (Caffe style, as VGG16's).

    Example:
        >>> from plait.applications import VGG19
        >>> model = VGG19(weights=None, include_top=False, input_shape=(32, 32, 3))
        >>> len([la for la in model.layers if la.name.startswith("block3_conv")])
        4
    """
    return vgg("vgg19", (2, 2, 4, 4, 4), **locals())  # the arguments, by name
