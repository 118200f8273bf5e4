"""InceptionResNetV2 (Szegedy et al., 2016: https://arxiv.org/abs/1602.07261), as Keras builds it.

Inception modules with residual connections: after a stem and `mixed_5b`, ten
`block35`, twenty `block17` and ten `block8` blocks (with the reductions
`mixed_6a` and `mixed_7a` between them) each add a scaled 1x1 projection of
their concatenated branches to their input (`CustomScaleLayer`, Keras's layer
of that name). Names and creation order are Keras's, so the weights line up
with Keras's files. Inputs are scaled to [-1, 1].

A saved model holding `CustomScaleLayer` loads once this module is imported
(`import plait.applications`), as in Keras.
"""

from __future__ import annotations

from typing import Any, cast

import torch

from plait import layers
from plait.applications import common
from plait.applications.inception_v3 import (
    Kernel,
    chain,
    channel_axis,
    concat,
    conv_bn,
    reduce,
    stem,
)
from plait.applications.inception_v3 import decode_predictions as decode_predictions
from plait.applications.inception_v3 import preprocess_input as preprocess_input
from plait.graph.symbolic import SymbolicTensor
from plait.layers.serialization import register_builtin_class
from plait.models import Model

__all__ = ["InceptionResNetV2", "decode_predictions", "preprocess_input"]

_HASHES = ("e693bd0210a403b3192acc6073ad2e96", "d19885ff4a710c122648d3b5c3b684e4")


class CustomScaleLayer(layers.Layer):
    """`inputs[0] + scale * inputs[1]`: a residual connection with a scaled branch.

    Args:
        scale: the factor of the branch (`inputs[1]`).

    Example:
        >>> import torch
        >>> from plait.applications.inception_resnet_v2 import CustomScaleLayer
        >>> CustomScaleLayer(0.5)([torch.ones(2), torch.full((2,), 4.0)]).tolist()
        [3.0, 3.0]
    """

    def __init__(self, scale: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale = scale

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale}

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return inputs[0] + inputs[1] * self.scale

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape[0]


register_builtin_class(CustomScaleLayer)


# The branches of each residual block type: chains of (filters, kernel).
_BRANCHES: dict[str, list[list[tuple[int, Kernel]]]] = {
    "block35": [[(32, 1)], [(32, 1), (32, 3)], [(32, 1), (48, 3), (64, 3)]],
    "block17": [[(192, 1)], [(128, 1), (160, (1, 7)), (192, (7, 1))]],
    "block8": [[(192, 1)], [(192, 1), (224, (1, 3)), (256, (3, 1))]],
}


def _residual(
    x: SymbolicTensor, kind: str, idx: int, scale: float, relu: bool = True
) -> SymbolicTensor:
    name = f"{kind}_{idx}"
    # A convolution's output always has a known number of channels.
    channels = cast(int, x.shape[channel_axis()])
    mixed = concat([chain(x, *specs) for specs in _BRANCHES[kind]], f"{name}_mixed")
    up = layers.Conv2D(channels, 1, use_bias=True, name=f"{name}_conv")(mixed)
    x = CustomScaleLayer(scale)([x, up])
    return layers.Activation("relu", name=f"{name}_ac")(x) if relu else x


def _body(x: SymbolicTensor) -> SymbolicTensor:
    x = stem(x)
    x = concat(
        [
            chain(x, (96, 1)),
            chain(x, (48, 1), (64, 5)),
            chain(x, (64, 1), (96, 3), (96, 3)),
            conv_bn(layers.AveragePooling2D(3, strides=1, padding="same")(x), 64, 1),
        ],
        "mixed_5b",
    )
    for idx in range(1, 11):
        x = _residual(x, "block35", idx, 0.17)
    x = concat(
        [
            reduce(x, (384, 3)),
            reduce(x, (256, 1), (256, 3), (384, 3)),
            layers.MaxPooling2D(3, strides=2, padding="valid")(x),
        ],
        "mixed_6a",
    )
    for idx in range(1, 21):
        x = _residual(x, "block17", idx, 0.1)
    x = concat(
        [
            reduce(x, (256, 1), (384, 3)),
            reduce(x, (256, 1), (288, 3)),
            reduce(x, (256, 1), (288, 3), (320, 3)),
            layers.MaxPooling2D(3, strides=2, padding="valid")(x),
        ],
        "mixed_7a",
    )
    for idx in range(1, 10):
        x = _residual(x, "block8", idx, 0.2)
    x = _residual(x, "block8", 10, 1.0, relu=False)
    return conv_bn(x, 1536, 1, name="conv_7b")


def InceptionResNetV2(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "inception_resnet_v2",
) -> Model:
    """InceptionResNetV2: Inception modules with scaled residual connections.

    The arguments, return value and errors are `InceptionV3`'s (inputs of at
    least 75x75; 299x299 with the top and ImageNet weights); inputs are scaled
    by `plait.applications.inception_resnet_v2.preprocess_input`.

    Example:
        >>> from plait.applications import InceptionResNetV2
        >>> model = InceptionResNetV2(weights=None, include_top=False,
        ...                           pooling="avg", input_shape=(75, 75, 3))
        >>> model.output_shape
        (None, 1536)
    """
    return common.imagenet_model(
        _body,
        **locals(),  # the arguments above, by name
        default_size=299,
        min_size=75,
        files=common.tf_kernels_files(
            "inception_resnet_v2", "inception_resnet_v2", _HASHES
        ),
    )
