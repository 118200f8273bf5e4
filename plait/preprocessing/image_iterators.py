"""The PyDatasets that `ImageDataGenerator.flow*` return (Keras 2's iterators).

`Iterator` batches sample indices: `len()` batches per epoch, `it[i]` the i-th
batch (the samples reshuffled after each epoch when `shuffle`), and, as in Keras,
`next(it)` walks the batches forever. With a `seed`, NumPy's global generator is
seeded with `seed + batches seen so far` before each batch, as Keras does, so the
shuffles and the random transforms repeat run to run (and equal Keras's).
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterator as IteratorType
from typing import TYPE_CHECKING, Any

import numpy as np

from plait.utils.dataset_utils import walk_files
from plait.utils.image_utils import (
    COLOR_MODES,
    array_to_img,
    image_data_format,
    img_to_array,
    load_img,
)
from plait.utils.pydataset import PyDataset

if TYPE_CHECKING:
    from plait.preprocessing.image import ImageDataGenerator

__all__ = [
    "FILE_OPTIONS",
    "DirectoryIterator",
    "FileIterator",
    "Iterator",
    "NumpyArrayIterator",
]

SUBSETS = ("training", "validation")

# Keras's reading and batching options of the file iterators, with their defaults
# (`flow_from_directory` and `flow_from_dataframe` spell them out and pass them on).
FILE_OPTIONS: dict[str, Any] = {
    "target_size": (256, 256),
    "color_mode": "rgb",
    "classes": None,
    "class_mode": "categorical",
    "batch_size": 32,
    "shuffle": True,
    "seed": None,
    "data_format": None,
    "save_to_dir": None,
    "save_prefix": "",
    "save_format": "png",
    "subset": None,
    "interpolation": "nearest",
    "keep_aspect_ratio": False,
    "dtype": None,
    "workers": 1,
    "use_multiprocessing": False,
    "max_queue_size": 10,
}


class Iterator(PyDataset):
    """Batches of `n` samples by index; subclasses build a batch from indices.

    Args:
        n: Number of samples.
        batch_size: Samples per batch.
        shuffle: Shuffle the samples (again after each epoch).
        seed: Seed of the shuffles and transforms.
        **kwargs: `workers`, `use_multiprocessing`, `max_queue_size` (PyDataset).
    """

    white_list_formats = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")
    save_to_dir: str | None = None
    save_prefix = ""
    save_format = "png"

    def __init__(
        self, n: int, batch_size: int, shuffle: bool, seed: int | None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, int)
            or batch_size < 1
        ):
            raise ValueError(
                f"{type(self).__name__}: expected a positive int `batch_size`, got {batch_size!r}."
            )
        self.n, self.batch_size, self.seed, self.shuffle = n, batch_size, seed, shuffle
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array: np.ndarray | None = None
        self.index_generator = self._flow_index()

    def __getstate__(
        self,
    ) -> dict[str, Any]:  # worker processes get no lock or generator
        state = self.__dict__.copy()
        del state["lock"], state["index_generator"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.lock = threading.Lock()
        self.index_generator = self._flow_index()

    def _set_index_array(self) -> np.ndarray:
        self.index_array = (
            np.random.permutation(self.n) if self.shuffle else np.arange(self.n)
        )
        return self.index_array

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def __getitem__(self, idx: int) -> Any:
        if idx >= len(self):
            raise IndexError(
                f"{type(self).__name__}: expected a batch index below {len(self)}, got {idx}."
            )
        if self.seed is not None:
            np.random.seed(self.seed + self.total_batches_seen)
        self.total_batches_seen += 1
        order = (
            self._set_index_array() if self.index_array is None else self.index_array
        )
        picks = order[self.batch_size * idx : self.batch_size * (idx + 1)]
        return self._get_batches_of_transformed_samples(picks)

    def on_epoch_begin(self) -> None:
        # Worker processes each get a copy of this iterator: draw the sample order
        # here first, or each worker would draw its own (a batch in `fit` then
        # reads the order Keras's `__getitem__` draws on first use, unchanged).
        if self.use_multiprocessing and self.index_array is None:
            self._set_index_array()

    def on_epoch_end(self) -> None:
        self._set_index_array()

    def reset(self) -> None:
        self.batch_index = 0

    def _flow_index(self) -> IteratorType[np.ndarray]:
        self.reset()
        while True:
            if self.seed is not None:
                np.random.seed(self.seed + self.total_batches_seen)
            order = (
                self._set_index_array() if self.batch_index == 0 else self.index_array
            )
            start = (self.batch_index * self.batch_size) % self.n if self.n else 0
            self.batch_index = (
                self.batch_index + 1 if self.n > start + self.batch_size else 0
            )
            self.total_batches_seen += 1
            yield np.asarray(order)[start : start + self.batch_size]

    def __iter__(self) -> Iterator:
        return self

    def __next__(self) -> Any:
        with self.lock:
            picks = next(self.index_generator)
        return self._get_batches_of_transformed_samples(picks)

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__}: expected a `_get_batches_of_transformed_samples`, got none."
        )

    def _save(
        self, batch: np.ndarray, index_array: np.ndarray, data_format: str, high: int
    ) -> None:
        """Write the batch's images to `save_to_dir` (Keras's names)."""
        if not self.save_to_dir:
            return
        for image, j in zip(batch, index_array):
            name = (
                f"{self.save_prefix}_{j}_{np.random.randint(high)}.{self.save_format}"
            )
            array_to_img(image, data_format, scale=True).save(
                os.path.join(self.save_to_dir, name)
            )


def _subset_split(subset: str | None, fraction: float) -> tuple[float, float] | None:
    if subset is None:
        return None
    if subset not in SUBSETS:
        raise ValueError(
            f"ImageDataGenerator: expected `subset` 'training', 'validation' or None, got {subset!r}."
        )
    return (0.0, fraction) if subset == "validation" else (fraction, 1.0)


class NumpyArrayIterator(Iterator):
    """Augmented batches of images held in an array (`ImageDataGenerator.flow`)."""

    def __init__(
        self,
        x: Any,
        y: Any,
        image_data_generator: ImageDataGenerator,
        batch_size: int = 32,
        shuffle: bool = False,
        sample_weight: Any = None,
        seed: int | None = None,
        data_format: str | None = None,
        save_to_dir: str | None = None,
        save_prefix: str = "",
        save_format: str = "png",
        subset: str | None = None,
        ignore_class_split: bool = False,
        dtype: Any = None,
        **kwargs: Any,
    ) -> None:
        self.dtype = dtype or image_data_generator.dtype
        self.data_format = image_data_format(data_format, "NumpyArrayIterator")
        misc: list[np.ndarray] = []
        if isinstance(x, (tuple, list)):
            rest = x[1] if isinstance(x[1], list) else [x[1]]
            misc, x = [np.asarray(m) for m in rest], x[0]
            for m in misc:
                if len(m) != len(x):
                    raise ValueError(
                        f"NumpyArrayIterator: expected the arrays of `x` to have one length, got {len(x)} and {len(m)}."
                    )
        for name, other in (("y", y), ("sample_weight", sample_weight)):
            if other is not None and len(other) != len(x):
                raise ValueError(
                    f"NumpyArrayIterator: expected `{name}` of length {len(x)} (the images), got {len(other)}."
                )
        split = _subset_split(subset, image_data_generator._validation_split)
        if split is not None:
            cut = int(len(x) * image_data_generator._validation_split)
            if (
                y is not None
                and not ignore_class_split
                and not np.array_equal(np.unique(y[:cut]), np.unique(y[cut:]))
            ):
                raise ValueError(
                    "NumpyArrayIterator: expected the training and validation subsets to hold the same classes, "
                    "got different ones (shuffle arrays sorted by label, or pass ignore_class_split=True)."
                )
            part = slice(None, cut) if subset == "validation" else slice(cut, None)
            x, misc = x[part], [m[part] for m in misc]
            y = None if y is None else y[part]
            sample_weight = None if sample_weight is None else sample_weight[part]
        self.x = np.asarray(x, dtype=self.dtype)
        if self.x.ndim != 4:
            raise ValueError(
                f"NumpyArrayIterator: expected images of rank 4, got shape {self.x.shape}."
            )
        axis = 3 if self.data_format == "channels_last" else 1
        if self.x.shape[axis] not in (1, 3, 4):
            warnings.warn(
                f"NumpyArrayIterator: expected 1, 3 or 4 channels on axis {axis} ({self.data_format}), "
                f"got shape {self.x.shape}."
            )
        self.x_misc = misc
        self.y = None if y is None else np.asarray(y)
        self.sample_weight = (
            None if sample_weight is None else np.asarray(sample_weight)
        )
        self.image_data_generator = image_data_generator
        self.save_to_dir, self.save_prefix, self.save_format = (
            save_to_dir,
            save_prefix,
            save_format,
        )
        super().__init__(len(self.x), batch_size, shuffle, seed, **kwargs)

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray) -> Any:
        gen = self.image_data_generator
        batch = np.zeros((len(index_array), *self.x.shape[1:]), dtype=self.dtype)
        for i, j in enumerate(index_array):
            image = self.x[j]
            params = gen.get_random_transform(image.shape)
            image = gen.apply_transform(image.astype(self.dtype), params)
            batch[i] = gen.standardize(image)
        self._save(batch, index_array, self.data_format, 10_000)
        inputs: Any = (
            [batch, *(m[index_array] for m in self.x_misc)] if self.x_misc else batch
        )
        if self.y is None:
            return inputs
        if self.sample_weight is None:
            return inputs, self.y[index_array]
        return inputs, self.y[index_array], self.sample_weight[index_array]


class FileIterator(Iterator):
    """Reading, transforming and labelling images listed by file (Keras's mixin)."""

    allowed_class_modes: tuple[str | None, ...] = ()
    classes: Any
    class_indices: dict[str, int]
    directory: str
    filenames: list[str]
    samples: int

    def _setup(
        self,
        image_data_generator: ImageDataGenerator | None,
        options: dict[str, Any],
        own: dict[str, Any],
    ) -> dict[str, Any]:
        """Check `options` against `FILE_OPTIONS` and `own` (the subclass's extra
        options and defaults), set the reading attributes, and return the options
        (all of them, defaults filled in)."""
        name = type(self).__name__
        defaults = {**FILE_OPTIONS, **own}
        unknown = sorted(set(options) - set(defaults))
        if unknown:
            raise TypeError(f"{name}: unexpected keyword arguments {unknown}.")
        o = {**defaults, **options}
        self.image_data_generator = image_data_generator
        self.target_size = tuple(o["target_size"])
        self.keep_aspect_ratio = o["keep_aspect_ratio"]
        if o["color_mode"] not in COLOR_MODES:
            raise ValueError(
                f"{name}: expected `color_mode` in {tuple(COLOR_MODES)}, got {o['color_mode']!r}."
            )
        if o["class_mode"] not in self.allowed_class_modes:
            raise ValueError(
                f"{name}: expected `class_mode` in {self.allowed_class_modes}, got {o['class_mode']!r}."
            )
        self.color_mode, self.class_mode = o["color_mode"], o["class_mode"]
        self.data_format = image_data_format(o["data_format"], name)
        channels = (COLOR_MODES[self.color_mode],)
        first = self.data_format == "channels_first"
        self.image_shape = (
            channels + self.target_size if first else self.target_size + channels
        )
        self.save_to_dir, self.save_prefix = o["save_to_dir"], o["save_prefix"]
        self.save_format, self.interpolation = o["save_format"], o["interpolation"]
        gen = image_data_generator
        self.split = _subset_split(o["subset"], gen._validation_split if gen else 0.0)
        self.subset = o["subset"]
        self.dtype = o["dtype"] or (gen.dtype if gen else "float32")
        return o

    def _start(self, o: dict[str, Any]) -> None:
        """Start the `Iterator` over `self.samples` files with the batching options."""
        pydataset = {
            k: o[k] for k in ("workers", "use_multiprocessing", "max_queue_size")
        }
        self.filepaths = [os.path.join(self.directory, f) for f in self.filenames]
        super().__init__(
            self.samples, o["batch_size"], o["shuffle"], o["seed"], **pydataset
        )

    def _labels_of(self, index_array: np.ndarray, batch: np.ndarray) -> Any:
        mode = self.class_mode
        if mode == "input":
            return batch.copy()
        if mode in ("binary", "sparse"):
            return np.asarray([self.classes[j] for j in index_array], dtype=self.dtype)
        if mode == "categorical":
            y = np.zeros((len(batch), len(self.class_indices)), dtype=self.dtype)
            for i, j in enumerate(index_array):
                y[i, self.classes[j]] = 1.0
            return y
        if mode == "multi_output":
            return [output[index_array] for output in self.labels]
        if mode == "raw":
            return self.labels[index_array]
        return None

    @property
    def labels(self) -> Any:
        return self.classes

    @property
    def sample_weight(self) -> np.ndarray | None:
        return None

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray) -> Any:
        gen = self.image_data_generator
        batch = np.zeros((len(index_array), *self.image_shape), dtype=self.dtype)
        for i, j in enumerate(index_array):
            img = load_img(
                self.filepaths[j], color_mode=self.color_mode, target_size=self.target_size,
                interpolation=self.interpolation, keep_aspect_ratio=self.keep_aspect_ratio,
            )  # fmt: skip
            x = img_to_array(img, data_format=self.data_format)
            img.close()
            if gen:
                x = gen.standardize(
                    gen.apply_transform(x, gen.get_random_transform(x.shape))
                )
            batch[i] = x
        self._save(batch, index_array, self.data_format, 10_000_000)
        y = self._labels_of(index_array, batch)
        if y is None:
            return batch
        weights = self.sample_weight
        return (batch, y) if weights is None else (batch, y, weights[index_array])


