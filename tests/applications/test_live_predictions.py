"""Every application without a committed golden predicts as Keras 3's (live).

The goldens (test_golden.py) cover the small members of each family; the big
ones (EfficientNetB4-B7, EfficientNetV2M/L, ConvNeXtLarge/XLarge, VGG19's and
the deep ResNets' siblings are golden-checked) take too long to build for the
default run. Here each is built by Keras 3 and by plait from the same arguments
at a small input, filled with the same seeded weights (`golden.fill`), and the
predictions are compared. Needs Keras 3 on the torch backend (marked `keras`,
skipped without it), and minutes:

    KERAS_BACKEND=torch PYTHONPATH=$PWD /tmp/kv/bin/python -m pytest -m "keras" \\
        tests/applications/test_live_predictions.py -p no:cacheprovider
"""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")  # else Keras looks for TensorFlow
keras = pytest.importorskip("keras")

from plait import applications, utils  # noqa: E402

from .golden import batch, fill, layout  # noqa: E402

pytestmark = [
    pytest.mark.keras,
    pytest.mark.slow,
    pytest.mark.filterwarnings(
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    ),
]

# (application, constructor arguments, batch shape)
CASES = [
    (
        "EfficientNetB4",
        {"include_top": False, "pooling": "avg", "input_shape": (64, 64, 3)},
    ),
    (
        "EfficientNetB5",
        {"include_top": False, "pooling": "avg", "input_shape": (64, 64, 3)},
    ),
    (
        "EfficientNetB6",
        {"include_top": False, "pooling": "max", "input_shape": (64, 64, 3)},
    ),
    (
        "EfficientNetB7",
        {"include_top": False, "pooling": "avg", "input_shape": (64, 64, 3)},
    ),
    (
        "EfficientNetV2M",
        {"include_top": False, "pooling": "avg", "input_shape": (64, 64, 3)},
    ),
    (
        "EfficientNetV2L",
        {"include_top": False, "pooling": "avg", "input_shape": (64, 64, 3)},
    ),
    (
        "ConvNeXtLarge",
        {"include_top": False, "pooling": "avg", "input_shape": (64, 64, 3)},
    ),
    (
        "ConvNeXtXLarge",
        {"include_top": False, "pooling": "avg", "input_shape": (64, 64, 3)},
    ),
]


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[c[0] for c in CASES])
def test_big_application_predicts_as_keras(name, kwargs):
    x = batch((2, *kwargs["input_shape"]))
    keras.backend.clear_session()
    theirs = getattr(keras.applications, name)(weights=None, **kwargs)
    paths = [v.path for v in theirs.weights]
    shapes = [tuple(v.shape) for v in theirs.weights]
    theirs.set_weights(fill(paths, shapes))
    expected = theirs(keras.ops.convert_to_tensor(x), training=False)
    expected = expected.detach().cpu().numpy()
    del theirs
    utils.clear_session()
    ours = getattr(applications, name)(weights=None, **kwargs)
    assert layout(ours) == (paths, shapes)
    ours.set_weights(fill(paths, shapes))
    atol = 1e-5 * max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), expected, rtol=1e-4, atol=atol
    )
