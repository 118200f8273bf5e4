"""What every MobileNet, DenseNet and NASNet model must do: freeze and round-trip.

One small configuration per application (32x32 inputs, narrow where the
application has a width multiplier).
"""

import pytest

from plait import applications

from .apps_b import check_frozen_batchnorm, check_round_trip

SMALL = {
    "MobileNet": {"alpha": 0.25},
    "MobileNetV2": {"alpha": 0.35},
    "MobileNetV3Small": {"alpha": 0.75},
    "MobileNetV3Large": {"minimalistic": True},
    "DenseNet121": {},
    "NASNetMobile": {},
}
# Applications too slow for the default run.
SLOW = {"DenseNet121", "NASNetMobile"}
NAMES = [
    pytest.param(name, marks=pytest.mark.slow) if name in SLOW else name
    for name in sorted(SMALL)
]


@pytest.mark.parametrize("name", NAMES)
def test_frozen_base_batchnorm_runs_in_inference_mode(name):
    model = getattr(applications, name)(
        input_shape=(32, 32, 3), include_top=False, weights=None, **SMALL[name]
    )
    check_frozen_batchnorm(model, (2, 32, 32, 3))


@pytest.mark.parametrize("name", NAMES)
def test_save_load_round_trip(name, tmp_path):
    model = getattr(applications, name)(
        input_shape=(32, 32, 3), weights=None, classes=5, **SMALL[name]
    )
    check_round_trip(model, (2, 32, 32, 3), tmp_path)
