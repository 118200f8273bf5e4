"""Golden cases of group C: EfficientNet, EfficientNetV2, ConvNeXt (small inputs, batch 2).

The biggest members (EfficientNetB4..B7, EfficientNetV2M/L, ConvNeXtLarge/XLarge)
take too long to build for a golden; test_live_c.py compares them with Keras.
"""

CASES = [
    (
        "effnet_b0_top",
        "EfficientNetB0",
        {"input_shape": (32, 32, 3), "classes": 10},
        (2, 32, 32, 3),
    ),
    (
        "effnet_b0_max",
        "EfficientNetB0",
        {"include_top": False, "pooling": "max", "input_shape": (48, 40, 3)},
        (2, 48, 40, 3),
    ),
    (
        "effnet_b1_avg",
        "EfficientNetB1",
        {"include_top": False, "pooling": "avg", "input_shape": (32, 32, 3)},
        (2, 32, 32, 3),
    ),
    (
        "effnet_b2_none",
        "EfficientNetB2",
        {"include_top": False, "input_shape": (33, 33, 3)},
        (2, 33, 33, 3),
    ),
    (
        "effnet_b3_top",
        "EfficientNetB3",
        {"input_shape": (32, 32, 3), "classes": 10, "classifier_activation": None},
        (2, 32, 32, 3),
    ),
]

# Cases over ~3 s each: run with -m slow.
SLOW = {"effnet_b0_max", "effnet_b1_avg", "effnet_b2_none", "effnet_b3_top"}

CASES += [
    (
        "convnext_tiny_top",
        "ConvNeXtTiny",
        {"input_shape": (32, 32, 3), "classes": 10},
        (2, 32, 32, 3),
    ),
    (
        "convnext_tiny_none",
        "ConvNeXtTiny",
        {"include_top": False, "input_shape": (64, 32, 3)},
        (2, 64, 32, 3),
    ),
    (
        "convnext_tiny_noprep_max",
        "ConvNeXtTiny",
        {
            "include_top": False,
            "include_preprocessing": False,
            "pooling": "max",
            "input_shape": (32, 32, 3),
        },
        (2, 32, 32, 3),
    ),
    (
        "convnext_small_avg",
        "ConvNeXtSmall",
        {"include_top": False, "pooling": "avg", "input_shape": (32, 32, 3)},
        (2, 32, 32, 3),
    ),
    (
        "convnext_base_top",
        "ConvNeXtBase",
        {"input_shape": (32, 32, 3), "classes": 10},
        (2, 32, 32, 3),
    ),
]
SLOW |= {"convnext_tiny_noprep_max", "convnext_small_avg", "convnext_base_top"}

CASES += [
    (
        "effnetv2_b0_top",
        "EfficientNetV2B0",
        {"input_shape": (32, 32, 3), "classes": 10},
        (2, 32, 32, 3),
    ),
    (
        "effnetv2_b0_noprep_avg",
        "EfficientNetV2B0",
        {
            "include_top": False,
            "include_preprocessing": False,
            "pooling": "avg",
            "input_shape": (32, 32, 3),
        },
        (2, 32, 32, 3),
    ),
    (
        "effnetv2_b1_max",
        "EfficientNetV2B1",
        {"include_top": False, "pooling": "max", "input_shape": (32, 32, 3)},
        (2, 32, 32, 3),
    ),
    (
        "effnetv2_b2_none",
        "EfficientNetV2B2",
        {"include_top": False, "input_shape": (33, 35, 3)},
        (2, 33, 35, 3),
    ),
    (
        "effnetv2_b3_avg",
        "EfficientNetV2B3",
        {"include_top": False, "pooling": "avg", "input_shape": (32, 32, 3)},
        (2, 32, 32, 3),
    ),
    (
        "effnetv2_s_top",
        "EfficientNetV2S",
        {"input_shape": (32, 32, 3), "classes": 10},
        (2, 32, 32, 3),
    ),
]
SLOW |= {
    "effnetv2_b0_noprep_avg",
    "effnetv2_b1_max",
    "effnetv2_b2_none",
    "effnetv2_b3_avg",
    "effnetv2_s_top",
}
