"""Write Keras 3's results of the image preprocessing cases (`image_cases.py`).

Run with a Keras 3 install on the torch backend, with SciPy and Pillow (not needed
at test time):

    KERAS_BACKEND=torch python tests/preprocessing/make_image_golden.py [--out DIR]

`ImageDataGenerator` is Keras's legacy one (`keras.src.legacy.preprocessing.image`,
SciPy's `affine_transform` inside); `load_img`, `img_to_array`, `array_to_img` and
`save_img` are `keras.utils`'. Keras's directory datasets need TensorFlow or grain to
batch, so the files, labels and class names they would use come from the functions
they call first: `dataset_utils.index_directory` and
`get_training_or_validation_split`, and the images from the reader Keras uses
without TensorFlow (`image_dataset_utils._load_image_grain`: Pillow, then the torch
backend's resize). The results go to `golden/image.npz`, with the Keras version
under `keras`.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras
import numpy as np
from keras.src.legacy.preprocessing.image import ImageDataGenerator
from keras.src.utils import dataset_utils, image_dataset_utils

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from tests.preprocessing.image_cases import make_api, run_all

GOLDEN = pathlib.Path(__file__).parent / "golden"


def keras_index(
    directory,
    text,
    labels="inferred",
    class_names=None,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
):
    formats = (".txt",) if text else (".bmp", ".gif", ".jpeg", ".jpg", ".png")
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    paths, found, names = dataset_utils.index_directory(
        directory,
        labels,
        formats=formats,
        class_names=class_names,
        shuffle=shuffle,
        seed=seed,
    )
    paths, found = dataset_utils.get_training_or_validation_split(
        paths, found, validation_split, subset
    )
    return paths, found, names


def keras_pixels(
    directory,
    image_size,
    color_mode="rgb",
    interpolation="bilinear",
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    data_format="channels_last",
):
    # Keras's per-image reader without TensorFlow (its grain path, torch resize).
    channels = {"grayscale": 1, "rgb": 3, "rgba": 4}[color_mode]
    paths, _, _ = dataset_utils.index_directory(
        directory,
        None,
        formats=(".bmp", ".gif", ".jpeg", ".jpg", ".png"),
        shuffle=False,
    )
    return np.stack(
        [
            np.asarray(
                image_dataset_utils._load_image_grain(
                    path,
                    image_size,
                    channels,
                    interpolation,
                    data_format,
                    crop_to_aspect_ratio,
                    pad_to_aspect_ratio,
                )
            )
            for path in paths
        ]
    )


KERAS_API = make_api(keras.utils, ImageDataGenerator, keras_index, keras_pixels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=GOLDEN)
    out_dir = parser.parse_args().out
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as root:
        results = run_all(KERAS_API, root)
    results["keras"] = np.asarray(keras.__version__)
    path = out_dir / "image.npz"
    np.savez_compressed(path, **results)
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
