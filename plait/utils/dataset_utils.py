"""Datasets from a directory of files: `image_dataset_from_directory`,
`text_dataset_from_directory` (Keras 3's `keras.utils`), as PyDatasets.

Keras compat: the files, their order, their labels, `class_names` and the
training/validation split are Keras's for the same `seed` (the same walk of the
directory, the same `np.random.RandomState(seed)` shuffle, the same split from the
end). Keras then hands the files to `tf.data` (or grain); plait batches them in a
`PyDataset` that `fit`, `evaluate` and `predict` take, reading each file when its
batch is asked for. The shuffled training set is reshuffled after every epoch
(`np.random.RandomState(seed)` draws), where Keras's `tf.data` shuffle buffer does
its own draws. Images are read with Pillow and resized with
`torch.nn.functional.interpolate` as Keras's torch backend resizes them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from plait.utils.image_utils import COLOR_MODES, convert, image_data_format, pil_image
from plait.utils.pydataset import PyDataset

__all__ = [
    "image_dataset_from_directory",
    "index_directory",
    "text_dataset_from_directory",
    "walk_files",
]

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
RESIZE_MODES = {
    "bilinear": "bilinear",
    "nearest": "nearest-exact",
    "bicubic": "bicubic",
    "area": "area",
}


def walk_files(
    directory: str, formats: tuple[str, ...], follow_links: bool
) -> Iterator[tuple[str, str]]:
    """`(folder, file name)` of the files under `directory` whose lower-cased name ends
    with one of `formats`: folders in sorted order, names sorted in each (Keras's walk)."""
    for root, _, files in sorted(
        os.walk(directory, followlinks=follow_links), key=lambda entry: entry[0]
    ):
        for name in sorted(files):
            if name.lower().endswith(formats):
                yield root, name


def index_directory(
    directory: str,
    labels: Any,
    formats: tuple[str, ...],
    class_names: list[str] | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    follow_links: bool = False,
    verbose: bool = True,
    caller: str = "index_directory",
) -> tuple[list[str], np.ndarray | None, list[str] | None]:
    """The files under `directory`, their integer labels and the class names.

    `labels="inferred"`: one subdirectory per class (sorted names, or the order of
    `class_names`); a list/tuple: one label per file, in the sorted walk's order;
    None: no labels. `shuffle` shuffles files and labels alike with
    `np.random.RandomState(seed)`.
    """
    if labels == "inferred":
        found = [
            name for name in sorted(os.listdir(directory))
            if os.path.isdir(os.path.join(directory, name)) and not name.startswith(".")
        ]  # fmt: skip
        if class_names is not None:
            if not set(class_names) <= set(found):
                raise ValueError(
                    f"{caller}: expected `class_names` among the subdirectories {found}, got {class_names!r}."
                )
            found = list(class_names)
        folders = found
    else:
        if class_names is not None:
            raise ValueError(
                f"{caller}: expected no `class_names` when `labels` is not 'inferred' (the names are then the "
                f"sorted labels), got class_names={class_names!r} with labels={labels!r}."
            )
        folders = [""]
    paths: list[str] = []
    label_list: list[int] = []
    for index, folder in enumerate(folders):
        base = os.path.join(directory, folder)
        for root, name in walk_files(base, formats, follow_links):
            paths.append(
                os.path.join(
                    directory, folder, os.path.relpath(os.path.join(root, name), base)
                )
            )
            label_list.append(index)
    names: list[str] | None
    array: np.ndarray | None
    if labels == "inferred":
        names, array = folders, np.asarray(label_list, dtype="int32")
    elif labels is None:
        names, array = None, None
    else:
        if len(labels) != len(paths):
            raise ValueError(
                f"{caller}: expected one label per file ({len(paths)} files in {directory!r}), got "
                f"{len(labels)} labels."
            )
        names, array = [str(label) for label in sorted(set(labels))], np.asarray(labels)
    if verbose:
        classes = "" if names is None else f" belonging to {len(names)} classes"
        print(f"Found {len(paths)} files{classes}.")
    if shuffle:
        seed = np.random.randint(1_000_000) if seed is None else seed
        np.random.RandomState(seed).shuffle(paths)
        if array is not None:
            np.random.RandomState(seed).shuffle(array)
    return paths, array, names


def _check_split(
    caller: str,
    validation_split: float | None,
    subset: str | None,
    shuffle: bool,
    seed: Any,
) -> None:
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(
            f"{caller}: expected `validation_split` between 0 and 1, got {validation_split!r}."
        )
    if bool(validation_split) != bool(subset):
        raise ValueError(
            f"{caller}: expected `subset` and `validation_split` set together, got "
            f"subset={subset!r}, validation_split={validation_split!r}."
        )
    if subset not in ("training", "validation", "both", None):
        raise ValueError(
            f"{caller}: expected `subset` 'training', 'validation' or 'both', got {subset!r}."
        )
    if validation_split and shuffle and seed is None:
        raise ValueError(
            f"{caller}: expected a `seed` with `validation_split` and `shuffle=True` (else the "
            "training and validation files may overlap), got seed=None."
        )


def _split(
    paths: list[str],
    labels: np.ndarray | None,
    fraction: float | None,
    subset: str,
    verbose: bool,
) -> tuple[list[str], np.ndarray | None]:
    """Keras's split: the last `int(fraction * n)` files are the validation set."""
    if not fraction:
        return paths, labels
    n_val = int(fraction * len(paths))
    part = slice(None, -n_val) if subset == "training" else slice(-n_val, None)
    if verbose:
        print(f"Using {len(paths[part])} files for {subset}.")
    return paths[part], None if labels is None else labels[part]


class FileDataset(PyDataset):
    """Batches of files read by `load`, with their labels (`label_mode`)."""

    def __init__(
        self,
        paths: list[str],
        labels: np.ndarray | None,
        label_mode: str | None,
        class_names: list[str] | None,
        load: Callable[[str], Any],
        batch_size: int | None,
        shuffle: bool,
        seed: int,
    ) -> None:
        super().__init__()
        self.file_paths = paths
        self.class_names = class_names
        self.labels, self.label_mode, self.load = labels, label_mode, load
        self.batch_size, self.shuffle = batch_size, shuffle
        self._rng = np.random.RandomState(seed)
        self._order = np.arange(len(paths))

    def __len__(self) -> int:
        return -(-len(self.file_paths) // (self.batch_size or 1))

    def _target(self, labels: np.ndarray) -> np.ndarray:
        if self.label_mode == "binary":
            return labels.astype("float32")[..., None]
        if self.label_mode == "categorical":
            return np.eye(len(self.class_names or ()), dtype="float32")[labels]
        return labels.astype("int32")

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(
                f"{type(self).__name__}: expected a batch index in [0, {n}), got {index}."
            )
        size = self.batch_size or 1
        picks = self._order[(index % n) * size : (index % n + 1) * size]
        x = np.stack([self.load(self.file_paths[i]) for i in picks])
        if self.labels is None:
            return x if self.batch_size else x[0]
        y = self._target(self.labels[picks])
        return (x, y) if self.batch_size else (x[0], y[0])

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._order = self._rng.permutation(len(self.file_paths))


def _datasets(
    caller: str,
    directory: str,
    labels: Any,
    label_mode: str | None,
    class_names: list[str] | None,
    formats: tuple[str, ...],
    load: Callable[[str], Any],
    batch_size: int | None,
    shuffle: bool,
    seed: int | None,
    validation_split: float | None,
    subset: str | None,
    follow_links: bool,
    verbose: bool,
) -> Any:
    """The checks, indexing and split shared by the image and text datasets."""
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple)):
        raise ValueError(
            f"{caller}: expected `labels` 'inferred', None, or a list/tuple of ints, got {labels!r}."
        )
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(
            f"{caller}: expected `label_mode` 'int', 'categorical', 'binary' or None, got {label_mode!r}."
        )
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    _check_split(caller, validation_split, subset, shuffle, seed)
    seed = np.random.randint(1_000_000) if seed is None else seed
    paths, array, names = index_directory(
        directory,
        labels,
        formats,
        class_names,
        shuffle,
        seed,
        follow_links,
        verbose,
        caller,
    )
    if label_mode == "binary" and len(names or ()) != 2:
        raise ValueError(
            f"{caller}: expected 2 classes with label_mode='binary', got class_names={names}."
        )
    subsets = (
        ("training", "validation") if subset == "both" else (subset or "training",)
    )
    out = []
    for part in subsets:
        part_paths, part_labels = _split(paths, array, validation_split, part, verbose)
        if not part_paths:
            raise ValueError(
                f"{caller}: expected files ending in {formats} in {directory!r}, got none for {part}."
            )
        train = shuffle and part == "training"
        out.append(
            FileDataset(
                part_paths,
                part_labels,
                label_mode,
                names,
                load,
                batch_size,
                train,
                seed,
            )
        )
    return out if subset == "both" else out[0]


