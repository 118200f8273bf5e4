"""The image preprocessing parity cases, run the same way on Keras and on plait.

`run_all(api, root)` builds a small tree of image and text files under `root`
(`make_tree`, Pillow, fixed seeds) and calls `api`'s functions on it and on fixed
arrays. It returns a flat dict of NumPy arrays (strings as unicode arrays) keyed by
case id: `make_image_golden.py` writes Keras's to `golden/image.npz`, and
`test_image_parity.py` compares plait's with them.

`api` has `ImageDataGenerator`, `load_img`, `img_to_array`, `array_to_img`,
`save_img`, `index(directory, text, **kwargs) -> (paths, labels, class_names)`,
the files, labels and class names a directory dataset would use, and
`pixels(directory, **kwargs)`: the images `image_dataset_from_directory` gives for
its reading options (`image_size`, `color_mode`, `interpolation`,
`crop_to_aspect_ratio`, `pad_to_aspect_ratio`, `data_format`), unshuffled, stacked.
"""

from __future__ import annotations

import io
import os
from types import SimpleNamespace
from typing import Any

import numpy as np

# Folder -> image files (a nested folder, upper-case and non-image names included).
TREE = {
    "b_dogs": ["d0.png", "d1.png", "deep/d2.png", "d3.jpg", "d4.png"],
    "a_cats": ["c0.png", "C1.PNG", "c2.jpeg", "notes.txt"],
    "c_birds": ["b0.png", "b1.bmp", "b2.png"],
    ".hidden": ["h0.png"],
}
TEXTS = {"pos": ["good.txt", "great.txt", "fine.txt"], "neg": ["bad.txt", "awful.txt"]}

# Fixed transform parameters for apply_transform.
TRANSFORMS = {
    "all": {"theta": 33.0, "tx": 1.5, "ty": -2.0, "shear": 12.0, "zx": 0.8, "zy": 1.3},
    "rot90": {"theta": -90.0},
    "zoom": {"zx": 2.0, "zy": 0.5},
    "shift": {"tx": 3.0, "ty": 4.0},
    "flips": {
        "flip_horizontal": True,
        "flip_vertical": True,
        "channel_shift_intensity": 20.0,
    },
    "bright": {"brightness": 1.3, "theta": 10.0},
}
RANDOM = {
    "rotation_range": 40, "width_shift_range": 0.2, "height_shift_range": [1, 2],
    "shear_range": 10.0, "zoom_range": [0.7, 1.2], "channel_shift_range": 15.0,
    "horizontal_flip": True, "vertical_flip": True, "brightness_range": (0.6, 1.4),
    "fill_mode": "reflect", "rescale": 1 / 255, "validation_split": 0.25,
}  # fmt: skip
PIXELS = {
    "bilinear": {"image_size": (5, 6)},
    "nearest": {"image_size": (4, 11), "interpolation": "nearest"},
    "bicubic_gray": {
        "image_size": (8, 3),
        "interpolation": "bicubic",
        "color_mode": "grayscale",
    },
    "crop": {"image_size": (4, 4), "crop_to_aspect_ratio": True},
    "pad_first": {
        "image_size": (3, 7),
        "pad_to_aspect_ratio": True,
        "data_format": "channels_first",
    },
    "rgba": {"image_size": (6, 6), "color_mode": "rgba"},
}
INDEXES = {
    "default": {"seed": 5},
    "sorted": {"shuffle": False},
    "train": {"seed": 7, "validation_split": 0.3, "subset": "training"},
    "val": {"seed": 7, "validation_split": 0.3, "subset": "validation"},
    "names": {"class_names": ["c_birds", "a_cats"], "seed": 1},
    "unlabelled": {"labels": None, "seed": 2},
}


