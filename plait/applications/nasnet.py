"""NASNet-A (Zoph et al., 2018): cells found by architecture search, mobile and large.

`NASNetMobile(...)` and `NASNetLarge(...)` build Keras's graphs with Keras's layer
names (`stem_conv1`, `normal_*_<cell>`, `reduction_*_<cell>`, `adjust_*`,
`separable_conv_<i>_*`, `predictions`), so Keras's weight files load (they are
read by layer name). Keras 3 also nests its weight paths in name scopes
(`normal_A_block_0/block_1/...`); plait's paths are `<layer>/<weight>` only.
Channels-last only, as in Keras. Inputs are scaled with `preprocess_input` (to
[-1, 1]). Keras's torch backend refuses `NASNetMobile`; plait builds it.
"""

from __future__ import annotations

from typing import Any

from plait import layers
from plait.applications import common
from plait.applications.imagenet_utils import decode_predictions
from plait.applications.mobilenet import channels, preprocess_input
from plait.graph.symbolic import SymbolicTensor
from plait.models import Model

__all__ = ["NASNetLarge", "NASNetMobile", "decode_predictions", "preprocess_input"]

BASE_WEIGHTS_PATH = common.KERAS_WEIGHTS + "nasnet/"
# default size -> ((file name, URL name, MD5) of the top file, of the no-top file)
_WEIGHTS = {
    224: (
        ("nasnet_mobile.h5", "NASNet-mobile.h5", "020fb642bf7360b370c678b08e0adf61"),
        (
            "nasnet_mobile_no_top.h5",
            "NASNet-mobile-no-top.h5",
            "1ed92395b5b598bdda52abe5c0dbfd63",
        ),
    ),
    331: (
        ("nasnet_large.h5", "NASNet-large.h5", "11577c9a518f0070763c2b964a382f17"),
        (
            "nasnet_large_no_top.h5",
            "NASNet-large-no-top.h5",
            "d81d89dc07e6e56530c4e77faddd61b5",
        ),
    ),
}
_FILTER_MULTIPLIER = 2


def _bn(x: SymbolicTensor, name: str) -> SymbolicTensor:
    return layers.BatchNormalization(momentum=0.9997, epsilon=1e-3, name=name)(x)


def _conv1x1(x: SymbolicTensor, filters: int, name: str) -> SymbolicTensor:
    return layers.Conv2D(
        filters,
        1,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        name=name,
    )(x)


def _relu(x: SymbolicTensor, name: str | None = None) -> SymbolicTensor:
    return layers.Activation("relu", name=name)(x)


def _avg_pool(x: SymbolicTensor, size: int, strides: int, name: str) -> SymbolicTensor:
    padding = "same" if strides == 1 else "valid"
    return layers.AveragePooling2D(size, strides, padding=padding, name=name)(x)


def _separable(
    x: SymbolicTensor, filters: int, kernel_size: int, strides: int, block_id: str
) -> SymbolicTensor:
    # Twice ReLU - separable conv - BN; the first conv may be strided.
    x = _relu(x)
    padding = "same"
    if strides == 2:
        pad = common.correct_pad(x, kernel_size)
        x = layers.ZeroPadding2D(pad, name=f"separable_conv_1_pad_{block_id}")(x)
        padding = "valid"
    for i in (1, 2):
        if i == 2:
            x = _relu(x)
        x = layers.SeparableConv2D(
            filters,
            kernel_size,
            strides=strides if i == 1 else 1,
            padding=padding if i == 1 else "same",
            use_bias=False,
            name=f"separable_conv_{i}_{block_id}",
        )(x)
        x = _bn(x, f"separable_conv_{i}_bn_{block_id}")
    return x


