"""Keras 2 image preprocessing: `ImageDataGenerator` and the image file helpers.

`ImageDataGenerator` augments images at random (rotation, shifts, shear, zoom,
channel shift, flips, brightness) and standardizes them (rescale, sample- or
feature-wise centring and scaling, ZCA whitening), and its `flow`,
`flow_from_directory` and `flow_from_dataframe` return `plait.utils.PyDataset`s
that `Model.fit`, `evaluate` and `predict` take as they are.

Keras compat: the same parameters, draws and results as Keras 3's
`keras.src.legacy.preprocessing.image`: random draws come from NumPy's global
generator in Keras's order (a `seed` seeds it the same way), and the affine warp
gives SciPy's `affine_transform` results without SciPy (`plait.preprocessing.affine`).
`load_img`, `img_to_array`, `array_to_img` and `save_img` live in
`plait.utils.image_utils` (Keras 3's `keras.utils`). NumPy only (Pillow for files and
`brightness_range`); importing this module loads no layers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from plait.preprocessing.affine import FILL_MODES, apply_affine_transform
from plait.preprocessing.dataframe_iterator import DataFrameIterator
from plait.preprocessing.image_iterators import (
    DirectoryIterator,
    Iterator,
    NumpyArrayIterator,
)
from plait.utils.image_utils import (
    array_to_img,
    floatx,
    image_data_format,
    img_to_array,
    load_img,
    pil_image,
    save_img,
)

__all__ = [
    "DataFrameIterator",
    "DirectoryIterator",
    "ImageDataGenerator",
    "Iterator",
    "NumpyArrayIterator",
    "apply_affine_transform",
    "apply_brightness_shift",
    "apply_channel_shift",
    "array_to_img",
    "img_to_array",
    "load_img",
    "save_img",
]

_NOT_FIT = "ImageDataGenerator: `{}` is set but the generator has not been fit; call `.fit(x)` first."


def flip_axis(x: np.ndarray, axis: int) -> np.ndarray:
    """`x` reversed along `axis`."""
    return np.flip(np.asarray(x), axis)


def apply_channel_shift(
    x: np.ndarray, intensity: float, channel_axis: int = 0
) -> np.ndarray:
    """Add `intensity` to every channel, clipped to the image's own min and max."""
    return np.clip(x + intensity, np.min(x), np.max(x))


def apply_brightness_shift(
    x: np.ndarray, brightness: float, scale: bool = True
) -> np.ndarray:
    """PIL's brightness enhancement of one channels-last image (needs Pillow).

    The image goes through `array_to_img` (stretched to [0, 255] when `scale`, or
    when its values leave [0, 255]) and back; with `scale=False` such values are
    mapped back to their original range.
    """
    pil_image("apply_brightness_shift")  # the install hint when Pillow is missing
    from PIL import ImageEnhance

    low, high = np.min(x), np.max(x)
    outside = bool(low < 0 or high > 255)
    img = array_to_img(x, data_format="channels_last", scale=outside or scale)
    out = img_to_array(
        ImageEnhance.Brightness(img).enhance(brightness), "channels_last"
    )
    if not scale and outside:
        out = out / 255 * (high - low) + low
    return out


def _pair(value: Any, name: str) -> list[float]:
    if isinstance(value, (float, int)) and not isinstance(value, bool):
        return [1 - value, 1 + value]
    if (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, (float, int)) for v in value)
    ):
        return [value[0], value[1]]
    raise ValueError(
        f"ImageDataGenerator: expected `{name}` a float or a pair of floats, got {value!r}."
    )


def _shift(spec: Any, size: int) -> float:
    """Keras's shift draw: from a list or int of pixel values, else uniform in +-spec."""
    shift: Any
    if isinstance(spec, (int, np.integer, list, tuple, np.ndarray)):
        shift = float(np.random.choice(spec))
        shift *= np.random.choice([-1, 1])
    else:
        shift = np.random.uniform(-float(spec), float(spec))
    if np.max(spec) < 1:
        shift *= size
    return shift


