"""What every application shares: argument checks, the input, the head, the weights.

Each family module (`vgg16`, `resnet`, ...) builds its graph with plait layers and
calls these helpers, so the checks and their messages are the same for all of
them and say what Keras's say: the argument, what was expected, what was got.

Weights: `weights="imagenet"` fetches Keras's published file for the model from
its canonical location into `$PLAIT_HOME/models` (default `~/.plait/models`),
checks its hash, and never downloads it again (`plait.datasets.files.get_file`);
`weights=<path>` loads a local Keras weight file (Keras 2 `.h5` or Keras 3
`.weights.h5`). The files are read by `Model.load_weights`, which reads HDF5
with h5py only and refuses external or malformed datasets before reading them.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

from plait import activations, backend, layers
from plait.datasets.files import get_file
from plait.graph.symbolic import SymbolicTensor
from plait.models import Model

__all__ = [
    "KERAS_WEIGHTS",
    "check_weights",
    "classifier",
    "correct_pad",
    "image_input",
    "load_weights",
    "obtain_input_shape",
    "pool",
    "validate_activation",
]

# Keras's bucket of application weights: the canonical home of its files.
KERAS_WEIGHTS = "https://storage.googleapis.com/tensorflow/keras-applications/"


def check_weights(weights: Any, include_top: bool, classes: int) -> None:
    """`weights` is None, "imagenet" or an existing file; ImageNet's top has 1000 classes.

    Raises:
        ValueError: naming `weights` or `classes`, what was expected and what was got.
    """
    if not (weights in {"imagenet", None} or os.path.exists(str(weights))):
        raise ValueError(
            "The `weights` argument should be either `None` (random "
            "initialization), 'imagenet' (pre-training on ImageNet), or the path "
            f"to an existing weights file to be loaded; got weights={weights!r}."
        )
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            "If using `weights='imagenet'` with `include_top=True`, `classes` "
            f"should be 1000; got classes={classes!r}."
        )


def obtain_input_shape(
    input_shape: Any,
    default_size: int,
    min_size: int,
    data_format: str,
    require_flatten: bool,
    weights: Any = None,
) -> tuple[int | None, ...]:
    """The model's input shape (no batch axis): `input_shape` checked, or the default.

    Keras's rules: with ImageNet weights and the classifier on top the shape is
    the default one (`default_size` square, 3 channels); otherwise a given shape
    must have 3 axes, at least `min_size` pixels a side, and 3 channels with
    ImageNet weights; without one, the spatial size is free (`None`) unless the
    top needs it (`require_flatten`).

    Raises:
        ValueError: naming `input_shape`, what was expected and what was got.
    """
    first = data_format == "channels_first"
    if input_shape is not None:
        input_shape = tuple(input_shape)
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if first else input_shape[-1]
        if channels not in {1, 3}:
            warnings.warn(
                "This model usually expects 1 or 3 input channels; got an "
                f"input_shape with {channels} input channels.",
                stacklevel=3,
            )
        size = (default_size, default_size)
        default = (channels, *size) if first else (*size, channels)
    else:
        default = (
            (3, default_size, default_size)
            if first
            else (default_size, default_size, 3)
        )
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and input_shape != default:
            raise ValueError(
                "When setting `include_top=True` and loading `imagenet` weights, "
                f"`input_shape` should be {default}; got input_shape={input_shape}."
            )
        return default
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError(
                "`input_shape` must be a tuple of three integers; got "
                f"input_shape={input_shape}."
            )
        channels = input_shape[0] if first else input_shape[-1]
        spatial = input_shape[1:] if first else input_shape[:2]
        if channels != 3 and weights == "imagenet":
            raise ValueError(
                "The input must have 3 channels with `weights='imagenet'`; got "
                f"input_shape={input_shape}."
            )
        if any(side is not None and side < min_size for side in spatial):
            raise ValueError(
                f"Input size must be at least {min_size}x{min_size}; got "
                f"input_shape={input_shape}."
            )
    elif require_flatten:
        input_shape = default
    else:
        input_shape = (3, None, None) if first else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError(
            "If `include_top` is True, you should specify a static `input_shape`; "
            f"got input_shape={input_shape}."
        )
    return input_shape


def _source_inputs(tensor: SymbolicTensor) -> list[SymbolicTensor]:
    # The Input tensors `tensor` is computed from, in the order a depth-first walk
    # from it meets them (Keras's get_source_inputs).
    found: list[SymbolicTensor] = []
    seen: set[int] = set()
    stack = [tensor]
    while stack:
        t = stack.pop()
        node = t.node
        if node is None or getattr(node.layer, "_is_input_layer", False):
            if id(t) not in seen:
                seen.add(id(t))
                found.append(t)
            continue
        stack.extend(reversed(node.input_tensors))
    return found


def image_input(
    input_tensor: Any, input_shape: tuple[int | None, ...]
) -> tuple[SymbolicTensor, Any]:
    """The image tensor the network starts from, and what the Model takes as inputs.

    With no `input_tensor` a new `Input(shape=input_shape)`; a symbolic tensor is
    used as it is, the model then taking the Inputs it comes from.

    Raises:
        ValueError: `input_tensor` is data (a torch tensor, an array), which a
            model cannot be built on (Keras refuses it too).
    """
    if input_tensor is None:
        img = layers.Input(shape=input_shape)
        return img, img
    if not backend.is_keras_tensor(input_tensor):
        raise ValueError(
            "`input_tensor` must be a symbolic tensor (from `plait.Input` or a "
            f"layer called on one); got a {type(input_tensor).__name__}. Pass "
            "the data to the model once it is built instead."
        )
    sources = _source_inputs(input_tensor)
    return input_tensor, sources[0] if len(sources) == 1 else sources


def validate_activation(classifier_activation: Any, weights: Any) -> None:
    """With pretrained weights the classifier's activation must be None or softmax.

    Raises:
        ValueError: naming `classifier_activation` and what was got.
    """
    if weights is None:
        return
    fn = activations.get(classifier_activation)
    if fn not in {activations.get("softmax"), activations.get(None)}:
        raise ValueError(
            "Only `None` and `softmax` activations are allowed for the "
            "`classifier_activation` argument when using pretrained weights, with "
            f"`include_top=True`; got classifier_activation={classifier_activation!r}."
        )


def pool(
    x: SymbolicTensor, pooling: str | None, name: str | None = None
) -> SymbolicTensor:
    """The optional global pooling of a headless model: None, "avg" or "max".

    Raises:
        ValueError: naming `pooling` and what was got.
    """
    if pooling is None:
        return x
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=name)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=name)(x)
    raise ValueError(
        f"`pooling` should be None, 'avg' or 'max'; got pooling={pooling!r}."
    )


def classifier(
    x: SymbolicTensor,
    classes: int,
    classifier_activation: Any,
    weights: Any,
    name: str = "predictions",
) -> SymbolicTensor:
    """The top's last Dense layer, after checking its activation against `weights`."""
    validate_activation(classifier_activation, weights)
    return layers.Dense(classes, activation=classifier_activation, name=name)(x)


