"""Golden cases of the VGG, ResNet, Inception and Xception applications.

Each `(case id, application, kwargs, batch shape)`: small inputs (the smallest
each network takes), batch 2, either the top with 10 classes or a pooled
headless model. `SLOW`: cases over ~3 s here (all of them), run with `-m slow`.
"""

S32 = (32, 32, 3)

CASES = [
    ("a_vgg16_top", "VGG16", {"classes": 10, "input_shape": S32}, (2, *S32)),
    (
        "a_vgg19_avg",
        "VGG19",
        {"include_top": False, "pooling": "avg", "input_shape": S32},
        (2, *S32),
    ),
    (
        "a_resnet50_avg",
        "ResNet50",
        {"include_top": False, "pooling": "avg", "input_shape": S32},
        (2, *S32),
    ),
    (
        "a_resnet101_max",
        "ResNet101",
        {"include_top": False, "pooling": "max", "input_shape": S32},
        (2, *S32),
    ),
    (
        "a_resnet152_top",
        "ResNet152",
        {"classes": 10, "input_shape": S32, "classifier_activation": None},
        (2, *S32),
    ),
    ("a_resnet50v2_top", "ResNet50V2", {"classes": 10, "input_shape": S32}, (2, *S32)),
    (
        "a_resnet101v2_none",
        "ResNet101V2",
        {"include_top": False, "input_shape": (40, 40, 3)},
        (2, 40, 40, 3),
    ),
    (
        "a_resnet152v2_avg",
        "ResNet152V2",
        {"include_top": False, "pooling": "avg", "input_shape": S32},
        (2, *S32),
    ),
]

CASES += [
    (
        "a_inception_v3_avg",
        "InceptionV3",
        {"include_top": False, "pooling": "avg", "input_shape": (75, 75, 3)},
        (2, 75, 75, 3),
    ),
    (
        "a_xception_top",
        "Xception",
        {"classes": 10, "input_shape": (71, 71, 3)},
        (2, 71, 71, 3),
    ),
    (
        "a_inception_resnet_v2_max",
        "InceptionResNetV2",
        {"include_top": False, "pooling": "max", "input_shape": (75, 75, 3)},
        (2, 75, 75, 3),
    ),
]

# Every case takes more than 3 s here (building and filling the weights of a
# full-size network); the fast run still checks each one's weight layout.
SLOW = {case[0] for case in CASES}
