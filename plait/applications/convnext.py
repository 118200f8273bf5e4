"""ConvNeXt Tiny to XLarge (Liu et al., 2022), with Keras's layer names and weight files.

The five members share one graph (`_convnext`) and differ by their stage depths
and widths (`_CONFIGS`). Preprocessing is part of the model, as in Keras: a
`Normalization` with ImageNet's mean and variance of pixels in `[0, 255]` (no
weights), so this module's `preprocess_input` returns its input unchanged.

The stem and each downsampling step are nested `Sequential` models, as in
Keras, so Keras's weight files (which group their weights per nested model)
load as they are. Blocks end in Keras's `LayerScale` (a learned per-channel
scale) and, for a non-zero drop path rate, `StochasticDepth`; both are plait
layers defined here under Keras's class names, so saved models load them.

Every function takes Keras's arguments: `include_top`, `include_preprocessing`,
`weights` (None, "imagenet" or a path), `input_tensor`, `input_shape`,
`pooling` (None, "avg", "max"), `classes`, `classifier_activation`, `name`.
Keras's ConvNeXt is channels-last only, and so is plait's.

Example:
    >>> model = ConvNeXtTiny(weights=None, include_top=False, input_shape=(32, 32, 3))
    >>> model.output_shape
    (None, 1, 1, 768)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from plait import backend, initializers, layers
from plait.applications import common, imagenet_utils
from plait.graph.symbolic import SymbolicTensor
from plait.layers.serialization import register_builtin_class
from plait.models import Model, Sequential
from plait.types import Shape
from plait.utils.naming import unique_name

__all__ = [
    "ConvNeXtBase",
    "ConvNeXtLarge",
    "ConvNeXtSmall",
    "ConvNeXtTiny",
    "ConvNeXtXLarge",
    "decode_predictions",
    "preprocess_input",
]

_BASE_URL = common.KERAS_WEIGHTS + "convnext/"

# Keras's SHA-256 hashes of its files, (with top, without top), per member.
_HASHES = {
    "tiny": (
        "8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
        "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1",
    ),
    "small": (
        "ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
        "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab",
    ),
    "base": (
        "52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
        "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45",
    ),
    "large": (
        "070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6",
        "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd",
    ),
    "xlarge": (
        "c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
        "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05",
    ),
}

# (blocks per stage, channels per stage) per member; all default to 224x224.
_CONFIGS = {
    "tiny": ((3, 3, 9, 3), (96, 192, 384, 768)),
    "small": ((3, 3, 27, 3), (96, 192, 384, 768)),
    "base": ((3, 3, 27, 3), (128, 256, 512, 1024)),
    "large": ((3, 3, 27, 3), (192, 384, 768, 1536)),
    "xlarge": ((3, 3, 27, 3), (256, 512, 1024, 2048)),
}

# ImageNet's per-channel mean and standard deviation of pixels in [0, 1].
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)

# Keras's LayerNormalization epsilon throughout ConvNeXt (the paper's 1e-6).
_EPSILON = 1e-6


class StochasticDepth(layers.Layer):
    """Drops the whole input of a sample at rate `drop_path_rate` in training.

    Kept samples are scaled by `1 / (1 - drop_path_rate)`; at inference the
    layer is the identity. ConvNeXt applies it to each residual branch.

    Args:
        drop_path_rate: Probability of dropping a sample's branch, in `[0, 1]`.

    Example:
        >>> StochasticDepth(0.5)(torch.ones(2, 3)).tolist()
        [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """

    def __init__(self, drop_path_rate: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.drop_path_rate = drop_path_rate

    def call(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        """`x`, or in training `x / keep` times one 0-or-1 draw per sample."""
        if not training:
            return x
        keep = 1.0 - self.drop_path_rate
        shape = (x.shape[0],) + (1,) * (x.dim() - 1)  # one draw per sample
        mask = torch.floor(keep + torch.rand(shape, dtype=x.dtype, device=x.device))
        return x / keep * mask

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Unchanged."""
        return input_shape

    def get_config(self) -> dict[str, Any]:
        """`drop_path_rate`."""
        return {**super().get_config(), "drop_path_rate": self.drop_path_rate}


class LayerScale(layers.Layer):
    """Multiplies the last axis by a learned per-channel scale (CaiT's LayerScale).

    Args:
        init_values: Initial value of every scale (ConvNeXt uses 1e-6).
        projection_dim: Size of the last axis.

    Weights: `variable (projection_dim,)`, numbered across the session as
        Keras numbers unnamed weights (`variable_1`, ...); the attribute is `gamma`.

    Example:
        >>> LayerScale(0.5, 2)(torch.ones(1, 2)).tolist()
        [[0.5, 0.5]]
    """

    def __init__(self, init_values: float, projection_dim: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, input_shape: Shape) -> None:
        """Create `gamma`, filled with `init_values`."""
        init = initializers.Constant(self.init_values)
        # Keras compat: Keras adds this weight unnamed, so it takes the session's
        # next "variable", "variable_1", ... name.
        name = unique_name("variable")
        self.gamma = self.add_weight(name, (self.projection_dim,), init)
        self.built = True

    def call(self, x: torch.Tensor) -> torch.Tensor:
        """`x * gamma`."""
        return x * self.gamma

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Unchanged."""
        return input_shape

    def get_config(self) -> dict[str, Any]:
        """`init_values` and `projection_dim`."""
        return {
            **super().get_config(),
            "init_values": self.init_values,
            "projection_dim": self.projection_dim,
        }


register_builtin_class(StochasticDepth)
register_builtin_class(LayerScale)


def _layer_norm(name: str | None = None) -> layers.LayerNormalization:
    return layers.LayerNormalization(epsilon=_EPSILON, name=name)


def _block(x: SymbolicTensor, dim: int, drop_rate: float, name: str) -> SymbolicTensor:
    # Depthwise 7x7, LayerNorm, pointwise MLP (Dense on the channels), scaled residual.
    inputs = x
    x = layers.Conv2D(
        dim, 7, padding="same", groups=dim, name=f"{name}_depthwise_conv"
    )(x)
    x = _layer_norm(f"{name}_layernorm")(x)
    x = layers.Dense(4 * dim, name=f"{name}_pointwise_conv_1")(x)
    x = layers.Activation("gelu", name=f"{name}_gelu")(x)
    x = layers.Dense(dim, name=f"{name}_pointwise_conv_2")(x)
    x = LayerScale(1e-6, dim, name=f"{name}_layer_scale")(x)
    if drop_rate:
        x = StochasticDepth(drop_rate, name=f"{name}_stochastic_depth")(x)
    else:
        x = layers.Activation("linear", name=f"{name}_identity")(x)
    return inputs + x


def _downsample(x: SymbolicTensor, stage: int, dim: int, name: str) -> SymbolicTensor:
    # Keras compat: the stem and each downsampling are nested Sequential models.
    if stage == 0:
        conv = layers.Conv2D(dim, 4, strides=4, name=f"{name}_stem_conv")
        parts = [conv, _layer_norm(f"{name}_stem_layernorm")]
        return Sequential(parts, name=f"{name}_stem")(x)
    i = stage - 1
    parts = [
        _layer_norm(f"{name}_downsampling_layernorm_{i}"),
        layers.Conv2D(dim, 2, strides=2, name=f"{name}_downsampling_conv_{i}"),
    ]
    return Sequential(parts, name=f"{name}_downsampling_block_{i}")(x)


def _check(
    member: str, weights: Any, include_top: bool, classes: int, name: str
) -> None:
    # Keras's ConvNeXt-only checks, then the shared ones.
    if backend.image_data_format() == "channels_first":
        raise ValueError(
            "ConvNeXt supports only the `channels_last` image data format; got "
            "image_data_format()='channels_first'."
        )
    common.check_weights(weights, include_top, classes)
    if weights == "imagenet" and f"convnext_{member}" not in name:
        raise ValueError(
            f"With `weights='imagenet'` the model name must contain the weights "
            f"variant 'convnext_{member}'; got name={name!r}."
        )


def _convnext(
    member: str,
    *,
    include_top: bool,
    include_preprocessing: bool,
    weights: Any,
    input_tensor: Any,
    input_shape: Any,
    pooling: str | None,
    classes: int,
    classifier_activation: Any,
    name: str,
    drop_path_rate: float = 0.0,
) -> Model:
    # The graph shared by Tiny..XLarge; Keras builds its members without drop path.
    depths, dims = _CONFIGS[member]
    _check(member, weights, include_top, classes, name)
    shape = common.obtain_input_shape(
        input_shape,
        default_size=224,
        min_size=32,
        data_format="channels_last",
        require_flatten=include_top,
        weights=weights,
    )
    x, inputs = common.image_input(input_tensor, shape)
    if isinstance(inputs, list):  # Keras compat: the first source input only
        inputs = inputs[0]
    if include_preprocessing and shape[-1] == 3:
        x = layers.Normalization(
            mean=[m * 255 for m in _MEAN],
            variance=[(s * 255) ** 2 for s in _STD],
            name=f"{name}_prestem_normalization",
        )(x)
    rates = np.linspace(0.0, drop_path_rate, sum(depths))
    index = 0
    for stage, (depth, dim) in enumerate(zip(depths, dims)):
        x = _downsample(x, stage, dim, name)
        for j in range(depth):
            x = _block(x, dim, float(rates[index]), f"{name}_stage_{stage}_block_{j}")
            index += 1
    if include_top:
        common.validate_activation(classifier_activation, weights)
        x = layers.GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        x = _layer_norm(f"{name}_head_layernorm")(x)
        x = layers.Dense(
            classes, activation=classifier_activation, name=f"{name}_head_dense"
        )(x)
    else:
        x = _layer_norm()(common.pool(x, pooling))
    model = Model(inputs, x, name=name)
    files = common.top_or_notop_file(_BASE_URL, name, include_top, _HASHES[member])
    common.load_weights(model, weights, files)
    return model


def ConvNeXtTiny(
    include_top: bool = True,
    include_preprocessing: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "convnext_tiny",
) -> Model:
    """ConvNeXt-Tiny (see the module docstring for the arguments)."""
    return _convnext("tiny", **locals())


def ConvNeXtSmall(
    include_top: bool = True,
    include_preprocessing: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "convnext_small",
) -> Model:
    """ConvNeXt-Small (see the module docstring for the arguments)."""
    return _convnext("small", **locals())


def ConvNeXtBase(
    include_top: bool = True,
    include_preprocessing: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "convnext_base",
) -> Model:
    """ConvNeXt-Base (see the module docstring for the arguments)."""
    return _convnext("base", **locals())


def ConvNeXtLarge(
    include_top: bool = True,
    include_preprocessing: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "convnext_large",
) -> Model:
    """ConvNeXt-Large (see the module docstring for the arguments)."""
    return _convnext("large", **locals())


def ConvNeXtXLarge(
    include_top: bool = True,
    include_preprocessing: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "convnext_xlarge",
) -> Model:
    """ConvNeXt-XLarge (see the module docstring for the arguments)."""
    return _convnext("xlarge", **locals())


# Keras's module functions: ConvNeXt preprocesses inside the model.
preprocess_input = common.preprocess_input_unchanged
decode_predictions = imagenet_utils.decode_predictions