class _ImageLoader:
    """Read one image file as a float32 array of the target size (picklable)."""

    def __init__(
        self,
        size: tuple[int, int],
        color_mode: str,
        interpolation: str,
        data_format: str,
        crop: bool,
        pad: bool,
    ) -> None:
        self.size, self.color_mode, self.interpolation = size, color_mode, interpolation
        self.data_format, self.crop, self.pad = data_format, crop, pad

    def __call__(self, path: str) -> np.ndarray:
        image = pil_image("image_dataset_from_directory")
        with image.open(path) as img:
            array = np.array(
                convert(img, self.color_mode, "image_dataset_from_directory"),
                dtype="float32",
            )
        x = torch.from_numpy(array.reshape(*array.shape[:2], -1)).permute(2, 0, 1)
        h, w = x.shape[1:]
        th, tw = self.size
        if self.crop:  # the largest centred crop of the target's aspect ratio
            ch, cw = max(min(h, int(w * th / tw)), 1), max(min(w, int(h * tw / th)), 1)
            top, left = int((h - ch) / 2), int((w - cw) / 2)
            x = x[:, top : top + ch, left : left + cw]
        elif self.pad:  # zero bands to the target's aspect ratio, image centred
            ph, pw = max(h, int(w * th / tw)), max(w, int(h * tw / th))
            top, left = int((ph - h) / 2), int((pw - w) / 2)
            x = torch.nn.functional.pad(x, (left, left, top, top))  # Keras: even bands
        mode = RESIZE_MODES[self.interpolation]
        corners = False if mode in ("bilinear", "bicubic") else None
        x = torch.nn.functional.interpolate(
            x[None], size=self.size, mode=mode, align_corners=corners
        )[0]
        if self.data_format == "channels_last":
            x = x.permute(1, 2, 0)
        return x.numpy()


