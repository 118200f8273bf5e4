"""Keras 3's guides, ported section by section (imports changed only)."""

import shutil

import plait


def plot_model(model, path, **kwargs):
    """The guides' `keras.utils.plot_model(...)`, where pydot and `dot` exist
    (skipped elsewhere): the file written is a PNG."""
    try:
        import pydot  # noqa: F401
    except ImportError:
        return
    if shutil.which("dot") is None:
        return
    plait.utils.plot_model(model, str(path), **kwargs)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