def correct_pad(
    inputs: SymbolicTensor, kernel_size: int | tuple[int, int]
) -> tuple[tuple[int, int], tuple[int, int]]:
    """The ZeroPadding2D padding that makes a strided 'valid' conv act as TF's 'same'."""
    axis = 2 if backend.image_data_format() == "channels_first" else 1
    size = inputs.shape[axis : axis + 2]
    k = (
        (kernel_size, kernel_size)
        if isinstance(kernel_size, int)
        else tuple(kernel_size)
    )
    h, w = size
    adjust = (1, 1) if h is None or w is None else (1 - h % 2, 1 - w % 2)
    half = (k[0] // 2, k[1] // 2)
    return ((half[0] - adjust[0], half[0]), (half[1] - adjust[1], half[1]))


def load_weights(
    model: Model,
    weights: Any,
    imagenet: Callable[[], tuple[str, str, str | None]] | None,
) -> None:
    """Load `weights` into `model`: None (keep), "imagenet" or a file path.

    `imagenet()` gives `(file name, URL, hash)` of the Keras file to fetch (hash
    None: Keras publishes none for it, the file is not checked); a
    family without published weights passes None and "imagenet" is refused.

    Raises:
        ValueError: "imagenet" asked of a configuration Keras publishes no file for.
        OSError: the file cannot be downloaded; the message names the URL and the
            path to place the file at.
    """
    if weights is None:
        return
    if weights == "imagenet":
        if imagenet is None:
            raise ValueError(
                f"{model.name}: Keras publishes no ImageNet weights for this "
                "configuration; pass weights=None or the path to a weights file."
            )
        fname, origin, file_hash = imagenet()
        path = get_file(fname, origin, file_hash, cache_subdir="models")
        model.load_weights(str(path))
    else:
        model.load_weights(str(weights))


def imagenet_model(
    body: Callable[[SymbolicTensor], SymbolicTensor],
    *,
    name: str,
    include_top: bool,
    weights: Any,
    input_tensor: Any,
    input_shape: Any,
    pooling: str | None,
    classes: int,
    classifier_activation: Any,
    default_size: int,
    min_size: int,
    files: Callable[[bool], tuple[str, str, str]] | None,
    top: Callable[[SymbolicTensor], SymbolicTensor] | None = None,
    pool_names: bool = False,
) -> Model:
    """The whole application around its convolutional `body`, as Keras builds it.

    Checks the arguments, makes the input, runs `body` on it, then either the
    top (`top`, by default a `GlobalAveragePooling2D` named "avg_pool") and the
    "predictions" classifier, or the optional pooling (named "avg_pool" /
    "max_pool" with `pool_names`, as ResNet's are), builds the `Model` and loads
    `weights`; `files(include_top)` gives the ImageNet file of a configuration.
    """
    check_weights(weights, include_top, classes)
    shape = obtain_input_shape(
        input_shape,
        default_size=default_size,
        min_size=min_size,
        data_format=backend.image_data_format(),
        require_flatten=include_top,
        weights=weights,
    )
    img, inputs = image_input(input_tensor, shape)
    x = body(img)
    if include_top:
        x = top(x) if top else layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = classifier(x, classes, classifier_activation, weights)
    else:
        x = pool(x, pooling, f"{pooling}_pool" if pool_names and pooling else None)
    model = Model(inputs, x, name=name)
    load_weights(model, weights, None if files is None else lambda: files(include_top))
    return model


def tf_kernels_files(
    folder: str, family: str, hashes: tuple[str, str]
) -> Callable[[bool], tuple[str, str, str]]:
    """The `files` of `imagenet_model` for Keras's `<family>_weights_tf_dim_ordering_tf_kernels[_notop].h5`.

    `folder` is the file's folder in Keras's bucket, `hashes` the hashes of the
    file with the top and without it.
    """

    def files(include_top: bool) -> tuple[str, str, str]:
        return top_or_notop_file(
            f"{KERAS_WEIGHTS}{folder}/",
            f"{family}_weights_tf_dim_ordering_tf_kernels",
            include_top,
            hashes,
        )()

    return files


def top_or_notop_file(
    base_url: str, name: str, include_top: bool, hashes: tuple[str, str]
) -> Callable[[], tuple[str, str, str]]:
    """`load_weights`'s `imagenet` for Keras's usual naming of a model's two files.

    `<name>.h5` (with the top; hash `hashes[0]`) or `<name>_notop.h5` (without;
    `hashes[1]`), found at `base_url + file name`.
    """
    fname = name + (".h5" if include_top else "_notop.h5")
    entry = (fname, base_url + fname, hashes[0] if include_top else hashes[1])
    return lambda: entry


def preprocess_input_unchanged(x: Any, data_format: str | None = None) -> Any:
    """Return `x` unchanged: the family preprocesses inside the model (Keras's rule).

    Keras keeps `preprocess_input` in such families' modules (EfficientNet,
    EfficientNetV2, ConvNeXt) so code written for the others runs unchanged.
    """
    return x


def require_channels_last(family: str) -> None:
    """Refuse the 'channels_first' data format, as Keras's DenseNet and NASNet do.

    Raises:
        ValueError: naming the family and the data format.
    """
    if backend.image_data_format() == "channels_first":
        raise ValueError(
            f"{family}: expected the 'channels_last' image data format, got "
            "'channels_first' (set plait.backend.set_image_data_format)."
        )