class ImageDataGenerator:
    """Random image augmentation and standardization, batched by `flow*` (Keras 2).

    Args:
        featurewise_center: Subtract the per-channel mean of the data given to `fit`.
        samplewise_center: Subtract each image's mean.
        featurewise_std_normalization: Divide by the per-channel std from `fit`.
        samplewise_std_normalization: Divide each image by its std.
        zca_whitening: Apply the ZCA whitening matrix computed by `fit`.
        zca_epsilon: Epsilon of the ZCA whitening.
        rotation_range: Degrees; the rotation is drawn in +-range.
        width_shift_range: Fraction of the width (below 1), pixels (1 or more),
            or a list of pixel values to choose from.
        height_shift_range: As `width_shift_range`, for the height.
        brightness_range: Pair of floats; brightness factor drawn in it (Pillow).
        shear_range: Degrees; shear angle drawn in +-range.
        zoom_range: Float `z` (zoom drawn in `[1 - z, 1 + z]`) or `[low, high]`.
        channel_shift_range: Channel shift drawn in +-range.
        fill_mode: `"constant"`, `"nearest"`, `"reflect"` or `"wrap"`.
        cval: Fill value for `"constant"`.
        horizontal_flip: Flip columns with probability 1/2.
        vertical_flip: Flip rows with probability 1/2.
        rescale: Factor the images are multiplied by (after the other
            transforms, before standardization); None or 0: none.
        preprocessing_function: Called on each image first thing in `standardize`.
        data_format: `"channels_last"` or `"channels_first"`; None: the backend's.
        validation_split: Fraction held out for `subset="validation"` of `flow*`.
        interpolation_order: Spline order of the affine warp: 0 or 1.
        dtype: Dtype of the batches; None: `floatx()`.

    Example:
        >>> gen = ImageDataGenerator(rescale=1 / 255, horizontal_flip=True)
        >>> x = np.zeros((5, 4, 4, 3), "float32")
        >>> batches = gen.flow(x, np.arange(5), batch_size=2)
        >>> len(batches), batches[0][0].shape
        (3, (2, 4, 4, 3))
    """

    featurewise_center: bool
    samplewise_center: bool
    featurewise_std_normalization: bool
    samplewise_std_normalization: bool
    zca_whitening: bool
    zca_epsilon: float
    rotation_range: float
    width_shift_range: Any
    height_shift_range: Any
    brightness_range: Any
    shear_range: float
    channel_shift_range: float
    fill_mode: str
    cval: float
    horizontal_flip: bool
    vertical_flip: bool
    rescale: float | None
    preprocessing_function: Callable[[np.ndarray], np.ndarray] | None
    interpolation_order: int

    def __init__(
        self,
        featurewise_center: bool = False,
        samplewise_center: bool = False,
        featurewise_std_normalization: bool = False,
        samplewise_std_normalization: bool = False,
        zca_whitening: bool = False,
        zca_epsilon: float = 1e-6,
        rotation_range: float = 0,
        width_shift_range: Any = 0.0,
        height_shift_range: Any = 0.0,
        brightness_range: Any = None,
        shear_range: float = 0.0,
        zoom_range: Any = 0.0,
        channel_shift_range: float = 0.0,
        fill_mode: str = "nearest",
        cval: float = 0.0,
        horizontal_flip: bool = False,
        vertical_flip: bool = False,
        rescale: float | None = None,
        preprocessing_function: Callable[[np.ndarray], np.ndarray] | None = None,
        data_format: str | None = None,
        validation_split: float = 0.0,
        interpolation_order: int = 1,
        dtype: Any = None,
    ) -> None:
        settings = dict(locals())  # the arguments kept as they are, by name
        for name in ("self", "zoom_range", "data_format", "validation_split", "dtype"):
            del settings[name]
        self.data_format = image_data_format(data_format, "ImageDataGenerator")
        self.dtype = floatx(dtype)
        if fill_mode not in FILL_MODES:
            raise ValueError(
                f"ImageDataGenerator: expected `fill_mode` in {FILL_MODES}, got {fill_mode!r}."
            )
        if interpolation_order not in (0, 1):
            raise ValueError(
                f"ImageDataGenerator: expected `interpolation_order` 0 or 1, got {interpolation_order!r}."
            )
        if validation_split and not 0 < validation_split < 1:
            raise ValueError(
                f"ImageDataGenerator: expected `validation_split` strictly between 0 and 1, got {validation_split!r}."
            )
        if brightness_range is not None and (
            not isinstance(brightness_range, (tuple, list))
            or len(brightness_range) != 2
        ):
            raise ValueError(
                f"ImageDataGenerator: expected `brightness_range` a pair of floats, got {brightness_range!r}."
            )
        for name, value in settings.items():
            setattr(self, name, value)
        self.zoom_range = _pair(zoom_range, "zoom_range")
        self._validation_split = validation_split
        first = self.data_format == "channels_first"
        self.channel_axis, self.row_axis, self.col_axis = (
            (1, 2, 3) if first else (3, 1, 2)
        )
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.zca_whitening_matrix: np.ndarray | None = None
        # Keras's implied settings, each with its warning.
        if zca_whitening and not featurewise_center:
            self.featurewise_center = True
            warnings.warn(
                "ImageDataGenerator: `zca_whitening` turns on `featurewise_center`."
            )
        if zca_whitening and featurewise_std_normalization:
            self.featurewise_std_normalization = False
            warnings.warn(
                "ImageDataGenerator: `zca_whitening` turns off `featurewise_std_normalization`."
            )
        if featurewise_std_normalization and not self.featurewise_center:
            self.featurewise_center = True
            warnings.warn(
                "ImageDataGenerator: `featurewise_std_normalization` turns on `featurewise_center`."
            )
        if samplewise_std_normalization and not samplewise_center:
            self.samplewise_center = True
            warnings.warn(
                "ImageDataGenerator: `samplewise_std_normalization` turns on `samplewise_center`."
            )

    def flow(
        self,
        x: Any,
        y: Any = None,
        batch_size: int = 32,
        shuffle: bool = True,
        sample_weight: Any = None,
        seed: int | None = None,
        save_to_dir: str | None = None,
        save_prefix: str = "",
        save_format: str = "png",
        ignore_class_split: bool = False,
        subset: str | None = None,
    ) -> NumpyArrayIterator:
        """Batches of augmented images (and targets) from arrays: a PyDataset.

        `x` is rank 4, or `[images, other_input, ...]` (the other inputs are
        batched unchanged). `subset="training"`/`"validation"` takes the part after
        / before `validation_split` of the samples.
        """
        return NumpyArrayIterator(x, y, self, **self._options(locals()))

    def flow_from_directory(
        self,
        directory: str,
        target_size: tuple[int, int] = (256, 256),
        color_mode: str = "rgb",
        classes: list[str] | None = None,
        class_mode: str | None = "categorical",
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        save_to_dir: str | None = None,
        save_prefix: str = "",
        save_format: str = "png",
        follow_links: bool = False,
        subset: str | None = None,
        interpolation: str = "nearest",
        keep_aspect_ratio: bool = False,
    ) -> DirectoryIterator:
        """Batches of augmented images read from one subdirectory per class."""
        return DirectoryIterator(directory, self, **self._options(locals()))

    def flow_from_dataframe(
        self,
        dataframe: Any,
        directory: str | None = None,
        x_col: str = "filename",
        y_col: Any = "class",
        weight_col: str | None = None,
        target_size: tuple[int, int] = (256, 256),
        color_mode: str = "rgb",
        classes: list[str] | None = None,
        class_mode: str | None = "categorical",
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        save_to_dir: str | None = None,
        save_prefix: str = "",
        save_format: str = "png",
        subset: str | None = None,
        interpolation: str = "nearest",
        validate_filenames: bool = True,
        **kwargs: Any,
    ) -> DataFrameIterator:
        """Batches of augmented images whose files and labels a pandas DataFrame lists.

        `class_mode="other"` is Keras 2's spelling of `"raw"`. Keras's retired
        keywords `has_ext`, `sort` and `drop_duplicates` warn and are ignored.
        """
        options = self._options(locals(), "kwargs")
        unknown = set(kwargs) - {"has_ext", "sort", "drop_duplicates"}
        if unknown:
            raise TypeError(
                f"flow_from_dataframe: unexpected keyword arguments {sorted(unknown)}."
            )
        for name in sorted(kwargs):
            warnings.warn(
                f"flow_from_dataframe: `{name}` is deprecated and ignored.",
                DeprecationWarning,
            )
        if options["class_mode"] == "other":
            warnings.warn(
                'flow_from_dataframe: class_mode="other" is deprecated; use "raw".',
                DeprecationWarning,
            )
            options["class_mode"] = "raw"
        return DataFrameIterator(dataframe, directory, self, **options)

    def _options(self, arguments: dict[str, Any], *skip: str) -> dict[str, Any]:
        """A `flow*` method's keyword arguments for its iterator, with this generator's
        `data_format` and `dtype`."""
        leading = ("self", "x", "y", "directory", "dataframe", *skip)
        options = {k: v for k, v in arguments.items() if k not in leading}
        return {**options, "data_format": self.data_format, "dtype": self.dtype}

    def standardize(self, x: np.ndarray) -> np.ndarray:
        """Apply `preprocessing_function`, `rescale` and the normalizations (in place
        where NumPy allows, as Keras does)."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, keepdims=True) + 1e-6
        mean = self._fitted(self.featurewise_center, self.mean, "featurewise_center")
        if mean is not None:
            x -= mean
        std = self._fitted(
            self.featurewise_std_normalization,
            self.std,
            "featurewise_std_normalization",
        )
        if std is not None:
            x /= std + 1e-6
        zca = self._fitted(
            self.zca_whitening, self.zca_whitening_matrix, "zca_whitening"
        )
        if zca is not None:
            size = int(np.prod(x.shape[-3:]))
            x = np.reshape(x.reshape(-1, size) @ zca, x.shape)
        return x

    @staticmethod
    def _fitted(flag: bool, stat: np.ndarray | None, name: str) -> np.ndarray | None:
        """`stat` when `flag` is set; a warning when `fit` has not computed it yet."""
        if flag and stat is None:
            warnings.warn(_NOT_FIT.format(name))
        return stat if flag else None

    def get_random_transform(
        self, img_shape: tuple[int, ...], seed: int | None = None
    ) -> dict[str, Any]:
        """Draw the parameters of one random transformation (Keras's draws, in order)."""
        rows, cols = img_shape[self.row_axis - 1], img_shape[self.col_axis - 1]
        if seed is not None:
            np.random.seed(seed)
        theta = (
            np.random.uniform(-self.rotation_range, self.rotation_range)
            if self.rotation_range
            else 0
        )
        tx = (
            _shift(self.height_shift_range, rows)
            if _any(self.height_shift_range)
            else 0
        )
        ty = _shift(self.width_shift_range, cols) if _any(self.width_shift_range) else 0
        shear = (
            np.random.uniform(-self.shear_range, self.shear_range)
            if self.shear_range
            else 0
        )
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1.0, 1.0
        else:
            zx, zy = np.random.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = (np.random.random() < 0.5) * self.horizontal_flip
        flip_vertical = (np.random.random() < 0.5) * self.vertical_flip
        channel_shift = None
        if self.channel_shift_range != 0:
            channel_shift = np.random.uniform(
                -self.channel_shift_range, self.channel_shift_range
            )
        brightness = None
        if self.brightness_range is not None:
            brightness = np.random.uniform(
                self.brightness_range[0], self.brightness_range[1]
            )
        return {
            "theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
            "flip_horizontal": flip_horizontal, "flip_vertical": flip_vertical,
            "channel_shift_intensity": channel_shift, "brightness": brightness,
        }  # fmt: skip

    def apply_transform(
        self, x: np.ndarray, transform_parameters: dict[str, Any]
    ) -> np.ndarray:
        """Transform one image (rank 3) by the given parameters.

        Keys (all optional): `theta`, `tx`, `ty`, `shear`, `zx`, `zy`,
        `flip_horizontal`, `flip_vertical`, `channel_shift_intensity`, `brightness`.
        """
        p = transform_parameters
        rows, cols, channels = (
            self.row_axis - 1,
            self.col_axis - 1,
            self.channel_axis - 1,
        )
        x = apply_affine_transform(
            x, p.get("theta", 0), p.get("tx", 0), p.get("ty", 0), p.get("shear", 0),
            p.get("zx", 1), p.get("zy", 1), row_axis=rows, col_axis=cols,
            channel_axis=channels, fill_mode=self.fill_mode, cval=self.cval,
            order=self.interpolation_order,
        )  # fmt: skip
        if p.get("channel_shift_intensity") is not None:
            x = apply_channel_shift(x, p["channel_shift_intensity"], channels)
        if p.get("flip_horizontal", False):
            x = flip_axis(x, cols)
        if p.get("flip_vertical", False):
            x = flip_axis(x, rows)
        if p.get("brightness") is not None:
            x = apply_brightness_shift(x, p["brightness"], False)
        return x

    def random_transform(self, x: np.ndarray, seed: int | None = None) -> np.ndarray:
        """One image transformed at random (`get_random_transform`, then `apply_transform`)."""
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    def fit(
        self, x: Any, augment: bool = False, rounds: int = 1, seed: int | None = None
    ) -> None:
        """Compute the statistics of `featurewise_*` and `zca_whitening` from images.

        Args:
            x: Images, rank 4 (`rescale` is applied first).
            augment: Fit on randomly transformed copies instead.
            rounds: Transformed copies of each image when `augment`.
            seed: Seed of NumPy's global generator for the transforms.

        Raises:
            ValueError: `x` not of rank 4.
        """
        x = np.array(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(
                f"ImageDataGenerator.fit: expected images of rank 4, got shape {x.shape}."
            )
        if x.shape[self.channel_axis] not in (1, 3, 4):
            warnings.warn(
                f"ImageDataGenerator.fit: expected 1, 3 or 4 channels on axis {self.channel_axis} "
                f"({self.data_format}), got shape {x.shape}."
            )
        if seed is not None:
            np.random.seed(seed)
        if self.rescale:
            x *= self.rescale
        if augment:
            copies = np.zeros((rounds * len(x), *x.shape[1:]), dtype=self.dtype)
            for r in range(rounds):
                for i in range(len(x)):
                    copies[i + r * len(x)] = self.random_transform(x[i])
            x = copies
        shape = [1, 1, 1]
        shape[self.channel_axis - 1] = x.shape[self.channel_axis]
        axes = (0, self.row_axis, self.col_axis)
        if self.featurewise_center:
            self.mean = np.reshape(np.mean(x, axis=axes), shape)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(np.std(x, axis=axes), shape)
            x /= self.std + 1e-6
        if self.zca_whitening:
            flat = np.reshape(x, (len(x), -1))
            u, s, _ = np.linalg.svd(flat.T, full_matrices=False)
            scale = np.sqrt(len(x)) / (s + self.zca_epsilon)
            self.zca_whitening_matrix = (u * scale).dot(u.T)


def _any(spec: Any) -> bool:
    """Keras's truth test of a shift range (a float, an int, or a list)."""
    return (
        bool(len(spec)) if isinstance(spec, (list, tuple, np.ndarray)) else bool(spec)
    )
