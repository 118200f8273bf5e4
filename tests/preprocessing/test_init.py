"""`plait.preprocessing` stays below the layers: importing it loads only utilities."""

import subprocess
import sys

_LOADED = """
import sys
import plait.preprocessing
print(*sorted(m for m in sys.modules if m.startswith("plait.")))
"""


def test_preprocessing_imports_no_layers_models_training_or_saving():
    out = subprocess.run(
        [sys.executable, "-c", _LOADED], capture_output=True, text=True, check=True
    )
    loaded = out.stdout.split()
    assert "plait.preprocessing.text" in loaded
    assert all(
        m.startswith(("plait.preprocessing", "plait.utils", "plait.version"))
        for m in loaded
    ), loaded


def test_keras_preprocessing_dataset_utilities():
    import numpy as np

    import plait.preprocessing as pre
    from plait import utils

    assert pre.image_dataset_from_directory is utils.image_dataset_from_directory
    assert pre.text_dataset_from_directory is utils.text_dataset_from_directory
    windows = pre.timeseries_dataset_from_array(
        np.arange(10), None, sequence_length=3, batch_size=8
    )
    assert np.asarray(windows[0])[:2].tolist() == [[0, 1, 2], [1, 2, 3]]
