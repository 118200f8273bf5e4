"""`DataFrameIterator`: the PyDataset of `ImageDataGenerator.flow_from_dataframe`.

The files and labels come from a pandas DataFrame (pandas is needed only to build
one); batches are read, transformed and labelled as `FileIterator` does.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from plait.preprocessing.image_iterators import FileIterator

if TYPE_CHECKING:
    from plait.preprocessing.image import ImageDataGenerator

__all__ = ["DataFrameIterator"]

# The options besides `FILE_OPTIONS`, and Keras's defaults that differ from them.
DATAFRAME_OPTIONS = {
    "x_col": "filename",
    "y_col": "class",
    "weight_col": None,
    "validate_filenames": True,
    "data_format": "channels_last",
    "dtype": "float32",
}


def _has_file(path: str, formats: tuple[str, ...]) -> bool:
    return path.lower().endswith(formats) and os.path.isfile(path)


class DataFrameIterator(FileIterator):
    """Augmented batches of the image files a pandas DataFrame lists (`flow_from_dataframe`).

    `x_col` holds file names (joined to `directory` when given); `y_col` the
    labels: class names (`"categorical"`, `"binary"`, `"sparse"`; a list of names
    per row for multi-label `"categorical"`), raw values (`"raw"`), or a list of
    columns (`"multi_output"`). `weight_col` gives sample weights.

    Args:
        dataframe: The DataFrame.
        directory: Folder the file names are relative to (None: as they are).
        image_data_generator: The `ImageDataGenerator` (None: no transforms).
        **options: `FILE_OPTIONS` and `DATAFRAME_OPTIONS` (Keras's names and defaults).
    """

    allowed_class_modes = (
        "binary",
        "categorical",
        "input",
        "multi_output",
        "raw",
        "sparse",
        None,
    )

    def __init__(
        self,
        dataframe: Any,
        directory: str | None = None,
        image_data_generator: ImageDataGenerator | None = None,
        **options: Any,
    ) -> None:
        o = self._setup(image_data_generator, options, DATAFRAME_OPTIONS)
        x_col, y_col, weight_col = o["x_col"], o["y_col"], o["weight_col"]
        class_mode, classes = o["class_mode"], o["classes"]
        validate_filenames = o["validate_filenames"]
        df = dataframe.copy()
        self.directory = directory or ""
        self._check(df, x_col, y_col, weight_col, classes)
        if validate_filenames:
            mask = df[x_col].map(
                lambda f: _has_file(
                    os.path.join(self.directory, f), self.white_list_formats
                )
            )
            if (~mask).sum():
                warnings.warn(
                    f'DataFrameIterator: ignoring {(~mask).sum()} invalid image file name(s) in x_col="{x_col}".'
                )
            df = df[mask]
        labelled = class_mode not in ("input", "multi_output", "raw", None)
        if labelled:
            df, classes = self._filter_classes(df, y_col, classes)
            self.class_indices = {name: i for i, name in enumerate(classes)}
        if self.split:
            n = len(df)
            df = df.iloc[int(self.split[0] * n) : int(self.split[1] * n), :]
        if labelled:
            self.classes = [
                [self.class_indices[c] for c in v]
                if isinstance(v, (list, tuple))
                else self.class_indices[v]
                for v in df[y_col]
            ]
        self.filenames = df[x_col].tolist()
        self._sample_weight = df[weight_col].values if weight_col else None
        if class_mode == "multi_output":
            self._targets: Any = [np.array(df[col].tolist()) for col in y_col]
        if class_mode == "raw":
            self._targets = df[y_col].values
        self.samples = len(self.filenames)
        which = "validated" if validate_filenames else "non-validated"
        found = f" belonging to {len(self.class_indices)} classes" if labelled else ""
        print(f"Found {self.samples} {which} image filenames{found}.")
        self._start(o)

    def _check(
        self, df: Any, x_col: str, y_col: Any, weight_col: str | None, classes: Any
    ) -> None:
        mode = self.class_mode
        if mode == "multi_output" and not isinstance(y_col, list):
            raise TypeError(
                f"DataFrameIterator: expected a list `y_col` with class_mode='multi_output', got {type(y_col).__name__}."
            )
        if not all(isinstance(v, str) for v in df[x_col]):
            raise TypeError(
                f"DataFrameIterator: expected strings in column x_col={x_col!r}, got other values."
            )
        kinds = {
            "binary": (str,),
            "sparse": (str,),
            "categorical": (str, list, tuple),
        }.get(str(mode))
        if kinds and not all(isinstance(v, kinds) for v in df[y_col]):
            names = " or ".join(k.__name__ for k in kinds)
            raise TypeError(
                f"DataFrameIterator: expected {names} values in column y_col={y_col!r} with class_mode={mode!r}, got others."
            )
        if mode == "binary":
            count = len(set(classes)) if classes else df[y_col].nunique()
            if count != 2:
                raise ValueError(
                    f"DataFrameIterator: expected 2 classes with class_mode='binary', got {count}."
                )
        if classes and mode in ("input", "multi_output", "raw", None):
            warnings.warn(
                f"DataFrameIterator: `classes` is ignored with class_mode={mode!r}."
            )
        if weight_col and not issubclass(df[weight_col].dtype.type, np.number):
            raise TypeError(
                f"DataFrameIterator: expected numbers in column weight_col={weight_col!r}, got {df[weight_col].dtype}."
            )

    @staticmethod
    def _filter_classes(df: Any, y_col: str, classes: Any) -> tuple[Any, list[str]]:
        """Rows whose labels are among `classes` (the given ones, else all, sorted)."""
        df = df.copy()
        if classes:
            keep = list(dict.fromkeys(classes))

            def only(labels: Any) -> Any:
                if isinstance(labels, (list, tuple)):
                    return [c for c in labels if c in keep] or None
                return labels if labels in keep else None

            df[y_col] = df[y_col].apply(only)
            return df.dropna(subset=[y_col]), keep
        found: set[str] = set()
        for v in df[y_col]:
            found.update(v if isinstance(v, (list, tuple)) else [v])
        return df, sorted(found)

    @property
    def labels(self) -> Any:
        return (
            self._targets
            if self.class_mode in ("multi_output", "raw")
            else self.classes
        )

    @property
    def sample_weight(self) -> np.ndarray | None:
        return self._sample_weight
