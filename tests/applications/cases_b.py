"""Golden cases of MobileNet (v1, v2, v3), DenseNet and NASNet (see make_apps_golden.py)."""

TOP = {"input_shape": (64, 64, 3), "classes": 10}  # a small top
HEADLESS = {"include_top": False}

CASES = [
    ("mobilenet_top", "MobileNet", {**TOP, "alpha": 0.5}, (2, 64, 64, 3)),
    (
        "mobilenet_dm2_avg",
        "MobileNet",
        {
            **HEADLESS,
            "input_shape": (48, 40, 3),
            "pooling": "avg",
            "alpha": 0.25,
            "depth_multiplier": 2,
        },
        (2, 48, 40, 3),
    ),
    ("mobilenetv2_top", "MobileNetV2", {**TOP, "alpha": 0.35}, (2, 64, 64, 3)),
    (
        "mobilenetv2_wide_max",
        "MobileNetV2",
        {**HEADLESS, "input_shape": (33, 47, 3), "pooling": "max", "alpha": 1.3},
        (2, 33, 47, 3),
    ),
    ("mobilenetv3small_top", "MobileNetV3Small", TOP, (2, 64, 64, 3)),
    (
        "mobilenetv3small_min_avg",
        "MobileNetV3Small",
        {
            **HEADLESS,
            "minimalistic": True,
            "alpha": 0.75,
            "pooling": "avg",
            "include_preprocessing": False,
        },
        (2, 40, 56, 3),
    ),
    (
        "mobilenetv3large_top",
        "MobileNetV3Large",
        {**TOP, "alpha": 1.25},
        (2, 64, 64, 3),
    ),
    (
        "mobilenetv3large_min_max",
        "MobileNetV3Large",
        {
            **HEADLESS,
            "minimalistic": True,
            "pooling": "max",
            "input_shape": (48, 48, 3),
        },
        (2, 48, 48, 3),
    ),
    (
        "densenet121_logits",
        "DenseNet121",
        {**TOP, "input_shape": (32, 32, 3), "classifier_activation": None},
        (2, 32, 32, 3),
    ),
    (
        "densenet169_avg",
        "DenseNet169",
        {**HEADLESS, "pooling": "avg"},
        (2, 32, 40, 3),
    ),
    (
        "densenet201_max",
        "DenseNet201",
        {**HEADLESS, "pooling": "max", "input_shape": (32, 32, 3)},
        (2, 32, 32, 3),
    ),
]

# Cases too slow for the default run (more than ~3 s each).
SLOW = {"densenet121_logits", "densenet169_avg", "densenet201_max"}