def make_tree(root: str) -> None:
    from PIL import Image

    rng = np.random.RandomState(0)
    for folder, names in TREE.items():
        for name in names:
            path = os.path.join(root, "images", folder, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if name.endswith(".txt"):
                with open(path, "w") as f:
                    f.write("not an image")
                continue
            size = (int(rng.randint(5, 10)), int(rng.randint(5, 10)))
            pixels = rng.randint(0, 256, (*size, 3)).astype("uint8")
            fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP"}.get(
                os.path.splitext(name)[1].lower(), "PNG"
            )
            Image.fromarray(pixels).save(path, format=fmt)
    for folder, names in TEXTS.items():
        for name in names:
            path = os.path.join(root, "texts", folder, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(f"{folder} review: {name[:-4]} movie")


def _image(shape=(7, 9, 3), seed=1):
    return (np.random.RandomState(seed).rand(*shape) * 255).astype("float32")


def _transforms(api, out):
    image = _image()
    for fill in ("constant", "nearest", "reflect", "wrap"):
        for order in (0, 1):
            gen = api.ImageDataGenerator(
                fill_mode=fill, cval=5.0, interpolation_order=order
            )
            for key, params in TRANSFORMS.items():
                out[f"transform/{fill}/{order}/{key}"] = gen.apply_transform(
                    image.copy(), params
                )
    first = api.ImageDataGenerator(data_format="channels_first", fill_mode="constant")
    out["transform/channels_first"] = first.apply_transform(
        image.transpose(2, 0, 1).copy(), TRANSFORMS["all"]
    )


def _random(api, out):
    gen = api.ImageDataGenerator(**RANDOM)
    params = gen.get_random_transform((6, 7, 3), seed=7)
    for key, value in params.items():
        out[f"random/params/{key}"] = np.asarray(
            np.nan if value is None else value, dtype="float64"
        )
    x = _image((10, 6, 7, 3), seed=2)
    y = np.array([0, 1] * 5)
    it = gen.flow(x, y, batch_size=4, seed=11, subset="training")
    out["random/len"] = np.asarray(len(it))
    for step, index in enumerate((0, 1)):
        out[f"random/batch{step}/x"], out[f"random/batch{step}/y"] = it[index]
    it.on_epoch_end()
    out["random/epoch2/x"], out["random/epoch2/y"] = it[0]
    endless = api.ImageDataGenerator(rotation_range=20, horizontal_flip=True).flow(
        x, batch_size=3, seed=4
    )
    for step in range(5):
        out[f"random/next{step}"] = next(endless)
    val = gen.flow(x, y, batch_size=4, shuffle=False, subset="validation")
    out["random/val/y"] = val[0][1]


def _fit(api, out):
    x = _image((6, 4, 5, 3), seed=3)
    gen = api.ImageDataGenerator(
        featurewise_center=True, featurewise_std_normalization=True, rescale=0.5
    )
    gen.fit(x)
    out["fit/mean"], out["fit/std"] = gen.mean, gen.std
    out["fit/standardize"] = gen.standardize(x[0].copy())
    zca = api.ImageDataGenerator(
        featurewise_center=True, zca_whitening=True, zca_epsilon=0.1, rotation_range=30
    )
    zca.fit(x, augment=True, rounds=2, seed=3)
    out["fit/zca/mean"], out["fit/zca/matrix"] = zca.mean, zca.zca_whitening_matrix
    out["fit/zca/standardize"] = zca.standardize(x[:2].copy())
    sample = api.ImageDataGenerator(
        samplewise_center=True, samplewise_std_normalization=True
    )
    out["fit/samplewise"] = sample.standardize(x[1].copy())


def _files(api, out, root):
    images = os.path.join(root, "images")
    path = os.path.join(images, "b_dogs", "d0.png")
    for mode in ("rgb", "rgba", "grayscale"):
        out[f"load/{mode}"] = api.img_to_array(api.load_img(path, color_mode=mode))
    for interpolation in ("nearest", "bilinear", "bicubic", "lanczos"):
        for keep in (False, True):
            img = api.load_img(
                path,
                target_size=(4, 6),
                interpolation=interpolation,
                keep_aspect_ratio=keep,
            )
            out[f"load/{interpolation}/{keep}"] = api.img_to_array(
                img, data_format="channels_first"
            )
    x = _image((5, 4, 3), seed=4) - 100
    out["array_to_img/scaled"] = np.asarray(api.array_to_img(x))
    out["array_to_img/raw"] = np.asarray(
        api.array_to_img(np.clip(x, 0, 255), scale=False)
    )
    out["array_to_img/gray_i"] = np.asarray(
        api.array_to_img(x[..., :1] * 10, scale=False)
    )
    buffer = io.BytesIO()
    api.save_img(
        buffer, x.transpose(2, 0, 1), data_format="channels_first", file_format="png"
    )
    buffer.seek(0)
    out["save_img/png"] = api.img_to_array(api.load_img(buffer))
    gen = api.ImageDataGenerator(
        rotation_range=15, validation_split=0.4, rescale=1 / 255
    )
    for subset in ("training", "validation"):
        it = gen.flow_from_directory(
            images, target_size=(5, 6), batch_size=3, seed=2, subset=subset,
            interpolation="bilinear", keep_aspect_ratio=True,
        )  # fmt: skip
        out[f"directory/{subset}/filenames"] = np.asarray(it.filenames)
        out[f"directory/{subset}/classes"] = np.asarray(it.classes)
        out[f"directory/{subset}/batch/x"], out[f"directory/{subset}/batch/y"] = it[0]
    sparse = gen.flow_from_directory(
        images, target_size=(4, 4), classes=["c_birds", "b_dogs"], class_mode="sparse",
        color_mode="grayscale", batch_size=2, shuffle=False,
    )  # fmt: skip
    out["directory/sparse/x"], out["directory/sparse/y"] = sparse[1]


def _pixels(api, out, root):
    for key, kwargs in PIXELS.items():
        out[f"pixels/{key}"] = api.pixels(os.path.join(root, "images"), **kwargs)


def _indexes(api, out, root):
    for text in (False, True):
        directory = os.path.join(root, "texts" if text else "images")
        for key, kwargs in INDEXES.items():
            if text and "class_names" in kwargs:
                kwargs = {**kwargs, "class_names": ["pos", "neg"]}
            paths, labels, names = api.index(directory, text, **kwargs)
            case = f"index/{'text' if text else 'image'}/{key}"
            out[f"{case}/paths"] = np.asarray(
                [os.path.relpath(p, directory) for p in paths]
            )
            out[f"{case}/labels"] = np.asarray(
                [] if labels is None else labels, dtype="int64"
            )
            out[f"{case}/names"] = np.asarray(names or [], dtype=str)


def run_all(api: Any, root: str) -> dict[str, np.ndarray]:
    make_tree(root)
    out: dict[str, Any] = {}
    _transforms(api, out)
    _random(api, out)
    _fit(api, out)
    _files(api, out, root)
    _indexes(api, out, root)
    _pixels(api, out, root)
    return {key: np.asarray(value) for key, value in out.items()}


FUNCTIONS = ("load_img", "img_to_array", "array_to_img", "save_img")


def make_api(
    module: Any, image_data_generator: Any, index: Any, pixels: Any
) -> SimpleNamespace:
    """The API of `run_all`: `FUNCTIONS` from `module`, the generator class, `index`
    and `pixels`."""
    functions = {name: getattr(module, name) for name in FUNCTIONS}
    return SimpleNamespace(
        **functions, ImageDataGenerator=image_data_generator, index=index, pixels=pixels
    )