class DirectoryIterator(FileIterator):
    """Augmented batches of the images in one subdirectory per class (`flow_from_directory`).

    Args:
        directory: Folder with one subdirectory of images per class.
        image_data_generator: The `ImageDataGenerator` (None: no transforms).
        **options: `FILE_OPTIONS` (Keras's names and defaults) and `follow_links`.
    """

    allowed_class_modes = ("categorical", "binary", "sparse", "input", None)

    def __init__(
        self,
        directory: str,
        image_data_generator: ImageDataGenerator | None = None,
        **options: Any,
    ) -> None:
        o = self._setup(image_data_generator, options, {"follow_links": False})
        classes, follow_links = o["classes"], o["follow_links"]
        self.directory = directory
        if not classes:
            classes = [
                d
                for d in sorted(os.listdir(directory))
                if os.path.isdir(os.path.join(directory, d))
            ]
        self.num_classes = len(classes)
        self.class_indices = {name: i for i, name in enumerate(classes)}
        self.filenames = []
        labels: list[int] = []
        for name in classes:
            folder = os.path.join(directory, name)
            found = list(walk_files(folder, self.white_list_formats, follow_links))
            if any(f.lower().endswith(".tiff") for _, f in found):
                warnings.warn(
                    "DirectoryIterator: .tiff files with many bands may be distorted."
                )
            if self.split:
                found = found[
                    int(self.split[0] * len(found)) : int(self.split[1] * len(found))
                ]
            for root, f in found:
                self.filenames.append(
                    os.path.join(name, os.path.relpath(os.path.join(root, f), folder))
                )
                labels.append(self.class_indices[name])
        self.samples = len(self.filenames)
        self.classes = np.asarray(labels, dtype="int32")
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        self._start(o)
