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
