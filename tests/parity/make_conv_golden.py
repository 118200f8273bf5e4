"""Write Keras 3 reference outputs of the conv / pooling / padding layers.

Run with a Keras 3 install on the torch backend (not needed at test time):

    KERAS_BACKEND=torch python tests/parity/make_conv_golden.py [--out DIR]

Each case builds the Keras layer, sets seeded weights (Keras layout), runs a
seeded input through it and saves `x`, `w0..wN`, `y` and the layer's class and
arguments as JSON into `golden/conv/<case>.npz`; `test_conv_parity.py` replays them
on the plait layer.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import zlib

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras

GOLDEN = pathlib.Path(__file__).parent / "golden" / "conv"
CF = "channels_first"

# (case id, class name, constructor kwargs, input shape with batch)
CASES: list[tuple[str, str, dict, tuple[int, ...]]] = [
    # --- Conv1D
    ("conv1d_valid", "Conv1D", {"filters": 4, "kernel_size": 3}, (2, 9, 3)),
    ("conv1d_same_s2", "Conv1D", {"filters": 4, "kernel_size": 4, "strides": 2,
                                  "padding": "same"}, (2, 9, 3)),
    ("conv1d_causal_d2", "Conv1D", {"filters": 4, "kernel_size": 3, "padding": "causal",
                                    "dilation_rate": 2, "activation": "relu"}, (2, 9, 3)),
    ("conv1d_groups_cf", "Conv1D", {"filters": 4, "kernel_size": 2, "groups": 2,
                                    "data_format": CF, "padding": "same"}, (2, 4, 7)),
    # --- Conv2D
    ("conv2d_valid", "Conv2D", {"filters": 4, "kernel_size": (3, 2)}, (2, 6, 5, 3)),
    ("conv2d_same_k3", "Conv2D", {"filters": 4, "kernel_size": 3, "padding": "same"},
     (2, 6, 5, 3)),
    ("conv2d_same_k2", "Conv2D", {"filters": 4, "kernel_size": 2, "padding": "same"},
     (2, 6, 5, 3)),
    ("conv2d_same_s2", "Conv2D", {"filters": 4, "kernel_size": 3, "strides": 2,
                                  "padding": "same"}, (2, 6, 7, 3)),
    ("conv2d_same_s3_k2", "Conv2D", {"filters": 4, "kernel_size": (2, 3),
                                     "strides": (3, 2), "padding": "same"}, (2, 8, 7, 3)),
    ("conv2d_valid_s2", "Conv2D", {"filters": 4, "kernel_size": 3, "strides": 2},
     (2, 7, 8, 3)),
    ("conv2d_dilation", "Conv2D", {"filters": 4, "kernel_size": 3, "dilation_rate": 2,
                                   "padding": "same", "activation": "tanh"}, (2, 7, 8, 3)),
    ("conv2d_groups", "Conv2D", {"filters": 6, "kernel_size": 3, "groups": 2},
     (2, 6, 5, 4)),
    ("conv2d_cf_same_s2", "Conv2D", {"filters": 4, "kernel_size": 3, "strides": 2,
                                     "padding": "same", "data_format": CF}, (2, 3, 6, 7)),
    ("conv2d_no_bias", "Conv2D", {"filters": 4, "kernel_size": 1, "use_bias": False},
     (2, 4, 4, 3)),
    # --- Conv3D
    ("conv3d_same_s2", "Conv3D", {"filters": 3, "kernel_size": 2, "strides": 2,
                                  "padding": "same"}, (2, 5, 4, 3, 2)),
    ("conv3d_cf_valid", "Conv3D", {"filters": 3, "kernel_size": (2, 3, 2),
                                   "data_format": CF}, (2, 2, 4, 5, 3)),
    # --- transposed
    ("conv1dt_same_s2", "Conv1DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2,
                                            "padding": "same"}, (2, 5, 2)),
    ("conv1dt_valid_op", "Conv1DTranspose", {"filters": 3, "kernel_size": 3,
                                             "strides": 3, "output_padding": 2},
     (2, 5, 2)),
    ("conv2dt_valid", "Conv2DTranspose", {"filters": 3, "kernel_size": 3}, (2, 4, 5, 2)),
    ("conv2dt_same_k3_s2", "Conv2DTranspose", {"filters": 3, "kernel_size": 3,
                                               "strides": 2, "padding": "same"},
     (2, 4, 5, 2)),
    ("conv2dt_same_k4_s2", "Conv2DTranspose", {"filters": 3, "kernel_size": 4,
                                               "strides": 2, "padding": "same"},
     (2, 4, 5, 2)),
    ("conv2dt_valid_s3_k2", "Conv2DTranspose", {"filters": 3, "kernel_size": 2,
                                                "strides": 3}, (2, 3, 4, 2)),
    ("conv2dt_same_op", "Conv2DTranspose", {"filters": 3, "kernel_size": 3,
                                            "strides": 2, "padding": "same",
                                            "output_padding": (1, 0)}, (2, 4, 5, 2)),
    ("conv2dt_valid_op", "Conv2DTranspose", {"filters": 3, "kernel_size": (3, 2),
                                             "strides": 2, "output_padding": 1},
     (2, 4, 5, 2)),
    ("conv2dt_dilation", "Conv2DTranspose", {"filters": 3, "kernel_size": 3,
                                             "dilation_rate": 2, "padding": "same"},
     (2, 4, 5, 2)),
    ("conv2dt_cf", "Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2,
                                       "padding": "same", "data_format": CF},
     (2, 2, 4, 5)),
    ("conv3dt_same_s2", "Conv3DTranspose", {"filters": 2, "kernel_size": 3,
                                            "strides": 2, "padding": "same"},
     (2, 2, 3, 3, 2)),
    # --- depthwise / separable
    ("dwconv1d_same_dm2", "DepthwiseConv1D", {"kernel_size": 3, "padding": "same",
                                              "depth_multiplier": 2}, (2, 7, 3)),
    ("dwconv2d_valid", "DepthwiseConv2D", {"kernel_size": 3}, (2, 6, 5, 3)),
    ("dwconv2d_same_s2_dm3", "DepthwiseConv2D", {"kernel_size": 3, "strides": 2,
                                                 "padding": "same",
                                                 "depth_multiplier": 3}, (2, 6, 5, 2)),
    ("dwconv2d_cf", "DepthwiseConv2D", {"kernel_size": 2, "depth_multiplier": 2,
                                        "data_format": CF}, (2, 3, 5, 4)),
    ("sepconv1d_same", "SeparableConv1D", {"filters": 4, "kernel_size": 3,
                                           "padding": "same", "depth_multiplier": 2},
     (2, 7, 3)),
    ("sepconv2d_valid", "SeparableConv2D", {"filters": 4, "kernel_size": 3},
     (2, 6, 5, 3)),
    ("sepconv2d_same_s2", "SeparableConv2D", {"filters": 4, "kernel_size": 2,
                                              "strides": 2, "padding": "same",
                                              "depth_multiplier": 2,
                                              "activation": "relu"}, (2, 5, 6, 3)),
    ("sepconv2d_cf_dilation", "SeparableConv2D", {"filters": 4, "kernel_size": 2,
                                                  "dilation_rate": 2,
                                                  "data_format": CF}, (2, 3, 6, 5)),
]  # fmt: skip

POOL_CASES: list[tuple[str, str, dict, tuple[int, ...]]] = [
    ("maxpool1d", "MaxPooling1D", {"pool_size": 2}, (2, 7, 3)),
    ("maxpool1d_same_s1", "MaxPooling1D", {"pool_size": 3, "strides": 1,
                                           "padding": "same"}, (2, 7, 3)),
    ("maxpool2d", "MaxPooling2D", {"pool_size": (2, 2)}, (2, 5, 6, 3)),
    ("maxpool2d_same_s2", "MaxPooling2D", {"pool_size": 3, "strides": 2,
                                           "padding": "same"}, (2, 6, 7, 3)),
    ("maxpool2d_guide", "MaxPooling2D", {"pool_size": (3, 3), "strides": (1, 1),
                                         "padding": "same"}, (2, 5, 6, 3)),
    ("maxpool2d_same_k2", "MaxPooling2D", {"pool_size": 2, "strides": 1,
                                           "padding": "same"}, (2, 5, 6, 3)),
    ("maxpool2d_cf", "MaxPooling2D", {"pool_size": 2, "data_format": CF}, (2, 3, 5, 6)),
    ("maxpool3d", "MaxPooling3D", {"pool_size": 2, "padding": "same"}, (2, 3, 4, 5, 2)),
    ("avgpool1d", "AveragePooling1D", {"pool_size": 2}, (2, 7, 3)),
    ("avgpool1d_same_doc", "AveragePooling1D", {"pool_size": 2, "strides": 1,
                                                "padding": "same"}, (2, 5, 3)),
    ("avgpool2d_valid_s1", "AveragePooling2D", {"pool_size": (2, 3), "strides": 1},
     (2, 5, 6, 3)),
    ("avgpool2d_same_sym", "AveragePooling2D", {"pool_size": 3, "strides": 1,
                                                "padding": "same"}, (2, 5, 6, 3)),
    ("avgpool2d_cf", "AveragePooling2D", {"pool_size": 2, "data_format": CF},
     (2, 3, 4, 6)),
    ("avgpool3d", "AveragePooling3D", {"pool_size": 2}, (2, 4, 4, 5, 2)),
    ("gmaxpool1d", "GlobalMaxPooling1D", {}, (2, 5, 3)),
    ("gmaxpool2d_keep", "GlobalMaxPooling2D", {"keepdims": True}, (2, 4, 5, 3)),
    ("gmaxpool3d_cf", "GlobalMaxPooling3D", {"data_format": CF}, (2, 3, 2, 3, 4)),
    ("gavgpool1d_cf", "GlobalAveragePooling1D", {"data_format": CF}, (2, 3, 5)),
    ("gavgpool2d", "GlobalAveragePooling2D", {}, (2, 4, 5, 3)),
    ("gavgpool3d_keep", "GlobalAveragePooling3D", {"keepdims": True}, (2, 2, 3, 4, 3)),
]  # fmt: skip

RESHAPE_CASES: list[tuple[str, str, dict, tuple[int, ...]]] = [
    ("zeropad1d", "ZeroPadding1D", {"padding": (1, 2)}, (2, 4, 3)),
    ("zeropad2d", "ZeroPadding2D", {"padding": ((1, 0), (2, 3))}, (2, 3, 4, 2)),
    ("zeropad2d_cf", "ZeroPadding2D", {"padding": 1, "data_format": CF}, (2, 2, 3, 4)),
    ("zeropad3d", "ZeroPadding3D", {"padding": (1, 2, 0)}, (2, 2, 3, 2, 2)),
    ("crop1d", "Cropping1D", {"cropping": (1, 2)}, (2, 6, 3)),
    ("crop2d", "Cropping2D", {"cropping": ((1, 0), (2, 1))}, (2, 5, 6, 2)),
    ("crop2d_cf", "Cropping2D", {"cropping": 1, "data_format": CF}, (2, 2, 5, 4)),
    ("crop3d", "Cropping3D", {"cropping": ((1, 1), (0, 1), (2, 0))}, (2, 4, 4, 5, 2)),
    ("upsample1d", "UpSampling1D", {"size": 3}, (2, 4, 3)),
    ("upsample2d", "UpSampling2D", {"size": (2, 3)}, (2, 3, 4, 2)),
    ("upsample2d_bilinear", "UpSampling2D", {"size": 2, "interpolation": "bilinear"},
     (2, 3, 4, 2)),
    ("upsample2d_bilinear_cf", "UpSampling2D", {"size": (3, 2), "data_format": CF,
                                                "interpolation": "bilinear"},
     (2, 2, 3, 4)),
    ("upsample3d", "UpSampling3D", {"size": (1, 2, 3)}, (2, 2, 3, 2, 2)),
]  # fmt: skip


def _make(
    case: str, cls_name: str, kwargs: dict, shape: tuple[int, ...], out: pathlib.Path
) -> None:
    rng = np.random.default_rng(zlib.crc32(case.encode()))
    layer = getattr(keras.layers, cls_name)(**kwargs)
    x = rng.standard_normal(shape).astype("float32")
    layer(x)  # build
    weights = [rng.uniform(-0.5, 0.5, w.shape).astype("float32")
               for w in layer.get_weights()]  # fmt: skip
    layer.set_weights(weights)
    y = keras.ops.convert_to_numpy(layer(x))
    arrays = {f"w{i}": w for i, w in enumerate(weights)}
    meta = {"class_name": cls_name, "kwargs": kwargs, "n_weights": len(weights)}
    path = out / f"{case}.npz"
    np.savez_compressed(path, x=x, y=y, meta=np.array(json.dumps(meta)), **arrays)
    size = path.stat().st_size
    if size > 50_000:
        raise SystemExit(f"{path} is {size} bytes; keep golden files < 50 KB")
    print(f"{case:28s} {cls_name:24s} {shape} -> {y.shape}  {size} B")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=GOLDEN,
        help="folder to write into (default: %(default)s)",
    )
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    for case in CASES + POOL_CASES + RESHAPE_CASES:
        _make(*case, out)


if __name__ == "__main__":
    main()
