"""Writes golden/image.npz: Keras 3 (torch backend) outputs of the deterministic
image layers on fixed inputs, and golden/image_configs.json: Keras configs of
the image layers; for tests/layers/preprocessing/test_image.py.

Run with a Python that has Keras 3 (no TensorFlow needed):
    KERAS_BACKEND=torch python tests/layers/preprocessing/make_image_golden.py
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np

CASES = {
    # name: (layer constructor kwargs, input shape)
    "rescaling": ("Rescaling", {"scale": 1 / 127.5, "offset": -1.0}, (2, 5, 6, 3)),
    "center_crop": ("CenterCrop", {"height": 3, "width": 4}, (2, 7, 6, 3)),
    "center_crop_up": ("CenterCrop", {"height": 8, "width": 5}, (2, 7, 6, 3)),
}
for interp in ("bilinear", "nearest", "bicubic"):
    for size in ((3, 4), (11, 9)):
        CASES[f"resize_{interp}_{size[0]}x{size[1]}"] = (
            "Resizing",
            {"height": size[0], "width": size[1], "interpolation": interp},
            (2, 7, 6, 3),
        )
    CASES[f"resize_{interp}_antialias"] = (
        "Resizing",
        {"height": 3, "width": 2, "interpolation": interp, "antialias": True},
        (2, 7, 6, 3),
    )
CASES["resize_crop_aspect"] = (
    "Resizing",
    {"height": 4, "width": 4, "crop_to_aspect_ratio": True},
    (2, 7, 6, 3),
)
CASES["resize_pad_aspect"] = (
    "Resizing",
    {"height": 4, "width": 8, "pad_to_aspect_ratio": True, "fill_value": 2.5},
    (2, 7, 6, 3),
)
# Random layers with a degenerate range (lower == upper) are deterministic.
for fill in ("reflect", "wrap", "constant", "nearest"):
    for interp in ("bilinear", "nearest"):
        kw = {"fill_mode": fill, "interpolation": interp, "fill_value": 0.5}
        CASES[f"rotation_{fill}_{interp}"] = (
            "RandomRotation",
            {"factor": (0.1, 0.1), **kw},
            (2, 7, 6, 3),
        )
    CASES[f"translation_{fill}"] = (
        "RandomTranslation",
        {"height_factor": (0.3, 0.3), "width_factor": (-0.45, -0.45), **kw},
        (2, 7, 6, 3),
    )
    CASES[f"zoom_out_{fill}"] = (
        "RandomZoom",
        {"height_factor": (0.4, 0.4), "width_factor": (0.25, 0.25), **kw},
        (2, 7, 6, 3),
    )
CASES["zoom_in"] = ("RandomZoom", {"height_factor": (-0.3, -0.3)}, (2, 7, 6, 3))


# Layers whose Keras configs plait must load: (class, args, kwargs).
CONFIGS = [
    ("Rescaling", (0.5,), {"offset": 1.0}),
    ("Resizing", (2, 3), {"interpolation": "nearest"}),
    ("CenterCrop", (2, 2), {}),
    ("RandomFlip", (), {"mode": "horizontal", "seed": 1}),
    ("RandomCrop", (2, 2), {"seed": 1}),
    ("RandomContrast", (0.2,), {"seed": 1}),
    ("RandomBrightness", (0.2,), {"value_range": (0, 1), "seed": 1}),
    ("RandomRotation", (0.1,), {"fill_mode": "constant", "seed": 1}),
    ("RandomTranslation", (0.1, (-0.2, 0.3)), {"interpolation": "nearest"}),
    ("RandomZoom", ((-0.2, 0.1),), {"fill_value": 1.0, "seed": 2}),
]


def main() -> None:
    rng = np.random.default_rng(0)
    out = {}
    for name, (cls, kwargs, shape) in CASES.items():
        x = rng.uniform(0, 255, size=shape).astype("float32")
        y = getattr(keras.layers, cls)(**kwargs)(x, training=True)
        out[f"{name}__x"] = x
        out[f"{name}__y"] = keras.ops.convert_to_numpy(y)
    path = os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "golden", "image.npz"
    )
    np.savez_compressed(path, **out)
    print(f"wrote {len(CASES)} cases to {path}")
    configs = {
        cls: getattr(keras.layers, cls)(*args, **kwargs).get_config()
        for cls, args, kwargs in CONFIGS
    }
    path = path.replace("image.npz", "image_configs.json")
    with open(path, "w") as f:
        json.dump(configs, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