def _adjust(
    p: SymbolicTensor | None, ip: SymbolicTensor, filters: int, block_id: str
) -> SymbolicTensor:
    # The previous cell's output made to match this cell's input: halved in size
    # (two offset strided paths) or projected to `filters` channels.
    if p is None:
        return ip
    if p.shape[-2] != ip.shape[-2]:
        p = _relu(p, f"adjust_relu_1_{block_id}")
        p1 = _avg_pool(p, 1, 2, f"adjust_avg_pool_1_{block_id}")
        p1 = _conv1x1(p1, filters // 2, f"adjust_conv_1_{block_id}")
        p2 = layers.ZeroPadding2D(((0, 1), (0, 1)))(p)
        p2 = layers.Cropping2D(((1, 0), (1, 0)))(p2)
        p2 = _avg_pool(p2, 1, 2, f"adjust_avg_pool_2_{block_id}")
        p2 = _conv1x1(p2, filters // 2, f"adjust_conv_2_{block_id}")
        p = layers.concatenate([p1, p2], axis=-1)
        return _bn(p, f"adjust_bn_{block_id}")
    if channels(p) != filters:
        p = _conv1x1(_relu(p), filters, f"adjust_conv_projection_{block_id}")
        return _bn(p, f"adjust_bn_{block_id}")
    return p


def _cell_input(
    ip: SymbolicTensor,
    p: SymbolicTensor | None,
    filters: int,
    kind: str,
    block_id: str,
) -> tuple[SymbolicTensor, SymbolicTensor]:
    # The adjusted previous output and ReLU-1x1 conv-BN of the cell's input.
    p = _adjust(p, ip, filters, block_id)
    h = _conv1x1(_relu(ip), filters, f"{kind}_conv_1_{block_id}")
    return p, _bn(h, f"{kind}_bn_1_{block_id}")


def _normal_cell(
    ip: SymbolicTensor, p: SymbolicTensor | None, filters: int, block_id: str
) -> tuple[SymbolicTensor, SymbolicTensor]:
    p, h = _cell_input(ip, p, filters, "normal", block_id)

    def sep(x: SymbolicTensor, size: int, side: str) -> SymbolicTensor:
        return _separable(x, filters, size, 1, f"normal_{side}_{block_id}")

    def add(parts: list[SymbolicTensor], i: int) -> SymbolicTensor:
        return layers.add(parts, name=f"normal_add_{i}_{block_id}")

    x1 = add([sep(h, 5, "left1"), sep(p, 3, "right1")], 1)
    x2 = add([sep(p, 5, "left2"), sep(p, 3, "right2")], 2)
    x3 = add([_avg_pool(h, 3, 1, f"normal_left3_{block_id}"), p], 3)
    x4 = add(
        [
            _avg_pool(p, 3, 1, f"normal_left4_{block_id}"),
            _avg_pool(p, 3, 1, f"normal_right4_{block_id}"),
        ],
        4,
    )
    x5 = add([sep(h, 3, "left5"), h], 5)
    x = layers.concatenate(
        [p, x1, x2, x3, x4, x5], axis=-1, name=f"normal_concat_{block_id}"
    )
    return x, ip


def _reduction_cell(
    ip: SymbolicTensor, p: SymbolicTensor | None, filters: int, block_id: str
) -> tuple[SymbolicTensor, SymbolicTensor]:
    p, h = _cell_input(ip, p, filters, "reduction", block_id)
    h3 = layers.ZeroPadding2D(
        common.correct_pad(h, 3), name=f"reduction_pad_1_{block_id}"
    )(h)

    def sep(
        x: SymbolicTensor, size: int, side: str, strides: int = 2
    ) -> SymbolicTensor:
        return _separable(x, filters, size, strides, f"reduction_{side}_{block_id}")

    def max_pool(name: str) -> SymbolicTensor:
        return layers.MaxPooling2D(3, 2, name=f"reduction_{name}_{block_id}")(h3)

    x1 = layers.add(
        [sep(h, 5, "left1"), sep(p, 7, "right1")], name=f"reduction_add_1_{block_id}"
    )
    x2 = layers.add(
        [max_pool("left2"), sep(p, 7, "right2")], name=f"reduction_add_2_{block_id}"
    )
    x3 = layers.add(
        [_avg_pool(h3, 3, 2, f"reduction_left3_{block_id}"), sep(p, 5, "right3")],
        name=f"reduction_add3_{block_id}",
    )
    x4 = layers.add([x2, _avg_pool(x1, 3, 1, f"reduction_left4_{block_id}")])
    x5 = layers.add(
        [sep(x1, 3, "left4", strides=1), max_pool("right5")],
        name=f"reduction_add4_{block_id}",
    )
    x = layers.concatenate(
        [x2, x3, x4, x5], axis=-1, name=f"reduction_concat_{block_id}"
    )
    return x, ip


def _nasnet(
    penultimate_filters: int,
    num_blocks: int,
    stem_block_filters: int,
    skip_reduction: bool,
    default_size: int,
    args: dict[str, Any],
) -> Model:
    # The network both NASNet functions build, from NASNet-A's hyperparameters.
    common.require_channels_last("NASNet")
    include_top, weights = args["include_top"], args["weights"]
    common.check_weights(weights, include_top, args["classes"])
    input_shape = args["input_shape"]
    if weights == "imagenet" and input_shape is not None and None in input_shape:
        raise ValueError(
            "NASNet: with weights='imagenet', expected a static input_shape (no "
            f"None entries), got input_shape={tuple(input_shape)}."
        )
    shape = common.obtain_input_shape(
        input_shape, default_size, 32, "channels_last", include_top, weights
    )
    img, inputs = common.image_input(args["input_tensor"], shape)
    fm = _FILTER_MULTIPLIER
    filters = penultimate_filters // 24
    x = layers.Conv2D(
        stem_block_filters,
        3,
        strides=2,
        padding="valid",
        use_bias=False,
        kernel_initializer="he_normal",
        name="stem_conv1",
    )(img)
    x = _bn(x, "stem_bn1")
    x, p = _reduction_cell(x, None, filters // fm**2, "stem_1")
    x, p = _reduction_cell(x, p, filters // fm, "stem_2")
    for stage in range(3):
        if stage:
            x, p0 = _reduction_cell(
                x, p, filters * fm**stage, f"reduce_{stage * num_blocks}"
            )
            p = p if skip_reduction else p0
        for i in range(num_blocks):
            block_id = stage * num_blocks + i + (1 if stage else 0)
            x, p = _normal_cell(x, p, filters * fm**stage, str(block_id))
    x = _relu(x)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        x = common.classifier(
            x, args["classes"], args["classifier_activation"], weights
        )
    else:
        x = common.pool(x, args["pooling"])
    model = Model(inputs, x, name=args["name"])

    def imagenet() -> tuple[str, str, str]:
        fname, url_name, md5 = _WEIGHTS[default_size][0 if include_top else 1]
        return fname, BASE_WEIGHTS_PATH + url_name, md5

    common.load_weights(model, weights, imagenet)
    return model


def NASNetMobile(
    input_shape: Any = None,
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "nasnet_mobile",
) -> Model:
    """NASNet-A Mobile (4 @ 1056), optionally with Keras's ImageNet weights.

    Takes `DenseNet121`'s arguments (see `plait.applications.densenet`), in
    Keras's order for NASNet. `input_shape` is 224x224x3 by default, also
    without the top (as in Keras); another shape needs `include_top=False` or
    no ImageNet weights, and at least 32x32.

    Returns:
        A functional `plait.Model`.

    Raises:
        ValueError: a bad `weights`, `classes`, `input_shape`, `pooling` or
            `classifier_activation`; the 'channels_first' data format.
    """
    args = locals()
    if not include_top and input_shape is None:
        args["input_shape"] = (224, 224, 3)
    return _nasnet(1056, 4, 32, False, 224, args)


def NASNetLarge(
    input_shape: Any = None,
    include_top: bool = True,
    weights: Any = "imagenet",
    input_tensor: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: Any = "softmax",
    name: str = "nasnet_large",
) -> Model:
    """NASNet-A Large (6 @ 4032): `NASNetMobile`'s arguments (see there); 331x331 inputs.

    Without the top the spatial size is free by default.
    """
    return _nasnet(4032, 6, 96, True, 331, locals())
