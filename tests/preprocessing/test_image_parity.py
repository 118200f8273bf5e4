"""plait's image preprocessing gives Keras 3's results (`make_image_golden.py`).

Every case of `image_cases.py` runs on plait and is compared with the golden Keras
run: the affine warps (SciPy's `affine_transform` in Keras, NumPy in plait) for
every fill mode and interpolation order, seeded random batches of `flow`, `fit`'s
statistics, the image file helpers, `flow_from_directory`, and the files, labels,
class names and split of the directory datasets.
"""

import pathlib

import numpy as np
import pytest

pytest.importorskip("PIL", reason="image preprocessing needs Pillow")

from plait import utils
from plait.preprocessing.image import ImageDataGenerator
from tests.preprocessing import image_cases

GOLDEN = dict(np.load(pathlib.Path(__file__).parent / "golden" / "image.npz"))


def plait_index(directory, text, **kwargs):
    make = (
        utils.text_dataset_from_directory
        if text
        else utils.image_dataset_from_directory
    )
    ds = make(directory, verbose=False, **kwargs)
    return ds.file_paths, ds.labels, ds.class_names


def plait_pixels(directory, **kwargs):
    ds = utils.image_dataset_from_directory(
        directory, labels=None, batch_size=None, shuffle=False, verbose=False, **kwargs
    )
    return np.stack([ds[i] for i in range(len(ds))])


PLAIT_API = image_cases.make_api(utils, ImageDataGenerator, plait_index, plait_pixels)


@pytest.fixture(scope="module")
def plait_results(tmp_path_factory):
    return image_cases.run_all(PLAIT_API, str(tmp_path_factory.mktemp("images")))


def test_image_parity_golden_covers_every_case(plait_results):
    assert str(GOLDEN["keras"]).startswith("3.")
    assert set(plait_results) == set(GOLDEN) - {"keras"}


@pytest.mark.parametrize("case", sorted(k for k in GOLDEN if k != "keras"))
def test_image_parity(plait_results, case):
    ours, keras = plait_results[case], GOLDEN[case]
    assert ours.shape == keras.shape, case
    if keras.dtype.kind in "UO":
        assert ours.tolist() == keras.tolist(), case
    else:
        np.testing.assert_allclose(
            ours.astype("float64"),
            keras.astype("float64"),
            rtol=1e-5,
            atol=1e-4,
            err_msg=case,
        )