def image_dataset_from_directory(
    directory: str,
    labels: Any = "inferred",
    label_mode: str | None = "int",
    class_names: list[str] | None = None,
    color_mode: str = "rgb",
    batch_size: int | None = 32,
    image_size: Any = (256, 256),
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    interpolation: str = "bilinear",
    follow_links: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    data_format: str | None = None,
    verbose: bool = True,
) -> Any:
    """Batches of images (and labels) from a directory: one subdirectory per class.

    Args:
        directory: Folder of the images (`.bmp`, `.gif`, `.jpeg`, `.jpg`, `.png`).
        labels: `"inferred"` (from the subdirectories), None, or one int per file
            in the sorted walk's order.
        label_mode: `"int"` (int32), `"categorical"` (one-hot float32),
            `"binary"` (float32, shape `(batch, 1)`), or None (images only).
        class_names: Subdirectories to use, in this order (labels `"inferred"`).
        color_mode: `"grayscale"`, `"rgb"` or `"rgba"` (1, 3 or 4 channels).
        batch_size: Images per batch; None gives single images.
        image_size: `(height, width)` (or one int) the images are resized to.
        shuffle: Shuffle the files (Keras's order for `seed`) and, for training,
            again after each epoch; False: sorted order.
        seed: Seed of the shuffles (needed with `validation_split` and shuffle).
        validation_split: Fraction of the files for validation (the last ones).
        subset: `"training"`, `"validation"`, or `"both"` (a list of the two).
        interpolation: `"bilinear"`, `"nearest"`, `"bicubic"` or `"area"`.
        follow_links: Follow symbolic links to subdirectories.
        crop_to_aspect_ratio: Resize the largest centred crop of the target's
            aspect ratio instead of distorting the image.
        pad_to_aspect_ratio: Pad with zeros to the target's aspect ratio instead.
        data_format: `"channels_last"` or `"channels_first"`; None: the backend's.
        verbose: Print how many files and classes were found.

    Returns:
        A `PyDataset` of float32 batches with `class_names` and `file_paths`
        attributes (for `subset="both"`, a list of the training and validation ones).

    Raises:
        ValueError: an unknown option, a bad split, no files, or `"binary"` labels
            with other than 2 classes.
    """
    caller = "image_dataset_from_directory"
    if color_mode not in COLOR_MODES:
        raise ValueError(
            f"{caller}: expected `color_mode` in {tuple(COLOR_MODES)}, got {color_mode!r}."
        )
    size = (image_size, image_size) if isinstance(image_size, int) else image_size
    if not isinstance(size, (list, tuple)) or len(size) != 2:
        raise ValueError(
            f"{caller}: expected `image_size` a pair of ints, got {image_size!r}."
        )
    if interpolation.lower() not in RESIZE_MODES:
        raise ValueError(
            f"{caller}: expected `interpolation` in {tuple(RESIZE_MODES)}, got {interpolation!r}."
        )
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(
            f"{caller}: expected at most one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio`, got both."
        )
    load = _ImageLoader(
        (int(size[0]), int(size[1])), color_mode, interpolation.lower(),
        image_data_format(data_format, caller), crop_to_aspect_ratio, pad_to_aspect_ratio,
    )  # fmt: skip
    return _datasets(
        caller, directory, labels, label_mode, class_names, IMAGE_FORMATS, load,
        batch_size, shuffle, seed, validation_split, subset, follow_links, verbose,
    )  # fmt: skip


