"""ImageNet input scaling and label decoding, shared by the applications.

`preprocess_input(x, data_format, mode)` scales images the way each family's
weights were trained: "caffe" (RGB to BGR, minus ImageNet's mean pixel), "tf"
(to [-1, 1]) or "torch" (to [0, 1], then per-channel ImageNet mean and std).
It takes NumPy arrays (a float array is changed in place, as Keras does),
torch tensors, and symbolic tensors of a functional model (the scaling is then
recorded as ops in the graph).

`decode_predictions(preds, top)` names the `top` classes of each row of a
(samples, 1000) prediction, from Keras's ImageNet class index, fetched once into
the models cache and checked by hash.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch

from plait import backend, ops
from plait.datasets.files import get_file

__all__ = ["decode_predictions", "preprocess_input"]

CLASS_INDEX_URL = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"  # Keras pins this file by MD5

_MODES = ("caffe", "tf", "torch")
_CAFFE_MEAN = (103.939, 116.779, 123.68)  # BGR
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)
_class_index: dict[str, list[str]] | None = None


def _check(data_format: str | None, mode: str) -> str:
    if mode not in _MODES:
        raise ValueError(
            f"preprocess_input: expected mode to be one of {list(_MODES)}, got "
            f"mode={mode!r}."
        )
    if data_format is None:
        return backend.image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "preprocess_input: expected data_format 'channels_first' or "
            f"'channels_last', got data_format={data_format!r}."
        )
    return data_format


def _channel_shape(ndim: int, first: bool) -> tuple[int, ...]:
    # Where the 3 per-channel constants go to broadcast against x.
    if first:
        return (3, 1, 1) if ndim == 3 else (1, 3) + (1,) * (ndim - 2)
    return (1,) * (ndim - 1) + (3,)


def _numpy(x: np.ndarray, first: bool, mode: str) -> np.ndarray:
    if not issubclass(x.dtype.type, np.floating):
        x = x.astype(backend.floatx(), copy=False)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    shape = _channel_shape(x.ndim, first)
    if mode == "torch":
        x /= 255.0
        x -= np.reshape(np.asarray(_TORCH_MEAN, x.dtype), shape)
        x /= np.reshape(np.asarray(_TORCH_STD, x.dtype), shape)
        return x
    axis = (0 if x.ndim == 3 else 1) if first else -1
    x = np.flip(x, axis=axis)  # RGB -> BGR
    x -= np.reshape(np.asarray(_CAFFE_MEAN, x.dtype), shape)
    return x


def _tensor(x: Any, first: bool, mode: str) -> Any:
    if isinstance(x, torch.Tensor) and not x.is_floating_point():
        x = x.to(torch.get_default_dtype())
    if mode == "tf":
        return x / 127.5 - 1.0
    ndim = len(x.shape)
    shape = _channel_shape(ndim, first)
    if mode == "torch":
        mean = torch.tensor(_TORCH_MEAN).reshape(shape)
        std = torch.tensor(_TORCH_STD).reshape(shape)
        return (x / 255.0 - mean) / std
    axis = (0 if ndim == 3 else 1) if first else -1
    return ops.flip(x, axis=axis) - torch.tensor(_CAFFE_MEAN).reshape(shape)


def preprocess_input(
    x: Any, data_format: str | None = None, mode: str = "caffe"
) -> Any:
    """Scale a batch (or one image) of RGB values in [0, 255] for an ImageNet model.

    Args:
        x: a NumPy array (a float array is scaled in place; pass `np.copy(x)` to
            keep it), a torch tensor or a symbolic tensor, 3D or 4D, 3 channels.
        data_format: "channels_last" or "channels_first"; None means
            `plait.backend.image_data_format()`.
        mode: "caffe" (RGB to BGR, minus ImageNet's mean pixel, no scaling), "tf"
            (scaled to [-1, 1]) or "torch" (scaled to [0, 1], then normalized by
            ImageNet's per-channel mean and std).

    Returns:
        The scaled images, of the input's kind (float32 for integer input).

    Raises:
        ValueError: an unknown `mode` or `data_format`.

    Example:
        >>> import numpy as np
        >>> from plait.applications import imagenet_utils
        >>> x = np.full((1, 2, 2, 3), 255.0, dtype="float32")
        >>> imagenet_utils.preprocess_input(x, mode="tf")[0, 0, 0].tolist()
        [1.0, 1.0, 1.0]
    """
    first = _check(data_format, mode) == "channels_first"
    if isinstance(x, np.ndarray):
        return _numpy(x, first, mode)
    return _tensor(x, first, mode)


def _load_class_index() -> dict[str, list[str]]:
    global _class_index
    if _class_index is None:
        path = get_file(
            "imagenet_class_index.json", CLASS_INDEX_URL, CLASS_INDEX_MD5, "models"
        )
        with open(path, encoding="utf-8") as f:
            _class_index = json.load(f)
    return _class_index


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The `top` ImageNet classes of each prediction, best first.

    Args:
        preds: a (samples, 1000) array or tensor of class scores.
        top: how many classes to return per sample.

    Returns:
        One list per sample of `(class_id, class_name, score)` tuples.

    Raises:
        ValueError: `preds` is not of shape (samples, 1000).
        OSError: the class index cannot be downloaded; the message names the URL
            and the path to place the file at.
    """
    if isinstance(preds, torch.Tensor):
        preds = preds.detach().cpu().numpy()
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError(
            "decode_predictions: expected a batch of predictions of shape "
            f"(samples, 1000), got an array of shape {preds.shape}."
        )
    index = _load_class_index()
    results = []
    for row in preds:
        best = row.argsort()[-top:][::-1]
        found = [(*index[str(i)], row[i]) for i in best]
        found.sort(key=lambda item: item[2], reverse=True)
        results.append([(str(c), str(n), s) for c, n, s in found])
    return results
