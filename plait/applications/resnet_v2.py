"""ResNet50V2/101V2/152V2 (He et al., 2016: https://arxiv.org/abs/1603.05027), as Keras builds them.

Pre-activation bottleneck blocks (BatchNormalization and ReLU before each
convolution, a final `post_bn`/`post_relu`), built by `resnet`'s builder with
Keras's layer names; inputs are scaled to [-1, 1].
"""

from __future__ import annotations

from typing import Any

from plait.applications.inception_v3 import decode_predictions as decode_predictions
from plait.applications.inception_v3 import preprocess_input as preprocess_input
from plait.applications.resnet import resnet
from plait.models import Model

__all__ = [
    "ResNet50V2",
    "ResNet101V2",
    "ResNet152V2",
    "decode_predictions",
    "preprocess_input",
]


def ResNet50V2(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "resnet50v2",
) -> Model:
    """ResNet50V2: 3, 4, 6 and 3 pre-activation bottleneck blocks.

    The arguments, return value and errors are `plait.applications.ResNet50`'s;
    inputs are scaled by `plait.applications.resnet_v2.preprocess_input`.

    Example:
        >>> from plait.applications import ResNet50V2
        >>> model = ResNet50V2(weights=None, include_top=False, pooling="max",
        ...                    input_shape=(32, 32, 3))
        >>> model.output_shape
        (None, 2048)
    """
    return resnet(50, True, **locals())  # the arguments, by name


def ResNet101V2(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "resnet101v2",
) -> Model:
    """ResNet101V2: `ResNet50V2` with 23 blocks in stage `conv4`; the same arguments."""
    return resnet(101, True, **locals())  # the arguments, by name


def ResNet152V2(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "resnet152v2",
) -> Model:
    """ResNet152V2: 8 blocks in `conv3`, 36 in `conv4`; `ResNet50V2`'s arguments."""
    return resnet(152, True, **locals())  # the arguments, by name