class _TextLoader:
    """Read one text file as a str, cut to `max_length` characters (picklable)."""

    def __init__(self, max_length: int | None) -> None:
        self.max_length = max_length

    def __call__(self, path: str) -> np.ndarray:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
        return np.asarray(
            text if self.max_length is None else text[: self.max_length], dtype=object
        )


def text_dataset_from_directory(
    directory: str,
    labels: Any = "inferred",
    label_mode: str | None = "int",
    class_names: list[str] | None = None,
    batch_size: int | None = 32,
    max_length: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    follow_links: bool = False,
    verbose: bool = True,
) -> Any:
    """Batches of texts (and labels) from `.txt` files: one subdirectory per class.

    The arguments are `image_dataset_from_directory`'s (no image options), with
    `max_length`: the most characters kept of each file. Batches of texts are
    1-D NumPy arrays of Python strings (dtype object), for a model with a string
    `Input` and `TextVectorization`.

    Returns:
        A `PyDataset` with `class_names` and `file_paths` attributes (for
        `subset="both"`, a list of the training and validation ones).
    """
    caller = "text_dataset_from_directory"
    if max_length is not None and (
        isinstance(max_length, bool)
        or not isinstance(max_length, int)
        or max_length < 1
    ):
        raise ValueError(
            f"{caller}: expected `max_length` a positive int or None, got {max_length!r}."
        )
    return _datasets(
        caller, directory, labels, label_mode, class_names, (".txt",),
        _TextLoader(max_length), batch_size, shuffle, seed, validation_split,
        subset, follow_links, verbose,
    )  # fmt: skip
